"""``ckv conformance``: run an implementation through the harness; requirement coverage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ckv.conformance.coverage import collect, render_table
from ckv.conformance.harness import load_expected_failures, run
from ckv.conformance.reports import write_reports
from ckv.conformance.vectors import REPO, default_vectors_dir
from ckv.errors import CKVError

__all__ = ["main", "reference_adapter_command", "register", "validate_reference"]


def reference_adapter_command() -> list[str]:
    """The command that runs the reference implementation's adapter."""
    return [sys.executable, str(REPO / "conformance" / "adapters" / "reference" / "adapter.py")]


def validate_reference(reports: Path = Path("build/conformance"), *, indent: str = "") -> int:
    """Run the reference implementation through the harness; print a summary and the reports.

    For the end of ``ckv run``: returns 0 when every case passed (or when there are no
    vectors to run, outside a source checkout, which it says).
    """
    vectors = default_vectors_dir()
    if not (vectors / "MANIFEST.json").is_file():
        print(f"{indent}skipped: no conformance vectors at {vectors} (a source checkout has them)")
        return 0
    report = run(reference_adapter_command(), vectors)
    paths = write_reports(report, reports)
    print(f"{indent}reference implementation, through its adapter: {report.summary()}")
    for r in report.results:
        if r.outcome in {"fail", "xpass"}:
            print(f"{indent}{r.outcome} {r.id}: {r.detail[:200]}")
    print(f"{indent}reports: {paths['html']}")
    print(f"{indent}         {paths['junit']}")
    print(f"{indent}         {paths['json']}")
    return 0 if report.ok else 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this command group to the ``ckv`` parser."""
    conf = commands.add_parser(
        "conformance",
        help="run the conformance suite against an implementation; requirement coverage",
        description="Drive an implementation under test through its adapter "
        "(conformance/PROTOCOL.md), or print the requirement coverage table.",
    )
    sub = conf.add_subparsers(dest="conformance_command", metavar="ACTION", required=True)
    p = sub.add_parser("run", help="run every vector through an adapter and write reports")
    p.add_argument(
        "--impl",
        metavar="CMD",
        help="the adapter command (split like a shell would); default: the reference adapter",
    )
    p.add_argument("--vectors", type=Path, default=None, metavar="DIR", help="vectors directory")
    p.add_argument(
        "--expected-failures",
        type=Path,
        default=None,
        metavar="FILE",
        help="the implementation's expected-failure list (conformance/expected-failures/)",
    )
    p.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds per answer (default 10)"
    )
    p.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only case IDs matching this fnmatch pattern (repeatable)",
    )
    p.add_argument(
        "--strict-errors",
        action="store_true",
        help="also require the error class of each rejection to be the expected one",
    )
    p.add_argument(
        "--reports",
        type=Path,
        default=Path("build/conformance"),
        metavar="DIR",
        help="where to write junit.xml, report.json and report.html (default build/conformance)",
    )
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="FILE",
        help="write every request and answer to FILE (JSON lines), for debugging an adapter",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="print every case that did not pass"
    )
    p.set_defaults(handler=_run)
    p = sub.add_parser("coverage", help="print the requirement coverage table")
    p.add_argument("--musts", action="store_true", help="show MUST-level requirements only")
    p.add_argument(
        "--check", action="store_true", help="exit 1 if a MUST-level requirement is not covered"
    )
    p.set_defaults(handler=_coverage)


def _run(args: argparse.Namespace) -> int:
    command = args.impl or reference_adapter_command()
    xfails = load_expected_failures(args.expected_failures) if args.expected_failures else None
    report = run(
        command,
        args.vectors or default_vectors_dir(),
        expected_failures=xfails,
        timeout=args.timeout,
        select=args.select,
        strict_errors=args.strict_errors,
        record=args.record,
    )
    paths = write_reports(report, args.reports)
    name = (report.implementation or {}).get("name", "?")
    for r in report.results:
        if r.outcome in {"fail", "xpass"} or (args.verbose and r.outcome != "pass"):
            print(f"{r.outcome:11} {r.id}: {r.detail[:300]}")
    print(f"conformance of {name}: {report.summary()}")
    print(f"reports: {paths['junit']}, {paths['json']}, {paths['html']}")
    return 0 if report.ok else 1


def _coverage(args: argparse.Namespace) -> int:
    cov = collect()
    print(render_table(cov, musts_only=args.musts))
    if args.check and (cov.uncovered_musts() or cov.unknown):
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``ckv conformance ...`` on its own (until it is registered in ``ckv.cli``)."""
    parser = argparse.ArgumentParser(prog="ckv")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except CKVError as exc:
        print(f"ckv: error: {exc.diagnostics()}", file=sys.stderr)
        return 1
    return result
