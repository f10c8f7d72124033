"""Cipher suites (KEYTRANS §11.1, §17.1): constants, hash, HMAC, signatures, the VRF wrapping."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv import wire
from ckv.cipher_suites import (
    KC,
    SUITES,
    Suite,
    get_suite,
    parse_suite,
    vrf_input,
)
from ckv.errors import EncodeError, ErrorCode, UsageError, VerificationError
from ckv.wire.messages import CipherSuite, VrfInput

P256 = get_suite(CipherSuite.KT_128_SHA256_P256)
ED25519 = get_suite(CipherSuite.KT_128_SHA256_Ed25519)
BOTH = [P256, ED25519]
IDS = ["P256", "Ed25519"]
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SIGNATURE_REJECTIONS = {"SUITE-002", "SUITE-003", "SUITE-004", "SUITE-005"}

# RFC 6979 Appendix A.2.5: P-256 key, and the SHA-256 signature of "sample".
RFC6979_X = bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
RFC6979_U = bytes.fromhex(
    "04"
    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
)
RFC6979_SAMPLE_SIG = bytes.fromhex(
    "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
    "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
)
# RFC 8032 §7.1, TEST 1 (empty message).
RFC8032_SK = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PK = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIG = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


# -- the registry ---------------------------------------------------------------------


def test_constants_and_parse_suite_unchanged() -> None:
    assert SUITES[CipherSuite.KT_128_SHA256_P256].vrf_np == 81
    assert SUITES[CipherSuite.KT_128_SHA256_Ed25519].vrf_np == 80
    assert parse_suite("p256") is CipherSuite.KT_128_SHA256_P256
    assert parse_suite("2") is CipherSuite.KT_128_SHA256_Ed25519
    assert SUITES[CipherSuite.KT_128_SHA256_P256].as_mapping()["Nc"] == 16


@pytest.mark.req("SUITE-001")
@pytest.mark.parametrize("suite", BOTH, ids=IDS)
def test_suite_objects(suite: Suite) -> None:
    assert get_suite(suite.id) is suite
    assert get_suite(int(suite.id)) is suite
    assert suite.constants is SUITES[suite.id]
    assert (suite.hash_nh, suite.vrf_nh, suite.nc) == (32, 32, 16)
    assert suite.vrf_np == suite.vrf.proof_size
    # KEYTRANS §17.1: Kc is the same 16 bytes for both suites.
    assert suite.kc == KC == bytes.fromhex("d821f8790d97709796b4d7903357c3f5")


@pytest.mark.req("SUITE-001")
@pytest.mark.parametrize("value", [0, 3, 0xF000, 0xFFFF, -1])
def test_unknown_suites_refused(value: int) -> None:
    with pytest.raises(UsageError) as info:
        get_suite(value)
    assert info.value.requirement == "SUITE-001"


@pytest.mark.parametrize("suite", BOTH, ids=IDS)
def test_hash_and_hmac(suite: Suite) -> None:
    # FIPS 180-2 "abc" and RFC 4231 test case 2 (HMAC-SHA-256, key "Jefe").
    assert suite.hash(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert suite.hmac(b"Jefe", b"what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


# -- signatures -------------------------------------------------------------------------


@pytest.mark.req("SUITE-002", "SUITE-003")
def test_ecdsa_p256_rfc6979_vector() -> None:
    assert P256.signature_public_key(RFC6979_X) == RFC6979_U
    # Deterministic signing reproduces RFC 6979's signature exactly.
    assert P256.sign(RFC6979_X, b"sample") == RFC6979_SAMPLE_SIG
    P256.verify(RFC6979_U, b"sample", RFC6979_SAMPLE_SIG)
    with pytest.raises(VerificationError) as info:
        P256.verify(RFC6979_U, b"samplf", RFC6979_SAMPLE_SIG)
    assert info.value.requirement == "SUITE-005"
    assert info.value.code is ErrorCode.SIGNATURE_INVALID


@pytest.mark.req("SUITE-004")
def test_ed25519_rfc8032_vector() -> None:
    assert ED25519.signature_public_key(RFC8032_SK) == RFC8032_PK
    assert ED25519.sign(RFC8032_SK, b"") == RFC8032_SIG
    ED25519.verify(RFC8032_PK, b"", RFC8032_SIG)


@pytest.mark.req("SUITE-002")
def test_p256_public_key_must_be_uncompressed() -> None:
    x = RFC6979_U[1:33]
    y_odd = RFC6979_U[-1] & 1
    compressed = bytes([2 | y_odd]) + x
    for bad in (compressed, RFC6979_U[:-1], RFC6979_U + b"\x00", b"", b"\x00"):
        with pytest.raises(VerificationError) as info:
            P256.verify(bad, b"sample", RFC6979_SAMPLE_SIG)
        assert info.value.requirement == "SUITE-002"
    # A 65-byte string that is not on the curve.
    with pytest.raises(VerificationError) as info:
        P256.verify(RFC6979_U[:-1] + bytes([RFC6979_U[-1] ^ 1]), b"sample", RFC6979_SAMPLE_SIG)
    assert info.value.requirement == "SUITE-002"


@pytest.mark.req("SUITE-003")
def test_p256_signature_format() -> None:
    r, s = RFC6979_SAMPLE_SIG[:32], RFC6979_SAMPLE_SIG[32:]
    n = P256_ORDER.to_bytes(32, "big")
    for bad in (
        RFC6979_SAMPLE_SIG[:-1],
        RFC6979_SAMPLE_SIG + b"\x00",
        bytes(32) + s,
        r + bytes(32),
        n + s,
        r + n,
        b"\xff" * 64,
    ):
        with pytest.raises(VerificationError) as info:
            P256.verify(RFC6979_U, b"sample", bad)
        assert info.value.requirement == "SUITE-003"


@pytest.mark.req("SUITE-004")
def test_ed25519_formats() -> None:
    for key, sig in (
        (RFC8032_PK[:-1], RFC8032_SIG),
        (RFC8032_PK + b"\x00", RFC8032_SIG),
        (RFC8032_PK, RFC8032_SIG[:-1]),
        (RFC8032_PK, RFC8032_SIG + b"\x00"),
    ):
        with pytest.raises(VerificationError) as info:
            ED25519.verify(key, b"", sig)
        assert info.value.requirement == "SUITE-004"
    # S >= L (S + L, non-canonical) is refused by RFC 8032 §5.1.7.
    ell = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(RFC8032_SIG[32:], "little")
    with pytest.raises(VerificationError) as info:
        ED25519.verify(RFC8032_PK, b"", RFC8032_SIG[:32] + (s + ell).to_bytes(32, "little"))
    assert info.value.requirement == "SUITE-005"


def test_private_key_formats() -> None:
    with pytest.raises(UsageError):
        P256.sign(bytes(32), b"")
    with pytest.raises(UsageError):
        P256.sign(b"\x01" * 31, b"")
    with pytest.raises(UsageError):
        ED25519.sign(b"\x01" * 31, b"")


def test_requirement_is_passed_through() -> None:
    with pytest.raises(VerificationError) as info:
        ED25519.verify(RFC8032_PK, b"x", RFC8032_SIG, requirement="SUITE-018")
    assert info.value.requirement == "SUITE-018"


keys = st.binary(min_size=32, max_size=32).filter(
    lambda b: 0 < int.from_bytes(b, "big") < P256_ORDER
)
messages = st.binary(max_size=200)


@pytest.mark.req("SUITE-002", "SUITE-003", "SUITE-004", "SUITE-005")
@settings(max_examples=30)
@given(
    key_pair=st.tuples(keys, keys),
    message=messages,
    bit=st.integers(min_value=0, max_value=4096),
    target=st.sampled_from(["signature", "message", "key", "other-key", "truncate", "extend"]),
    use_p256=st.booleans(),
)
def test_signature_mutations_rejected(
    key_pair: tuple[bytes, bytes], message: bytes, bit: int, target: str, use_p256: bool
) -> None:
    sk, other = key_pair
    suite = P256 if use_p256 else ED25519
    public = suite.signature_public_key(sk)
    signature = suite.sign(sk, message)
    suite.verify(public, message, signature)
    key, msg, sig = public, message, signature
    if target == "signature":
        sig = _flip(signature, bit)
    elif target == "message":
        msg = _flip(message, bit) if message else b"\x00"
    elif target == "key":
        key = _flip(public, bit if not use_p256 else 8 + bit % (64 * 8))
    elif target == "other-key":
        if other == sk:
            return
        key = suite.signature_public_key(other)
    elif target == "truncate":
        sig = signature[: bit % len(signature)]
    else:
        sig = signature + bytes([bit % 256])
    with pytest.raises(VerificationError) as info:
        suite.verify(key, msg, sig)
    assert info.value.requirement in SIGNATURE_REJECTIONS
    assert info.value.code is ErrorCode.SIGNATURE_INVALID


# -- the VRF as KEYTRANS uses it ----------------------------------------------------------


@pytest.mark.req("SUITE-006")
def test_vrf_input_is_the_wire_encoding() -> None:
    assert vrf_input(b"alice@example.com", 0).hex() == (
        "11616c696365406578616d706c652e636f6d00000000"
    )
    assert vrf_input(b"", 2**32 - 1) == b"\x00\xff\xff\xff\xff"
    assert vrf_input(b"ab", 7) == wire.encode(VrfInput(label=b"ab", version=7))
    with pytest.raises(EncodeError):
        vrf_input(b"x" * 256, 0)
    with pytest.raises(EncodeError):
        vrf_input(b"x", 2**32)


@pytest.mark.req("SUITE-006", "SUITE-007")
@pytest.mark.parametrize("suite", BOTH, ids=IDS)
def test_vrf_wrapping(suite: Suite) -> None:
    secret = hashlib.sha256(b"vrf key").digest()
    result = suite.vrf_prove(secret, b"alice", 3)
    assert len(result.proof) == suite.vrf_np
    assert len(result.output) == suite.vrf_nh == 32
    # The output is beta truncated to VRF.Nh, over alpha = VrfInput's encoding.
    beta = suite.vrf.verify(suite.vrf_public_key(secret), vrf_input(b"alice", 3), result.proof)
    assert result.output == beta[:32]
    assert suite.vrf_verify(suite.vrf_public_key(secret), b"alice", 3, result.proof) == (
        result.output
    )
    assert suite.vrf_output(result.proof) == result.output
    for label, version in ((b"alice", 4), (b"alicf", 3), (b"", 3)):
        with pytest.raises(VerificationError) as info:
            suite.vrf_verify(suite.vrf_public_key(secret), label, version, result.proof)
        assert info.value.requirement == "SUITE-011"


def test_hmac_is_rfc2104() -> None:
    key, data = b"k" * 16, b"d" * 100
    for suite in BOTH:
        assert suite.hmac(key, data) == hmac.new(key, data, hashlib.sha256).digest()
