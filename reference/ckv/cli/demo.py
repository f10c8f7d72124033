"""``ckv demo`` and ``ckv alert check``: the CKV story, and checking an alert's evidence.

``ckv demo`` plays the scripted story of :mod:`ckv.demo` on an in-memory
directory and prints its timeline; ``--save-alerts DIR`` writes every alert it
raised as a file, which ``ckv alert check`` verifies as a third party would,
from the file alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ckv.alerts import REGISTRY, check_alert, decode_alert, encode_alert
from ckv.demo import build_world, run_story
from ckv.errors import UsageError
from ckv.kt_client import verify_lookup_evidence
from ckv.wire import decode, messages
from ckv.wire.constants import parse_suite

__all__ = ["register", "save_alerts"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo`` and ``alert`` to the ``ckv`` parser."""
    p = commands.add_parser(
        "demo",
        help="play the CKV story on an in-memory directory",
        description="Alice and Bob enroll devices, turn CKV on, verify each other in "
        "person; the directory then injects a device, forks and Bob turns CKV off. Every "
        "alert is printed with its registry code.",
    )
    p.add_argument("--seed", default="ckv demo", help="seed of the deterministic run")
    p.add_argument("--suite", default="ed25519", help="cipher suite (default: ed25519)")
    p.add_argument(
        "--save-alerts", type=Path, metavar="DIR", help="write each alert to DIR/NN-code.alert"
    )
    p.add_argument(
        "--server",
        metavar="URL",
        help="play the story against a live `ckv directory serve --allow-adversary` server",
    )
    p.set_defaults(handler=_demo)

    a = commands.add_parser("alert", help="work with exported alerts")
    sub = a.add_subparsers(dest="alert_command", metavar="COMMAND", required=True)
    c = sub.add_parser(
        "check",
        help="check an exported alert's evidence as a third party",
        description="Decode an alert file and check its evidence (ALERT-005): every lookup is "
        "verified from an empty state under the directory configuration the alert names. "
        "Exit 0 when the evidence shows the claim, 1 otherwise.",
    )
    c.add_argument("files", nargs="+", type=Path, metavar="FILE")
    c.add_argument(
        "--directory-key",
        metavar="HEX",
        help="the directory's signature public key you trust; refuse alerts naming another",
    )
    c.set_defaults(handler=_check)


def save_alerts(alerts: list[messages.Alert], target: Path) -> list[Path]:
    """Write each alert to ``target``; returns the paths."""
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, alert in enumerate(alerts, 1):
        path = target / f"{n:02d}-{alert.code.name}.alert"
        path.write_bytes(encode_alert(alert))
        paths.append(path)
    return paths


def _demo(args: argparse.Namespace) -> int:
    if args.server:
        from ckv.service.adversary import remote_world  # noqa: PLC0415 - the service's deps

        world = remote_world(args.server, args.seed.encode("utf-8"))
    else:
        world = build_world(args.seed.encode("utf-8"), parse_suite(args.suite))
    story = run_story(world, say=print)
    if args.save_alerts is not None:
        alerts = [e.alert for e in story.events if e.alert is not None]
        paths = save_alerts(alerts, args.save_alerts)
        print(f"\n{len(paths)} alerts written to {args.save_alerts}")
    return 0


def _lookup(
    config: messages.Configuration,
    request: messages.SearchRequest,
    response: messages.SearchResponse,
    now: int,
) -> tuple[int, bytes]:
    result = verify_lookup_evidence(config, request, response, now)
    return result.version, result.value


def _check(args: argparse.Namespace) -> int:
    failures = 0
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            msg = f"{path}: cannot read: {exc.strerror}"
            raise UsageError(msg) from None
        config = _config_of(data, path)
        if args.directory_key and config.signature_public_key.hex() != args.directory_key.lower():
            print(f"{path}: names directory key {config.signature_public_key.hex()}, not yours")
            failures += 1
            continue
        alert = decode_alert(data, config)
        info = REGISTRY[alert.code]
        try:
            checked = check_alert(alert, _lookup)
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - every refutation is reported, not raised
            diagnostics = getattr(exc, "diagnostics", None)
            text = diagnostics() if callable(diagnostics) else str(exc)
            print(f"{path}: {alert.code.name}: REFUTED: {text}")
            failures += 1
            continue
        scope = "the whole claim" if checked.complete else "only what the directory published"
        print(f"{path}: {int(alert.code)} {alert.code.name} ({info.category.value}): {scope}")
    return 1 if failures else 0


def _config_of(data: bytes, path: Path) -> messages.Configuration:
    """The configuration inside an alert, read before the rest (it gives the context)."""
    for suite in messages.CipherSuite:
        for mode in messages.DeploymentMode:
            try:
                alert = decode(messages.Alert, data, suite=suite, mode=mode)
            except Exception:  # noqa: BLE001, S112 - try the next context
                continue
            if alert.directory.ciphersuite is suite and alert.directory.mode is mode:
                return alert.directory
    msg = f"{path}: not an encoded CKV Alert"
    raise UsageError(msg, requirement="ALERT-002")
