"""The reference implementation's adapter: the registry's handlers behind the protocol.

``conformance/adapters/reference/adapter.py`` runs :func:`main`. It performs
every registered kind by calling the reference implementation, exactly as a
third-party adapter calls its own; the harness talks to it over stdin/stdout
like to any other implementation (CONF-013).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ckv import __version__
from ckv.conformance.protocol import Handler, SessionFactory, serve
from ckv.conformance.vectors import kinds

__all__ = ["handlers", "main"]


def handlers() -> tuple[Mapping[str, Handler], Mapping[str, SessionFactory]]:
    """The stateless handlers and session factories of every registered kind."""
    stateless: dict[str, Handler] = {}
    sessions: dict[str, SessionFactory] = {}
    for name, kind in kinds().items():
        if kind.handler is not None:
            stateless[name] = kind.handler
        if kind.session is not None:
            sessions[name] = kind.session
    return stateless, sessions


def main(name: str = "ckv-reference") -> int:
    """Serve the protocol on stdin/stdout until the harness says ``bye``."""
    stateless, sessions = handlers()
    return serve(name, __version__, stateless, sessions, stdin=sys.stdin, stdout=sys.stdout)
