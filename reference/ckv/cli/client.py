"""``ckv client``: use a running directory service (spec/directory-api.md).

The state file holds the devices this user runs (each with its key-transparency
state, account keys, contacts and alerts) and the sync channel they share. It
is read at the start of a command and written back, atomically (a new file
renamed over the old one), only after the command has finished: a command
that fails verification leaves the file as it was. The file is a Python pickle
of those objects; it is private to its user (mode 0600) and must never be
loaded from anyone else.

Commands: ``create-account``, ``enroll``, ``enable-ckv``, ``disable-ckv``,
``verify`` (a contact, by handle), ``search`` (a raw, verified lookup),
``monitor`` (self-monitoring and contact monitoring) and ``devices``.
"""

from __future__ import annotations

import argparse
import pickle
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ckv.device import Device
from ckv.errors import CKVError, UsageError
from ckv.identity import account_label, handle_label, parse_handle
from ckv.service.client import HttpDirectory
from ckv.service.server import write_atomically
from ckv.sync import InMemorySyncService
from ckv.wire import messages

__all__ = ["ClientFile", "main", "register", "wall_clock"]

_MAGIC = b"CKV-client-state-v1\n"


def wall_clock() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


@dataclass
class ClientFile:
    """What ``ckv client`` keeps between commands."""

    server: str
    config: messages.Configuration
    sync: InMemorySyncService
    devices: dict[str, Device] = field(default_factory=dict)


def _load(path: Path, server: str | None) -> ClientFile:
    if not path.exists():
        if server is None:
            msg = f"{path} does not exist: give --server to start a new state file"
            raise UsageError(msg)
        transport = HttpDirectory(server)
        config = transport.configuration()
        return ClientFile(
            server, config, InMemorySyncService(secrets.token_bytes, config.ciphersuite)
        )
    data = path.read_bytes()
    if not data.startswith(_MAGIC):
        msg = f"{path} is not a ckv client state file"
        raise UsageError(msg)
    state = pickle.loads(data[len(_MAGIC) :])  # noqa: S301 - the user's own private file
    if not isinstance(state, ClientFile):
        msg = f"{path} is not a ckv client state file"
        raise UsageError(msg)
    if server is not None and server != state.server:
        for device in state.devices.values():
            inner = device.transport._inner
            if isinstance(inner, HttpDirectory):
                inner.rebase(server)
        state.server = server
    return state


def _save(path: Path, state: ClientFile) -> None:
    write_atomically(path, _MAGIC + pickle.dumps(state))


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``client`` to the ``ckv`` parser."""
    p = commands.add_parser(
        "client",
        help="use a running CKV directory service",
        description="Run CKV devices against a directory service. State lives in --state "
        "(written atomically, only after a command succeeds).",
    )
    p.add_argument("--server", metavar="URL", help="the directory service (pinned on first use)")
    p.add_argument("--state", type=Path, required=True, metavar="FILE", help="the state file")
    sub = p.add_subparsers(dest="client_command", metavar="ACTION", required=True)

    c = sub.add_parser("create-account", help="a new device and a new account")
    c.add_argument("--device", required=True, help="a name for the new device")
    c.add_argument("handles", nargs="+", metavar="HANDLE", help="phone numbers or e-mail addresses")
    c.set_defaults(handler=_run, action=_create)

    e = sub.add_parser("enroll", help="enroll a new device into an account")
    e.add_argument("--device", required=True, help="an enrolled device of the account")
    e.add_argument("--new", required=True, help="a name for the new device")
    e.set_defaults(handler=_run, action=_enroll)

    for name, on in (("enable-ckv", True), ("disable-ckv", False)):
        t = sub.add_parser(name, help=f"turn CKV {'on' if on else 'off'} for the account")
        t.add_argument("--device", required=True)
        t.set_defaults(handler=_run, action=_toggle, on=on)

    v = sub.add_parser("verify", help="verify a contact by handle (automatic verification)")
    v.add_argument("--device", required=True)
    v.add_argument("handle", metavar="HANDLE")
    v.set_defaults(handler=_run, action=_verify)

    s = sub.add_parser("search", help="a verified lookup of a handle or account")
    s.add_argument("--device", required=True)
    group = s.add_mutually_exclusive_group(required=True)
    group.add_argument("--handle", help="a handle")
    group.add_argument("--account", metavar="HEX", help="an account identifier")
    s.set_defaults(handler=_run, action=_search)

    m = sub.add_parser("monitor", help="self-monitoring and contact monitoring")
    m.add_argument("--device", required=True)
    m.set_defaults(handler=_run, action=_monitor)

    d = sub.add_parser("devices", help="list the devices in the state file")
    d.set_defaults(handler=_run, action=_devices)


def _device(state: ClientFile, name: str) -> Device:
    device = state.devices.get(name)
    if device is None:
        known = ", ".join(sorted(state.devices)) or "none"
        msg = f"no device {name!r} in the state file (known: {known})"
        raise UsageError(msg)
    return device


def _new_device(state: ClientFile, name: str) -> Device:
    if name in state.devices:
        msg = f"a device {name!r} already exists"
        raise UsageError(msg)
    transport = HttpDirectory(state.server, f"{name}-{secrets.token_hex(4)}")
    device = Device(
        name,
        transport=transport,
        sync=state.sync,
        clock=wall_clock,
        random_bytes=secrets.token_bytes,
    )
    state.devices[name] = device
    return device


def _alerts(alerts: list[messages.Alert]) -> None:
    for alert in alerts:
        print(f"ALERT {int(alert.code)} {alert.code.name}")
    if not alerts:
        print("no alert")


def _create(state: ClientFile, args: argparse.Namespace) -> None:
    device = _new_device(state, args.device)
    account = device.create_account([parse_handle(h) for h in args.handles])
    print(f"account {account.hex()} created on device {args.device}")
    print(f"public verification code: {device.public_code()}")


def _enroll(state: ClientFile, args: argparse.Namespace) -> None:
    existing = _device(state, args.device)
    new = _new_device(state, args.new)
    existing.enroll(new)
    print(f"{args.new} enrolled by {args.device}")


def _toggle(state: ClientFile, args: argparse.Namespace) -> None:
    device = _device(state, args.device)
    if args.on:
        device.enable_ckv()
    else:
        device.disable_ckv()
    print(f"CKV {'on' if args.on else 'off'}")


def _verify(state: ClientFile, args: argparse.Namespace) -> None:
    device = _device(state, args.device)
    record = device.verify_contact(parse_handle(args.handle))
    print(f"{args.handle}: {record.card.value}")
    _alerts(list(record.alerts))


def _search(state: ClientFile, args: argparse.Namespace) -> None:
    device = _device(state, args.device)
    if args.handle:
        label = handle_label(parse_handle(args.handle))
    else:
        try:
            label = account_label(bytes.fromhex(args.account))
        except ValueError:
            msg = f"--account is not hex: {args.account!r}"
            raise UsageError(msg) from None
    found = device.kt.lookup(label)
    print(f"label {label.hex()}: version {found.version}, tree size {found.tree_size}")
    print(f"value {found.value.hex()}")


def _monitor(state: ClientFile, args: argparse.Namespace) -> None:
    device = _device(state, args.device)
    _alerts(device.self_monitor() + device.monitor_contacts())


def _devices(state: ClientFile, args: argparse.Namespace) -> None:
    del args
    print(f"server {state.server}")
    for name, device in sorted(state.devices.items()):
        account = device.account_id.hex() if device.account_id else "no account"
        print(f"{name}: device {device.device_id.hex()}, account {account}, CKV {device.ckv_on}")


def _run(args: argparse.Namespace) -> int:
    state = _load(args.state, args.server)
    args.action(state, args)
    # Written only now: a command that raised (a verification failure, a refusal) leaves
    # the previous state in place.
    _save(args.state, state)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``ckv client ...`` on its own (until it is registered in ``ckv.cli``)."""
    parser = argparse.ArgumentParser(prog="ckv")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except CKVError as exc:
        print(f"ckv: error: {exc.diagnostics()}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
