#!/usr/bin/env python3
"""A minimal adapter: the example of the tutorial "Validate your implementation".

It performs one kind, ``suite.signature.verify``, for the Ed25519 suite, with
the ``cryptography`` package standing in for "your implementation". Everything
else is reported as unsupported. Run it through the harness:

    ckv conformance run --impl "python3 conformance/adapters/tutorial/adapter.py"
"""

from __future__ import annotations

import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def verify(case_input: dict[str, str]) -> dict[str, str]:
    """Your implementation goes here: verify one signature, say what happened."""
    if case_input["cipher_suite"] != "KT_128_SHA256_Ed25519":
        return {"result": "unsupported", "detail": "only Ed25519"}
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(case_input["public_key"]))
    except ValueError:
        return {"result": "invalid", "error": "BAD_INPUT", "detail": "not an Ed25519 key"}
    signature = bytes.fromhex(case_input["signature"])
    if len(signature) != 64:  # Ed25519 signatures are 64 bytes
        return {"result": "invalid", "error": "SIGNATURE_INVALID", "detail": "length"}
    try:
        key.verify(signature, bytes.fromhex(case_input["message"]))
    except InvalidSignature:
        return {"result": "invalid", "error": "SIGNATURE_INVALID"}
    return {"result": "valid"}


def main() -> None:
    """Read one JSON request per line; write one JSON answer per line."""
    for line in sys.stdin:
        request = json.loads(line)
        if request["type"] == "hello":
            answer = {
                "type": "hello",
                "protocol": 1,
                "name": "tutorial",
                "version": "0.1",
                "capabilities": ["suite.signature.verify"],
            }
        elif request["type"] == "case":
            answer = {"type": "result", "id": request["id"], **verify(request["input"])}
        elif request["type"] == "bye":
            break
        else:
            answer = {"type": "result", "id": request.get("id"), "result": "unsupported"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
