"""``ckv interop keytrans DIR``: run KEYTRANS interop vectors."""

from __future__ import annotations

import argparse
from pathlib import Path

from ckv.errors import UsageError
from ckv.interop import Status, run_directory

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this command group to the ``ckv`` parser."""
    interop = commands.add_parser("interop", help="run interoperability vectors")
    sub = interop.add_subparsers(dest="interop_command", metavar="SUITE", required=True)
    p = sub.add_parser(
        "keytrans",
        help="run every case of every KEYTRANS interop vector file in DIR",
        description="Run the KEYTRANS interop vectors (the format of OR13/kt interop/vectors). "
        "Prints one line per file and a total; exits 1 if any case fails.",
    )
    p.add_argument("directory", metavar="DIR", type=Path)
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print every failed case and every known divergence",
    )
    p.add_argument(
        "--require-all",
        action="store_true",
        help="count the cases of vector files that no handler runs yet as failures",
    )
    p.set_defaults(handler=_keytrans)


def _keytrans(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    reports = run_directory(directory)
    if not reports:
        raise UsageError(f"{directory}: no *.json vector files")
    passed = failed = diverged = missing = 0
    for report in reports:
        print(report.summary())
        if not report.implemented:
            missing += len(report.outcomes)
            continue
        passed += report.count(Status.PASS)
        failed += report.count(Status.FAIL)
        diverged += report.count(Status.DIVERGENCE)
        if args.verbose:
            for name, outcome in report.outcomes.items():
                if outcome.status is Status.FAIL:
                    print(f"  FAIL {name}: {outcome.detail}")
                elif outcome.status is Status.DIVERGENCE:
                    print(f"  DIVERGENCE {outcome.divergence} {name}: {outcome.detail}")
    if diverged:
        print(
            f"{diverged} known divergences: cases that each cite an interoperability note of "
            "the spec (a reading of katie's that CKV does not share, or a vector CKV cannot "
            "fully check); never counted as passes"
        )
    if missing:
        names = ", ".join(r.name for r in reports if not r.implemented)
        print(
            f"{missing} cases not run: no handler yet for {names}"
            + (" (counted as failed: --require-all)" if args.require_all else "")
        )
        if args.require_all:
            failed += missing
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
