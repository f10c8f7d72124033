"""The Search operation, both sides (KEYTRANS §13.1), and the search.json interop vectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ckv.interop.search_vectors  # noqa: F401 - registers the "search" handler
from ckv import combined_tree as ct
from ckv import wire
from ckv.client_state import ClientState
from ckv.errors import CKVError, UsageError, VerificationError
from ckv.interop import Status, run_file
from ckv.interop.search_vectors import MemoryLog, demo_log
from ckv.search import answer_search, verify_search
from ckv.wire import messages

LABEL = b"alice@example.com"
OTHER = b"bob@example.com"
Mode = messages.DeploymentMode


def _request(last: int | None, version: int | None = None) -> messages.SearchRequest:
    return messages.SearchRequest(last=last, label=LABEL, version=version)


def _log(mode: Mode = Mode.contactMonitoring) -> tuple[MemoryLog, messages.Configuration, bytes]:
    timestamps = [1000 + 10 * i for i in range(9)]
    updates = [[(LABEL, b"v%d" % i)] if i % 2 == 0 else [(OTHER, b"o%d" % i)] for i in range(9)]
    return demo_log(timestamps, updates, mode=mode, rmw=35)


@pytest.mark.req("OPS-010", "OPS-012", "OPS-013", "KT-006")
@pytest.mark.parametrize("mode", [Mode.contactMonitoring, Mode.thirdPartyManagement])
@pytest.mark.parametrize("version", [None, 0, 2, 4])
def test_search_round_trip(mode: Mode, version: int | None) -> None:
    log, config, key = _log(mode)
    request = _request(None, version)
    response = answer_search(log.view(), config, key, request)
    result, state = verify_search(ClientState.initial(), config, request, response, 1080)
    assert result.version == (4 if version is None else version)
    assert result.value == b"v%d" % (2 * result.version)
    assert state.tree_size == 9
    assert state.tree_head == response.full_tree_head.tree_head
    # KT-006: the monitoring duty does not depend on the deployment mode.
    assert result.must_monitor == (
        result.rightmost_distinguished is None or result.terminal > result.rightmost_distinguished
    )


@pytest.mark.req("OPS-014")
def test_log_refuses_a_negative_result() -> None:
    log, config, key = _log()
    with pytest.raises(ct.SearchRefusedError) as info:
        answer_search(log.view(), config, key, _request(None, 5))
    assert info.value.reason is ct.Refusal.NOT_FOUND
    with pytest.raises(ct.SearchRefusedError) as info:
        answer_search(
            log.view(),
            config,
            key,
            messages.SearchRequest(last=None, label=b"nobody", version=None),
        )
    assert info.value.reason is ct.Refusal.NOT_FOUND


@pytest.mark.req("OPS-009")
def test_expired_version_is_refused() -> None:
    timestamps = [0, 100, 200, 300, 400, 500, 600]
    updates = [[(LABEL, b"v%d" % i)] for i in range(7)]
    log, config, key = demo_log(timestamps, updates, rmw=50, max_lifetime=250)
    with pytest.raises(ct.SearchRefusedError) as info:
        answer_search(log.view(), config, key, _request(None, 0))
    assert info.value.reason is ct.Refusal.EXPIRED
    # A recent version is still served and verifies.
    request = _request(None, 5)
    response = answer_search(log.view(), config, key, request)
    result, _ = verify_search(ClientState.initial(), config, request, response, 600)
    assert result.version == 5


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


def _head(r: messages.SearchResponse) -> messages.TreeHead:
    head = r.full_tree_head.tree_head
    if head is None:
        raise AssertionError("an updated head was expected")
    return head


Tamper = Callable[[messages.SearchResponse], messages.SearchResponse]


def _ladder(
    r: messages.SearchResponse, i: int, step: messages.BinaryLadderStep
) -> tuple[messages.BinaryLadderStep, ...]:
    return (*r.binary_ladder[:i], step, *r.binary_ladder[i + 1 :])


_RESPONSE_TAMPER: dict[str, tuple[Tamper, set[str]]] = {
    "version field on a greatest-version search removed": (
        lambda r: replace(r, version=None),
        {"OPS-001"},
    ),
    # 3 has a ladder as long as 4's, in which version 3 is the target: OPS-004 fires.
    "claimed greatest version lowered": (
        lambda r: replace(r, version=3),
        {"OPS-003", "OPS-004"},
    ),
    "extra ladder step": (
        lambda r: replace(r, binary_ladder=(*r.binary_ladder, r.binary_ladder[0])),
        {"OPS-003"},
    ),
    "missing ladder step": (
        lambda r: replace(r, binary_ladder=r.binary_ladder[:-1]),
        {"OPS-003"},
    ),
    "wrong VRF proof": (
        lambda r: replace(
            r,
            binary_ladder=_ladder(
                r, 0, replace(r.binary_ladder[0], proof=r.binary_ladder[1].proof)
            ),
        ),
        {"SUITE-008", "SUITE-009", "SUITE-010", "SUITE-011"},
    ),
    "wrong commitment": (
        lambda r: replace(
            r,
            binary_ladder=_ladder(
                r,
                0,
                replace(
                    r.binary_ladder[0], commitment=_flip(r.binary_ladder[0].commitment or b"\0")
                ),
            ),
        ),
        {"SUITE-018", "COMBINED-006", "COMBINED-007"},
    ),
    "commitment dropped": (
        lambda r: replace(
            r, binary_ladder=_ladder(r, 0, replace(r.binary_ladder[0], commitment=None))
        ),
        {"COMBINED-008"},
    ),
    "commitment on the target": (
        lambda r: replace(
            r, binary_ladder=_ladder(r, 5, replace(r.binary_ladder[5], commitment=bytes(32)))
        ),
        {"OPS-004"},
    ),
    "different value": (
        lambda r: replace(r, value=replace(r.value, value=b"mallory")),
        {"SUITE-018", "COMBINED-006", "COMBINED-007"},
    ),
    "different opening": (
        lambda r: replace(r, opening=_flip(r.opening)),
        {"SUITE-018", "COMBINED-006", "COMBINED-007"},
    ),
    "wrong signature": (
        lambda r: replace(
            r,
            full_tree_head=replace(
                r.full_tree_head,
                tree_head=replace(_head(r), signature=_flip(_head(r).signature)),
            ),
        ),
        {"SUITE-018"},
    ),
    "tree head for another size": (
        lambda r: replace(
            r,
            full_tree_head=replace(r.full_tree_head, tree_head=replace(_head(r), tree_size=8)),
        ),
        {
            "SUITE-018",
            "LOG-007",
            "LOG-008",
            "LOG-010",
            "COMBINED-001",
            "COMBINED-002",
            "COMBINED-003",
            "COMBINED-004",
            "COMBINED-005",
            "SEARCH-012",
            "SEARCH-014",
            "PREFIX-*",
            "OPS-*",
        },
    ),
}


def _allowed(requirement: str | None, allowed: set[str]) -> bool:
    if requirement is None:
        return False
    return requirement in allowed or any(
        a.endswith("*") and requirement.startswith(a[:-1]) for a in allowed
    )


@pytest.mark.req("OPS-001", "OPS-003", "OPS-004", "OPS-005", "OPS-012")
@pytest.mark.parametrize("name", sorted(_RESPONSE_TAMPER))
def test_tampered_response_is_rejected(name: str) -> None:
    log, config, key = _log()
    request = _request(None)
    response = answer_search(log.view(), config, key, request)
    # Greatest version 4: ladder 0, 1, 3, 7, 5, 4 (step 5 is the target).
    assert response.version == 4
    tamper, allowed = _RESPONSE_TAMPER[name]
    state = ClientState.initial()
    with pytest.raises(VerificationError) as info:
        verify_search(state, config, request, tamper(response), 1080)
    assert _allowed(info.value.requirement, allowed), f"{info.value.requirement}: {info.value}"
    assert state == ClientState.initial()


@pytest.mark.req("OPS-002")
def test_update_signature_is_required_under_third_party_management() -> None:
    log, config, key = _log(Mode.thirdPartyManagement)
    request = _request(None)
    response = answer_search(log.view(), config, key, request)
    suffix = response.value.suffix
    assert suffix.signature is not None
    bad = replace(
        response,
        value=replace(response.value, suffix=replace(suffix, signature=_flip(suffix.signature))),
    )
    with pytest.raises(VerificationError) as info:
        verify_search(ClientState.initial(), config, request, bad, 1080)
    assert info.value.requirement == "SUITE-016"


@pytest.mark.req("OPS-012", "SUITE-020")
def test_stale_and_out_of_clock_heads_are_rejected() -> None:
    log, config, key = _log()
    old = answer_search(log.view(5), config, key, _request(None))
    _, state5 = verify_search(ClientState.initial(), config, _request(None), old, 1040)
    new = answer_search(log.view(9), config, key, _request(5))
    _, state9 = verify_search(state5, config, _request(5), new, 1080)
    # Replaying the size-5 head to a user at size 9 is refused.
    stale = replace(old, full_tree_head=old.full_tree_head)
    with pytest.raises(VerificationError) as info:
        verify_search(state9, config, _request(9), stale, 1080)
    assert info.value.requirement in {"SEARCH-005", "OPS-012", "SUITE-021"}
    # A head whose rightmost timestamp is far behind the clock is refused.
    with pytest.raises(VerificationError) as info:
        verify_search(state5, config, _request(5), new, 1080 + 10_001)
    assert info.value.requirement == "SUITE-020"


@pytest.mark.req("OPS-010")
@settings(max_examples=10, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.sampled_from(sorted(_RESPONSE_TAMPER))),
        min_size=1,
        max_size=4,
    )
)
def test_state_changes_only_on_verified_responses(steps: list[tuple[int, str]]) -> None:
    timestamps = [1000 + 10 * i for i in range(16)]
    updates = [[(LABEL, b"v%d" % i)] for i in range(16)]
    log, config, key = demo_log(timestamps, updates, rmw=35)
    state = ClientState.initial()
    size = 0
    for grow, name in steps:
        size = min(16, size + grow)
        request = _request(state.tree_size)
        response = answer_search(log.view(size), config, key, request)
        tamper, _ = _RESPONSE_TAMPER[name]
        now = timestamps[size - 1]
        before = state
        try:
            tampered = tamper(response)
        except (AttributeError, TypeError, IndexError):
            tampered = replace(response, opening=_flip(response.opening))
        if tampered != response:
            with pytest.raises(CKVError):
                verify_search(state, config, request, tampered, now)
            assert state == before
        _, state = verify_search(state, config, request, response, now)
        assert state.tree_size == size


@pytest.mark.req("OPS-007", "COMBINED-003", "COMBINED-005")
def test_search_vectors(interop_dir: Path) -> None:
    report = run_file(interop_dir / "search.json")
    failed = {k: o.detail for k, o in report.outcomes.items() if o.status is Status.FAIL}
    assert not failed
    assert report.count(Status.PASS) == 9
    diverging = {
        k: o.divergence for k, o in report.outcomes.items() if o.status is Status.DIVERGENCE
    }
    assert diverging == {
        "greatest-version-with-advertised-size": "IOP-S01",
        "fixed-version-with-advertised-size": "IOP-S01",
        "label-does-not-exist": "IOP-O01",
        "fixed-version-above-the-greatest": "IOP-O01",
    }


@pytest.mark.req("OPS-011")
def test_request_must_advertise_the_state_size() -> None:
    log, config, key = _log()
    response = answer_search(log.view(), config, key, _request(None))
    with pytest.raises(UsageError):
        verify_search(ClientState.initial(), config, _request(3), response, 1080)


@pytest.mark.req("OPS-010")
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_corrupted_bytes_raise_only_ckv_errors(data: st.DataObject) -> None:
    log, config, key = _log()
    state = ClientState.initial()
    first = answer_search(log.view(5), config, key, _request(None))
    _, state = verify_search(state, config, _request(None), first, 1040)
    request = _request(5, data.draw(st.sampled_from([None, 0, 2, 4])))
    response = answer_search(log.view(), config, key, request)
    context = {"SearchRequest.version": "absent" if request.version is None else "present"}
    encoded = bytearray(wire.encode(response, mode=config.mode, context=context))
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] ^= data.draw(st.integers(1, 255))
    try:
        decoded = wire.decode(
            messages.SearchResponse, bytes(encoded), mode=config.mode, context=context
        )
    except CKVError:
        return
    try:
        result, new_state = verify_search(state, config, request, decoded, 1080)
    except CKVError:
        return
    # A flip that survives verification can only touch what CKV ignores (a commitment no
    # proof needs, IOP-O02): the result and the new state are the genuine ones.
    genuine, genuine_state = verify_search(state, config, request, response, 1080)
    assert (result, new_state) == (genuine, genuine_state)
