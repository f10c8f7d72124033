"""The routes of the directory API and their OpenAPI 3.1 description (API-011).

:data:`OPERATIONS` is the single table the server, the HTTP client and the
OpenAPI document are built from, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ckv import __version__
from ckv.wire import messages

__all__ = ["OPERATIONS", "Operation", "openapi_document"]


@dataclass(frozen=True, slots=True)
class Operation:
    """One KEYTRANS operation served over HTTP."""

    path: str
    #: The wire struct of the request body and of the response body.
    request: str
    response: str
    #: The :class:`~ckv.directory.DirectoryTransport` method.
    method: str
    section: str
    summary: str


OPERATIONS: dict[str, Operation] = {
    "search": Operation(
        "/v1/search",
        "SearchRequest",
        "SearchResponse",
        "search",
        "13.1",
        "Search for a label's greatest or a fixed version.",
    ),
    "update": Operation(
        "/v1/update",
        "UpdateRequest",
        "UpdateResponse",
        "update",
        "13.5",
        "An owner's update; acknowledged once the entry is committed. Account states and "
        "handle bindings are accepted only if their account-key signatures verify.",
    ),
    "contact_monitor": Operation(
        "/v1/monitor/contact",
        "ContactMonitorRequest",
        "ContactMonitorResponse",
        "contact_monitor",
        "13.2",
        "Contact Monitoring of label-version pairs.",
    ),
    "owner_init": Operation(
        "/v1/monitor/owner-init",
        "OwnerInitRequest",
        "OwnerInitResponse",
        "owner_init",
        "13.3",
        "Owner Initialization from a starting position (recorded per client).",
    ),
    "owner_monitor": Operation(
        "/v1/monitor/owner",
        "OwnerMonitorRequest",
        "OwnerMonitorResponse",
        "owner_monitor",
        "13.4",
        "Owner Monitoring (the start reached is recorded per client).",
    ),
    "distinguished": Operation(
        "/v1/distinguished",
        "DistinguishedRequest",
        "DistinguishedResponse",
        "distinguished",
        "13.6",
        "Walk the recent distinguished entries.",
    ),
}

_ERRORS = {
    "400": "Malformed encoding (API-001) or a request the directory cannot answer (API-004).",
    "404": "No such label or version (API-004).",
    "410": "The version is expired (API-004).",
    "413": "The body exceeds the size limit (API-002).",
    "422": "An owner's value failed the acceptance checks, e.g. a bad signature (API-005).",
    "429": "Over the per-client rate limit; see Retry-After (API-006).",
    "503": "Storage unavailable; nothing was committed (API-008).",
}


def _binary(struct: str) -> dict[str, Any]:
    return {
        "application/octet-stream": {
            "schema": {
                "type": "string",
                "format": "binary",
                "description": f"TLS presentation-language encoding of {struct} (spec/wire)",
            }
        }
    }


def _errors() -> dict[str, Any]:
    return {
        code: {"description": text, "content": {"application/json": {"schema": _ERROR_REF}}}
        for code, text in _ERRORS.items()
    }


_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_CLIENT = {
    "name": "CKV-Client",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 64},
    "description": "Opaque client id; an owner's starting positions are kept per client.",
}


def openapi_document(config: messages.Configuration | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API (``config`` adds the suite and mode served)."""
    paths: dict[str, Any] = {}
    for name, op in OPERATIONS.items():
        paths[op.path] = {
            "post": {
                "operationId": name,
                "summary": op.summary,
                "description": f"KEYTRANS §{op.section}. Body: {op.request}; answer: "
                f"{op.response}.",
                "parameters": [_CLIENT],
                "requestBody": {"required": True, "content": _binary(op.request)},
                "responses": {"200": {"description": op.response, "content": _binary(op.response)}}
                | _errors(),
            }
        }
    paths["/v1/configuration"] = {
        "get": {
            "operationId": "configuration",
            "summary": "The directory's Configuration (KEYTRANS §11.1).",
            "responses": {
                "200": {"description": "Configuration", "content": _binary("Configuration")}
            },
        }
    }
    paths["/v1/audit/{position}"] = {
        "get": {
            "operationId": "auditor_update",
            "summary": "The AuditorUpdate of a committed entry (KEYTRANS §15.2): the auditor "
            "feed. Header CKV-Log-Size gives the committed size.",
            "parameters": [
                {"name": "position", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {"description": "AuditorUpdate", "content": _binary("AuditorUpdate")}
            }
            | _errors(),
        }
    }
    info: dict[str, Any] = {"title": "CKV key directory", "version": __version__}
    if config is not None:
        info["description"] = (
            f"Cipher suite {config.ciphersuite.name}, mode {config.mode.name}. "
            "Bodies are TLS encodings of the structs of spec/wire."
        )
    return {
        "openapi": "3.1.0",
        "info": info,
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "detail", "requirement"],
                    "properties": {
                        "error": {"type": "string"},
                        "detail": {"type": "string"},
                        "requirement": {"type": "string", "pattern": "^API-[0-9]{3}$"},
                        "cause": {"type": "string"},
                    },
                }
            }
        },
    }
