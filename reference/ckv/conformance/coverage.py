"""``ckv conformance coverage``: every MUST of the spec is checked somewhere (CONF-015).

A requirement counts as covered when at least one of these cites its ID:

* a conformance vector (its ``requirements``), under ``conformance/vectors``;
* a test marked ``@pytest.mark.req("ID", ...)`` under ``tests/`` (property tests,
  must-reject tests, unit tests);
* a Tamarin lemma whose pin in ``models/tamarin/expected.toml`` lists the ID (the
  model without flags, expected verified), or that carries a ``// REQ: ID, ID``
  comment under ``models/``;
* a waiver in ``conformance/coverage-waivers.txt`` (``ID  reason``), for a
  requirement no test can check (for example a duty of the operator).

The requirements and their levels are read from the spec's Markdown sources the
same way the spec build reads them: the paragraph that starts with
``{req}`ID``` is the statement, and its first BCP 14 key word is its level.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ckv.conformance.vectors import REPO

__all__ = ["Coverage", "Requirement", "collect", "read_requirements", "render_table"]

_REQ = re.compile(r"\{req\}`([A-Z][A-Z0-9]*-[0-9A-Z]+)`")
_OBLIGATION = re.compile(
    r"\b(MUST NOT|MUST|SHALL NOT|SHALL|REQUIRED|SHOULD NOT|SHOULD|NOT RECOMMENDED|RECOMMENDED)\b"
)
_LEMMA_REQ = re.compile(r"//\s*REQ:\s*([A-Z0-9, -]+)")
_MUST_LEVELS = ("MUST", "SHALL", "REQUIRED")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement: ID, level (its first key word) and where it is defined."""

    id: str
    level: str
    source: str

    @property
    def must(self) -> bool:
        """Whether it is a MUST-level (absolute) requirement."""
        return self.level.startswith(_MUST_LEVELS)


@dataclass(slots=True)
class Coverage:
    """Requirement ID -> what cites it, from each kind of source."""

    requirements: dict[str, Requirement]
    vectors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    tests: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lemmas: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    waivers: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    def covered(self, rid: str) -> bool:
        """Whether anything covers the requirement."""
        return (
            bool(self.vectors.get(rid) or self.tests.get(rid) or self.lemmas.get(rid))
            or rid in self.waivers
        )

    def uncovered_musts(self) -> list[str]:
        """MUST-level requirements nothing covers, sorted."""
        return sorted(r for r, req in self.requirements.items() if req.must and not self.covered(r))


def read_requirements(spec_dir: Path) -> dict[str, Requirement]:
    """Every requirement of the spec's Markdown sources, with its level."""
    out: dict[str, Requirement] = {}
    for path in sorted(spec_dir.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for para in re.split(r"\n\s*\n", text):
            for rid in _REQ.findall(para):
                words = _OBLIGATION.findall(para.replace("\n", " "))
                out[rid] = Requirement(
                    rid, words[0] if words else "informative", str(path.relative_to(spec_dir))
                )
    return out


def _test_citations(tests_dir: Path) -> dict[str, list[str]]:
    cited: dict[str, list[str]] = defaultdict(list)
    for path in sorted(tests_dir.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Attribute)
                    and deco.func.attr == "req"
                ):
                    for arg in deco.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            cited[arg.value].append(
                                f"{path.relative_to(tests_dir.parent)}::{node.name}"
                            )
    return cited


def _pinned_lemmas(root: Path, cov: Coverage) -> None:
    """Lemmas whose pin (models/tamarin/expected.toml) names requirements.

    Only the models as specified count: a pin without flags whose expected
    outcome is ``verified``. Variants with a protection removed show attacks;
    they cover nothing.
    """
    pins = root / "models" / "tamarin" / "expected.toml"
    if not pins.is_file():
        return
    data = tomllib.loads(pins.read_text(encoding="utf-8"))
    files = {
        name: model.get("file", f"{name}.spthy") for name, model in data.get("models", {}).items()
    }
    for pin in data.get("pin", []):
        if pin.get("flags") or pin.get("expected") != "verified":
            continue
        where = f"models/tamarin/{files.get(pin['model'], pin['model'] + '.spthy')}::{pin['lemma']}"
        for rid in pin.get("requirements", []):
            cov.lemmas[rid].append(where)


def collect(root: Path = REPO, vectors_dir: Path | None = None) -> Coverage:
    """Gather the requirements and every citation of them under a checkout."""
    cov = Coverage(read_requirements(root / "spec"))
    vdir = vectors_dir or root / "conformance" / "vectors"
    for path in sorted(vdir.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for test in doc.get("tests", []) if isinstance(doc, dict) else []:
            for rid in test.get("requirements", []):
                cov.vectors[rid].append(test["id"])
    if (root / "tests").is_dir():
        cov.tests.update(_test_citations(root / "tests"))
    _pinned_lemmas(root, cov)
    models = root / "models"
    if models.is_dir():
        for path in sorted(models.rglob("*.spthy")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, 1):
                for group in _LEMMA_REQ.findall(line):
                    for rid in filter(None, (p.strip() for p in group.split(","))):
                        cov.lemmas[rid].append(f"{path.relative_to(root)}:{number}")
    waivers = root / "conformance" / "coverage-waivers.txt"
    if waivers.is_file():
        for raw in waivers.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                rid, _, reason = line.partition(" ")
                cov.waivers[rid] = reason.strip()
    cited = set(cov.vectors) | set(cov.tests) | set(cov.lemmas) | set(cov.waivers)
    cov.unknown = sorted(r for r in cited if r not in cov.requirements)
    return cov


def render_table(cov: Coverage, *, musts_only: bool = False) -> str:
    """The coverage table as text, with a summary line."""
    lines = [f"{'requirement':14} {'level':12} {'vectors':>7} {'tests':>5} {'lemmas':>6}  status"]
    for rid in sorted(cov.requirements, key=_sort_key):
        req = cov.requirements[rid]
        if musts_only and not req.must:
            continue
        if cov.covered(rid):
            status = (
                "waived: " + cov.waivers[rid]
                if rid in cov.waivers
                and not (cov.vectors.get(rid) or cov.tests.get(rid) or cov.lemmas.get(rid))
                else "covered"
            )
        else:
            status = "NOT COVERED" if req.must else "not covered"
        lines.append(
            f"{rid:14} {req.level:12} {len(cov.vectors.get(rid, [])):7} "
            f"{len(cov.tests.get(rid, [])):5} {len(cov.lemmas.get(rid, [])):6}  {status}"
        )
    musts = [r for r in cov.requirements.values() if r.must]
    missing = cov.uncovered_musts()
    lines.append(
        f"{len(cov.requirements)} requirements, {len(musts)} at MUST level; "
        f"{sum(1 for r in cov.requirements if cov.vectors.get(r))} cited by vectors; "
        f"{len(musts) - len(missing)} of the MUST-level ones covered, {len(missing)} not"
        + (f": {', '.join(missing)}" if missing else "")
    )
    if cov.unknown:
        lines.append(f"cited but not in the spec: {', '.join(cov.unknown)}")
    return "\n".join(lines)


def _sort_key(rid: str) -> tuple[str, str]:
    prefix, _, number = rid.rpartition("-")
    return prefix, number.zfill(4)
