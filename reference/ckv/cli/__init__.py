"""The ``ckv`` command line.

Each command group lives in its own module and registers itself with
:func:`build_parser`. Every command returns an exit code; errors the library
raises on purpose (:class:`~ckv.errors.CKVError`) become a one-line message on
stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ckv import __version__
from ckv.cli import client as client_cmd
from ckv.cli import code as code_cmd
from ckv.cli import conformance as conformance_cmd
from ckv.cli import demo as demo_cmd
from ckv.cli import directory as directory_cmd
from ckv.cli import interop as interop_cmd
from ckv.cli import prove as prove_cmd
from ckv.cli import run as run_cmd
from ckv.cli import vectors as vectors_cmd
from ckv.cli import wire as wire_cmd
from ckv.errors import CKVError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ckv``, with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="ckv",
        description="Contact Key Verification: reference implementation and tools.",
    )
    parser.add_argument("--version", action="version", version=f"ckv {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    client_cmd.register(commands)
    code_cmd.register(commands)
    conformance_cmd.register(commands)
    demo_cmd.register(commands)
    directory_cmd.register(commands)
    interop_cmd.register(commands)
    prove_cmd.register(commands)
    run_cmd.register(commands)
    vectors_cmd.register(commands)
    wire_cmd.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except CKVError as exc:
        print(f"ckv: error: {exc.diagnostics()}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # pragma: no cover - e.g. `ckv wire list | head -1`
        return 0
    return code
