"""Reports of a conformance run: JUnit XML, JSON keyed by requirement ID, static HTML."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from ckv.conformance.harness import OUTCOMES, RunReport

__all__ = ["html_report", "json_report", "junit_xml", "write_reports"]

JSON = Any


def junit_xml(report: RunReport) -> str:
    """One ``testsuite`` per vector kind, one ``testcase`` per case."""
    root = ET.Element("testsuites", name="ckv-conformance", tests=str(len(report.results)))
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for r in report.results:
        by_kind[r.kind].append(r)
    for kind, results in sorted(by_kind.items()):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=kind,
            tests=str(len(results)),
            failures=str(sum(r.outcome in {"fail", "xpass"} for r in results)),
            skipped=str(sum(r.outcome in {"unsupported", "xfail"} for r in results)),
            time=f"{sum(r.seconds for r in results):.3f}",
        )
        for r in results:
            case = ET.SubElement(
                suite, "testcase", classname=kind, name=r.id, time=f"{r.seconds:.4f}"
            )
            if r.outcome in {"fail", "xpass"}:
                ET.SubElement(case, "failure", message=r.outcome).text = r.detail
            elif r.outcome in {"unsupported", "xfail"}:
                ET.SubElement(case, "skipped", message=r.outcome).text = r.detail
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="requirements", value=" ".join(r.requirements))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def json_report(report: RunReport) -> JSON:
    """The run as JSON: summary, per-requirement tallies, and every case."""
    reqs: dict[str, dict[str, Any]] = {}
    for r in report.results:
        for rid in r.requirements:
            entry = reqs.setdefault(rid, dict.fromkeys(OUTCOMES, 0) | {"cases": []})
            entry[r.outcome] += 1
            entry["cases"].append(r.id)
    for entry in reqs.values():
        failed = entry["fail"] + entry["xpass"]
        entry["status"] = (
            "fail"
            if failed
            else "pass"
            if entry["pass"]
            else "xfail"
            if entry["xfail"]
            else "unsupported"
        )
    return {
        "suite_version": report.suite_version,
        "implementation": report.implementation,
        "command": report.command,
        "summary": {o: report.count(o) for o in OUTCOMES}
        | {"total": len(report.results), "ok": report.ok, "seconds": round(report.seconds, 3)},
        "requirements": dict(sorted(reqs.items())),
        "cases": {
            r.id: {
                "kind": r.kind,
                "file": r.file,
                "requirements": list(r.requirements),
                "expected": r.expected,
                "outcome": r.outcome,
                "detail": r.detail,
            }
            for r in report.results
        },
    }


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
.pass{background:#e6f4e6}.fail,.xpass{background:#fbe3e3}.xfail{background:#fff3d6}
.unsupported{background:#eee}code{font-size:90%}
"""


def html_report(report: RunReport) -> str:
    """A static page: summary, requirements, and the cases that did not pass."""
    data = json_report(report)
    impl = report.implementation or {}
    e = html.escape
    rows = "".join(
        f'<tr class="{v["status"]}"><td>{e(rid)}</td><td>{v["status"]}</td>'
        + "".join(f"<td>{v[o]}</td>" for o in OUTCOMES)
        + "</tr>"
        for rid, v in data["requirements"].items()
    )
    bad = [r for r in report.results if r.outcome not in {"pass", "unsupported"}]
    failures = "".join(
        f'<tr class="{r.outcome}"><td><code>{e(r.id)}</code></td><td>{r.outcome}</td>'
        f"<td>{e(r.detail[:400])}</td></tr>"
        for r in bad
    )
    summary = "".join(f"<li>{o}: {report.count(o)}</li>" for o in OUTCOMES)
    verdict = "PASSED" if report.ok else "FAILED"
    heads = "".join(f"<th>{o}</th>" for o in OUTCOMES)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>CKV conformance: {e(str(impl.get('name', '?')))}</title><style>{_STYLE}</style>"
        f"</head><body><h1>CKV conformance report: {verdict}</h1>"
        f"<p>Implementation <b>{e(str(impl.get('name', '?')))}</b> "
        f"{e(str(impl.get('version', '')))}, command <code>{e(report.command)}</code>, "
        f"suite {e(report.suite_version)}, {len(report.results)} cases in "
        f"{report.seconds:.1f} s.</p><ul>{summary}</ul>"
        f"<h2>Requirements</h2><table><tr><th>Requirement</th><th>Status</th>{heads}</tr>"
        f"{rows}</table><h2>Cases that did not pass</h2>"
        + (
            f"<table><tr><th>Case</th><th>Outcome</th><th>Detail</th></tr>{failures}</table>"
            if bad
            else "<p>None.</p>"
        )
        + "</body></html>\n"
    )


def write_reports(report: RunReport, out_dir: Path) -> dict[str, Path]:
    """Write ``junit.xml``, ``report.json`` and ``report.html``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "junit": out_dir / "junit.xml",
        "json": out_dir / "report.json",
        "html": out_dir / "report.html",
    }
    paths["junit"].write_text(junit_xml(report), encoding="utf-8")
    paths["json"].write_text(
        json.dumps(json_report(report), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    paths["html"].write_text(html_report(report), encoding="utf-8")
    return paths
