"""A transport that remembers the last exchange (chapter "Automatic verification and alerts")."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ckv import wire
from ckv.directory import DirectoryTransport
from ckv.wire.messages import (
    Configuration,
    ContactMonitorRequest,
    ContactMonitorResponse,
    DistinguishedRequest,
    DistinguishedResponse,
    OwnerInitRequest,
    OwnerInitResponse,
    OwnerMonitorRequest,
    OwnerMonitorResponse,
    SearchRequest,
    SearchResponse,
    UpdateRequest,
    UpdateResponse,
)

__all__ = ["RecordingTransport"]

_Q = TypeVar("_Q")
_A = TypeVar("_A")


class RecordingTransport:
    """A transport that passes every call on and remembers the last exchange.

    A device keeps the request it sent and the response it got, so that when a
    response fails a check it can attach both as exchange evidence (ALERT-004).
    """

    def __init__(self, inner: DirectoryTransport) -> None:
        self._inner = inner
        self._last: tuple[object, object] | None = None

    def last_exchange(self, config: Configuration) -> tuple[bytes, bytes]:
        """The last request and response, encoded (empty when none came back)."""
        if self._last is None:
            return b"", b""
        request, response = self._last
        context = None
        if isinstance(request, SearchRequest):
            context = {"SearchRequest.version": "absent" if request.version is None else "present"}
        encoded = [
            b""
            if item is None
            else wire.encode(item, suite=config.ciphersuite, mode=config.mode, context=context)
            for item in (request, response)
        ]
        return encoded[0], encoded[1]

    def _call(self, method: Callable[[_Q], _A], request: _Q) -> _A:
        self._last = (request, None)
        response = method(request)
        self._last = (request, response)
        return response

    def configuration(self) -> Configuration:
        """The directory's configuration (not recorded)."""
        return self._inner.configuration()

    def search(self, request: SearchRequest) -> SearchResponse:
        """Pass the call on; remember the exchange."""
        return self._call(self._inner.search, request)

    def update(self, request: UpdateRequest) -> UpdateResponse:
        """Pass the call on; remember the exchange."""
        return self._call(self._inner.update, request)

    def contact_monitor(self, request: ContactMonitorRequest) -> ContactMonitorResponse:
        """Pass the call on; remember the exchange."""
        return self._call(self._inner.contact_monitor, request)

    def owner_init(self, request: OwnerInitRequest) -> OwnerInitResponse:
        """Pass the call on; remember the exchange."""
        return self._call(self._inner.owner_init, request)

    def owner_monitor(self, request: OwnerMonitorRequest) -> OwnerMonitorResponse:
        """Pass the call on; remember the exchange."""
        return self._call(self._inner.owner_monitor, request)

    def distinguished(self, request: DistinguishedRequest) -> DistinguishedResponse:
        """Pass the call on; remember the exchange."""
        return self._call(self._inner.distinguished, request)
