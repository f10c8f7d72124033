"""An adapter that misbehaves on purpose, for the harness's own tests.

``python fake_adapter.py MODE TRIGGER``: behaves like the reference adapter for
``ckv.public-code.parse`` only, except on the case whose ID contains TRIGGER,
where MODE decides: ``hang`` (never answers), ``exit`` (exits), ``garbage``
(prints a line that is not JSON), ``wrong`` (answers the opposite result),
``output`` (answers ``valid`` with a wrong output), ``badid`` (answers for another ID).
``forgetful`` is the reference adapter whose client sessions lose their state
when they reject a response (TRIGGER is ignored).
"""

from __future__ import annotations

import json
import sys
import time

from ckv.client_state import ClientState
from ckv.conformance.kinds_codes import handle_parse
from ckv.conformance.kinds_ops import ClientSession
from ckv.conformance.protocol import serve
from ckv.conformance.reference_adapter import handlers
from ckv.errors import CKVError


class _Forgetful:
    """A client session that loses its state whenever it rejects a response."""

    def __init__(self, setup: object) -> None:
        self.inner = ClientSession.open(setup)

    def step(self, request: object) -> object:
        try:
            return self.inner.step(request)
        except CKVError:
            self.inner.state = ClientState.initial()
            raise


def main() -> int:
    mode, trigger = sys.argv[1], sys.argv[2]
    if mode == "forgetful":
        stateless, sessions = handlers()
        return serve(
            "fake-forgetful", "0", stateless, {**sessions, "kt.client.session": _Forgetful}
        )
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["type"] == "hello":
            out = {
                "type": "hello",
                "name": f"fake-{mode}",
                "version": "0",
                "protocol": 1,
                "capabilities": ["ckv.public-code.parse"],
            }
        elif msg["type"] == "bye":
            return 0
        elif msg["type"] == "case":
            if trigger in msg["id"]:
                if mode == "hang":
                    time.sleep(60)
                if mode == "exit":
                    return 3
                if mode == "garbage":
                    print("this is not JSON", flush=True)
                    continue
            try:
                out = {
                    "type": "result",
                    "id": msg["id"],
                    "result": "valid",
                    "output": handle_parse(msg["input"]),
                }
            except CKVError:
                out = {"type": "result", "id": msg["id"], "result": "invalid", "error": "X"}
            if mode == "output" and trigger in msg["id"] and "output" in out:
                out["output"] = dict(out["output"], code="0000-0000-0000-0000-0000-0000")
            if mode == "badid" and trigger in msg["id"]:
                out["id"] = "another-case"
            if mode == "wrong" and trigger in msg["id"]:
                out["result"] = "invalid" if out["result"] == "valid" else "valid"
        else:
            out = {"type": "error"}
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
