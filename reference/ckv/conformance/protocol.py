"""The JSON-lines protocol between the harness and an adapter (conformance/PROTOCOL.md).

One JSON object per line in each direction, UTF-8, no blank lines; the adapter
writes diagnostics to stderr only. Messages (harness -> adapter, reply):

* ``hello`` -> ``hello`` with ``name``, ``version``, ``protocol`` and
  ``capabilities`` (the vector kinds the implementation performs);
* ``case`` (``id``, ``kind``, ``input``) -> ``result``;
* ``open`` (``session``, ``kind``, ``setup``) -> ``opened`` or ``result``
  (invalid / unsupported setup); ``step`` (``session``, ``id``, ``input``) ->
  ``result``; ``close`` (``session``) -> ``closed``;
* ``bye`` -> the adapter exits 0.

A ``result`` carries ``result`` (``valid``, ``invalid`` or ``unsupported``), and
``output`` for valid or ``error`` (an error class), ``requirement`` and
``detail`` for invalid. :func:`serve` implements the adapter side for Python
implementations; the reference adapter is this loop over the registry's handlers.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import IO, Any

from ckv.conformance._util import error_of
from ckv.conformance.vectors import Session
from ckv.errors import CKVError

__all__ = [
    "PROTOCOL_VERSION",
    "invalid",
    "serve",
    "unsupported",
    "valid",
]

JSON = Any
PROTOCOL_VERSION = 1

Handler = Callable[[JSON], JSON]
SessionFactory = Callable[[JSON], Session]


def valid(output: JSON = None) -> dict[str, JSON]:
    """A ``result`` body: the operation succeeded with this output."""
    body: dict[str, JSON] = {"result": "valid"}
    if output is not None:
        body["output"] = output
    return body


def invalid(error: str, requirement: str | None = None, detail: str = "") -> dict[str, JSON]:
    """A ``result`` body: the implementation rejected the input."""
    body: dict[str, JSON] = {"result": "invalid", "error": error, "detail": detail}
    if requirement is not None:
        body["requirement"] = requirement
    return body


def unsupported(detail: str = "") -> dict[str, JSON]:
    """A ``result`` body: the implementation does not perform this (a skip, not a failure)."""
    return {"result": "unsupported", "detail": detail}


def _rejection(exc: CKVError) -> dict[str, JSON]:
    error, requirement = error_of(exc)
    return invalid(error, requirement, exc.diagnostics())


def serve(
    name: str,
    version: str,
    handlers: Mapping[str, Handler],
    sessions: Mapping[str, SessionFactory],
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
) -> int:
    """Answer the harness until ``bye`` or end of input; returns the exit code.

    A handler returns the output of a valid operation and raises a
    :class:`~ckv.errors.CKVError` to reject. Anything else it raises is reported
    as a rejection with error class ``INTERNAL`` and a traceback on stderr.
    """
    inp = stdin or sys.stdin
    out = stdout or sys.stdout
    open_sessions: dict[str, Session] = {}

    def send(message: Mapping[str, JSON]) -> None:
        out.write(json.dumps(message, sort_keys=True) + "\n")
        out.flush()

    def run(fn: Callable[[], JSON]) -> dict[str, JSON]:
        try:
            return valid(fn())
        except CKVError as exc:
            return _rejection(exc)
        except Exception as exc:  # noqa: BLE001 - reported, never fatal to the loop
            traceback.print_exc(file=sys.stderr)
            return invalid("INTERNAL", None, f"{type(exc).__name__}: {exc}")

    for line in inp:
        if not line.strip():
            continue
        msg = json.loads(line)
        kind = msg.get("type")
        if kind == "hello":
            send(
                {
                    "type": "hello",
                    "name": name,
                    "version": version,
                    "protocol": PROTOCOL_VERSION,
                    "capabilities": sorted({*handlers, *sessions}),
                }
            )
        elif kind == "case":
            fn = handlers.get(msg.get("kind", ""))
            if fn is None:
                body = unsupported(f"no handler for {msg.get('kind')!r}")
            else:
                body = run(functools.partial(fn, msg.get("input")))
            send({"type": "result", "id": msg.get("id"), **body})
        elif kind == "open":
            factory = sessions.get(msg.get("kind", ""))
            sid = str(msg.get("session"))
            if factory is None:
                send({"type": "result", "session": sid, **unsupported()})
                continue
            try:
                open_sessions[sid] = factory(msg.get("setup"))
            except CKVError as exc:
                send({"type": "result", "session": sid, **_rejection(exc)})
                continue
            send({"type": "opened", "session": sid})
        elif kind == "step":
            session = open_sessions.get(str(msg.get("session")))
            if session is None:
                body = invalid("INTERNAL", None, "no such session")
            else:
                body = run(functools.partial(session.step, msg.get("input")))
            send({"type": "result", "id": msg.get("id"), **body})
        elif kind == "close":
            open_sessions.pop(str(msg.get("session")), None)
            send({"type": "closed", "session": msg.get("session")})
        elif kind == "bye":
            return 0
        else:
            send({"type": "error", "detail": f"unknown message type {kind!r}"})
    return 0
