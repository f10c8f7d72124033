"""Resolved field types: what each field of the schema is on the wire.

:func:`kind_of` turns a parsed :class:`~ckv.wire.schema.Field` into one of a
handful of kinds, following aliases. The codec generator, the JSON form and
the Hypothesis strategies all work from these kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ckv.wire.schema import UINT_WIDTHS, Bounds, EnumDecl, Field, Fixed, Schema

__all__ = [
    "EnumKind",
    "Kind",
    "OpaqueFixed",
    "OpaqueVector",
    "Optional",
    "StructKind",
    "UInt",
    "Vector",
    "fixed_size",
    "kind_of",
    "min_size",
    "prefix_width",
]


@dataclass(frozen=True, slots=True)
class UInt:
    """``uint8`` .. ``uint64``: a big-endian unsigned integer of ``width`` bytes."""

    width: int

    @property
    def maximum(self) -> int:
        """The largest value the integer can hold."""
        return (1 << (8 * self.width)) - 1


@dataclass(frozen=True, slots=True)
class EnumKind:
    """A closed enum, encoded as an unsigned integer of the enum's width."""

    decl: EnumDecl


@dataclass(frozen=True, slots=True)
class StructKind:
    """A struct, encoded as its fields in order."""

    name: str


@dataclass(frozen=True, slots=True)
class OpaqueFixed:
    """``opaque x[N]``: exactly N bytes (N may be a cipher-suite constant)."""

    size: int | str
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class OpaqueVector:
    """``opaque x<floor..ceiling>``: a length-prefixed byte string."""

    floor: int
    ceiling: int


@dataclass(frozen=True, slots=True)
class Vector:
    """``T x<floor..ceiling>``: a count-prefixed sequence of elements."""

    element: Kind
    floor: int
    ceiling: int


@dataclass(frozen=True, slots=True)
class Optional:
    """``optional<T>``: a presence octet (0 or 1), then T if present."""

    element: Kind


Kind = UInt | EnumKind | StructKind | OpaqueFixed | OpaqueVector | Vector | Optional


def prefix_width(ceiling: int) -> int:
    """Bytes in a vector's length prefix: as many as the ceiling needs (KEYTRANS §2.1.2)."""
    return max(1, (ceiling.bit_length() + 7) // 8)


def _scalar(schema: Schema, type_name: str) -> Kind:
    if type_name in UINT_WIDTHS:
        return UInt(UINT_WIDTHS[type_name])
    if type_name in schema.enums:
        return EnumKind(schema.enums[type_name])
    if type_name in schema.structs:
        return StructKind(type_name)
    target = schema.aliases[type_name].target
    inner = kind_of(
        schema, Field(type_name, target.type_name, optional=False, suffix=target.suffix)
    )
    if isinstance(inner, OpaqueFixed):
        return OpaqueFixed(inner.size, alias=type_name)
    return inner


def kind_of(schema: Schema, f: Field) -> Kind:
    """The wire kind of a field (the schema has been checked, so this cannot fail)."""
    if f.type_name == "opaque":
        if isinstance(f.suffix, Fixed):
            return OpaqueFixed(f.suffix.size)
        assert isinstance(f.suffix, Bounds)
        return OpaqueVector(f.suffix.floor, f.suffix.ceiling)
    base = _scalar(schema, f.type_name)
    if f.optional:
        return Optional(base)
    if isinstance(f.suffix, Bounds):
        return Vector(base, f.suffix.floor, f.suffix.ceiling)
    return base


def fixed_size(kind: Kind, constants: Mapping[str, int], schema: Schema) -> int | None:
    """The encoded size of a kind if every value of it has the same size."""
    if isinstance(kind, UInt):
        return kind.width
    if isinstance(kind, EnumKind):
        return kind.decl.width
    if isinstance(kind, OpaqueFixed):
        return kind.size if isinstance(kind.size, int) else constants[kind.size]
    if isinstance(kind, StructKind):
        decl = schema.structs[kind.name]
        if any(not isinstance(m, Field) for m in decl.members):
            return None
        total = 0
        for m in decl.members:
            assert isinstance(m, Field)
            size = fixed_size(kind_of(schema, m), constants, schema)
            if size is None:
                return None
            total += size
        return total
    return None


def min_size(kind: Kind, constants: Mapping[str, int], schema: Schema) -> int:
    """The fewest bytes any encoding of this kind can take."""
    if isinstance(kind, OpaqueVector):
        return prefix_width(kind.ceiling) + kind.floor
    if isinstance(kind, Vector):
        return prefix_width(kind.ceiling) + kind.floor * min_size(kind.element, constants, schema)
    if isinstance(kind, Optional):
        return 1
    if isinstance(kind, StructKind):
        total = 0
        for m in schema.structs[kind.name].members:
            if isinstance(m, Field):
                total += min_size(kind_of(schema, m), constants, schema)
        return total
    size = fixed_size(kind, constants, schema)
    assert size is not None
    return size
