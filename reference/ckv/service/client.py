"""A :class:`~ckv.directory.DirectoryTransport` over the HTTP API (API-nnn).

:class:`HttpDirectory` lets :class:`~ckv.kt_client.KTClient` and
:class:`~ckv.device.Device` run unchanged against a directory service: each
method posts the TLS encoding of the request and decodes the response. A 4xx
refusal becomes :class:`~ckv.directory.DirectoryRefused` (reason from the status,
requirement from the body); no answer, a 429 or a 5xx becomes
:class:`~ckv.directory.DirectoryUnavailable`. It verifies nothing: the client does.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from typing import Any, TypeVar

from ckv import wire
from ckv.directory import DirectoryRefused, DirectoryUnavailable, RefusalReason
from ckv.errors import CKVError, UsageError
from ckv.service.app import response_context
from ckv.service.openapi import OPERATIONS
from ckv.wire import messages

__all__ = ["HttpDirectory", "decode_configuration"]

_T = TypeVar("_T")
_REASONS = {
    404: RefusalReason.NOT_FOUND,
    410: RefusalReason.EXPIRED,
    422: RefusalReason.VALUE_REJECTED,
}


def decode_configuration(data: bytes) -> messages.Configuration:
    """Decode a ``Configuration`` whose suite and mode are read from itself."""
    for suite in messages.CipherSuite:
        for mode in messages.DeploymentMode:
            try:
                config = wire.decode(messages.Configuration, data, suite=suite, mode=mode)
            except CKVError:
                continue
            if config.ciphersuite is suite and config.mode is mode:
                return config
    msg = "the directory's configuration does not decode under any cipher suite"
    raise DirectoryUnavailable(msg)


class HttpDirectory:
    """One client's transport to a directory service at ``base_url``.

    ``client_id`` is sent in the ``CKV-Client`` header (API-007). One persistent
    connection per transport; calls from several threads are serialised.
    """

    def __init__(self, base_url: str, client_id: str = "", *, timeout: float = 30.0) -> None:
        self._setup(base_url, client_id, timeout)

    def _setup(self, base_url: str, client_id: str, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            msg = f"a directory URL is http(s)://host[:port], not {base_url!r}"
            raise UsageError(msg)
        self._url = parsed
        self._prefix = parsed.path.rstrip("/")
        self._client_id = client_id
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._config: messages.Configuration | None = None

    @property
    def base_url(self) -> str:
        """The service's URL."""
        return urllib.parse.urlunsplit(self._url)

    def client(self, client_id: str) -> HttpDirectory:
        """A transport of the same service for another client."""
        return HttpDirectory(self.base_url, client_id, timeout=self._timeout)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            kind = (
                http.client.HTTPSConnection
                if self._url.scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = kind(self._url.hostname or "", self._url.port, timeout=self._timeout)
        return self._conn

    def __getstate__(self) -> dict[str, object]:
        """Pickled without its connection and lock (a client state file keeps transports)."""
        return {
            "url": self.base_url,
            "client_id": self._client_id,
            "timeout": self._timeout,
            "config": self._config,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        timeout = state["timeout"]
        self._setup(
            str(state["url"]),
            str(state["client_id"]),
            timeout if isinstance(timeout, float | int) else 30.0,
        )
        config = state.get("config")
        self._config = config if isinstance(config, messages.Configuration) else None

    def rebase(self, base_url: str) -> None:
        """Talk to the same service at another URL from now on."""
        client_id, timeout, config = self._client_id, self._timeout, self._config
        self.close()
        self._setup(base_url, client_id, timeout)
        self._config = config

    def __del__(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def request(
        self, method: str, path: str, body: bytes | None = None, *, retry: bool = True
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP exchange: (status, headers, body); DirectoryUnavailable if none."""
        headers = {"content-type": "application/octet-stream"}
        if self._client_id:
            headers["ckv-client"] = self._client_id
        with self._lock:
            for attempt in (0, 1):
                conn = self._connection()
                try:
                    conn.request(method, self._prefix + path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    self._conn = None
                    # A kept-alive connection the server closed: try once more on a new one
                    # when the request is safe to repeat.
                    if attempt == 0 and retry:
                        continue
                    msg = f"no answer from {self.base_url}{path}: {error}"
                    raise DirectoryUnavailable(msg) from error
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        msg = "unreachable"  # pragma: no cover - the loop returns or raises
        raise DirectoryUnavailable(msg)

    def _check(self, status: int, data: bytes, path: str) -> None:
        if status == 200:
            return
        try:
            body: dict[str, Any] = json.loads(data)
        except ValueError:
            body = {"detail": data[:200].decode("utf-8", "replace")}
        detail = f"{body.get('detail', '')} [{body.get('requirement', '?')}]"
        requirement = body.get("cause") or body.get("requirement")
        if status == 429 or status >= 500:
            msg = f"{self.base_url}{path} answered {status}: {detail}"
            raise DirectoryUnavailable(msg)
        reason = _REASONS.get(status, RefusalReason.INVALID_REQUEST)
        raise DirectoryRefused(
            f"{path} refused ({status} {body.get('error', '')}): {detail}",
            reason=reason,
            requirement=requirement if isinstance(requirement, str) else None,
        )

    def configuration(self) -> messages.Configuration:
        """GET /v1/configuration (cached)."""
        if self._config is None:
            status, _, data = self.request("GET", "/v1/configuration")
            self._check(status, data, "/v1/configuration")
            self._config = decode_configuration(data)
        return self._config

    def _call(self, name: str, request: object, response_type: type[_T]) -> _T:
        config = self.configuration()
        op = OPERATIONS[name]
        body = wire.encode(request, suite=config.ciphersuite, mode=config.mode)
        status, _, data = self.request("POST", op.path, body, retry=name != "update")
        self._check(status, data, op.path)
        try:
            return wire.decode(
                response_type,
                data,
                suite=config.ciphersuite,
                mode=config.mode,
                context=response_context(request),
            )
        except CKVError as error:
            msg = f"{op.path}: the answer is not a {response_type.__name__}: {error}"
            raise DirectoryUnavailable(msg) from error

    def search(self, request: messages.SearchRequest) -> messages.SearchResponse:
        """POST /v1/search (KEYTRANS §13.1)."""
        return self._call("search", request, messages.SearchResponse)

    def update(self, request: messages.UpdateRequest) -> messages.UpdateResponse:
        """POST /v1/update (KEYTRANS §13.5); not retried."""
        return self._call("update", request, messages.UpdateResponse)

    def contact_monitor(
        self, request: messages.ContactMonitorRequest
    ) -> messages.ContactMonitorResponse:
        """POST /v1/monitor/contact (KEYTRANS §13.2)."""
        return self._call("contact_monitor", request, messages.ContactMonitorResponse)

    def owner_init(self, request: messages.OwnerInitRequest) -> messages.OwnerInitResponse:
        """POST /v1/monitor/owner-init (KEYTRANS §13.3)."""
        return self._call("owner_init", request, messages.OwnerInitResponse)

    def owner_monitor(self, request: messages.OwnerMonitorRequest) -> messages.OwnerMonitorResponse:
        """POST /v1/monitor/owner (KEYTRANS §13.4)."""
        return self._call("owner_monitor", request, messages.OwnerMonitorResponse)

    def distinguished(
        self, request: messages.DistinguishedRequest
    ) -> messages.DistinguishedResponse:
        """POST /v1/distinguished (KEYTRANS §13.6)."""
        return self._call("distinguished", request, messages.DistinguishedResponse)

    def auditor_update(self, position: int) -> tuple[messages.AuditorUpdate, int]:
        """GET /v1/audit/{position}: the entry's ``AuditorUpdate`` and the committed size."""
        config = self.configuration()
        path = f"/v1/audit/{position}"
        status, headers, data = self.request("GET", path)
        self._check(status, data, path)
        update = wire.decode(
            messages.AuditorUpdate, data, suite=config.ciphersuite, mode=config.mode
        )
        return update, int(headers.get("ckv-log-size", "0"))
