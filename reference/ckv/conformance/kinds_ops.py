"""Vector kinds of the user operations and fork evidence (KEYTRANS §13; spec: fork detection).

* ``kt.client.session`` -- a stateful session of a user of one log: each step
  gives a request the user sent, the log's response and the local clock; the
  implementation verifies the response against the state the earlier steps left
  (``search``, ``contact-monitor``, ``owner-init``, ``update`` and
  ``owner-monitor`` steps). The responses come from small deterministic logs built
  with :class:`~ckv.transparency_log.TransparencyLog`, under contactMonitoring
  (both suites) and, for searches, thirdPartyManagement and thirdPartyAuditing.
  Must-reject sessions tamper with one response (proof elements, VRF proofs,
  signatures, ladder steps, values, versions, the Service Operator's and the
  auditor's signatures), replay an old one (a stale tree head), claim an older
  greatest version (a downgrade), or present a response too late for the clock;
  then they give the honest response, to show that the rejected one left the
  state unchanged (OPS-010).
* ``kt.fork-evidence.verify`` -- check ``ForkEvidence``: two signed views of one
  log that disagree about a shared prefix.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ckv import distinguished as dist
from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.commitment import compute_commitment
from ckv.conformance._util import SUITE_SHORT, Rng, error_of, flip_bit, hexb
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
from ckv.fork_detection import fork_view, verify_fork_evidence
from ckv.label_update import answer_update, verify_update_response
from ckv.log_tree import LogTree
from ckv.monitoring import (
    OwnerState,
    answer_contact_monitor,
    answer_owner_init,
    answer_owner_monitor,
    verify_contact_monitor,
    verify_owner_init,
    verify_owner_monitor,
)
from ckv.search import answer_search, response_ladder, verify_search
from ckv.transparency_log import LogKeys, ServiceOperator, TransparencyLog
from ckv.tree_head import sign_auditor_tree_head, sign_tree_head
from ckv.wire import messages
from ckv.wire.messages import CipherSuite, Configuration, DeploymentMode

__all__ = ["RMW", "ClientSession", "make_world"]

JSON = Any
KIND = "kt.client.session"
_SUITES = (CipherSuite.KT_128_SHA256_Ed25519, CipherSuite.KT_128_SHA256_P256)
T0 = 1_700_000_000_000
MINUTE = 60_000
RMW = 10 * MINUTE
MAX_BEHIND = 60 * MINUTE


_OWNER_OPS: dict[str, tuple[type[Any], type[Any]]] = {
    "owner-init": (messages.OwnerInitRequest, messages.OwnerInitResponse),
    "update": (messages.UpdateRequest, messages.UpdateResponse),
    "owner-monitor": (messages.OwnerMonitorRequest, messages.OwnerMonitorResponse),
}


def _obj(props: dict[str, JSON]) -> JSON:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(props),
        "properties": props,
    }


# -- the reference session ------------------------------------------------------------------


@dataclass
class ClientSession:
    """A user's state across the steps of one session (the reference adapter's side)."""

    config: Configuration
    state: ClientState = field(default_factory=ClientState.initial)
    outputs: dict[bytes, dict[int, bytes]] = field(default_factory=dict)
    commitments: dict[bytes, dict[int, bytes]] = field(default_factory=dict)
    owners: dict[bytes, OwnerState] = field(default_factory=dict)

    @classmethod
    def open(cls, setup: JSON) -> ClientSession:
        """A fresh user of the log whose ``Configuration`` the setup gives."""
        data = hexb(setup["configuration"], "configuration")
        suite = CipherSuite(int.from_bytes(data[:2], "big")) if len(data) >= 2 else None
        if suite not in SUITE_SHORT:
            raise UsageError("configuration: unknown cipher suite")
        config: Configuration = wire.decode(Configuration, data, suite=suite)
        return cls(config)

    def step(self, request: JSON) -> JSON:
        """Verify one response; the state changes only if it verifies (OPS-010)."""
        op = request["operation"]
        cs = self.config.ciphersuite
        now = int(request["now_ms"])
        if op == "search":
            req = wire.decode(messages.SearchRequest, hexb(request["request"]), suite=cs)
            ctx = {"SearchRequest.version": "absent" if req.version is None else "present"}
            resp = wire.decode(
                messages.SearchResponse,
                hexb(request["response"]),
                suite=cs,
                mode=self.config.mode,
                context=ctx,
            )
            if req.last != self.state.tree_size:
                msg = f"the request advertises {req.last}, the state is of {self.state.tree_size}"
                raise UsageError(msg)
            result, new_state = verify_search(self.state, self.config, req, resp, now)
            self._learn(req.label, result.version, resp)
            self.state = new_state
            return {
                "version": result.version,
                "value": result.value.hex(),
                "terminal": result.terminal,
                "rightmost_distinguished": result.rightmost_distinguished,
                "must_monitor": result.must_monitor,
                "tree_size": new_state.tree_size,
            }
        if op == "contact-monitor":
            mreq = wire.decode(messages.ContactMonitorRequest, hexb(request["request"]), suite=cs)
            mresp = wire.decode(
                messages.ContactMonitorResponse,
                hexb(request["response"]),
                suite=cs,
                mode=self.config.mode,
            )
            if mreq.last != self.state.tree_size:
                msg = f"the request advertises {mreq.last}, the state is of {self.state.tree_size}"
                raise UsageError(msg)
            new_map, new_state = verify_contact_monitor(
                self.state,
                self.config,
                mreq,
                mresp,
                now,
                vrf_outputs=self.outputs.get(mreq.label, {}),
                commitments=self.commitments.get(mreq.label, {}),
            )
            self.state = new_state
            return {
                "map": [[p, v] for p, v in sorted(new_map.items())],
                "tree_size": new_state.tree_size,
            }
        if op in _OWNER_OPS:
            return self._owner_step(op, request, now)
        msg = f"unknown step operation {op!r}"
        raise UsageError(msg)

    def _owner_step(self, op: str, request: JSON, now: int) -> JSON:
        """``owner-init``, ``update`` and ``owner-monitor``: a label owner's operations."""
        cs, mode = self.config.ciphersuite, self.config.mode
        req_type, resp_type = _OWNER_OPS[op]
        req = wire.decode(req_type, hexb(request["request"]), suite=cs)
        resp = wire.decode(resp_type, hexb(request["response"]), suite=cs, mode=mode)
        if req.last != self.state.tree_size:
            msg = f"the request advertises {req.last}, the state is of {self.state.tree_size}"
            raise UsageError(msg)
        if op == "owner-init":
            owner, new_state = verify_owner_init(self.state, self.config, req, resp, now)
            extra: dict[str, JSON] = {}
        else:
            current = self.owners.get(req.label)
            if current is None:
                msg = f"no owner-init step for label {req.label.hex()} in this session"
                raise UsageError(msg)
            if op == "update":
                result, owner, new_state = verify_update_response(
                    self.state, self.config, current, req, resp, now_ms=now
                )
                extra = {
                    "position": result.position,
                    "first": result.first,
                    "values": [v.hex() for v in result.values],
                    "reported": result.reported,
                }
            else:
                owner, new_state = verify_owner_monitor(
                    self.state, self.config, current, req, resp, now_ms=now
                )
                extra = {}
        self.owners[req.label] = owner
        self.state = new_state
        return extra | {
            "start": owner.start,
            "greatest": owner.greatest,
            "entries": [[p, v] for p, v in sorted(owner.entries.items())],
            "tree_size": new_state.tree_size,
        }

    def _learn(self, label: bytes, version: int, resp: messages.SearchResponse) -> None:
        """Keep the VRF outputs and commitments a verified search taught (for monitoring)."""
        suite = get_suite(self.config.ciphersuite)
        outputs = self.outputs.setdefault(label, {})
        commitments = self.commitments.setdefault(label, {})
        for v, step in zip(response_ladder(version), resp.binary_ladder, strict=True):
            outputs[v] = suite.vrf_verify(self.config.vrf_public_key, label, v, step.proof)
            if step.commitment is not None:
                commitments[v] = step.commitment
        commitments[version] = compute_commitment(
            self.config.ciphersuite,
            messages.CommitmentValue(
                opening=resp.opening, label=label, version=version, update=resp.value
            ),
            mode=self.config.mode,
        )


# -- building logs --------------------------------------------------------------------------

NOTES = {
    "ModifiedInclusion": Note("AUTH_BYPASS", "A log-tree proof element is altered (LOG-009)."),
    "ModifiedPrefixProof": Note("AUTH_BYPASS", "A prefix-tree proof element is altered."),
    "ModifiedVrfProof": Note("AUTH_BYPASS", "A binary-ladder VRF proof is altered (OPS-005)."),
    "ModifiedSignature": Note("AUTH_BYPASS", "The tree head signature is altered (SUITE-018)."),
    "MissingLadderStep": Note("PROOF_SHAPE", "The binary ladder lacks a step (OPS-003)."),
    "TargetCommitment": Note(
        "PROOF_SHAPE", "The target version's ladder step carries a commitment (OPS-004)."
    ),
    "WrongValue": Note("AUTH_BYPASS", "The value is not the committed one (SUITE-013)."),
    "WrongOpening": Note("AUTH_BYPASS", "The opening does not open the commitment."),
    "WrongVersion": Note("AUTH_BYPASS", "The response is for another version than asked."),
    "ModifiedTimestamp": Note("AUTH_BYPASS", "A log entry's timestamp is altered."),
    "StaleHead": Note(
        "ROLLBACK", "An old response is replayed: its tree head is not newer than the state's."
    ),
    "StaleClock": Note("FRESHNESS", "The log's newest entry is older than max_behind (SUITE-020)."),
    "VersionShape": Note("PROOF_SHAPE", "The response's version field disagrees with the request."),
    "Downgrade": Note(
        "ROLLBACK", "An older version is claimed as the greatest (KEYTRANS §13.1, OPS-006)."
    ),
    "ForgedUpdate": Note(
        "AUTH_BYPASS", "The Service Operator's signature on a value does not verify (SUITE-016)."
    ),
    "AuditorSignature": Note(
        "AUTH_BYPASS", "The auditor tree head's signature does not verify (SUITE-026)."
    ),
    "AuditorSize": Note("PROTOCOL", "The auditor has seen more than the tree head (SUITE-025)."),
    "WrongPosition": Note("PROOF_SHAPE", "New versions are claimed left of the owner's (OPS-028)."),
}


@dataclass
class _World:
    """A small deterministic log and the clock."""

    log: TransparencyLog
    config: Configuration
    sign_key: bytes
    now: int
    versions: dict[bytes, int] = field(default_factory=dict)

    operator: ServiceOperator | None = None
    auditor_key: bytes | None = None

    def tick(self, labels: Sequence[bytes], gap: int = 30_000) -> None:
        self.now += gap
        requests: list[messages.UpdateRequest | messages.ManagerUpdateRequest] = []
        for label in labels:
            have = self.versions.get(label)
            new = (-1 if have is None else have) + 1
            request = messages.UpdateRequest(
                last=None,
                label=label,
                greatest_version=have,
                values=(messages.LabelValue(value=b"%s key %d" % (label, new)),),
            )
            # thirdPartyManagement: the Service Operator signs each value (KEYTRANS §15.1).
            requests.append(self.operator.authorize(request) if self.operator else request)
            self.versions[label] = new
        self.log.update(requests, now_ms=self.now)
        if self.auditor_key is not None:
            # thirdPartyAuditing: the auditor has seen every entry (no lag).
            n = self.log.size
            head = sign_auditor_tree_head(
                self.config, self.auditor_key, self.log.timestamp(n - 1), n, self.log.root(n)
            )
            self.log.attach_auditor_tree_head(head)


def make_world(
    cs: CipherSuite, seed: str, mode: DeploymentMode = DeploymentMode.contactMonitoring
) -> _World:
    """A small deterministic log (12 entries, four labels) and its keys and clock."""
    rng = Rng(f"ckv client session vectors {cs.name} {seed}")
    suite = get_suite(cs)
    log_sk, vrf_sk = rng(32), rng(32)
    managed = mode is DeploymentMode.thirdPartyManagement
    audited = mode is DeploymentMode.thirdPartyAuditing
    leaf_sk = rng(32) if managed else None
    auditor_sk = rng(32) if audited else None
    config = Configuration(
        ciphersuite=cs,
        mode=mode,
        signature_public_key=suite.signature_public_key(log_sk),
        vrf_public_key=suite.vrf_public_key(vrf_sk),
        leaf_public_key=suite.signature_public_key(leaf_sk) if leaf_sk else None,
        max_auditor_lag=MAX_BEHIND if audited else None,
        auditor_start_pos=0 if audited else None,
        auditor_public_key=suite.signature_public_key(auditor_sk) if auditor_sk else None,
        max_ahead=MINUTE,
        max_behind=MAX_BEHIND,
        reasonable_monitoring_window=RMW,
        maximum_lifetime=14 * RMW,
    )
    log = TransparencyLog(LogKeys(config, log_sk, vrf_sk), random_bytes=rng)
    world = _World(log, config, log_sk, T0)
    world.operator = ServiceOperator(config, leaf_sk) if leaf_sk else None
    world.auditor_key = auditor_sk
    labels = [b"alice", b"bob", b"carol", b"dave"]
    for i in range(12):
        world.tick([labels[i % 4], labels[(i * 3 + 1) % 4]] if i % 3 else [labels[i % 4]])
    return world


#: Requirement IDs the reference named when it rejected a step, until the case is added.
_RAISED: list[str | None] = []


def _drain(reqs: Sequence[str]) -> tuple[str, ...]:
    out = tuple(reqs)
    while _RAISED:
        out = with_requirement(out, _RAISED.pop(0))
    return out


class _User:
    """The generator's user: builds requests, gets honest responses, records steps."""

    def __init__(self, world: _World) -> None:
        self.world = world
        self.session = ClientSession(world.config)

    def search(
        self, label: bytes, version: int | None = None
    ) -> tuple[JSON, messages.SearchResponse]:
        from ckv._testing.malicious_log import LogAt  # noqa: PLC0415 - generator only

        w = self.world
        req = messages.SearchRequest(
            last=self.session.state.tree_size, label=label, version=version
        )
        # An audited log serves its AuditorTreeHead; LogAt views do not carry one.
        view = w.log if w.auditor_key is not None else LogAt(w.log)
        resp = answer_search(view, w.config, w.sign_key, req)
        return self._step("search", req, resp), resp

    def monitor(self, label: bytes) -> JSON:
        from ckv._testing.malicious_log import LogAt  # noqa: PLC0415 - generator only

        w = self.world
        pairs = self.pairs.get(label, {})
        req = messages.ContactMonitorRequest(
            last=self.session.state.tree_size,
            label=label,
            entries=tuple(
                messages.MonitorMapEntry(position=p, version=v) for p, v in sorted(pairs.items())
            ),
        )
        resp = answer_contact_monitor(LogAt(w.log), w.config, w.sign_key, req)
        return self._step("contact-monitor", req, resp)

    pairs: dict[bytes, dict[int, int]]

    def step_for(self, op: str, req: object, resp: object) -> JSON:
        """The step of a request and a (possibly dishonest) response, at the world's clock."""
        return self._step(op, req, resp)

    def _step(self, op: str, req: object, resp: object) -> JSON:
        cs = self.world.config.ciphersuite
        ctx = None
        if isinstance(req, messages.SearchRequest):
            ctx = {"SearchRequest.version": "absent" if req.version is None else "present"}
        return {
            "operation": op,
            "request": wire.encode(req, suite=cs).hex(),
            "response": wire.encode(resp, suite=cs, mode=self.world.config.mode, context=ctx).hex(),
            "now_ms": self.world.now,
        }

    def apply(self, step: JSON, description: str) -> Step:
        """Run a step on the user's own session (it must verify) and record it."""
        output = self.session.step(step)
        if step["operation"] == "search" and output["must_monitor"]:
            label = wire.decode(
                messages.SearchRequest, hexb(step["request"]), suite=self.world.config.ciphersuite
            ).label
            self.pairs.setdefault(label, {})
            if all(
                output["terminal"] > p and output["version"] > v
                for p, v in self.pairs[label].items()
            ):
                self.pairs[label][output["terminal"]] = output["version"]
        if step["operation"] == "contact-monitor":
            label = wire.decode(
                messages.ContactMonitorRequest,
                hexb(step["request"]),
                suite=self.world.config.ciphersuite,
            ).label
            self.pairs[label] = dict(output["map"])
        return Step(step, "valid", output, description=description)

    def reject(self, step: JSON, description: str) -> Step:
        """A step the user must reject; its state stays as it was."""
        before = copy.copy(self.session.state)
        try:
            self.session.step(step)
        except CKVError as exc:
            assert self.session.state == before
            error, _ = error_of(exc)
            _RAISED.append(exc.requirement)
            return Step(step, "invalid", error=error, description=description)
        msg = f"the reference accepts a must-reject step: {description}"
        raise RuntimeError(msg)


def _retamper(step: JSON, cs: CipherSuite, mode: DeploymentMode, fn: Callable[[Any], Any]) -> JSON:
    """``step`` with its response decoded, changed by ``fn`` and re-encoded."""
    op = step["operation"]
    if op == "search":
        req = wire.decode(messages.SearchRequest, hexb(step["request"]), suite=cs)
        ctx = {"SearchRequest.version": "absent" if req.version is None else "present"}
        resp = wire.decode(
            messages.SearchResponse, hexb(step["response"]), suite=cs, mode=mode, context=ctx
        )
        return step | {"response": wire.encode(fn(resp), suite=cs, mode=mode, context=ctx).hex()}
    resp_type = _OWNER_OPS[op][1] if op in _OWNER_OPS else messages.ContactMonitorResponse
    mresp = wire.decode(resp_type, hexb(step["response"]), suite=cs, mode=mode)
    return step | {"response": wire.encode(fn(mresp), suite=cs, mode=mode).hex()}


def _flip_first(values: Sequence[bytes], bit: int = 5) -> tuple[bytes, ...]:
    return (flip_bit(values[0], bit), *values[1:])


def _search_tampers(ver: int) -> list[tuple[str, str, str, Sequence[str], Callable[[Any], Any]]]:
    """(case name, description, flag, requirements, change) for a search response."""

    def inclusion(r: Any) -> Any:
        inc = r.search.inclusion
        return replace(
            r, search=replace(r.search, inclusion=replace(inc, elements=_flip_first(inc.elements)))
        )

    def prefix(r: Any) -> Any:
        pp = r.search.prefix_proofs
        first = replace(pp[0], elements=_flip_first(pp[0].elements))
        return replace(r, search=replace(r.search, prefix_proofs=(first, *pp[1:])))

    def vrf(r: Any) -> Any:
        steps = r.binary_ladder
        return replace(
            r, binary_ladder=(replace(steps[0], proof=flip_bit(steps[0].proof, 300)), *steps[1:])
        )

    def signature(r: Any) -> Any:
        th = r.full_tree_head.tree_head
        return replace(
            r,
            full_tree_head=replace(
                r.full_tree_head, tree_head=replace(th, signature=flip_bit(th.signature, 11))
            ),
        )

    def missing(r: Any) -> Any:
        return replace(r, binary_ladder=r.binary_ladder[:-1])

    def target_commitment(r: Any) -> Any:
        steps = list(r.binary_ladder)
        i = list(response_ladder(ver)).index(ver)
        steps[i] = replace(steps[i], commitment=bytes(32))
        return replace(r, binary_ladder=tuple(steps))

    def value(r: Any) -> Any:
        return replace(r, value=replace(r.value, value=r.value.value + b"!"))

    def opening(r: Any) -> Any:
        return replace(r, opening=flip_bit(r.opening, 0))

    def timestamp(r: Any) -> Any:
        ts = r.search.timestamps
        return replace(r, search=replace(r.search, timestamps=(ts[0] + 1, *ts[1:])))

    return [
        (
            "modified-inclusion",
            "a log-tree proof element flipped",
            "ModifiedInclusion",
            ["LOG-009", "OPS-010"],
            inclusion,
        ),
        (
            "modified-prefix-proof",
            "a prefix-proof element flipped",
            "ModifiedPrefixProof",
            ["PREFIX-018", "OPS-010"],
            prefix,
        ),
        (
            "modified-vrf-proof",
            "the first ladder step's VRF proof flipped",
            "ModifiedVrfProof",
            ["OPS-005", "SUITE-011", "OPS-010"],
            vrf,
        ),
        (
            "modified-signature",
            "tree head signature flipped",
            "ModifiedSignature",
            ["SUITE-018", "OPS-012", "OPS-010"],
            signature,
        ),
        (
            "missing-ladder-step",
            "last binary-ladder step removed",
            "MissingLadderStep",
            ["OPS-003", "OPS-010"],
            missing,
        ),
        (
            "target-commitment",
            "a commitment on the target's ladder step",
            "TargetCommitment",
            ["OPS-004", "OPS-010"],
            target_commitment,
        ),
        ("wrong-value", "the value changed", "WrongValue", ["SUITE-013", "OPS-010"], value),
        ("wrong-opening", "the opening flipped", "WrongOpening", ["SUITE-013", "OPS-010"], opening),
        (
            "modified-timestamp",
            "the first timestamp increased by 1 ms",
            "ModifiedTimestamp",
            ["LOG-009", "OPS-010"],
            timestamp,
        ),
    ]


def _session_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"kt/client-session.{short}.json",
        kind=KIND,
        short=short,
        description=f"Sessions of a user of a {cs.name} log under contactMonitoring: verify "
        "Search and Contact Monitoring responses (KEYTRANS §13.1, §13.2) step by step.",
        parameters={"cipher_suite": cs.name, "mode": "contactMonitoring"},
    )
    mode = DeploymentMode.contactMonitoring
    world = make_world(cs, "main")
    setup = {"configuration": wire.encode(world.config, suite=cs).hex()}

    def user() -> _User:
        u = _User(world)
        u.pairs = {}
        return u

    def add(
        name: str, what: str, reqs: Sequence[str], steps: list[Step], flags: Sequence[str] = ()
    ) -> None:
        result = "invalid" if any(s.result == "invalid" for s in steps) else "valid"
        vf.add(Case(name, what, _drain(reqs), result, flags=tuple(flags), setup=setup, steps=steps))

    # A first-time greatest-version search, and a fixed-version one.
    u = user()
    step, _ = u.search(b"alice")
    add(
        "search",
        "first search for alice's greatest version",
        ["OPS-001", "OPS-012", "OPS-013"],
        [u.apply(step, "search alice")],
    )
    u = user()
    step, _ = u.search(b"alice", 1)
    add(
        "search-fixed",
        "first search for alice's version 1",
        ["OPS-001", "OPS-012"],
        [u.apply(step, "search alice version 1")],
    )

    # Two searches with the log growing in between; the second advertises the first's size.
    first_world_size = world.log.size
    u = user()
    s1, _ = u.search(b"alice")
    first = u.apply(s1, "search alice")
    world.tick([b"bob", b"erin"])
    world.tick([b"alice"])
    s2, _ = u.search(b"bob")
    add(
        "search-twice",
        "search alice, the log grows, search bob",
        ["OPS-010", "OPS-011", "OPS-012", "SEARCH-005"],
        [first, u.apply(s2, "search bob after growth")],
    )

    # Must-reject: each tampering of the second response; then the honest one verifies.
    ver = world.versions[b"bob"]
    for name, what, flag, reqs, fn in _search_tampers(ver):
        u = user()
        a = u.apply(s1, "search alice")
        try:
            bad = _retamper(s2, cs, mode, fn)
        except CKVError:
            continue
        rejected = u.reject(bad, f"search bob: {what}")
        add(
            name,
            f"second response tampered: {what}; then the honest one",
            reqs,
            [a, rejected, u.apply(s2, "honest search bob")],
            [flag],
        )
    # Stale head: replay the first response (tree of the advertised size) to the second request.
    u = user()
    a = u.apply(s1, "search alice")
    replay = s2 | {
        "request": wire.encode(
            messages.SearchRequest(last=first_world_size, label=b"alice", version=None), suite=cs
        ).hex(),
        "response": s1["response"],
    }
    rejected = u.reject(replay, "search alice again, answered with the first (stale) response")
    add(
        "stale-head",
        "a replayed response whose tree head is the advertised one",
        ["SUITE-021", "OPS-012", "OPS-010"],
        [a, rejected, u.apply(s2, "honest search bob")],
        ["StaleHead"],
    )
    # Stale clock: the honest response, but the user's clock is past max_behind.
    u = user()
    a = u.apply(s1, "search alice")
    late = s2 | {"now_ms": s2["now_ms"] + MAX_BEHIND + 1}
    rejected = u.reject(late, "search bob with the clock max_behind + 1 ms later")
    add(
        "stale-clock",
        "a response whose newest entry is too old for the clock",
        ["SUITE-020", "OPS-010"],
        [a, rejected, u.apply(s2, "honest search bob")],
        ["StaleClock"],
    )
    # Wrong version: the response for version 0 given to a request for version 1.
    u = user()
    s_v1, _ = u.search(b"alice", 1)
    u2 = user()
    s_v0, _ = u2.search(b"alice", 0)
    wrong = s_v1 | {"response": s_v0["response"]}
    add(
        "wrong-version",
        "alice version 1 answered with version 0's response, then honestly",
        ["OPS-002", "OPS-010"],
        [
            u.reject(wrong, "search alice version 1, version 0's response"),
            u.apply(s_v1, "honest search alice version 1"),
        ],
        ["WrongVersion"],
    )
    # Version shape: a greatest-version response given to a fixed-version request.
    u = user()
    s_g, _ = u.search(b"alice")
    shaped = s_v1 | {"response": s_g["response"]}
    add(
        "version-shape",
        "a fixed-version request answered with a greatest-version response",
        ["OPS-001", "WIRE-008"],
        [u.reject(shaped, "search alice version 1, greatest-version response")],
        ["VersionShape"],
    )

    # Downgrade: the log claims an older version of alice as the greatest (everything else
    # in the response is genuine); then the honest response.
    from ckv._testing.malicious_log import LogAt, answer_search_claiming  # noqa: PLC0415

    u = user()
    lie_req = messages.SearchRequest(last=None, label=b"alice", version=None)
    older = world.versions[b"alice"] - 1
    lie = answer_search_claiming(LogAt(world.log), world.config, world.sign_key, lie_req, older)
    honest_step, _ = u.search(b"alice")
    add(
        "downgrade",
        f"the log claims version {older} is alice's greatest, a newer one exists; then honestly",
        ["OPS-010"],
        [
            u.reject(u.step_for("search", lie_req, lie), f"search alice, claiming {older}"),
            u.apply(honest_step, "honest search alice"),
        ],
        ["Downgrade"],
    )

    # Monitoring: search, the log grows, monitor the pair; must-reject a tampered monitor.
    u = user()
    m1, _ = u.search(b"carol")
    a = u.apply(m1, "search carol")
    world.tick([b"dave"], gap=2 * MINUTE)
    world.tick([b"carol"], gap=2 * MINUTE)
    pairs_before = {k: dict(v) for k, v in u.pairs.items()}
    state_before = u.session.state
    m2 = u.monitor(b"carol")
    b = u.apply(m2, "monitor carol")
    add(
        "contact-monitor",
        "search carol, the log grows, monitor carol",
        ["OPS-013", "OPS-016"] if _exists("OPS-016") else ["OPS-013"],
        [a, b],
    )

    def monitor_inclusion(r: Any) -> Any:
        inc = r.monitor.inclusion
        return replace(
            r,
            monitor=replace(r.monitor, inclusion=replace(inc, elements=_flip_first(inc.elements))),
        )

    def monitor_signature(r: Any) -> Any:
        th = r.full_tree_head.tree_head
        return replace(
            r,
            full_tree_head=replace(
                r.full_tree_head, tree_head=replace(th, signature=flip_bit(th.signature, 3))
            ),
        )

    for name, what, flag, reqs, fn in [
        (
            "monitor-modified-inclusion",
            "a log-tree proof element flipped",
            "ModifiedInclusion",
            ["LOG-009", "OPS-010"],
            monitor_inclusion,
        ),
        (
            "monitor-modified-signature",
            "tree head signature flipped",
            "ModifiedSignature",
            ["SUITE-018", "OPS-010"],
            monitor_signature,
        ),
    ]:
        v = _User(world)
        v.pairs = {k: dict(p) for k, p in pairs_before.items()}
        v.session = ClientSession(world.config)
        first_step = v.apply(m1, "search carol")
        assert v.session.state == state_before
        rejected = v.reject(_retamper(m2, cs, mode, fn), f"monitor carol: {what}")
        add(
            name,
            f"monitor response tampered: {what}; then the honest one",
            reqs,
            [first_step, rejected, v.apply(m2, "honest monitor carol")],
            [flag],
        )
    return vf


def _owner_file(cs: CipherSuite) -> VectorFile:
    from ckv._testing.malicious_log import LogAt  # noqa: PLC0415 - generator only

    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"kt/owner-session.{short}.json",
        kind=KIND,
        short=f"owner.{short}",
        description=f"Sessions of a label owner of a {cs.name} log under contactMonitoring: "
        "Owner Initialization, Update and Owner Monitoring responses (KEYTRANS §13.3 to §13.5).",
        parameters={"cipher_suite": cs.name, "mode": "contactMonitoring"},
    )
    mode = DeploymentMode.contactMonitoring
    world = make_world(cs, "owner")
    for _ in range(8):
        world.tick([b"bob"], gap=2 * MINUTE)
    setup = {"configuration": wire.encode(world.config, suite=cs).hex()}
    label = b"alice"
    w = world

    def step(op: str, req: object, resp: object) -> JSON:
        return {
            "operation": op,
            "request": wire.encode(req, suite=cs).hex(),
            "response": wire.encode(resp, suite=cs, mode=mode).hex(),
            "now_ms": w.now,
        }

    # Owner Initialization at the rightmost distinguished entry.
    start = dist.rightmost_distinguished(w.log.size, RMW, w.log.timestamp)
    assert start is not None
    init_req = messages.OwnerInitRequest(last=None, label=label, start=start)
    init = step(
        "owner-init", init_req, answer_owner_init(LogAt(w.log), w.config, w.sign_key, init_req)
    )
    owner_session = ClientSession(w.config)
    init_out = owner_session.step(init)
    owner = owner_session.owners[label]
    # The owner adds a version; the log sequences it; the owner verifies the UpdateResponse.
    w.now += 30_000
    upd_req = messages.UpdateRequest(
        last=owner_session.state.tree_size,
        label=label,
        greatest_version=owner.greatest,
        values=(messages.LabelValue(value=b"alice's new key"),),
    )
    result = w.log.update([upd_req], now_ms=w.now)
    assert result.entry is not None
    position = result.entry.position
    upd_resp = answer_update(
        LogAt(w.log), w.config, w.sign_key, upd_req, position, owner_start=owner.start
    )
    update = step("update", upd_req, upd_resp)
    update_out = owner_session.step(update)
    # The log grows; the owner monitors.
    for _ in range(6):
        w.tick([b"carol"], gap=2 * MINUTE)
    owner = owner_session.owners[label]
    mon_req = messages.OwnerMonitorRequest(
        last=owner_session.state.tree_size,
        label=label,
        entries=tuple(
            messages.MonitorMapEntry(position=p, version=v)
            for p, v in sorted(owner.entries.items())
        ),
        start=owner.start,
        greatest_version=owner.greatest,
    )
    monitor = step(
        "owner-monitor", mon_req, answer_owner_monitor(LogAt(w.log), w.config, w.sign_key, mon_req)
    )
    monitor_out = owner_session.step(monitor)
    honest = [
        Step(init, "valid", init_out, description="owner initialization for alice"),
        Step(update, "valid", update_out, description="alice adds a version"),
        Step(monitor, "valid", monitor_out, description="owner monitoring of alice"),
    ]
    vf.add(
        Case(
            "owner",
            "initialize, update, monitor",
            ("OPS-020", "OPS-028", "OPS-010"),
            "valid",
            setup=setup,
            steps=honest,
        )
    )

    def reject(steps_before: int, bad: JSON, what: str) -> Step:
        s = ClientSession(w.config)
        for h in honest[:steps_before]:
            s.step(h.input)
        before = s.state
        try:
            s.step(bad)
        except CKVError as exc:
            assert s.state == before
            _RAISED.append(exc.requirement)
            return Step(bad, "invalid", error=error_of(exc)[0], description=what)
        msg = f"the reference accepts a must-reject step: {what}"
        raise RuntimeError(msg)

    def inclusion(field_name: str) -> Callable[[Any], Any]:
        def change(r: Any) -> Any:
            proof = getattr(r, field_name)
            inc = proof.inclusion
            bad = replace(inc, elements=_flip_first(inc.elements))
            return replace(r, **{field_name: replace(proof, inclusion=bad)})

        return change

    def prefix(field_name: str) -> Callable[[Any], Any]:
        def change(r: Any) -> Any:
            proof = getattr(r, field_name)
            pp = proof.prefix_proofs
            first = replace(pp[0], elements=_flip_first(pp[0].elements))
            return replace(r, **{field_name: replace(proof, prefix_proofs=(first, *pp[1:]))})

        return change

    def signature(r: Any) -> Any:
        th = r.full_tree_head.tree_head
        bad = replace(th, signature=flip_bit(th.signature, 21))
        return replace(r, full_tree_head=replace(r.full_tree_head, tree_head=bad))

    def earlier(r: Any) -> Any:
        return replace(r, position=owner.start)

    def vrf(r: Any) -> Any:
        steps = r.binary_ladder
        return replace(
            r, binary_ladder=(replace(steps[0], proof=flip_bit(steps[0].proof, 200)), *steps[1:])
        )

    tampers = [
        (
            0,
            init,
            "init-modified-inclusion",
            "owner init: a log-tree proof element flipped",
            "ModifiedInclusion",
            ["LOG-009", "OPS-010"],
            inclusion("init"),
        ),
        (
            0,
            init,
            "init-modified-signature",
            "owner init: tree head signature flipped",
            "ModifiedSignature",
            ["SUITE-018", "OPS-010"],
            signature,
        ),
        (
            0,
            init,
            "init-modified-vrf-proof",
            "owner init: a ladder VRF proof flipped",
            "ModifiedVrfProof",
            ["OPS-022", "SUITE-011", "OPS-010"],
            vrf,
        ),
        (
            1,
            update,
            "update-modified-inclusion",
            "update: a log-tree proof element flipped",
            "ModifiedInclusion",
            ["LOG-009", "OPS-010"],
            inclusion("update"),
        ),
        (
            1,
            update,
            "update-modified-prefix-proof",
            "update: a prefix-proof element flipped",
            "ModifiedPrefixProof",
            ["PREFIX-018", "OPS-010"],
            prefix("update"),
        ),
        (
            1,
            update,
            "update-modified-signature",
            "update: tree head signature flipped",
            "ModifiedSignature",
            ["SUITE-018", "OPS-010"],
            signature,
        ),
        (
            1,
            update,
            "update-earlier-position",
            "update: the new versions placed at the owner's start",
            "WrongPosition",
            ["OPS-028", "OPS-010"],
            earlier,
        ),
        (
            2,
            monitor,
            "monitor-modified-inclusion",
            "owner monitoring: a log-tree proof element flipped",
            "ModifiedInclusion",
            ["LOG-009", "OPS-010"],
            inclusion("monitor"),
        ),
        (
            2,
            monitor,
            "monitor-modified-signature",
            "owner monitoring: tree head signature flipped",
            "ModifiedSignature",
            ["SUITE-018", "OPS-010"],
            signature,
        ),
    ]
    for before, good, name, what, flag, reqs, fn in tampers:
        try:
            bad = _retamper(good, cs, mode, fn)
        except (CKVError, IndexError):  # nothing to tamper with in this response
            continue
        rejected = reject(before, bad, what)
        steps = [*honest[:before], rejected, honest[before], *honest[before + 1 :]]
        vf.add(
            Case(
                name,
                f"{what}; then the honest response",
                _drain(reqs),
                "invalid",
                flags=(flag,),
                setup=setup,
                steps=steps,
            )
        )
    return vf


def _mode_file(cs: CipherSuite, mode: DeploymentMode) -> VectorFile:
    """Search sessions under a deployment mode with a third party."""
    tag = {"thirdPartyManagement": "tpm", "thirdPartyAuditing": "tpa"}[mode.name]
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"kt/client-session.{tag}.{short}.json",
        kind=KIND,
        short=f"{tag}.{short}",
        description=f"Search sessions of a user of a {cs.name} log under {mode.name} "
        "(KEYTRANS §11.3, §11.5, §13.1).",
        parameters={"cipher_suite": cs.name, "mode": mode.name},
    )
    world = make_world(cs, tag, mode)
    setup = {"configuration": wire.encode(world.config, suite=cs).hex()}

    def user() -> _User:
        u = _User(world)
        u.pairs = {}
        return u

    u = user()
    s1, _ = u.search(b"alice")
    first = u.apply(s1, "search alice")
    world.tick([b"bob"])
    s2, _ = u.search(b"bob")
    second = u.apply(s2, "search bob after growth")
    vf.add(
        Case(
            "search",
            f"two searches under {mode.name}",
            ("OPS-012", "OPS-010"),
            "valid",
            setup=setup,
            steps=[first, second],
        )
    )

    def update_signature(r: Any) -> Any:
        suffix = r.value.suffix
        bad = replace(suffix, signature=flip_bit(suffix.signature, 17))
        return replace(r, value=replace(r.value, suffix=bad))

    def auditor_signature(r: Any) -> Any:
        ath = r.full_tree_head.auditor_tree_head
        bad = replace(ath, signature=flip_bit(ath.signature, 5))
        return replace(r, full_tree_head=replace(r.full_tree_head, auditor_tree_head=bad))

    def auditor_size(r: Any) -> Any:
        ath = r.full_tree_head.auditor_tree_head
        th = r.full_tree_head.tree_head
        bad = replace(ath, tree_size=th.tree_size + 1)
        return replace(r, full_tree_head=replace(r.full_tree_head, auditor_tree_head=bad))

    if mode is DeploymentMode.thirdPartyManagement:
        tampers = [
            (
                "update-signature",
                "the Service Operator's signature on the value flipped",
                "ForgedUpdate",
                ["SUITE-016", "OPS-002", "OPS-010"],
                update_signature,
            ),
        ]
    else:
        tampers = [
            (
                "auditor-signature",
                "the auditor tree head's signature flipped",
                "AuditorSignature",
                ["SUITE-026", "OPS-010"],
                auditor_signature,
            ),
            (
                "auditor-size",
                "the auditor tree head's size above the tree head's",
                "AuditorSize",
                ["SUITE-025", "OPS-010"],
                auditor_size,
            ),
        ]
    mode_ = world.config.mode
    for name, what, flag, reqs, fn in tampers:
        v = user()
        a = v.apply(s1, "search alice")
        rejected = v.reject(_retamper(s2, cs, mode_, fn), f"search bob: {what}")
        steps = [a, rejected, v.apply(s2, "honest search bob")]
        vf.add(
            Case(
                name,
                f"{what}; then the honest response",
                _drain(reqs),
                "invalid",
                flags=(flag,),
                setup=setup,
                steps=steps,
            )
        )
    return vf


def _exists(rid: str) -> bool:
    from ckv.conformance.vectors import requirement_ids  # noqa: PLC0415

    return rid in requirement_ids()


# -- kt.fork-evidence.verify ----------------------------------------------------------------

FORK_NOTES = {
    "NoFork": Note("FALSE_ALARM", "Both views agree on the shared prefix: no fork (FORK-003)."),
    "ModifiedSignature": Note("AUTH_BYPASS", "A view's tree head signature is altered (FORK-003)."),
    "WrongHeads": Note("PROOF_SHAPE", "A view has the wrong number of full-subtree heads."),
    "ModifiedConsistency": Note("AUTH_BYPASS", "A view's consistency proof is altered."),
    "BadCommonSize": Note("PROOF_SHAPE", "The common size is 0 or beyond a view's size."),
}


def handle_fork(request: JSON) -> JSON:
    """Reference handler of ``kt.fork-evidence.verify``: the two conflicting roots."""
    data = hexb(request["evidence"], "evidence")
    suite = CipherSuite(int.from_bytes(data[:2], "big")) if len(data) >= 2 else None
    if suite not in SUITE_SHORT:
        raise UsageError("evidence: unknown cipher suite")
    evidence = wire.decode(messages.ForkEvidence, data, suite=suite)
    first, second = verify_fork_evidence(evidence)
    return {"first_root": first.hex(), "second_root": second.hex()}


def _fork_file(cs: CipherSuite) -> VectorFile:
    from ckv.conformance.kinds_crypto import make_configuration  # noqa: PLC0415

    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"kt/fork-evidence.{short}.json",
        kind="kt.fork-evidence.verify",
        short=short,
        description=f"Verify ForkEvidence under {cs.name}: both views verify and disagree "
        "about the first common_size entries (spec: fork detection).",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv fork evidence vectors {cs.name}")
    config, log_sk, _ = make_configuration(cs, DeploymentMode.contactMonitoring, rng)
    shared = [rng(32) for _ in range(9)]
    left = LogTree.from_leaves([*shared, *(rng(32) for _ in range(8))])
    right = LogTree.from_leaves([*shared[:6], *(rng(32) for _ in range(9))])
    honest = LogTree.from_leaves([*shared, *(rng(32) for _ in range(3))])

    def view(tree: LogTree, common: int) -> messages.ForkView:
        return fork_view(tree, sign_tree_head(config, log_sk, tree.size, tree.root()), common)

    def add(
        name: str, what: str, result: str, ev: messages.ForkEvidence, flags: Sequence[str] = ()
    ) -> None:
        req = {"evidence": wire.encode(ev, suite=cs).hex()}
        vf.add_reference(
            handle_fork,
            name=name,
            description=what,
            requirements=["FORK-003"],
            result=result,
            input=req,
            flags=flags,
        )

    for common in (7, 9):
        ev = messages.ForkEvidence(
            config=config, common_size=common, first=view(left, common), second=view(right, common)
        )
        add(
            "fork", f"views of 17 and 15 entries that differ within the first {common}", "valid", ev
        )
        if common == 9:
            add(
                "no-fork",
                "views of 17 and 12 entries that agree on the first 9",
                "invalid",
                replace(ev, second=view(honest, 9)),
                ["NoFork"],
            )
            th = ev.first.tree_head
            bad_first = replace(
                ev.first, tree_head=replace(th, signature=flip_bit(th.signature, 40))
            )
            add(
                "modified-signature",
                "first view's signature flipped",
                "invalid",
                replace(ev, first=bad_first),
                ["ModifiedSignature"],
            )
            add(
                "wrong-heads",
                "second view lacks a full-subtree head",
                "invalid",
                replace(ev, second=replace(ev.second, full_subtrees=ev.second.full_subtrees[:-1])),
                ["WrongHeads"],
            )
            cons = ev.second.consistency
            if cons.elements:
                bad = replace(
                    ev.second, consistency=replace(cons, elements=_flip_first(cons.elements))
                )
                add(
                    "modified-consistency",
                    "second view's consistency proof flipped",
                    "invalid",
                    replace(ev, second=bad),
                    ["ModifiedConsistency"],
                )
            add(
                "bad-common-size",
                "common size 0",
                "invalid",
                replace(ev, common_size=0),
                ["BadCommonSize"],
            )
            add(
                "bad-common-size",
                "common size 16, beyond the second view's 15",
                "invalid",
                replace(ev, common_size=16),
                ["BadCommonSize"],
            )
    return vf


_STEP_INPUT = _obj(
    {
        "operation": {
            "enum": ["search", "contact-monitor", "owner-init", "update", "owner-monitor"]
        },
        "request": HEX,
        "response": HEX,
        "now_ms": {"type": "integer", "minimum": 0},
    }
)

_UINT: JSON = {"type": "integer", "minimum": 0}
_PAIRS: JSON = {
    "type": "array",
    "items": {"type": "array", "items": _UINT, "minItems": 2, "maxItems": 2},
}
_OWNER_OUT: dict[str, JSON] = {
    "start": _UINT,
    "greatest": {"anyOf": [_UINT, {"type": "null"}]},
    "entries": _PAIRS,
    "tree_size": _UINT,
}
_STEP_OUTPUT: JSON = {
    "anyOf": [
        _obj(
            {
                "version": _UINT,
                "value": HEX,
                "terminal": _UINT,
                "rightmost_distinguished": {"anyOf": [_UINT, {"type": "null"}]},
                "must_monitor": {"type": "boolean"},
                "tree_size": _UINT,
            }
        ),
        _obj({"map": _PAIRS, "tree_size": _UINT}),
        _obj(_OWNER_OUT),
        _obj(
            _OWNER_OUT
            | {
                "position": _UINT,
                "first": _UINT,
                "values": {"type": "array", "items": HEX},
                "reported": {"type": "boolean"},
            }
        ),
    ]
}

register(
    VectorKind(
        name=KIND,
        description="A user's session with one log: verify each response against the state the "
        "earlier steps left (KEYTRANS §13).",
        generate=lambda: [
            *(f(cs) for cs in _SUITES for f in (_session_file, _owner_file)),
            *(
                _mode_file(CipherSuite.KT_128_SHA256_Ed25519, m)
                for m in (DeploymentMode.thirdPartyManagement, DeploymentMode.thirdPartyAuditing)
            ),
        ],
        input_schema=_STEP_INPUT,
        output_schema=_STEP_OUTPUT,
        notes=NOTES,
        session=ClientSession.open,
        setup_schema=_obj({"configuration": HEX}),
    )
)
register(
    VectorKind(
        name="kt.fork-evidence.verify",
        description="Check ForkEvidence; output the two conflicting roots (spec: fork detection).",
        generate=lambda: [_fork_file(cs) for cs in _SUITES],
        input_schema=_obj({"evidence": HEX}),
        output_schema=_obj({"first_root": HEX, "second_root": HEX}),
        notes=FORK_NOTES,
        handler=handle_fork,
    )
)
