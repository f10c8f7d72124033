"""Run every benchmark at full size and record its output for the specification.

    python benchmarks/record.py [--quick] [NAME ...]

Each benchmark's table is written to ``spec/_benchmarks/<name>.txt`` with a
header naming the date, the Python and the machine, and the performance page
of the specification includes those files as they are. Figures are only ever
what a run printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "spec" / "_benchmarks"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="run each benchmark with --quick")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.names]
    OUT.mkdir(parents=True, exist_ok=True)
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        command = [sys.executable, str(script), *(["--quick"] if args.quick else [])]
        print(f"== {script.name}", flush=True)
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stdout + proc.stderr)
            return proc.returncode
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        header = (
            f"# {script.name}{' --quick' if args.quick else ''}: {when}; Python "
            f"{platform.python_version()}; {machine()}\n"
        )
        (OUT / f"{name}.txt").write_text(header + proc.stdout, encoding="utf-8")
        print(proc.stdout, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
