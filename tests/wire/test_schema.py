"""The grammar and the semantic checks of spec/wire definitions."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from ckv.errors import SchemaError
from ckv.wire import resources
from ckv.wire.schema import (
    build_schema,
    format_declarations,
    load_schema,
    parse_declarations,
    parser,
)

SCHEMA = load_schema()


def test_every_keytrans_struct_is_defined() -> None:
    """The structures of KEYTRANS §10.2 and §11-§15 at 526cc8a, by name."""
    expected = {
        "TreeHead",
        "Configuration",
        "TreeHeadTBS",
        "AuditorTreeHead",
        "AuditorTreeHeadTBS",
        "FullTreeHead",
        "UpdateSuffix",
        "UpdateValue",
        "UpdateTBS",
        "CommitmentValue",
        "VrfInput",
        "LogEntry",
        "InclusionProof",
        "PrefixLeaf",
        "PrefixSearchResult",
        "PrefixProof",
        "CombinedTreeProof",
        "SearchRequest",
        "BinaryLadderStep",
        "SearchResponse",
        "MonitorMapEntry",
        "ContactMonitorRequest",
        "ContactMonitorResponse",
        "OwnerInitRequest",
        "OwnerInitResponse",
        "OwnerMonitorRequest",
        "OwnerMonitorResponse",
        "LabelValue",
        "UpdateRequest",
        "UpdateInfo",
        "UpdateResponse",
        "DistinguishedRequest",
        "DistinguishedResponse",
        "DistinguishedHead",
        "Credential",
        "CredentialUpdate",
        "ManagerUpdateRequest",
        "AuditorUpdate",
    }
    assert expected <= set(SCHEMA.structs)
    assert {
        "CipherSuite",
        "DeploymentMode",
        "FullTreeHeadType",
        "PrefixSearchResultType",
        "CredentialType",
    } <= set(SCHEMA.enums)
    assert set(SCHEMA.aliases) == {"HashValue"}


def test_context_keys() -> None:
    assert set(SCHEMA.context_keys) == {"Configuration.mode", "SearchRequest.version"}
    assert SCHEMA.context_needed("SearchResponse") == {
        "Configuration.mode",
        "SearchRequest.version",
    }
    assert SCHEMA.context_needed("SearchRequest") == frozenset()
    assert SCHEMA.context_needed("Configuration") == frozenset()


def test_static_depth() -> None:
    assert SCHEMA.static_depth("SearchRequest") == 1
    assert SCHEMA.static_depth("SearchResponse") == 5


def test_listings_are_the_source_text() -> None:
    source, text = SCHEMA.sources["InclusionProof"]
    assert source == "spec/wire/tree-proofs.tls"
    assert text.startswith("struct {")
    assert text.endswith("} InclusionProof;")
    assert text in (resources.spec_root() / "wire" / "tree-proofs.tls").read_text()


def test_canonical_printing_round_trips_the_real_schema() -> None:
    for path in resources.wire_files():
        decls = parse_declarations(path.read_text(), path.name)
        again = parse_declarations(format_declarations(decls))
        assert again == decls


BAD = [
    ("struct { uint8 a; } X; struct { uint8 b; } X;", "declared twice"),
    ("struct { uint8 uint8; } uint16;", "built-in type"),
    ("struct { Nope a; } X;", "unknown type 'Nope'"),
    ("struct { opaque a; } X;", "opaque needs a size"),
    ("struct { uint8 a[4]; } X;", "only supported for opaque"),
    ("struct { opaque a[Foo.Nh]; } X;", "unknown constant"),
    ("struct { opaque a[0]; } X;", "fixed size 0"),
    ("struct { opaque a<5..2>; } X;", "bounds <5..2>"),
    ("struct { opaque a<0..0>; } X;", "bounds <0..0>"),
    ("struct { optional<uint8> a<0..3>; } X;", "optional<> field cannot"),
    ("struct { uint8 a; uint16 a; } X;", "declared twice"),
    ("enum { a(1), a(2), (255) } E;", "listed twice"),
    ("enum { a(1), b(1), (255) } E;", "value 1 is listed twice"),
    ("enum { a(300), (255) } E;", "exceeds the maximum"),
    ("enum { absent(1), (255) } E;", "reserved for optional"),
    ("struct { X x; } Y; struct { Y y; } X;", "recursive type"),
    ("struct { X x<0..3>; } X;", "recursive type"),
    ("struct { select (X.k) { case a: uint8 v; }; uint8 k; } X;", "declared before it"),
    (
        "enum { a(1), (255) } E; struct { E k; select (X.k) { case b: uint8 v; }; } X;",
        "not one of: a",
    ),
    (
        (
            "enum { a(1), (255) } E; struct { E k; select (X.k) { case a: uint8 v; case a: "
            "uint8 w; }; } X;"
        ),
        "twice",
    ),
    ("struct { uint8 k; select (X.k) { case a: uint8 v; }; } X;", "enum or an optional"),
    ("struct { select (Nope.k) { case a: uint8 v; }; } X;", "unknown struct"),
    (
        "struct { uint8 a; } Y; struct { select (Y.k) { case a: uint8 v; }; } X;",
        "no top-level field",
    ),
    (
        "opaque H[4]; struct { H h<0..3>; } X; opaque V<0..3>; struct { V v<0..2>; } W;",
        "vectors of vectors",
    ),
    ("struct { uint8 a } X;", "syntax error"),
    ("struct { uint8 a; } X", "syntax error"),
    ("strukt { uint8 a; } X;", "syntax error"),
    ("struct { uint8 a; } X; $", "syntax error"),
    ("struct { opaque a<0..14^3752>; } X;", "only powers of two"),
    ("struct { opaque a<0..2^65>; } X;", "only powers of two"),
    ("struct { opaque a<0..2^0-2>; } X;", "is negative"),
    ("struct { opaque a<0..99999999999999999999999>; } X;", "too large"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_definitions_are_rejected_with_a_located_message(text: str, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        build_schema([("bad.tls", text)])
    assert message in str(info.value)
    assert str(info.value).startswith("bad.tls")


def test_syntax_errors_give_line_and_column() -> None:
    with pytest.raises(SchemaError, match=r"^bad\.tls:3:11: syntax error"):
        build_schema([("bad.tls", "// comment\nstruct {\n  uint8 a b;\n} X;\n")])


def test_the_grammar_is_lalr_without_conflicts() -> None:
    # lark raises GrammarError at construction on any LALR conflict.
    assert parser().options.parser == "lalr"


# Hypothesis draws CKV-PL texts from the grammar itself. Whatever it draws must
# parse; the semantic pass then either accepts it or raises SchemaError (never
# anything else); and canonical printing must round-trip what parsed. from_lark
# concatenates tokens without the ignored whitespace, so names, keywords and
# numbers carry a trailing space to stay separate tokens.
_KEYWORDS = {"struct", "enum", "select", "case", "optional"}
_TEXTS = from_lark(
    parser(),
    explicit={
        "NAME": st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,6}", fullmatch=True)
        .filter(lambda s: s not in _KEYWORDS)
        .map(lambda s: s + " "),
        "INT": (st.integers(0, 70000).map(str) | st.integers(1, 99).map(hex)).map(
            lambda s: s + " "
        ),
        **{kw.upper(): st.just(kw + " ") for kw in _KEYWORDS},
        "LINE_COMMENT": st.just("// c\n"),
        "BLOCK_COMMENT": st.just("/* c */"),
        "WS": st.sampled_from([" ", "\n", "  "]),
    },
)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=_TEXTS)
def test_generated_texts_parse_check_and_reprint(text: str) -> None:
    try:
        decls = parse_declarations(text, "gen.tls")
    except SchemaError as exc:  # grammatical, but a number is out of range
        assert "syntax error" not in str(exc)
        assert "2^64" in str(exc) or "negative" in str(exc)
        return
    assert parse_declarations(format_declarations(decls)) == decls
    try:
        schema = build_schema([("gen.tls", text)])
    except SchemaError as exc:
        assert str(exc).startswith("gen.tls")
        return
    for name in schema.structs:
        assert schema.static_depth(name) >= 1
