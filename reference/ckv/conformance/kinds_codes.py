"""Vector kinds of the verification codes (spec: public-code, in-person-code).

* ``ckv.public-code.derive`` -- the public verification code of an account key
  (PBKDF2-HMAC-SHA256, Crockford base32, two check characters); must-reject
  inputs outside the ranges the derivation input can encode.
* ``ckv.public-code.parse`` -- read a code as typed or pasted: accepted
  variants (case, separators, confusable letters) give the canonical code;
  malformed codes (empty, wrong length, foreign characters, check failure) are
  rejected.
* ``ckv.in-person.derive`` -- the in-person exchange's commitment and 8-digit
  code from the encoded transcript structures; with ``received_commitment``,
  the responder's check that the revealed value opens the commitment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ckv import wire
from ckv.conformance._util import SUITE_SHORT, Rng, hexb, suite_named
from ckv.conformance.schemas import HEX
from ckv.conformance.vectors import Note, VectorFile, VectorKind, register
from ckv.errors import ErrorCode, VerificationError
from ckv.in_person import code_value, commitment, format_code
from ckv.public_code import ALPHABET, AccountKey, PublicCode, parse
from ckv.wire.messages import CipherSuite

__all__: list[str] = []

JSON = Any
_SUITES = (CipherSuite.KT_128_SHA256_Ed25519, CipherSuite.KT_128_SHA256_P256)


def _obj(props: dict[str, JSON]) -> JSON:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(props),
        "properties": props,
    }


# -- ckv.public-code.derive -----------------------------------------------------------------

DERIVE_NOTES = {
    "KeyTypeRange": Note("INPUT_RANGE", "The key type is outside 1..65535 (PVC-015)."),
    "EmptyField": Note("INPUT_RANGE", "The account id or key is empty (PVC-015)."),
}


def handle_derive(request: JSON) -> JSON:
    """Reference handler of ``ckv.public-code.derive``."""
    account = AccountKey(
        key=hexb(request["key"]),
        key_type=int(request["key_type"]),
        account_id=hexb(request["account_id"]),
        suite=suite_named(request["cipher_suite"]),
    )
    return {"code": str(PublicCode.for_key(account))}


def _derive_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"ckv/public-code-derive.{short}.json",
        kind="ckv.public-code.derive",
        short=short,
        description=f"Derive public verification codes of {cs.name} account keys "
        "(spec: public verification code).",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv public code vectors {cs.name}")

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        result: str,
        key: bytes,
        key_type: int,
        account: bytes,
        flags: Sequence[str] = (),
    ) -> None:
        req = {
            "cipher_suite": cs.name,
            "key": key.hex(),
            "key_type": key_type,
            "account_id": account.hex(),
        }
        vf.add_reference(
            handle_derive,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input=req,
            flags=flags,
        )

    reqs = ["PVC-002", "PVC-003", "PVC-004", "PVC-005", "PVC-006", "PVC-007", "PVC-008"]
    key = rng(32 if cs is CipherSuite.KT_128_SHA256_Ed25519 else 33)
    add("valid", "a typical account key", reqs, "valid", key, 1, b"acct-0001")
    add("valid", "the same key under key type 2", reqs, "valid", key, 2, b"acct-0001")
    add("valid", "the same key, another account", reqs, "valid", key, 1, b"acct-0002")
    add("valid", "one-byte key and account id, key type 65535", reqs, "valid", b"\x00", 65535, b"x")
    add("valid", "a 300-byte key", reqs, "valid", rng(300), 7, rng(20))
    add("key-type-range", "key type 0", ["PVC-015"], "invalid", key, 0, b"a", ["KeyTypeRange"])
    add(
        "key-type-range",
        "key type 65536",
        ["PVC-015"],
        "invalid",
        key,
        65536,
        b"a",
        ["KeyTypeRange"],
    )
    add("empty-field", "empty account id", ["PVC-015"], "invalid", key, 1, b"", ["EmptyField"])
    add("empty-field", "empty key", ["PVC-015"], "invalid", b"", 1, b"a", ["EmptyField"])
    return vf


# -- ckv.public-code.parse ------------------------------------------------------------------

PARSE_NOTES = {
    "Empty": Note("MALFORMED_INPUT", "No code characters at all (PVC-010)."),
    "WrongLength": Note("MALFORMED_INPUT", "Not exactly 24 code characters (PVC-010)."),
    "ForeignCharacter": Note("MALFORMED_INPUT", "A character outside the grammar (PVC-016)."),
    "CheckFailure": Note("MISTYPED_CODE", "The check equations do not hold (PVC-011)."),
}


def handle_parse(request: JSON) -> JSON:
    """Reference handler of ``ckv.public-code.parse``: the canonical code and its values."""
    code = parse(str(request["text"]))
    return {"code": str(code), "values": list(code.values)}


def _parse_file() -> VectorFile:
    vf = VectorFile(
        path="ckv/public-code-parse.json",
        kind="ckv.public-code.parse",
        short="parse",
        description="Parse public verification codes as typed or pasted (spec: public "
        "verification code, PVC-009 to PVC-011, PVC-016); output the canonical form.",
        parameters={},
    )
    rng = Rng("ckv public code parse vectors")

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str, what: str, reqs: Sequence[str], result: str, text: str, flags: Sequence[str] = ()
    ) -> None:
        vf.add_reference(
            handle_parse,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input={"text": text},
            flags=flags,
        )

    codes = [PublicCode.from_data([rng.below(32) for _ in range(22)]) for _ in range(4)]
    codes.append(PublicCode.from_data([0] * 22))
    codes.append(PublicCode.from_data([1] * 11 + [0] * 11))
    ok = ["PVC-009", "PVC-010", "PVC-011"]
    for c in codes:
        text = str(c)
        add("canonical", f"the canonical text {text}", ok, "valid", text)
    text = str(codes[0])
    bare = text.replace("-", "")
    add("lower-case", "lower case", ok, "valid", text.lower())
    add("no-separators", "no separators", ok, "valid", bare)
    add(
        "spaces",
        "groups separated by spaces, with a tab and a newline",
        ok,
        "valid",
        " " + text.replace("-", " ", 3).replace("-", "\t", 1).replace("-", "\n") + " ",
    )
    zeros = str(codes[-1])
    add(
        "confusables",
        "O, I and L for 0, 1 and 1",
        ok,
        "valid",
        zeros.replace("0", "O").replace("1", "I", 3).replace("1", "l", 2),
    )
    add("mixed-separators", "doubled separators", ok, "valid", text.replace("-", "--"))
    add("empty", "empty text", ["PVC-010"], "invalid", "", ["Empty"])
    add("empty", "separators only", ["PVC-010"], "invalid", " - -\t", ["Empty"])
    add("wrong-length", "23 characters", ["PVC-010"], "invalid", bare[:-1], ["WrongLength"])
    add("wrong-length", "25 characters", ["PVC-010"], "invalid", bare + "0", ["WrongLength"])
    add(
        "wrong-length",
        "48 characters (the code twice)",
        ["PVC-010"],
        "invalid",
        bare + bare,
        ["WrongLength"],
    )
    add(
        "foreign-character",
        "U in place of a character",
        ["PVC-016"],
        "invalid",
        "U" + bare[1:],
        ["ForeignCharacter"],
    )
    add(
        "foreign-character",
        "a dot as separator",
        ["PVC-016"],
        "invalid",
        text.replace("-", ".", 1),
        ["ForeignCharacter"],
    )
    add(
        "foreign-character",
        "a non-ASCII digit",
        ["PVC-016"],
        "invalid",
        bare[:5] + "\u0663" + bare[6:],
        ["ForeignCharacter"],
    )
    add(
        "foreign-character",
        "an underscore",
        ["PVC-016"],
        "invalid",
        bare[:10] + "_" + bare[10:],
        ["ForeignCharacter"],
    )
    for pos in (0, 11, 23):
        values = list(codes[1].values)
        values[pos] = (values[pos] + 1) % 32
        bad = "".join(ALPHABET[v] for v in values)
        add(
            "check-failure",
            f"character {pos + 1} changed",
            ["PVC-011"],
            "invalid",
            bad,
            ["CheckFailure"],
        )
    values = list(codes[2].values)
    i = next(k for k in range(23) if values[k] != values[k + 1])
    values[i], values[i + 1] = values[i + 1], values[i]
    add(
        "check-failure",
        f"characters {i + 1} and {i + 2} swapped",
        ["PVC-011"],
        "invalid",
        "".join(ALPHABET[v] for v in values),
        ["CheckFailure"],
    )
    return vf


# -- ckv.in-person.derive -----------------------------------------------------------------

IPC_NOTES = {
    "CommitmentMismatch": Note(
        "AUTH_BYPASS", "The revealed value does not open the received commitment (IPC-008)."
    ),
}


def handle_in_person(request: JSON) -> JSON:
    """Reference handler of ``ckv.in-person.derive``."""
    cs = suite_named(request["cipher_suite"])
    commit_input = wire.from_json("IpcCommitInput", request["commit_input"])
    code_input = wire.from_json("IpcCodeInput", request["code_input"])
    computed = commitment(commit_input, cs)
    received = request.get("received_commitment")
    # IPC-008: the revealed value must open the commitment received earlier.
    if received is not None and hexb(received) != computed:
        msg = "the revealed value does not open the received commitment"
        raise VerificationError(
            msg, requirement="IPC-008", code=ErrorCode.PROOF_INVALID, expected=received
        )
    value = code_value(code_input, cs)
    return {
        "commit_input": wire.encode(commit_input, suite=cs).hex(),
        "commitment": computed.hex(),
        "code_input": wire.encode(code_input, suite=cs).hex(),
        "code_value": value,
        "code": format_code(value),
    }


def _in_person_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"ckv/in-person.{short}.json",
        kind="ckv.in-person.derive",
        short=short,
        description=f"In-person code exchange under {cs.name}: commitment and code from the "
        "transcript (spec: in-person code, IPC-007, IPC-008, IPC-010).",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv in-person vectors {cs.name}")
    for i in range(4):
        session = rng(16)
        keys = [
            {
                "key_type": ("ed25519", "ecdsa_p256_sha256")[(i + j) % 2],
                "account_id": rng(8 + i).hex(),
                "key": rng(32).hex(),
            }
            for j in range(2)
        ]
        r_init, r_resp = rng(32), rng(32)
        commit_input = {
            "version": 1,
            "ciphersuite": cs.name,
            "session_id": session.hex(),
            "account_key": keys[0],
            "random": r_init.hex(),
        }
        try:
            value = wire.from_json("IpcCommitInput", commit_input)
        except Exception:  # noqa: BLE001 - the CKV layer's structs are still moving
            value = None
        if value is None:
            continue
        c = commitment(value, cs)
        code_input = {
            "version": 1,
            "ciphersuite": cs.name,
            "session_id": session.hex(),
            "initiator_key": keys[0],
            "responder_key": keys[1],
            "commitment": c.hex(),
            "initiator_random": r_init.hex(),
            "responder_random": r_resp.hex(),
        }
        req = {
            "cipher_suite": cs.name,
            "commit_input": commit_input,
            "code_input": code_input,
            "received_commitment": None,
        }
        reqs = ["IPC-007", "IPC-010"]
        vf.add_reference(
            handle_in_person,
            name="derive",
            description=f"exchange {i}: commitment and code",
            requirements=reqs,
            result="valid",
            input=req,
        )
        vf.add_reference(
            handle_in_person,
            name="opened",
            description=f"exchange {i}: the reveal opens the commitment",
            requirements=["IPC-008"],
            result="valid",
            input=req | {"received_commitment": c.hex()},
        )
        other = dict(commit_input, random=flip(r_init).hex())
        vf.add_reference(
            handle_in_person,
            name="commitment-mismatch",
            description=f"exchange {i}: a revealed value other than the committed one",
            requirements=["IPC-008"],
            result="invalid",
            input=req | {"commit_input": other, "received_commitment": c.hex()},
            flags=["CommitmentMismatch"],
        )
    return vf


def flip(data: bytes) -> bytes:
    """``data`` with its last bit flipped."""
    return data[:-1] + bytes([data[-1] ^ 1])


register(
    VectorKind(
        name="ckv.public-code.derive",
        description="Derive the public verification code of an account key.",
        generate=lambda: [_derive_file(cs) for cs in _SUITES],
        input_schema=_obj(
            {
                "cipher_suite": {"type": "string"},
                "key": HEX,
                "key_type": {"type": "integer"},
                "account_id": HEX,
            }
        ),
        output_schema=_obj(
            {"code": {"type": "string", "pattern": "^([0-9A-Z]{4}-){5}[0-9A-Z]{4}$"}}
        ),
        notes=DERIVE_NOTES,
        handler=handle_derive,
    )
)
register(
    VectorKind(
        name="ckv.public-code.parse",
        description="Parse a typed or pasted public verification code.",
        generate=lambda: [_parse_file()],
        input_schema=_obj({"text": {"type": "string"}}),
        output_schema=_obj(
            {
                "code": {"type": "string"},
                "values": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0, "maximum": 31},
                    "minItems": 24,
                    "maxItems": 24,
                },
            }
        ),
        notes=PARSE_NOTES,
        handler=handle_parse,
    )
)
register(
    VectorKind(
        name="ckv.in-person.derive",
        description="The in-person exchange's commitment and code (and the responder's check).",
        generate=lambda: [_in_person_file(cs) for cs in _SUITES],
        input_schema=_obj(
            {
                "cipher_suite": {"type": "string"},
                "commit_input": {"type": "object"},
                "code_input": {"type": "object"},
                "received_commitment": {"anyOf": [HEX, {"type": "null"}]},
            }
        ),
        output_schema=_obj(
            {
                "commit_input": HEX,
                "commitment": HEX,
                "code_input": HEX,
                "code_value": {"type": "integer"},
                "code": {"type": "string"},
            }
        ),
        notes=IPC_NOTES,
        handler=handle_in_person,
    )
)
