"""Parse the `.tls` wire definitions with the lark grammar and check them.

The result, a :class:`Schema`, is the single source from which the codecs
(:mod:`ckv.wire.codegen`), the message classes (:mod:`ckv.wire.messages`), the
JSON forms, the Hypothesis strategies and the spec's struct listings derive.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

import lark

from ckv.errors import SchemaError
from ckv.wire import resources

__all__ = [
    "CONSTANTS",
    "PRESENCE_LABELS",
    "UINT_WIDTHS",
    "AliasDecl",
    "Bounds",
    "Case",
    "Declaration",
    "EnumDecl",
    "Field",
    "Fixed",
    "Location",
    "Schema",
    "Select",
    "StructDecl",
    "build_schema",
    "format_declarations",
    "load_schema",
    "parse_declarations",
    "parser",
    "walk_fields",
]

#: Built-in unsigned integer types and their width in bytes.
UINT_WIDTHS: Mapping[str, int] = {"uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8}
#: Cipher-suite constants a fixed size may name (KEYTRANS §11.1).
CONSTANTS: tuple[str, ...] = ("Hash.Nh", "VRF.Nh", "VRF.Np", "Nc")
#: Case labels of a select on an optional field.
PRESENCE_LABELS: tuple[str, ...] = ("absent", "present")
_BUILTINS = frozenset({*UINT_WIDTHS, "opaque", "optional"})


# --------------------------------------------------------------------------
# Syntax tree (what the grammar says, before names are resolved)
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Location:
    """Where a declaration or field is written (1-based line and column)."""

    source: str
    line: int
    column: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Fixed:
    """`[N]`: a fixed number of bytes, a literal or a cipher-suite constant."""

    size: int | str


@dataclass(frozen=True, slots=True)
class Bounds:
    """`<floor..ceiling>`: an element count (KEYTRANS §2.1.2)."""

    floor: int
    ceiling: int


@dataclass(frozen=True, slots=True)
class Field:
    """One field: ``type name[N];``, ``type name<lo..hi>;`` or ``optional<T> name;``."""

    name: str
    type_name: str
    optional: bool = False
    suffix: Fixed | Bounds | None = None
    loc: Location | None = dc_field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Case:
    """One ``case a, b: members`` of a select."""

    labels: tuple[str, ...]
    members: tuple[Field | Select, ...]


@dataclass(frozen=True, slots=True)
class Select:
    """``select (Struct.field) { case ...: ... };``."""

    struct: str
    field: str
    cases: tuple[Case, ...]
    loc: Location | None = dc_field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The discriminant as ``Struct.field``."""
        return f"{self.struct}.{self.field}"


@dataclass(frozen=True, slots=True)
class StructDecl:
    """``struct { members } Name;``."""

    name: str
    members: tuple[Field | Select, ...]
    loc: Location | None = dc_field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class EnumDecl:
    """``enum { a(1), ..., (max) } Name;``."""

    name: str
    values: tuple[tuple[str, int], ...]
    maximum: int
    loc: Location | None = dc_field(default=None, compare=False)

    @property
    def width(self) -> int:
        """Bytes per encoded value, fixed by the ``(max)`` entry."""
        return max(1, (self.maximum.bit_length() + 7) // 8)

    def value_of(self, label: str) -> int | None:
        """The value of ``label``, or None if the enum has no such name."""
        return next((v for n, v in self.values if n == label), None)


@dataclass(frozen=True, slots=True)
class AliasDecl:
    """A named type: ``opaque HashValue[Hash.Nh];``."""

    name: str
    target: Field
    loc: Location | None = dc_field(default=None, compare=False)


Declaration = StructDecl | EnumDecl | AliasDecl


@functools.cache
def parser() -> lark.Lark:
    """The LALR parser for CKV-PL, built from ``spec/grammar/tlspl.lark``."""
    return lark.Lark(
        resources.grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False
    )


def _int(token: lark.Token) -> int:
    value = int(str(token), 0)
    if value >= 2**64:
        msg = f"number {token} is too large (CKV-PL numbers are below 2^64)"
        raise ValueError(msg)
    return value


def _power(base: lark.Token, exponent: lark.Token) -> int:
    b, e = _int(base), _int(exponent)
    if b != 2 or e > 64:
        msg = f"bound {base}^{exponent}: only powers of two up to 2^64 are allowed"
        raise ValueError(msg)
    return int(2**e)


class _Builder(lark.Transformer[lark.Token, object]):
    def __init__(self, source: str) -> None:
        super().__init__()
        self._source = source

    def _loc(self, meta: lark.tree.Meta) -> Location | None:
        if getattr(meta, "empty", True):
            return None
        return Location(self._source, meta.line, meta.column, meta.start_pos, meta.end_pos)

    @lark.v_args(meta=True)
    def start(self, meta: lark.tree.Meta, items: list[Declaration]) -> list[Declaration]:
        del meta
        return items

    @lark.v_args(meta=True)
    def struct_decl(self, meta: lark.tree.Meta, items: list[object]) -> StructDecl:
        *members, name = items
        return StructDecl(str(name), tuple(members), self._loc(meta))  # type: ignore[arg-type]

    @lark.v_args(meta=True)
    def enum_decl(self, meta: lark.tree.Meta, items: list[object]) -> EnumDecl:
        *values, maximum, name = items
        return EnumDecl(str(name), tuple(values), _int(maximum), self._loc(meta))  # type: ignore[arg-type]

    def enum_value(self, items: list[lark.Token]) -> tuple[str, int]:
        return (str(items[0]), _int(items[1]))

    @lark.v_args(meta=True)
    def alias_decl(self, meta: lark.tree.Meta, items: list[Field]) -> AliasDecl:
        return AliasDecl(items[0].name, items[0], self._loc(meta))

    @lark.v_args(meta=True)
    def field(self, meta: lark.tree.Meta, items: list[object]) -> Field:
        type_ref, name, *rest = items
        assert isinstance(type_ref, tuple)
        type_name, optional = type_ref
        suffix = rest[0] if rest else None
        assert suffix is None or isinstance(suffix, Fixed | Bounds)
        return Field(str(name), str(type_name), bool(optional), suffix, self._loc(meta))

    def plain_type(self, items: list[lark.Token]) -> tuple[str, bool]:
        return (str(items[0]), False)

    def optional_type(self, items: list[lark.Token]) -> tuple[str, bool]:
        return (str(items[0]), True)

    def fixed_size(self, items: list[int | str]) -> Fixed:
        return Fixed(items[0])

    def vector_bounds(self, items: list[int]) -> Bounds:
        return Bounds(items[0], items[1])

    def literal_size(self, items: list[lark.Token]) -> int:
        return _int(items[0])

    def constant_size(self, items: list[lark.Token]) -> str:
        return ".".join(str(t) for t in items)

    def literal_bound(self, items: list[lark.Token]) -> int:
        return _int(items[0])

    def power_bound(self, items: list[lark.Token]) -> int:
        return _power(items[0], items[1])

    def power_minus_bound(self, items: list[lark.Token]) -> int:
        value = _power(items[0], items[1]) - _int(items[2])
        if value < 0:
            msg = f"bound {items[0]}^{items[1]}-{items[2]} is negative"
            raise ValueError(msg)
        return value

    @lark.v_args(meta=True)
    def select(self, meta: lark.tree.Meta, items: list[object]) -> Select:
        struct, fld, *cases = items
        return Select(str(struct), str(fld), tuple(cases), self._loc(meta))  # type: ignore[arg-type]

    def case(self, items: list[object]) -> Case:
        labels = tuple(x for x in items if isinstance(x, str))
        members = tuple(x for x in items if not isinstance(x, str))
        return Case(labels, members)  # type: ignore[arg-type]

    def case_label(self, items: list[lark.Token]) -> str:
        return str(items[0])


def parse_declarations(text: str, source: str = "<string>") -> list[Declaration]:
    """Parse CKV-PL text into declarations, without checking names or sizes."""
    try:
        tree = parser().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        line, column = exc.line, exc.column
        found = ""
        if isinstance(exc, lark.exceptions.UnexpectedToken):
            found = f"unexpected {exc.token!r}"
        elif isinstance(exc, lark.exceptions.UnexpectedCharacters):
            found = f"unexpected character {exc.char!r}"
        else:
            found = "unexpected end of input"
        raise SchemaError(
            f"syntax error: {found}",
            source=source,
            line=line if line > 0 else None,
            column=column if column > 0 else None,
        ) from None
    try:
        result = _Builder(source).transform(tree)
    except lark.exceptions.VisitError as exc:  # a number out of range, say
        meta = getattr(exc.obj, "meta", None)
        where = getattr(exc.obj, "line", None) or getattr(meta, "line", None)
        raise SchemaError(str(exc.orig_exc), source=source, line=where) from None
    assert isinstance(result, list)
    return result


# --------------------------------------------------------------------------
# Canonical printing (the inverse of parsing, used by the grammar tests and
# by anyone who wants a normalised listing)
# --------------------------------------------------------------------------


def _format_bound(value: int) -> str:
    if value >= 255 and (value + 1) & value == 0:
        return f"2^{(value + 1).bit_length() - 1}-1"
    return str(value)


def _format_field(f: Field) -> str:
    type_text = f"optional<{f.type_name}>" if f.optional else f.type_name
    suffix = ""
    if isinstance(f.suffix, Fixed):
        suffix = f"[{f.suffix.size}]"
    elif isinstance(f.suffix, Bounds):
        suffix = f"<{_format_bound(f.suffix.floor)}..{_format_bound(f.suffix.ceiling)}>"
    return f"{type_text} {f.name}{suffix};"


def _format_members(members: Iterable[Field | Select], indent: str) -> Iterator[str]:
    for m in members:
        if isinstance(m, Field):
            yield indent + _format_field(m)
            continue
        yield f"{indent}select ({m.struct}.{m.field}) {{"
        for case in m.cases:
            yield f"{indent}  case {', '.join(case.labels)}:"
            yield from _format_members(case.members, indent + "    ")
        yield f"{indent}}};"


def format_declarations(decls: Iterable[Declaration]) -> str:
    """Render declarations as canonical CKV-PL text; parsing it gives them back."""
    out: list[str] = []
    for d in decls:
        if isinstance(d, StructDecl):
            out.append("struct {")
            out.extend(_format_members(d.members, "  "))
            out.append(f"}} {d.name};")
        elif isinstance(d, EnumDecl):
            out.append("enum {")
            out.extend(f"  {n}({v})," for n, v in d.values)
            out.append(f"  ({d.maximum})")
            out.append(f"}} {d.name};")
        else:
            out.append(_format_field(d.target))
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------
# Resolved schema
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Schema:
    """Every declaration of the wire format, checked, keyed by name."""

    structs: Mapping[str, StructDecl]
    enums: Mapping[str, EnumDecl]
    aliases: Mapping[str, AliasDecl]
    #: Source file of each declaration, and its text exactly as written.
    sources: Mapping[str, tuple[str, str]]
    #: External select keys ("Configuration.mode", ...) and the field each names.
    context_keys: Mapping[str, Field]

    def struct_fields(self, name: str) -> list[Field]:
        """All fields of a struct in wire order, including those inside selects."""
        return list(walk_fields(self.structs[name].members))

    def context_needed(self, type_name: str) -> frozenset[str]:
        """The external select keys that decoding ``type_name`` may consult."""
        return _context_needed(self, type_name, frozenset())

    def resolve_alias(self, f: Field) -> Field:
        """Follow aliases until the field names a builtin, enum or struct."""
        seen: set[str] = set()
        while f.type_name in self.aliases and f.suffix is None:
            if f.type_name in seen:  # pragma: no cover - rejected by check()
                break
            seen.add(f.type_name)
            target = self.aliases[f.type_name].target
            f = Field(f.name, target.type_name, f.optional, target.suffix, f.loc)
        return f

    def static_depth(self, type_name: str) -> int:
        """How many structs deep the encoding of ``type_name`` can nest."""
        return _depth(self, type_name)


def walk_fields(members: Iterable[Field | Select]) -> Iterator[Field]:
    """Every field of ``members`` in wire order, descending into select cases."""
    for m in members:
        if isinstance(m, Field):
            yield m
        else:
            for case in m.cases:
                yield from walk_fields(case.members)


def _walk_selects(members: Iterable[Field | Select]) -> Iterator[Select]:
    for m in members:
        if isinstance(m, Select):
            yield m
            for case in m.cases:
                yield from _walk_selects(case.members)


def _referenced_types(schema: Schema, name: str) -> set[str]:
    out: set[str] = set()
    if name in schema.structs:
        for f in walk_fields(schema.structs[name].members):
            out.add(f.type_name)
    elif name in schema.aliases:
        out.add(schema.aliases[name].target.type_name)
    return out


def _depth(schema: Schema, name: str) -> int:
    memo: dict[str, int] = {}

    def go(n: str) -> int:
        if n in memo:
            return memo[n]
        inner = max((go(t) for t in _referenced_types(schema, n)), default=0)
        memo[n] = inner + (1 if n in schema.structs else 0)
        return memo[n]

    return go(name)


def _context_needed(schema: Schema, name: str, seen: frozenset[str]) -> frozenset[str]:
    if name in seen:
        return frozenset()
    out: set[str] = set()
    if name in schema.structs:
        for sel in _walk_selects(schema.structs[name].members):
            if sel.struct != name:
                out.add(sel.key)
    for t in _referenced_types(schema, name):
        out |= _context_needed(schema, t, seen | {name})
    return frozenset(out)


def _fail(message: str, loc: Location | None) -> SchemaError:
    if loc is None:
        return SchemaError(message)
    return SchemaError(message, source=loc.source, line=loc.line, column=loc.column)


class _Checker:
    """The semantic pass: names resolve, sizes make sense, nothing recurses."""

    def __init__(self, decls: list[Declaration]) -> None:
        self.decls = decls
        self.structs: dict[str, StructDecl] = {}
        self.enums: dict[str, EnumDecl] = {}
        self.aliases: dict[str, AliasDecl] = {}
        self.context_keys: dict[str, Field] = {}

    def run(self) -> None:
        for d in self.decls:
            if d.name in _BUILTINS:
                raise _fail(f"{d.name!r} is a built-in type and cannot be redeclared", d.loc)
            if d.name in self.structs or d.name in self.enums or d.name in self.aliases:
                raise _fail(f"{d.name!r} is declared twice", d.loc)
            if isinstance(d, StructDecl):
                self.structs[d.name] = d
            elif isinstance(d, EnumDecl):
                self.enums[d.name] = d
            else:
                self.aliases[d.name] = d
        for e in self.enums.values():
            self._check_enum(e)
        for a in self.aliases.values():
            if a.target.optional:
                raise _fail(f"alias {a.name!r} cannot be optional", a.loc)
            self._check_field(a.target, alias=True)
        for s in self.structs.values():
            self._check_struct(s)
        self._check_acyclic()

    def _check_enum(self, e: EnumDecl) -> None:
        if e.maximum <= 0 or e.maximum >= 2**64:
            raise _fail(f"enum {e.name}: maximum {e.maximum} must be in 1..2^64-1", e.loc)
        names: set[str] = set()
        values: set[int] = set()
        for n, v in e.values:
            if n in names:
                raise _fail(f"enum {e.name}: {n!r} is listed twice", e.loc)
            if v in values:
                raise _fail(f"enum {e.name}: value {v} is listed twice", e.loc)
            if v > e.maximum:
                raise _fail(f"enum {e.name}: {n}({v}) exceeds the maximum ({e.maximum})", e.loc)
            if n in PRESENCE_LABELS:
                raise _fail(f"enum {e.name}: {n!r} is reserved for optional selects", e.loc)
            names.add(n)
            values.add(v)

    def _known(self, name: str) -> bool:
        return any(name in table for table in (_BUILTINS, self.structs, self.enums, self.aliases))

    def _check_field(self, f: Field, *, alias: bool = False) -> None:
        what = f"alias {f.name}" if alias else f"field {f.name}"
        if f.type_name == "optional" or not self._known(f.type_name):
            raise _fail(f"{what}: unknown type {f.type_name!r}", f.loc)
        if f.optional and f.suffix is not None:
            raise _fail(f"{what}: an optional<> field cannot also be a vector or array", f.loc)
        if isinstance(f.suffix, Fixed):
            if f.type_name != "opaque":
                raise _fail(f"{what}: fixed-size arrays are only supported for opaque", f.loc)
            size = f.suffix.size
            if isinstance(size, str) and size not in CONSTANTS:
                raise _fail(
                    f"{what}: unknown constant {size!r} (known: {', '.join(CONSTANTS)})", f.loc
                )
            if isinstance(size, int) and not 0 < size < 2**32:
                raise _fail(f"{what}: fixed size {size} must be in 1..2^32-1", f.loc)
        elif isinstance(f.suffix, Bounds):
            lo, hi = f.suffix.floor, f.suffix.ceiling
            if not 0 <= lo <= hi or hi == 0 or hi >= 2**64:
                raise _fail(
                    f"{what}: bounds <{lo}..{hi}> need 0 <= floor <= ceiling, 0 < ceiling < 2^64",
                    f.loc,
                )
            if (
                f.type_name in self.aliases
                and self.aliases[f.type_name].target.suffix is not None
                and isinstance(self.aliases[f.type_name].target.suffix, Bounds)
            ):
                raise _fail(f"{what}: vectors of vectors are not supported", f.loc)
        elif f.type_name == "opaque":
            raise _fail(f"{what}: opaque needs a size, [N] or <floor..ceiling>", f.loc)

    def _check_struct(self, s: StructDecl) -> None:
        names: set[str] = set()
        for f in walk_fields(s.members):
            if f.name in names:
                raise _fail(f"struct {s.name}: field {f.name!r} is declared twice", f.loc)
            names.add(f.name)
            self._check_field(f)
        self._check_selects(s, s.members, [])

    def _check_selects(
        self, s: StructDecl, members: tuple[Field | Select, ...], earlier: list[Field]
    ) -> None:
        earlier = list(earlier)
        for m in members:
            if isinstance(m, Field):
                earlier.append(m)
                continue
            discriminant = self._discriminant(s, m, earlier)
            if discriminant.optional:
                allowed: tuple[str, ...] = PRESENCE_LABELS
            else:
                enum = self.enums[self._resolve(discriminant).type_name]
                allowed = tuple(n for n, _ in enum.values)
            seen: set[str] = set()
            for case in m.cases:
                for label in case.labels:
                    if label not in allowed:
                        raise _fail(
                            f"struct {s.name}: select ({m.key}) has case {label!r}, "
                            f"which is not one of: {', '.join(allowed)}",
                            m.loc,
                        )
                    if label in seen:
                        raise _fail(
                            f"struct {s.name}: select ({m.key}) lists case {label!r} twice", m.loc
                        )
                    seen.add(label)
                self._check_selects(s, case.members, earlier)
                earlier.extend(walk_fields(case.members))

    def _resolve(self, f: Field) -> Field:
        while f.type_name in self.aliases and f.suffix is None:
            t = self.aliases[f.type_name].target
            f = Field(f.name, t.type_name, f.optional, t.suffix, f.loc)
        return f

    def _discriminant(self, s: StructDecl, sel: Select, earlier: list[Field]) -> Field:
        if sel.struct == s.name:
            found = next((f for f in earlier if f.name == sel.field), None)
            if found is None:
                raise _fail(
                    f"struct {s.name}: select ({sel.key}) must name a field declared before it",
                    sel.loc,
                )
        else:
            other = self.structs.get(sel.struct)
            if other is None:
                raise _fail(
                    f"struct {s.name}: select ({sel.key}) names unknown struct {sel.struct!r}",
                    sel.loc,
                )
            found = next(
                (f for f in other.members if isinstance(f, Field) and f.name == sel.field), None
            )
            if found is None:
                raise _fail(
                    f"struct {s.name}: select ({sel.key}): {sel.struct} has no top-level "
                    f"field {sel.field!r}",
                    sel.loc,
                )
            self.context_keys[sel.key] = found
        resolved = self._resolve(found)
        if not found.optional and (resolved.type_name not in self.enums or resolved.suffix):
            raise _fail(
                f"struct {s.name}: select ({sel.key}) must switch on an enum or an optional field",
                sel.loc,
            )
        return found

    def _check_acyclic(self) -> None:
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*trail[trail.index(name) :], name])
                decl = self.structs.get(name) or self.aliases.get(name)
                raise _fail(
                    f"recursive type: {cycle} (CKV-PL types must not recurse)",
                    decl.loc if decl else None,
                )
            state[name] = 1
            refs: set[str] = set()
            if name in self.structs:
                refs = {f.type_name for f in walk_fields(self.structs[name].members)}
            elif name in self.aliases:
                refs = {self.aliases[name].target.type_name}
            for r in sorted(refs):
                visit(r, [*trail, name])
            state[name] = 2

        for n in [*self.structs, *self.aliases]:
            visit(n, [])


def build_schema(files: Iterable[tuple[str, str]]) -> Schema:
    """Parse and check ``(source name, text)`` pairs as one schema."""
    decls: list[Declaration] = []
    sources: dict[str, tuple[str, str]] = {}
    for source, text in files:
        for d in parse_declarations(text, source):
            decls.append(d)
            if d.loc is not None:
                sources[d.name] = (source, text[d.loc.start : d.loc.end])
    checker = _Checker(decls)
    checker.run()
    return Schema(
        structs=checker.structs,
        enums=checker.enums,
        aliases=checker.aliases,
        sources=sources,
        context_keys=checker.context_keys,
    )


@functools.cache
def load_schema() -> Schema:
    """The CKV wire schema: every `.tls` file under ``spec/wire/``, in name order."""
    return build_schema(
        (f"spec/wire/{p.name}", p.read_text(encoding="utf-8"))
        for p in sorted(resources.wire_files(), key=lambda p: p.name)
    )


def wire_file_paths() -> list[Path]:
    return sorted(resources.wire_files(), key=lambda p: p.name)
