"""The combined tree engine (KEYTRANS §4.2, §6.3, §7.2, §12.3, Appendix "CombinedTreeProof")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import combined_tree as ct
from ckv import implicit_search_tree as ibst
from ckv import log_tree
from ckv.client_state import ClientState
from ckv.errors import VerificationError
from ckv.interop.search_vectors import MemoryLog, demo_log
from ckv.search import answer_search, verify_search
from ckv.wire import messages

LABEL = b"alice@example.com"
OTHER = b"bob@example.com"


def _request(last: int | None, version: int | None = None) -> messages.SearchRequest:
    return messages.SearchRequest(last=last, label=LABEL, version=version)


def _worked_example() -> tuple[MemoryLog, messages.Configuration, bytes]:
    # 13 entries; versions 0, 1, 2 of the label created at entries 0, 1, 2; RMW 500 so
    # that T12 - T7 >= RMW > T12 - T11 and entry 11 is the rightmost distinguished.
    timestamps = [100 * i for i in range(13)]
    updates = [[(LABEL, b"v%d" % i)] if i < 3 else [(OTHER, b"o%d" % i)] for i in range(13)]
    return demo_log(timestamps, updates, rmw=500)


@pytest.mark.req("COMBINED-001", "COMBINED-005", "COMBINED-010", "COMBINED-012")
def test_worked_example_matches_the_appendix() -> None:
    log, config, key = _worked_example()
    first = answer_search(log.view(4), config, key, _request(None))
    _, state = verify_search(ClientState.initial(), config, _request(None), first, 300)
    assert state.tree_size == 4
    assert [e.position for e in state.frontier] == [3]

    response = answer_search(log.view(13), config, key, _request(4))
    proof = response.search
    view = log.view(13)
    # The timestamps are those of entries 7, 11 and 12.
    assert proof.timestamps == (700, 1100, 1200)
    # Two ladders: 0, 1, 3, 2 from entry 11; only 3 from entry 12.
    inc = messages.PrefixSearchResultType.inclusion
    kinds = [[r.result_type is inc for r in p.results] for p in proof.prefix_proofs]
    assert kinds == [[True, True, False, True], [False]]
    # prefix_roots holds entry 7's root only.
    assert proof.prefix_roots == (view.prefix_tree(7).root(),)
    # inclusion: head of 4-5, leaf 6, head of 8-9, leaf 10.
    tree = log_tree.LogTree.from_leaves(
        [
            log_tree.leaf_value(
                messages.LogEntry(
                    timestamp=view.timestamp(i), prefix_tree=view.prefix_tree(i).root()
                )
            )
            for i in range(13)
        ]
    )
    want = (
        tree.node(log_tree.node_index(4, 2)),
        tree.leaf(6),
        tree.node(log_tree.node_index(8, 2)),
        tree.leaf(10),
    )
    assert proof.inclusion.elements == want
    # The response ladder is the target's: 0, 1, 3, 2.
    assert len(response.binary_ladder) == 4
    result, new_state = verify_search(state, config, _request(4), response, 1200)
    assert result.version == 2
    assert result.rightmost_distinguished == 11
    # Entry 11 is the first inspected entry holding version 2.
    assert result.terminal == 11
    assert not result.must_monitor
    assert [e.position for e in new_state.frontier] == [7, 11, 12]
    assert new_state.full_subtrees.size == 13
    assert new_state.full_subtrees.widths() == [8, 4, 1]


def _scenario(
    draw: Callable[[st.SearchStrategy[Any]], Any],
) -> tuple[MemoryLog, messages.Configuration, bytes, int | None, int, int | None, int]:
    n = draw(st.integers(1, 24))
    gaps = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    timestamps = [1000 + sum(gaps[: i + 1]) for i in range(n)]
    # How many versions of the label each entry creates (two at once leave a version that
    # is never the greatest anywhere, which sends a fixed-version search to step 6.3).
    creates = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    creates[0] = max(1, creates[0])
    updates = [
        [(LABEL, b"v%d.%d" % (i, j)) for j in range(c)] or [(OTHER, b"o%d" % i)]
        for i, c in enumerate(creates)
    ]
    rmw = draw(st.sampled_from([0, 10, 50, 200, 10**9]))
    lifetime = draw(st.sampled_from([None, rmw + 1, rmw + 100, 10**10]))
    log, config, key = demo_log(timestamps, updates, rmw=rmw, max_lifetime=lifetime)
    advertised = draw(st.one_of(st.none(), st.integers(1, n)))
    versions = sum(creates)
    target = draw(st.one_of(st.none(), st.integers(0, versions - 1)))
    return log, config, key, advertised, n, target, versions


@pytest.mark.req("COMBINED-001", "COMBINED-003", "COMBINED-004", "COMBINED-005", "COMBINED-010")
@settings(max_examples=25, deadline=None)
@given(st.data())
def test_recorded_proofs_are_consumed_exactly(data: st.DataObject) -> None:
    log, config, key, advertised, n, target, versions = _scenario(data.draw)
    now = log.view(n).timestamp(n - 1)
    state = ClientState.initial()
    if advertised is not None:
        first = answer_search(log.view(advertised), config, key, _request(None))
        _, state = verify_search(
            state, config, _request(None), first, log.view(advertised).timestamp(advertised - 1)
        )
    request = _request(state.tree_size, target)
    try:
        response = answer_search(log.view(n), config, key, request)
    except ct.SearchRefusedError as exc:
        # Only expiry may stop an existing version from being served.
        assert exc.reason is ct.Refusal.EXPIRED
        return
    result, new_state = verify_search(state, config, request, response, now)
    assert result.version == (target if target is not None else versions - 1)
    assert new_state.tree_size == n
    assert [e.position for e in new_state.frontier] == list(ibst.frontier(n))
    assert new_state.full_subtrees.root() == log.view(n).root()


def _consume(
    proof: messages.CombinedTreeProof,
    response: messages.SearchResponse,
    state: ClientState,
    config: messages.Configuration,
    request: messages.SearchRequest,
) -> None:
    tampered = replace(response, search=proof)
    verify_search(state, config, request, tampered, 1200)


@pytest.fixture(scope="module")
def returning() -> tuple[
    messages.Configuration, ClientState, messages.SearchRequest, messages.SearchResponse
]:
    log, config, key = _worked_example()
    first = answer_search(log.view(4), config, key, _request(None))
    _, state = verify_search(ClientState.initial(), config, _request(None), first, 300)
    request = _request(4)
    return config, state, request, answer_search(log.view(13), config, key, request)


_Tamper = Callable[[messages.CombinedTreeProof], messages.CombinedTreeProof]
_TAMPER: dict[str, tuple[_Tamper, set[str]]] = {
    "extra timestamp": (lambda p: replace(p, timestamps=(*p.timestamps, 5000)), {"COMBINED-003"}),
    "missing timestamp": (lambda p: replace(p, timestamps=p.timestamps[:-1]), {"COMBINED-001"}),
    "reordered timestamps": (
        lambda p: replace(p, timestamps=tuple(reversed(p.timestamps))),
        {"SEARCH-010"},
    ),
    "extra prefix proof": (
        lambda p: replace(p, prefix_proofs=(*p.prefix_proofs, p.prefix_proofs[0])),
        {"COMBINED-004"},
    ),
    "missing prefix proof": (
        lambda p: replace(p, prefix_proofs=p.prefix_proofs[:-1]),
        {"COMBINED-002"},
    ),
    "reordered prefix proofs": (
        lambda p: replace(p, prefix_proofs=tuple(reversed(p.prefix_proofs))),
        {"SEARCH-012", "SEARCH-014", "SEARCH-015", "PREFIX-*"},
    ),
    "proof from another entry": (
        lambda p: replace(p, prefix_proofs=(p.prefix_proofs[0], p.prefix_proofs[0])),
        {"SEARCH-012", "SEARCH-014", "SEARCH-015", "COMBINED-006", "PREFIX-*"},
    ),
    "extra prefix root": (
        lambda p: replace(p, prefix_roots=(*p.prefix_roots, p.prefix_roots[0])),
        {"COMBINED-005"},
    ),
    "missing prefix root": (lambda p: replace(p, prefix_roots=()), {"COMBINED-005"}),
    "wrong prefix root": (
        lambda p: replace(p, prefix_roots=(bytes(32),)),
        {"SUITE-018"},
    ),
    "extra inclusion element": (
        lambda p: replace(
            p, inclusion=messages.InclusionProof(elements=(*p.inclusion.elements, bytes(32)))
        ),
        {"LOG-007", "LOG-008", "LOG-010"},
    ),
    "missing inclusion element": (
        lambda p: replace(p, inclusion=messages.InclusionProof(elements=p.inclusion.elements[1:])),
        {"LOG-007", "LOG-008", "LOG-010"},
    ),
    "flipped inclusion element": (
        lambda p: replace(
            p,
            inclusion=messages.InclusionProof(elements=(bytes(32), *p.inclusion.elements[1:])),
        ),
        {"SUITE-018"},
    ),
}


def _names(requirement: str | None, allowed: set[str]) -> bool:
    """Whether ``requirement`` is allowed (``"PREFIX-*"`` allows any PREFIX- ID)."""
    if requirement is None:
        return False
    return requirement in allowed or any(
        a.endswith("*") and requirement.startswith(a[:-1]) for a in allowed
    )


@pytest.mark.req("COMBINED-001", "COMBINED-002", "COMBINED-003", "COMBINED-004", "COMBINED-005")
@pytest.mark.parametrize("name", sorted(_TAMPER))
def test_tampered_proof_is_rejected(
    name: str,
    returning: tuple[
        messages.Configuration, ClientState, messages.SearchRequest, messages.SearchResponse
    ],
) -> None:
    config, state, request, response = returning
    tamper, requirements = _TAMPER[name]
    before = state
    with pytest.raises(VerificationError) as info:
        _consume(tamper(response.search), response, state, config, request)
    assert _names(info.value.requirement, requirements), str(info.value)
    assert state == before


@pytest.mark.req("COMBINED-007")
def test_retained_entry_proof_must_give_the_retained_root(
    returning: tuple[
        messages.Configuration, ClientState, messages.SearchRequest, messages.SearchResponse
    ],
) -> None:
    config, state, _, _ = returning
    log, _, key = _worked_example()
    # A fixed-version search from size 4 to 5 inspects retained entry 3 with a ladder.
    request = _request(4, 1)
    response = answer_search(log.view(5), config, key, request)
    verify_search(state, config, request, response, 400)
    wrong = replace(
        state,
        frontier=(replace(state.frontier[0], prefix_root=bytes(32)),),
    )
    with pytest.raises(VerificationError) as info:
        verify_search(wrong, config, request, response, 400)
    assert info.value.requirement == "COMBINED-007"


@pytest.mark.req("COMBINED-012")
def test_retained_timestamps_are_never_sent() -> None:
    log, config, key = _worked_example()
    first = answer_search(log.view(4), config, key, _request(None))
    assert first.search.timestamps == (300,)
    second = answer_search(log.view(13), config, key, _request(4))
    assert 300 not in second.search.timestamps


@pytest.mark.req("COMBINED-001")
def test_kt05_reading_sends_nothing_for_the_view_update() -> None:
    log, config, key = demo_log([10, 20, 30, 40, 50], [[(LABEL, b"a")]] * 5)
    draft = answer_search(log.view(5), config, key, _request(4))
    kt05 = answer_search(log.view(5), config, key, _request(4), restart=False)
    # Entry 3 is the root of a 5-entry tree: its direct path is empty. The draft
    # restarts at entry 3 and sends T4; katie's view update sends nothing and the
    # search asks for T4 itself.
    assert draft.search.timestamps == (50,)
    assert kt05.search.timestamps == (50,)


@pytest.mark.req("COMBINED-002", "COMBINED-004", "SEARCH-017")
def test_monitoring_ladder_round_trip_and_rollback() -> None:
    log, _, _ = _worked_example()
    view = log.view(13)
    recorder = ct.Recorder(view, LABEL)
    ct.update_view(recorder, None)
    assert recorder.monitoring_ladder(12, 2) == (0, 1, 2)
    proof = recorder.finish()
    outputs = {v: view.vrf_output(LABEL, v) for v in (0, 1, 2)}
    commitments = {v: view.prefix_tree(12).get(outputs[v]) or b"" for v in (0, 1, 2)}
    consumer = ct.Consumer(proof, 13, vrf_outputs=outputs, commitments=commitments)
    ct.update_view(consumer, None)
    assert consumer.monitoring_ladder(12, 2) == (0, 1, 2)
    result = consumer.finish(None)
    assert result.root == view.root()
    # A monitoring ladder from an entry that never held version 2 is refused.
    early = ct.Recorder(view, LABEL)
    with pytest.raises(VerificationError) as info:
        early.monitoring_ladder(1, 2)
    assert info.value.requirement == "SEARCH-017"


@pytest.mark.req("COMBINED-009", "OPS-008")
def test_fixed_version_search_ends_with_a_lookup() -> None:
    # Entry 1 creates versions 1 and 2 at once: version 1 is never the greatest, so §7.2
    # reaches step 6.3 and looks it up in the leftmost entry above it.
    updates = [[(LABEL, b"a")], [(LABEL, b"b"), (LABEL, b"c")], [(OTHER, b"x")], [(OTHER, b"y")]]
    log, config, key = demo_log([10, 20, 30, 40], updates)
    view = log.view()
    recorder = ct.Recorder(view, LABEL)
    ct.update_view(recorder, None)
    outcome = ct.fixed_version_search(recorder, 1, config.reasonable_monitoring_window, None)
    assert outcome.by_lookup
    assert outcome.terminal == 1
    request = _request(None, 1)
    response = answer_search(view, config, key, request)
    result, _ = verify_search(ClientState.initial(), config, request, response, 40)
    assert result.terminal == 1
    assert len(response.search.prefix_proofs[-1].results) == 1
    # The lookup's proof with a second result is refused.
    last = response.search.prefix_proofs[-1]
    doubled = replace(last, results=last.results * 2)
    proof = replace(response.search, prefix_proofs=(*response.search.prefix_proofs[:-1], doubled))
    with pytest.raises(VerificationError) as info:
        verify_search(ClientState.initial(), config, request, replace(response, search=proof), 40)
    assert info.value.requirement == "COMBINED-009"


@pytest.mark.req("OPS-012")
def test_same_tree_head() -> None:
    log, config, key = _worked_example()
    first = answer_search(log.view(13), config, key, _request(None))
    _, state = verify_search(ClientState.initial(), config, _request(None), first, 1200)
    again = answer_search(log.view(13), config, key, _request(13, 0))
    assert again.full_tree_head.head_type is messages.FullTreeHeadType.same
    result, same_state = verify_search(state, config, _request(13, 0), again, 1200)
    assert result.version == 0
    assert same_state.full_subtrees == state.full_subtrees
    assert same_state.tree_head == state.tree_head


@pytest.mark.req("COMBINED-006")
def test_two_proofs_from_one_entry_must_agree() -> None:
    updates = [[(LABEL, b"a")], [(LABEL, b"b"), (LABEL, b"c")], [(OTHER, b"x")], [(OTHER, b"y")]]
    log, config, key = demo_log([10, 20, 30, 40], updates)
    view = log.view()
    request = _request(None, 1)
    response = answer_search(view, config, key, request)
    # The step 6.3 lookup is taken from entry 1, which also gave a ladder; substitute a
    # lookup of the same key in entry 3's tree.
    other = view.prefix_tree(3).prove([view.vrf_output(LABEL, 1)])
    proofs = (*response.search.prefix_proofs[:-1], other)
    tampered = replace(response, search=replace(response.search, prefix_proofs=proofs))
    with pytest.raises(VerificationError) as info:
        verify_search(ClientState.initial(), config, request, tampered, 40)
    assert info.value.requirement == "COMBINED-006"


@pytest.mark.req("COMBINED-011")
def test_katie_reading_can_leave_the_frontier_unknown() -> None:
    updates = [[(LABEL, b"v%d" % i)] for i in range(7)]
    log, config, key = demo_log([10 * i for i in range(7)], updates)
    first = answer_search(log.view(4), config, key, _request(None))
    _, state = verify_search(ClientState.initial(), config, _request(None), first, 30)
    request = _request(4, 0)
    response = answer_search(log.view(7), config, key, request, restart=False)
    # Read as katie built it, the proof never gives entry 5 a timestamp.
    with pytest.raises(VerificationError) as info:
        verify_search(state, config, request, response, 60, update_view_reading="kt05")
    assert info.value.requirement == "COMBINED-011"
    # Read as the draft says, the same proof does not even consume.
    with pytest.raises(VerificationError):
        verify_search(state, config, request, response, 60)


@pytest.mark.req("OPS-006")
def test_greatest_version_claim_below_the_truth_is_refused() -> None:
    log, _, _ = _worked_example()
    recorder = ct.Recorder(log.view(13), LABEL)
    ct.update_view(recorder, None)
    with pytest.raises(ct.SearchRefusedError) as info:
        ct.greatest_version_search(recorder, 1, 500)
    assert info.value.requirement == "OPS-006"
    assert info.value.reason is ct.Refusal.INCONSISTENT
