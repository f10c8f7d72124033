"""Interop cases for updating a label (KEYTRANS §9.1, §13.5): ``update.json``.

katie cannot build an ``UpdateResponse`` (OR13/kt ``KT-04``), so each case pins
only the ``CombinedTreeProof`` §9.1 asks for, with the owner's state before the
update and the search keys (``ladder``) its lookups need. The handler runs
CKV's §9.1 algorithm (:func:`ckv.combined_tree.label_update`, after the view
update) as the owner would, consuming the proof; a case passes when the proof
is consumed exactly, the log tree root computes from the leaves and
``inclusion``, and the outcome (distinguished or not, and the contact
monitoring pair) matches. The vectors carry no tree head, so no signature is
checked. A case with an advertised size lacks the retained state: consumption
only, not reported as a pass.
"""

from __future__ import annotations

from typing import Any

from ckv import combined_tree as ct
from ckv import implicit_search_tree as ibst
from ckv import wire
from ckv.errors import CKVError
from ckv.interop import Case, CaseOutcome, FileMeta, handler
from ckv.interop.monitor_vectors import TrustingConsumer, config_of, known_keys
from ckv.monitoring import OwnerState
from ckv.wire import messages

__all__ = ["owner_of", "run_update_case"]


def owner_of(row: Any) -> OwnerState:
    """The owner's state of a case: starting position, version there, later insertions."""
    start = int(row["starting"])
    at_start = row.get("version_at_starting")
    history: list[tuple[int, int]] = []
    version = -1
    if at_start is not None:
        version = int(at_start)
        history.append((start, version))
    for position in row.get("upcoming", []):
        version += 1
        history.append((int(position), version))
    return OwnerState(start, tuple(history))


def _run(
    consumer: ct.Consumer,
    config: messages.Configuration,
    inp: Any,
    owner: OwnerState,
    *,
    restart: bool = True,
) -> ct.LabelUpdateOutcome:
    last = inp.get("last")
    ct.update_view(consumer, None if last is None else int(last), restart=restart)
    return ct.label_update(
        consumer,
        int(inp["position"]),
        count=int(inp["versions"]),
        previous=owner.greatest,
        skip_through=owner.last_insert,
        expected=lambda x: owner.expected(max(x, owner.start)),
        rmw=config.reasonable_monitoring_window,
    )


def _outcome_matches(outcome: ct.LabelUpdateOutcome, inp: Any, expect: Any) -> str | None:
    if outcome.distinguished != bool(expect["distinguished"]):
        return f"distinguished {outcome.distinguished}, vector {expect['distinguished']}"
    contact = expect.get("contact")
    if contact is not None:
        got = {"position": int(inp["position"]), "version": outcome.greatest}
        if outcome.distinguished or got != {k: int(v) for k, v in contact.items()}:
            return f"contact pair {got}, vector {contact}"
    elif not outcome.distinguished:
        return "CKV would add a contact monitoring pair; the vector has none"
    return None


@handler("update")
def run_update_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Consume a recorded §9.1 proof as the label owner would."""
    inp = case["input"]
    expect = case["expect"]
    config = config_of(meta, inp)
    owner = owner_of(inp["owner"])
    outputs, commitments = known_keys(inp["ladder"])
    n = int(inp["tree_size"])
    try:
        proof = wire.decode(
            messages.CombinedTreeProof, bytes.fromhex(expect["proof"]), suite=config.ciphersuite
        )
    except CKVError as exc:
        return CaseOutcome.failed(f"proof does not decode: {exc}")
    last = inp.get("last")
    if last is not None:
        stamps = [int(t) for t in inp["entry_timestamps"]]
        results: dict[str, str] = {}
        for reading in ("kt05", "draft"):
            trusting = TrustingConsumer(
                proof,
                n,
                vrf_outputs=outputs,
                commitments=commitments,
                stamps={x: stamps[x] for x in ibst.frontier(int(last))},
                suite=config.ciphersuite,
            )
            try:
                outcome = _run(trusting, config, inp, owner, restart=reading == "draft")
                trusting.check_counts()
                wrong = _outcome_matches(outcome, inp, expect)
                results[reading] = f"outcome differs: {wrong}" if wrong else "consumed exactly"
            except CKVError as exc:
                results[reading] = f"rejected: {exc}"
        detail = (
            f"LIMITED CHECK, not a pass: katie's reading (KT-05) {results['kt05']}; draft "
            f"reading {results['draft']}; the log tree root is NOT computed because the "
            f"vector does not carry the retained state of the size-{last} tree"
        )
        if results["kt05"] != "consumed exactly":
            return CaseOutcome.failed(detail)
        return CaseOutcome.diverges(
            "IOP-S01" if results["draft"] != results["kt05"] else "IOP-O03", detail
        )
    consumer = ct.Consumer(
        proof, n, vrf_outputs=outputs, commitments=commitments, suite=config.ciphersuite
    )
    try:
        outcome = _run(consumer, config, inp, owner)
        result = consumer.finish(None)
    except CKVError as exc:
        return CaseOutcome.failed(f"rejected: {exc}")
    wrong = _outcome_matches(outcome, inp, expect)
    if wrong:
        return CaseOutcome.failed(wrong)
    return CaseOutcome.passed(
        f"consumed exactly; distinguished {outcome.distinguished}; log tree root "
        f"{result.root.hex()[:16]}... computed (the vector has no tree head to check it against)"
    )
