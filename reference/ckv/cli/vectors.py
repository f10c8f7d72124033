"""``ckv vectors``: generate and check the conformance test vectors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ckv.conformance.vectors import default_schemas_dir, default_vectors_dir
from ckv.errors import CKVError

__all__ = ["main", "register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this command group to the ``ckv`` parser."""
    vectors = commands.add_parser(
        "vectors",
        help="generate and check the conformance test vectors",
        description="Generate the deterministic conformance vectors (conformance/vectors) and "
        "their JSON Schemas (conformance/schemas), or check them (spec: Conformance).",
    )
    sub = vectors.add_subparsers(dest="vectors_command", metavar="ACTION", required=True)
    p = sub.add_parser("generate", help="write every vector file, the manifest and the schemas")
    _dirs(p)
    p.set_defaults(handler=_generate)
    p = sub.add_parser(
        "check",
        help="validate schemas, IDs, counts and requirement IDs; regenerate and compare",
    )
    _dirs(p)
    p.add_argument(
        "--no-regenerate", action="store_true", help="skip the byte-identical regeneration check"
    )
    p.set_defaults(handler=_check)


def _dirs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"vectors directory (default: {default_vectors_dir()})",
    )
    p.add_argument(
        "--schemas",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"schemas directory (default: {default_schemas_dir()})",
    )


def _generate(args: argparse.Namespace) -> int:
    from ckv.conformance.check import write_all  # noqa: PLC0415 - keeps `ckv` quick to start

    out = args.out or default_vectors_dir()
    schemas = args.schemas or default_schemas_dir()
    files, written = write_all(out, schemas)
    size = sum(len(t.encode()) for t in files.values())
    print(
        f"wrote {len(files)} files ({size / 1e6:.2f} MB) to {out} "
        f"and {len(written)} schemas to {schemas}"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from ckv.conformance.check import check  # noqa: PLC0415 - keeps `ckv` quick to start

    out = args.out or default_vectors_dir()
    schemas = args.schemas or default_schemas_dir()
    problems = check(out, schemas, regenerate=not args.no_regenerate)
    for line in problems:
        print(f"ckv vectors check: {line}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{out}: every vector file is valid and reproducible")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``ckv vectors ...`` on its own (until it is registered in ``ckv.cli``)."""
    parser = argparse.ArgumentParser(prog="ckv")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except CKVError as exc:
        print(f"ckv: error: {exc.diagnostics()}", file=sys.stderr)
        return 1
    return result
