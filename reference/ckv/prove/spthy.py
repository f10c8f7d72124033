"""Parse and lint CKV's Tamarin models (``.spthy``) without Tamarin.

The grammar is ``spec/grammar/spthy.lark``: the subset of Tamarin's theory
language the models use (our own, written from the language's documentation;
the available parsers are GPL-licensed). The linter checks what a prover run
would only reveal late, or not at all:

* the file parses, and so does every lemma and restriction formula;
* every lemma has a name and a quoted formula, and names are unique under
  every flag set;
* no escape hatch: no ``sorry``, no oracle, no global heuristic;
* every fact keeps one arity and one kind (linear or persistent) everywhere;
* under every flag set, every consumed fact is produced somewhere, and every
  action a formula names is emitted by some rule (Tamarin's wellformedness
  checks would warn otherwise);
* every security (all-traces) lemma that is not a proof helper has an
  exists-trace sibling, active under the same flags, that names the action its
  premise starts with, so the premise is shown to be reachable;
* the flags the model tests with ``#ifdef`` are the flags the pins declare
  (checked by :mod:`ckv.prove.pins`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from ckv.errors import UsageError

__all__ = [
    "BUILTIN_CONSTANTS",
    "BUILTIN_FACTS",
    "Fact",
    "Finding",
    "Lemma",
    "Restriction",
    "Rule",
    "SpthyError",
    "Theory",
    "flag_sets_of",
    "grammar_path",
    "lint",
    "normalize",
    "parse",
    "parse_file",
]

#: Facts Tamarin defines itself, with their arity.
BUILTIN_FACTS = {"Fr": 1, "In": 1, "Out": 1, "K": 1}
#: Nullary function symbols of the builtins, written like variables.
BUILTIN_CONSTANTS = frozenset({"true"})
_HELPER_ATTRIBUTES = frozenset({"reuse", "sources"})
_ESCAPES = re.compile(r"\bsorry\b|\boracle\w*|\bheuristic\s*[:=]|\bSOLVED\b|\btactic\s*:")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


class SpthyError(UsageError):
    """A model that does not parse as the subset of ``spec/grammar/spthy.lark``."""


@dataclass(frozen=True, slots=True)
class Condition:
    """The ``#ifdef`` branches an item sits in: (flag expression, branch taken)."""

    branches: tuple[tuple[Tree[Token] | Token, bool], ...] = ()

    def holds(self, flags: frozenset[str]) -> bool:
        """Whether the item is part of the theory when exactly ``flags`` are defined."""
        return all(_eval_flags(expr, flags) == taken for expr, taken in self.branches)

    def nested(self, expr: Tree[Token] | Token, *, taken: bool) -> Condition:
        """The condition of an item inside one more branch."""
        return Condition((*self.branches, (expr, taken)))


@dataclass(frozen=True, slots=True)
class Fact:
    """One use of a fact: in a rule (premise, action, conclusion) or a formula."""

    name: str
    arity: int
    persistent: bool
    line: int


@dataclass(frozen=True, slots=True)
class Rule:
    """A multiset rewriting rule."""

    name: str
    line: int
    condition: Condition
    premises: tuple[Fact, ...]
    actions: tuple[Fact, ...]
    conclusions: tuple[Fact, ...]
    clashes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Restriction:
    """A restriction and the actions its formula names."""

    name: str
    line: int
    condition: Condition
    formula: str
    actions: tuple[Fact, ...]
    unguarded: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lemma:
    """A lemma: name, attributes, trace quantifier, formula and its digest."""

    name: str
    line: int
    condition: Condition
    quantifier: str
    attributes: tuple[str, ...]
    formula: str
    actions: tuple[Fact, ...]
    guard: str | None
    sha256: str
    unguarded: tuple[str, ...] = ()

    @property
    def helper(self) -> bool:
        """A proof helper (``[reuse]`` or ``[sources]``): other lemmas may assume it."""
        return any(a.split("=")[0] in _HELPER_ATTRIBUTES for a in self.attributes)

    @property
    def security(self) -> bool:
        """An all-traces lemma that states a property (not a helper)."""
        return self.quantifier == "all-traces" and not self.helper


@dataclass(frozen=True, slots=True)
class Theory:
    """A parsed model."""

    name: str
    path: Path | None
    rules: tuple[Rule, ...]
    restrictions: tuple[Restriction, ...]
    lemmas: tuple[Lemma, ...]
    flags: frozenset[str]
    sha256: str
    escapes: tuple[tuple[int, str], ...] = field(default=())

    def active_lemmas(self, flags: frozenset[str]) -> list[Lemma]:
        """The lemmas of the theory when ``flags`` are defined, in file order."""
        return [lemma for lemma in self.lemmas if lemma.condition.holds(flags)]

    def lemma(self, name: str, flags: frozenset[str]) -> Lemma | None:
        """The lemma called ``name`` under ``flags``, if there is one."""
        for lemma in self.active_lemmas(flags):
            if lemma.name == name:
                return lemma
        return None


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint result: where, which check, what."""

    path: str
    line: int
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.check}] {self.message}"


def grammar_path() -> Path:
    """``spec/grammar/spthy.lark`` in a checkout, or its copy in an installed package."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parents[3] / "spec" / "grammar" / "spthy.lark",
        here.parents[1] / "_spec" / "grammar" / "spthy.lark",
    ):
        if candidate.is_file():
            return candidate
    msg = "spec/grammar/spthy.lark not found"
    raise UsageError(msg)


@cache
def _parser() -> Lark:
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        start=["start", "formula"],
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
    )


def parse_file(path: Path) -> Theory:
    """Parse a model file; raises :class:`SpthyError` with the position on failure."""
    return parse(path.read_text(encoding="utf-8"), path=path)


def parse(text: str, *, path: Path | None = None) -> Theory:
    """Parse the text of a model."""
    where = str(path) if path else "<model>"
    try:
        tree = _parser().parse(text, start="start")
    except UnexpectedInput as exc:
        msg = f"{where}:{exc.line}:{exc.column}: not in the CKV subset of spthy: "
        msg += str(exc).splitlines()[0]
        raise SpthyError(msg) from None
    except LarkError as exc:  # pragma: no cover - lexer errors are UnexpectedInput
        raise SpthyError(f"{where}: {exc}") from None
    builder = _Builder(text, where)
    name = str(tree.children[0])
    for item in tree.children[1:]:
        if isinstance(item, Tree):
            builder.item(item, Condition())
    return Theory(
        name=name,
        path=path,
        rules=tuple(builder.rules),
        restrictions=tuple(builder.restrictions),
        lemmas=tuple(builder.lemmas),
        flags=frozenset(builder.flags),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        escapes=tuple(_escapes(text)),
    )


def _escapes(text: str) -> Iterator[tuple[int, str]]:
    # Comments may mention an oracle; code may not. Blank comments out, keeping lines.
    code = _COMMENTS.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for match in _ESCAPES.finditer(code):
        yield code.count("\n", 0, match.start()) + 1, match.group(0)


def _eval_flags(expr: Tree[Token] | Token, flags: frozenset[str]) -> bool:
    if isinstance(expr, Token):
        return str(expr) in flags
    match expr.data:
        case "flag":
            return str(expr.children[0]) in flags
        case "flag_not":
            return not _eval_flags(expr.children[0], flags)
        case "flag_and":
            return all(_eval_flags(c, flags) for c in expr.children)
        case "flag_or":
            return any(_eval_flags(c, flags) for c in expr.children)
    msg = f"unknown flag expression {expr.data}"  # pragma: no cover - grammar has no other
    raise SpthyError(msg)  # pragma: no cover


def _flag_names(expr: Tree[Token] | Token) -> Iterator[str]:
    if isinstance(expr, Token):
        yield str(expr)
        return
    for child in expr.children:
        yield from _flag_names(child)


def normalize(text: str) -> str:
    """A lemma's text with comments removed and whitespace collapsed (what is hashed)."""
    return " ".join(_COMMENTS.sub(" ", text).split())


class _Builder:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.rules: list[Rule] = []
        self.restrictions: list[Restriction] = []
        self.lemmas: list[Lemma] = []
        self.flags: set[str] = set()

    def item(self, item: Tree[Token], cond: Condition) -> None:
        match item.data:
            case "rule":
                self.rule(item, cond)
            case "lemma":
                self.lemma(item, cond)
            case "restriction":
                name, formula = item.children
                actions, _, unguarded = self.formula(str(formula), _line(item))
                self.restrictions.append(
                    Restriction(
                        str(name), _line(item), cond, str(formula)[1:-1], actions, unguarded
                    )
                )
            case "ifdef":
                expr, *rest = item.children
                self.flags.update(_flag_names(expr))
                for child in rest:
                    if not isinstance(child, Tree):
                        continue
                    if child.data == "else_branch":
                        for sub in child.children:
                            if isinstance(sub, Tree):
                                self.item(sub, cond.nested(expr, taken=False))
                    else:
                        self.item(child, cond.nested(expr, taken=True))
            case "define":
                msg = f"{self.where}:{_line(item)}: #define is not used by CKV models (use -D)"
                raise SpthyError(msg)
            case _:
                pass  # builtins, functions, equations: nothing to check beyond parsing

    def rule(self, item: Tree[Token], cond: Condition) -> None:
        name = str(item.children[0])
        parts = [c for c in item.children[1:] if isinstance(c, Tree) and c.data != "let_block"]
        premises, arrow, conclusions = parts
        actions = _facts(arrow) if arrow.data == "action_arrow" else ()
        self.rules.append(
            Rule(
                name,
                _line(item),
                cond,
                _facts(premises),
                actions,
                _facts(conclusions),
                tuple(_variable_clashes(item)),
            )
        )

    def lemma(self, item: Tree[Token], cond: Condition) -> None:
        name = str(item.children[0])
        attributes: tuple[str, ...] = ()
        quantifier = "all-traces"
        formula = ""
        for child in item.children[1:]:
            if isinstance(child, Tree) and child.data == "lemma_attrs":
                attributes = tuple(
                    "=".join(str(t) for t in attr.children)
                    for attr in child.children
                    if isinstance(attr, Tree)
                )
            elif isinstance(child, Token) and child.type == "QUANTIFIER":
                quantifier = str(child)
            elif isinstance(child, Token) and child.type == "STRING":
                formula = str(child)
        actions, guard, unguarded = self.formula(formula, _line(item))
        meta = item.meta
        source = self.text[meta.start_pos : meta.end_pos]
        digest = hashlib.sha256(normalize(source).encode("utf-8")).hexdigest()
        self.lemmas.append(
            Lemma(
                name=name,
                line=_line(item),
                condition=cond,
                quantifier=quantifier,
                attributes=attributes,
                formula=formula[1:-1],
                actions=actions,
                guard=guard,
                sha256=digest,
                unguarded=unguarded,
            )
        )

    def formula(
        self, quoted: str, line: int
    ) -> tuple[tuple[Fact, ...], str | None, tuple[str, ...]]:
        body = quoted[1:-1]
        try:
            tree = _parser().parse(body, start="formula")
        except UnexpectedInput as exc:
            msg = f"{self.where}:{line}: formula does not parse at column {exc.column}: "
            msg += str(exc).splitlines()[0]
            raise SpthyError(msg) from None
        actions = tuple(
            Fact(str(node.children[0]), len(node.children) - 2, persistent=False, line=line)
            for node in _subtrees(tree)
            if node.data == "action"
        )
        return actions, _guard(tree), tuple(_unguarded(tree))


def _subtrees(tree: Tree[Token]) -> Iterator[Tree[Token]]:
    """Every subtree, parents before children, left to right."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed([c for c in node.children if isinstance(c, Tree)]))


def _variable_clashes(rule: Tree[Token]) -> Iterator[str]:
    """Variables of one rule that Tamarin would report as mismatching sort or case."""
    spellings: dict[str, set[str]] = {}
    for node in _subtrees(rule):
        if node.data in {"var", "fresh", "pub"}:
            text = str(node.children[0])
            if node.data == "var" and text in BUILTIN_CONSTANTS:
                continue
            spellings.setdefault(text.lstrip("~$").lower(), set()).add(text)
    for names in spellings.values():
        if len(names) > 1:
            yield "variable written " + " and ".join(sorted(names))


def _conjuncts(node: Tree[Token]) -> Iterator[Tree[Token]]:
    if node.data == "and_":
        for child in node.children:
            if isinstance(child, Tree):
                yield from _conjuncts(child)
    else:
        yield node


def _variables(node: Tree[Token] | Token) -> set[str]:
    if isinstance(node, Token):
        return {str(node)} if node.type in {"TVAR", "NAME"} else set()
    if node.data == "var":
        return {str(node.children[0])}
    if node.data == "app":
        return set().union(*(_variables(c) for c in node.children[1:]))
    return set().union(*(_variables(c) for c in node.children))


def _unguarded(tree: Tree[Token]) -> Iterator[str]:
    """Quantifiers Tamarin could not turn into guarded form.

    An ``Ex`` needs its variables in actions of the conjunction it quantifies;
    an ``All`` needs an implication whose premise's actions hold its variables.
    """
    for node in _subtrees(tree):
        if node.data not in {"forall", "exists"}:
            continue
        bound = {
            str(q.children[0]) for q in node.children if isinstance(q, Tree) and q.data == "qvar"
        }
        body = node.children[-1]
        if not isinstance(body, Tree):
            continue  # pragma: no cover - the grammar gives a formula
        if node.data == "forall":
            if body.data != "implies" or not isinstance(body.children[0], Tree):
                yield "an All that is not followed by an implication"
                continue
            body = body.children[0]
        covered: set[str] = set()
        for atom in _conjuncts(body):
            if atom.data == "action":
                covered |= set().union(*(_variables(c) for c in atom.children[1:]))
        if bound - covered:
            word = "All" if node.data == "forall" else "Ex"
            yield f"{word} binds {', '.join(sorted(bound - covered))} outside any action guard"


def _guard(tree: Tree[Token]) -> str | None:
    """The first action of the premise of an ``All ... ==>`` formula (or of the formula)."""
    node = tree
    while node.data in {"forall", "exists"}:
        body = node.children[-1]
        if not isinstance(body, Tree):
            return None
        node = body
    if node.data == "implies":
        first = node.children[0]
        if not isinstance(first, Tree):
            return None
        node = first
    for sub in _subtrees(node):
        if sub.data == "action" and str(sub.children[0]) != "K":
            return str(sub.children[0])
    return None


def _facts(node: Tree[Token]) -> tuple[Fact, ...]:
    out = []
    for fact in node.children:
        if not isinstance(fact, Tree) or fact.data != "fact":
            continue
        children = list(fact.children)
        persistent = isinstance(children[0], Token) and children[0].type == "BANG"
        if persistent:
            children = children[1:]
        out.append(Fact(str(children[0]), len(children) - 1, persistent, _line(fact)))
    return tuple(out)


def _line(node: Tree[Token]) -> int:
    return int(getattr(node.meta, "line", 0) or 0)


def flag_sets_of(theory: Theory, declared: Iterable[frozenset[str]] = ()) -> list[frozenset[str]]:
    """The flag sets to check: no flag, each flag alone, and any declared combinations."""
    sets = [frozenset(), *(frozenset({f}) for f in sorted(theory.flags)), *declared]
    return list(dict.fromkeys(sets))


def lint(theory: Theory, flag_sets: Iterable[frozenset[str]] | None = None) -> list[Finding]:
    """All findings for ``theory`` (empty when it is clean)."""
    where = str(theory.path) if theory.path else "<model>"
    findings = [
        Finding(where, line, "escape", f"{word!r}: proofs must not rely on oracles or sorry")
        for line, word in theory.escapes
    ]
    findings += _check_arity(theory, where)
    for flags in flag_sets if flag_sets is not None else flag_sets_of(theory):
        findings += _check_flag_set(theory, flags, where)
    return sorted(set(findings), key=lambda f: (f.line, f.check, f.message))


def _all_facts(theory: Theory) -> Iterator[tuple[Fact, str]]:
    for rule in theory.rules:
        for fact in rule.premises:
            yield fact, "premise"
        for fact in rule.actions:
            yield fact, "action"
        for fact in rule.conclusions:
            yield fact, "conclusion"
    for restriction in theory.restrictions:
        for fact in restriction.actions:
            yield fact, "formula"
    for lemma in theory.lemmas:
        for fact in lemma.actions:
            yield fact, "formula"


_MISPLACED = {
    "premise": frozenset({"Out", "K"}),
    "action": frozenset({"Fr", "In", "Out", "K"}),
    "conclusion": frozenset({"Fr", "In", "K"}),
    "formula": frozenset({"Fr", "In", "Out"}),
}


def _check_arity(theory: Theory, where: str) -> list[Finding]:
    """Tamarin's "Fact usage" check: one arity and multiplicity per name, ignoring case."""
    findings = []
    seen: dict[str, tuple[Fact, bool]] = {}
    for fact, role in _all_facts(theory):
        builtin = BUILTIN_FACTS.get(fact.name)
        if builtin is not None and fact.arity != builtin:
            findings.append(
                Finding(where, fact.line, "arity", f"{fact.name} takes {builtin} argument(s)")
            )
        if fact.name in _MISPLACED[role]:
            findings.append(
                Finding(where, fact.line, "reserved", f"{fact.name} cannot be used as {role}")
            )
        persistent = fact.persistent and role not in {"action", "formula"}
        first, first_persistent = seen.setdefault(fact.name.lower(), (fact, persistent))
        if first.name != fact.name:
            findings.append(
                Finding(
                    where,
                    fact.line,
                    "arity",
                    f"fact {fact.name} differs only in case from {first.name} (line {first.line})",
                )
            )
        elif first.arity != fact.arity:
            findings.append(
                Finding(
                    where,
                    fact.line,
                    "arity",
                    f"fact {fact.name} has {fact.arity} argument(s) here and "
                    f"{first.arity} on line {first.line}",
                )
            )
        if first_persistent != persistent:
            findings.append(
                Finding(
                    where,
                    fact.line,
                    "persistence",
                    f"fact {fact.name} is persistent (!) in one place and linear (or an "
                    f"action) in another (line {first.line})",
                )
            )
    return findings


def _check_flag_set(theory: Theory, flags: frozenset[str], where: str) -> list[Finding]:
    label = "no flags" if not flags else "-D " + " -D ".join(sorted(flags))
    rules = [r for r in theory.rules if r.condition.holds(flags)]
    lemmas = theory.active_lemmas(flags)
    restrictions = [r for r in theory.restrictions if r.condition.holds(flags)]
    produced = {f.name for r in rules for f in r.conclusions} | {"Fr", "In"}
    emitted = {f.name for r in rules for f in r.actions} | {"K"}
    findings = []
    names: dict[str, int] = {}
    for rule in rules:
        findings += [
            Finding(where, rule.line, "variables", f"rule {rule.name}: {clash}")
            for clash in rule.clashes
        ]
        if rule.name in names:
            findings.append(
                Finding(where, rule.line, "unique", f"rule {rule.name} defined twice ({label})")
            )
        names[rule.name] = rule.line
        findings += [
            Finding(
                where,
                fact.line,
                "produced",
                f"rule {rule.name} consumes {fact.name}, which no rule produces ({label})",
            )
            for fact in rule.premises
            if fact.name not in produced
        ]
    lemma_names: dict[str, int] = {}
    quantified: list[Lemma | Restriction] = [*lemmas, *restrictions]
    for item in quantified:
        findings += [
            Finding(where, item.line, "guarded", f"{item.name}: {m}") for m in item.unguarded
        ]
    for lemma in lemmas:
        if lemma.name in lemma_names:
            findings.append(
                Finding(where, lemma.line, "unique", f"lemma {lemma.name} defined twice ({label})")
            )
        lemma_names[lemma.name] = lemma.line
    for item_name, item_line, actions in [
        *((f"lemma {x.name}", x.line, x.actions) for x in lemmas),
        *((f"restriction {x.name}", x.line, x.actions) for x in restrictions),
    ]:
        findings += [
            Finding(
                where,
                item_line,
                "emitted",
                f"{item_name} names action {fact.name}, which no rule emits ({label})",
            )
            for fact in actions
            if fact.name not in emitted
        ]
    sanity = [x for x in lemmas if x.quantifier == "exists-trace"]
    for lemma in lemmas:
        if not lemma.security:
            continue
        if lemma.guard is None:
            findings.append(
                Finding(where, lemma.line, "sibling", f"lemma {lemma.name} has no premise action")
            )
            continue
        if not any(lemma.guard in {f.name for f in s.actions} for s in sanity):
            findings.append(
                Finding(
                    where,
                    lemma.line,
                    "sibling",
                    f"security lemma {lemma.name} has no exists-trace lemma naming its premise "
                    f"action {lemma.guard} ({label})",
                )
            )
    return findings
