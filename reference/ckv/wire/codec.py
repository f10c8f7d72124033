"""Strict, canonical encoding and decoding of every CKV wire structure.

A :class:`Codec` is specialised to one cipher suite: it compiles the decode and
encode functions that :func:`ckv.wire.codegen.codec_source` derives from the
schema, with the suite's constants (``Hash.Nh``, ``VRF.Np``, ...) filled in.

Decoding is strict. It accepts exactly the canonical encoding of a value and
raises :class:`~ckv.errors.DecodeError`, naming the path of the offending field
and the requirement it breaks, for anything else: truncation, trailing bytes,
vector element counts outside their bounds, optional presence octets other than
0 or 1, undefined or reserved enum values, and input beyond the size and depth
limits. Encoding checks the same constraints before it writes a byte.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar, cast

from ckv.errors import DecodeError, EncodeError, ErrorCode, UsageError
from ckv.wire import messages
from ckv.wire.classes import message_classes
from ckv.wire.codegen import codec_source
from ckv.wire.constants import SUITES, SuiteConstants
from ckv.wire.schema import Schema, load_schema

__all__ = [
    "DEFAULT_SUITE",
    "Codec",
    "Limits",
    "codec_for",
    "decode",
    "encode",
    "make_context",
]

#: The cipher suite CKV requires every implementation to support (spec: KT profile).
DEFAULT_SUITE = messages.CipherSuite.KT_128_SHA256_Ed25519

T = TypeVar("T")

_REQ_TRAILING = "WIRE-008"
_REQ_LIMITS = "WIRE-009"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds a decoder enforces before it looks at the content (WIRE-009)."""

    #: Largest encoding accepted or produced, in bytes.
    max_size: int = 1 << 24
    #: Deepest struct nesting accepted. CKV-PL types cannot recurse, so every
    #: structure has a fixed nesting depth, checked against this bound up front.
    max_depth: int = 16


class _F(Exception):  # noqa: N818 - internal signal, converted to DecodeError
    __slots__ = ("code", "offset", "path", "reason", "requirement")

    def __init__(self, code: str, reason: str, offset: int, requirement: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.offset = offset
        self.requirement = requirement
        self.path: list[tuple[str, object]] = []


class _EF(Exception):  # noqa: N818 - internal signal, converted to EncodeError
    __slots__ = ("code", "path", "reason", "requirement")

    def __init__(
        self,
        code: str,
        reason: str,
        requirement: str | None = None,
        first: tuple[str, object] | None = None,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.requirement = requirement
        self.path: list[tuple[str, object]] = [first] if first else []


def _trunc(p: int, need: object, n: int, requirement: str) -> _F:
    return _F(
        "TRUNCATED", f"truncated: needs {need} byte(s), {max(n - p, 0)} remain", p, requirement
    )


def _render_path(root: str, path: list[tuple[str, object]]) -> str:
    parts = [root]
    for kind, item in reversed(path):
        parts.append(f".{item}" if kind == "." else f"[{item}]")
    return "".join(parts)


def _type_name(x: object) -> str:
    return type(x).__name__


def _pack1(x: int) -> bytes:
    return bytes((x,))


def _read_int(width: int, b: bytes, p: int) -> tuple[int]:
    return (int.from_bytes(b[p : p + width], "big"),)


def _write_int(width: int, x: int) -> bytes:
    return x.to_bytes(width, "big")


def _namespace(schema: Schema) -> dict[str, Any]:
    ns: dict[str, Any] = {
        "_F": _F,
        "_EF": _EF,
        "_trunc": _trunc,
        "_tn": _type_name,
        "_unpack": struct.unpack_from,
        "_pack": struct.pack,
        "_B1": tuple(bytes((i,)) for i in range(256)),
        "_ONLY_BYTES": frozenset({bytes}),
        "_ONLY_INT": frozenset({int}),
        "_U2": struct.Struct(">H").unpack_from,
        "_U4": struct.Struct(">I").unpack_from,
        "_U8": struct.Struct(">Q").unpack_from,
        "_P1": _pack1,
        "_P2": struct.Struct(">H").pack,
        "_P4": struct.Struct(">I").pack,
        "_P8": struct.Struct(">Q").pack,
    }
    for width in (3, 5, 6, 7):  # length prefixes and enums of unusual widths
        ns[f"_U{width}"] = functools.partial(_read_int, width)
        ns[f"_P{width}"] = functools.partial(_write_int, width)
    classes = message_classes(schema)
    for name in schema.structs:
        cls = classes.structs.get(name)
        expected = [f.name for f in schema.struct_fields(name)]
        if cls is None or [f.name for f in dataclasses.fields(cls)] != expected:
            msg = (
                f"ckv.wire.messages is out of date with spec/wire for {name}; "
                "run `ckv wire codegen`"
            )
            raise RuntimeError(msg)
        ns[f"_C_{name}"] = cls
    for name, decl in schema.enums.items():
        enum_cls = classes.enums[name]
        # WIRE-007: a value named `reserved` is never valid on the wire.
        ns[f"_E_{name}"] = {v: enum_cls(v) for label, v in decl.values if label != "reserved"}
        ns[f"_W_{name}"] = {
            v: v.to_bytes(decl.width, "big") for label, v in decl.values if label != "reserved"
        }
    return ns


def _context_value(key: str, value: object, schema: Schema) -> object:
    """Normalise one decoding-context entry: enum values to int, presence to bool."""
    f = schema.context_keys.get(key)
    if f is None:
        known = ", ".join(sorted(schema.context_keys))
        msg = f"unknown decoding context {key!r} (known: {known})"
        raise UsageError(msg)
    if f.optional:
        if isinstance(value, bool):
            return value
        if value in ("present", "absent"):
            return value == "present"
        msg = f"decoding context {key} must be 'present' or 'absent', not {value!r}"
        raise UsageError(msg)
    enum_name = schema.resolve_alias(f).type_name
    enum_cls = message_classes(schema).enums[enum_name]
    if isinstance(value, enum.IntEnum):
        value = int(value)
    if isinstance(value, str):
        match = next((m for m in enum_cls if m.name == value), None)
        if match is None:
            names = ", ".join(m.name for m in enum_cls if m.name != "reserved")
            msg = f"decoding context {key}: {value!r} is not a {enum_name} (one of: {names})"
            raise UsageError(msg)
        return int(match)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    msg = f"decoding context {key}: expected a {enum_name}, got {value!r}"
    raise UsageError(msg)


def make_context(
    mode: object = None, context: Mapping[str, object] | None = None, schema: Schema | None = None
) -> Mapping[str, object]:
    """Build the decoding context the codecs consult for external selects.

    ``mode`` is the deployment mode (``Configuration.mode``); ``context`` may
    give any external select key, such as ``{"SearchRequest.version": "absent"}``.
    """
    schema = schema or load_schema()
    try:
        key = (id(schema), mode, tuple(sorted(context.items())) if context else ())
        cached = _CONTEXTS.get(key)
    except TypeError:  # unhashable values: normalise without the cache
        key, cached = None, None
    if cached is not None and cached[0] is schema:
        return cached[1]
    out: dict[str, object] = {}
    if mode is not None:
        out["Configuration.mode"] = _context_value("Configuration.mode", mode, schema)
    for name, value in (context or {}).items():
        out[name] = _context_value(name, value, schema)
    frozen = MappingProxyType(out)
    if key is not None and len(_CONTEXTS) < 256:
        _CONTEXTS[key] = (schema, frozen)
    return frozen


# Normalised contexts are few (a handful of modes and flags), so they are kept.
_CONTEXTS: dict[object, tuple[Schema, Mapping[str, object]]] = {}


class Codec:
    """Decoders and encoders for every struct, specialised to one cipher suite."""

    def __init__(
        self,
        suite: messages.CipherSuite = DEFAULT_SUITE,
        *,
        limits: Limits | None = None,
        schema: Schema | None = None,
    ) -> None:
        if suite not in SUITES:
            msg = f"unsupported cipher suite {suite!r}"
            raise UsageError(msg)
        self.suite: SuiteConstants = SUITES[suite]
        self.limits = limits or Limits()
        self.schema = schema or load_schema()
        self.source = codec_source(self.schema, self.suite.as_mapping())
        ns = _namespace(self.schema)
        exec(compile(self.source, f"<ckv.wire codecs for {suite.name}>", "exec"), ns)  # noqa: S102
        self._depths: dict[str, int] = {}
        self._decoders: dict[str, Callable[[bytes, int, Mapping[str, object]], tuple[Any, int]]] = {
            name: ns[f"d_{name}"] for name in self.schema.structs
        }
        self._encoders: dict[str, Callable[[Any, list[bytes], Mapping[str, object]], None]] = {
            name: ns[f"e_{name}"] for name in self.schema.structs
        }

    def _name(self, type_: type[Any] | str) -> str:
        name = type_ if isinstance(type_, str) else type_.__name__
        if name not in self._decoders:
            msg = f"unknown structure {name!r}; `ckv wire list` shows them all"
            raise UsageError(msg)
        return name

    def decode(
        self,
        type_: type[T] | str,
        data: bytes | bytearray | memoryview,
        *,
        mode: object = None,
        context: Mapping[str, object] | None = None,
    ) -> T:
        """Decode ``data`` as exactly one ``type_`` and nothing after it."""
        name = self._name(type_)
        buf = data if isinstance(data, bytes) else bytes(data)
        # WIRE-009: limits are checked before any content is read.
        if len(buf) > self.limits.max_size:
            raise DecodeError(
                name,
                f"{len(buf)} bytes exceeds the limit of {self.limits.max_size}",
                code=ErrorCode.TOO_LARGE,
                requirement=_REQ_LIMITS,
            )
        depth = self._depths.get(name)
        if depth is None:
            depth = self._depths[name] = self.schema.static_depth(name)
        if depth > self.limits.max_depth:
            raise DecodeError(
                name,
                f"nests {depth} structures deep, beyond the limit of {self.limits.max_depth}",
                code=ErrorCode.TOO_DEEP,
                requirement=_REQ_LIMITS,
            )
        ctx = make_context(mode, context, self.schema)
        try:
            value, end = self._decoders[name](buf, 0, ctx)
        except _F as f:
            raise DecodeError(
                _render_path(name, f.path),
                f.reason,
                code=ErrorCode(f.code),
                requirement=f.requirement,
                offset=f.offset,
            ) from None
        # WIRE-008: nothing may follow the structure.
        if end != len(buf):
            raise DecodeError(
                name,
                f"{len(buf) - end} trailing byte(s) after the structure",
                code=ErrorCode.TRAILING_BYTES,
                requirement=_REQ_TRAILING,
                offset=end,
            )
        return cast("T", value)

    def encode(
        self, value: object, *, mode: object = None, context: Mapping[str, object] | None = None
    ) -> bytes:
        """Encode a message object; raises :class:`EncodeError` if it breaks a constraint."""
        name = self._name(type(value).__name__)
        ctx = make_context(mode, context, self.schema)
        parts: list[bytes] = []
        try:
            self._encoders[name](value, parts, ctx)
        except _EF as f:
            raise EncodeError(
                _render_path(name, f.path),
                f.reason,
                code=ErrorCode(f.code),
                requirement=f.requirement or "WIRE-010",
            ) from None
        out = b"".join(parts)
        if len(out) > self.limits.max_size:
            raise EncodeError(
                name,
                f"{len(out)} bytes exceeds the limit of {self.limits.max_size}",
                code=ErrorCode.TOO_LARGE,
                requirement=_REQ_LIMITS,
            )
        return out


@functools.cache
def codec_for(suite: messages.CipherSuite = DEFAULT_SUITE) -> Codec:
    """The shared codec for a cipher suite (built on first use)."""
    return Codec(suite)


def decode(
    type_: type[T] | str,
    data: bytes | bytearray | memoryview,
    *,
    suite: messages.CipherSuite = DEFAULT_SUITE,
    mode: object = None,
    context: Mapping[str, object] | None = None,
) -> T:
    """Decode with the shared codec of ``suite``; see :meth:`Codec.decode`."""
    return codec_for(suite).decode(type_, data, mode=mode, context=context)


def encode(
    value: object,
    *,
    suite: messages.CipherSuite = DEFAULT_SUITE,
    mode: object = None,
    context: Mapping[str, object] | None = None,
) -> bytes:
    """Encode with the shared codec of ``suite``; see :meth:`Codec.encode`."""
    return codec_for(suite).encode(value, mode=mode, context=context)
