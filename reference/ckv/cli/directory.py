"""``ckv directory serve``: the key directory as an HTTP service (spec/directory-api.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ckv.errors import CKVError
from ckv.service.app import ServiceSettings
from ckv.service.server import build, load_keys, serve
from ckv.wire.constants import parse_suite

__all__ = ["main", "register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``directory`` to the ``ckv`` parser."""
    group = commands.add_parser(
        "directory",
        help="run the key directory as a network service",
        description="The CKV key directory over HTTP (spec chapter 'Directory API').",
    )
    sub = group.add_subparsers(dest="directory_command", metavar="ACTION", required=True)
    p = sub.add_parser(
        "serve",
        help="serve the directory over HTTP",
        description="Serve the directory's HTTP API. The log lives in --db: a SQLite file "
        "(default) or a postgresql:// URL shared by several service processes. The log's "
        "private keys live in --keys (created on first use).",
    )
    p.add_argument("--db", metavar="URL", help="SQLite path, sqlite:///path or postgresql://...")
    p.add_argument("--keys", type=Path, required=True, metavar="FILE", help="the log's key file")
    p.add_argument("--suite", default="ed25519", help="cipher suite of new keys")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8420, help="port (0: any free port)")
    p.add_argument("--max-body", type=int, default=64 * 1024, help="largest request body, bytes")
    p.add_argument("--rate", type=float, default=200.0, help="requests/s per client (0: none)")
    p.add_argument("--burst", type=int, default=400, help="burst of requests per client")
    p.add_argument(
        "--allow-adversary",
        action="store_true",
        help="TEST ONLY: an in-memory directory that misbehaves on command under /v1/test/ "
        "(for ckv demo --server). Never use in a deployment.",
    )
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    keys = load_keys(args.keys, parse_suite(args.suite))
    settings = ServiceSettings(
        max_body=args.max_body,
        rate=args.rate,
        burst=args.burst,
        allow_adversary=args.allow_adversary,
    )
    if args.allow_adversary:
        print("WARNING: --allow-adversary: this directory lies on command", file=sys.stderr)
    serve(build(keys, args.db, settings), args.host, args.port)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``ckv directory ...`` on its own (until it is registered in ``ckv.cli``)."""
    parser = argparse.ArgumentParser(prog="ckv")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except CKVError as exc:
        print(f"ckv: error: {exc.diagnostics()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return result


if __name__ == "__main__":
    sys.exit(main())
