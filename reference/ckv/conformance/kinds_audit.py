"""Vector kind ``kt.auditor.session``: a Third-Party Auditor checking a log (KEYTRANS §15.2).

A session starts from an auditor that has seen nothing; each step gives the
``AuditorUpdate`` of the log's next entry, and the implementation checks it
against everything before (timestamps, sorted leaf lists, the prefix proof
against the previous root, the new root) and outputs the log it now vouches
for: tree size, log-tree root, timestamp. The updates come from a small
deterministic :class:`~ckv.transparency_log.TransparencyLog`; must-reject
sessions alter one update and then give the honest one, which must still
verify (the auditor's state is unchanged by a rejected update).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ckv import wire
from ckv.auditing import AuditorState, audit
from ckv.conformance._util import Rng, error_of, flip_bit, hexb
from ckv.conformance.kinds_ops import RMW, make_world
from ckv.conformance.schemas import HEX
from ckv.conformance.vectors import (
    Case,
    Note,
    Step,
    VectorFile,
    VectorKind,
    register,
    with_requirement,
)
from ckv.errors import CKVError, UsageError
from ckv.wire import messages
from ckv.wire.messages import CipherSuite

__all__ = ["AuditorSession"]

JSON = Any
KIND = "kt.auditor.session"


@dataclass
class AuditorSession:
    """An auditor's state across the steps of one session (the reference adapter's side)."""

    rmw: int
    state: AuditorState = field(default_factory=AuditorState.genesis)

    @classmethod
    def open(cls, setup: JSON) -> AuditorSession:
        """An auditor that has seen no entry of a log with this monitoring window."""
        rmw = setup.get("reasonable_monitoring_window")
        if not isinstance(rmw, int) or rmw <= 0:
            raise UsageError("reasonable_monitoring_window must be a positive integer")
        return cls(rmw)

    def step(self, request: JSON) -> JSON:
        """Audit one update; the state changes only if it is accepted."""
        update = wire.decode(messages.AuditorUpdate, hexb(request["update"], "update"))
        result = audit(self.state, update, rmw=self.rmw)
        self.state = result.state
        return {
            "tree_size": result.tree_size,
            "log_root": result.log_root.hex(),
            "timestamp": result.timestamp,
        }


NOTES = {
    "TimestampBackwards": Note("ROLLBACK", "The entry's timestamp is before the previous one."),
    "Unsorted": Note("PROTOCOL", "The added leaves are not in ascending order (AUDIT-002)."),
    "EmptyUpdate": Note("PROTOCOL", "The update adds and removes nothing (AUDIT-003)."),
    "ModifiedProof": Note("AUTH_BYPASS", "A prefix-proof element is altered."),
    "AlreadyPresent": Note("AUTH_BYPASS", "An added key is already in the tree (PREFIX-021)."),
    "NotPresent": Note("AUTH_BYPASS", "A removed key is not in the tree (PREFIX-022)."),
}


def _file(cs: CipherSuite) -> VectorFile:
    vf = VectorFile(
        path="kt/auditor-session.json",
        kind=KIND,
        short="auditor",
        description="A Third-Party Auditor checks the AuditorUpdate of each entry of a log "
        "(KEYTRANS §15.2) and outputs the log it vouches for; SHA-256, 32-byte VRF outputs.",
        parameters={"cipher_suite": cs.name},
    )
    world = make_world(cs, "auditor")
    log = world.log
    setup = {"reasonable_monitoring_window": RMW}
    updates = [log.auditor_update(x) for x in range(log.size)]

    def encode(u: messages.AuditorUpdate) -> JSON:
        return {"update": wire.encode(u).hex()}

    honest: list[Step] = []
    session = AuditorSession(RMW)
    for x, u in enumerate(updates):
        out = session.step(encode(u))
        honest.append(Step(encode(u), "valid", out, description=f"entry {x}"))
    assert session.state.log.root() == log.root()
    vf.add(
        Case(
            "audit",
            f"every update of a log of {log.size} entries",
            ("AUDIT-001", "AUDIT-002", "PREFIX-023", "PREFIX-025"),
            "valid",
            setup=setup,
            steps=honest,
        )
    )
    rng = Rng("ckv auditor vectors")

    def backwards(u: messages.AuditorUpdate, prev: messages.AuditorUpdate) -> Any:
        return replace(u, timestamp=prev.timestamp - 1)

    def unsorted(u: messages.AuditorUpdate, _: messages.AuditorUpdate) -> Any:
        if len(u.added) < 2:
            return None
        return replace(u, added=tuple(reversed(u.added)))

    def empty(u: messages.AuditorUpdate, _: messages.AuditorUpdate) -> Any:
        return replace(u, added=(), removed=())

    def proof(u: messages.AuditorUpdate, _: messages.AuditorUpdate) -> Any:
        if not u.proof.elements:
            return None
        elements = (flip_bit(u.proof.elements[0], 3), *u.proof.elements[1:])
        return replace(u, proof=replace(u.proof, elements=elements))

    def present(u: messages.AuditorUpdate, _: messages.AuditorUpdate) -> Any:
        again = updates[0].added[0]
        added = tuple(sorted((*u.added, again), key=lambda leaf: leaf.vrf_output))
        return replace(u, added=added)

    def absent(u: messages.AuditorUpdate, _: messages.AuditorUpdate) -> Any:
        leaf = messages.PrefixLeaf(vrf_output=rng(32), commitment=rng(32))
        return replace(u, removed=(leaf,))

    tampers: list[tuple[str, str, str, Sequence[str], Callable[..., Any]]] = [
        (
            "timestamp-backwards",
            "timestamp 1 ms before the previous entry's",
            "TimestampBackwards",
            ["AUDIT-001"],
            backwards,
        ),
        ("unsorted", "added leaves in descending order", "Unsorted", ["AUDIT-002"], unsorted),
        ("empty", "nothing added or removed", "EmptyUpdate", ["AUDIT-003"], empty),
        (
            "modified-proof",
            "a prefix-proof element flipped",
            "ModifiedProof",
            ["PREFIX-023"],
            proof,
        ),
        (
            "already-present",
            "entry 0's first key added again",
            "AlreadyPresent",
            ["PREFIX-021"],
            present,
        ),
        ("not-present", "a key never inserted is removed", "NotPresent", ["PREFIX-022"], absent),
    ]
    for name, what, flag, reqs, fn in tampers:
        for x in (4, len(updates) - 1):
            bad = fn(updates[x], updates[x - 1])
            if bad is None:
                continue
            s = AuditorSession(RMW)
            for h in honest[:x]:
                s.step(h.input)
            before = s.state
            try:
                s.step(encode(bad))
            except CKVError as exc:
                assert s.state is before
                error, raised = error_of(exc)
            else:
                msg = f"the reference accepts a must-reject auditor update: {what}"
                raise RuntimeError(msg)
            rejected = Step(encode(bad), "invalid", error=error, description=f"entry {x}: {what}")
            steps = [*honest[:x], rejected, *honest[x:]]
            vf.add(
                Case(
                    name,
                    f"entry {x}'s update altered: {what}; then the honest one",
                    with_requirement(reqs, raised),
                    "invalid",
                    flags=(flag,),
                    setup=setup,
                    steps=steps,
                )
            )
            break
    return vf


register(
    VectorKind(
        name=KIND,
        description="A Third-Party Auditor's session: audit each AuditorUpdate (KEYTRANS §15.2).",
        generate=lambda: [_file(CipherSuite.KT_128_SHA256_Ed25519)],
        input_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["update"],
            "properties": {"update": HEX},
        },
        output_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["tree_size", "log_root", "timestamp"],
            "properties": {
                "tree_size": {"type": "integer", "minimum": 1},
                "log_root": HEX,
                "timestamp": {"type": "integer", "minimum": 0},
            },
        },
        notes=NOTES,
        session=AuditorSession.open,
        setup_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["reasonable_monitoring_window"],
            "properties": {"reasonable_monitoring_window": {"type": "integer", "minimum": 1}},
        },
    )
)
