"""Operations under thirdPartyAuditing: the auditor's root in every proof (KEYTRANS §11.3, §12.3).

A :class:`ckv.transparency_log.TransparencyLog` is audited entry by entry by
:mod:`ckv.auditing`; the log serves the auditor's head from a few entries back, so
the auditor's size falls below, at or above the size the user retained. Every
operation is run both ways and checked; then the must-reject cases of §11.3.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import distinguished as dist
from ckv.auditing import AuditorState, audit, sign_audited_head
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.errors import UsageError, VerificationError
from ckv.label_update import answer_update, verify_update_response
from ckv.log_tree import LogTree, batch_copath, tiling, verify_batch
from ckv.log_tree.proofs import _events
from ckv.log_tree.shape import PieceKind
from ckv.monitoring import (
    OwnerState,
    answer_contact_monitor,
    answer_owner_init,
    answer_owner_monitor,
    verify_contact_monitor,
    verify_owner_init,
    verify_owner_monitor,
)
from ckv.search import SearchResult, answer_search, verify_search
from ckv.transparency_log import LogKeys, TransparencyLog
from ckv.tree_head import auditor_tree_head_tbs, sign_auditor_tree_head
from ckv.wire import messages

TPA = messages.DeploymentMode.thirdPartyAuditing
ED = messages.CipherSuite.KT_128_SHA256_Ed25519
T0 = 1_700_000_000_000
STEP = 1_000
LAG_ENTRIES = 3
MAX_LAG = 10 * STEP
START_POS = 2
LABEL = b"alice@example.com"
OTHER = b"bob@example.com"


def _key(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


LOG_SK, VRF_SK, AUDITOR_SK, ROGUE_SK = (_key(n) for n in ("log", "vrf", "auditor", "rogue"))


def make_config(start_pos: int = START_POS) -> messages.Configuration:
    s = get_suite(ED)
    return messages.Configuration(
        ciphersuite=ED,
        mode=TPA,
        signature_public_key=s.signature_public_key(LOG_SK),
        vrf_public_key=s.vrf_public_key(VRF_SK),
        leaf_public_key=None,
        max_auditor_lag=MAX_LAG,
        auditor_start_pos=start_pos,
        auditor_public_key=s.signature_public_key(AUDITOR_SK),
        max_ahead=60_000,
        max_behind=3_600_000,
        reasonable_monitoring_window=4 * STEP,
        maximum_lifetime=None,
    )


class World:
    """An audited log whose auditor's head lags ``lag`` entries behind."""

    def __init__(self, lag: int = LAG_ENTRIES) -> None:
        self.config = make_config()
        self.log = TransparencyLog(
            LogKeys(self.config, LOG_SK, VRF_SK),
            random_bytes=lambda n: hashlib.sha256(b"o%d" % self.now).digest()[:n],
        )
        self.lag = lag
        self.now = T0
        self.auditor = AuditorState.genesis()
        self.heads: list[messages.AuditorTreeHead] = []

    def tick(self, label: bytes = OTHER, value: bytes | None = None, *, attach: bool = True) -> int:
        """Sequence one entry (a new version of ``label``) and audit it; return its position."""
        self.now += STEP
        self.log.stage(label, [value if value is not None else b"v%d" % self.now])
        entry = self.log.sequence(self.now)
        assert entry.auditor_update is not None
        result = audit(
            self.auditor, entry.auditor_update, rmw=self.config.reasonable_monitoring_window
        )
        self.auditor = result.state
        self.heads.append(sign_audited_head(self.config, AUDITOR_SK, result))
        if attach and len(self.heads) > self.lag:
            self.log.attach_auditor_tree_head(self.heads[-1 - self.lag])
        return entry.position

    def search(
        self, state: ClientState, label: bytes = LABEL
    ) -> tuple[messages.SearchRequest, messages.SearchResponse]:
        request = messages.SearchRequest(last=state.tree_size, label=label, version=None)
        return request, answer_search(self.log, self.config, LOG_SK, request)

    def verify(
        self,
        state: ClientState,
        request: messages.SearchRequest,
        response: messages.SearchResponse,
    ) -> tuple[SearchResult, ClientState]:
        return verify_search(state, self.config, request, response, self.now)


def _grown(n: int = 8, lag: int = LAG_ENTRIES) -> World:
    w = World(lag)
    w.tick(LABEL, b"alice-0")
    for _ in range(n - 1):
        w.tick()
    return w


def _auditor_size(response: messages.SearchResponse) -> int:
    head = response.full_tree_head.auditor_tree_head
    assert head is not None
    return head.tree_size


# -- the log tree: a batch proof with a cut point -------------------------------------------------


_LEAVES = [hashlib.sha256(b"leaf%d" % i).digest() for i in range(70)]
_TREE = LogTree.from_leaves(_LEAVES)


@st.composite
def _requests(draw: st.DrawFn) -> tuple[int, int, list[int], int]:
    n = draw(st.integers(1, len(_LEAVES)))
    retained = draw(st.integers(0, n))
    leaves = sorted(set(draw(st.lists(st.integers(0, n - 1), max_size=4))))
    cut = draw(st.integers(1, n))
    return n, retained, leaves, cut


@pytest.mark.req("LOG-014", "LOG-015")
@given(_requests())
@settings(max_examples=150)
def test_a_cut_proof_gives_both_roots(request: tuple[int, int, list[int], int]) -> None:
    n, retained, leaves, cut = request
    proof = _TREE.batch_proof(leaves, retained, size=n, cut=cut)
    result = verify_batch(
        n,
        proof,
        {x: _LEAVES[x] for x in leaves},
        _TREE.full_subtrees(retained) if retained else None,
        cut=cut,
    )
    assert result.root == _TREE.root(n)
    assert result.cut_root == _TREE.root(cut)
    assert result.full_subtrees == _TREE.full_subtrees(n)
    # The verifier's walk and the prover's tiling agree on the pieces around the cut.
    pieces = list(tiling(n, leaves, retained, cut))
    assert sum(w for k, _, w, _ in pieces if k is not PieceKind.CHECK) == n
    assert all(not s < cut < s + w for k, s, w, _ in pieces if k is not PieceKind.CHECK)
    events = _events(n, leaves, retained, cut)
    assert [p for p, *_ in events] == sorted(p for p, *_ in events)
    # LOG-014: the cut adds at most the heads the root at ``cut`` needs and nothing else:
    # never more than one per full subtree of [0, cut) plus one per level split.
    plain = batch_copath(n, leaves, retained)
    extra = len(batch_copath(n, leaves, retained, cut)) - len(plain)
    assert 0 <= extra <= 2 * n.bit_length()


@pytest.mark.req("LOG-014")
def test_the_cut_splits_only_the_gap_that_holds_it() -> None:
    # 8 leaves, none proven, none retained: the root alone is one element, or the cut at 5
    # splits it into [0,4), [4,5), [5,6), [6,8).
    assert batch_copath(8, [], 0) == [(0, 8)]
    assert batch_copath(8, [], 0, 5) == [(0, 4), (4, 1), (5, 1), (6, 2)]
    # A cut on a piece boundary costs nothing.
    assert batch_copath(8, [3], 0, 4) == batch_copath(8, [3], 0)
    # A retained [0, 8) holding the cut is opened and checked, as for a proven leaf.
    kinds = [k for k, *_ in tiling(10, [], 10, 5)]
    assert PieceKind.CHECK in kinds
    assert PieceKind.RETAINED in kinds  # [8, 10) stays retained


@pytest.mark.req("LOG-008", "LOG-015")
def test_a_proof_for_another_cut_is_rejected() -> None:
    proof = _TREE.batch_proof([9], 0, size=40, cut=13)
    with pytest.raises(VerificationError) as caught:
        verify_batch(40, proof, {9: _LEAVES[9]}, None, cut=21)
    assert caught.value.requirement in {"LOG-008", "LOG-010"}
    # Without the cut the same proof has too many elements.
    with pytest.raises(VerificationError) as caught:
        verify_batch(40, proof, {9: _LEAVES[9]}, None)
    assert caught.value.requirement == "LOG-008"
    # A flipped element gives another root at the cut.
    elements = list(proof.elements)
    elements[1] = bytes([elements[1][0] ^ 1]) + elements[1][1:]
    bad = verify_batch(40, elements, {9: _LEAVES[9]}, None, cut=13)
    assert bad.cut_root != _TREE.root(13) or bad.root != _TREE.root(40)


@pytest.mark.req("LOG-016")
@pytest.mark.parametrize("cut", [0, -1, 41])
def test_a_cut_outside_the_tree_is_refused(cut: int) -> None:
    with pytest.raises(UsageError) as caught:
        _TREE.batch_proof([3], 0, size=40, cut=cut)
    assert caught.value.requirement == "LOG-016"
    with pytest.raises(UsageError) as caught:
        verify_batch(40, [], {3: _LEAVES[3]}, None, cut=cut)
    assert caught.value.requirement == "LOG-016"


# -- round trips ----------------------------------------------------------------------------------


@pytest.mark.req("OPS-036", "OPS-038", "SUITE-023", "SUITE-024", "SUITE-025", "SUITE-026")
def test_searches_with_a_lagging_auditor() -> None:
    w = _grown(8)
    state = ClientState.initial()
    request, response = w.search(state)
    assert _auditor_size(response) == w.log.size - LAG_ENTRIES
    result, state = w.verify(state, request, response)
    assert result.value == b"alice-0"
    assert state.auditor_tree_head == w.log.auditor_tree_head
    sizes = {"below": 0, "above": 0}
    for grow in (1, 2, 1, 5, 7, 1):
        for _ in range(grow):
            w.tick()
        retained = state.tree_size
        assert retained is not None
        request, response = w.search(state)
        a = _auditor_size(response)
        sizes["below" if a < retained else "above"] += 1
        result, state = w.verify(state, request, response)
        assert state.tree_size == w.log.size
        assert state.auditor_tree_head is not None
        assert state.auditor_tree_head.tree_size == a
        assert state.full_subtrees.root() == w.log.root()
    # The auditor's size fell on both sides of the retained size.
    assert sizes["below"]
    assert sizes["above"]
    # `same`: no auditor head comes, and the retained one stays.
    request, response = w.search(state)
    assert response.full_tree_head.head_type is messages.FullTreeHeadType.same
    _, again = w.verify(state, request, response)
    assert again.auditor_tree_head == state.auditor_tree_head


@pytest.mark.req("OPS-036", "OPS-038")
def test_monitoring_and_updates_with_a_lagging_auditor() -> None:
    w = _grown(9)
    config = w.config
    # The owner starts at the rightmost distinguished entry.
    start = dist.rightmost_distinguished(
        w.log.size, config.reasonable_monitoring_window, w.log.timestamp
    )
    assert start is not None
    init_request = messages.OwnerInitRequest(last=None, label=LABEL, start=start)
    init = answer_owner_init(w.log, config, LOG_SK, init_request)
    owner, owner_state = verify_owner_init(ClientState.initial(), config, init_request, init, w.now)
    assert owner_state.auditor_tree_head == w.log.auditor_tree_head
    # A contact searches, then monitors while the log grows.
    contact = ClientState.initial()
    request, response = w.search(contact)
    found, contact = w.verify(contact, request, response)
    entries = {found.terminal: found.version}
    # The owner updates the label twice, monitoring in between; the contact monitors.
    for round_ in range(3):
        for _ in range(round_ + 1):
            w.tick()
        value = b"alice-%d" % (round_ + 1)
        update_request = messages.UpdateRequest(
            last=owner_state.tree_size,
            label=LABEL,
            greatest_version=owner.greatest,
            values=(messages.LabelValue(value=value),),
        )
        position = w.tick(LABEL, value)
        w.tick()
        update = answer_update(w.log, config, LOG_SK, update_request, position, owner_start=start)
        update_result, owner, owner_state = verify_update_response(
            owner_state, config, owner, update_request, update, now_ms=w.now
        )
        assert update_result.values == (value,)
        assert owner_state.auditor_tree_head == w.log.auditor_tree_head
        w.tick()
        monitor_request = messages.OwnerMonitorRequest(
            last=owner_state.tree_size,
            label=LABEL,
            entries=tuple(
                messages.MonitorMapEntry(position=p, version=v)
                for p, v in sorted(owner.entries.items())
            ),
            start=owner.start,
            greatest_version=owner.greatest,
        )
        monitored = answer_owner_monitor(w.log, config, LOG_SK, monitor_request)
        owner, owner_state = verify_owner_monitor(
            owner_state, config, owner, monitor_request, monitored, now_ms=w.now
        )
        assert isinstance(owner, OwnerState)
        contact_request = messages.ContactMonitorRequest(
            last=contact.tree_size,
            label=LABEL,
            entries=tuple(
                messages.MonitorMapEntry(position=p, version=v) for p, v in sorted(entries.items())
            ),
        )
        contact_response = answer_contact_monitor(w.log, config, LOG_SK, contact_request)
        entries, contact = verify_contact_monitor(
            contact,
            config,
            contact_request,
            contact_response,
            w.now,
            vrf_outputs={found.version: w.log.vrf_output(LABEL, found.version)},
            commitments={found.version: w.log.commitment(LABEL, found.version) or b""},
        )
        assert contact.auditor_tree_head == w.log.auditor_tree_head
        assert contact.full_subtrees.root() == w.log.root()
    assert owner.greatest == 3


# -- must-reject --------------------------------------------------------------------------------


def _with_auditor_head(
    response: messages.SearchResponse, head: messages.AuditorTreeHead | None
) -> messages.SearchResponse:
    return replace(
        response, full_tree_head=replace(response.full_tree_head, auditor_tree_head=head)
    )


def _returning_user() -> tuple[World, ClientState]:
    w = _grown(8)
    state = ClientState.initial()
    request, response = w.search(state)
    _, state = w.verify(state, request, response)
    for _ in range(4):
        w.tick()
    return w, state


def _rejects(
    w: World,
    state: ClientState,
    request: messages.SearchRequest,
    bad: messages.SearchResponse,
    requirements: set[str],
) -> None:
    before = state
    with pytest.raises(VerificationError) as caught:
        w.verify(state, request, bad)
    assert caught.value.requirement in requirements, caught.value
    # OPS-010: the caller's state is untouched and still verifies the honest answer.
    assert state == before
    honest = answer_search(w.log, w.config, LOG_SK, request)
    _, after = w.verify(state, request, honest)
    assert after.auditor_tree_head == w.log.auditor_tree_head


@pytest.mark.req("SUITE-026", "OPS-036")
def test_an_auditor_head_over_a_root_not_in_the_log_is_rejected() -> None:
    w, state = _returning_user()
    request, response = w.search(state)
    a = _auditor_size(response)
    head = response.full_tree_head.auditor_tree_head
    assert head is not None
    other = World()
    for _ in range(a):
        other.tick(b"someone-else")
    # The auditor really signed it, but over another log's root at that size.
    forged = sign_auditor_tree_head(w.config, AUDITOR_SK, head.timestamp, a, other.log.root())
    _rejects(w, state, request, _with_auditor_head(response, forged), {"SUITE-026"})


@pytest.mark.req("SUITE-026")
def test_an_auditor_head_signed_with_another_key_is_rejected() -> None:
    w, state = _returning_user()
    request, response = w.search(state)
    head = response.full_tree_head.auditor_tree_head
    assert head is not None
    tbs_root = w.log.root(head.tree_size)
    s = get_suite(ED)
    rogue_config = replace(w.config, auditor_public_key=s.signature_public_key(ROGUE_SK))
    rogue = sign_auditor_tree_head(rogue_config, ROGUE_SK, head.timestamp, head.tree_size, tbs_root)
    # Signed by the wrong key over the right TBS bytes: the TBS embeds the log's config.
    wrong_key = replace(
        rogue,
        signature=s.sign(
            ROGUE_SK,
            auditor_tree_head_tbs(w.config, head.timestamp, head.tree_size, tbs_root),
        ),
    )
    _rejects(w, state, request, _with_auditor_head(response, wrong_key), {"SUITE-026"})
    _rejects(w, state, request, _with_auditor_head(response, rogue), {"SUITE-026"})


@pytest.mark.req("SUITE-024")
def test_an_auditor_too_far_behind_is_rejected() -> None:
    w, state = _returning_user()
    # The auditor stops signing; the log goes on past max_auditor_lag.
    for _ in range(MAX_LAG // STEP + 1):
        w.tick(attach=False)
    request, response = w.search(state)
    head = response.full_tree_head.auditor_tree_head
    assert head is not None
    assert w.log.timestamp(w.log.size - 1) - head.timestamp > MAX_LAG
    with pytest.raises(VerificationError) as caught:
        w.verify(state, request, response)
    assert caught.value.requirement == "SUITE-024"
    # Once the auditor catches up, the same user verifies.
    w.log.attach_auditor_tree_head(w.heads[-1])
    request, response = w.search(state)
    w.verify(state, request, response)


@pytest.mark.req("SUITE-024")
def test_an_auditor_ahead_of_the_rightmost_entry_is_rejected() -> None:
    w, state = _returning_user()
    request, response = w.search(state)
    head = response.full_tree_head.auditor_tree_head
    assert head is not None
    ahead = sign_auditor_tree_head(
        w.config, AUDITOR_SK, w.now + 1, head.tree_size, w.log.root(head.tree_size)
    )
    _rejects(w, state, request, _with_auditor_head(response, ahead), {"SUITE-024"})


@pytest.mark.req("SUITE-025", "OPS-037")
def test_an_auditor_size_above_the_tree_head_is_rejected() -> None:
    w, state = _returning_user()
    request, response = w.search(state)
    n = w.log.size
    head = response.full_tree_head.auditor_tree_head
    assert head is not None
    # Signed over the log's current root but claiming one entry more than the head.
    above = sign_auditor_tree_head(w.config, AUDITOR_SK, head.timestamp, n + 1, w.log.root())
    _rejects(w, state, request, _with_auditor_head(response, above), {"SUITE-025"})
    zero = replace(head, tree_size=0)
    _rejects(w, state, request, _with_auditor_head(response, zero), {"OPS-037"})


@pytest.mark.req("SUITE-023", "OPS-038")
def test_the_auditor_start_position_rule() -> None:
    w, state = _returning_user()
    assert state.auditor_tree_head is not None
    # The previous head the user retained is below the (current) auditor's start position.
    early = replace(state, auditor_tree_head=replace(state.auditor_tree_head, tree_size=1))
    request, response = w.search(early)
    with pytest.raises(VerificationError) as caught:
        w.verify(early, request, response)
    assert caught.value.requirement == "SUITE-023"
    # At the start position it is accepted; a first-time user has nothing to check.
    previous = state.auditor_tree_head
    at_start = replace(early, auditor_tree_head=replace(previous, tree_size=START_POS))
    w.verify(at_start, request, response)


@pytest.mark.req("SUITE-022", "LOG-008", "LOG-010", "SUITE-026")
def test_a_proof_not_for_the_auditor_head_sent_is_rejected() -> None:
    w, state = _returning_user()
    request, response = w.search(state)
    head = response.full_tree_head.auditor_tree_head
    assert head is not None
    # No auditor head at all under thirdPartyAuditing.
    _rejects(
        w,
        state,
        request,
        _with_auditor_head(response, None),
        {"SUITE-022", "LOG-008", "LOG-010", "LOG-009"},
    )
    # A genuine older auditor head, but the proof was cut at the newer one's size.
    older = w.heads[head.tree_size - 3]
    assert older.tree_size == head.tree_size - 2
    _rejects(
        w,
        state,
        request,
        _with_auditor_head(response, older),
        {"LOG-008", "LOG-010", "SUITE-026"},
    )
    # A flipped bit in any inclusion element.
    elements = response.search.inclusion.elements
    for i in range(len(elements)):
        flipped = list(elements)
        flipped[i] = bytes([flipped[i][0] ^ 0x80]) + flipped[i][1:]
        bad = replace(
            response,
            search=replace(
                response.search,
                inclusion=messages.InclusionProof(elements=tuple(flipped)),
            ),
        )
        _rejects(w, state, request, bad, {"LOG-010", "SUITE-018", "SUITE-026", "LOG-009"})


@pytest.mark.req("SUITE-022", "OPS-036")
def test_modes_without_an_auditor_take_no_auditor_head() -> None:
    w, state = _returning_user()
    request, response = w.search(state)
    plain = replace(w.config, mode=messages.DeploymentMode.contactMonitoring)
    with pytest.raises(VerificationError) as caught:
        verify_search(state, plain, request, response, w.now)
    # The TreeHead signature covers the config (SUITE-018) and the shape is wrong (SUITE-022).
    assert caught.value.requirement in {"SUITE-022", "SUITE-018", "LOG-008"}


@pytest.mark.req("OPS-036")
def test_a_log_without_an_auditor_head_cannot_answer() -> None:
    w = World()
    w.tick(LABEL, b"alice-0")
    assert w.log.auditor_tree_head is None
    request = messages.SearchRequest(last=None, label=LABEL, version=None)
    with pytest.raises(UsageError) as caught:
        answer_search(w.log, w.config, LOG_SK, request)
    assert caught.value.requirement == "OPS-036"


def test_heads_are_attached_in_order() -> None:
    w = _grown(6)
    sizes = [h.tree_size for h in w.heads]
    assert all(b == a + 1 for a, b in pairwise(sizes))
