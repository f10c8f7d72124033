"""The Third-Party Auditor (KEYTRANS §15.2): honest logs pass, every tampering is refused."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv.auditing import AuditorState, audit, sign_audited_head
from ckv.cipher_suites import get_suite
from ckv.errors import VerificationError
from ckv.log_tree import FullSubtrees, LogTree, sha256
from ckv.prefix_tree import PrefixTree
from ckv.tree_head import verify_auditor_tree_head
from ckv.wire import codec_for
from ckv.wire.messages import (
    AuditorUpdate,
    CipherSuite,
    Configuration,
    DeploymentMode,
    LogEntry,
    PrefixLeaf,
)

DAY = 86_400_000
T0 = 1_785_000_000_000


def _log_leaf(timestamp: int, prefix_root: bytes) -> bytes:
    return sha256(codec_for().encode(LogEntry(timestamp=timestamp, prefix_tree=prefix_root)))


class HonestLog:
    """Just enough of a log to produce AuditorUpdates the way §15.2 says."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tree = PrefixTree()
        self.log = LogTree()
        self.time = T0

    def key(self) -> bytes:
        return self.rng.randbytes(32)

    def step(self, *, adds: int, removes: int, replaces: int, dt: int) -> AuditorUpdate:
        present = sorted(k for k, _ in self.tree.items())
        self.rng.shuffle(present)
        removed_keys = present[:removes]
        replaced_keys = present[removes : removes + replaces]
        added = [PrefixLeaf(vrf_output=self.key(), commitment=self.key()) for _ in range(adds)]
        added += [PrefixLeaf(vrf_output=k, commitment=self.key()) for k in replaced_keys]
        removed = [
            PrefixLeaf(vrf_output=k, commitment=self.tree.get(k))
            for k in removed_keys + replaced_keys
        ]
        added.sort(key=lambda leaf: leaf.vrf_output)
        removed.sort(key=lambda leaf: leaf.vrf_output)
        proof = self.tree.prove([x.vrf_output for x in added] + [x.vrf_output for x in removed])
        self.tree = self.tree.apply(added, removed)
        self.time += dt
        self.log.append_leaf(_log_leaf(self.time, self.tree.root()))
        return AuditorUpdate(
            timestamp=self.time, added=tuple(added), removed=tuple(removed), proof=proof
        )


@pytest.mark.req("AUDIT-001", "AUDIT-002", "AUDIT-004", "AUDIT-006")
@settings(max_examples=25)
@given(seed=st.integers(0, 2**32), steps=st.integers(1, 30))
def test_an_honest_log_is_accepted_and_the_roots_agree(seed: int, steps: int) -> None:
    log = HonestLog(seed)
    state = AuditorState.genesis()
    for i in range(steps):
        # Removals only of leaves published in a distinguished entry: keep dt >= RMW.
        update = log.step(
            adds=log.rng.randint(1, 5),
            removes=log.rng.randint(0, 2) if i else 0,
            replaces=log.rng.randint(0, 2) if i else 0,
            dt=DAY,
        )
        result = audit(state, update, rmw=DAY)
        state = result.state
        assert result.tree_size == log.log.size
        assert result.log_root == log.log.root()
        assert state.prefix_root == log.tree.root()


def _prepared(seed: int = 7, steps: int = 6) -> tuple[HonestLog, AuditorState]:
    log = HonestLog(seed)
    state = AuditorState.genesis()
    for i in range(steps):
        update = log.step(adds=3, removes=1 if i else 0, replaces=0, dt=DAY)
        state = audit(state, update, rmw=DAY).state
    return log, state


def _rejects(state: AuditorState, update: AuditorUpdate, requirement: str) -> None:
    with pytest.raises(VerificationError) as info:
        audit(state, update, rmw=DAY)
    assert info.value.requirement == requirement, info.value


@pytest.mark.req("AUDIT-001")
def test_time_never_goes_backwards() -> None:
    log, state = _prepared()
    update = log.step(adds=1, removes=0, replaces=0, dt=0)
    audit(state, update, rmw=DAY)  # an equal timestamp is allowed
    _rejects(state, dataclasses.replace(update, timestamp=update.timestamp - 1), "AUDIT-001")


@pytest.mark.req("AUDIT-002")
def test_lists_must_be_sorted_without_repeats() -> None:
    log, state = _prepared()
    update = log.step(adds=3, removes=0, replaces=0, dt=1)
    _rejects(state, dataclasses.replace(update, added=update.added[::-1]), "AUDIT-002")
    twice = (update.added[0], update.added[0], *update.added[1:])
    _rejects(state, dataclasses.replace(update, added=twice), "AUDIT-002")


@pytest.mark.req("AUDIT-003")
def test_an_update_that_changes_nothing_cannot_be_audited() -> None:
    log, state = _prepared()
    update = log.step(adds=1, removes=0, replaces=0, dt=1)
    empty = AuditorUpdate(
        timestamp=update.timestamp,
        added=(),
        removed=(),
        proof=dataclasses.replace(update.proof, results=(), elements=()),
    )
    _rejects(state, empty, "AUDIT-003")


@pytest.mark.req("AUDIT-004")
def test_a_leaf_no_distinguished_entry_published_cannot_be_removed() -> None:
    log = HonestLog(3)
    state = AuditorState.genesis()
    for dt in (0, 60_000):
        state = audit(state, log.step(adds=2, removes=0, replaces=0, dt=dt), rmw=DAY).state
    # A leaf inserted at entry 2, a minute after entry 1, and removed a minute later:
    # entry 2 is not distinguished (its bracket spans two minutes), nor is any entry
    # after it, so no distinguished entry has published the leaf.
    third = log.step(adds=1, removes=0, replaces=0, dt=60_000)
    state = audit(state, third, rmw=DAY).state
    assert state.pending == ((2, third.added[0].vrf_output),)
    fresh = third.added[0]
    proof = log.tree.prove([fresh.vrf_output])
    removal = AuditorUpdate(timestamp=log.time + 60_000, added=(), removed=(fresh,), proof=proof)
    _rejects(state, removal, "AUDIT-004")
    # A day later, a distinguished entry has published it and removal is allowed.
    later = log.step(adds=1, removes=0, replaces=0, dt=DAY)
    state = audit(state, later, rmw=DAY).state
    assert state.pending == ()
    proof = log.tree.prove([fresh.vrf_output])
    audit(
        state,
        AuditorUpdate(timestamp=log.time + 1, added=(), removed=(fresh,), proof=proof),
        rmw=DAY,
    )


@pytest.mark.req("AUDIT-005")
def test_an_auditor_without_the_tree_never_guesses_a_root() -> None:
    log = HonestLog(11)
    state = AuditorState.genesis()
    update = log.step(adds=40, removes=0, replaces=0, dt=0)
    state = audit(state, update, rmw=DAY).state
    blind = dataclasses.replace(state, prefix_tree=None)
    outcomes = set()
    for i in range(15):
        update = log.step(adds=0, removes=1 + i % 2, replaces=0, dt=DAY)
        try:
            result = audit(blind, update, rmw=DAY)
        except VerificationError as exc:
            assert exc.requirement == "AUDIT-005"
            outcomes.add("undetermined")
        else:
            assert result.state.prefix_root == log.tree.root()
            outcomes.add("determined")
        blind = dataclasses.replace(audit(state, update, rmw=DAY).state, prefix_tree=None)
        state = audit(state, update, rmw=DAY).state
    # A lone removal always leaves its sibling's kind open (OR13-kt DRAFT-04).
    assert "undetermined" in outcomes


@pytest.mark.req("PREFIX-018", "PREFIX-021", "PREFIX-022", "AUDIT-006")
@settings(max_examples=40)
@given(data=st.data())
def test_tampered_proofs_and_leaves_are_refused(data: st.DataObject) -> None:
    log, state = _prepared(seed=data.draw(st.integers(0, 1000)))
    update = log.step(adds=2, removes=1, replaces=1, dt=DAY)
    audit(state, update, rmw=DAY)
    what = data.draw(st.sampled_from(["element", "commitment", "added-present", "depth"]))
    if what == "element" and update.proof.elements:
        i = data.draw(st.integers(0, len(update.proof.elements) - 1))
        e = bytearray(update.proof.elements[i])
        e[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
        elements = (*update.proof.elements[:i], bytes(e), *update.proof.elements[i + 1 :])
        bad = dataclasses.replace(
            update, proof=dataclasses.replace(update.proof, elements=elements)
        )
    elif what == "commitment":
        i = data.draw(st.integers(0, len(update.removed) - 1))
        leaf = dataclasses.replace(update.removed[i], commitment=bytes(32))
        bad = dataclasses.replace(
            update, removed=(*update.removed[:i], leaf, *update.removed[i + 1 :])
        )
    elif what == "added-present":
        present = update.removed[0]
        bad = dataclasses.replace(
            update,
            added=tuple(
                sorted(
                    {
                        *update.added,
                        PrefixLeaf(vrf_output=present.vrf_output, commitment=bytes(32)),
                    },
                    key=lambda x: x.vrf_output,
                )
            ),
            removed=update.removed[1:],
        )
    else:
        results = list(update.proof.results)
        results[0] = dataclasses.replace(results[0], depth=(results[0].depth + 1) % 256)
        bad = dataclasses.replace(
            update, proof=dataclasses.replace(update.proof, results=tuple(results))
        )
    with pytest.raises(VerificationError):
        audit(state, bad, rmw=DAY)


def test_the_signed_auditor_head_verifies() -> None:
    log, state = _prepared()
    update = log.step(adds=1, removes=0, replaces=0, dt=1)
    result = audit(state, update, rmw=DAY)
    suite = get_suite(CipherSuite.KT_128_SHA256_Ed25519)
    auditor_sk = bytes(range(32))
    config = Configuration(
        ciphersuite=CipherSuite.KT_128_SHA256_Ed25519,
        mode=DeploymentMode.thirdPartyAuditing,
        signature_public_key=suite.signature_public_key(bytes(32)),
        vrf_public_key=suite.vrf_public_key(bytes(32)),
        max_auditor_lag=60_000,
        auditor_start_pos=0,
        auditor_public_key=suite.signature_public_key(auditor_sk),
        max_ahead=60_000,
        max_behind=3_600_000,
        reasonable_monitoring_window=DAY,
        maximum_lifetime=30 * DAY,
    )
    head = sign_audited_head(config, auditor_sk, result)
    verify_auditor_tree_head(
        config,
        head,
        tree_head_size=result.tree_size,
        rightmost_timestamp=result.timestamp,
        root=result.log_root,
        previous_auditor_tree_size=None,
    )
    with pytest.raises(VerificationError):
        verify_auditor_tree_head(
            config,
            head,
            tree_head_size=result.tree_size,
            rightmost_timestamp=result.timestamp,
            root=FullSubtrees.empty().append(bytes(32)).root(),
            previous_auditor_tree_size=None,
        )


@pytest.mark.req("AUDIT-006")
def test_the_auditors_own_tree_must_agree_with_the_proof() -> None:
    log, state = _prepared()
    update = log.step(adds=1, removes=0, replaces=0, dt=1)
    wrong = state.prefix_tree.insert(bytes(32), bytes(32)) if state.prefix_tree else None
    _rejects(dataclasses.replace(state, prefix_tree=wrong), update, "AUDIT-006")
