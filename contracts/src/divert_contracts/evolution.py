"""When a changed event schema may keep its version: the additive check.

Readers of Divert events are tolerant (`codec.decode` ignores fields it does not know) but they
validate every field they do know. Some readers are never upgraded in step with a producer (case
agencies run their own consumers), and topics, replays and dead-letter re-drives hand current
readers events published long ago. So a change keeps the event's version only if it is safe both
ways: readers that were not upgraded accept events of the new schema, and current readers accept
every event published under the old one. That makes a change *additive* when:

1. no property is removed: readers that were not upgraded may still require it;
2. an added property is optional: earlier events do not carry it;
3. no property becomes required (earlier events may lack it) or stops being required (readers
   that were not upgraded still require it);
4. an existing property accepts exactly the values it accepted before: its type, format, enum,
   const, bounds, pattern, items, nullability and default stay. Widening breaks too: a new enum
   value, a relaxed `max_length` or a newly allowed null are values that readers that were not
   upgraded reject, exactly like an unknown enum value; narrowing rejects earlier events;
5. nested models (`$defs` reached through `$ref`) follow the same rules at any depth; a nested
   model may be renamed;
6. annotations (title, description, examples) change freely, and `additionalProperties: false`
   is not compared, because readers ignore unknown fields.

Anything else needs a new event type, `...v<N+1>`, published beside the old one.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

Schema = Mapping[str, Any]
"""A JSON Schema as pydantic emits it (`Model.model_json_schema()`), `$defs` at its root."""

ANNOTATIONS = frozenset({"title", "description", "examples", "$comment", "deprecated"})
"""Keywords that describe values without constraining them."""

_NESTED = frozenset({"items", "prefixItems", "anyOf", "oneOf", "allOf"})
_STRUCTURE = frozenset({"$defs", "$ref", "properties", "required", "additionalProperties"}) | _NESTED
_UPPER_BOUNDS = frozenset({"maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties"})
_LOWER_BOUNDS = frozenset({"minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties"})
_NULL = {"type": "null"}
_ABSENT: Any = object()


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Why `new` is not an additive change of `old` (whole schemas); empty when it is additive."""
    return list(_Comparison(old, new).compare(old, new, ""))


def is_additive(old: Schema, new: Schema) -> bool:
    """Whether `new` may replace `old` under the same event type."""
    return not breaking_changes(old, new)


class _Comparison:
    """One comparison of two whole schemas, resolving each side's `$ref`s against its own root."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self._roots = (old_root, new_root)
        self._open: set[tuple[str | None, str | None]] = set()  # models being compared (recursion guard)

    def compare(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        old, old_null, old_ref = _normal(old, self._roots[0])
        new, new_null, new_ref = _normal(new, self._roots[1])
        if old_null != new_null:
            yield _null_change(path, now_allowed=new_null)
        models = (old_ref, new_ref)
        if old_ref is not None and new_ref is not None:
            if models in self._open:
                return  # a recursive model, already being compared further up
            self._open.add(models)
        try:
            yield from self._keywords(old, new, path)
            yield from self._properties(old, new, path)
            yield from self._children(old, new, path)
        finally:
            self._open.discard(models)

    def _keywords(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        for key in sorted((old.keys() | new.keys()) - ANNOTATIONS - _STRUCTURE):
            before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
            if key == "enum" and before is not _ABSENT and after is not _ABSENT:
                yield from _enum_change(path, before, after)
            elif before != after:
                yield _keyword_change(path, key, before, after)

    def _properties(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        before, after = old.get("properties", {}), new.get("properties", {})
        required_before, required_after = set(old.get("required", ())), set(new.get("required", ()))
        for name in before:
            where = _join(path, name)
            if name not in after:
                yield f"{where}: removed; readers that were not upgraded may still require it"
            elif name in required_after and name not in required_before:
                yield f"{where}: became required; earlier events may lack it"
            elif name in required_before and name not in required_after:
                yield f"{where}: no longer required; readers that were not upgraded still require it"
            if name in after:
                yield from self.compare(before[name], after[name], where)
        for name in after:
            if name not in before and name in required_after:
                yield f"{_join(path, name)}: added as required; earlier events do not carry it"

    def _children(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        before, after = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            yield from self.compare(before, after, f"{path}{{}}")
        elif isinstance(before, Mapping) != isinstance(after, Mapping):
            yield f"{_shown(path)}: its map values changed from {before!r} to {after!r}"
        if "items" in old or "items" in new:
            if "items" in old and "items" in new:
                yield from self.compare(old["items"], new["items"], f"{path}[]")
            else:
                yield f"{_shown(path)}: its items changed"
        for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
            yield from self._alternatives(key, old.get(key), new.get(key), path)

    def _alternatives(
        self, key: str, before: Sequence[Schema] | None, after: Sequence[Schema] | None, path: str
    ) -> Iterator[str]:
        if before is None and after is None:
            return
        if before is None or after is None or len(before) != len(after):
            count = (len(before or ()), len(after or ()))
            yield f"{_shown(path)}: {key} changed from {count[0]} to {count[1]} alternatives"
            return
        for index, (one, other) in enumerate(zip(before, after, strict=True)):
            yield from self.compare(one, other, f"{path}<{key} {index}>")


def _normal(schema: Schema, root: Schema) -> tuple[dict[str, Any], bool, str | None]:
    """The schema with its `$ref` resolved and an `anyOf [X, null]` unwrapped to X: (schema,
    whether null is allowed, the model's name when it is one)."""
    resolved, name = _resolve(schema, root)
    options = resolved.get("anyOf")
    if not options or _NULL not in options:
        return resolved, False, name
    rest = [option for option in options if option != _NULL]
    outer = {key: value for key, value in resolved.items() if key != "anyOf"}
    unwrapped = {**outer, **rest[0]} if len(rest) == 1 else {**outer, "anyOf": rest}
    inner, inner_name = _resolve(unwrapped, root)
    return inner, True, inner_name or name


def _resolve(schema: Schema, root: Schema) -> tuple[dict[str, Any], str | None]:
    """Follow a local `$ref` (`#/$defs/<Name>`); keywords beside it (a default, a description) win."""
    reference = schema.get("$ref")
    if reference is None:
        return dict(schema), None
    prefix = "#/$defs/"
    if not isinstance(reference, str) or not reference.startswith(prefix):
        raise ValueError(f"only local references to $defs are supported, not {reference!r}")
    name = reference.removeprefix(prefix)
    siblings = {key: value for key, value in schema.items() if key != "$ref"}
    return {**root["$defs"][name], **siblings}, name


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _shown(path: str) -> str:
    return path or "(the event)"


def _null_change(path: str, *, now_allowed: bool) -> str:
    if now_allowed:
        return f"{_shown(path)}: now allows null; readers that were not upgraded reject it"
    return f"{_shown(path)}: no longer allows null; earlier events may carry it"


def _enum_change(path: str, before: Sequence[Any], after: Sequence[Any]) -> Iterator[str]:
    added = [value for value in after if value not in before]
    removed = [value for value in before if value not in after]
    if added:
        yield f"{_shown(path)}: new enum values {added}; readers that were not upgraded reject them"
    if removed:
        yield f"{_shown(path)}: enum values {removed} removed; earlier events may carry them"


def _keyword_change(path: str, key: str, before: Any, after: Any) -> str:
    where = f"{_shown(path)}: {key} {_value(before)} → {_value(after)}"
    if key in _UPPER_BOUNDS or key in _LOWER_BOUNDS:
        upper = key in _UPPER_BOUNDS
        widened = after is _ABSENT or (before is not _ABSENT and (after > before if upper else after < before))
        if widened:
            return f"{where} (relaxed); readers that were not upgraded reject the values it now allows"
        return f"{where} (tightened); earlier events may violate it"
    if key == "default":
        return f"{where}; an event without the field would be read differently"
    return f"{where}; the values it accepts changed"


def _value(value: Any) -> str:
    return "(none)" if value is _ABSENT else repr(value)
