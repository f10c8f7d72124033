"""``ckv run``: the main job, on the embedded defaults.

It does everything that exists so far, prints where each result is, and says
plainly which parts of the pipeline are not built yet.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from ckv.cli.conformance import validate_reference
from ckv.cli.demo import save_alerts
from ckv.demo import build_world, run_story
from ckv.interop import run_directory
from ckv.wire import resources
from ckv.wire.schema import load_schema

__all__ = ["register"]

#: Where the shared KEYTRANS interop vectors are, relative to the repository.
DEFAULT_SHARED = Path("..") / "shared" / "vectors" / "keytrans-interop"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this command group to the ``ckv`` parser."""
    p = commands.add_parser(
        "run", help="run the main job on the embedded defaults", description=__doc__
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("build"),
        help="directory for every output (default: ./build)",
    )
    p.add_argument(
        "--shared",
        type=Path,
        default=None,
        help="KEYTRANS interop vectors (default: ../shared/vectors/keytrans-interop "
        "next to the repository)",
    )
    p.add_argument("--skip-spec", action="store_true", help="do not render the spec")
    p.set_defaults(handler=_run)


def repository_root() -> Path | None:
    """The source checkout this package runs from, if any."""
    root = resources.spec_root().parent
    return root if (root / "docs" / "conf.py").is_file() else None


def _step(title: str) -> None:
    print(f"\n== {title}")


def _render_spec(root: Path, out: Path) -> bool:
    try:
        from sphinx.cmd.build import build_main  # noqa: PLC0415 - optional, dev extra
    except ImportError:
        print("   skipped: Sphinx is not installed (pip install 'ckv-spec[dev]')")
        return True
    target = out / "spec"
    started = time.perf_counter()
    code = build_main(
        [
            "-q",
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-c",
            str(root / "docs"),
            str(root / "spec"),
            str(target),
        ]
    )
    if code != 0:
        print(f"   FAILED (sphinx exit code {code})")
        return False
    print(f"   rendered in {time.perf_counter() - started:.1f}s: {target / 'index.html'}")
    return True


def _interop(shared: Path, out: Path) -> bool:
    """Run every KEYTRANS interop vector file; write the outcomes as JSON."""
    if not shared.is_dir():
        print(f"   skipped: {shared} not found (use --shared DIR)")
        return True
    reports = run_directory(shared)
    totals = dict.fromkeys(("pass", "fail", "divergence"), 0)
    record = []
    for report in reports:
        print(f"   {report.summary()}")
        cases = {
            name: {"status": o.status.value, "detail": o.detail, "divergence": o.divergence}
            for name, o in report.outcomes.items()
        }
        record.append(
            {
                "file": report.name,
                "primitive": report.primitive,
                "implemented": report.implemented,
                "cases": cases,
            }
        )
        if report.implemented:
            for o in report.outcomes.values():
                totals[o.status.value] += 1
    target = out / "interop" / "keytrans.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"vectors": str(shared), "files": record}, indent=2) + "\n", encoding="utf-8"
    )
    print(
        f"   {totals['pass']} passed, {totals['fail']} failed, {totals['divergence']} known "
        f"divergences; every case: {target}"
    )
    return totals["fail"] == 0


def _demo(out: Path) -> bool:
    """Play the scripted story; save its alerts and check each as a third party."""
    story = run_story(build_world())
    for line in story.render().splitlines():
        print(f"   {line}")
    alerts = [e.alert for e in story.events if e.alert is not None]
    paths = save_alerts(alerts, out / "alerts")
    refuted = [e for e in story.events if e.alert is not None and "REFUTED" in e.checked]
    print(f"   {len(paths)} alerts saved under {out / 'alerts'} (check one: ckv alert check FILE)")
    return not refuted


def _run(args: argparse.Namespace) -> int:
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    root = repository_root()
    shared = args.shared
    if shared is None:
        env = os.environ.get("CKV_SHARED")
        base = Path(env) / "vectors" / "keytrans-interop" if env else None
        shared = base or ((root / DEFAULT_SHARED) if root else DEFAULT_SHARED)
    results: list[bool] = []

    _step("Wire format")
    schema = load_schema()
    print(
        f"   {len(schema.structs)} structures and {len(schema.enums)} enums, read from "
        f"{resources.spec_root() / 'wire'}"
    )

    _step("KEYTRANS interop vectors")
    results.append(_interop(shared, out))

    _step("The CKV story (ckv demo)")
    results.append(_demo(out))

    _step("Specification")
    if args.skip_spec:
        print("   skipped (--skip-spec)")
    elif root is None:
        print("   skipped: the spec sources are only in a source checkout")
    else:
        results.append(_render_spec(root, out))

    _step("Conformance suite (ckv conformance run)")
    results.append(validate_reference(out / "conformance", indent="   ") == 0)

    ok = all(results)
    print(f"\n{'OK' if ok else 'FAILED'}: outputs are under {out}")
    return 0 if ok else 1
