"""Tree heads (KEYTRANS §11.2-§11.4): signing, verifying, and everything that must be refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.errors import UsageError, VerificationError
from ckv.tree_head import (
    VerifiedTreeHead,
    auditor_tree_head_tbs,
    check_clock,
    sign_auditor_tree_head,
    sign_tree_head,
    tree_head_tbs,
    verify_auditor_tree_head,
    verify_full_tree_head,
    verify_tree_head,
)
from ckv.wire.messages import (
    AuditorTreeHead,
    AuditorTreeHeadTBS,
    CipherSuite,
    Configuration,
    DeploymentMode,
    FullTreeHead,
    FullTreeHeadType,
    TreeHead,
    TreeHeadTBS,
)

CM = DeploymentMode.contactMonitoring
TPM = DeploymentMode.thirdPartyManagement
TPA = DeploymentMode.thirdPartyAuditing
SUITES = [CipherSuite.KT_128_SHA256_Ed25519, CipherSuite.KT_128_SHA256_P256]
MODES = [CM, TPM, TPA]
NOW = 1_700_000_000_000
ROOT = bytes(range(32))
SIGNATURE_FAILURES = {"SUITE-003", "SUITE-004", "SUITE-018"}


def _key(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


LOG_SK, LEAF_SK, AUDITOR_SK, VRF_SK = (_key(n) for n in ("log", "leaf", "auditor", "vrf"))


@dataclass(frozen=True)
class Log:
    """A configuration and the private keys of each role."""

    config: Configuration
    #: Signs tree heads: the Manager's key under thirdPartyManagement, the operator's otherwise.
    log_sk: bytes
    leaf_sk: bytes
    auditor_sk: bytes


def make_log(suite: CipherSuite, mode: DeploymentMode, *, start: int = 0, lag: int = 60_000) -> Log:
    s = get_suite(suite)
    return Log(
        Configuration(
            ciphersuite=suite,
            mode=mode,
            signature_public_key=s.signature_public_key(LOG_SK),
            vrf_public_key=s.vrf_public_key(VRF_SK),
            leaf_public_key=s.signature_public_key(LEAF_SK) if mode is TPM else None,
            max_auditor_lag=lag if mode is TPA else None,
            auditor_start_pos=start if mode is TPA else None,
            auditor_public_key=s.signature_public_key(AUDITOR_SK) if mode is TPA else None,
            max_ahead=10_000,
            max_behind=20_000,
            reasonable_monitoring_window=604_800_000,
            maximum_lifetime=None,
        ),
        LOG_SK,
        LEAF_SK,
        AUDITOR_SK,
    )


LOGS = {(suite, mode): make_log(suite, mode) for suite in SUITES for mode in MODES}
LOG_IDS = [f"{s.name[14:]}-{m.name}" for s, m in LOGS]


def full_head(
    log: Log, size: int, *, auditor_size: int | None = None, ts: int = NOW
) -> FullTreeHead:
    tree_head = sign_tree_head(log.config, log.log_sk, size, ROOT)
    auditor = None
    if log.config.mode is TPA:
        auditor = sign_auditor_tree_head(log.config, log.auditor_sk, ts, auditor_size or size, ROOT)
    return FullTreeHead(
        head_type=FullTreeHeadType.updated, tree_head=tree_head, auditor_tree_head=auditor
    )


def verify(log: Log, full: FullTreeHead, **kwargs: object) -> object:
    args: dict[str, object] = {
        "advertised_size": None,
        "rightmost_timestamp": NOW,
        "now_ms": NOW,
        "root": ROOT,
        "auditor_root": ROOT,
        "previous_auditor_tree_size": None,
    }
    args.update(kwargs)
    return verify_full_tree_head(log.config, full, **args)  # type: ignore[arg-type]


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


# -- building and signing --------------------------------------------------------------


@pytest.mark.req("SUITE-017", "SUITE-018", "KT-002", "KT-003", "KT-005")
@pytest.mark.parametrize(("suite", "mode"), list(LOGS), ids=LOG_IDS)
def test_sign_and_verify_in_every_mode(suite: CipherSuite, mode: DeploymentMode) -> None:
    log = LOGS[suite, mode]
    tbs = tree_head_tbs(log.config, 50, ROOT)
    assert tbs == wire.encode(TreeHeadTBS(config=log.config, tree_size=50, root=ROOT), suite=suite)
    assert tbs.startswith(wire.encode(log.config, suite=suite))
    head = sign_tree_head(log.config, log.log_sk, 50, ROOT)
    verify_tree_head(log.config, head, ROOT)
    verified = verify(log, full_head(log, 50))
    assert verified == VerifiedTreeHead(50, updated=True)


@pytest.mark.req("SUITE-026")
@pytest.mark.parametrize("suite", SUITES, ids=["Ed25519", "P256"])
def test_auditor_tree_head_tbs(suite: CipherSuite) -> None:
    log = LOGS[suite, TPA]
    tbs = auditor_tree_head_tbs(log.config, NOW, 7, ROOT)
    assert tbs == wire.encode(
        AuditorTreeHeadTBS(config=log.config, timestamp=NOW, tree_size=7, root=ROOT), suite=suite
    )
    head = sign_auditor_tree_head(log.config, AUDITOR_SK, NOW, 7, ROOT)
    get_suite(suite).verify(log.config.auditor_public_key or b"", tbs, head.signature)


def test_signing_keys_must_match_the_configuration() -> None:
    for suite in SUITES:
        with pytest.raises(UsageError):
            sign_tree_head(LOGS[suite, TPM].config, LEAF_SK, 1, ROOT)
        with pytest.raises(UsageError):
            sign_auditor_tree_head(LOGS[suite, TPA].config, LOG_SK, NOW, 1, ROOT)
        with pytest.raises(UsageError):
            sign_auditor_tree_head(LOGS[suite, CM].config, AUDITOR_SK, NOW, 1, ROOT)


# -- must-reject: the signature ----------------------------------------------------------


def _other_configurations(config: Configuration) -> list[Configuration]:
    s = get_suite(config.ciphersuite)
    changes: list[Configuration] = [
        replace(config, max_ahead=config.max_ahead + 1),
        replace(config, max_behind=config.max_behind - 1),
        replace(config, reasonable_monitoring_window=1),
        replace(config, maximum_lifetime=0),
        replace(config, vrf_public_key=s.vrf_public_key(_key("other vrf"))),
    ]
    if config.mode is CM:
        # The same keys under another mode (thirdPartyManagement adds the leaf key).
        changes.append(replace(config, mode=TPM, leaf_public_key=s.signature_public_key(LEAF_SK)))
    if config.mode is TPM:
        changes.append(replace(config, leaf_public_key=s.signature_public_key(_key("x"))))
        changes.append(replace(config, mode=CM, leaf_public_key=None))
    if config.mode is TPA:
        assert config.max_auditor_lag is not None
        changes += [
            replace(config, max_auditor_lag=config.max_auditor_lag + 1),
            replace(config, auditor_start_pos=1),
            replace(config, auditor_public_key=s.signature_public_key(_key("y"))),
        ]
    return changes


@pytest.mark.req("SUITE-017", "SUITE-018")
@pytest.mark.parametrize(("suite", "mode"), list(LOGS), ids=LOG_IDS)
def test_signature_over_another_configuration_rejected(
    suite: CipherSuite, mode: DeploymentMode
) -> None:
    log = LOGS[suite, mode]
    head = sign_tree_head(log.config, log.log_sk, 8, ROOT)
    for other in _other_configurations(log.config):
        assert other != log.config
        with pytest.raises(VerificationError) as info:
            verify_tree_head(other, head, ROOT)
        assert info.value.requirement == "SUITE-018"


@pytest.mark.req("SUITE-018", "SUITE-026")
@pytest.mark.parametrize("suite", SUITES, ids=["Ed25519", "P256"])
def test_wrong_role_keys_rejected(suite: CipherSuite) -> None:
    s = get_suite(suite)
    # thirdPartyManagement: the tree head is the Manager's; the Service Operator's leaf
    # key does not sign it.
    managed = LOGS[suite, TPM].config
    by_leaf = TreeHead(tree_size=8, signature=s.sign(LEAF_SK, tree_head_tbs(managed, 8, ROOT)))
    with pytest.raises(VerificationError) as info:
        verify_tree_head(managed, by_leaf, ROOT)
    assert info.value.requirement == "SUITE-018"
    # thirdPartyAuditing: neither the auditor's key for the tree head...
    audited = LOGS[suite, TPA].config
    by_auditor = TreeHead(
        tree_size=8, signature=s.sign(AUDITOR_SK, tree_head_tbs(audited, 8, ROOT))
    )
    with pytest.raises(VerificationError) as info:
        verify_tree_head(audited, by_auditor, ROOT)
    assert info.value.requirement == "SUITE-018"
    # ...nor the log's key for the auditor tree head.
    forged = AuditorTreeHead(
        timestamp=NOW,
        tree_size=8,
        signature=s.sign(LOG_SK, auditor_tree_head_tbs(audited, NOW, 8, ROOT)),
    )
    with pytest.raises(VerificationError) as info:
        verify_auditor_tree_head(
            audited,
            forged,
            tree_head_size=8,
            rightmost_timestamp=NOW,
            root=ROOT,
            previous_auditor_tree_size=None,
        )
    assert info.value.requirement == "SUITE-026"
    # A tree head signature is not an auditor signature over the same numbers, nor back.
    honest = sign_tree_head(audited, LOG_SK, 8, ROOT)
    swapped = FullTreeHead(
        head_type=FullTreeHeadType.updated,
        tree_head=honest,
        auditor_tree_head=AuditorTreeHead(timestamp=NOW, tree_size=8, signature=honest.signature),
    )
    with pytest.raises(VerificationError) as info:
        verify(Log(audited, LOG_SK, LEAF_SK, AUDITOR_SK), swapped)
    assert info.value.requirement == "SUITE-026"


FIELDS = ["signature", "root", "size", "auditor-signature", "auditor-root", "auditor-timestamp"]


@pytest.mark.req("SUITE-018", "SUITE-026")
@settings(max_examples=60)
@given(
    which=st.sampled_from(list(LOGS)),
    field=st.sampled_from(FIELDS),
    bit=st.integers(min_value=0, max_value=1023),
)
def test_bit_flips_rejected(
    which: tuple[CipherSuite, DeploymentMode], field: str, bit: int
) -> None:
    log = LOGS[which]
    full = full_head(log, 20, auditor_size=18)
    head = full.tree_head
    assert head is not None
    root, auditor_root = ROOT, ROOT
    expected = "SUITE-018"
    if field == "signature":
        full = replace(full, tree_head=replace(head, signature=_flip(head.signature, bit)))
    elif field == "root":
        root = _flip(ROOT, bit)
    elif field == "size":
        # Any other size the same signature might be replayed for (still growing).
        full = replace(full, tree_head=replace(head, tree_size=20 + 1 + bit % 1000))
    else:
        ath = full.auditor_tree_head
        if ath is None:
            return
        expected = "SUITE-026"
        if field == "auditor-signature":
            ath = replace(ath, signature=_flip(ath.signature, bit))
        elif field == "auditor-root":
            auditor_root = _flip(ROOT, bit)
        else:
            ath = replace(ath, timestamp=ath.timestamp - 1 - bit)
        full = replace(full, auditor_tree_head=ath)
    with pytest.raises(VerificationError) as info:
        verify(log, full, root=root, auditor_root=auditor_root)
    assert info.value.requirement in {expected, *SIGNATURE_FAILURES}


# -- must-reject: §11.4 ------------------------------------------------------------------


@pytest.mark.req("SUITE-020")
def test_clock_bounds() -> None:
    config = LOGS[CipherSuite.KT_128_SHA256_Ed25519, CM].config
    # max_ahead = 10 000, max_behind = 20 000: the bounds themselves are accepted.
    for ts in (NOW, NOW + 10_000, NOW - 20_000):
        check_clock(config, ts, NOW)
    for ts in (NOW + 10_001, NOW - 20_001, 0, 2**64 - 1):
        with pytest.raises(VerificationError) as info:
            check_clock(config, ts, NOW)
        assert info.value.requirement == "SUITE-020"


@pytest.mark.req("SUITE-019", "SUITE-020", "SUITE-022")
@pytest.mark.parametrize(("suite", "mode"), list(LOGS), ids=LOG_IDS)
def test_same_head(suite: CipherSuite, mode: DeploymentMode) -> None:
    log = LOGS[suite, mode]
    same = FullTreeHead(head_type=FullTreeHeadType.same)
    verified = verify(log, same, advertised_size=9, root=None)
    assert verified == VerifiedTreeHead(9, updated=False)
    # Only in answer to an advertised size.
    with pytest.raises(VerificationError) as info:
        verify(log, same)
    assert info.value.requirement == "SUITE-019"
    # A stale or future rightmost entry.
    for ts in (NOW - 20_001, NOW + 10_001):
        with pytest.raises(VerificationError) as info:
            verify(log, same, advertised_size=9, rightmost_timestamp=ts)
        assert info.value.requirement == "SUITE-020"
    # `same` with a head attached is malformed.
    updated = full_head(log, 9)
    with pytest.raises(VerificationError) as info:
        verify(log, replace(updated, head_type=FullTreeHeadType.same), advertised_size=9)
    assert info.value.requirement == "SUITE-022"


@pytest.mark.req("SUITE-020", "SUITE-021")
@pytest.mark.parametrize(("suite", "mode"), list(LOGS), ids=LOG_IDS)
def test_updated_head_must_grow_and_be_fresh(suite: CipherSuite, mode: DeploymentMode) -> None:
    log = LOGS[suite, mode]
    full = full_head(log, 10)
    verify(log, full, advertised_size=9)
    for advertised in (10, 11, 1000):
        with pytest.raises(VerificationError) as info:
            verify(log, full, advertised_size=advertised)
        assert info.value.requirement == "SUITE-021"
    for ts in (NOW - 20_001, NOW + 10_001):
        with pytest.raises(VerificationError) as info:
            verify(log, full_head(log, 10, ts=ts), rightmost_timestamp=ts)
        assert info.value.requirement == "SUITE-020"


@pytest.mark.req("SUITE-022")
@pytest.mark.parametrize("suite", SUITES, ids=["Ed25519", "P256"])
def test_shape_of_updated_heads(suite: CipherSuite) -> None:
    audited, plain = LOGS[suite, TPA], LOGS[suite, CM]
    without = replace(full_head(audited, 5), auditor_tree_head=None)
    with pytest.raises(VerificationError) as info:
        verify(audited, without)
    assert info.value.requirement == "SUITE-022"
    extra = replace(full_head(plain, 5), auditor_tree_head=full_head(audited, 5).auditor_tree_head)
    with pytest.raises(VerificationError) as info:
        verify(plain, extra)
    assert info.value.requirement == "SUITE-022"
    with pytest.raises(VerificationError) as info:
        verify(plain, FullTreeHead(head_type=FullTreeHeadType.updated))
    assert info.value.requirement == "SUITE-022"
    with pytest.raises(UsageError):
        verify(plain, full_head(plain, 5), root=None)
    with pytest.raises(UsageError):
        verify(audited, full_head(audited, 5), auditor_root=None)


# -- must-reject: §11.3 ------------------------------------------------------------------


@pytest.mark.req("SUITE-023", "SUITE-024", "SUITE-025")
@pytest.mark.parametrize("suite", SUITES, ids=["Ed25519", "P256"])
def test_auditor_steps(suite: CipherSuite) -> None:
    log = make_log(suite, TPA, start=100, lag=60_000)
    full = full_head(log, 200, auditor_size=150, ts=NOW - 60_000)
    ok = {"rightmost_timestamp": NOW, "now_ms": NOW}
    verify(log, full, **ok)
    verify(log, full, previous_auditor_tree_size=100, **ok)
    # Step 1: the previous auditor tree head must reach auditor_start_pos.
    with pytest.raises(VerificationError) as info:
        verify(log, full, previous_auditor_tree_size=99, **ok)
    assert info.value.requirement == "SUITE-023"
    # Step 2: the auditor lags by more than max_auditor_lag...
    with pytest.raises(VerificationError) as info:
        verify(log, full, rightmost_timestamp=NOW + 1, now_ms=NOW + 1)
    assert info.value.requirement == "SUITE-024"
    # ...or claims a timestamp after the rightmost entry.
    ahead = full_head(log, 200, auditor_size=150, ts=NOW + 1)
    with pytest.raises(VerificationError) as info:
        verify(log, ahead, **ok)
    assert info.value.requirement == "SUITE-024"
    # Step 3: the auditor has seen more than the log's tree head.
    beyond = full_head(log, 200, auditor_size=201, ts=NOW)
    with pytest.raises(VerificationError) as info:
        verify(log, beyond, **ok)
    assert info.value.requirement == "SUITE-025"
    verify(log, full_head(log, 200, auditor_size=200, ts=NOW), **ok)
    with pytest.raises(UsageError):
        verify_auditor_tree_head(
            LOGS[suite, CM].config,
            AuditorTreeHead(timestamp=0, tree_size=1, signature=b""),
            tree_head_size=1,
            rightmost_timestamp=0,
            root=ROOT,
            previous_auditor_tree_size=None,
        )


# -- properties --------------------------------------------------------------------------


@pytest.mark.req("SUITE-018", "SUITE-020", "SUITE-021", "SUITE-024", "SUITE-025", "SUITE-026")
@settings(max_examples=30)
@given(
    which=st.sampled_from(list(LOGS)),
    advertised=st.one_of(st.none(), st.integers(min_value=1, max_value=2**40)),
    sizes=st.tuples(st.integers(min_value=1, max_value=2**20), st.integers(0, 2**20)),
    clock=st.tuples(st.integers(-20_000, 10_000), st.integers(0, 60_000)),
    root=st.binary(min_size=32, max_size=32),
)
def test_honest_heads_verify(
    which: tuple[CipherSuite, DeploymentMode],
    advertised: int | None,
    sizes: tuple[int, int],
    clock: tuple[int, int],
    root: bytes,
) -> None:
    log = LOGS[which]
    skew, lag = clock
    growth, auditor_back = sizes
    size = (advertised or 0) + growth
    rightmost = NOW + skew
    tree_head = sign_tree_head(log.config, LOG_SK, size, root)
    ath = None
    if log.config.mode is TPA:
        ath = sign_auditor_tree_head(
            log.config, AUDITOR_SK, rightmost - lag, max(1, size - auditor_back), root
        )
    full = FullTreeHead(
        head_type=FullTreeHeadType.updated, tree_head=tree_head, auditor_tree_head=ath
    )
    encoded = wire.encode(full, suite=which[0], mode=log.config.mode)
    decoded = wire.decode(FullTreeHead, encoded, suite=which[0], mode=log.config.mode)
    verified = verify(
        log,
        decoded,
        advertised_size=advertised,
        rightmost_timestamp=rightmost,
        root=root,
        auditor_root=root,
    )
    assert verified == VerifiedTreeHead(size, updated=True)
