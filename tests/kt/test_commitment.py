"""Commitments (KEYTRANS §11.6) and the Service Operator's update signatures (§11.5)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.commitment import (
    commit,
    compute_commitment,
    encode_commitment_value,
    sign_update,
    update_tbs,
    verify_commitment,
    verify_update,
)
from ckv.errors import UsageError, VerificationError
from ckv.wire.messages import (
    CipherSuite,
    CommitmentValue,
    Configuration,
    DeploymentMode,
    UpdateSuffix,
    UpdateTBS,
    UpdateValue,
)

ED = CipherSuite.KT_128_SHA256_Ed25519
P256 = CipherSuite.KT_128_SHA256_P256
KC = bytes.fromhex("d821f8790d97709796b4d7903357c3f5")
CM = DeploymentMode.contactMonitoring
TPM = DeploymentMode.thirdPartyManagement


def _plain(value: bytes) -> UpdateValue:
    return UpdateValue(value=value, suffix=UpdateSuffix())


# commitment.json "simple": label alice@example.com, version 0, value "key-material-1".
SIMPLE = CommitmentValue(
    opening=bytes(range(16, 32)),
    label=b"alice@example.com",
    version=0,
    update=_plain(b"key-material-1"),
)
SIMPLE_COMMITMENT = bytes.fromhex(
    "d59be42d9c42be3f4f3c24870b2dcb1dafa6022f2ac64eee904e4e577257f125"
)


@pytest.mark.req("SUITE-013")
def test_commitment_is_hmac_of_the_encoding() -> None:
    encoded = encode_commitment_value(ED, SIMPLE, mode=CM)
    assert encoded == wire.encode(SIMPLE, mode=CM)
    assert encoded[:16] == SIMPLE.opening
    assert compute_commitment(ED, SIMPLE, mode=CM) == SIMPLE_COMMITMENT
    assert hmac.new(KC, encoded, hashlib.sha256).digest() == SIMPLE_COMMITMENT
    # Both suites share hash, Kc and Nc, so they agree.
    assert compute_commitment(P256, SIMPLE, mode=CM) == SIMPLE_COMMITMENT
    verify_commitment(ED, SIMPLE_COMMITMENT, SIMPLE, mode=CM)


@pytest.mark.req("SUITE-014")
def test_commit_draws_the_opening_from_the_injected_source() -> None:
    calls: list[int] = []

    def source(n: int) -> bytes:
        calls.append(n)
        return SIMPLE.opening

    made = commit(ED, SIMPLE.label, SIMPLE.version, SIMPLE.update, mode=CM, random_bytes=source)
    assert calls == [16]
    assert made.opening == SIMPLE.opening
    assert made.commitment == SIMPLE_COMMITMENT
    given_opening = commit(
        ED, SIMPLE.label, 0, SIMPLE.update, mode=CM, opening=SIMPLE.opening, random_bytes=source
    )
    assert given_opening == made
    assert calls == [16]
    # The default source is the system CSPRNG: two commitments differ.
    a = commit(ED, b"x", 0, _plain(b"v"), mode=CM)
    b = commit(ED, b"x", 0, _plain(b"v"), mode=CM)
    assert a.opening != b.opening
    assert len(a.opening) == 16
    for bad in (b"", bytes(15), bytes(17)):
        with pytest.raises(UsageError):
            commit(ED, b"x", 0, _plain(b"v"), mode=CM, opening=bad)
    with pytest.raises(UsageError):
        commit(ED, b"x", 0, _plain(b"v"), mode=CM, random_bytes=lambda n: bytes(n - 1))


@pytest.mark.req("SUITE-015")
def test_wrong_opening_size_opens_nothing() -> None:
    for bad in (b"", SIMPLE.opening[:-1], SIMPLE.opening + b"\x00"):
        with pytest.raises(VerificationError) as info:
            verify_commitment(ED, SIMPLE_COMMITMENT, replace(SIMPLE, opening=bad), mode=CM)
        assert info.value.requirement == "SUITE-015"


@pytest.mark.req("SUITE-013", "SUITE-015")
def test_the_mode_is_part_of_what_is_committed() -> None:
    managed = replace(
        SIMPLE, update=UpdateValue(value=b"key-material-1", suffix=UpdateSuffix(signature=b""))
    )
    other = compute_commitment(ED, managed, mode=TPM)
    assert other != SIMPLE_COMMITMENT
    with pytest.raises(VerificationError):
        verify_commitment(ED, SIMPLE_COMMITMENT, managed, mode=TPM)


values = st.builds(
    CommitmentValue,
    opening=st.binary(min_size=16, max_size=16),
    label=st.binary(max_size=40),
    version=st.integers(min_value=0, max_value=2**32 - 1),
    update=st.builds(_plain, st.binary(max_size=64)),
)
FIELDS = ["opening", "label", "version", "value", "commitment"]


@pytest.mark.req("SUITE-013", "SUITE-015")
@settings(max_examples=60)
@given(value=values, field=st.sampled_from(FIELDS), bit=st.integers(0, 1023))
def test_any_change_is_rejected(value: CommitmentValue, field: str, bit: int) -> None:
    commitment = compute_commitment(ED, value, mode=CM)
    verify_commitment(ED, commitment, value, mode=CM)

    def flip(data: bytes) -> bytes:
        if not data:
            return b"\x00"
        out = bytearray(data)
        out[bit // 8 % len(out)] ^= 1 << (bit % 8)
        return bytes(out)

    if field == "opening":
        value = replace(value, opening=flip(value.opening))
    elif field == "label":
        value = replace(value, label=flip(value.label))
    elif field == "version":
        value = replace(value, version=value.version ^ (1 << (bit % 32)))
    elif field == "value":
        value = replace(value, update=_plain(flip(value.update.value)))
    else:
        commitment = flip(commitment)
    with pytest.raises(VerificationError) as info:
        verify_commitment(ED, commitment, value, mode=CM)
    assert info.value.requirement == "SUITE-015"


# -- §11.5 -----------------------------------------------------------------------------

LEAF_SK = hashlib.sha256(b"service operator leaf key").digest()
MANAGER_SK = hashlib.sha256(b"manager key").digest()


def _config(suite: CipherSuite, mode: DeploymentMode) -> Configuration:
    s = get_suite(suite)
    return Configuration(
        ciphersuite=suite,
        mode=mode,
        signature_public_key=s.signature_public_key(MANAGER_SK),
        vrf_public_key=s.vrf_public_key(MANAGER_SK),
        leaf_public_key=s.signature_public_key(LEAF_SK) if mode is TPM else None,
        max_auditor_lag=1000 if mode is DeploymentMode.thirdPartyAuditing else None,
        auditor_start_pos=0 if mode is DeploymentMode.thirdPartyAuditing else None,
        auditor_public_key=(
            s.signature_public_key(LEAF_SK) if mode is DeploymentMode.thirdPartyAuditing else None
        ),
        max_ahead=10_000,
        max_behind=10_000,
        reasonable_monitoring_window=604_800_000,
        maximum_lifetime=None,
    )


@pytest.mark.req("SUITE-016")
@pytest.mark.parametrize("suite", [ED, P256], ids=["Ed25519", "P256"])
def test_managed_updates_are_signed_and_verified(suite: CipherSuite) -> None:
    config = _config(suite, TPM)
    update = sign_update(config, LEAF_SK, b"alice", 5, b"key")
    assert update.suffix.signature is not None
    assert update_tbs(config, b"alice", 5, b"key") == wire.encode(
        UpdateTBS(config=config, label=b"alice", version=5, value=b"key"), suite=suite
    )
    assert verify_update(config, b"alice", 5, update) == b"key"
    signature = update.suffix.signature
    cases = [
        (b"alice", 6, update),
        (b"bob", 5, update),
        (b"alice", 5, replace(update, value=b"kez")),
        (
            b"alice",
            5,
            replace(
                update, suffix=UpdateSuffix(signature=bytes([signature[0] ^ 1]) + signature[1:])
            ),
        ),
        # Signed with the Manager's key instead of the Service Operator's leaf key.
        (
            b"alice",
            5,
            sign_update(
                replace(config, leaf_public_key=config.signature_public_key),
                MANAGER_SK,
                b"alice",
                5,
                b"key",
            ),
        ),
        (b"alice", 5, replace(update, suffix=UpdateSuffix())),
    ]
    for label, version, bad in cases:
        with pytest.raises(VerificationError) as info:
            verify_update(config, label, version, bad)
        assert info.value.requirement in {"SUITE-016", "SUITE-003", "SUITE-004"}
    # A different configuration (here: another max_ahead) is a different UpdateTBS.
    with pytest.raises(VerificationError):
        verify_update(replace(config, max_ahead=1), b"alice", 5, update)


@pytest.mark.req("SUITE-016")
def test_unmanaged_updates_carry_no_signature() -> None:
    for mode in (CM, DeploymentMode.thirdPartyAuditing):
        config = _config(ED, mode)
        update = sign_update(config, LEAF_SK, b"alice", 0, b"v")
        assert update == _plain(b"v")
        assert verify_update(config, b"alice", 0, update) == b"v"
        with pytest.raises(UsageError):
            verify_update(
                config, b"alice", 0, UpdateValue(value=b"v", suffix=UpdateSuffix(signature=b"sig"))
            )
