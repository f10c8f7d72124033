"""Traceability between requirements and what checks them, generated at build time.

``{requirements-coverage}`` lists every requirement with the tests, conformance
vectors and Tamarin lemmas that cite it, each linking to its entry in the
indexes; ``{tests-index}``, ``{vectors-index}`` and ``{lemmas-index}`` list every
test, vector file and lemma with links back to the requirements it covers.

The citations are gathered by :func:`ckv.conformance.coverage.collect`, the
same code that ``ckv conformance coverage --check`` runs in CI, so the pages and
the gate cannot disagree.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckvregistry import table
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: How many citations a coverage cell names before "and N more".
_SHOWN = 2
_LEMMA = re.compile(r"^\s*lemma\s+([A-Za-z0-9_]+)")


class trace_node(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder for a generated table, filled once every document is read."""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Trace:
    """Every artefact that cites requirements, and what it cites."""

    coverage: Any
    #: test id -> (first docstring line, requirement IDs)
    tests: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    #: vector file (relative path) -> (kind, description, cases, invalid cases, IDs)
    vectors: dict[str, tuple[str, str, int, int, list[str]]] = field(default_factory=dict)
    #: case id -> vector file
    case_file: dict[str, str] = field(default_factory=dict)
    #: lemma key "model:name" -> (model file, requirement IDs)
    lemmas: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    #: "path:line" of a REQ comment -> lemma key
    lemma_at: dict[str, str] = field(default_factory=dict)


def gather(root: Path) -> Trace:
    """Collect the citations under a checkout (tests, vectors, models)."""
    from ckv.conformance.coverage import collect  # noqa: PLC0415 - imported when built

    trace = Trace(collect(root))
    by_test: dict[str, list[str]] = defaultdict(list)
    for rid, tests in trace.coverage.tests.items():
        for test in tests:
            by_test[test].append(rid)
    for test, rids in by_test.items():
        trace.tests[test] = (_docstring(root, test), sorted(set(rids)))
    vdir = root / "conformance" / "vectors"
    for path in sorted(vdir.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or "tests" not in doc:
            continue
        rel = path.relative_to(vdir).as_posix()
        rids: set[str] = set()
        invalid = 0
        for case in doc["tests"]:
            rids.update(case.get("requirements", []))
            trace.case_file[case["id"]] = rel
            invalid += case.get("expected", {}).get("result") == "invalid"
        trace.vectors[rel] = (
            doc.get("kind", ""),
            doc.get("description", ""),
            len(doc["tests"]),
            invalid,
            sorted(rids),
        )
    lemma_rids: dict[str, set[str]] = defaultdict(set)
    for rid, places in trace.coverage.lemmas.items():
        for place in places:
            key = _lemma_for(root, place)
            trace.lemma_at[place] = key
            lemma_rids[key].add(rid)
    for key, rids_ in lemma_rids.items():
        trace.lemmas[key] = (key.split(":")[0], sorted(rids_))
    return trace


def _docstring(root: Path, test: str) -> str:
    path, _, name = test.partition("::")
    try:
        tree = ast.parse((root / path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            doc = ast.get_docstring(node) or ""
            return doc.strip().splitlines()[0] if doc.strip() else ""
    return ""


def _lemma_for(root: Path, place: str) -> str:
    """The lemma a citation names (``file::lemma``), or a ``// REQ:`` comment belongs to."""
    if "::" in place:
        path, _, lemma = place.partition("::")
        return f"{Path(path).stem}:{lemma}"
    path, _, line = place.rpartition(":")
    lines = (root / path).read_text(encoding="utf-8").splitlines()
    number = int(line) - 1
    model = Path(path).stem
    for following in lines[number : number + 6]:
        match = _LEMMA.match(following)
        if match:
            return f"{model}:{match.group(1)}"
    for preceding in reversed(lines[: number + 1]):
        match = _LEMMA.match(preceding)
        if match:
            return f"{model}:{match.group(1)}"
    return f"{model}:?"


class _Directive(SphinxDirective):
    kind = ""

    def run(self) -> list[nodes.Node]:
        return [trace_node(kind=self.kind)]


class CoverageDirective(_Directive):
    """``{requirements-coverage}``."""

    kind = "coverage"


class TestsIndexDirective(_Directive):
    """``{tests-index}``."""

    kind = "tests"


class VectorsIndexDirective(_Directive):
    """``{vectors-index}``."""

    kind = "vectors"


class LemmasIndexDirective(_Directive):
    """``{lemmas-index}``."""

    kind = "lemmas"


def _table(headers: list[str], widths: list[int], rows: list[list[nodes.Node]]) -> nodes.table:
    return table(headers, widths, rows, classes=("ckv-coverage",))


class _Links:
    def __init__(self, app: Sphinx, docname: str) -> None:
        self.app = app
        self.docname = docname
        self.reqs = app.env.domaindata.get("ckv", {}).get("requirements", {})
        self.index_doc = app.config.ckv_traceability_doc

    def uri(self, doc: str, anchor: str) -> str:
        return self.app.builder.get_relative_uri(self.docname, doc) + "#" + anchor

    def req(self, rid: str) -> nodes.Node:
        entry = self.reqs.get(rid)
        if entry is None:
            return nodes.literal(text=rid)
        ref = nodes.reference("", "", internal=True, refuri=self.uri(entry["doc"], entry["anchor"]))
        ref += nodes.literal(text=rid)
        return ref

    def artefact(self, anchor: str, text: str) -> nodes.Node:
        ref = nodes.reference("", "", internal=True, refuri=self.uri(self.index_doc, anchor))
        ref += nodes.literal(text=text)
        return ref

    def reqs_paragraph(self, rids: list[str]) -> nodes.paragraph:
        para = nodes.paragraph()
        for n, rid in enumerate(rids):
            if n:
                para += nodes.Text(" ")
            para += self.req(rid)
        return para


def _cell(links: _Links, items: list[tuple[str, str]]) -> nodes.paragraph:
    """Up to _SHOWN linked items and a count of the rest; items are (anchor, text)."""
    para = nodes.paragraph()
    if not items:
        para += nodes.Text("—")
        return para
    for n, (anchor, text) in enumerate(items[:_SHOWN]):
        if n:
            para += nodes.Text(", ")
        para += links.artefact(anchor, text)
    if len(items) > _SHOWN:
        para += nodes.Text(f" and {len(items) - _SHOWN} more")
    return para


def _coverage(trace: Trace, links: _Links) -> list[nodes.Node]:
    cov = trace.coverage
    rows: list[list[nodes.Node]] = []
    musts = [r for r in cov.requirements.values() if r.must]
    missing = cov.uncovered_musts()
    for rid in sorted(links.reqs, key=lambda r: (r.rpartition("-")[0], r.rpartition("-")[2])):
        level = links.reqs[rid].get("level", "")
        tests = sorted(set(cov.tests.get(rid, [])))
        files = sorted(
            {trace.case_file[c] for c in cov.vectors.get(rid, []) if c in trace.case_file}
        )
        lemmas = sorted({trace.lemma_at[p] for p in cov.lemmas.get(rid, []) if p in trace.lemma_at})
        lemma_cell = _cell(links, [(f"lemma-{_slug(k)}", k) for k in lemmas])
        if not lemmas and rid in cov.waivers:
            lemma_cell = nodes.paragraph(text=f"waived: {cov.waivers[rid]}")
        rows.append(
            [
                nodes.paragraph("", "", links.req(rid)),
                nodes.paragraph(text=level),
                _cell(links, [(f"test-{_slug(t)}", t.rpartition("::")[2]) for t in tests]),
                _cell(links, [(f"vec-{_slug(f)}", f) for f in files]),
                lemma_cell,
            ]
        )
    summary = nodes.paragraph(
        text=f"{len(cov.requirements)} requirements ({len(musts)} at MUST level); "
        f"{len(musts) - len(missing)} of the MUST-level ones are covered by a test, a "
        f"conformance vector, a lemma or a stated waiver"
        + (f"; not yet: {', '.join(missing)}." if missing else ".")
    )
    headers = ["Requirement", "Level", "Tests", "Vectors", "Lemmas"]
    return [summary, _table(headers, [13, 9, 28, 28, 22], rows)]


def _tests(trace: Trace, links: _Links) -> list[nodes.Node]:
    rows: list[list[nodes.Node]] = []
    for test, (doc, rids) in sorted(trace.tests.items()):
        path, _, name = test.partition("::")
        head = nodes.paragraph(ids=[f"test-{_slug(test)}"])
        head += nodes.literal(text=name)
        head += nodes.Text(f" ({path})")
        rows.append([head, nodes.paragraph(text=doc), links.reqs_paragraph(rids)])
    return [
        nodes.paragraph(text=f"{len(rows)} tests cite requirements."),
        _table(["Test", "What it checks", "Requirements"], [34, 40, 26], rows),
    ]


def _vectors(trace: Trace, links: _Links) -> list[nodes.Node]:
    rows: list[list[nodes.Node]] = []
    for rel, (kind, description, cases, invalid, rids) in sorted(trace.vectors.items()):
        head = nodes.paragraph(ids=[f"vec-{_slug(rel)}"])
        head += nodes.literal(text=rel)
        rows.append(
            [
                head,
                nodes.paragraph(text=f"{kind}: {description} ({cases} cases, {invalid} invalid)"),
                links.reqs_paragraph(rids),
            ]
        )
    return [
        nodes.paragraph(text=f"{len(rows)} vector files under conformance/vectors."),
        _table(["File", "What it holds", "Requirements"], [30, 44, 26], rows),
    ]


def _lemmas(trace: Trace, links: _Links) -> list[nodes.Node]:
    rows: list[list[nodes.Node]] = []
    for key, (model, rids) in sorted(trace.lemmas.items()):
        head = nodes.paragraph(ids=[f"lemma-{_slug(key)}"])
        head += nodes.literal(text=key.split(":")[1])
        rows.append(
            [
                head,
                nodes.paragraph(text=f"models/tamarin/{model}.spthy"),
                links.reqs_paragraph(rids),
            ]
        )
    if not rows:
        return [nodes.paragraph(text="No lemma cites a requirement yet.")]
    return [_table(["Lemma", "Model", "Requirements"], [34, 30, 36], rows)]


_RENDER = {"coverage": _coverage, "tests": _tests, "vectors": _vectors, "lemmas": _lemmas}


def _fill(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    placeholders = list(doctree.findall(trace_node))
    if not placeholders:
        return
    trace = getattr(app.env, "_ckv_trace", None)
    if trace is None:
        trace = gather(Path(app.srcdir).parent)
        app.env._ckv_trace = trace  # type: ignore[attr-defined]
    links = _Links(app, docname)
    for node in placeholders:
        node.replace_self(_RENDER[node["kind"]](trace, links))


class VectorKindsDirective(SphinxDirective):
    """``{vector-kinds}``: one section per vector kind, from the registry and the files."""

    def run(self) -> list[nodes.Node]:
        from ckv.conformance.vectors import kinds  # noqa: PLC0415 - imported when built

        root = Path(self.env.srcdir).parent
        vdir = root / "conformance" / "vectors"
        files: dict[str, list[tuple[str, dict[str, Any], int, int]]] = defaultdict(list)
        for path in sorted(vdir.rglob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(doc, dict) and "tests" in doc:
                invalid = sum(
                    c.get("expected", {}).get("result") == "invalid" for c in doc["tests"]
                )
                rel = path.relative_to(vdir).as_posix()
                files[doc.get("kind", "")].append(
                    (rel, doc.get("parameters", {}), len(doc["tests"]), invalid)
                )
        out: list[nodes.Node] = []
        for name, kind in kinds().items():
            section = nodes.section(ids=[f"kind-{_slug(name)}"])
            section += nodes.title(text=name)
            section += nodes.paragraph(text=kind.description)
            how = (
                "A session: open it with the setup, send every step in order, keep the state "
                "between steps; a rejected step leaves the state unchanged (CONF-014)."
                if kind.stateful
                else "One request per case: send the input, answer valid with the output or "
                "invalid with an error class (CONF-009, CONF-010)."
            )
            section += nodes.paragraph(text=how)
            section += _fields("Input", kind.setup_schema, kind.input_schema)
            section += _fields("Output (for valid)", None, kind.output_schema)
            if kind.notes:
                rows = [
                    [
                        nodes.paragraph("", "", nodes.literal(text=flag)),
                        nodes.paragraph(text=note.bug_type),
                        nodes.paragraph(text=note.description),
                    ]
                    for flag, note in sorted(kind.notes.items())
                ]
                section += nodes.paragraph(text="Flags of the must-reject cases:")
                section += _table(["Flag", "Bug class", "What the case does"], [20, 20, 60], rows)
            listed = files.get(name, [])
            if listed:
                rows = [
                    [
                        nodes.paragraph("", "", nodes.literal(text=rel)),
                        nodes.paragraph(
                            text=", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "—"
                        ),
                        nodes.paragraph(text=f"{cases} ({invalid} invalid)"),
                    ]
                    for rel, params, cases, invalid in listed
                ]
                section += _table(["File", "Parameters", "Cases"], [40, 40, 20], rows)
            section += nodes.paragraph(
                "",
                "",
                nodes.Text("Schema: "),
                nodes.literal(text=f"conformance/schemas/{name}.schema.json"),
            )
            out.append(section)
        return out


def _fields(title: str, setup: Any, schema: Any) -> nodes.Node:
    para = nodes.paragraph()
    para += nodes.strong(text=f"{title}: ")
    names: list[str] = []
    for part in (setup, schema):
        if isinstance(part, dict):
            required = set(part.get("required", []))
            names.extend(
                name if name in required else f"{name} (optional)"
                for name in part.get("properties", {})
            )
    if not names:
        para += nodes.Text("none")
        return para
    for n, field_name in enumerate(names):
        if n:
            para += nodes.Text(", ")
        para += nodes.literal(text=field_name)
    return para


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the traceability directives."""
    app.add_config_value("ckv_traceability_doc", default="traceability", rebuild="env")
    app.add_node(trace_node)
    app.add_directive("requirements-coverage", CoverageDirective)
    app.add_directive("tests-index", TestsIndexDirective)
    app.add_directive("vectors-index", VectorsIndexDirective)
    app.add_directive("lemmas-index", LemmasIndexDirective)
    app.add_directive("vector-kinds", VectorKindsDirective)
    app.connect("doctree-resolved", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
