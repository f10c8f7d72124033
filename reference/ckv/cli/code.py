"""``ckv code public``: compute a public verification code, or check a pasted one."""

from __future__ import annotations

import argparse
import os
import sys

from ckv.errors import CKVError, UsageError
from ckv.in_person import compare_locally
from ckv.public_code import AccountKey, PublicCode, matches, parse
from ckv.wire.codec import DEFAULT_SUITE
from ckv.wire.constants import parse_suite
from ckv.wire.messages import AccountKeyType, AccountPublicKey

__all__ = ["main", "register", "register_public"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this command group to the ``ckv`` parser."""
    code = commands.add_parser(
        "code",
        help="public verification codes",
        description="Compute and check CKV verification codes (spec/ckv/public-code.md).",
    )
    sub = code.add_subparsers(dest="code_command", metavar="ACTION", required=True)
    register_public(sub)
    register_compare(sub)


def register_compare(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ckv code compare``: run both sides of the in-person exchange locally."""
    p = sub.add_parser(
        "compare",
        help="run both sides of the in-person code exchange locally and show both codes",
        description="Run the commit-then-reveal exchange of spec/ckv/in-person-code.md between "
        "two local parties and print each side's code. Keys not given are random.",
    )
    for side in ("a", "b"):
        p.add_argument(f"--key-{side}", metavar="HEX", help=f"party {side}'s account key")
        p.add_argument(f"--account-{side}", metavar="HEX", help=f"party {side}'s account id")
    p.add_argument("--key-type", type=int, default=1, help="account key type (default: 1)")
    p.add_argument("--suite", default=DEFAULT_SUITE.name, help="cipher suite")
    p.set_defaults(handler=_compare)


def _compare(args: argparse.Namespace) -> int:
    try:
        key_type = AccountKeyType(args.key_type)
    except ValueError:
        msg = f"--key-type {args.key_type} is not a registered account key type"
        raise UsageError(msg) from None
    keys = []
    for side, name in (("a", "Alice"), ("b", "Bob")):
        key = getattr(args, f"key_{side}")
        account = getattr(args, f"account_{side}")
        keys.append(
            AccountPublicKey(
                key_type=key_type,
                account_id=_hex(f"--account-{side}", account) if account else name.encode(),
                key=_hex(f"--key-{side}", key) if key else os.urandom(32),
            )
        )
    result = compare_locally(keys[0], keys[1], suite=parse_suite(args.suite))
    for label, data in zip(("commit", "response", "reveal"), result.messages, strict=True):
        print(f"{label:9} {len(data):4} bytes  {data.hex()[:48]}...")
    print(f"initiator shows: {result.initiator_code}")
    print(f"responder shows: {result.responder_code}")
    print("the codes match" if result.match else "the codes DIFFER")
    return 0 if result.match else 1


def register_public(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``public`` to a ``code`` group (for merging with other code commands)."""
    p = sub.add_parser(
        "public",
        help="compute the public verification code of an account key, or check one",
        description="Print the public verification code of an account public key; with "
        "--check CODE, check a pasted code against the key instead (exit 0 if it "
        "matches, 1 if it is malformed or does not match).",
    )
    p.add_argument("key_hex", nargs="?", metavar="KEY", help="the account public key in hex")
    p.add_argument("--key", dest="key_opt", metavar="HEX", help="the same, as an option")
    p.add_argument(
        "--account", required=True, metavar="HEX", help="the directory's account identifier, hex"
    )
    p.add_argument(
        "--key-type",
        default="1",
        metavar="N",
        help="16-bit key type identifier, decimal or 0x... (default: 1)",
    )
    p.add_argument(
        "--suite",
        default=DEFAULT_SUITE.name,
        help=f"cipher suite: a name, p256, ed25519 or a number (default: {DEFAULT_SUITE.name})",
    )
    p.add_argument("--check", metavar="CODE", help="a pasted code to check against the key")
    p.set_defaults(handler=_public)


def _hex(name: str, text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        msg = f"{name} is not hex: {text!r}"
        raise UsageError(msg) from None


def _public(args: argparse.Namespace) -> int:
    if (args.key_hex is None) == (args.key_opt is None):
        msg = "give the account key once: as KEY or with --key"
        raise UsageError(msg)
    try:
        key_type = int(args.key_type, 0)
    except ValueError:
        msg = f"--key-type is not a number: {args.key_type!r}"
        raise UsageError(msg) from None
    account = AccountKey(
        key=_hex("the account key", args.key_hex or args.key_opt),
        key_type=key_type,
        account_id=_hex("--account", args.account),
        suite=parse_suite(args.suite),
    )
    if args.check is None:
        print(PublicCode.for_key(account))
        return 0
    given = parse(args.check)
    if matches(given, account):
        print(f"{given}: matches")
        return 0
    msg = f"{given} is well formed but is not the code of this key; its code is "
    msg += str(PublicCode.for_key(account))
    raise UsageError(msg, requirement="PVC-012")


def main(argv: list[str] | None = None) -> int:
    """Run ``ckv code ...`` on its own (until it is registered in ``ckv.cli``)."""
    parser = argparse.ArgumentParser(prog="ckv")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except CKVError as exc:
        print(f"ckv: error: {exc.diagnostics()}", file=sys.stderr)
        return 1
    return result
