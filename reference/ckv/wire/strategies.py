"""Hypothesis strategies for every wire structure, derived from the schema.

Nothing here is written per struct: :func:`values` walks the parsed definition
of a structure and draws each field within its declared bounds (vector sizes
are capped so that examples stay small; the bounds themselves are tested
separately). Requires the ``dev`` extra (Hypothesis).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from ckv.wire import messages
from ckv.wire.classes import message_classes
from ckv.wire.codec import DEFAULT_SUITE
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
)
from ckv.wire.schema import PRESENCE_LABELS, Field, Schema, Select, load_schema

__all__ = ["contexts", "values"]

#: Largest vector drawn, in elements, and largest opaque vector, in bytes.
MAX_ELEMENTS = 4
MAX_OPAQUE = 48


def contexts(schema: Schema | None = None) -> st.SearchStrategy[dict[str, object]]:
    """Decoding contexts: a value for every external select key of the schema."""
    schema = schema or load_schema()
    parts: dict[str, st.SearchStrategy[object]] = {}
    for key, fld in sorted(schema.context_keys.items()):
        if fld.optional:
            parts[key] = st.booleans()
        else:
            enum = schema.enums[schema.resolve_alias(fld).type_name]
            parts[key] = st.sampled_from([v for n, v in enum.values if n != "reserved"])
    return st.fixed_dictionaries(parts)


def values(
    type_name: str,
    context: Mapping[str, object],
    *,
    suite: messages.CipherSuite = DEFAULT_SUITE,
    schema: Schema | None = None,
) -> st.SearchStrategy[Any]:
    """Message objects of ``type_name`` that are valid under ``context``."""
    schema = schema or load_schema()
    constants = SUITES[suite].as_mapping()
    return _Drawer(schema, constants, context).struct(type_name)


class _Drawer:
    def __init__(
        self, schema: Schema, constants: Mapping[str, int], context: Mapping[str, object]
    ) -> None:
        self.schema = schema
        self.constants = constants
        self.context = context

    def struct(self, name: str) -> st.SearchStrategy[Any]:
        decl = self.schema.structs[name]

        @st.composite
        def draw_struct(draw: st.DrawFn) -> Any:
            drawn: dict[str, object] = {}
            self._members(draw, name, decl.members, drawn)
            return message_classes(self.schema).structs[name](**drawn)

        return draw_struct()

    def _members(
        self,
        draw: st.DrawFn,
        name: str,
        members: tuple[Field | Select, ...],
        drawn: dict[str, object],
    ) -> None:
        for m in members:
            if isinstance(m, Field):
                drawn[m.name] = draw(self.kind(kind_of(self.schema, m)))
                continue
            if m.struct == name:
                fld = next(f for f in self.schema.struct_fields(name) if f.name == m.field)
                disc: object = drawn[m.field]
                if fld.optional:
                    disc = disc is not None
            else:
                fld = self.schema.context_keys[m.key]
                disc = self.context[m.key]
            for case in m.cases:
                if self._matches(fld, case.labels, disc):
                    self._members(draw, name, case.members, drawn)
                    break

    def _matches(self, fld: Field, labels: tuple[str, ...], disc: object) -> bool:
        if fld.optional:
            return any((label == PRESENCE_LABELS[1]) is disc for label in labels)
        enum = self.schema.enums[self.schema.resolve_alias(fld).type_name]
        return any(enum.value_of(label) == disc for label in labels)

    def kind(self, kind: Kind) -> st.SearchStrategy[Any]:
        if isinstance(kind, UInt):
            return st.integers(0, kind.maximum)
        if isinstance(kind, EnumKind):
            enum_cls = message_classes(self.schema).enums[kind.decl.name]
            return st.sampled_from([m for m in enum_cls if m.name != "reserved"])
        if isinstance(kind, OpaqueFixed):
            size = kind.size if isinstance(kind.size, int) else self.constants[kind.size]
            return st.binary(min_size=size, max_size=size)
        if isinstance(kind, OpaqueVector):
            high = min(kind.ceiling, max(kind.floor, MAX_OPAQUE))
            return st.binary(min_size=kind.floor, max_size=high)
        if isinstance(kind, StructKind):
            return self.struct(kind.name)
        if isinstance(kind, Vector):
            high = min(kind.ceiling, max(kind.floor, MAX_ELEMENTS))
            return st.lists(self.kind(kind.element), min_size=kind.floor, max_size=high).map(tuple)
        assert isinstance(kind, Optional)
        return st.none() | self.kind(kind.element)
