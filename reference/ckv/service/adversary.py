"""Test-only adversary commands over HTTP, and the demo story against a live server (API-010).

A server started with ``--allow-adversary`` runs an
:class:`~ckv.directory.adversary.AdversarialDirectory` in memory (no storage)
on a clock the test drives, and serves under ``/v1/test/`` the commands the
``ckv demo`` story needs: set the clock, sequence a heartbeat, inject a
version, fork the log. A server started without the flag has none of these
routes. :func:`remote_world` builds the story's world from such a server, so
that :func:`ckv.demo.run_story` plays against it over HTTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Collection
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ckv.demo import Clock, SeededRandom, World
from ckv.directory.adversary import AdversarialDirectory
from ckv.errors import UsageError
from ckv.service.client import HttpDirectory
from ckv.sync import InMemorySyncService

__all__ = ["ManualClock", "RemoteAdversary", "adversary_routes", "remote_world"]

Guard = Callable[
    [Callable[[Request], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]
]


class ManualClock:
    """A clock the tests set (milliseconds); it never goes backwards."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        """The time in milliseconds."""
        return self.now

    def set(self, now: int) -> None:
        """Move the clock to ``now`` (not backwards)."""
        self.now = max(self.now, now)


def _hex(body: dict[str, Any], key: str) -> bytes:
    value = body.get(key)
    if not isinstance(value, str):
        msg = f"field {key!r} must be a hex string"
        raise UsageError(msg, requirement="API-010")
    try:
        return bytes.fromhex(value)
    except ValueError:
        msg = f"field {key!r} is not hex"
        raise UsageError(msg, requirement="API-010") from None


def adversary_routes(directory: Any, lock: threading.Lock, guard: Guard) -> list[Route]:
    """The ``/v1/test/`` routes; ``directory`` is an AdversarialDirectory on a ManualClock."""
    if not isinstance(directory, AdversarialDirectory):
        msg = "the adversary commands need an AdversarialDirectory"
        raise UsageError(msg, requirement="API-010")
    adversary = directory
    clock = adversary._clock  # the ManualClock the server built it with

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            msg = "the body is not JSON"
            raise UsageError(msg, requirement="API-010") from None
        if not isinstance(body, dict):
            msg = "the body is not a JSON object"
            raise UsageError(msg, requirement="API-010")
        return body

    async def set_clock(request: Request) -> Response:
        body = await body_of(request)
        now = body.get("now")
        if not isinstance(now, int) or not isinstance(clock, ManualClock):
            msg = "POST {'now': ms} to a server on a manual clock"
            raise UsageError(msg, requirement="API-010")
        with lock:
            clock.set(now)
        return JSONResponse({"now": clock()})

    async def heartbeat(request: Request) -> Response:
        body = await body_of(request)
        with lock:
            due = adversary.heartbeat_due()
            if body.get("check_only", False):
                return JSONResponse({"due": due, "size": adversary.size})
            if due or not body.get("if_due", False):
                adversary.heartbeat()
                return JSONResponse({"sequenced": True, "size": adversary.size})
        return JSONResponse({"sequenced": False, "size": adversary.size})

    async def inject(request: Request) -> Response:
        body = await body_of(request)
        with lock:
            position = adversary.inject(_hex(body, "label"), _hex(body, "value"))
        return JSONResponse({"position": position})

    async def fork(request: Request) -> Response:
        body = await body_of(request)
        clients = body.get("clients")
        if not isinstance(clients, list) or not all(isinstance(c, str) for c in clients):
            msg = "field 'clients' must be a list of client ids"
            raise UsageError(msg, requirement="API-010")
        with lock:
            shared = adversary.fork(clients, label=_hex(body, "label"), value=_hex(body, "value"))
        return JSONResponse({"shared": shared})

    return [
        Route("/v1/test/clock", guard(set_clock), methods=["POST"]),
        Route("/v1/test/heartbeat", guard(heartbeat), methods=["POST"]),
        Route("/v1/test/inject", guard(inject), methods=["POST"]),
        Route("/v1/test/fork", guard(fork), methods=["POST"]),
    ]


class RemoteAdversary:
    """The part of :class:`AdversarialDirectory` the demo story uses, over HTTP."""

    def __init__(self, base_url: str) -> None:
        self._http = HttpDirectory(base_url, "demo-director")

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, _, data = self._http.request("POST", path, json.dumps(body).encode())
        if status != 200:
            msg = f"{path}: {status} {data[:300].decode('utf-8', 'replace')}"
            raise UsageError(msg, requirement="API-010")
        result: dict[str, Any] = json.loads(data)
        return result

    def client(self, client_id: str) -> HttpDirectory:
        """The transport of client ``client_id``."""
        return self._http.client(client_id)

    def set_clock(self, now: int) -> None:
        """Move the server's clock."""
        self._post("/v1/test/clock", {"now": now})

    def heartbeat_due(self) -> bool:
        """Whether LOGOP-014 asks the server for a heartbeat entry now."""
        return bool(self._post("/v1/test/heartbeat", {"check_only": True})["due"])

    def heartbeat(self) -> None:
        """Sequence a heartbeat."""
        self._post("/v1/test/heartbeat", {})

    def inject(self, label: bytes, value: bytes) -> int:
        """Publish a version of ``label`` its owner did not make."""
        return int(
            self._post("/v1/test/inject", {"label": label.hex(), "value": value.hex()})["position"]
        )

    def fork(self, clients: Collection[str], *, label: bytes, value: bytes) -> int:
        """Show ``clients`` a branch of the log in which ``label`` has a forged version."""
        body = {"clients": sorted(clients), "label": label.hex(), "value": value.hex()}
        return int(self._post("/v1/test/fork", body)["shared"])


class _RemoteClock(Clock):
    """The story's clock; moving it moves the server's."""

    def __init__(self, remote: RemoteAdversary, start: int) -> None:
        super().__init__(start)
        self._remote = remote

    def advance(self, ms: int) -> None:
        super().advance(ms)
        self._remote.set_clock(self.now)


def remote_world(base_url: str, seed: bytes = b"ckv demo", start: int | None = None) -> World:
    """The world of :func:`ckv.demo.run_story` on a live ``--allow-adversary`` server."""
    remote = RemoteAdversary(base_url)
    status, _, data = remote._http.request("GET", "/healthz")
    if status != 200:
        msg = f"{base_url} is not a CKV directory service"
        raise UsageError(msg)
    config = remote.client("").configuration()
    now = int(json.loads(data).get("now", 0)) if start is None else start
    clock = _RemoteClock(remote, now)
    remote.set_clock(clock.now)
    random = SeededRandom(seed)
    sync = InMemorySyncService(SeededRandom(seed + b" sync"), config.ciphersuite)
    return World(cast("AdversarialDirectory", remote), sync, clock, random)
