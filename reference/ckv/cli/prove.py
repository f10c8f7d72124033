"""``ckv prove``: lint the Tamarin models, run the prover per lemma, compare with the pins.

Exit codes: 0 when every selected lemma came out as pinned (or, with
``--lint-only``, when the models and pins are clean); 1 when anything differs;
2 for a usage error (argparse); 3 when tamarin-prover is not on PATH.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from ckv.errors import CKVError
from ckv.prove import pins as pins_mod
from ckv.prove import report as report_mod
from ckv.prove import runner, spthy
from ckv.prove.output import ToolVersions
from ckv.prove.pins import Observed, Pin, PinSet

__all__ = ["EXIT_FAILED", "EXIT_NO_PROVER", "EXIT_OK", "default_pins", "main", "register", "run"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NO_PROVER = 3


def default_pins() -> Path:
    """``models/tamarin/expected.toml`` of this checkout (or of the working directory)."""
    repo = Path(__file__).resolve().parents[3] / "models" / "tamarin" / "expected.toml"
    return repo if repo.is_file() else Path.cwd() / "models" / "tamarin" / "expected.toml"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``prove`` to the ``ckv`` parser."""
    p = commands.add_parser(
        "prove",
        help="check the Tamarin models against their pinned results",
        description="Lint models/tamarin/*.spthy, run tamarin-prover on every pinned lemma "
        "(one process per lemma, helper lemmas first), and compare with "
        "models/tamarin/expected.toml. Writes prove-report.json and prove-report.md. "
        "Exit 0 if everything is as pinned, 1 if not, 3 if tamarin-prover is missing.",
    )
    p.add_argument("--model", action="append", metavar="M", help="only this model (repeatable)")
    p.add_argument("--lemma", action="append", metavar="L", help="only this lemma (repeatable)")
    p.add_argument(
        "--flags",
        metavar="F[,F...]",
        help="only the runs with exactly these flags ('' for the unflagged runs)",
    )
    p.add_argument(
        "--timeout", type=float, metavar="S", help="wall-clock limit per lemma (default: 2x budget)"
    )
    p.add_argument(
        "--report-dir", type=Path, default=Path("build/prove"), metavar="DIR", help="report dir"
    )
    p.add_argument("--pins", type=Path, metavar="FILE", help="the pins (expected.toml)")
    p.add_argument("--lint-only", action="store_true", help="lint models and pins, no prover")
    p.add_argument(
        "--rehash",
        action="store_true",
        help="record the current lemma and model hashes (drops results of changed lemmas)",
    )
    p.add_argument(
        "--update-pins", action="store_true", help="record the observed results in the pins"
    )
    p.add_argument(
        "--write-results",
        type=Path,
        metavar="FILE",
        help="write the spec's table of recorded results (Markdown) from the pins",
    )
    p.set_defaults(handler=run)


def _select(pinset: PinSet, args: argparse.Namespace) -> list[Pin]:
    chosen = list(pinset.pins)
    if args.model:
        chosen = [p for p in chosen if p.model in args.model]
    if args.flags is not None:
        wanted = frozenset(f for f in args.flags.split(",") if f)
        chosen = [p for p in chosen if p.flag_set == wanted]
    if args.lemma:
        chosen = [p for p in chosen if p.lemma in args.lemma]
        # A lemma may assume the helper lemmas before it: prove those too.
        runs = {(p.model, p.flag_set) for p in chosen}
        theories = {m: spthy.parse_file(pinset.model_path(m)) for m, _ in runs}
        extra = [
            p
            for p in pinset.pins
            if (p.model, p.flag_set) in runs
            and p not in chosen
            and (lemma := theories[p.model].lemma(p.lemma, p.flag_set)) is not None
            and lemma.helper
        ]
        chosen = extra + chosen
    return chosen


def _record(pinset: PinSet, results: list[runner.RunResult], versions: ToolVersions) -> PinSet:
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    seen = {
        r.pin.key: Observed(
            status=r.text,
            steps=r.steps,
            seconds=r.seconds,
            tamarin=versions.tamarin or "unknown",
            maude=versions.maude or "unknown",
            date=date,
        )
        for r in results
        if r.status is not None and not r.timed_out
    }
    return replace(
        pinset, pins=tuple(replace(p, observed=seen.get(p.key, p.observed)) for p in pinset.pins)
    )


def run(args: argparse.Namespace) -> int:
    """The ``ckv prove`` command."""
    path = args.pins or default_pins()
    pinset = pins_mod.load(path)
    if args.rehash:
        pinset = pins_mod.rehash(pinset)
        path.write_text(pins_mod.dump(pinset), encoding="utf-8")
        print(f"ckv prove: recorded current hashes in {path}")
    problems = pins_mod.check(pinset)
    for problem in problems:
        print(f"ckv prove: {problem}", file=sys.stderr)
    if problems:
        return EXIT_FAILED
    print(f"ckv prove: {len(pinset.models)} models and {len(pinset.pins)} pins are consistent")
    if args.lint_only or args.rehash:
        if args.write_results:
            args.write_results.write_text(report_mod.results_table(pinset), encoding="utf-8")
        return EXIT_OK
    try:
        prover = runner.find_prover()
    except runner.ProverMissingError:
        print(
            "ckv prove: tamarin-prover is not on PATH; nothing was proved "
            "(models and pins were linted; use --lint-only to check only that)",
            file=sys.stderr,
        )
        return EXIT_NO_PROVER
    versions = runner.versions(prover)
    print(f"ckv prove: tamarin-prover {versions.tamarin}, Maude {versions.maude}")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.monotonic()

    def progress(r: runner.RunResult) -> None:
        flags = ",".join(r.pin.flags) or "-"
        mark = "ok  " if r.ok else "FAIL"
        print(
            f"{mark} {r.pin.model:15} {flags:17} {r.pin.lemma:40} "
            f"{r.text or r.outcome} ({r.steps} steps, {r.seconds:.1f} s)"
            + (f": {r.reason}" if r.reason else ""),
            flush=True,
        )

    results = runner.prove(
        pinset, _select(pinset, args), prover=prover, timeout=args.timeout, progress=progress
    )
    report = report_mod.Report(
        started=started,
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        versions=versions,
        results=tuple(results),
        wall_seconds=time.monotonic() - t0,
    )
    json_path, md_path = report_mod.write(report, args.report_dir)
    print(f"ckv prove: wrote {json_path} and {md_path}")
    if args.update_pins:
        pinset = _record(pinset, results, versions)
        path.write_text(pins_mod.dump(pinset), encoding="utf-8")
        print(f"ckv prove: recorded the observed results in {path}")
    if args.write_results:
        args.write_results.write_text(report_mod.results_table(pinset), encoding="utf-8")
    failed = sum(not r.ok for r in results)
    print(f"ckv prove: {len(results) - failed} of {len(results)} lemmas as pinned")
    return EXIT_OK if report.ok else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Run ``ckv prove ...`` on its own (until it is registered in ``ckv.cli``)."""
    parser = argparse.ArgumentParser(prog="ckv")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except CKVError as exc:
        print(f"ckv: error: {exc.diagnostics()}", file=sys.stderr)
        return EXIT_FAILED
    return result
