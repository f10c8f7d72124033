"""Interop cases for monitoring (KEYTRANS §8.2, §8.3, §13.2-§13.4): ``monitor.json``.

Each case is a response a katie log served: a ``ContactMonitorResponse``
(``contact``), an ``OwnerInitResponse`` (``owner-init``) or an
``OwnerMonitorResponse`` (``owner-monitor``). The handler decodes it and runs
CKV's client verification (:mod:`ckv.monitoring`) with the vector's
configuration and the user's knowledge (``known_versions``); a case passes only
if the proof is consumed exactly and the ``FullTreeHead`` signature verifies
over the recomputed root. A case with an advertised size (``last``) lacks the
retained state, so only consumption is checked and it is not reported as a pass.

Also here: :class:`TrustingConsumer`, a consumer for such cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ckv import combined_tree as ct
from ckv import implicit_search_tree as ibst
from ckv import wire
from ckv.client_state import ClientState
from ckv.errors import CKVError, VerificationError
from ckv.interop import Case, CaseOutcome, FileMeta, handler
from ckv.monitoring import (
    OwnerState,
    verify_contact_monitor,
    verify_owner_init,
    verify_owner_monitor,
)
from ckv.wire import messages

__all__ = [
    "TrustingConsumer",
    "config_of",
    "known_keys",
    "limited_check_detail",
    "run_monitor_case",
]


def config_of(meta: FileMeta, inp: Any) -> messages.Configuration:
    """The ``Configuration`` a case describes (no maximum lifetime is written as 0)."""
    lifetime = int(inp.get("maximum_lifetime", 0))
    return messages.Configuration(
        ciphersuite=messages.CipherSuite(int(meta.get("cipher_suite", 2))),
        mode=messages.DeploymentMode(int(inp["mode"])),
        signature_public_key=bytes.fromhex(inp["signature_public_key"]),
        vrf_public_key=bytes.fromhex(inp["vrf_public_key"]),
        max_ahead=int(inp.get("max_ahead", 10_000)),
        max_behind=int(inp.get("max_behind", 10_000)),
        reasonable_monitoring_window=int(inp["monitoring_window"]),
        maximum_lifetime=lifetime or None,
    )


def known_keys(rows: Any) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """VRF outputs and commitments per version from rows ``{version, vrf_output, commitment?}``."""
    outputs: dict[int, bytes] = {}
    commitments: dict[int, bytes] = {}
    for row in rows:
        version = int(row["version"])
        outputs[version] = bytes.fromhex(row["vrf_output"])
        if row.get("commitment") is not None:
            commitments[version] = bytes.fromhex(row["commitment"])
    return outputs, commitments


def limited_check_detail(results: Mapping[str, str], last: object) -> str:
    """The outcome text of an advertised-size case, which can only be checked in part."""
    return (
        f"LIMITED CHECK, not a pass: katie's reading (KT-05) {results['kt05']}; draft reading "
        f"{results['draft']}; log tree root and tree head signature NOT verified because the "
        f"vector does not carry the retained state of the size-{last} tree"
    )


class TrustingConsumer(ct.Consumer):
    """A consumer for vectors without retained state: retained roots are taken as given.

    The retained frontier timestamps are added to the ledger; :meth:`check_counts`
    checks the exact counts without computing a log tree root.
    """

    def __init__(
        self,
        proof: messages.CombinedTreeProof,
        size: int,
        *,
        vrf_outputs: Mapping[int, bytes],
        commitments: Mapping[int, bytes],
        stamps: Mapping[int, int],
        suite: messages.CipherSuite,
    ) -> None:
        super().__init__(proof, size, vrf_outputs=vrf_outputs, commitments=commitments, suite=suite)
        for x, value in sorted(stamps.items()):
            self.ledger.add(x, value)

    def check_counts(self) -> None:
        """Exact counts of timestamps, prefix proofs and prefix roots (no root)."""
        if self._timestamps or self._proofs:
            msg = f"{len(self._timestamps)} timestamps, {len(self._proofs)} proofs left over"
            raise VerificationError(msg, requirement="COMBINED-003")
        missing = [x for x in sorted(self.supplied) if x not in self.roots]
        if len(missing) != len(self._proof.prefix_roots):
            msg = f"{len(self._proof.prefix_roots)} prefix roots for {len(missing)} entries"
            raise VerificationError(msg, requirement="COMBINED-005")


def _entries(inp: Any) -> tuple[messages.MonitorMapEntry, ...]:
    return tuple(
        messages.MonitorMapEntry(position=int(e["position"]), version=int(e["version"]))
        for e in inp["entries"]
    )


def _history(inp: Any, label: bytes) -> tuple[tuple[int, int], ...]:
    """The owner's record: the entry where each version of the label was created."""
    out: list[tuple[int, int]] = []
    version = 0
    for i, mutation in enumerate(inp["mutations"]):
        for add in mutation["add"]:
            if bytes.fromhex(add["label"]) == label:
                out.append((i, version))
                version += 1
    return tuple(out)


def _limited_contact(
    config: messages.Configuration,
    request: messages.ContactMonitorRequest,
    response: messages.ContactMonitorResponse,
    inp: Any,
) -> CaseOutcome:
    last = request.last
    head = response.full_tree_head.tree_head
    if last is None or head is None:
        return CaseOutcome.failed("no advertised size or no tree head")
    stamps = [int(t) for t in inp["entry_timestamps"]]
    outputs, commitments = known_keys(inp["known_versions"])
    results: dict[str, str] = {}
    for reading in ("kt05", "draft"):
        consumer = TrustingConsumer(
            response.monitor,
            head.tree_size,
            vrf_outputs=outputs,
            commitments=commitments,
            stamps={x: stamps[x] for x in ibst.frontier(last)},
            suite=config.ciphersuite,
        )
        try:
            ct.update_view(consumer, last, restart=reading == "draft")
            ct.contact_monitor(
                consumer,
                {e.position: e.version for e in request.entries},
                config.reasonable_monitoring_window,
            )
            consumer.check_counts()
            results[reading] = "consumed exactly"
        except CKVError as exc:
            results[reading] = f"rejected: {exc}"
    detail = limited_check_detail(results, last)
    if results["kt05"] != "consumed exactly":
        return CaseOutcome.failed(detail)
    # IOP-S01 where the two readings of §4.2 differ; IOP-O03 (no retained state) otherwise.
    same = results["draft"] == results["kt05"]
    return CaseOutcome.diverges("IOP-O03" if same else "IOP-S01", detail)


def _decode(cls: type[Any], config: messages.Configuration, data: str) -> Any:
    return wire.decode(cls, bytes.fromhex(data), suite=config.ciphersuite, mode=config.mode)


@handler("monitor")
def run_monitor_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Verify a recorded monitoring response as a client would (§13.2-§13.4)."""
    inp = case["input"]
    expect = case["expect"]
    config = config_of(meta, inp)
    label = bytes.fromhex(inp["label"])
    last = inp.get("last")
    now = int(inp["entry_timestamps"][-1])
    operation = inp["operation"]
    outputs, commitments = known_keys(inp["known_versions"])
    try:
        if operation == "contact":
            request = messages.ContactMonitorRequest(last=last, label=label, entries=_entries(inp))
            response = _decode(messages.ContactMonitorResponse, config, expect["response"])
            if last is not None:
                return _limited_contact(config, request, response, inp)
            new_map, state = verify_contact_monitor(
                ClientState.initial(),
                config,
                request,
                response,
                now,
                vrf_outputs=outputs,
                commitments=commitments,
            )
            detail = f"map {dict(sorted(new_map.items()))}"
        elif operation == "owner-init":
            init_request = messages.OwnerInitRequest(
                last=last, label=label, start=int(inp["start"])
            )
            init_response = _decode(messages.OwnerInitResponse, config, expect["response"])
            want = tuple(int(v) for v in expect["greatest_versions"])
            if init_response.greatest_versions != want:
                return CaseOutcome.failed(f"greatest_versions {init_response.greatest_versions}")
            owner, state = verify_owner_init(
                ClientState.initial(), config, init_request, init_response, now
            )
            detail = f"owner greatest {owner.greatest}, start {owner.start}"
        elif operation == "owner-monitor":
            greatest = inp.get("greatest_version")
            entries = _entries(inp)
            owner = OwnerState(
                int(inp["start"]),
                _history(inp, label),
                outputs,
                commitments,
                {e.position: e.version for e in entries},
            )
            if owner.greatest != greatest:
                return CaseOutcome.failed(f"mutations give {owner.greatest}, input {greatest}")
            monitor_request = messages.OwnerMonitorRequest(
                last=last,
                label=label,
                entries=entries,
                start=owner.start,
                greatest_version=greatest,
            )
            monitor_response = _decode(messages.OwnerMonitorResponse, config, expect["response"])
            owner, state = verify_owner_monitor(
                ClientState.initial(), config, owner, monitor_request, monitor_response, now_ms=now
            )
            detail = f"start now {owner.start}, map {dict(owner.entries)}"
        else:
            return CaseOutcome.failed(f"unknown operation {operation!r}")
    except CKVError as exc:
        return CaseOutcome.failed(f"rejected: {exc}")
    if state.tree_size != int(expect["tree_size"]):
        return CaseOutcome.failed(f"state size {state.tree_size} != {expect['tree_size']}")
    return CaseOutcome.passed(f"{detail}; consumed exactly, tree head verified")
