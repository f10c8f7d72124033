"""Credentials (KEYTRANS §14): standard, provisional, final verification, CredentialUpdate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckv import binary_ladder as bl
from ckv import combined_tree as ct
from ckv import wire
from ckv.client_state import ClientState
from ckv.credentials import (
    CredentialQueue,
    PendingCredential,
    UnknownDistinguishedEntryError,
    VerifiedCredential,
    credential_update,
    finalize_credential,
    is_expired,
    provisional_credential,
    standard_credential,
    verify_credential,
)
from ckv.distinguished_walk import (
    DistinguishedEntry,
    RecentDistinguished,
    answer_distinguished,
    verify_distinguished,
)
from ckv.errors import UsageError, VerificationError
from ckv.interop.search_vectors import MemoryLog, demo_log
from ckv.search import answer_search, verify_search
from ckv.tree_head import sign_tree_head
from ckv.wire import messages

LABEL = b"alice@example.com"
OTHER = b"bob@example.com"
FAR = 10**12
Mode = messages.DeploymentMode


def _walk(
    log: MemoryLog, config: messages.Configuration, key: bytes, size: int
) -> RecentDistinguished:
    request = messages.DistinguishedRequest(last=None, stop=None)
    response = answer_distinguished(log.view(size), config, key, request)
    result, _ = verify_distinguished(
        ClientState.initial(), config, request, response, log.view(size).timestamp(size - 1)
    )
    return result.recent


def _scenario(
    mode: Mode = Mode.contactMonitoring,
) -> tuple[MemoryLog, messages.Configuration, bytes]:
    """48 entries 25 ms apart, RMW 100: distinguished entries every few entries.

    LABEL gets a new version every 5 entries (0, 5, 10, ...); OTHER at the rest.
    """
    timestamps = [1000 + 25 * i for i in range(48)]
    updates = [[(LABEL, b"v%d" % i)] if i % 5 == 0 else [(OTHER, b"o%d" % i)] for i in range(48)]
    return demo_log(timestamps, updates, mode=mode, rmw=100, max_lifetime=10**6, clock_bounds=FAR)


def _provisional_case(
    log: MemoryLog, config: messages.Configuration, key: bytes, size: int = 40
) -> tuple[RecentDistinguished, messages.Credential, int]:
    """A provisional credential from a recent entry at ``size`` for a version added after it."""
    recent = _walk(log, config, key, size)
    for entry in reversed(recent.entries):
        for n in range(entry.position + 2, log.size + 1):
            try:
                return (
                    recent,
                    provisional_credential(log.view(n), config, key, LABEL, entry.position),
                    n,
                )
            except UsageError:
                continue
    raise AssertionError("no provisional credential in the scenario")


# -- round trips ----------------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[int], list[list[tuple[bytes, bytes]]], int]:
    n = draw(st.integers(3, 36))
    gaps = draw(st.lists(st.sampled_from([1, 10, 30, 60]), min_size=n, max_size=n))
    timestamps = []
    t = 1000
    for g in gaps:
        t += g
        timestamps.append(t)
    marks = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    updates = [[(LABEL, b"v%d" % i)] if i == 0 or m else [] for i, m in enumerate(marks)]
    rmw = draw(st.sampled_from([20, 60, 150]))
    return timestamps, updates, rmw


@pytest.mark.req(
    "CRED-001", "CRED-007", "CRED-008", "CRED-009", "CRED-010", "CRED-011", "CRED-013",
    "CRED-015", "CRED-016",
)  # fmt: skip
@given(scenarios(), st.sampled_from([Mode.contactMonitoring, Mode.thirdPartyManagement]), st.data())
def test_round_trips(
    spec: tuple[list[int], list[list[tuple[bytes, bytes]]], int], mode: Mode, data: st.DataObject
) -> None:
    timestamps, updates, rmw = spec
    log, config, key = demo_log(
        timestamps, updates, mode=mode, rmw=rmw, max_lifetime=None, clock_bounds=FAR
    )
    n = log.size
    m = data.draw(st.integers(1, n))
    recent = _walk(log, config, key, m)
    later = _walk(log, config, key, n)
    for entry in recent.entries:
        standard = standard_credential(log.view(m), LABEL, entry.position)
        verified = verify_credential(config, standard, recent)
        assert isinstance(verified, VerifiedCredential)
        assert verified.credential_type is messages.CredentialType.standard
        assert verified.value == b"v%d" % max(i for i in range(entry.position + 1) if updates[i])
        size = data.draw(st.integers(entry.position + 1, n))
        try:
            credential = provisional_credential(log.view(size), config, key, LABEL, entry.position)
        except UsageError:
            continue
        pending = verify_credential(config, credential, recent)
        assert isinstance(pending, PendingCredential)
        assert pending.terminal > entry.position
        assert pending.value == b"v%d" % max(i for i in range(size) if updates[i])
        outcome = finalize_credential(config, pending, later)
        if outcome is not None:
            assert later.get(pending.terminal) is not None
            continue
        target = next((x for x in later.positions if x >= pending.terminal), None)
        if target is None or target + 1 < size:
            continue
        update = credential_update(log.view(target + 1), config, credential)
        final = finalize_credential(config, pending, later, update)
        assert final == pending.verified()


@pytest.mark.req("CRED-013", "CRED-014", "CRED-015", "CRED-016")
@pytest.mark.parametrize("mode", [Mode.contactMonitoring, Mode.thirdPartyManagement])
def test_provisional_credential_is_finalized_by_an_update(mode: Mode) -> None:
    log, config, key = _scenario(mode)
    recent, credential, size = _provisional_case(log, config, key, 30)
    pending = verify_credential(config, credential, recent)
    assert isinstance(pending, PendingCredential)
    # Not yet: no known distinguished entry right of the terminal entry.
    assert finalize_credential(config, pending, recent) is None
    later = _walk(log, config, key, 48)
    target = next(x for x in later.positions if x >= pending.terminal)
    if target == pending.terminal:
        assert finalize_credential(config, pending, later) == pending.verified()
        return
    assert target + 1 >= size
    update = credential_update(log.view(target + 1), config, credential)
    assert finalize_credential(config, pending, later) is None
    assert finalize_credential(config, pending, later, update) == pending.verified()


# -- must-reject -------------------------------------------------------------------------


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


def _standard_case(
    mode: Mode = Mode.contactMonitoring,
) -> tuple[MemoryLog, messages.Configuration, bytes, RecentDistinguished, messages.Credential]:
    log, config, key = _scenario(mode)
    recent = _walk(log, config, key, 40)
    position = recent.entries[-1].position
    return log, config, key, recent, standard_credential(log.view(40), LABEL, position)


@pytest.mark.req("CRED-001", "CRED-002")
def test_an_unknown_position_is_rejected_without_a_request() -> None:
    _, config, _, recent, credential = _standard_case()
    other = next(x for x in range(40) if recent.get(x) is None)
    with pytest.raises(UnknownDistinguishedEntryError) as info:
        verify_credential(config, replace(credential, position=other), recent)
    assert info.value.requirement == "CRED-001"
    with pytest.raises(UnknownDistinguishedEntryError):
        verify_credential(config, credential, RecentDistinguished.empty())


CredTamper = Callable[[messages.Credential], messages.Credential]

_STANDARD_TAMPER: dict[str, tuple[CredTamper, set[str]]] = {
    "another label": (lambda c: replace(c, label=OTHER), {"SUITE-010", "SUITE-011"}),
    "another version": (
        lambda c: replace(c, version=c.version + 1),
        {"CRED-004", "SUITE-010", "SUITE-011", "CRED-007", "PREFIX-*"},
    ),
    "another value": (
        lambda c: replace(c, value=replace(c.value, value=b"mallory")),
        {"CRED-008", "PREFIX-*"},
    ),
    "another opening": (lambda c: replace(c, opening=_flip(c.opening)), {"CRED-008"}),
    "ladder step dropped": (
        lambda c: replace(c, binary_ladder=c.binary_ladder[:-1]),
        {"CRED-004"},
    ),
    "commitment on the target": (
        lambda c: replace(
            c,
            binary_ladder=tuple(
                replace(s, commitment=bytes(32)) if s.commitment is None else s
                for s in c.binary_ladder
            ),
        ),
        {"CRED-004"},
    ),
    "a provisional field added": (
        lambda c: replace(c, tree_head=messages.TreeHead(tree_size=1, signature=bytes(64))),
        {"CRED-006"},
    ),
    "distinguished proof removed": (lambda c: replace(c, distinguished=None), {"CRED-006"}),
    "prefix proof element changed": (
        lambda c: replace(
            c,
            distinguished=replace(
                c.distinguished, elements=(bytes(32), *c.distinguished.elements[1:])
            )
            if c.distinguished
            else None,
        ),
        {"CRED-008", "PREFIX-*"},
    ),
}


def _allowed(requirement: str | None, allowed: set[str]) -> bool:
    if requirement is None:
        return False
    return requirement in allowed or any(
        a.endswith("*") and requirement.startswith(a[:-1]) for a in allowed
    )


@pytest.mark.req("CRED-004", "CRED-005", "CRED-006", "CRED-008")
@pytest.mark.parametrize("name", sorted(_STANDARD_TAMPER))
def test_tampered_standard_credential_is_rejected(name: str) -> None:
    _, config, _, recent, credential = _standard_case()
    assert isinstance(verify_credential(config, credential, recent), VerifiedCredential)
    tamper, allowed = _STANDARD_TAMPER[name]
    with pytest.raises(VerificationError) as info:
        verify_credential(config, tamper(credential), recent)
    assert _allowed(info.value.requirement, allowed), f"{info.value.requirement}: {info.value}"


@pytest.mark.req("CRED-003")
def test_an_unsigned_value_is_rejected_under_third_party_management() -> None:
    _, config, _, recent, credential = _standard_case(Mode.thirdPartyManagement)
    assert isinstance(verify_credential(config, credential, recent), VerifiedCredential)
    unsigned = replace(credential, value=replace(credential.value, suffix=messages.UpdateSuffix()))
    with pytest.raises(VerificationError) as info:
        verify_credential(config, unsigned, recent)
    assert (info.value.requirement or "").startswith("SUITE-")


@pytest.mark.req("CRED-008")
def test_a_wrong_distinguished_root_is_rejected() -> None:
    _, config, _, recent, credential = _standard_case()
    entry = recent.get(credential.position)
    assert entry is not None
    wrong = replace(entry, prefix_root=_flip(entry.prefix_root))
    forged = replace(recent, entries=tuple(wrong if e is entry else e for e in recent.entries))
    with pytest.raises(VerificationError) as info:
        verify_credential(config, credential, forged)
    assert info.value.requirement == "CRED-008"


@pytest.mark.req("CRED-007")
def test_a_standard_credential_whose_ladder_shows_a_greater_version_is_rejected() -> None:
    log, config, key = _scenario()
    recent = _walk(log, config, key, 40)
    position = recent.entries[-1].position
    honest = standard_credential(log.view(40), LABEL, position)
    assert honest.version >= 1
    # The owner claims an older version: its ladder, proven in the same entry, shows more.
    older = honest.version - 1
    view = log.view(40)
    tree = view.prefix_tree(position)
    keys = []
    for version in bl.base_binary_ladder(older):
        k = view.vrf_output(LABEL, version)
        keys.append(k)
        if (tree.get(k) is not None) != (version <= older):
            break
    steps = tuple(
        messages.BinaryLadderStep(
            proof=view.vrf_proof(LABEL, v),
            commitment=None if v == older else tree.get(view.vrf_output(LABEL, v)),
        )
        for v in bl.base_binary_ladder(older)
    )
    opening, value = view.opening(LABEL, older), view.value(LABEL, older)
    assert opening is not None
    assert value is not None
    lie = replace(
        honest,
        version=older,
        opening=opening,
        value=value,
        binary_ladder=steps,
        distinguished=tree.prove(keys),
    )
    with pytest.raises(VerificationError) as info:
        verify_credential(config, lie, recent)
    assert info.value.requirement == "CRED-007"


ProvTamper = Callable[[messages.Credential], messages.Credential]


def _head(c: messages.Credential) -> messages.TreeHead:
    if c.tree_head is None:
        raise AssertionError("provisional")
    return c.tree_head


def _search(c: messages.Credential) -> messages.CombinedTreeProof:
    if c.search is None:
        raise AssertionError("provisional")
    return c.search


_PROVISIONAL_TAMPER: dict[str, tuple[ProvTamper, set[str]]] = {
    "tree head not right of position": (
        lambda c: replace(c, tree_head=replace(_head(c), tree_size=c.position)),
        {"CRED-009"},
    ),
    "signature changed": (
        lambda c: replace(c, tree_head=replace(_head(c), signature=_flip(_head(c).signature))),
        {"SUITE-018"},
    ),
    "extra timestamp": (
        lambda c: replace(
            c, search=replace(_search(c), timestamps=(*_search(c).timestamps, 10**9))
        ),
        {"COMBINED-003", "SEARCH-010"},
    ),
    "prefix proof dropped": (
        lambda c: replace(
            c, search=replace(_search(c), prefix_proofs=_search(c).prefix_proofs[1:])
        ),
        {"COMBINED-002", "COMBINED-006", "COMBINED-007", "SEARCH-*", "PREFIX-*", "OPS-*"},
    ),
    "standard field added": (
        lambda c: replace(c, distinguished=messages.PrefixProof(results=(), elements=())),
        {"CRED-006"},
    ),
    "another label": (lambda c: replace(c, label=OTHER), {"SUITE-010", "SUITE-011"}),
}


@pytest.mark.req("CRED-006", "CRED-009", "CRED-010", "CRED-011")
@pytest.mark.parametrize("name", sorted(_PROVISIONAL_TAMPER))
def test_tampered_provisional_credential_is_rejected(name: str) -> None:
    log, config, key = _scenario()
    recent, credential, _ = _provisional_case(log, config, key)
    assert isinstance(verify_credential(config, credential, recent), PendingCredential)
    tamper, allowed = _PROVISIONAL_TAMPER[name]
    with pytest.raises(VerificationError) as info:
        verify_credential(config, tamper(credential), recent)
    assert _allowed(info.value.requirement, allowed), f"{info.value.requirement}: {info.value}"


@pytest.mark.req("CRED-010", "CRED-021")
def test_a_provisional_credential_whose_terminal_is_not_right_of_position_is_rejected() -> None:
    log, config, key = _scenario()
    recent = _walk(log, config, key, 40)
    # Version 7 of LABEL was added at entry 35; entry 37 is the rightmost distinguished entry of
    # the log of 39 entries, where the search starts and ends: only a standard credential.
    position = 37
    assert recent.get(position) is not None
    with pytest.raises(UsageError) as refused:
        provisional_credential(log.view(39), config, key, LABEL, position)
    assert refused.value.requirement == "CRED-021"
    # Forge one anyway, as a sender that ignores CRED-021 would.
    view = log.view(39)
    recorder = ct.Recorder(view, LABEL, position + 1)
    ct.update_view(recorder, position + 1)
    ct.greatest_version_search(recorder, 7, config.reasonable_monitoring_window)
    standard = standard_credential(view, LABEL, position)
    rightmost = view.prefix_tree(38)
    forged = replace(
        standard,
        binary_ladder=tuple(
            replace(s, commitment=None if v == 7 else rightmost.get(view.vrf_output(LABEL, v)))
            for v, s in zip(bl.base_binary_ladder(7), standard.binary_ladder, strict=True)
        ),
        credential_type=messages.CredentialType.provisional,
        distinguished=None,
        tree_head=sign_tree_head(config, key, 39, view.root()),
        search=recorder.finish(),
    )
    assert forged.version == 7
    with pytest.raises(VerificationError) as info:
        verify_credential(config, forged, recent)
    assert info.value.requirement == "CRED-010"


def _pending_and_update(
    mode: Mode = Mode.contactMonitoring,
) -> tuple[
    messages.Configuration,
    PendingCredential,
    RecentDistinguished,
    messages.CredentialUpdate,
    MemoryLog,
    messages.Credential,
]:
    log, config, key = _scenario(mode)
    # Walk at 30 (rightmost recent entry 27); the credential's tree has 31 entries, its search
    # ends at entry 30 (version 6), and the update to 42 entries monitors it up to entry 31.
    recent = _walk(log, config, key, 30)
    position = recent.entries[-1].position
    credential = provisional_credential(log.view(31), config, key, LABEL, position)
    pending = verify_credential(config, credential, recent)
    assert isinstance(pending, PendingCredential)
    later = _walk(log, config, key, 48)
    target = next(x for x in later.positions if x >= pending.terminal)
    assert target > pending.terminal
    update = credential_update(log.view(target + 1), config, credential)
    return config, pending, later, update, log, credential


@pytest.mark.req("CRED-016")
def test_an_update_with_a_wrong_distinguished_root_is_rejected() -> None:
    config, pending, later, update, _, _ = _pending_and_update()
    assert finalize_credential(config, pending, later, update) == pending.verified()
    target = next(x for x in later.positions if x >= pending.terminal)
    entry = later.get(target)
    assert entry is not None
    wrong = replace(entry, root=_flip(entry.root))
    forged = replace(later, entries=tuple(wrong if e is entry else e for e in later.entries))
    with pytest.raises(VerificationError) as info:
        finalize_credential(config, pending, forged, update)
    assert info.value.requirement == "CRED-016"


@pytest.mark.req("CRED-015", "CRED-016")
@pytest.mark.parametrize(
    "name", ["extra timestamp", "monitoring ladder dropped", "root of another size", "flip"]
)
def test_a_tampered_update_is_rejected(name: str) -> None:
    config, pending, later, update, log, credential = _pending_and_update()
    monitor = update.monitor
    if name == "extra timestamp":
        bad = replace(monitor, timestamps=(*monitor.timestamps, 10**9))
    elif name == "monitoring ladder dropped":
        assert monitor.prefix_proofs
        bad = replace(monitor, prefix_proofs=monitor.prefix_proofs[:-1])
    elif name == "root of another size":
        target = next(x for x in later.positions if x >= pending.terminal)
        bad = credential_update(log.view(target + 2), config, credential).monitor
    else:
        bad = replace(monitor, prefix_roots=tuple(_flip(r) for r in monitor.prefix_roots))
    with pytest.raises(VerificationError) as info:
        finalize_credential(config, pending, later, messages.CredentialUpdate(monitor=bad))
    assert info.value.requirement is not None
    assert info.value.requirement.split("-")[0] in {"COMBINED", "CRED", "SEARCH", "LOG"}


@pytest.mark.req("CRED-013")
def test_a_terminal_entry_that_became_distinguished_must_match() -> None:
    config, pending, later, _, _, _ = _pending_and_update()
    # Pretend the terminal entry is a known distinguished entry with another prefix root.
    fake = DistinguishedEntry(
        pending.terminal,
        later.entries[0].timestamp,
        _flip(pending.terminal_prefix_root),
        later.entries[0].root,
        later.entries[0].view,
    )
    forged = replace(later, entries=(*later.entries, fake))
    with pytest.raises(VerificationError) as info:
        finalize_credential(config, pending, forged)
    assert info.value.requirement == "CRED-013"
    honest = replace(fake, prefix_root=pending.terminal_prefix_root)
    assert (
        finalize_credential(config, pending, replace(later, entries=(*later.entries, honest)))
        == pending.verified()
    )


# -- no effect on the user's own state, nor on other credentials ---------------------------


@pytest.mark.req("CRED-017")
def test_credentials_never_change_the_users_state() -> None:
    log, config, key = _scenario()
    # The receiver's own view: a search at size 30.
    request = messages.SearchRequest(last=None, label=OTHER, version=None)
    response = answer_search(log.view(30), config, key, request)
    _, state = verify_search(ClientState.initial(), config, request, response, 10**6)
    snapshot = state
    recent = _walk(log, config, key, 30)
    recent_snapshot = recent
    # A provisional credential showing a larger tree (34 entries), and its update.
    credential = provisional_credential(
        log.view(34), config, key, LABEL, recent.entries[-1].position
    )
    pending = verify_credential(config, credential, recent)
    assert isinstance(pending, PendingCredential)
    assert pending.view.tree_size == 34
    later = _walk(log, config, key, 48)
    target = next(x for x in later.positions if x >= pending.terminal)
    finalize_credential(
        config, pending, later, credential_update(log.view(target + 1), config, credential)
    )
    assert state == snapshot
    assert state.tree_size == 30
    assert recent == recent_snapshot
    # The user's next query still advertises its own size, and verifies against it.
    request = messages.SearchRequest(last=30, label=OTHER, version=None)
    response = answer_search(log.view(36), config, key, request)
    _, state = verify_search(state, config, request, response, 10**6)
    assert state.tree_size == 36


@pytest.mark.req("CRED-017")
def test_credentials_do_not_affect_each_other() -> None:
    log, config, key = _scenario()
    recent = _walk(log, config, key, 40)
    position = recent.entries[-1].position
    good = standard_credential(log.view(40), LABEL, position)
    bad = replace(good, opening=_flip(good.opening))
    alone = verify_credential(config, good, recent)
    with pytest.raises(VerificationError):
        verify_credential(config, bad, recent)
    assert verify_credential(config, good, recent) == alone


# -- the queue -------------------------------------------------------------------------------


@pytest.mark.req("CRED-012", "CRED-018", "CRED-019")
def test_queue_holds_credentials_and_early_updates() -> None:
    config, pending, later, update, _, _ = _pending_and_update()
    queue = CredentialQueue()
    handle = queue.add(pending)
    queue.add_update(handle, update)
    # The receiver does not know the distinguished entry yet: nothing settles, nothing fails.
    early = RecentDistinguished(
        later.tree_size,
        later.rightmost_timestamp,
        tuple(e for e in later.entries if e.position <= pending.position),
    )
    outcome = queue.process(config, early)
    assert outcome.finalized == ()
    assert outcome.failed == ()
    assert len(queue) == 1
    outcome = queue.process(config, later)
    assert outcome.finalized == (pending.verified(),)
    assert len(queue) == 0
    with pytest.raises(UsageError):
        queue.add_update(handle, update)


@pytest.mark.req("CRED-019")
def test_queue_reports_expired_and_failed_credentials() -> None:
    config, pending, later, update, _, _ = _pending_and_update()
    queue = CredentialQueue()
    queue.add(pending)
    # The position no longer recent, no update: the credential expired unverified.
    gone = RecentDistinguished(later.tree_size, later.rightmost_timestamp, ())
    assert is_expired(pending.position, gone)
    outcome = queue.process(config, gone)
    assert outcome.expired == (pending,)
    # A wrong update fails the credential and removes it.
    handle = queue.add(pending)
    queue.add_update(
        handle,
        messages.CredentialUpdate(
            monitor=replace(update.monitor, timestamps=(*update.monitor.timestamps, 10**9))
        ),
    )
    outcome = queue.process(config, later)
    assert [p for p, _ in outcome.failed] == [pending]
    assert outcome.expired == (pending,)  # the first, still waiting for an update
    assert len(queue) == 1


@pytest.mark.req("CRED-015")
def test_an_update_whose_monitoring_path_misses_the_distinguished_entry_is_rejected() -> None:
    # A log where, at 7 entries, the path up from the terminal entry 4 ends at entry 5, which
    # is not distinguished; entry 6 is then claimed to be the distinguished entry to reach.
    timestamps = [1001, 1121, 1241, 1242, 1242, 1292, 1292, 1342, 1462, 1462, 1582, 1632]
    added = {0, 4, 5, 10}
    log, config, key = demo_log(
        timestamps,
        [[(LABEL, b"v%d" % i)] if i in added else [] for i in range(len(timestamps))],
        rmw=100,
        max_lifetime=None,
        clock_bounds=FAR,
    )
    recent = _walk(log, config, key, 8)
    assert recent.get(2) is not None
    credential = provisional_credential(log.view(5), config, key, LABEL, 2)
    pending = verify_credential(config, credential, recent)
    assert isinstance(pending, PendingCredential)
    assert pending.terminal == 4
    entry = recent.get(2)
    assert entry is not None
    # The receiver is made to believe entry 6 is distinguished, with the log's true root at 7.
    fake = DistinguishedEntry(
        6, 1292, log.view().prefix_tree(6).root(), log.view(7).root(), entry.view
    )
    believed = RecentDistinguished(recent.tree_size, recent.rightmost_timestamp, (fake,))
    update = credential_update(log.view(7), config, credential)
    with pytest.raises(VerificationError) as info:
        finalize_credential(config, pending, believed, update)
    assert info.value.requirement == "CRED-015"


@pytest.mark.req("CRED-015", "CRED-016")
def test_an_update_to_an_entry_in_the_terminal_entrys_subtree_is_accepted() -> None:
    # Found by Hypothesis: the terminal entry 11 is on the frontier of the 14-entry tree and
    # the distinguished entry 13 is in its right subtree, so the monitoring path is empty;
    # entry 11 is distinguished along with 13 (KEYTRANS's "case 2").
    timestamps = [1001 + i for i in range(13)]
    timestamps += [1043, 1103, 1163, 1164, 1165, 1166, 1176, 1186, 1196, 1256, 1316]
    log, config, key = demo_log(
        timestamps,
        [[(LABEL, b"v%d" % i)] if i in {0, 11} else [] for i in range(len(timestamps))],
        rmw=150,
        max_lifetime=None,
        clock_bounds=FAR,
    )
    recent = _walk(log, config, key, 1)
    credential = provisional_credential(log.view(12), config, key, LABEL, 0)
    pending = verify_credential(config, credential, recent)
    assert isinstance(pending, PendingCredential)
    assert pending.terminal == 11
    later = _walk(log, config, key, len(timestamps))
    assert later.get(11) is None
    target = next(x for x in later.positions if x >= pending.terminal)
    assert target == 13
    update = credential_update(log.view(14), config, credential)
    assert update.monitor.prefix_proofs == ()
    assert finalize_credential(config, pending, later, update) == pending.verified()


def test_credentials_survive_the_wire() -> None:
    log, config, key = _scenario()
    recent, provisional, _ = _provisional_case(log, config, key)
    standard = standard_credential(log.view(40), LABEL, recent.entries[-1].position)
    for credential in (standard, provisional):
        data = wire.encode(credential, suite=config.ciphersuite, mode=config.mode)
        decoded = wire.decode(messages.Credential, data, suite=config.ciphersuite, mode=config.mode)
        assert decoded == credential
        verify_credential(config, decoded, recent)
