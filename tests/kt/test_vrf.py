"""ECVRF (RFC 9381) for both KEYTRANS suites: the RFC's examples, validation rules, mutations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckv.errors import UsageError, VerificationError
from ckv.vrf import ECVRF_EDWARDS25519_SHA512_TAI, ECVRF_P256_SHA256_TAI, Ecvrf
from ckv.vrf.edwards25519 import IDENTITY, Edwards25519Group, L
from ckv.vrf.edwards25519 import SMALL_ORDER as ED25519_SMALL_ORDER
from ckv.vrf.p256 import P as P256_FIELD
from ckv.vrf.p256 import P256Group
from ckv.vrf.p256 import Q as P256_ORDER

ED = ECVRF_EDWARDS25519_SHA512_TAI
P256 = ECVRF_P256_SHA256_TAI
VRF_REJECTIONS = {"SUITE-008", "SUITE-009", "SUITE-010", "SUITE-011"}

# RFC 9381 Appendix B.1, ECVRF-P256-SHA256-TAI, Examples 10, 11 and 12:
# (SK, PK, alpha, pi, beta).
RFC9381_P256_TAI = [
    (
        "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
        "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
        "73616d706c65",
        (
            "035b5c726e8c0e2c488a107c600578ee75cb702343c153cb1eb8dec77f4b5071b4"
            "a53f0a46f018bc2c56e58d383f2305e0975972c26feea0eb122fe7893c15af376"
            "b33edf7de17c6ea056d4d82de6bc02f"
        ),
        "a3ad7b0ef73d8fc6655053ea22f9bede8c743f08bbed3d38821f0e16474b505e",
    ),
    (
        "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
        "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
        "74657374",
        (
            "034dac60aba508ba0c01aa9be80377ebd7562c4a52d74722e0abae7dc3080ddb56"
            "c19e067b15a8a8174905b13617804534214f935b94c2287f797e393eb0816969d"
            "864f37625b443f30f1a5a33f2b3c854"
        ),
        "a284f94ceec2ff4b3794629da7cbafa49121972671b466cab4ce170aa365f26d",
    ),
    (
        "2ca1411a41b17b24cc8c3b089cfd033f1920202a6c0de8abb97df1498d50d2c8",
        "03596375e6ce57e0f20294fc46bdfcfd19a39f8161b58695b3ec5b3d16427c274d",
        (
            "4578616d706c65207573696e67204543445341206b65792066726f6d20417070656e"
            "646978204c2e342e32206f6620414e53492e58392d36322d32303035"
        ),
        (
            "03d03398bf53aa23831d7d1b2937e005fb0062cbefa06796579f2a1fc7e7b8c667"
            "d091c00b0f5c3619d10ecea44363b5a599cadc5b2957e223fec62e81f7b4825f"
            "c799a771a3d7334b9186bdbee87316b1"
        ),
        "90871e06da5caa39a3c61578ebb844de8635e27ac0b13e829997d0d95dd98c19",
    ),
]

# RFC 9381 Appendix B.3, ECVRF-EDWARDS25519-SHA512-TAI, Examples 16, 17 and 18:
# (SK, PK, alpha, pi, beta).
RFC9381_ED25519_TAI = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        (
            "8657106690b5526245a92b003bb079ccd1a92130477671f6fc01ad16f26f723f"
            "26f8a57ccaed74ee1b190bed1f479d9727d2d0f9b005a6e456a35d4fb0daab12"
            "68a1b0db10836d9826a528ca76567805"
        ),
        (
            "90cf1df3b703cce59e2a35b925d411164068269d7b2d29f3301c03dd757876ff"
            "66b71dda49d2de59d03450451af026798e8f81cd2e333de5cdf4f3e140fdd8ae"
        ),
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        (
            "f3141cd382dc42909d19ec5110469e4feae18300e94f304590abdced48aed593"
            "3bf0864a62558b3ed7f2fea45c92a465301b3bbf5e3e54ddf2d935be3b67926d"
            "a3ef39226bbc355bdc9850112c8f4b02"
        ),
        (
            "eb4440665d3891d668e7e0fcaf587f1b4bd7fbfe99d0eb2211ccec90496310eb"
            "5e33821bc613efb94db5e5b54c70a848a0bef4553a41befc57663b56373a5031"
        ),
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        (
            "9bc0f79119cc5604bf02d23b4caede71393cedfbb191434dd016d30177ccbf80"
            "96bb474e53895c362d8628ee9f9ea3c0e52c7a5c691b6c18c9979866568add7a"
            "2d41b00b05081ed0f58ee5e31b3a970e"
        ),
        (
            "645427e5d00c62a23fb703732fa5d892940935942101e456ecca7bb217c61c45"
            "2118fec1219202a0edcf038bb6373241578be7217ba85a2687f7a0310b2df19f"
        ),
    ),
]


@dataclass(frozen=True)
class Example:
    """One RFC 9381 Appendix B example, decoded."""

    vrf: Ecvrf[Any]
    sk: bytes
    pk: bytes
    alpha: bytes
    pi: bytes
    beta: bytes


def _examples(vrf: Ecvrf[Any], rows: list[tuple[str, str, str, str, str]]) -> list[Example]:
    return [Example(vrf, *(bytes.fromhex(f) for f in row)) for row in rows]


EXAMPLES = _examples(P256, RFC9381_P256_TAI) + _examples(ED, RFC9381_ED25519_TAI)
EXAMPLE_IDS = [f"B.1-example-{n}" for n in (10, 11, 12)] + [
    f"B.3-example-{n}" for n in (16, 17, 18)
]
P256_EXAMPLE = EXAMPLES[0]
ED_EXAMPLE = EXAMPLES[3]


# -- an independent edwards25519 oracle (affine formulas, RFC 8032 §5.1), tests only --------

FP = 2**255 - 19
D = -121665 * pow(121666, -1, FP) % FP
SQRT_M1 = pow(2, (FP - 1) // 4, FP)
Point = tuple[int, int]
ORIGIN: Point = (0, 1)


def ref_add(a: Point, b: Point) -> Point:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % FP
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, -1, FP) % FP
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, FP) % FP
    return (x3, y3)


def ref_mul(n: int, a: Point) -> Point:
    acc, base = ORIGIN, a
    while n:
        if n & 1:
            acc = ref_add(acc, base)
        base = ref_add(base, base)
        n >>= 1
    return acc


def ref_decode(s: bytes) -> Point | None:
    y = int.from_bytes(s, "little") & ((1 << 255) - 1)
    sign = s[31] >> 7
    if y >= FP:
        return None
    u, v = (y * y - 1) % FP, (D * y * y + 1) % FP
    x = u * pow(v, 3, FP) * pow(u * pow(v, 7, FP), (FP - 5) // 8, FP) % FP
    if v * x * x % FP == (-u) % FP:
        x = x * SQRT_M1 % FP
    elif v * x * x % FP != u:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = FP - x
    return (x, y)


def ref_encode(a: Point) -> bytes:
    x, y = a
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _small_order_points() -> list[bytes]:
    """The eight points of order dividing 8, found by multiplying curve points by L."""
    for i in range(1, 100):
        r = ref_decode(hashlib.sha512(bytes([i])).digest()[:32])
        if r is None:
            continue
        t = ref_mul(L, r)
        if ref_mul(4, t) != ORIGIN:  # t has order exactly 8
            return [ref_encode(ref_mul(k, t)) for k in range(8)]
    raise AssertionError


SMALL_ORDER = _small_order_points()


def _alter(data: bytes, index: int, xor: int) -> bytes:
    out = bytearray(data)
    out[index] ^= xor
    return bytes(out)


# -- RFC 9381 Appendix B ---------------------------------------------------------------


@pytest.mark.req("SUITE-007", "SUITE-012")
@pytest.mark.parametrize("ex", EXAMPLES, ids=EXAMPLE_IDS)
def test_rfc9381_examples(ex: Example) -> None:
    assert ex.vrf.public_key(ex.sk) == ex.pk
    proof, output = ex.vrf.prove_and_hash(ex.sk, ex.alpha)
    assert proof == ex.pi
    assert output == ex.beta
    assert ex.vrf.prove(ex.sk, ex.alpha) == ex.pi
    assert ex.vrf.proof_to_hash(ex.pi) == ex.beta
    assert ex.vrf.verify(ex.pk, ex.alpha, ex.pi) == ex.beta


@pytest.mark.req("SUITE-008", "SUITE-010", "SUITE-011")
@pytest.mark.parametrize("ex", EXAMPLES, ids=EXAMPLE_IDS)
def test_rfc9381_examples_reject_every_single_bit_flip(ex: Example) -> None:
    for bit in range(len(ex.pi) * 8):
        with pytest.raises(VerificationError) as info:
            ex.vrf.verify(ex.pk, ex.alpha, _alter(ex.pi, bit // 8, 1 << (bit % 8)))
        assert info.value.requirement in VRF_REJECTIONS
    for bit in range(len(ex.pk) * 8):
        with pytest.raises(VerificationError) as info:
            ex.vrf.verify(_alter(ex.pk, bit // 8, 1 << (bit % 8)), ex.alpha, ex.pi)
        assert info.value.requirement in VRF_REJECTIONS
    with pytest.raises(VerificationError, match="does not verify"):
        ex.vrf.verify(ex.pk, ex.alpha + b"\x00", ex.pi)


def test_sizes() -> None:
    # KEYTRANS §17.1: VRF.Np is 81 for P-256 and 80 for edwards25519.
    assert P256.proof_size == 81
    assert ED.proof_size == 80
    assert P256.output_size == 32
    assert ED.output_size == 64
    assert P256.public_key_size == 33
    assert ED.public_key_size == 32
    assert P256.name == "ECVRF-P256-SHA256-TAI"
    assert ED.name == "ECVRF-EDWARDS25519-SHA512-TAI"


def test_p256_nonce_is_rfc6979() -> None:
    # RFC 6979 Appendix A.2.5 (P-256, SHA-256, message "sample"): the nonce k.
    x = int.from_bytes(P256_EXAMPLE.sk, "big")
    k = P256Group().nonce(b"", x, b"sample")
    assert k == 0xA6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60


# -- malformed inputs --------------------------------------------------------------------


@pytest.mark.req("SUITE-010")
@pytest.mark.parametrize("ex", [P256_EXAMPLE, ED_EXAMPLE], ids=["P256", "Ed25519"])
def test_wrong_proof_lengths_rejected(ex: Example) -> None:
    for bad in (b"", ex.pi[:-1], ex.pi + b"\x00", ex.pi * 2):
        with pytest.raises(VerificationError) as info:
            ex.vrf.verify(ex.pk, ex.alpha, bad)
        assert info.value.requirement == "SUITE-010"
        with pytest.raises(VerificationError):
            ex.vrf.proof_to_hash(bad)


@pytest.mark.req("SUITE-010")
def test_unreduced_s_rejected() -> None:
    # RFC 9381 §5.4.4: s must be below q, even where s - q would verify.
    ex = ED_EXAMPLE
    s = int.from_bytes(ex.pi[48:], "little")
    bad = ex.pi[:48] + (s + L).to_bytes(32, "little")
    with pytest.raises(VerificationError, match="s is not below") as info:
        ED.verify(ex.pk, ex.alpha, bad)
    assert info.value.requirement == "SUITE-010"
    ex = P256_EXAMPLE
    for s_bad in (P256_ORDER, 2**256 - 1):
        bad = ex.pi[:49] + s_bad.to_bytes(32, "big")
        with pytest.raises(VerificationError) as info:
            P256.verify(ex.pk, ex.alpha, bad)
        assert info.value.requirement == "SUITE-010"


@pytest.mark.req("SUITE-008", "SUITE-010")
def test_edwards_non_canonical_encodings_rejected() -> None:
    group = Edwards25519Group()
    # y >= p: the non-canonical encodings of y = 0 .. 18 (and y = p itself).
    for y in range(19):
        for sign in (0, 1):
            encoding = (y + FP | sign << 255).to_bytes(32, "little")
            assert group.string_to_point(encoding) is None
    # x = 0 with the sign bit set (RFC 8032 §5.1.3 step 4): y = 1 and y = p - 1.
    for y in (1, FP - 1):
        assert group.string_to_point((y | 1 << 255).to_bytes(32, "little")) is None
        assert group.string_to_point(y.to_bytes(32, "little")) is not None
    # A proof whose Gamma is written non-canonically is rejected, not reinterpreted.
    ex = ED_EXAMPLE
    identity_nc = (1 + FP).to_bytes(32, "little")
    with pytest.raises(VerificationError) as info:
        ED.verify(ex.pk, ex.alpha, identity_nc + ex.pi[32:])
    assert info.value.requirement == "SUITE-010"
    with pytest.raises(VerificationError) as info:
        ED.verify(identity_nc, ex.alpha, ex.pi)
    assert info.value.requirement == "SUITE-008"


@pytest.mark.req("SUITE-008")
def test_edwards_decoding_matches_the_oracle() -> None:
    group = Edwards25519Group()
    for i in range(200):
        candidate = hashlib.sha256(i.to_bytes(2, "big")).digest()
        ours = group.string_to_point(candidate)
        ref = ref_decode(candidate)
        assert (ours is None) == (ref is None)
        if ref is not None:
            assert ours == ref_encode(ref) == candidate


@pytest.mark.req("SUITE-009")
def test_small_order_public_keys_rejected() -> None:
    # ECVRF_validate_key (RFC 9381 §5.4.5): every point of order dividing 8.
    assert len(set(SMALL_ORDER)) == 8
    assert IDENTITY in SMALL_ORDER
    assert set(SMALL_ORDER) == ED25519_SMALL_ORDER
    group = Edwards25519Group()
    for point in SMALL_ORDER:
        assert group.clear_cofactor(point) == IDENTITY
    for key in SMALL_ORDER:
        with pytest.raises(VerificationError, match="small order") as info:
            ED.verify(key, ED_EXAMPLE.alpha, ED_EXAMPLE.pi)
        assert info.value.requirement == "SUITE-009"


@pytest.mark.req("SUITE-008")
def test_p256_point_decoding() -> None:
    group = P256Group()
    ex = P256_EXAMPLE
    public = ex.pk
    assert group.string_to_point(public) is not None
    # x >= p: x = 0 is on the curve, so x = p would be too if it were read mod p.
    assert group.string_to_point(b"\x02" + bytes(32)) is not None
    assert group.string_to_point(b"\x02" + P256_FIELD.to_bytes(32, "big")) is None
    # Other prefixes, the identity, uncompressed points and wrong lengths.
    for bad in (
        b"\x04" + public[1:],
        b"\x00" + public[1:],
        b"\x00",
        public[:-1],
        public + b"\x00",
        b"\x05" + public[1:],
    ):
        assert group.string_to_point(bad) is None
        with pytest.raises(VerificationError) as info:
            P256.verify(bad, ex.alpha, ex.pi)
        assert info.value.requirement == "SUITE-008"
    # An x with no point on the curve.
    off = next(
        x for x in range(1, 100) if group.string_to_point(b"\x02" + x.to_bytes(32, "big")) is None
    )
    with pytest.raises(VerificationError) as info:
        P256.verify(b"\x03" + off.to_bytes(32, "big"), ex.alpha, ex.pi)
    assert info.value.requirement == "SUITE-008"
    # The identity encodes as 00 (SEC1 §2.3.3).
    assert group.point_to_string(group.base_mul(0)) == b"\x00"


def test_secret_key_formats() -> None:
    with pytest.raises(UsageError):
        ED.prove(bytes(31), b"")
    with pytest.raises(UsageError):
        P256.prove(bytes(32), b"")
    with pytest.raises(UsageError):
        P256.prove(P256_ORDER.to_bytes(32, "big"), b"")
    with pytest.raises(UsageError):
        P256.prove(b"\x01" * 33, b"")


# -- the arithmetic outside the prime-order subgroup -------------------------------------


@pytest.mark.req("SUITE-011")
def test_edwards_mul_of_torsioned_points_matches_the_oracle() -> None:
    group = Edwards25519Group()
    base = ref_decode(ED_EXAMPLE.pk)
    assert base is not None
    for k, torsion in enumerate(SMALL_ORDER):
        t = ref_decode(torsion)
        assert t is not None
        point = ref_add(base, t)
        encoded = ref_encode(point)
        for n in (0, 1, 2, 7, 8, 9, L - 1, 2**128 - 1 - k, 3 * 2**200 + k):
            assert group.mul(n, encoded) == ref_encode(ref_mul(n, point)), (k, n)
        assert group.mul(5, torsion) == ref_encode(ref_mul(5, t))


def _challenge(*strings: bytes) -> bytes:
    return hashlib.sha512(b"\x03\x02" + b"".join(strings) + b"\x00").digest()[:16]


def _torsioned_proof(
    secret: bytes,
    alpha: bytes,
    *,
    key_torsion: bytes,
    gamma_torsion: bytes,
    parity: int = 0,
) -> tuple[bytes, bytes]:
    """A proof built as an honest prover would, but with torsion added to the key or Gamma.

    With torsion point T of order 2, c*T vanishes whenever c is even, so the
    verifier's U and V equal the prover's k*B and k*H and RFC 9381 §5.3 accepts.
    When c is odd they differ by T and the RFC rejects. Nonces are tried until c
    has the requested ``parity``.
    """
    group = Edwards25519Group()
    x = group.secret_scalar(secret)
    public = group.sub(group.base_mul(x), group.sub(IDENTITY, key_torsion))
    h = ED.encode_to_curve(public, alpha)
    gamma = group.sub(group.mul(x, h), group.sub(IDENTITY, gamma_torsion))
    for k in range(1, 200):
        c = _challenge(public, h, gamma, group.base_mul(k), group.mul(k, h))
        c_int = int.from_bytes(c, "little")
        if c_int % 2 == parity:
            s = (k + c_int * x) % L
            return public, gamma + c + s.to_bytes(32, "little")
    raise AssertionError


@pytest.mark.req("SUITE-009", "SUITE-011")
def test_torsion_components_are_accepted_as_the_rfc_accepts_them() -> None:
    order_two = ref_encode((0, FP - 1))
    secret, alpha = EXAMPLES[4].sk, b"torsion"
    honest_pk = ED.public_key(secret)
    honest_beta = ED.verify(honest_pk, alpha, ED.prove(secret, alpha))
    # Gamma + T2: valid, and proof_to_hash clears the cofactor, so the output is unchanged.
    public, proof = _torsioned_proof(secret, alpha, key_torsion=IDENTITY, gamma_torsion=order_two)
    assert public == honest_pk
    assert proof[:32] != ED.prove(secret, alpha)[:32]
    assert ED.verify(public, alpha, proof) == honest_beta
    # Y + T2: not of small order, so ECVRF_validate_key lets it through.
    public, proof = _torsioned_proof(secret, alpha, key_torsion=order_two, gamma_torsion=IDENTITY)
    assert public != honest_pk
    assert len(ED.verify(public, alpha, proof)) == 64
    # With c odd, c*T2 does not vanish: the RFC rejects, and so must we (a verifier that
    # ignored the torsion component would accept these).
    for key_t, gamma_t in ((IDENTITY, order_two), (order_two, IDENTITY)):
        public, proof = _torsioned_proof(
            secret, alpha, key_torsion=key_t, gamma_torsion=gamma_t, parity=1
        )
        with pytest.raises(VerificationError) as info:
            ED.verify(public, alpha, proof)
        assert info.value.requirement == "SUITE-011"
    # The same proof with the torsion removed from Gamma no longer verifies.
    public, proof = _torsioned_proof(secret, alpha, key_torsion=IDENTITY, gamma_torsion=order_two)
    group = Edwards25519Group()
    clean = group.sub(proof[:32], order_two)
    with pytest.raises(VerificationError):
        ED.verify(public, alpha, clean + proof[32:])


# -- properties --------------------------------------------------------------------------

ed_keys = st.binary(min_size=32, max_size=32)
p256_keys = st.integers(min_value=1, max_value=P256_ORDER - 1).map(lambda n: n.to_bytes(32, "big"))
alphas = st.binary(max_size=48)


@pytest.mark.req("SUITE-007", "SUITE-011")
@settings(max_examples=15)
@given(ed_sk=ed_keys, p_sk=p256_keys, alpha=alphas)
def test_prove_then_verify(ed_sk: bytes, p_sk: bytes, alpha: bytes) -> None:
    for vrf, sk in ((ED, ed_sk), (P256, p_sk)):
        proof, beta = vrf.prove_and_hash(sk, alpha)
        assert len(proof) == vrf.proof_size
        assert vrf.verify(vrf.public_key(sk), alpha, proof) == beta
        assert vrf.proof_to_hash(proof) == beta


MUTATIONS = ["flip", "truncate", "extend", "alpha", "other-key", "swap-c-s"]


@pytest.mark.req("SUITE-008", "SUITE-009", "SUITE-010", "SUITE-011")
@settings(max_examples=25)
@given(
    keys=st.tuples(ed_keys, ed_keys),
    alpha=alphas,
    mutation=st.sampled_from(MUTATIONS),
    position=st.integers(min_value=0, max_value=10_000),
    use_p256=st.booleans(),
)
def test_mutated_proofs_rejected(
    keys: tuple[bytes, bytes], alpha: bytes, mutation: str, position: int, use_p256: bool
) -> None:
    sk, other = keys
    vrf: Ecvrf[Any] = P256 if use_p256 else ED
    if use_p256:
        sk = (int.from_bytes(sk, "big") % (P256_ORDER - 1) + 1).to_bytes(32, "big")
        other = (int.from_bytes(other, "big") % (P256_ORDER - 1) + 1).to_bytes(32, "big")
    public = vrf.public_key(sk)
    proof = vrf.prove(sk, alpha)
    key, message, bad = public, alpha, proof
    if mutation == "flip":
        bad = _alter(proof, position % len(proof), 1 << (position % 8))
    elif mutation == "truncate":
        bad = proof[: position % len(proof)]
    elif mutation == "extend":
        bad = proof + bytes([position % 256]) * (1 + position % 3)
    elif mutation == "alpha":
        message = alpha + b"\x00" if position % 2 else _alter(alpha + b"x", 0, 1)
    elif mutation == "other-key":
        if other == sk:
            return
        key = vrf.public_key(other)
    else:
        pt = vrf.public_key_size
        bad = proof[:pt] + proof[pt + 16 :][:16] + proof[pt : pt + 16] + proof[pt + 32 :]
    with pytest.raises(VerificationError) as info:
        vrf.verify(key, message, bad)
    assert info.value.requirement in VRF_REJECTIONS
