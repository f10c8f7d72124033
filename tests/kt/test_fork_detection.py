"""Fork detection: root-list comparison (KEYTRANS §10.2) and transferable evidence."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.errors import UsageError, VerificationError
from ckv.fork_detection import compare_roots, fork_view, verify_fork_evidence
from ckv.log_tree import LogTree
from ckv.tree_head import sign_tree_head
from ckv.wire.messages import (
    CipherSuite,
    Configuration,
    DeploymentMode,
    DistinguishedHead,
    ForkEvidence,
)

SUITE = get_suite(CipherSuite.KT_128_SHA256_Ed25519)
LOG_KEY = bytes(range(32))
CONFIG = Configuration(
    ciphersuite=CipherSuite.KT_128_SHA256_Ed25519,
    mode=DeploymentMode.contactMonitoring,
    signature_public_key=SUITE.signature_public_key(LOG_KEY),
    vrf_public_key=bytes(32),
    max_ahead=60_000,
    max_behind=3_600_000,
    reasonable_monitoring_window=86_400_000,
    maximum_lifetime=30 * 86_400_000,
)


def roots(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(32) for _ in range(n)]


@pytest.mark.req("FORK-001")
def test_same_or_shifted_windows_are_consistent() -> None:
    r = roots(6, 1)
    assert compare_roots(r[:4], r[:4]).shift == 0
    assert compare_roots(r[:4], r[1:5]).shift == 1
    assert compare_roots(r[2:6], r[:4]).shift == 2
    assert compare_roots(
        DistinguishedHead(heads=tuple(r[:3])), DistinguishedHead(heads=tuple(r[2:5]))
    ).consistent
    assert compare_roots([], []).inconclusive


@pytest.mark.req("FORK-001")
@settings(max_examples=100)
@given(n=st.integers(1, 10), seed=st.integers(0, 999), i=st.integers(0, 9), shift=st.integers(0, 9))
def test_any_changed_root_in_the_overlap_is_a_fork(n: int, seed: int, i: int, shift: int) -> None:
    shift %= n
    base = roots(n + shift, seed)
    ours, theirs = base[:n], base[shift : shift + n]
    assert compare_roots(ours, theirs).consistent
    j = i % (n - shift) + shift  # a position inside the overlap, in `ours`
    forged = list(ours)
    forged[j] = bytes(32)
    # With distinct random roots no other alignment can match either.
    assert not compare_roots(forged, theirs).consistent


def test_lists_of_different_lengths_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="same length"):
        compare_roots(roots(2, 0), roots(3, 0))


def _forked_logs(common: int, a_extra: int, b_extra: int) -> tuple[LogTree, LogTree]:
    rng = random.Random(5)
    shared = [rng.randbytes(32) for _ in range(common)]
    a, b = LogTree(), LogTree()
    for leaf in shared[:-1]:
        a.append_leaf(leaf)
        b.append_leaf(leaf)
    # The fork: the last shared position holds a different leaf in each view.
    a.append_leaf(shared[-1])
    b.append_leaf(rng.randbytes(32))
    for _ in range(a_extra):
        a.append_leaf(rng.randbytes(32))
    for _ in range(b_extra):
        b.append_leaf(rng.randbytes(32))
    return a, b


def _evidence(common: int = 13, a_extra: int = 5, b_extra: int = 9) -> ForkEvidence:
    a, b = _forked_logs(common, a_extra, b_extra)
    head_a = sign_tree_head(CONFIG, LOG_KEY, a.size, a.root())
    head_b = sign_tree_head(CONFIG, LOG_KEY, b.size, b.root())
    return ForkEvidence(
        config=CONFIG,
        common_size=common,
        first=fork_view(a, head_a, common),
        second=fork_view(b, head_b, common),
    )


@pytest.mark.req("FORK-003")
@pytest.mark.parametrize(
    ("common", "a_extra", "b_extra"), [(1, 0, 0), (13, 5, 9), (16, 0, 3), (64, 1, 100)]
)
def test_evidence_of_a_fork_verifies_from_its_bytes(
    common: int, a_extra: int, b_extra: int
) -> None:
    evidence = _evidence(common, a_extra, b_extra)
    data = wire.encode(evidence)
    first, second = verify_fork_evidence(wire.decode(ForkEvidence, data))
    assert first != second


@pytest.mark.req("FORK-003")
def test_an_honest_log_cannot_be_framed() -> None:
    a, _ = _forked_logs(13, 5, 0)
    longer = LogTree()
    for i in range(a.size):
        longer.append_leaf(a.leaf(i))
    for _ in range(4):
        longer.append_leaf(bytes(32))
    head_a = sign_tree_head(CONFIG, LOG_KEY, a.size, a.root())
    head_l = sign_tree_head(CONFIG, LOG_KEY, longer.size, longer.root())
    evidence = ForkEvidence(
        config=CONFIG,
        common_size=13,
        first=fork_view(a, head_a, 13),
        second=fork_view(longer, head_l, 13),
    )
    with pytest.raises(VerificationError, match="no fork"):
        verify_fork_evidence(evidence)


@pytest.mark.req("FORK-003")
@pytest.mark.parametrize(
    "tamper", ["signature", "subtree", "proof", "size", "config", "common-too-big", "subtree-count"]
)
def test_tampered_evidence_is_refused(tamper: str) -> None:
    ev = _evidence()
    view = ev.second
    if tamper == "signature":
        sig = bytearray(view.tree_head.signature)
        sig[0] ^= 1
        view = dataclasses.replace(
            view, tree_head=dataclasses.replace(view.tree_head, signature=bytes(sig))
        )
    elif tamper == "subtree":
        view = dataclasses.replace(view, full_subtrees=(bytes(32), *view.full_subtrees[1:]))
    elif tamper == "proof":
        elements = view.consistency.elements
        view = dataclasses.replace(
            view,
            consistency=dataclasses.replace(view.consistency, elements=(*elements[:-1], bytes(32))),
        )
    elif tamper == "size":
        view = dataclasses.replace(
            view,
            tree_head=dataclasses.replace(view.tree_head, tree_size=view.tree_head.tree_size + 1),
        )
    elif tamper == "subtree-count":
        view = dataclasses.replace(view, full_subtrees=view.full_subtrees[1:])
    if tamper == "config":
        ev = dataclasses.replace(ev, config=dataclasses.replace(ev.config, max_ahead=1))
    elif tamper == "common-too-big":
        ev = dataclasses.replace(ev, common_size=ev.first.tree_head.tree_size + 1)
    else:
        ev = dataclasses.replace(ev, second=view)
    with pytest.raises(VerificationError) as info:
        verify_fork_evidence(ev)
    assert info.value.requirement == "FORK-003"
