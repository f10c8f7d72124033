"""The pinned expectations of ``models/tamarin/expected.toml``.

Per model the file records its flags (each with what it removes) and the model's
SHA-256; per (model, flag set, lemma) a pin records the trace quantifier, the
expected outcome (``verified`` or ``falsified``), the SHA-256 of the lemma's
normalized text, a time budget, the requirements the lemma supports and, once
a prover run has produced it, the observed result. A lemma whose text changed
without its pin, a model that changed since its results were observed, a
lemma without a pin or a pin without a lemma all fail :func:`check`; that is
what stops a weakened lemma (say, ``"T"``) from passing as the old one.

The file is written by :func:`dump` (``ckv prove --rehash`` and
``--update-pins``): observed results are only ever copied from real runs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ckv.errors import UsageError
from ckv.prove import spthy

__all__ = [
    "ModelPins",
    "Observed",
    "Pin",
    "PinSet",
    "check",
    "dump",
    "load",
    "rehash",
]

OUTCOMES = frozenset({"verified", "falsified"})

HEADER = """\
# Pinned expectations for the Tamarin models in this directory (see README.md).
#
# Checked by `ckv prove` (and by tests/models/test_spthy_lint.py without a prover):
# a lemma whose text changed without its sha256 here, or a model whose sha256
# changed, fails until `ckv prove --rehash` records the new hashes (which also
# drops the results observed for the old text). `expected` is the intended
# outcome; `observed` is written only by `ckv prove --update-pins` from a real
# tamarin-prover run, never by hand.
"""


@dataclass(frozen=True, slots=True)
class Observed:
    """A result seen in a real prover run."""

    status: str
    steps: int | None
    seconds: float
    tamarin: str
    maude: str
    date: str


@dataclass(frozen=True, slots=True)
class Pin:
    """The expectation for one lemma of one model under one flag set."""

    model: str
    flags: tuple[str, ...]
    lemma: str
    quantifier: str
    expected: str
    sha256: str
    budget_s: float
    requirements: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    observed: Observed | None = None

    @property
    def flag_set(self) -> frozenset[str]:
        """The flags as a set."""
        return frozenset(self.flags)

    @property
    def key(self) -> tuple[str, tuple[str, ...], str]:
        """(model, sorted flags, lemma): unique in a pin set."""
        return (self.model, tuple(sorted(self.flags)), self.lemma)


@dataclass(frozen=True, slots=True)
class ModelPins:
    """A model's file, hash and declared flags."""

    name: str
    file: str
    sha256: str
    flags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PinSet:
    """Everything in ``expected.toml``."""

    path: Path
    models: dict[str, ModelPins]
    pins: tuple[Pin, ...]
    budget_total_s: float

    @property
    def directory(self) -> Path:
        """The directory holding the models."""
        return self.path.parent

    def model_path(self, model: str) -> Path:
        """The ``.spthy`` file of ``model``."""
        return self.directory / self.models[model].file

    def for_model(self, model: str) -> list[Pin]:
        """The pins of one model, in file order."""
        return [p for p in self.pins if p.model == model]

    def flag_sets(self, model: str) -> list[frozenset[str]]:
        """The flag sets ``model`` is run with, in file order."""
        return list(dict.fromkeys(p.flag_set for p in self.for_model(model)))


def _strs(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"{where}: expected a list of strings"
        raise UsageError(msg)
    return tuple(value)


def load(path: Path) -> PinSet:
    """Read and type-check ``expected.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"{path}: {exc}"
        raise UsageError(msg) from None
    models: dict[str, ModelPins] = {}
    for name, entry in data.get("models", {}).items():
        models[name] = ModelPins(
            name=name,
            file=str(entry["file"]),
            sha256=str(entry.get("sha256", "")),
            flags={str(k): str(v) for k, v in entry.get("flags", {}).items()},
        )
    pins = []
    for i, entry in enumerate(data.get("pin", [])):
        where = f"{path}: pin #{i + 1}"
        try:
            observed = entry.get("observed")
            pins.append(
                Pin(
                    model=str(entry["model"]),
                    flags=_strs(entry.get("flags", []), where),
                    lemma=str(entry["lemma"]),
                    quantifier=str(entry["quantifier"]),
                    expected=str(entry["expected"]),
                    sha256=str(entry["sha256"]),
                    budget_s=float(entry["budget_s"]),
                    requirements=_strs(entry.get("requirements", []), where),
                    areas=_strs(entry.get("areas", []), where),
                    observed=Observed(
                        status=str(observed["status"]),
                        steps=int(observed["steps"]) if "steps" in observed else None,
                        seconds=float(observed["seconds"]),
                        tamarin=str(observed["tamarin"]),
                        maude=str(observed["maude"]),
                        date=str(observed["date"]),
                    )
                    if observed
                    else None,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"{where}: missing or malformed field {exc}"
            raise UsageError(msg) from None
    budget = float(data.get("budget", {}).get("total_s", 1800))
    return PinSet(path=path, models=models, pins=tuple(pins), budget_total_s=budget)


def check(pinset: PinSet) -> list[str]:
    """Every way the pins and the models disagree (empty when they agree)."""
    problems: list[str] = []
    seen: set[tuple[str, tuple[str, ...], str]] = set()
    for pin in pinset.pins:
        if pin.key in seen:
            problems.append(f"{pin.model} {list(pin.flags)} {pin.lemma}: pinned twice")
        seen.add(pin.key)
        if pin.expected not in OUTCOMES:
            problems.append(f"{pin.model} {pin.lemma}: expected must be verified or falsified")
        if pin.model not in pinset.models:
            problems.append(f"{pin.model}: pinned lemma {pin.lemma} of an undeclared model")
    total = sum(p.budget_s for p in pinset.pins)
    if total > pinset.budget_total_s:
        problems.append(
            f"the lemma budgets add up to {total:.0f} s, over the total of "
            f"{pinset.budget_total_s:.0f} s"
        )
    for name, model in pinset.models.items():
        problems += _check_model(pinset, name, model)
    return problems


def _check_model(pinset: PinSet, name: str, model: ModelPins) -> list[str]:
    path = pinset.model_path(name)
    try:
        theory = spthy.parse_file(path)
    except (OSError, UsageError) as exc:
        return [f"{name}: {exc}"]
    problems = []
    if theory.sha256 != model.sha256:
        problems.append(
            f"{name}: {path.name} changed since it was pinned (sha256 {theory.sha256[:12]}..., "
            f"pinned {model.sha256[:12] or 'none'}...): re-run and `ckv prove --rehash`"
        )
    undeclared = theory.flags - set(model.flags)
    if undeclared:
        problems.append(f"{name}: flags {sorted(undeclared)} are used but not declared")
    unused = set(model.flags) - theory.flags
    if unused:
        problems.append(f"{name}: declared flags {sorted(unused)} are not used by the model")
    problems += [str(f) for f in spthy.lint(theory, pinset.flag_sets(name))]
    for flags in pinset.flag_sets(name):
        pins = {p.lemma: p for p in pinset.for_model(name) if p.flag_set == flags}
        active = theory.active_lemmas(flags)
        label = f"{name} {sorted(flags)}"
        for lemma in active:
            pin = pins.pop(lemma.name, None)
            if pin is None:
                problems.append(f"{label}: lemma {lemma.name} has no pin")
                continue
            if pin.sha256 != lemma.sha256:
                problems.append(
                    f"{label}: the text of lemma {lemma.name} changed without its pin "
                    f"(sha256 {lemma.sha256[:12]}..., pinned {pin.sha256[:12]}...)"
                )
            if pin.quantifier != lemma.quantifier:
                problems.append(
                    f"{label}: lemma {lemma.name} is {lemma.quantifier}, pinned {pin.quantifier}"
                )
            if lemma.helper and pin.expected != "verified":
                problems.append(
                    f"{label}: helper lemma {lemma.name} is assumed by later lemmas, so it "
                    "must be expected verified"
                )
        problems += [f"{label}: pin for {n}, which is not a lemma here" for n in sorted(pins)]
        if flags and not any(
            p.expected == "falsified" and p.quantifier == "all-traces"
            for p in pinset.for_model(name)
            if p.flag_set == flags
        ):
            problems.append(f"{label}: a weakening flag set must falsify a security lemma")
    return problems


def rehash(pinset: PinSet) -> PinSet:
    """The pins with current hashes; observed results of changed lemmas or models dropped."""
    theories = {name: spthy.parse_file(pinset.model_path(name)) for name in pinset.models}
    models = {
        name: replace(model, sha256=theories[name].sha256) for name, model in pinset.models.items()
    }
    pins = []
    for pin in pinset.pins:
        theory = theories[pin.model]
        lemma = theory.lemma(pin.lemma, pin.flag_set)
        if lemma is None:
            pins.append(pin)
            continue
        unchanged = lemma.sha256 == pin.sha256 and theory.sha256 == pinset.models[pin.model].sha256
        pins.append(replace(pin, sha256=lemma.sha256, observed=pin.observed if unchanged else None))
    return replace(pinset, models=models, pins=tuple(pins))


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def dump(pinset: PinSet, header: str = HEADER) -> str:
    """The TOML text of ``pinset`` (stable order, one table per pin)."""
    lines = [header.rstrip("\n"), ""] if header else []
    lines += ["[budget]", f"total_s = {pinset.budget_total_s:g}", ""]
    for name, model in pinset.models.items():
        lines += [f"[models.{name}]", f"file = {_toml_str(model.file)}"]
        lines.append(f"sha256 = {_toml_str(model.sha256)}")
        lines += [f"flags.{flag} = {_toml_str(text)}" for flag, text in model.flags.items()]
        lines.append("")
    for pin in pinset.pins:
        lines += [
            "[[pin]]",
            f"model = {_toml_str(pin.model)}",
            f"flags = {_toml_list(pin.flags)}",
            f"lemma = {_toml_str(pin.lemma)}",
            f"quantifier = {_toml_str(pin.quantifier)}",
            f"expected = {_toml_str(pin.expected)}",
            f"sha256 = {_toml_str(pin.sha256)}",
            f"budget_s = {pin.budget_s:g}",
            f"requirements = {_toml_list(pin.requirements)}",
            f"areas = {_toml_list(pin.areas)}",
        ]
        if pin.observed is not None:
            obs = pin.observed
            fields = [f"status = {_toml_str(obs.status)}"]
            if obs.steps is not None:
                fields.append(f"steps = {obs.steps}")
            fields += [
                f"seconds = {obs.seconds:.2f}",
                f"tamarin = {_toml_str(obs.tamarin)}",
                f"maude = {_toml_str(obs.maude)}",
                f"date = {_toml_str(obs.date)}",
            ]
            lines.append("observed = { " + ", ".join(fields) + " }")
        lines.append("")
    return "\n".join(lines)
