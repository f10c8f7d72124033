"""Vector kind ``wire.decode``: strict decoding of every wire structure (spec: Wire format).

One file per structure and cipher suite (both suites only for structures whose
size depends on ``VRF.Np``, the one constant in which they differ). Each file
has, for every decoding context the structure needs, a minimal value and a few
seeded random values (``valid``, with the value's JSON form as output), and
must-reject mutations of their encodings: truncation, an empty input, trailing
bytes, presence octets other than 0 and 1, undefined and reserved enum values,
element counts below the floor or above the ceiling, and counts that claim more
elements than follow. Every mutation is located from the structure definition,
and kept only if the reference decoder rejects it with the expected error class.

This module also writes ``WIRE-DEFINITIONS.json``: the parsed ``spec/wire``
definitions in JSON, for implementations (such as the Node.js one) that drive
a generic codec from them instead of parsing the ``.tls`` files.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ckv import wire
from ckv.conformance._util import SUITE_SHORT, Rng, hexb, suite_named
from ckv.conformance.schemas import HEX
from ckv.conformance.vectors import (
    Case,
    Note,
    VectorFile,
    VectorKind,
    canonical_json,
    case_from_reference,
    register,
    with_requirement,
)
from ckv.errors import DecodeError, EncodeError, ErrorCode, UsageError
from ckv.wire.classes import message_classes
from ckv.wire.codec import codec_for, make_context
from ckv.wire.constants import SUITES
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
    prefix_width,
)
from ckv.wire.messages import CipherSuite
from ckv.wire.schema import PRESENCE_LABELS, Field, Schema, Select, load_schema

__all__ = ["definitions_json", "walk_offsets"]

JSON = Any
KIND = "wire.decode"

NOTES = {
    "Truncated": Note("CODEC", "The input ends before the structure is complete (WIRE-004)."),
    "TrailingBytes": Note("CODEC", "Bytes follow a complete structure (WIRE-008)."),
    "BadPresence": Note("CODEC", "An optional's presence octet is neither 0 nor 1 (WIRE-006)."),
    "UnknownEnum": Note("CODEC", "An enum holds a value its definition does not name (WIRE-007)."),
    "ReservedEnum": Note("CODEC", "An enum holds its reserved value (WIRE-007)."),
    "CountBelowFloor": Note("CODEC", "A vector's element count is below its floor (WIRE-005)."),
    "CountAboveCeiling": Note(
        "CODEC", "A vector's element count is above its ceiling: an over-limit vector (WIRE-005)."
    ),
    "MissingContext": Note("CODEC", "The decoding context a select needs is not given (WIRE-011)."),
    "CountOverrun": Note(
        "CODEC", "A vector's count claims more elements than the input holds (WIRE-004)."
    ),
}

_CODE_OF = {
    "Truncated": ErrorCode.TRUNCATED,
    "TrailingBytes": ErrorCode.TRAILING_BYTES,
    "BadPresence": ErrorCode.OPTIONAL_BAD_PRESENCE,
    "UnknownEnum": ErrorCode.UNKNOWN_ENUM,
    "ReservedEnum": ErrorCode.UNKNOWN_ENUM,
    "CountBelowFloor": ErrorCode.LENGTH_OUT_OF_RANGE,
    "CountAboveCeiling": ErrorCode.LENGTH_OUT_OF_RANGE,
    "CountOverrun": ErrorCode.TRUNCATED,
}
_REQ_OF = {
    "Truncated": "WIRE-004",
    "TrailingBytes": "WIRE-008",
    "BadPresence": "WIRE-006",
    "UnknownEnum": "WIRE-007",
    "ReservedEnum": "WIRE-007",
    "CountBelowFloor": "WIRE-005",
    "CountAboveCeiling": "WIRE-005",
    "CountOverrun": "WIRE-004",
}
_VALID_REQS = ("WIRE-002", "WIRE-003", "WIRE-013")
#: Random values per decoding context, and the largest vectors they draw.
_SAMPLES = 2
_MAX_EXTRA = 3


# -- drawing values -----------------------------------------------------------------------


class _Drawer:
    """Deterministic values of a structure: minimal ones, or seeded random ones."""

    def __init__(
        self,
        schema: Schema,
        constants: Mapping[str, int],
        context: Mapping[str, object],
        rng: Rng | None,
    ) -> None:
        self.schema = schema
        self.constants = constants
        self.context = context
        self.rng = rng
        self.classes = message_classes(schema)

    def struct(self, name: str) -> Any:
        drawn: dict[str, object] = {}
        self._members(name, self.schema.structs[name].members, drawn)
        return self.classes.structs[name](**drawn)

    def _members(
        self, name: str, members: tuple[Field | Select, ...], drawn: dict[str, object]
    ) -> None:
        for m in members:
            if isinstance(m, Field):
                drawn[m.name] = self.kind(kind_of(self.schema, m))
                continue
            case = _select_case(self.schema, name, m, drawn, self.context)
            if case is not None:
                self._members(name, case, drawn)

    def _count(self, floor: int, ceiling: int) -> int:
        if self.rng is None:
            return floor
        return floor + self.rng.below(min(ceiling - floor, _MAX_EXTRA) + 1)

    def kind(self, kind: Kind) -> Any:
        rng = self.rng
        if isinstance(kind, UInt):
            return 0 if rng is None else int.from_bytes(rng(kind.width), "big")
        if isinstance(kind, EnumKind):
            members = [m for m in self.classes.enums[kind.decl.name] if m.name != "reserved"]
            return members[0] if rng is None else members[rng.below(len(members))]
        if isinstance(kind, OpaqueFixed):
            size = kind.size if isinstance(kind.size, int) else self.constants[kind.size]
            return bytes(size) if rng is None else rng(size)
        if isinstance(kind, OpaqueVector):
            n = self._count(kind.floor, kind.ceiling)
            return bytes(n) if rng is None else rng(n)
        if isinstance(kind, StructKind):
            return self.struct(kind.name)
        if isinstance(kind, Vector):
            return tuple(
                self.kind(kind.element) for _ in range(self._count(kind.floor, kind.ceiling))
            )
        assert isinstance(kind, Optional)
        if rng is None or rng.below(2) == 0:
            return None
        return self.kind(kind.element)


def _select_case(
    schema: Schema,
    name: str,
    m: Select,
    values: Mapping[str, object] | object,
    context: Mapping[str, object],
) -> tuple[Field | Select, ...] | None:
    """The members of the case of ``m`` that applies, or None if no case does."""
    if m.struct == name:
        fld = next(f for f in schema.struct_fields(name) if f.name == m.field)
        disc = values[m.field] if isinstance(values, Mapping) else getattr(values, m.field)
        if fld.optional:
            disc = disc is not None
    else:
        fld = schema.context_keys[m.key]
        disc = context[m.key]
    for case in m.cases:
        if fld.optional:
            if any((label == PRESENCE_LABELS[1]) is disc for label in case.labels):
                return case.members
        else:
            enum = schema.enums[schema.resolve_alias(fld).type_name]
            if any(enum.value_of(label) == disc for label in case.labels):
                return case.members
    return None


# -- locating fields in an encoding -------------------------------------------------------


Located = tuple[str, Kind, object, int]


def walk_offsets(  # noqa: PLR0917 - a row of the vector table
    schema: Schema,
    encode_struct: Callable[[object], bytes],
    constants: Mapping[str, int],
    name: str,
    value: object,
    context: Mapping[str, object],
    offset: int = 0,
    path: str = "",
) -> Iterator[Located]:
    """Every field of ``value`` (recursing into struct fields) with its byte offset."""

    def size(kind: Kind, v: object) -> int:
        if isinstance(kind, UInt):
            return kind.width
        if isinstance(kind, EnumKind):
            return kind.decl.width
        if isinstance(kind, OpaqueFixed):
            return kind.size if isinstance(kind.size, int) else constants[kind.size]
        if isinstance(kind, OpaqueVector):
            assert isinstance(v, bytes)
            return prefix_width(kind.ceiling) + len(v)
        if isinstance(kind, Vector):
            assert isinstance(v, tuple)
            return prefix_width(kind.ceiling) + sum(size(kind.element, e) for e in v)
        if isinstance(kind, Optional):
            return 1 if v is None else 1 + size(kind.element, v)
        return len(encode_struct(v))

    cursor = [offset]

    def members(ms: tuple[Field | Select, ...]) -> Iterator[Located]:
        for m in ms:
            if isinstance(m, Field):
                k = kind_of(schema, m)
                v = getattr(value, m.name)
                pos = cursor[0]
                yield f"{path}.{m.name}", k, v, pos
                if isinstance(k, StructKind):
                    yield from walk_offsets(
                        schema,
                        encode_struct,
                        constants,
                        k.name,
                        v,
                        context,
                        pos,
                        f"{path}.{m.name}",
                    )
                cursor[0] = pos + size(k, v)
                continue
            case = _select_case(schema, name, m, value, context)
            if case is not None:
                yield from members(case)

    yield from members(schema.structs[name].members)


# -- the generator ------------------------------------------------------------------------


def _needs_np(schema: Schema, name: str, seen: set[str] | None = None) -> bool:
    seen = seen if seen is not None else set()
    if name in seen:
        return False
    seen.add(name)
    for f in schema.struct_fields(name):
        k = kind_of(schema, f)
        while isinstance(k, Optional | Vector):
            k = k.element
        if isinstance(k, OpaqueFixed) and k.size == "VRF.Np":
            return True
        if isinstance(k, StructKind) and _needs_np(schema, k.name, seen):
            return True
    return False


def _contexts(schema: Schema, name: str) -> list[dict[str, str]]:
    keys = sorted(schema.context_needed(name))
    choices: list[list[str]] = []
    for key in keys:
        fld = schema.context_keys[key]
        if fld.optional:
            choices.append(list(PRESENCE_LABELS))
        else:
            enum = schema.enums[schema.resolve_alias(fld).type_name]
            choices.append([n for n, _ in enum.values if n != "reserved"])
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*choices)]


def _ctx_label(ctx: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in ctx.items()) or "no context"


def _mutations(
    schema: Schema, suite: CipherSuite, name: str, value: object, ctx: Mapping[str, object]
) -> Iterator[tuple[str, str, bytes]]:
    """(flag, description, bytes) of the must-reject mutations of one value's encoding."""
    codec = codec_for(suite)
    data = codec.encode(value, context=ctx)
    if data:
        yield "Truncated", "the last byte removed", data[:-1]
        if len(data) > 2:
            yield (
                "Truncated",
                f"cut to {len(data) // 2} of {len(data)} bytes",
                data[: len(data) // 2],
            )
    yield "TrailingBytes", "one zero byte appended", data + b"\x00"
    constants = SUITES[suite].as_mapping()
    seen: set[str] = set()

    def encode_struct(v: object) -> bytes:
        return codec.encode(v, context=ctx)

    for path, kind, v, off in walk_offsets(schema, encode_struct, constants, name, value, ctx):
        if isinstance(kind, Optional) and "BadPresence" not in seen:
            seen.add("BadPresence")
            yield (
                "BadPresence",
                f"presence octet of {name}{path} set to 2",
                _put(data, off, b"\x02"),
            )
        elif isinstance(kind, EnumKind):
            decl = kind.decl
            defined = {val for _, val in decl.values}
            undefined = next((x for x in range(decl.maximum + 1) if x not in defined), None)
            width = decl.width
            if undefined is not None and "UnknownEnum" not in seen:
                seen.add("UnknownEnum")
                yield (
                    "UnknownEnum",
                    f"{name}{path} set to {undefined}, which {decl.name} does not define",
                    _put(data, off, undefined.to_bytes(width, "big")),
                )
            reserved = decl.value_of("reserved")
            if reserved is not None and f"ReservedEnum{decl.name}" not in seen:
                seen.add(f"ReservedEnum{decl.name}")
                yield (
                    "ReservedEnum",
                    f"{name}{path} set to the reserved value {reserved} of {decl.name}",
                    _put(data, off, reserved.to_bytes(width, "big")),
                )
        elif isinstance(kind, OpaqueVector | Vector):
            width = prefix_width(kind.ceiling)
            count = len(v)  # type: ignore[arg-type]
            if kind.ceiling + 1 < 1 << (8 * width) and "CountAboveCeiling" not in seen:
                seen.add("CountAboveCeiling")
                yield (
                    "CountAboveCeiling",
                    (
                        f"count of {name}{path} set to {kind.ceiling + 1}, above its ceiling "
                        f"{kind.ceiling}"
                    ),
                    _put(data, off, (kind.ceiling + 1).to_bytes(width, "big")),
                )
            if kind.floor > 0 and "CountBelowFloor" not in seen:
                seen.add("CountBelowFloor")
                yield (
                    "CountBelowFloor",
                    f"count of {name}{path} set to {kind.floor - 1}, below its floor {kind.floor}",
                    _put(data, off, (kind.floor - 1).to_bytes(width, "big")),
                )
            if count < kind.ceiling and "CountOverrun" not in seen and off + width == len(data):
                seen.add("CountOverrun")
                yield (
                    "CountOverrun",
                    f"count of the final {name}{path} raised to {count + 1} with nothing after it",
                    _put(data, off, (count + 1).to_bytes(width, "big")),
                )


def _put(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def _file(schema: Schema, suite: CipherSuite, name: str) -> VectorFile:
    short = SUITE_SHORT[suite]
    vf = VectorFile(
        path=f"wire/{name}.{short}.json",
        kind=KIND,
        short=f"{name.lower()}.{short}",
        description=f"Decode {name} under {suite.name}: valid encodings give the value "
        "(JSON form); every mutation must be rejected with the error class shown.",
        parameters={"struct": name, "cipher_suite": suite.name},
    )
    codec = codec_for(suite)
    constants = SUITES[suite].as_mapping()
    for ci, ctx_names in enumerate(_contexts(schema, name)):
        ctx = make_context(None, ctx_names)
        where = _ctx_label(ctx_names)
        samples: list[tuple[str, object]] = [
            ("minimal", _Drawer(schema, constants, ctx, None).struct(name))
        ]
        for i in range(_SAMPLES):
            rng = Rng(f"ckv wire vectors {suite.name} {name} {ci} {i}")
            samples.append(("random", _Drawer(schema, constants, ctx, rng).struct(name)))
        encodings: set[bytes] = set()
        if ci == 0 and ctx_names:
            data = codec.encode(samples[0][1], context=ctx)
            try:
                codec.decode(name, data, context={})
            except DecodeError as exc:
                if exc.code is ErrorCode.MISSING_CONTEXT:
                    vf.add(
                        Case(
                            name="missing-context",
                            description=f"{name} decoded without the context it needs "
                            f"({', '.join(ctx_names)})",
                            requirements=("WIRE-011",),
                            result="invalid",
                            error=exc.code.value,
                            flags=("MissingContext",),
                            input=_input(suite, name, {}, data),
                        )
                    )
        for label, value in samples:
            try:
                data = codec.encode(value, context=ctx)
            except EncodeError:
                continue
            if data in encodings:
                continue
            encodings.add(data)
            vf.add(
                Case(
                    name=label,
                    description=f"a {label} {name} ({where}) decodes to its value",
                    requirements=_VALID_REQS,
                    result="valid",
                    input=_input(suite, name, ctx_names, data),
                    output={"value": wire.to_json(value, context=ctx)},
                )
            )
            if label == "random" and len(encodings) > 2:
                continue
            for flag, what, bad in _mutations(schema, suite, name, value, ctx):
                expected = _CODE_OF[flag]
                try:
                    codec.decode(name, bad, context=ctx)
                except DecodeError as exc:
                    if exc.code is not expected:
                        continue
                    raised = exc.requirement
                else:
                    continue
                vf.add(
                    Case(
                        name=_case_name(flag),
                        description=f"{name} ({where}), from a {label} value: {what}",
                        requirements=with_requirement((_REQ_OF[flag],), raised),
                        result="invalid",
                        error=expected.value,
                        flags=(flag,),
                        input=_input(suite, name, ctx_names, bad),
                    )
                )
    return vf


def _case_name(flag: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in flag).lstrip("-")


def _input(suite: CipherSuite, name: str, ctx: Mapping[str, str], data: bytes) -> JSON:
    return {
        "cipher_suite": suite.name,
        "struct": name,
        "context": dict(ctx),
        "encoding": data.hex(),
    }


def generate() -> list[VectorFile]:
    """One file per structure (and per suite where the suites differ)."""
    schema = load_schema()
    files: list[VectorFile] = []
    for name in sorted(schema.structs):
        suites = [CipherSuite.KT_128_SHA256_Ed25519]
        if _needs_np(schema, name):
            suites.append(CipherSuite.KT_128_SHA256_P256)
        files.extend(_file(schema, suite, name) for suite in suites)
    return files


def handle(request: JSON) -> JSON:
    """Reference handler: decode strictly, answer the JSON form of the value."""
    suite = suite_named(request["cipher_suite"])
    name = str(request["struct"])
    context = request.get("context") or {}
    if not isinstance(context, dict):
        raise UsageError("context must be an object")
    ctx = make_context(None, context)
    value: object = codec_for(suite).decode(
        name, hexb(request["encoding"], "encoding"), context=ctx
    )
    return {"value": wire.to_json(value, context=ctx)}


# -- wire.encode ------------------------------------------------------------------------------

ENCODE_NOTES = {
    "UnknownField": Note("CODEC", "The value has a field its structure does not have (WIRE-010)."),
    "MissingField": Note("CODEC", "The value lacks a field its structure has (WIRE-010)."),
    "IntRange": Note("CODEC", "An integer does not fit its width, or is negative (WIRE-010)."),
    "WrongType": Note("CODEC", "A field holds a JSON value of the wrong type (WIRE-010)."),
    "BadHex": Note("CODEC", "An opaque value is not an even-length hex string (WIRE-010)."),
    "FixedSize": Note("CODEC", "A fixed-size opaque value has the wrong length (WIRE-010)."),
    "OverLimit": Note("CODEC", "A vector holds more than its ceiling (WIRE-010)."),
    "UnknownEnumName": Note("CODEC", "An enum field names no value of the enum (WIRE-010)."),
    "ReservedEnum": Note("CODEC", "An enum field holds the reserved value (WIRE-007, WIRE-010)."),
}


def handle_encode(request: JSON) -> JSON:
    """Reference handler of ``wire.encode``: check the value, answer its encoding."""
    suite = suite_named(request["cipher_suite"])
    name = str(request["struct"])
    ctx = make_context(None, request.get("context") or {})
    value = wire.from_json(name, request["value"], context=ctx)
    return {"encoding": codec_for(suite).encode(value, context=ctx).hex()}


def _encode_mutations(
    schema: Schema, constants: Mapping[str, int], name: str, obj: dict[str, JSON]
) -> Iterator[tuple[str, str, dict[str, JSON]]]:
    """(flag, description, mutated JSON value) for the top-level fields of ``obj``."""
    fields = {f.name: kind_of(schema, f) for f in schema.struct_fields(name) if f.name in obj}
    yield "UnknownField", "an extra field `unexpected`", obj | {"unexpected": 0}
    if fields:
        first = next(iter(fields))
        yield (
            "MissingField",
            f"field `{first}` left out",
            {k: v for k, v in obj.items() if k != first},
        )
    seen: set[str] = set()
    for fname, kind in fields.items():
        if isinstance(kind, UInt) and "IntRange" not in seen:
            seen.add("IntRange")
            yield "IntRange", f"`{fname}` = {kind.maximum + 1}", obj | {fname: kind.maximum + 1}
            yield "IntRange", f"`{fname}` = -1", obj | {fname: -1}
            yield "WrongType", f"`{fname}` as a string", obj | {fname: "1"}
        elif isinstance(kind, EnumKind) and "Enum" not in seen:
            seen.add("Enum")
            yield "UnknownEnumName", f"`{fname}` = no_such_value", obj | {fname: "no_such_value"}
            if kind.decl.value_of("reserved") is not None:
                yield "ReservedEnum", f"`{fname}` = reserved", obj | {fname: "reserved"}
        elif isinstance(kind, OpaqueFixed) and "FixedSize" not in seen:
            seen.add("FixedSize")
            size = kind.size if isinstance(kind.size, int) else constants[kind.size]
            yield "FixedSize", f"`{fname}` one byte short", obj | {fname: "00" * (size - 1)}
            yield "FixedSize", f"`{fname}` one byte long", obj | {fname: "00" * (size + 1)}
            yield "BadHex", f"`{fname}` not hex", obj | {fname: "zz" * size}
        elif isinstance(kind, OpaqueVector) and "OverLimit" not in seen and kind.ceiling < 1024:
            seen.add("OverLimit")
            yield (
                "OverLimit",
                f"`{fname}` of {kind.ceiling + 1} bytes",
                obj | {fname: "00" * (kind.ceiling + 1)},
            )


def _encode_file(schema: Schema, suite: CipherSuite, names: list[str]) -> VectorFile:
    short = SUITE_SHORT[suite]
    vf = VectorFile(
        path=f"wire/encode.{short}.json",
        kind="wire.encode",
        short=f"encode.{short}",
        description=f"Encode wire values (JSON form) under {suite.name}: valid values give "
        "their canonical encoding; values that break a constraint must be refused.",
        parameters={"cipher_suite": suite.name},
    )
    constants = SUITES[suite].as_mapping()
    for name in names:
        for ci, ctx_names in enumerate(_contexts(schema, name)):
            ctx = make_context(None, ctx_names)
            where = _ctx_label(ctx_names)
            rngs: list[Rng | None] = [None] if ci else [None, Rng(f"ckv wire encode {name}")]
            for rng in rngs:
                value = _Drawer(schema, constants, ctx, rng).struct(name)
                obj = wire.to_json(value, context=ctx)
                inp = {"cipher_suite": suite.name, "struct": name, "context": dict(ctx_names)}
                label = "minimal" if rng is None else "random"
                try:
                    case = case_from_reference(
                        handle_encode,
                        name=f"{name.lower()}-{label}",
                        description=f"a {label} {name} ({where}) encodes canonically",
                        requirements=_VALID_REQS,
                        result="valid",
                        input=inp | {"value": obj},
                    )
                except RuntimeError:
                    continue
                vf.add(case)
                if rng is not None or ci:
                    continue
                for flag, what, bad in _encode_mutations(schema, constants, name, obj):
                    vf.add_reference(
                        handle_encode,
                        name=f"{name.lower()}-{_case_name(flag)}",
                        description=f"{name} ({where}): {what}",
                        requirements=("WIRE-010",),
                        result="invalid",
                        input=inp | {"value": bad},
                        flags=(flag,),
                    )
    return vf


def generate_encode() -> list[VectorFile]:
    """One file per suite (P-256 only for the structures whose size depends on it)."""
    schema = load_schema()
    names = sorted(schema.structs)
    return [
        _encode_file(schema, CipherSuite.KT_128_SHA256_Ed25519, names),
        _encode_file(
            schema, CipherSuite.KT_128_SHA256_P256, [n for n in names if _needs_np(schema, n)]
        ),
    ]


# -- the definitions in JSON ---------------------------------------------------------------


def _kind_json(kind: Kind) -> JSON:
    if isinstance(kind, UInt):
        return {"type": "uint", "width": kind.width}
    if isinstance(kind, EnumKind):
        return {"type": "enum", "name": kind.decl.name}
    if isinstance(kind, OpaqueFixed):
        return {"type": "opaque_fixed", "size": kind.size}
    if isinstance(kind, OpaqueVector):
        return {"type": "opaque_vector", "floor": kind.floor, "ceiling": kind.ceiling}
    if isinstance(kind, StructKind):
        return {"type": "struct", "name": kind.name}
    if isinstance(kind, Vector):
        return {
            "type": "vector",
            "element": _kind_json(kind.element),
            "floor": kind.floor,
            "ceiling": kind.ceiling,
        }
    return {"type": "optional", "element": _kind_json(kind.element)}


def _members_json(schema: Schema, name: str, members: tuple[Field | Select, ...]) -> list[JSON]:
    out: list[JSON] = []
    for m in members:
        if isinstance(m, Field):
            out.append({"field": m.name, "kind": _kind_json(kind_of(schema, m))})
        else:
            out.append(
                {
                    "select": m.key,
                    "internal": m.struct == name,
                    "field": m.field,
                    "cases": [
                        {
                            "labels": list(c.labels),
                            "members": _members_json(schema, name, c.members),
                        }
                        for c in m.cases
                    ],
                }
            )
    return out


def definitions_json() -> str:
    """``WIRE-DEFINITIONS.json``: structs, enums, context keys and suite constants."""
    schema = load_schema()
    doc = {
        "description": "The CKV wire definitions (spec/wire/*.tls) with every field's kind "
        "resolved; generated by `ckv vectors generate`. Vector counts are element counts and "
        "a count prefix is as wide as its ceiling needs (1, 2, 4 or 8 bytes).",
        "structs": {
            name: _members_json(schema, name, decl.members)
            for name, decl in sorted(schema.structs.items())
        },
        "enums": {
            name: {"width": e.width, "values": dict(e.values)}
            for name, e in sorted(schema.enums.items())
        },
        "context_keys": {
            key: (
                {"type": "presence"}
                if f.optional
                else {"type": "enum", "name": schema.resolve_alias(f).type_name}
            )
            for key, f in sorted(schema.context_keys.items())
        },
        "suites": {s.name: dict(c.as_mapping()) for s, c in SUITES.items()},
    }
    return canonical_json(doc)


register(
    VectorKind(
        name=KIND,
        description="Decode bytes as one wire structure, strictly (spec: Wire format).",
        generate=generate,
        input_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["cipher_suite", "struct", "context", "encoding"],
            "properties": {
                "cipher_suite": {"type": "string"},
                "struct": {"type": "string"},
                "context": {"type": "object", "additionalProperties": {"type": "string"}},
                "encoding": HEX,
            },
        },
        output_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["value"],
            "properties": {"value": {"type": "object"}},
        },
        notes=NOTES,
        handler=handle,
    )
)
register(
    VectorKind(
        name="wire.encode",
        description="Encode a wire value given in its JSON form, checking every constraint "
        "(spec: Wire format).",
        generate=generate_encode,
        input_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["cipher_suite", "struct", "context", "value"],
            "properties": {
                "cipher_suite": {"type": "string"},
                "struct": {"type": "string"},
                "context": {"type": "object", "additionalProperties": {"type": "string"}},
                "value": {"type": "object"},
            },
        },
        output_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["encoding"],
            "properties": {"encoding": HEX},
        },
        notes=ENCODE_NOTES,
        handler=handle_encode,
    )
)
