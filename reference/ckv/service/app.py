"""The HTTP API of the directory service (spec chapter "Directory API", API-nnn).

One route per KEYTRANS operation; a request body is the TLS encoding of the
operation's request struct and a successful response body that of its response
struct (media type ``application/octet-stream``), under the directory's cipher
suite and deployment mode. A refusal is a 4xx response whose JSON body names
the problem and the requirement (:func:`error_body`). The directory work runs in
a thread pool so that the event loop keeps accepting requests while a publish
waits for its commit.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ckv import wire
from ckv.directory import DirectoryRefused, DirectoryUnavailable, RefusalReason
from ckv.errors import CKVError, DecodeError, UsageError
from ckv.service.openapi import OPERATIONS, openapi_document
from ckv.service.ratelimit import RateLimiter
from ckv.service.storage import StorageError
from ckv.wire import messages

__all__ = [
    "CLIENT_HEADER",
    "MEDIA_TYPE",
    "ServiceSettings",
    "create_app",
    "error_body",
    "response_context",
]

MEDIA_TYPE = "application/octet-stream"
#: The header that names the client (an owner's starting positions are kept per client).
CLIENT_HEADER = "ckv-client"
_MAX_CLIENT_ID = 64

_STATUS = {
    RefusalReason.NOT_FOUND: (404, "API-004"),
    RefusalReason.EXPIRED: (410, "API-004"),
    RefusalReason.INVALID_REQUEST: (400, "API-004"),
    RefusalReason.VALUE_REJECTED: (422, "API-005"),
}


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Limits of one service process."""

    #: The largest request body accepted, in bytes (API-002).
    max_body: int = 64 * 1024
    #: Requests per second per client address, and the burst allowed (API-006); 0: no limit.
    rate: float = 200.0
    burst: int = 400
    #: Serve the test-only adversary commands (API-010). Never on by default.
    allow_adversary: bool = False


def error_body(
    status: int, error: str, detail: str, requirement: str, cause: str | None = None
) -> JSONResponse:
    """The JSON refusal: ``{"error", "detail", "requirement", "cause"}`` (API-003)."""
    body: dict[str, Any] = {"error": error, "detail": detail, "requirement": requirement}
    if cause:
        body["cause"] = cause
    return JSONResponse(body, status_code=status)


class _TooLarge(Exception):  # noqa: N818 - internal signal
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise _TooLarge
    return bytes(chunks)


def _client_id(request: Request) -> str:
    value = request.headers.get(CLIENT_HEADER, "")
    # API-007: the client id is an opaque printable token of at most 64 characters.
    if len(value) > _MAX_CLIENT_ID or not value.isprintable():
        msg = f"the {CLIENT_HEADER} header must be at most {_MAX_CLIENT_ID} printable characters"
        raise UsageError(msg, requirement="API-007")
    return value


def _refusal(error: CKVError) -> JSONResponse:
    if isinstance(error, DirectoryRefused):
        status, requirement = _STATUS[error.reason]
        return error_body(status, error.reason.value, str(error), requirement, error.requirement)
    if isinstance(error, DirectoryUnavailable | StorageError):
        return error_body(503, "unavailable", str(error), "API-008")
    if isinstance(error, DecodeError):
        return error_body(400, "malformed", str(error), "API-001", error.requirement)
    requirement = error.requirement or ""
    if requirement.startswith("API-"):
        return error_body(400, "invalid_request", str(error), requirement)
    return error_body(400, "invalid_request", str(error), "API-004", error.requirement)


def response_context(request: object) -> dict[str, object] | None:
    """The decoding context a response to ``request`` is encoded under (SearchRequest.version)."""
    if isinstance(request, messages.SearchRequest):
        return {"SearchRequest.version": "absent" if request.version is None else "present"}
    return None


def create_app(directory: Any, settings: ServiceSettings | None = None) -> Starlette:
    """The Starlette application serving ``directory``.

    ``directory`` is a :class:`~ckv.service.durable.DurableDirectory` (or, with
    ``allow_adversary``, an :class:`~ckv.directory.adversary.AdversarialDirectory`
    whose commands :mod:`ckv.service.adversary` exposes).
    """
    settings = settings or ServiceSettings()
    config: messages.Configuration = directory.config
    suite, mode = config.ciphersuite, config.mode
    limiter = RateLimiter(settings.rate, settings.burst)
    lock = threading.Lock() if settings.allow_adversary else None
    document = openapi_document(config)

    def encode(value: object, request: object = None) -> Response:
        context = response_context(request)
        data = wire.encode(value, suite=suite, mode=mode, context=context)
        return Response(data, media_type=MEDIA_TYPE)

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            host = request.client.host if request.client else "unknown"
            wait = limiter.take(host)
            # API-006: a client over its rate gets 429 and when to come back.
            if wait:
                response = error_body(
                    429, "rate_limited", f"more than {settings.rate:g} requests/s", "API-006"
                )
                response.headers["retry-after"] = str(max(1, round(wait + 0.5)))
                return response
            try:
                return await handler(request)
            except _TooLarge:
                # API-002: a body over the limit is refused before it is decoded.
                return error_body(
                    413, "too_large", f"the body exceeds {settings.max_body} bytes", "API-002"
                )
            except CKVError as error:
                return _refusal(error)

        return run

    def operation(name: str) -> Callable[[Request], Awaitable[Response]]:
        op = OPERATIONS[name]
        request_type = getattr(messages, op.request)

        async def handle(request: Request) -> Response:
            client_id = _client_id(request)
            body = await _read_body(request, settings.max_body)
            # API-001: the body is exactly the TLS encoding of the request struct.
            decoded = wire.decode(request_type, body, suite=suite, mode=mode)
            method = getattr(directory, op.method)

            def call() -> object:
                if lock is None:
                    return method(decoded, client_id=client_id)
                with lock:
                    return method(decoded, client_id=client_id)

            return encode(await run_in_threadpool(call), decoded)

        return guarded(handle)

    async def configuration(request: Request) -> Response:
        del request
        return encode(config)

    async def audit(request: Request) -> Response:
        text = request.path_params["position"]
        # API-012: the feed serves committed entries by position.
        if not text.isdigit() or len(text) > 20:
            msg = f"entry position {text!r} is not a decimal number"
            raise UsageError(msg, requirement="API-012")
        position = int(text)
        if hasattr(directory, "auditor_update") and hasattr(directory, "committed_size"):
            update = await run_in_threadpool(directory.auditor_update, position)
            size = directory.committed_size
        else:
            log = directory.log
            if not 0 <= position < log.size:
                msg = f"entry {position} is not among the {log.size} entries"
                raise DirectoryRefused(msg, reason=RefusalReason.NOT_FOUND, requirement="API-012")
            update, size = log.auditor_update(position), log.size
        response = encode(update)
        response.headers["ckv-log-size"] = str(size)
        return response

    async def openapi(request: Request) -> Response:
        del request
        return Response(json.dumps(document, indent=2), media_type="application/json")

    async def health(request: Request) -> Response:
        del request
        size = getattr(directory, "committed_size", None)
        return JSONResponse(
            {
                "status": "ok",
                "size": directory.size if size is None else size,
                "now": directory.now(),
            }
        )

    routes = [Route(op.path, operation(name), methods=["POST"]) for name, op in OPERATIONS.items()]
    routes += [
        Route("/v1/configuration", guarded(configuration), methods=["GET"]),
        Route("/v1/audit/{position}", guarded(audit), methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    if settings.allow_adversary:
        from ckv.service.adversary import adversary_routes  # noqa: PLC0415 - test-only

        # API-010: the adversary's commands exist only when the operator asked for them.
        routes += adversary_routes(directory, lock or threading.Lock(), guarded)

    async def not_found(request: Request, exc: Exception) -> Response:
        del exc
        return error_body(404, "no_route", f"no route {request.url.path}", "API-003")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        del exc
        return error_body(405, "method", f"{request.method} is not allowed here", "API-003")

    async def internal(request: Request, exc: Exception) -> Response:
        del request
        return error_body(500, "internal", f"{type(exc).__name__}", "API-009")

    return Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_allowed, Exception: internal},
    )
