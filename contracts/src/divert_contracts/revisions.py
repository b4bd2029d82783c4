"""Every published revision of every event schema, kept beside the models.

`published/<ce type>/r<N>.schema.json` is revision N of that event type's JSON Schema and
`r<N>.example.json` an event valid for it (from `divert_contracts.examples` when the revision was
recorded). r1 is the type's first published schema; each later revision is an additive change of
the one before (`divert_contracts.evolution`), so a reader of any revision reads events of every
other. Revisions are only ever added: never edited, never deleted, and a type keeps its directory
when a `...v<N+1>` type is published beside it, because readers may still meet its events.

`python -m divert_contracts.schemas` (`make contracts`) records a revision whenever a model's
schema has changed additively, and refuses a change that is not additive.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from divert_contracts.evolution import Schema, breaking_changes

PUBLISHED = Path(__file__).parent / "published"
_REVISION_FILE = re.compile(r"r([1-9][0-9]*)\.(schema|example)\.json")
_KINDS = frozenset({"schema", "example"})


@dataclass(frozen=True)
class Revision:
    """One published schema of an event type, with an example event valid for it."""

    event_type: str
    number: int
    schema: dict[str, Any]
    example: dict[str, Any]


@dataclass
class Plan:
    """What recording the current schemas would add to the published revisions, and what it refuses."""

    new_files: dict[Path, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def added(self) -> list[str]:
        """`<ce type> r<N>` for each revision the plan adds."""
        schemas = (path for path in self.new_files if path.name.endswith(".schema.json"))
        return sorted(f"{path.parent.name} {path.name.removesuffix('.schema.json')}" for path in schemas)


def dump(document: Mapping[str, Any]) -> str:
    """A JSON document as every contract file is written: sorted keys, two-space indent."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def read(directory: Path = PUBLISHED) -> tuple[dict[str, list[Revision]], dict[str, list[str]]]:
    """Each event type's revisions, oldest first, and what is wrong with its files (by event type)."""
    revisions: dict[str, list[Revision]] = {}
    problems: dict[str, list[str]] = {}
    if not directory.is_dir():
        return revisions, problems
    for type_dir in sorted(path for path in directory.iterdir() if not path.name.startswith(".")):
        event_type = type_dir.name
        if not type_dir.is_dir():
            problems.setdefault(event_type, []).append(f"published/{event_type}: not an event type's directory")
            continue
        found, wrong = _revision_files(type_dir)
        numbers = sorted(found)
        if numbers != list(range(1, len(numbers) + 1)):
            wrong.append(f"revisions {[f'r{n}' for n in numbers]} are not r1 … rN without a gap")
        wrong += [f"r{n} needs both r{n}.schema.json and r{n}.example.json" for n in numbers if set(found[n]) != _KINDS]
        if wrong:
            problems[event_type] = [f"published/{event_type}: {problem}" for problem in wrong]
            continue
        revisions[event_type] = [Revision(event_type, n, found[n]["schema"], found[n]["example"]) for n in numbers]
    return revisions, problems


def _revision_files(type_dir: Path) -> tuple[dict[int, dict[str, dict[str, Any]]], list[str]]:
    found: dict[int, dict[str, dict[str, Any]]] = {}
    wrong: list[str] = []
    for path in sorted(type_dir.iterdir()):
        match = _REVISION_FILE.fullmatch(path.name)
        if match is None:
            wrong.append(f"{path.name} is not a revision file (r<N>.schema.json or r<N>.example.json)")
            continue
        try:
            document = json.loads(path.read_text())
        except ValueError as error:
            wrong.append(f"{path.name} is not JSON: {error}")
            continue
        found.setdefault(int(match[1]), {})[match[2]] = document
    return found, wrong


def plan(current: Mapping[str, Schema], examples: Mapping[str, Mapping[str, Any]], directory: Path = PUBLISHED) -> Plan:
    """The revisions to record so that every type's latest revision is its `current` schema.

    `current` maps each registered event type to its model's JSON Schema, `examples` to an example
    payload. A type without revisions gets r1; a type whose schema changed additively gets the next
    revision; a change that is not additive is refused, and so is a history that is damaged,
    edited into a breaking one, or a published type that is no longer registered."""
    published, damaged = read(directory)
    result = Plan(problems=[problem for problems in damaged.values() for problem in problems])
    for event_type in sorted(published.keys() - current.keys()):
        result.problems.append(
            f"{event_type} is published but no longer registered: readers may still meet its events, so keep "
            "its model in the registry (beside any newer version)"
        )
    for event_type, history in published.items():
        for older, newer in pairwise(history):
            result.problems += [
                f"{event_type}: r{newer.number} is not additive over r{older.number} (published revisions are never "
                f"edited): {reason}"
                for reason in breaking_changes(older.schema, newer.schema)
            ]
    for event_type, schema in sorted(current.items()):
        if event_type in damaged:
            continue
        history = published.get(event_type, [])
        latest = history[-1] if history else None
        if latest is not None and latest.schema == schema:
            continue
        if latest is not None and (breaking := breaking_changes(latest.schema, schema)):
            result.problems.append(_refusal(event_type, latest.number, breaking))
            continue
        if event_type not in examples:
            result.problems.append(f"{event_type}: no example in divert_contracts.examples to publish with it")
            continue
        number = latest.number + 1 if latest is not None else 1
        result.new_files[directory / event_type / f"r{number}.schema.json"] = dump(schema)
        result.new_files[directory / event_type / f"r{number}.example.json"] = dump(examples[event_type])
    return result


def next_version(event_type: str) -> str:
    """The type a breaking change is published as: `org.divert.x.y.v1` → `org.divert.x.y.v2`."""
    match = re.fullmatch(r"(.+\.v)([0-9]+)", event_type)
    if match is None:
        raise ValueError(f"{event_type!r} does not end in .v<N>")
    return f"{match[1]}{int(match[2]) + 1}"


def _refusal(event_type: str, number: int, breaking: list[str]) -> str:
    reasons = "".join(f"\n  - {reason}" for reason in breaking)
    return (
        f"{event_type} changed incompatibly since its published revision r{number}:{reasons}\n"
        f"  A published type never changes incompatibly. Keep {event_type} as it was published and add the new "
        f"shape as a new type, {next_version(event_type)}, beside it (with an upcaster for its readers)."
    )
