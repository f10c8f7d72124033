"""Public verification codes (spec/ckv/public-code.md): derivation, text form, checks, CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
from typing import Any

import pytest
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from ckv import public_code as pc
from ckv.cli.code import main as code_main
from ckv.errors import UsageError
from ckv.public_code import (
    ALPHABET,
    CODE_SYMBOLS,
    CONTEXT,
    AccountKey,
    CardState,
    PublicCode,
    PublicCodeError,
    check_card,
    code_input,
    matches,
    parse,
)
from ckv.wire.messages import CipherSuite

ED = CipherSuite.KT_128_SHA256_Ed25519
P256 = CipherSuite.KT_128_SHA256_P256
# RFC 8032 section 7.1, test 1: an Ed25519 public key.
RFC8032_PK = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
ALICE = AccountKey(key=RFC8032_PK, key_type=1, account_id=b"alice@example.com", suite=ED)

# Known answers, computed with this implementation and pinned; the test below
# recomputes them with independent code (hashlib/hmac PBKDF2 loop, RFC 4648
# base32, brute-force check characters).
KATS: list[tuple[AccountKey, str]] = [
    (ALICE, "T7FP-5RT2-5SX3-JXR2-WJZC-9RPC"),
    (AccountKey(RFC8032_PK, 1, b"alice@example.com", P256), "83V2-NN46-1JQ9-DGBP-4GW3-X7QV"),
    (AccountKey(RFC8032_PK, 2, b"alice@example.com", ED), "BQ26-HHAF-QB8X-CWA2-9XAJ-JQTZ"),
    (AccountKey(RFC8032_PK, 1, b"bob@example.com", ED), "XFT8-03PM-V9R4-HRKC-ZH0P-YS17"),
    (AccountKey(b"\x00", 1, b"\x00", ED), "90CV-YAMQ-TP4V-F6NG-C4JC-N5EY"),
]
ALICE_INPUT = (
    "1f" + CONTEXT.hex() + "0002" + "0001" + "0011" + b"alice@example.com".hex() + "0020"
) + RFC8032_PK.hex()


# -- independent reimplementation -----------------------------------------------


def _pbkdf2_sha256_one_block(password: bytes, salt: bytes, iterations: int, length: int) -> bytes:
    u = hmac.digest(password, salt + (1).to_bytes(4, "big"), "sha256")
    t = int.from_bytes(u, "big")
    for _ in range(iterations - 1):
        u = hmac.digest(password, u, "sha256")
        t ^= int.from_bytes(u, "big")
    return t.to_bytes(32, "big")[:length]


def _gf_mul(a: int, b: int) -> int:
    # Carry-less product reduced modulo x^5 + x^2 + 1, bit by bit.
    r = 0
    for i in range(5):
        if b >> i & 1:
            r ^= a << i
    for i in range(9, 4, -1):
        if r >> i & 1:
            r ^= 0b100101 << (i - 5)
    return r


def _gf_pow_x(n: int) -> int:
    r = 1
    for _ in range(n):
        r = _gf_mul(r, 2)
    return r


def _is_codeword(values: list[int]) -> bool:
    s0 = s1 = 0
    for i, v in enumerate(values):
        s0 ^= v
        s1 ^= _gf_mul(_gf_pow_x(i), v)
    return s0 == 0 and s1 == 0


def _independent_code(account: AccountKey) -> str:
    material = (
        bytes([len(CONTEXT)])
        + CONTEXT
        + int(account.suite).to_bytes(2, "big")
        + account.key_type.to_bytes(2, "big")
        + len(account.account_id).to_bytes(2, "big")
        + account.account_id
        + len(account.key).to_bytes(2, "big")
        + account.key
    )
    dk = _pbkdf2_sha256_one_block(material, CONTEXT, 2**17, 14)
    assert dk == hashlib.pbkdf2_hmac("sha256", material, CONTEXT, 2**17, 14)
    rfc = base64.b32encode(dk).decode()[:22]
    data = ["ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".index(c) for c in rfc]
    checks = [(a, b) for a in range(32) for b in range(32) if _is_codeword([*data, a, b])]
    assert len(checks) == 1
    text = "".join(ALPHABET[v] for v in (*data, *checks[0]))
    return "-".join(text[i : i + 4] for i in range(0, 24, 4))


@pytest.mark.req("PVC-002", "PVC-003")
def test_input_encoding_is_as_specified() -> None:
    assert code_input(ALICE).hex() == ALICE_INPUT


@pytest.mark.req("PVC-004", "PVC-005", "PVC-006", "PVC-007", "PVC-008")
@pytest.mark.parametrize(("account", "expected"), KATS[:2])
def test_known_answers_match_an_independent_implementation(
    account: AccountKey, expected: str
) -> None:
    assert _independent_code(account) == expected


@pytest.mark.req("PVC-002", "PVC-004", "PVC-008")
@pytest.mark.parametrize(("account", "expected"), KATS)
def test_known_answers(account: AccountKey, expected: str) -> None:
    code = PublicCode.for_key(account)
    assert str(code) == expected
    assert parse(expected) == code
    assert matches(code, account)


@pytest.mark.req("PVC-002")
def test_every_bound_field_changes_the_code() -> None:
    codes = {str(PublicCode.for_key(a)) for a, _ in KATS}
    assert len(codes) == len(KATS)


@pytest.mark.req("PVC-003", "PVC-015")
@pytest.mark.parametrize(
    "account",
    [
        AccountKey(RFC8032_PK, 0, b"a", ED),
        AccountKey(RFC8032_PK, 0x10000, b"a", ED),
        AccountKey(RFC8032_PK, 1, b"", ED),
        AccountKey(b"", 1, b"a", ED),
        AccountKey(b"k" * 0x10000, 1, b"a", ED),
    ],
)
def test_out_of_range_inputs_are_refused(account: AccountKey) -> None:
    with pytest.raises(UsageError) as info:
        code_input(account)
    assert info.value.requirement == "PVC-015"


# -- work factor ---------------------------------------------------------------------


@pytest.mark.req("PVC-001", "PVC-005")
def test_work_factor_is_what_the_spec_states(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def spy(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return PBKDF2HMAC(**kwargs)

    monkeypatch.setattr("ckv.public_code.PBKDF2HMAC", spy)
    PublicCode.for_key(ALICE)
    assert seen["iterations"] == 131072
    assert seen["algorithm"].name == "sha256"
    assert seen["length"] == 14
    assert seen["salt"] == CONTEXT
    # 22 characters of 5 bits; each PBKDF2 iteration is >= 2 SHA-256 compressions.
    assert pc.DATA_BITS == 110
    assert pc.DATA_BITS + math.log2(2 * seen["iterations"]) == pc.SECURITY_BITS == 128


# -- text form -------------------------------------------------------------------------


def _random_codes(n: int, seed: int = 7) -> list[PublicCode]:
    rng = random.Random(seed)
    return [PublicCode.from_data([rng.randrange(32) for _ in range(22)]) for _ in range(n)]


@pytest.mark.req("PVC-007")
def test_check_characters_satisfy_both_equations() -> None:
    for code in _random_codes(50):
        assert _is_codeword(list(code.values))


@pytest.mark.req("PVC-008", "PVC-009")
@given(data=st.lists(st.integers(0, 31), min_size=22, max_size=22), seed=st.integers(0, 2**32))
def test_round_trip_ignores_case_separators_and_confusables(data: list[int], seed: int) -> None:
    code = PublicCode.from_data(data)
    text = str(code)
    assert len(text) == 29
    assert text.count("-") == 5
    assert parse(text) == code
    rng = random.Random(seed)
    confusable = {"0": "Oo", "1": "IiLl"}
    out = []
    for ch in text.replace("-", ""):
        if rng.random() < 0.3:
            out.append(rng.choice([" ", "-", "\t", "\n", "  ", " - "]))
        out.append(rng.choice(confusable.get(ch, ch.lower() + ch)))
    assert parse(rng.choice(["", " "]) + "".join(out) + rng.choice(["", "\n"])) == code


@pytest.mark.req("PVC-011")
def test_every_single_substitution_is_caught() -> None:
    caught = 0
    for code in _random_codes(12):
        for i in range(CODE_SYMBOLS):
            for v in range(32):
                if v == code.values[i]:
                    continue
                text = "".join(ALPHABET[x] for x in (*code.values[:i], v, *code.values[i + 1 :]))
                with pytest.raises(PublicCodeError) as info:
                    parse(text)
                assert info.value.requirement == "PVC-011"
                assert f"character {i + 1} (position {i + 1}) may be wrong" in str(info.value)
                caught += 1
    assert caught == 12 * 24 * 31


@pytest.mark.req("PVC-011")
def test_every_adjacent_transposition_is_caught() -> None:
    caught = 0
    for code in _random_codes(200, seed=11):
        text = str(code).replace("-", "")
        for i in range(CODE_SYMBOLS - 1):
            if text[i] == text[i + 1]:
                continue
            swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
            with pytest.raises(PublicCodeError) as info:
                parse(swapped)
            assert info.value.requirement == "PVC-011"
            assert f"characters {i + 1} and {i + 2}" in str(info.value)
            caught += 1
    assert caught > 4000


@pytest.mark.req("PVC-011")
def test_any_two_substitutions_are_caught() -> None:
    # Distance 3: any two changed characters, not only neighbours.
    rng = random.Random(3)
    for code in _random_codes(40, seed=5):
        for _ in range(50):
            i, j = rng.sample(range(CODE_SYMBOLS), 2)
            v = list(code.values)
            v[i] ^= rng.randrange(1, 32)
            v[j] ^= rng.randrange(1, 32)
            with pytest.raises(PublicCodeError):
                parse("".join(ALPHABET[x] for x in v))


@pytest.mark.req("PVC-010", "PVC-011", "PVC-016")
@pytest.mark.parametrize(
    ("text", "requirement", "fragments", "position"),
    [
        ("", "PVC-010", ["empty"], None),
        (" - ", "PVC-010", ["empty"], None),
        ("T7FP-5RT2-5SX3-JXR2-WJZC-9RP", "PVC-010", ["23 characters", "expected 24"], None),
        (
            "T7FP-5RT2-5SX3-JXR2-WJZC-9RPCX",
            "PVC-010",
            ["25 characters", "start at position 30"],
            30,
        ),
        ("T7FP-5RU2-5SX3-JXR2-WJZC-9RPC", "PVC-016", ["'U' at position 8", "code character 7"], 8),
        ("T7FP_5RT2-5SX3-JXR2-WJZC-9RPC", "PVC-016", ["'_' at position 5"], 5),
        ("T7FP-5RT2-5SX3-JXR2-WJZC-9RPÇ", "PVC-016", ["'Ç' at position 29"], 29),
        (
            "T7FP-5RT2-5SX3-JXR2-WJZC-9RCP",
            "PVC-011",
            ["check characters", "characters 23 and 24 (positions 28 and 29) may be swapped"],
            None,
        ),
        (
            "T7FP-5RT2-5SX3-JXR2-WJZC-9RPD",
            "PVC-011",
            ["character 24 (position 29) may be wrong"],
            None,
        ),
    ],
)
def test_malformed_codes_say_what_and_where(
    text: str, requirement: str, fragments: list[str], position: int | None
) -> None:
    with pytest.raises(PublicCodeError) as info:
        parse(text)
    assert info.value.requirement == requirement
    assert info.value.position == position
    for fragment in fragments:
        assert fragment in str(info.value)
    assert "\n" not in info.value.diagnostics()


# The grammar itself drives Hypothesis: whatever it generates is either a code or a
# PublicCodeError naming a requirement, never any other exception.
_GRAMMAR_TEXTS = from_lark(pc._parser())


@pytest.mark.req("PVC-009", "PVC-010", "PVC-011")
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(text=_GRAMMAR_TEXTS)
def test_grammar_texts_parse_or_fail_cleanly(text: str) -> None:
    try:
        code = parse(text)
    except PublicCodeError as exc:
        assert exc.requirement in {"PVC-010", "PVC-011"}
    else:
        assert parse(str(code)) == code


@pytest.mark.req("PVC-009", "PVC-016")
@given(text=st.text(max_size=40))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    try:
        parse(text)
    except PublicCodeError as exc:
        assert exc.requirement in {"PVC-010", "PVC-011", "PVC-016"}


# -- contact cards ----------------------------------------------------------------------


@pytest.mark.req("PVC-012", "PVC-013", "PVC-014")
def test_contact_card_flow() -> None:
    saved = parse("t7fp 5rt2 5sx3 jxr2 wjzc 9rpc")
    card = check_card(saved, None)
    assert card.state is CardState.NOT_CHECKED
    card = card.recheck(ALICE)
    assert card.state is CardState.MATCHES
    assert card.recheck(ALICE) is card
    rotated = AccountKey(bytes(32), 1, b"alice@example.com", ED)
    card = card.recheck(rotated)
    assert card.state is CardState.NO_LONGER_MATCHES
    assert card.checked == rotated
    assert card.recheck(ALICE).state is CardState.MATCHES
    assert not matches(saved, rotated)


# -- command line ---------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        from ckv.cli import main as ckv_main

        rc = ckv_main(["code", *argv])
    except SystemExit as exc:  # `code` not registered yet: run the module on its own
        capsys.readouterr()
        assert exc.code == 2
        rc = code_main(["code", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


ACCOUNT_HEX = b"alice@example.com".hex()


@pytest.mark.req("PVC-004")
def test_cli_computes_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _run(capsys, "public", RFC8032_PK.hex(), "--account", ACCOUNT_HEX)
    assert (rc, out, err) == (0, "T7FP-5RT2-5SX3-JXR2-WJZC-9RPC\n", "")
    rc, out, _ = _run(
        capsys, "public", "--key", RFC8032_PK.hex(), "--account", ACCOUNT_HEX, "--suite", "p256"
    )
    assert (rc, out) == (0, "83V2-NN46-1JQ9-DGBP-4GW3-X7QV\n")


@pytest.mark.req("PVC-012")
def test_cli_checks_a_pasted_code(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("public", "--key", RFC8032_PK.hex(), "--account", ACCOUNT_HEX, "--check")
    rc, out, _ = _run(capsys, *args, "t7fp 5rt2 5sx3 jxr2 wjzc 9rpc")
    assert (rc, out) == (0, "T7FP-5RT2-5SX3-JXR2-WJZC-9RPC: matches\n")
    rc, out, err = _run(capsys, *args, "83V2-NN46-1JQ9-DGBP-4GW3-X7QV")
    assert rc == 1
    assert out == ""
    assert "not the code of this key" in err
    assert "PVC-012" in err
    assert err.count("\n") == 1


@pytest.mark.req("PVC-010", "PVC-011", "PVC-015", "PVC-016")
@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("--check", "T7FP-5RT2-5SX3-JXR2-WJZC-9RCP"), "may be swapped"),
        (("--check", "T7FP-5RT2"), "expected 24"),
        (("--check", "T7FP!5RT2"), "position 5"),
        (("--key-type", "x"), "--key-type"),
        (("--key-type", "0"), "PVC-015"),
        (("--account", "zz"), "not hex"),
    ],
)
def test_cli_bad_input_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str
) -> None:
    base = ["public", "--key", RFC8032_PK.hex(), "--account", ACCOUNT_HEX]
    rc, out, err = _run(capsys, *base, *argv)
    assert rc == 1
    assert out == ""
    assert err.startswith("ckv: error: ")
    assert err.count("\n") == 1
    assert fragment in err


def test_cli_wants_the_key_exactly_once(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(capsys, "public", "--account", ACCOUNT_HEX)
    assert rc == 1
    assert "give the account key once" in err
