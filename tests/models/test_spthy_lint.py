"""The .spthy linter and the pins: the shipped models are clean, and every check bites."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ckv.prove import pins, spthy

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models" / "tamarin"
NAMES = ["directory", "monitoring", "enrollment", "in_person_code", "public_code"]

SMALL = """
theory Small
begin
builtins: hashing

restriction Neq: "All x y #i. Neq(x, y) @ #i ==> not (x = y)"

rule Make:
  [ Fr(~k) ] --[ Made(~k), Neq(~k, 'a') ]-> [ !Key(~k), Out(h(~k)) ]

rule Use:
  [ !Key(k) ] --[ Used(k) ]-> [ ]

#ifdef LEAK
rule Leak:
  [ !Key(k) ] --[ Leaked(k) ]-> [ Out(k) ]
#endif

lemma exec_used:
  exists-trace
  "Ex k #i. Used(k) @ #i"

lemma secret:
  "All k #i #j. Used(k) @ #i & K(k) @ #j ==> F"

end
"""


def findings(text: str, flag_sets: list[frozenset[str]] | None = None) -> list[str]:
    return [f"[{f.check}] {f.message}" for f in spthy.lint(spthy.parse(text), flag_sets)]


# ---- the shipped models ------------------------------------------------------


@pytest.mark.req("FORMAL-001", "FORMAL-004", "FORMAL-010")
@pytest.mark.parametrize("name", NAMES)
def test_models_parse_and_lint_clean(name: str) -> None:
    theory = spthy.parse_file(MODELS / f"{name}.spthy")
    assert theory.lemmas
    assert any(lemma.quantifier == "exists-trace" for lemma in theory.lemmas)
    assert spthy.lint(theory) == []


@pytest.mark.req("FORMAL-001", "FORMAL-002", "FORMAL-005", "FORMAL-008")
def test_pins_match_models() -> None:
    pinset = pins.load(MODELS / "expected.toml")
    assert pins.check(pinset) == []
    assert set(pinset.models) == set(NAMES)
    for name in NAMES:
        # Every model has at least one weakening flag, and every flag set is pinned.
        assert pinset.models[name].flags
        assert len(pinset.flag_sets(name)) == 1 + len(pinset.models[name].flags)


@pytest.mark.req("FORMAL-007")
def test_budgets() -> None:
    pinset = pins.load(MODELS / "expected.toml")
    assert all(0 < p.budget_s <= 600 for p in pinset.pins)
    assert sum(p.budget_s for p in pinset.pins) <= 1800


def test_grammar_is_the_spec_file() -> None:
    assert spthy.grammar_path() == REPO / "spec" / "grammar" / "spthy.lark"


# ---- the checks bite -----------------------------------------------------------


def test_small_theory_is_clean() -> None:
    assert findings(SMALL) == []
    theory = spthy.parse(SMALL)
    assert theory.flags == {"LEAK"}
    assert [r.name for r in theory.rules if r.condition.holds(frozenset())] == ["Make", "Use"]
    assert len([r for r in theory.rules if r.condition.holds(frozenset({"LEAK"}))]) == 3
    secret = theory.lemma("secret", frozenset())
    assert secret is not None
    assert (secret.quantifier, secret.guard, secret.security) == ("all-traces", "Used", True)


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(spthy.SpthyError, match=r"<model>:9:"):
        spthy.parse(SMALL.replace("[ Fr(~k) ]", "[ Fr(~k ]"))


def test_formula_syntax_error() -> None:
    with pytest.raises(spthy.SpthyError, match="formula does not parse"):
        spthy.parse(SMALL.replace('"Ex k #i. Used(k) @ #i"', '"Ex k #i. Used(k) @"'))


def test_lemma_needs_quoted_formula() -> None:
    with pytest.raises(spthy.SpthyError):
        spthy.parse(SMALL.replace('"Ex k #i. Used(k) @ #i"', "Ex k #i. Used(k) @ #i"))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("Used(k) @ #i & K(k)", "Used(k, k) @ #i & K(k)", "[arity] fact Used has 2"),
        ("--[ Used(k) ]->", "--[ Key(k) ]->", "[persistence] fact Key"),
        ("--[ Used(k) ]->", "--[ Used(k), USED(k) ]->", "differs only in case from Used"),
        ("--[ Used(k) ]->", "--[ Used(k), Out(k) ]->", "[reserved] Out cannot be used as action"),
        ("[ !Key(k) ] --[ Used(k) ]->", "[ Key(k) ] --[ Used(k) ]->", "[persistence]"),
        ("Out(h(~k))", "Out(h(~k), ~k)", "[arity] Out takes 1"),
        ('"Ex k #i. Used(k) @ #i"', '"Ex k #i. Made(k) @ #i"', "[sibling] security lemma secret"),
        ("Used(k) @ #i & K(k)", "Gone(k) @ #i & K(k)", "[emitted] lemma secret names action Gone"),
        ("[ !Key(k) ] --[ Used(k) ]->", "[ !Lock(k) ] --[ Used(k) ]->", "[produced]"),
        (
            "builtins: hashing",
            'builtins: hashing\nlemma exec_used:\n  exists-trace "T"',
            "[unique]",
        ),
        ('"Ex k #i. Used(k) @ #i"', '"Ex k x #i. Used(k) @ #i & x = k"', "[guarded] exec_used: Ex"),
        ("==> F", "==> Ex x. x = k", "[guarded] secret: Ex binds x"),
        ("[ !Key(k) ] --[ Used(k) ]->", "[ !Key(k) ] --[ Used(K) ]->", "[variables] rule Use"),
        ("[ Fr(~k) ] --[ Made(~k)", "[ Fr(~k) ] --[ Made(k)", "variable written k and ~k"),
    ],
)
def test_check_bites(old: str, new: str, expected: str) -> None:
    assert old in SMALL
    got = findings(SMALL.replace(old, new))
    assert any(expected in f for f in got), got


@pytest.mark.req("FORMAL-004")
def test_sibling_must_be_active_under_the_same_flags() -> None:
    text = SMALL.replace(
        'lemma exec_used:\n  exists-trace\n  "Ex k #i. Used(k) @ #i"',
        '#ifdef LEAK\nlemma exec_used:\n  exists-trace\n  "Ex k #i. Used(k) @ #i"\n#endif',
    )
    got = findings(text)
    assert any("[sibling]" in f and "(no flags)" in f for f in got), got


@pytest.mark.req("FORMAL-004")
def test_action_only_under_a_flag() -> None:
    text = SMALL.replace('"Ex k #i. Used(k) @ #i"', '"Ex k #i. Used(k) @ #i & Leaked(k) @ #i"')
    got = findings(text)
    assert any("[emitted]" in f and "Leaked" in f and "(no flags)" in f for f in got), got


@pytest.mark.req("FORMAL-010")
@pytest.mark.parametrize(
    "escape",
    [
        'lemma secret [heuristic=O]:\n  "All',
        'lemma secret [hide_lemma=sorry]:\n  "All',
    ],
)
def test_no_escapes(escape: str) -> None:
    got = findings(SMALL.replace('lemma secret:\n  "All', escape))
    assert any("[escape]" in f for f in got), got


def test_escape_words_in_comments_are_fine() -> None:
    assert findings(SMALL.replace("begin", "begin\n// an oracle, sorry, would be wrong")) == []


@pytest.mark.req("FORMAL-010")
def test_global_heuristic_is_outside_the_subset() -> None:
    with pytest.raises(spthy.SpthyError):
        spthy.parse(SMALL.replace("builtins: hashing", 'heuristic: o "./oracle.py"'))


def test_define_is_refused() -> None:
    with pytest.raises(spthy.SpthyError, match="#define"):
        spthy.parse(SMALL.replace("builtins: hashing", "#define LEAK\nbuiltins: hashing"))


def test_flag_expressions_have_no_parentheses() -> None:
    with pytest.raises(spthy.SpthyError):
        spthy.parse(SMALL.replace("#ifdef LEAK", "#ifdef (LEAK | ALL)"))


def test_flag_expressions() -> None:
    text = SMALL.replace("#ifdef LEAK", "#ifdef LEAK & not SAFE | ALL")
    theory = spthy.parse(text)
    leak = next(r for r in theory.rules if r.name == "Leak")
    assert leak.condition.holds(frozenset({"LEAK"}))
    assert not leak.condition.holds(frozenset({"LEAK", "SAFE"}))
    assert leak.condition.holds(frozenset({"ALL", "SAFE"}))
    assert theory.flags == {"LEAK", "SAFE", "ALL"}


# ---- the pins bite -------------------------------------------------------------


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    target = tmp_path / "tamarin"
    shutil.copytree(MODELS, target, ignore=shutil.ignore_patterns("*.md"))
    return target


@pytest.mark.req("FORMAL-002", "FORMAL-003")
def test_weakened_lemma_fails_until_rehashed(model_copy: Path) -> None:
    path = model_copy / "public_code.spthy"
    text = path.read_text()
    weakened = text.replace(
        '"All v aid k #i. CodeMatches(v, aid, k) @ #i\n'
        '     ==> Ex #j. AccountKey(aid, k) @ #j & #j < #i"',
        '"All v aid k #i. CodeMatches(v, aid, k) @ #i ==> T"',
    )
    assert weakened != text
    path.write_text(weakened)
    pinset = pins.load(model_copy / "expected.toml")
    problems = pins.check(pinset)
    assert any("public_code_binds_account_key changed without its pin" in p for p in problems)
    assert any("public_code.spthy changed since it was pinned" in p for p in problems)
    rehashed = pins.rehash(pinset)
    assert pins.check(rehashed) == []


def test_whitespace_and_comments_do_not_change_a_lemma_hash() -> None:
    theory = spthy.parse(SMALL)
    spaced = spthy.parse(
        SMALL.replace('"All k #i #j.', '/* why */ "All  k #i #j.').replace("==> F", "==>\n F")
    )
    assert theory.lemma("secret", frozenset()) is not None
    assert (
        theory.lemma("secret", frozenset()).sha256  # type: ignore[union-attr]
        == spaced.lemma("secret", frozenset()).sha256  # type: ignore[union-attr]
    )


@pytest.mark.req("FORMAL-001", "FORMAL-005", "FORMAL-008")
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('lemma = "exec_two_epochs"', 'lemma = "exec_three_epochs"', "has no pin"),
        ('quantifier = "exists-trace"', 'quantifier = "all-traces"', "pinned all-traces"),
        ("flags.NO_AUDITOR", "flags.NO_AUDITORS", "are used but not declared"),
        ('expected = "falsified"', 'expected = "verified"', "must falsify a security lemma"),
        ("total_s = 1800", "total_s = 100", "over the total"),
    ],
)
def test_pin_checks_bite(model_copy: Path, old: str, new: str, expected: str) -> None:
    path = model_copy / "expected.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    problems = pins.check(pins.load(path))
    assert any(expected in p for p in problems), problems


def test_helper_must_be_expected_verified(model_copy: Path) -> None:
    path = model_copy / "expected.toml"
    text = path.read_text()
    marker = (
        'lemma = "auditor_signs_once_per_epoch"\nquantifier = "all-traces"\nexpected = "verified"'
    )
    assert marker in text
    path.write_text(text.replace(marker, marker.replace("verified", "falsified"), 1))
    problems = pins.check(pins.load(path))
    assert any("helper lemma auditor_signs_once_per_epoch" in p for p in problems), problems
