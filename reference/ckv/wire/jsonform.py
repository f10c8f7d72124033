"""The JSON form of wire values, derived from the schema.

Conventions (used by ``ckv wire``, the conformance vectors and the harness):
opaque bytes are lowercase hex strings; integers are JSON numbers; enums are
their names; vectors are arrays; an absent optional value is ``null``; a struct
is an object holding exactly the fields that its ``select`` cases make present.
Reading JSON is strict: unknown or missing keys, wrong JSON types, bad hex,
undefined enum names and out-of-range numbers are errors naming the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ckv.errors import EncodeError, ErrorCode
from ckv.wire.classes import message_classes
from ckv.wire.kinds import (
    EnumKind,
    Kind,
    OpaqueFixed,
    OpaqueVector,
    Optional,
    StructKind,
    UInt,
    Vector,
    kind_of,
)
from ckv.wire.schema import PRESENCE_LABELS, Field, Schema, Select, load_schema, walk_fields

__all__ = ["from_json", "to_json"]

JSON = Any


def to_json(
    value: object, *, context: Mapping[str, object] | None = None, schema: Schema | None = None
) -> JSON:
    """The JSON form of a message object (an instance of a wire struct).

    ``context`` is the decoding context (see :func:`ckv.wire.codec.make_context`);
    without it, a field under an external select is shown when it is set.
    """
    schema = schema or load_schema()
    name = type(value).__name__
    if name not in schema.structs:
        msg = f"not a wire struct: {name}"
        raise TypeError(msg)
    return _struct_to_json(schema, name, value, context)


def _struct_to_json(
    schema: Schema, name: str, value: object, context: Mapping[str, object] | None
) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    present = _present_fields(schema, name, value, context)
    for f in schema.struct_fields(name):
        if f.name in present:
            out[f.name] = _to_json(schema, kind_of(schema, f), getattr(value, f.name), context)
    return out


def _present_fields(
    schema: Schema, name: str, value: object, context: Mapping[str, object] | None = None
) -> set[str]:
    """Names of the fields the select cases make present, given the discriminants."""
    out: set[str] = set()

    def walk(members: tuple[Field | Select, ...]) -> None:
        for m in members:
            if isinstance(m, Field):
                out.add(m.name)
                continue
            if m.struct == name:
                disc: object = getattr(value, m.field)
                fld = next(f for f in schema.struct_fields(name) if f.name == m.field)
            else:
                fld = schema.context_keys[m.key]
                if context is None:
                    # Rendering a decoded value: a case is present iff its fields are set.
                    for case in m.cases:
                        if any(
                            getattr(value, f.name) is not None for f in walk_fields(case.members)
                        ):
                            walk(case.members)
                            break
                    continue
                disc = context.get(m.key)
            for case in m.cases:
                if _matches(schema, fld, case.labels, disc):
                    walk(case.members)
                    break

    walk(schema.structs[name].members)
    return out


def _matches(schema: Schema, fld: Field, labels: tuple[str, ...], disc: object) -> bool:
    if fld.optional:
        present = disc if isinstance(disc, bool) else disc is not None
        return any((label == PRESENCE_LABELS[1]) == present for label in labels)
    enum = schema.enums[schema.resolve_alias(fld).type_name]
    return any(enum.value_of(label) == disc for label in labels)


def _to_json(
    schema: Schema, kind: Kind, value: object, context: Mapping[str, object] | None
) -> JSON:
    if value is None:
        return None
    if isinstance(kind, UInt):
        return value
    if isinstance(kind, EnumKind):
        return getattr(value, "name", value)
    if isinstance(kind, (OpaqueFixed, OpaqueVector)):
        assert isinstance(value, bytes)
        return value.hex()
    if isinstance(kind, StructKind):
        return _struct_to_json(schema, kind.name, value, context)
    if isinstance(kind, Vector):
        assert isinstance(value, tuple | list)
        return [_to_json(schema, kind.element, v, context) for v in value]
    return _to_json(schema, kind.element, value, context)


class _Bad(Exception):  # noqa: N818 - internal, converted to EncodeError with a path
    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def from_json(
    type_name: str,
    obj: JSON,
    *,
    context: Mapping[str, object] | None = None,
    schema: Schema | None = None,
) -> Any:
    """Build a message object of ``type_name`` from its JSON form.

    ``context`` holds the decoding context (see :func:`ckv.wire.codec.make_context`)
    that decides the external selects. The result still goes through the
    encoder's checks when it is encoded.
    """
    schema = schema or load_schema()
    try:
        return _struct_from_json(schema, type_name, obj, context or {})
    except _Bad as bad:
        raise EncodeError(
            f"{type_name}{bad.path}", bad.reason, code=ErrorCode.BAD_VALUE, requirement="WIRE-010"
        ) from None


def _json_type(x: object) -> str:
    if x is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(x), type(x).__name__)


def _struct_from_json(schema: Schema, name: str, obj: JSON, context: Mapping[str, object]) -> Any:
    if not isinstance(obj, dict):
        raise _Bad(f"expected an object for {name}, got {_json_type(obj)}")
    values: dict[str, object] = {}
    expected: list[str] = []

    def walk(members: tuple[Field | Select, ...]) -> None:
        for m in members:
            if isinstance(m, Field):
                expected.append(m.name)
                if m.name not in obj:
                    raise _Bad(f"missing field {m.name!r}")
                try:
                    values[m.name] = _from_json(schema, kind_of(schema, m), obj[m.name], context)
                except _Bad as bad:
                    raise _Bad(bad.reason, f".{m.name}{bad.path}") from None
                continue
            if m.struct == name:
                fld = next(f for f in schema.struct_fields(name) if f.name == m.field)
                disc = values.get(m.field)
                if fld.optional:
                    disc = disc is not None
            else:
                fld = schema.context_keys[m.key]
                if m.key not in context:
                    raise _Bad(f"needs decoding context {m.key} to know which fields are present")
                disc = context[m.key]
            for case in m.cases:
                if _matches(schema, fld, case.labels, disc):
                    walk(case.members)
                    break

    walk(schema.structs[name].members)
    extra = sorted(set(obj) - set(expected))
    if extra:
        raise _Bad(f"unexpected field(s) {', '.join(map(repr, extra))} for {name}")
    return message_classes(schema).structs[name](**values)


def _from_json(schema: Schema, kind: Kind, x: JSON, context: Mapping[str, object]) -> object:
    if isinstance(kind, Optional):
        return None if x is None else _from_json(schema, kind.element, x, context)
    if isinstance(kind, UInt):
        if not isinstance(x, int) or isinstance(x, bool):
            raise _Bad(f"expected an integer, got {_json_type(x)}")
        if not 0 <= x <= kind.maximum:
            raise _Bad(f"{x} does not fit in uint{8 * kind.width}")
        return x
    if isinstance(kind, EnumKind):
        if not isinstance(x, str):
            raise _Bad(f"expected a {kind.decl.name} name, got {_json_type(x)}")
        names = [n for n, _ in kind.decl.values if n != "reserved"]
        if x not in names:
            raise _Bad(f"{x!r} is not a {kind.decl.name} (one of: {', '.join(names)})")
        return message_classes(schema).enums[kind.decl.name][x]
    if isinstance(kind, OpaqueFixed | OpaqueVector):
        if not isinstance(x, str):
            raise _Bad(f"expected a hex string, got {_json_type(x)}")
        try:
            return bytes.fromhex(x)
        except ValueError:
            raise _Bad(f"not valid hex: {x[:40]!r}") from None
    if isinstance(kind, StructKind):
        return _struct_from_json(schema, kind.name, x, context)
    if not isinstance(x, list):
        raise _Bad(f"expected an array, got {_json_type(x)}")
    out = []
    for i, item in enumerate(x):
        try:
            out.append(_from_json(schema, kind.element, item, context))
        except _Bad as bad:
            raise _Bad(bad.reason, f"[{i}]{bad.path}") from None
    return tuple(out)
