"""Running the directory service: keys, storage, the app, uvicorn and heartbeats.

:func:`load_keys` reads (or creates, atomically and readable by the owner only)
the file holding the log's private keys and configuration; :func:`build` makes
the directory and the app; :func:`serve` runs it with uvicorn on a socket bound
before startup (port 0 picks a free one) and prints ``listening on URL`` once
the socket is bound.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from ckv.demo import demo_configuration
from ckv.directory.adversary import AdversarialDirectory
from ckv.directory.policy import ckv_validator
from ckv.errors import UsageError
from ckv.service.adversary import ManualClock
from ckv.service.app import ServiceSettings, create_app
from ckv.service.durable import DurableDirectory, open_directory
from ckv.service.storage import open_storage
from ckv.transparency_log import LogKeys
from ckv.wire.messages import CipherSuite

__all__ = ["Service", "build", "load_keys", "serve", "wall_clock", "write_atomically"]


def wall_clock() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def write_atomically(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``path`` so that a crash leaves the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)
        dirfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_keys(path: Path, suite: CipherSuite = CipherSuite.KT_128_SHA256_Ed25519) -> LogKeys:
    """The log's keys from ``path``; a new pair of keys is generated if the file is absent."""
    if not path.exists():
        data = {
            "suite": suite.name,
            "signature_private_key": secrets.token_bytes(32).hex(),
            "vrf_private_key": secrets.token_bytes(32).hex(),
        }
        write_atomically(path, json.dumps(data, indent=2).encode())
    try:
        data = json.loads(path.read_text())
        chosen = CipherSuite[data["suite"]]
        log_key = bytes.fromhex(data["signature_private_key"])
        vrf_key = bytes.fromhex(data["vrf_private_key"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        msg = f"{path}: not a CKV directory key file ({error})"
        raise UsageError(msg) from error
    return LogKeys(demo_configuration(log_key, vrf_key, chosen), log_key, vrf_key)


@dataclass
class Service:
    """A built service: the directory and its app."""

    directory: DurableDirectory | AdversarialDirectory
    app: Starlette


def build(
    keys: LogKeys, db_url: str | None, settings: ServiceSettings, *, start_ms: int | None = None
) -> Service:
    """The directory and app; with ``allow_adversary`` an in-memory adversarial one."""
    if settings.allow_adversary:
        clock = ManualClock(wall_clock() if start_ms is None else start_ms)
        made: list[AdversarialDirectory] = []

        def value_at(label: bytes, version: int) -> bytes | None:
            return made[0].value(label, version)

        def greatest(label: bytes) -> int | None:
            return made[0].greatest_version(label)

        validator = ckv_validator(keys.config.ciphersuite, value_at, greatest)
        adversary = AdversarialDirectory(keys, clock=clock, validator=validator)
        made.append(adversary)
        return Service(adversary, create_app(adversary, settings))
    if db_url is None:
        msg = "give --db (a SQLite path or a postgresql:// URL)"
        raise UsageError(msg)
    directory = open_directory(keys, open_storage(db_url), clock=wall_clock)
    return Service(directory, create_app(directory, settings))


def _heartbeats(directory: DurableDirectory, stop: threading.Event) -> None:
    """Keep the log fresh (LOGOP-014) while the server runs."""
    while not stop.wait(1.0):
        try:
            if directory.heartbeat_due():
                directory.heartbeat()
        except Exception as error:  # noqa: BLE001 - reported, retried next second
            print(f"ckv directory: heartbeat failed: {error}", file=sys.stderr)


def serve(service: Service, host: str = "127.0.0.1", port: int = 8420) -> None:
    """Run the service until interrupted; prints ``listening on URL`` when bound."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: a response's header and body writes must not wait
    # for the client's delayed ACK (Nagle), which costs 40 ms per request on loopback.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        service.app, log_level="warning", access_log=False, timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    stop = threading.Event()
    if isinstance(service.directory, DurableDirectory):
        threading.Thread(
            target=_heartbeats, args=(service.directory, stop), daemon=True, name="heartbeats"
        ).start()
    print(f"listening on http://{host}:{bound}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        if isinstance(service.directory, DurableDirectory):
            service.directory.storage.close()
