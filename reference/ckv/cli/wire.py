"""``ckv wire``: list, decode and encode wire structures; regenerate message classes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ckv.errors import DecodeError, EncodeError, ErrorCode, UsageError
from ckv.wire import codegen, messages
from ckv.wire.codec import DEFAULT_SUITE, codec_for, make_context
from ckv.wire.constants import parse_suite
from ckv.wire.jsonform import from_json, to_json
from ckv.wire.schema import load_schema

__all__ = ["register"]

_HINTS = {
    "Configuration.mode": "pass --mode (contactMonitoring, thirdPartyManagement or "
    "thirdPartyAuditing)",
    "SearchRequest.version": "pass --context SearchRequest.version=absent (greatest-version "
    "search) or =present (fixed-version search)",
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this command group to the ``ckv`` parser."""
    wire = commands.add_parser(
        "wire",
        help="list, decode and encode wire structures",
        description="Work with the CKV wire format (spec/wire/*.tls).",
    )
    sub = wire.add_subparsers(dest="wire_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="print every structure, one per line")
    p.add_argument(
        "--long",
        action="store_true",
        help="also show the defining file and the decoding context each needs",
    )
    p.set_defaults(handler=_list)

    p = sub.add_parser("decode", help="decode hex bytes and print the value as JSON")
    p.add_argument("struct", metavar="STRUCT", help="structure name, as in `ckv wire list`")
    p.add_argument("hex", metavar="HEX", help="the encoding in hex, or - to read it from stdin")
    _context_options(p)
    p.set_defaults(handler=_decode)

    p = sub.add_parser("encode", help="read a value as JSON on stdin and print its encoding")
    p.add_argument("struct", metavar="STRUCT", help="structure name, as in `ckv wire list`")
    _context_options(p)
    p.set_defaults(handler=_encode)

    p = sub.add_parser("codegen", help="regenerate ckv/wire/messages.py from spec/wire")
    p.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the file is out of date"
    )
    p.set_defaults(handler=_codegen)


def _context_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--suite",
        default=DEFAULT_SUITE.name,
        help="cipher suite fixing Hash.Nh, VRF.Np, Nc: a name, p256, ed25519 or a "
        f"number (default: {DEFAULT_SUITE.name})",
    )
    p.add_argument(
        "--mode", help="deployment mode, for structures whose layout depends on Configuration.mode"
    )
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="other decoding context, e.g. SearchRequest.version=absent (repeatable)",
    )


def _context(args: argparse.Namespace) -> Mapping[str, object]:
    extra: dict[str, object] = {}
    for item in args.context:
        key, sep, value = item.partition("=")
        if not sep:
            msg = f"--context {item!r}: expected KEY=VALUE"
            raise UsageError(msg)
        extra[key.strip()] = value.strip()
    return make_context(args.mode, extra)


def _struct_name(name: str) -> str:
    if name not in messages.STRUCTS:
        close = [s for s in messages.STRUCTS if s.lower() == name.lower()]
        hint = f" (did you mean {close[0]}?)" if close else "; `ckv wire list` shows them all"
        msg = f"unknown structure {name!r}{hint}"
        raise UsageError(msg)
    return name


def _with_hint(exc: DecodeError | EncodeError) -> str:
    text = exc.diagnostics()
    if exc.code is ErrorCode.MISSING_CONTEXT:
        for key, hint in _HINTS.items():
            if key in exc.reason:
                text += f"; {hint}"
    return text


def _list(args: argparse.Namespace) -> int:
    schema = load_schema()
    for name in sorted(schema.structs):
        if args.long:
            source = schema.sources[name][0]
            needs = ", ".join(sorted(schema.context_needed(name))) or "-"
            print(f"{name:24} {source:42} context: {needs}")
        else:
            print(name)
    return 0


def _read_hex(text: str) -> bytes:
    if text == "-":
        text = sys.stdin.read()
    compact = "".join(text.split())
    if compact.startswith(("0x", "0X")):
        compact = compact[2:]
    bad = next((i for i, ch in enumerate(compact) if ch not in "0123456789abcdefABCDEF"), None)
    if bad is not None:
        msg = f"input: not hex: character {compact[bad]!r} at position {bad}"
        raise UsageError(msg)
    if len(compact) % 2:
        msg = f"input: not hex: odd number of digits ({len(compact)})"
        raise UsageError(msg)
    return bytes.fromhex(compact)


def _decode(args: argparse.Namespace) -> int:
    name = _struct_name(args.struct)
    data = _read_hex(args.hex)
    context = _context(args)
    codec = codec_for(parse_suite(args.suite))
    try:
        value: object = codec.decode(name, data, context=context)
    except DecodeError as exc:
        print(f"ckv: error: {_with_hint(exc)}", file=sys.stderr)
        return 1
    print(json.dumps(to_json(value, context=context), indent=2))
    return 0


def _encode(args: argparse.Namespace) -> int:
    name = _struct_name(args.struct)
    context = _context(args)
    codec = codec_for(parse_suite(args.suite))
    text = sys.stdin.read()
    try:
        obj: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"stdin: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise UsageError(msg) from None
    try:
        value = from_json(name, obj, context=context)
        data = codec.encode(value, context=context)
    except EncodeError as exc:
        print(f"ckv: error: {_with_hint(exc)}", file=sys.stderr)
        return 1
    print(data.hex())
    return 0


def _codegen(args: argparse.Namespace) -> int:
    target = Path(messages.__file__)
    text = codegen.messages_source(load_schema())
    current = target.read_text(encoding="utf-8")
    if args.check:
        if current != text:
            print(
                f"ckv: error: {target} is out of date with spec/wire; run `ckv wire codegen`",
                file=sys.stderr,
            )
            return 1
        print(f"{target.name} is up to date")
        return 0
    if current != text:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    else:
        print(f"{target.name} is up to date")
    return 0
