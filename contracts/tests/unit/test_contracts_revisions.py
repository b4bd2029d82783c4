"""Recording published revisions: r1 for a new type, rN+1 for an additive change, a refusal naming
the `...v<N+1>` type for a breaking one, and `--check` failing whenever a revision is missing."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from divert_contracts import revisions
from divert_contracts.schemas import current_schemas, example_payloads, main

THING = "org.divert.test.thing_happened.v1"


class ThingR1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str
    jurisdiction: str = Field(max_length=64)


class ThingR2(ThingR1):
    precinct: str | None = None


class ThingRenamedField(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str
    jurisdiction_id: str = Field(max_length=64)


EXAMPLE = {"referral_id": "7b0d3c2e-5a41-4f7e-9c1d-2e8f6a4b9d10", "jurisdiction": "king-county"}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(json.dumps(model.model_json_schema()))  # as read back from a file
    return schema


def _record(plan: revisions.Plan) -> None:
    """What `make contracts` does with a plan that has no problems."""
    assert plan.problems == []
    for path, text in plan.new_files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_new_type_is_published_as_r1_with_its_example(tmp_path: Path) -> None:
    plan = revisions.plan({THING: _schema(ThingR1)}, {THING: EXAMPLE}, tmp_path)
    assert sorted(path.relative_to(tmp_path).as_posix() for path in plan.new_files) == [
        f"{THING}/r1.example.json",
        f"{THING}/r1.schema.json",
    ]
    _record(plan)
    [revision] = revisions.read(tmp_path)[0][THING]
    assert (revision.number, revision.schema, revision.example) == (1, _schema(ThingR1), EXAMPLE)
    assert revisions.plan({THING: _schema(ThingR1)}, {THING: EXAMPLE}, tmp_path).new_files == {}


def test_an_additive_change_is_recorded_as_the_next_revision(tmp_path: Path) -> None:
    _record(revisions.plan({THING: _schema(ThingR1)}, {THING: EXAMPLE}, tmp_path))
    example_r2 = {**EXAMPLE, "precinct": "West"}
    plan = revisions.plan({THING: _schema(ThingR2)}, {THING: example_r2}, tmp_path)
    assert plan.problems == []
    assert sorted(path.name for path in plan.new_files) == ["r2.example.json", "r2.schema.json"]
    _record(plan)
    assert [r.number for r in revisions.read(tmp_path)[0][THING]] == [1, 2]
    assert json.loads((tmp_path / THING / "r1.example.json").read_text()) == EXAMPLE  # never rewritten


def test_a_breaking_change_is_refused_and_names_the_next_version(tmp_path: Path) -> None:
    _record(revisions.plan({THING: _schema(ThingR1)}, {THING: EXAMPLE}, tmp_path))
    plan = revisions.plan({THING: _schema(ThingRenamedField)}, {THING: EXAMPLE}, tmp_path)
    assert plan.new_files == {}
    [problem] = plan.problems
    assert problem.startswith(f"{THING} changed incompatibly since its published revision r1:")
    assert "jurisdiction: removed" in problem and "jurisdiction_id: added as required" in problem
    assert "org.divert.test.thing_happened.v2, beside it" in problem


def test_a_type_without_an_example_is_not_published(tmp_path: Path) -> None:
    plan = revisions.plan({THING: _schema(ThingR1)}, {}, tmp_path)
    assert plan.new_files == {} and plan.problems == [
        f"{THING}: no example in divert_contracts.examples to publish with it"
    ]


def test_next_version() -> None:
    assert revisions.next_version("org.divert.referral.accepted.v1") == "org.divert.referral.accepted.v2"
    assert revisions.next_version("org.divert.case.closed.v9") == "org.divert.case.closed.v10"
    with pytest.raises(ValueError):
        revisions.next_version("org.divert.case.closed")


# ---------------------------------------------------------------- `--check` on a copy of the real tree


@pytest.fixture
def published(tmp_path: Path) -> Path:
    copy = tmp_path / "published"
    shutil.copytree(revisions.PUBLISHED, copy)
    return copy


def _latest(published: Path, event_type: str) -> tuple[int, Path]:
    """The latest revision's number and schema file."""
    number = max(int(path.name[1:].split(".")[0]) for path in (published / event_type).glob("r*.schema.json"))
    return number, published / event_type / f"r{number}.schema.json"


def _check(published: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--check"], published=published)
    return code, capsys.readouterr().err


def test_the_check_passes_on_the_published_revisions(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(published, capsys) == (0, "")


def test_the_check_fails_when_a_type_has_no_revision(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(published / "org.divert.case.closed.v1")
    code, err = _check(published, capsys)
    assert code == 1 and "unpublished revision: org.divert.case.closed.v1 r1 (run `make contracts`)" in err


def test_the_check_fails_when_the_model_changed_since_the_latest_revision(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As if the model had just gained its optional `previous_referral_id`: an additive change to record.
    number, latest = _latest(published, "org.divert.case.opened.v1")
    schema = json.loads(latest.read_text())
    del schema["properties"]["previous_referral_id"]
    latest.write_text(revisions.dump(schema))
    code, err = _check(published, capsys)
    assert code == 1 and f"unpublished revision: org.divert.case.opened.v1 r{number + 1} (run `make contracts`)" in err
    plan = revisions.plan(current_schemas(), example_payloads(), published)
    assert plan.problems == []
    assert {path.name for path in plan.new_files} == {f"r{number + 1}.schema.json", f"r{number + 1}.example.json"}


def test_the_check_refuses_a_breaking_change(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # As if the model had dropped a field published in r1.
    _, latest = _latest(published, "org.divert.case.reopened.v1")
    schema = json.loads(latest.read_text())
    schema["properties"]["published_only"] = {"type": "string", "title": "Published Only"}
    latest.write_text(revisions.dump(schema))
    code, err = _check(published, capsys)
    assert code == 1 and "org.divert.case.reopened.v1 changed incompatibly" in err
    assert "published_only: removed" in err and "org.divert.case.reopened.v2" in err


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "r1.example.json").unlink(), "r1 needs both r1.schema.json and r1.example.json"),
        (lambda d: [(d / f"r1.{kind}.json").rename(d / f"r2.{kind}.json") for kind in ("schema", "example")], "gap"),
        (lambda d: (d / "notes.txt").write_text("hi"), "notes.txt is not a revision file"),
        (lambda d: (d / "r1.schema.json").write_text("{"), "r1.schema.json is not JSON"),
        (lambda d: shutil.copytree(d, d.with_name("org.divert.case.vanished.v1")), "no longer registered"),
    ],
)
def test_the_check_reports_damaged_revisions(
    published: Path, capsys: pytest.CaptureFixture[str], damage: Any, message: str
) -> None:
    damage(published / "org.divert.case.closed.v1")
    code, err = _check(published, capsys)
    assert code == 1 and message in err


def test_the_check_reports_a_history_edited_into_a_breaking_one(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The latest revision copied as the next one (still the current schema), then the one before it
    # edited to lack an enum value: the recorded step between them now adds a value, which breaks.
    directory = published / "org.divert.case.closed.v1"
    n, latest = _latest(published, "org.divert.case.closed.v1")
    shutil.copy(latest, directory / f"r{n + 1}.schema.json")
    shutil.copy(directory / f"r{n}.example.json", directory / f"r{n + 1}.example.json")
    edited = json.loads(latest.read_text())
    edited["properties"]["reason"]["enum"].remove("deceased")
    latest.write_text(revisions.dump(edited))
    code, err = _check(published, capsys)
    assert code == 1 and f"org.divert.case.closed.v1: r{n + 1} is not additive over r{n}" in err
    assert "new enum values ['deceased']" in err
