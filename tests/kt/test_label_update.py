"""Updating a label, both sides (KEYTRANS §9.1, §13.5), and the update.json vectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ckv.interop.update_vectors  # noqa: F401 - registers the "update" handler
from ckv import combined_tree as ct
from ckv import distinguished as dist
from ckv import log_tree
from ckv.client_state import ClientState
from ckv.errors import UsageError, VerificationError
from ckv.interop import Status, run_file
from ckv.interop.search_vectors import MemoryLog, demo_log
from ckv.label_update import (
    answer_update,
    check_update_request,
    follow_up_request,
    update_ladder_versions,
    verify_update_response,
)
from ckv.monitoring import (
    OwnerState,
    answer_owner_init,
    answer_owner_monitor,
    verify_owner_init,
    verify_owner_monitor,
)
from ckv.prefix_tree import PrefixTree
from ckv.wire import messages

LABEL = b"alice@example.com"
OTHER = b"bob@example.com"
Mode = messages.DeploymentMode


class _Owner:
    """An owner and the log it talks to, stepping through time."""

    def __init__(self, mode: Mode = Mode.contactMonitoring, rmw: int = 250) -> None:
        stamps = [1000 + 100 * i for i in range(8)]
        updates = [[(LABEL, b"v%d" % i)] if i in {0, 2, 5} else [(OTHER, b"o")] for i in range(8)]
        self.log, self.config, self.key = demo_log(stamps, updates, mode=mode, rmw=rmw)
        self.now = stamps[-1]
        self.start = 7
        request = messages.OwnerInitRequest(last=None, label=LABEL, start=self.start)
        response = answer_owner_init(self.log.view(), self.config, self.key, request)
        self.owner, self.state = verify_owner_init(
            ClientState.initial(), self.config, request, response, self.now
        )

    def tick(self, values: list[bytes], label: bytes = LABEL) -> int:
        """Append one entry creating ``values`` for ``label``; return its position."""
        self.now += 100
        self.log.append(self.now, [(label, v) for v in values] or [(OTHER, b"x")])
        return self.log.size - 1

    def request(self, values: list[bytes]) -> messages.UpdateRequest:
        return messages.UpdateRequest(
            last=self.state.tree_size,
            label=LABEL,
            greatest_version=self.owner.greatest,
            values=tuple(messages.LabelValue(value=v) for v in values),
        )

    def answer(self, request: messages.UpdateRequest, position: int) -> messages.UpdateResponse:
        return answer_update(
            self.log.view(), self.config, self.key, request, position, owner_start=self.start
        )

    def verify(self, request: messages.UpdateRequest, response: messages.UpdateResponse) -> None:
        _, self.owner, self.state = verify_update_response(
            self.state, self.config, self.owner, request, response, now_ms=self.now
        )

    def create(self, values: list[bytes]) -> messages.UpdateResponse:
        request = self.request(values)
        assert check_update_request(self.log.view(), request) is None
        position = self.tick(values)
        response = self.answer(request, position)
        self.verify(request, response)
        return response

    def monitor(self) -> None:
        request = messages.OwnerMonitorRequest(
            last=self.state.tree_size,
            label=LABEL,
            entries=tuple(
                messages.MonitorMapEntry(position=p, version=v)
                for p, v in sorted(self.owner.entries.items())
            ),
            start=self.owner.start,
            greatest_version=self.owner.greatest,
        )
        response = answer_owner_monitor(self.log.view(), self.config, self.key, request)
        self.owner, self.state = verify_owner_monitor(
            self.state, self.config, self.owner, request, response, now_ms=self.now
        )


@pytest.mark.req("OPS-028", "OPS-029", "OPS-031", "OPS-032", "OPS-033", "OPS-035", "OPS-010")
@pytest.mark.parametrize("rmw", [0, 250, 700])
@pytest.mark.parametrize("mode", [Mode.contactMonitoring, Mode.thirdPartyManagement])
def test_an_owner_creates_versions_over_time(mode: Mode, rmw: int) -> None:
    o = _Owner(mode, rmw)
    assert o.owner.greatest == 2
    plan = [[b"a"], [], [b"b", b"c", b"d"], [], [], [b"e"], [b"f", b"g"], [], [b"h"]]
    for values in plan:
        if not values:
            o.tick([], OTHER)
            continue
        before = o.owner.greatest
        o.create(values)
        assert o.owner.greatest == (before or 0) + len(values)
        assert o.state.tree_size == o.log.size
        assert o.state.full_subtrees.root() == o.log.view().root()
        o.monitor()
        view = o.log.view()
        distinguished = set(dist.distinguished_entries(view.size, rmw, view.timestamp))
        assert not distinguished.intersection(o.owner.entries)
    assert o.owner.greatest == 10


@pytest.mark.req("OPS-034", "OPS-028")
def test_an_owner_behind_is_told_of_existing_versions_serially() -> None:
    o = _Owner()
    # Versions 3, 4 (one entry) and 5 are created without the owner's request.
    o.tick([b"x", b"y"])
    o.tick([], OTHER)
    o.tick([b"z"])
    request = o.request([b"ignored"])
    seen: list[bytes] = []
    for _ in range(2):
        position = check_update_request(o.log.view(), request)
        assert position is not None
        response = o.answer(request, position)
        assert response.values  # the log reports rather than creates
        result, o.owner, o.state = verify_update_response(
            o.state, o.config, o.owner, request, response, now_ms=o.now
        )
        assert result.reported
        seen.extend(result.values)
        request = follow_up_request(request, response, result)
    assert seen == [b"x", b"y", b"z"]
    assert o.owner.greatest == 5
    # Up to date with nothing to send, or ahead of the log: refused.
    for bad in (replace(request, values=()), replace(request, greatest_version=6)):
        with pytest.raises(UsageError) as info:
            check_update_request(o.log.view(), bad)
        assert info.value.requirement == "OPS-034"


def test_ladder_versions() -> None:
    assert update_ladder_versions(None, 0) == (1,)
    assert update_ladder_versions(2, 3) == (4, 5, 7)
    assert update_ladder_versions(0, 3) == (2, 3, 4, 5, 7)
    assert update_ladder_versions(5, 6) == ()
    with pytest.raises(UsageError):
        update_ladder_versions(3, 3)


def _fixture(
    mode: Mode = Mode.contactMonitoring,
) -> tuple[_Owner, messages.UpdateRequest, messages.UpdateResponse]:
    o = _Owner(mode)
    o.tick([], OTHER)
    o.tick([], OTHER)
    request = o.request([b"a", b"b", b"c"])
    position = o.tick([b"a", b"b", b"c"])
    response = o.answer(request, position)
    assert len(response.update.prefix_proofs) >= 2
    return o, request, response


_R = messages.UpdateResponse
_P = messages.CombinedTreeProof


def _proof(f: Callable[[_P], _P]) -> Callable[[_R], _R]:
    return lambda r: replace(r, update=f(r.update))


_TAMPER: dict[str, tuple[Callable[[_R], _R], set[str]]] = {
    "position at the previous insert": (lambda r: replace(r, position=5), {"OPS-028"}),
    "position at the start": (lambda r: replace(r, position=7), {"OPS-028"}),
    "position one to the right": (
        lambda r: replace(r, position=r.position + 1),
        {"OPS-028", "OPS-032", "OPS-033", "OPS-035", "SEARCH-012", "SEARCH-014", "COMBINED-008"},
    ),
    "missing info": (lambda r: replace(r, info=r.info[:-1]), {"OPS-029"}),
    "extra info": (lambda r: replace(r, info=(*r.info, r.info[0])), {"OPS-029"}),
    "wrong opening": (
        lambda r: replace(r, info=(replace(r.info[0], opening=b"\x01" * 16), *r.info[1:])),
        {"SUITE-018", "COMBINED-006", "PREFIX-*"},
    ),
    "missing ladder step": (lambda r: replace(r, binary_ladder=r.binary_ladder[:-1]), {"OPS-031"}),
    "commitment above the greatest version": (
        lambda r: replace(
            r,
            binary_ladder=(
                *r.binary_ladder[:-1],
                replace(r.binary_ladder[-1], commitment=bytes(32)),
            ),
        ),
        {"OPS-031"},
    ),
    "missing prefix proof": (
        _proof(lambda p: replace(p, prefix_proofs=p.prefix_proofs[:-1])),
        {"COMBINED-002"},
    ),
    "extra prefix proof": (
        _proof(lambda p: replace(p, prefix_proofs=(*p.prefix_proofs, p.prefix_proofs[-1]))),
        {"COMBINED-004"},
    ),
    "reordered prefix proofs": (
        _proof(lambda p: replace(p, prefix_proofs=p.prefix_proofs[::-1])),
        {"SEARCH-012", "SEARCH-014", "SEARCH-015", "OPS-032", "OPS-033", "OPS-035"},
    ),
    "missing timestamp": (
        _proof(lambda p: replace(p, timestamps=p.timestamps[:-1])),
        {"COMBINED-001"},
    ),
    "extra timestamp": (
        _proof(lambda p: replace(p, timestamps=(*p.timestamps, 10**6))),
        {"COMBINED-003"},
    ),
}


def _allowed(requirement: str | None, allowed: set[str]) -> bool:
    if requirement is None:
        return False
    return requirement in allowed or any(
        a.endswith("*") and requirement.startswith(a[:-1]) for a in allowed
    )


@pytest.mark.req(
    "OPS-028", "OPS-029", "OPS-031", "COMBINED-001", "COMBINED-002", "COMBINED-004", "OPS-010"
)
@pytest.mark.parametrize("name", sorted(_TAMPER))
def test_a_tampered_update_response_is_rejected_and_state_is_kept(name: str) -> None:
    o, request, response = _fixture()
    tamper, allowed = _TAMPER[name]
    bad = tamper(response)
    owner, state = o.owner, o.state
    with pytest.raises(VerificationError) as info:
        verify_update_response(state, o.config, owner, request, bad, now_ms=o.now)
    assert _allowed(info.value.requirement, allowed), str(info.value)
    assert o.owner is owner
    assert o.state is state
    # The untampered response still verifies.
    verify_update_response(state, o.config, owner, request, response, now_ms=o.now)


@pytest.mark.req("OPS-030")
def test_third_party_management_needs_each_signature() -> None:
    o, request, response = _fixture(Mode.thirdPartyManagement)
    assert response.skipped_versions == 0
    unsigned = replace(response.info[1], suffix=messages.UpdateSuffix(signature=None))
    bad = replace(response, info=(response.info[0], unsigned, *response.info[2:]))
    with pytest.raises(VerificationError) as info:
        verify_update_response(o.state, o.config, o.owner, request, bad, now_ms=o.now)
    assert info.value.requirement is not None
    assert info.value.requirement.startswith(("SUITE-", "OPS-030"))
    forged = replace(response.info[1], suffix=messages.UpdateSuffix(signature=bytes(64)))
    bad = replace(response, info=(response.info[0], forged, *response.info[2:]))
    with pytest.raises(VerificationError):
        verify_update_response(o.state, o.config, o.owner, request, bad, now_ms=o.now)


@pytest.mark.req("OPS-032", "OPS-010")
def test_a_hidden_version_in_the_previous_tree_is_caught() -> None:
    o = _Owner(rmw=700)
    # The log creates version 3 without telling the owner ...
    o.tick([b"hidden"])
    request = o.request([b"mine"])
    position = o.tick([b"mine"])
    view = o.log.view()
    # ... then tells the owner that its value became version 3 at `position`. Running
    # §9.1 for that claim, the log's own recorder meets the hidden version (phase 1).
    recorder = ct.Recorder(view, LABEL, request.last)
    ct.update_view(recorder, request.last)
    with pytest.raises(VerificationError) as info:
        ct.label_update(
            recorder,
            position,
            count=1,
            previous=2,
            skip_through=o.owner.last_insert,
            expected=lambda x: o.owner.expected(max(x, o.start)),
            rmw=700,
        )
    assert info.value.requirement == "OPS-032"
    honest = o.answer(replace(request, greatest_version=3), position)
    steps = tuple(
        messages.BinaryLadderStep(proof=view.vrf_proof(LABEL, v), commitment=None)
        for v in update_ladder_versions(2, 3)
    )
    lie = replace(
        honest,
        info=(
            messages.UpdateInfo(
                opening=view.opening(LABEL, 4) or b"", suffix=honest.info[0].suffix
            ),
        ),
        binary_ladder=steps,
        update=recorder.finish(),
    )
    owner, state = o.owner, o.state
    with pytest.raises(VerificationError) as info:
        verify_update_response(state, o.config, owner, request, lie, now_ms=o.now)
    assert info.value.requirement == "OPS-032", str(info.value)
    assert (o.owner, o.state) == (owner, state)


@pytest.mark.req("OPS-033", "OPS-035")
def test_a_proof_from_the_wrong_entry_is_rejected() -> None:
    o, request, response = _fixture()
    other = o.answer(request, response.position)
    swapped = replace(
        response,
        update=replace(
            response.update,
            prefix_proofs=(other.update.prefix_proofs[0], *response.update.prefix_proofs[1:]),
        ),
    )
    verify_update_response(o.state, o.config, o.owner, request, swapped, now_ms=o.now)
    ladders = response.update.prefix_proofs
    wrong = replace(response, update=replace(response.update, prefix_proofs=(ladders[-1],) * 2))
    with pytest.raises(VerificationError):
        verify_update_response(o.state, o.config, o.owner, request, wrong, now_ms=o.now)


@pytest.mark.req("OPS-028", "OPS-029", "OPS-031", "OPS-032", "OPS-033", "OPS-035")
def test_update_vectors(interop_dir: Path) -> None:
    report = run_file(interop_dir / "update.json")
    failed = {n: o.detail for n, o in report.outcomes.items() if o.status is Status.FAIL}
    assert not failed
    assert report.count(Status.PASS) == 7
    assert report.outcomes["single-version-with-advertised-size"].divergence == "IOP-O03"


def test_owner_state_history_is_ordered() -> None:
    with pytest.raises(UsageError):
        OwnerState(0, ((5, 1), (3, 2)))
    owner = OwnerState(3, ((3, 1), (6, 4)))
    assert owner.expected(2) is None
    assert owner.expected(5) == 1
    assert owner.expected(6) == 4
    assert owner.last_insert == 6
    assert isinstance(MemoryLog, type)


@pytest.mark.req("OPS-035")
def test_new_versions_outside_the_ladder_must_be_proven_included() -> None:
    o = _Owner()
    view = o.log.view()
    recorder = ct.Recorder(view, LABEL)
    # The log cannot prove a version its tree does not hold ...
    with pytest.raises(VerificationError) as info:
        recorder.inclusions(7, [2, 3])
    assert info.value.requirement == "OPS-035"
    # ... and the owner rejects a proof that shows one absent, or has too few results.
    tree = view.prefix_tree(7)
    outputs = {v: view.vrf_output(LABEL, v) for v in range(4)}
    commitments = {v: c for v, k in outputs.items() if (c := tree.get(k)) is not None}
    for versions, proven in (([2, 3], [2, 3]), ([1, 2], [2])):
        proof = messages.CombinedTreeProof(
            timestamps=(),
            prefix_proofs=(tree.prove([outputs[v] for v in proven]),),
            prefix_roots=(),
            inclusion=messages.InclusionProof(elements=()),
        )
        consumer = ct.Consumer(proof, view.size, vrf_outputs=outputs, commitments=commitments)
        with pytest.raises(VerificationError) as info:
            consumer.inclusions(7, versions)
        assert info.value.requirement == "OPS-035"


class _SkippingView:
    """A log view in which ``skipped`` versions carry the all-zero commitment (§14)."""

    def __init__(self, log: MemoryLog, keys: list[bytes]) -> None:
        self._view = log.view()
        suite = log.config.ciphersuite
        self._trees = []
        self._log = log_tree.LogTree(hash_fn=log_tree.hash_for_suite(suite))
        for x in range(self._view.size):
            tree = self._view.prefix_tree(x)
            for key in keys:
                if tree.get(key) is not None:
                    tree = tree.replace(key, bytes(32))
            self._trees.append(tree)
            entry = messages.LogEntry(timestamp=self._view.timestamp(x), prefix_tree=tree.root())
            self._log.append_entry(entry, suite=suite)
        self.size = self._view.size
        self.timestamp = self._view.timestamp
        self.vrf_output = self._view.vrf_output
        self.vrf_proof = self._view.vrf_proof
        self.opening = self._view.opening
        self.value = self._view.value

    def prefix_tree(self, x: int) -> PrefixTree:
        return self._trees[x]

    def batch_proof(self, leaves: Sequence[int], retained_size: int) -> messages.InclusionProof:
        return self._log.batch_proof(leaves, retained_size, size=self.size)

    def root(self) -> bytes:
        return self._log.root(self.size)


@pytest.mark.req("OPS-029", "OPS-030", "OPS-035")
@pytest.mark.parametrize("skipped", [1, 2])
def test_skipped_versions_under_third_party_management(skipped: int) -> None:
    o = _Owner(Mode.thirdPartyManagement)
    o.tick([], OTHER)
    real = [b"real1", b"real2"]
    values = [b"skip%d" % i for i in range(skipped)] + real
    request = o.request(real)
    position = o.tick(values)
    keys = [o.log.view().vrf_output(LABEL, 3 + i) for i in range(skipped)]
    view = _SkippingView(o.log, keys)
    response = answer_update(
        view, o.config, o.key, request, position, owner_start=o.start, skipped=skipped
    )
    assert response.skipped_versions == skipped
    assert not response.values
    assert len(response.info) == len(real)
    result, owner, _ = verify_update_response(
        o.state, o.config, o.owner, request, response, now_ms=o.now
    )
    assert (result.first, result.greatest) == (3, 4 + skipped)
    assert result.values == tuple(real)
    assert owner.commitments[3] == bytes(32)
    # Counting a skipped version as a real one (or the reverse) breaks the proof.
    for wrong in (skipped - 1, skipped + 1):
        bad = replace(response, skipped_versions=wrong)
        with pytest.raises(VerificationError):
            verify_update_response(o.state, o.config, o.owner, request, bad, now_ms=o.now)


@pytest.mark.req("OPS-028", "OPS-032", "OPS-033", "OPS-035", "OPS-025", "OPS-020")
@settings(max_examples=15, deadline=None)
@given(st.data())
def test_random_owner_lifecycles(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 12))
    gaps = data.draw(st.lists(st.integers(1, 120), min_size=n, max_size=n))
    stamps = [1000 + sum(gaps[: i + 1]) for i in range(n)]
    creates = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    updates = [
        [(LABEL, b"v%d.%d" % (i, j)) for j in range(c)] or [(OTHER, b"o%d" % i)]
        for i, c in enumerate(creates)
    ]
    rmw = data.draw(st.sampled_from([0, 50, 150, 400]))
    lifetime = data.draw(st.sampled_from([None, rmw + 300, 10**6]))
    log, config, key = demo_log(stamps, updates, rmw=rmw, max_lifetime=lifetime)
    now = stamps[-1]
    view = log.view()
    candidates = [
        x
        for x in dist.distinguished_entries(n, rmw, view.timestamp)
        if not dist.is_expired(view.timestamp(x), now, lifetime)
    ]
    if not candidates:
        return
    start = data.draw(st.sampled_from(candidates))
    request = messages.OwnerInitRequest(last=None, label=LABEL, start=start)
    response = answer_owner_init(view, config, key, request)
    owner, state = verify_owner_init(ClientState.initial(), config, request, response, now)
    # The owner is told of every version created after its start, then creates some.
    plan = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=5))
    for count in plan:
        now += data.draw(st.integers(1, 200))
        values = [b"n%d.%d" % (now, j) for j in range(count)]
        request_u = messages.UpdateRequest(
            last=state.tree_size,
            label=LABEL,
            greatest_version=owner.greatest,
            values=tuple(messages.LabelValue(value=v) for v in values),
        )
        while True:
            position = check_update_request(log.view(), request_u) if request_u.values else None
            if position is None:
                break
            response_u = answer_update(
                log.view(), config, key, request_u, position, owner_start=start
            )
            result, owner, state = verify_update_response(
                state, config, owner, request_u, response_u, now_ms=now
            )
            request_u = follow_up_request(request_u, response_u, result)
        if count == 0:
            log.append(now, [(OTHER, b"x")])
            continue
        position = log.size
        log.append(now, [(LABEL, v) for v in values])
        response_u = answer_update(log.view(), config, key, request_u, position, owner_start=start)
        result, owner, state = verify_update_response(
            state, config, owner, request_u, response_u, now_ms=now
        )
        assert result.values == tuple(values)
        monitor = messages.OwnerMonitorRequest(
            last=state.tree_size,
            label=LABEL,
            entries=tuple(
                messages.MonitorMapEntry(position=p, version=v)
                for p, v in sorted(owner.entries.items())
            ),
            start=owner.start,
            greatest_version=owner.greatest,
        )
        response_m = answer_owner_monitor(log.view(), config, key, monitor)
        owner, state = verify_owner_monitor(state, config, owner, monitor, response_m, now_ms=now)
    assert state.full_subtrees.root() == log.view(state.tree_size).root()
