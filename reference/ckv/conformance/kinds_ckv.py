"""Vector kinds of the CKV layer (spec: identities, accounts, enrollment, verification).

* ``ckv.device-record.verify`` -- a ``SignedDeviceRecord`` and an
  ``AccountPublicKey``: the record counts only with the account key's signature
  over ``DeviceRecordTBS`` under its context string (ACCT-004, ACCT-006,
  ACCT-007). Output: the device id and whether it is capable (ACCT-005).
* ``ckv.account-state.validate`` -- an account label, its value and, optionally,
  the state accepted before: the checks of ACCT-001, ACCT-007 to ACCT-015 and
  ENROLL-006 in the spec's order. Output: a summary of the accepted state.
* ``ckv.handle-binding.validate`` -- a handle, its label's value and the account
  state it points at (IDENT-007 to IDENT-010).
* ``ckv.enrollment`` -- an account's current state, its private key (test keys
  only) and one operation: the decision, either the next state (its summary,
  and under Ed25519, whose signatures are deterministic, its encoding) or the
  refusal with the devices it names (ENROLL-003 to ENROLL-005, ACCT-011).
* ``ckv.alert.decide`` -- a session in which the harness plays the directory:
  each step gives the exchanges a device made (search requests and the
  directory's answers, a walk of the distinguished entries and a peer's gossip,
  recorded from :class:`~ckv.directory.adversary.AdversarialDirectory` running a
  seeded script) and the device answers with the alert it raises, if any
  (VERIFY-*, ALERT-001, SELF-*, FORK-001). A contact's session verifies a handle
  and its account; an owner's session checks its own account label against the
  journal it is given. The generator runs a real device of the reference beside
  the recording client and refuses a verdict that device did not reach.

Normative description of the sessions: spec/conformance.md (CONF-016 to CONF-018)
and conformance/PROTOCOL.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ckv import wire
from ckv.account import (
    AccountKeyPair,
    AccountStateError,
    decode_account_state,
    generate_account_key,
    is_capable,
    sign_account_state,
    sign_device_record,
    sign_handle_binding,
    sign_rotation,
    validate_account_state,
    validate_handle_binding,
    verify_device_record,
)
from ckv.alerts import alert_code_for
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.conformance._util import SUITE_SHORT, Rng, flip_bit, hexb, suite_named
from ckv.conformance.schemas import HEX
from ckv.conformance.vectors import (
    Case,
    Note,
    Step,
    VectorFile,
    VectorKind,
    register,
)
from ckv.enrollment import (
    LegacyDevicesError,
    add_device,
    create_account,
    disable_ckv,
    enable_ckv,
    remove_device,
    rotate_account_key,
)
from ckv.errors import CKVError, UsageError
from ckv.identity import account_label, handle_label, parse_label
from ckv.search import verify_search
from ckv.wire import messages
from ckv.wire.messages import (
    AccountPublicKey,
    AccountState,
    AlertCode,
    CipherSuite,
    DeviceCapability,
    DeviceRecord,
    Handle,
    HandleBinding,
    HandleType,
    LabelKind,
    MessagingKey,
    MessagingKeyType,
    OptIn,
    SignedAccountState,
    SignedDeviceRecord,
    SignedHandleBinding,
)

__all__ = [
    "AlertSession",
    "ckv_turned_off",
    "handle_account_state",
    "handle_device_record",
    "handle_enrollment",
    "handle_handle_binding",
    "state_summary",
]

JSON = Any
_SUITES = (CipherSuite.KT_128_SHA256_Ed25519, CipherSuite.KT_128_SHA256_P256)
NOW = 1_767_225_600_000

# ACCT-004: the context strings of the account key's signatures (spec: accounts).
CONTEXT_DEVICE = b"CKV-v1 device record\x00"
CONTEXT_STATE = b"CKV-v1 account state\x00"
CONTEXT_HANDLE = b"CKV-v1 handle binding\x00"


def _obj(props: dict[str, JSON], optional: Sequence[str] = ()) -> JSON:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(k for k in props if k not in optional),
        "properties": props,
    }


_UINT: JSON = {"type": "integer", "minimum": 0}
_HEXES: JSON = {"type": "array", "items": HEX}
_SUITE_NAME: JSON = {"enum": [cs.name for cs in _SUITES]}
_HANDLE: JSON = _obj({"handle_type": {"enum": ["phone", "email"]}, "value": HEX})


# -- shared helpers ---------------------------------------------------------------------------


def state_summary(state: AccountState) -> JSON:
    """The JSON summary of an accepted account state (the output of several kinds)."""
    return {
        "account_id": state.account_key.account_id.hex(),
        "key": state.account_key.key.hex(),
        "epoch": state.epoch,
        "ckv": state.ckv.name,
        "devices": [d.record.device_id.hex() for d in state.devices],
        # ACCT-005: a device is legacy unless protocol version >= 2 and capability ckv.
        "legacy_devices": [
            d.record.device_id.hex() for d in state.devices if not is_capable(d.record)
        ],
        "handles": [wire.to_json(h) for h in state.handles],
    }


_SUMMARY: JSON = _obj(
    {
        "account_id": HEX,
        "key": HEX,
        "epoch": _UINT,
        "ckv": {"enum": ["on", "off"]},
        "devices": _HEXES,
        "legacy_devices": _HEXES,
        "handles": {"type": "array", "items": _HANDLE},
    }
)


def _decode(type_: type[Any], data: JSON, what: str) -> Any:
    """A CKV structure from hex; wire errors are reported as such (strict decoding)."""
    return wire.decode(type_, hexb(data, what))


def _device(rng: Rng, *, version: int = 2, capable: bool = True, n_keys: int = 1) -> DeviceRecord:
    caps = (DeviceCapability.ckv, DeviceCapability.public_code) if capable else ()
    return DeviceRecord(
        device_id=rng(16),
        protocol_version=version,
        software_version=17_000 + rng.below(1000),
        capabilities=caps,
        messaging_keys=tuple(
            MessagingKey(key_type=MessagingKeyType.x25519, key=rng(32)) for _ in range(n_keys)
        ),
        enrolled_at=NOW - rng.below(10**9),
    )


def _pair(cs: CipherSuite, rng: Rng, account_id: bytes | None = None) -> AccountKeyPair:
    return generate_account_key(cs, account_id or rng(16), rng)


def _pair_from_private(cs: CipherSuite, account_id: bytes, private: bytes) -> AccountKeyPair:
    """The account key pair of a private key given in a vector (test keys only)."""
    from ckv.account import key_type_for_suite  # noqa: PLC0415

    public = get_suite(cs).signature_public_key(private)
    return AccountKeyPair(
        AccountPublicKey(key_type=key_type_for_suite(cs), account_id=account_id, key=public),
        private,
    )


def _state(
    pair: AccountKeyPair,
    records: Sequence[DeviceRecord],
    *,
    epoch: int = 1,
    ckv: OptIn = OptIn.off,
    handles: Sequence[Handle] = (),
    signed_by: AccountKeyPair | None = None,
) -> AccountState:
    return AccountState(
        account_key=pair.public,
        epoch=epoch,
        updated_at=NOW + epoch * 60_000,
        ckv=ckv,
        devices=tuple(sign_device_record(signed_by or pair, r) for r in records),
        handles=tuple(handles),
        rotation=None,
    )


def _enc(value: object) -> str:
    return wire.encode(value).hex()


def _signed(pair: AccountKeyPair, state: AccountState) -> SignedAccountState:
    return sign_account_state(pair, state)


def _forge(signer: AccountKeyPair, state: AccountState, context: bytes = CONTEXT_STATE) -> str:
    """A state signed by ``signer`` (or under another context): what only a forger makes."""
    signature = signer.sign(context, wire.encode(state))
    return _enc(SignedAccountState(state=state, signature=signature))


PHONE = Handle(handle_type=HandleType.phone, value=b"+14155550100")
EMAIL = Handle(handle_type=HandleType.email, value=b"alice@example.org")
OTHER = Handle(handle_type=HandleType.email, value=b"mallory@example.org")


# -- ckv.device-record.verify -----------------------------------------------------------------

RECORD_NOTES = {
    "ModifiedRecord": Note(
        "AUTH_BYPASS", "A bit of the signed device record is flipped (ACCT-007)."
    ),
    "ModifiedSignature": Note("AUTH_BYPASS", "A bit of the record's signature is flipped."),
    "WrongKey": Note("AUTH_BYPASS", "The record is signed by another account key (ACCT-007)."),
    "WrongAccount": Note(
        "AUTH_BYPASS",
        "The account key names another account id; the signed DeviceRecordTBS binds it.",
    ),
    "WrongContext": Note(
        "DOMAIN_SEPARATION",
        "The signature is over another context string, or none, or not over the "
        "DeviceRecordTBS (ACCT-004).",
    ),
    "Malformed": Note("CODEC", "The record does not decode strictly (truncated, trailing bytes)."),
}


def handle_device_record(request: JSON) -> JSON:
    """Reference handler of ``ckv.device-record.verify``."""
    key = _decode(AccountPublicKey, request["account_key"], "account_key")
    signed = _decode(SignedDeviceRecord, request["record"], "record")
    verify_device_record(key, signed)
    return {"device_id": signed.record.device_id.hex(), "capable": is_capable(signed.record)}


def _device_record_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"ckv/device-record.{short}.json",
        kind="ckv.device-record.verify",
        short=short,
        description=f"Verify device records signed by {cs.name} account keys (spec: accounts, "
        "ACCT-004 to ACCT-007).",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv device record vectors {cs.name}")
    pair = _pair(cs, rng)
    other = _pair(cs, rng)
    key = pair.public

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        result: str,
        record: bytes,
        account_key: AccountPublicKey = key,
        flags: Sequence[str] = (),
    ) -> None:
        vf.add_reference(
            handle_device_record,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input={"account_key": _enc(account_key), "record": record.hex()},
            flags=flags,
        )

    ok = ["ACCT-005", "ACCT-006", "ACCT-007"]
    capable = _device(rng)
    signed = sign_device_record(pair, capable)
    good = wire.encode(signed)
    add("valid", "a capable device's record", ok, "valid", good)
    add(
        "valid",
        "a legacy device (protocol version 1)",
        ok,
        "valid",
        wire.encode(sign_device_record(pair, _device(rng, version=1))),
    )
    add(
        "valid",
        "protocol version 2 without the ckv capability: legacy",
        ok,
        "valid",
        wire.encode(sign_device_record(pair, _device(rng, capable=False))),
    )
    add(
        "valid",
        "three messaging keys, protocol version 9",
        ok,
        "valid",
        wire.encode(sign_device_record(pair, _device(rng, version=9, n_keys=3))),
    )
    record_len = len(wire.encode(capable))
    bad = ["ACCT-007"]
    # Bits inside the record's fields: device id, protocol version, software version,
    # a messaging key, enrolled_at (the record is followed by the signature's length).
    for bit in (0, 127, 128 + 14, 144 + 31, 8 * (record_len - 20), 8 * record_len - 1):
        add(
            "modified-record",
            f"record bit {bit} flipped",
            bad,
            "invalid",
            flip_bit(good, bit),
            flags=["ModifiedRecord"],
        )
    sig_at = 8 * (record_len + 2)
    for bit in (0, 8 * len(signed.signature) // 2 + 3, 8 * len(signed.signature) - 1):
        add(
            "modified-signature",
            f"signature bit {bit} flipped",
            bad,
            "invalid",
            flip_bit(good, sig_at + bit),
            flags=["ModifiedSignature"],
        )
    add(
        "wrong-key",
        "signed by another account's key",
        bad,
        "invalid",
        wire.encode(sign_device_record(other, capable)),
        flags=["WrongKey"],
    )
    add(
        "wrong-key",
        "verified under another account's key",
        bad,
        "invalid",
        good,
        account_key=other.public,
        flags=["WrongKey"],
    )
    add(
        "wrong-account",
        "the same key bytes under another account id",
        bad,
        "invalid",
        good,
        account_key=replace(key, account_id=rng(16)),
        flags=["WrongAccount"],
    )
    tbs = wire.encode(messages.DeviceRecordTBS(account_key=key, record=capable))
    for what, context, message in (
        ("the account state context", CONTEXT_STATE, tbs),
        ("the handle binding context", CONTEXT_HANDLE, tbs),
        ("no context string", b"", tbs),
        ("the context without its zero byte", CONTEXT_DEVICE[:-1], tbs),
        ("the record alone, without the account key", CONTEXT_DEVICE, wire.encode(capable)),
    ):
        forged = SignedDeviceRecord(record=capable, signature=pair.sign(context, message))
        add(
            "wrong-context",
            f"signed by the account key over {what}",
            ["ACCT-004", "ACCT-007"],
            "invalid",
            wire.encode(forged),
            flags=["WrongContext"],
        )
    add(
        "malformed",
        "truncated by one byte",
        ["ACCT-006"],
        "invalid",
        good[:-1],
        flags=["Malformed"],
    )
    add(
        "malformed",
        "one trailing byte",
        ["ACCT-006"],
        "invalid",
        good + b"\x00",
        flags=["Malformed"],
    )
    return vf


# -- ckv.account-state.validate ---------------------------------------------------------------

STATE_NOTES = {
    "InjectedDevice": Note(
        "AUTH_BYPASS",
        "A device record the account key did not sign: the reader must refuse the state and "
        "name the device (ACCT-007), whatever the outer signature.",
    ),
    "ModifiedSignature": Note("AUTH_BYPASS", "The state's signature does not verify (ACCT-008)."),
    "WrongContext": Note("DOMAIN_SEPARATION", "The state is signed under another context."),
    "Rollback": Note("ROLLBACK", "The epoch does not grow over the state accepted before."),
    "KeyReplaced": Note(
        "AUTH_BYPASS", "The account key changed without a valid hand-over (ACCT-012)."
    ),
    "AccountChanged": Note("AUTH_BYPASS", "The account id changed (ACCT-014)."),
    "DuplicateDevice": Note("AMBIGUITY", "Two records share a device id (ACCT-011)."),
    "DuplicateHandle": Note("AMBIGUITY", "A handle is listed twice (ACCT-013)."),
    "LegacyWithOptIn": Note("OPT_IN", "CKV is on while a legacy device is enrolled (ENROLL-006)."),
    "WrongLabel": Note("CONFUSION", "The state is stored under another label (ACCT-010)."),
    "WrongKeyType": Note("ALGORITHM", "The key type is not the cipher suite's (ACCT-001)."),
    "Malformed": Note("CODEC", "The value does not decode strictly (ACCT-009)."),
}


def handle_account_state(request: JSON) -> JSON:
    """Reference handler of ``ckv.account-state.validate``."""
    cs = suite_named(request["cipher_suite"])
    label = hexb(request["label"], "label")
    previous = None
    if request.get("previous") is not None:
        # The state accepted before: it was valid when it was accepted.
        prev_value = hexb(request["previous"], "previous")
        prev_state = decode_account_state(prev_value).state
        try:
            previous = validate_account_state(
                account_label(prev_state.account_key.account_id), prev_value, suite=cs
            )
        except CKVError as exc:
            msg = f"previous: not a valid account state: {exc}"
            raise UsageError(msg) from None
    state = validate_account_state(
        label, hexb(request["value"], "value"), suite=cs, previous=previous
    )
    return state_summary(state)


def _account_state_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"ckv/account-state.{short}.json",
        kind="ckv.account-state.validate",
        short=short,
        description=f"Validate account states under {cs.name} as a contact reads them "
        "(spec: accounts, ACCT-001, ACCT-007 to ACCT-015, ENROLL-006), optionally against "
        "the state accepted before.",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv account state vectors {cs.name}")
    pair = _pair(cs, rng)
    aid = pair.public.account_id
    label = account_label(aid)
    forger = _pair(cs, rng, aid)
    stranger = _pair(cs, rng)
    other_cs = next(s for s in _SUITES if s is not cs)
    alien = _pair(other_cs, rng, aid)
    phone, laptop = _device(rng), _device(rng)
    tablet = _device(rng, version=1)
    dumb = _device(rng, capable=False)

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        result: str,
        value: str,
        previous: str | None = None,
        flags: Sequence[str] = (),
        at: bytes = label,
    ) -> None:
        vf.add_reference(
            handle_account_state,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input={
                "cipher_suite": cs.name,
                "label": at.hex(),
                "value": value,
                "previous": previous,
            },
            flags=flags,
        )

    def val(state: AccountState, signer: AccountKeyPair = pair) -> str:
        return _enc(_signed(signer, state))

    first = _state(pair, [phone], handles=[PHONE])
    two = _state(pair, [phone, laptop], epoch=2, handles=[PHONE, EMAIL])
    on = _state(pair, [phone, laptop], epoch=3, ckv=OptIn.on, handles=[PHONE, EMAIL])
    mixed = _state(pair, [phone, tablet, dumb], epoch=4, handles=[PHONE])
    ok = ["ACCT-008", "ACCT-009", "ACCT-010", "ACCT-007", "ACCT-011", "ACCT-013"]
    add("valid", "a first state: one device, CKV off", ["ACCT-001", *ok], "valid", val(first))
    add("valid", "two devices and two handles", ok, "valid", val(two))
    add("valid", "CKV on, every device capable", [*ok, "ENROLL-006"], "valid", val(on))
    add(
        "valid",
        "CKV off with two legacy devices (listed as legacy)",
        [*ok, "ACCT-005"],
        "valid",
        val(mixed),
    )
    add("valid", "no devices and no handles", ok, "valid", val(_state(pair, [], epoch=7)))
    hist = ["ACCT-014", "ACCT-015"]
    add("history", "epoch 2 after epoch 1", hist, "valid", val(two), val(first))
    add("history", "epoch 3 after epoch 1 (a skipped state)", hist, "valid", val(on), val(first))
    # A valid rotation: new key, records signed again, the old key hands over.
    new = _pair(cs, rng, aid)
    rotated = replace(
        _state(new, [phone, laptop], epoch=4, ckv=OptIn.on, handles=[PHONE, EMAIL]),
        rotation=sign_rotation(pair, new.public, 4),
    )
    add(
        "rotation",
        "the account key rotated with the previous key's hand-over",
        ["ACCT-012", "ENROLL-008"],
        "valid",
        val(rotated, new),
        val(on),
    )
    # ACCT-007: a device the account key did not sign, under either outer signature.
    fake = _device(rng)
    injected = replace(
        two,
        epoch=3,
        devices=(*two.devices, sign_device_record(forger, fake)),
    )
    add(
        "injected-device",
        f"device {fake.device_id.hex()} signed by another key; the outer signature is the "
        "account key's",
        ["ACCT-007"],
        "invalid",
        val(injected),
        val(two),
        flags=["InjectedDevice"],
    )
    add(
        "injected-device",
        f"device {fake.device_id.hex()} signed by another key; the outer signature is that "
        "key's too (the device is still reported first)",
        ["ACCT-007"],
        "invalid",
        _forge(forger, injected),
        val(two),
        flags=["InjectedDevice"],
    )
    unsigned = replace(
        two,
        epoch=3,
        devices=(
            two.devices[0],
            SignedDeviceRecord(record=fake, signature=two.devices[1].signature),
        ),
    )
    add(
        "injected-device",
        f"device {fake.device_id.hex()} carrying another record's signature",
        ["ACCT-007"],
        "invalid",
        val(unsigned),
        flags=["InjectedDevice"],
    )
    good = _signed(pair, two)
    enc = wire.encode(good)
    for bit in (0, 8 * len(good.signature) - 1):
        add(
            "modified-signature",
            f"signature bit {bit} flipped",
            ["ACCT-008"],
            "invalid",
            flip_bit(enc, 8 * (len(enc) - len(good.signature)) + bit).hex(),
            flags=["ModifiedSignature"],
        )
    dropped = replace(two, devices=two.devices[:1])
    add(
        "modified-signature",
        "a device dropped from a signed state (the signature kept)",
        ["ACCT-008"],
        "invalid",
        _enc(SignedAccountState(state=dropped, signature=good.signature)),
        flags=["ModifiedSignature"],
    )
    opted_out = replace(on, ckv=OptIn.off)
    add(
        "modified-signature",
        "the opt-in flag turned off in a signed state (the signature kept)",
        ["ACCT-008"],
        "invalid",
        _enc(SignedAccountState(state=opted_out, signature=_signed(pair, on).signature)),
        flags=["ModifiedSignature"],
    )
    add(
        "modified-signature",
        "signed by another key of the same account",
        ["ACCT-008"],
        "invalid",
        _forge(forger, two),
        flags=["ModifiedSignature"],
    )
    for what, context in (
        ("the device record context", CONTEXT_DEVICE),
        ("the handle binding context", CONTEXT_HANDLE),
        ("no context string", b""),
    ):
        add(
            "wrong-context",
            f"signed by the account key over {what}",
            ["ACCT-004", "ACCT-008"],
            "invalid",
            _forge(pair, two, context),
            flags=["WrongContext"],
        )
    add(
        "rollback",
        "epoch 1 after epoch 2",
        ["ACCT-015"],
        "invalid",
        val(first),
        val(two),
        flags=["Rollback"],
    )
    add(
        "rollback",
        "the same epoch again, another state",
        ["ACCT-015"],
        "invalid",
        val(replace(two, updated_at=two.updated_at + 1)),
        val(two),
        flags=["Rollback"],
    )
    replaced = _state(forger, [phone, laptop], epoch=3, handles=[PHONE, EMAIL])
    add(
        "key-replaced",
        "a new account key without a rotation",
        ["ACCT-012"],
        "invalid",
        val(replaced, forger),
        val(two),
        flags=["KeyReplaced"],
    )
    add(
        "key-replaced",
        "a rotation signed by the new key itself",
        ["ACCT-012"],
        "invalid",
        val(replace(replaced, rotation=sign_rotation(forger, forger.public, 3)), forger),
        val(two),
        flags=["KeyReplaced"],
    )
    add(
        "key-replaced",
        "a rotation naming another previous key",
        ["ACCT-012"],
        "invalid",
        val(replace(replaced, rotation=sign_rotation(stranger, forger.public, 3)), forger),
        val(two),
        flags=["KeyReplaced"],
    )
    add(
        "key-replaced",
        "a rotation by the previous key over another epoch",
        ["ACCT-012"],
        "invalid",
        val(replace(replaced, rotation=sign_rotation(pair, forger.public, 4)), forger),
        val(two),
        flags=["KeyReplaced"],
    )
    other_first = _state(stranger, [phone], handles=[PHONE])
    add(
        "account-changed",
        "the label's earlier state was another account's",
        ["ACCT-014"],
        "invalid",
        val(two),
        val(other_first, stranger),
        flags=["AccountChanged"],
    )
    dup = _state(pair, [phone, laptop, phone], epoch=2)
    add(
        "duplicate-device",
        "a device listed twice",
        ["ACCT-011"],
        "invalid",
        val(dup),
        flags=["DuplicateDevice"],
    )
    same_id = _state(pair, [phone, replace(laptop, device_id=phone.device_id)], epoch=2)
    add(
        "duplicate-device",
        "two records with one device id",
        ["ACCT-011"],
        "invalid",
        val(same_id),
        flags=["DuplicateDevice"],
    )
    add(
        "duplicate-handle",
        "a handle listed twice",
        ["ACCT-013"],
        "invalid",
        val(_state(pair, [phone], epoch=2, handles=[PHONE, EMAIL, PHONE])),
        flags=["DuplicateHandle"],
    )
    for what, legacy in (("protocol version 1", tablet), ("no ckv capability", dumb)):
        add(
            "legacy-with-opt-in",
            f"CKV on with a legacy device ({what})",
            ["ENROLL-006"],
            "invalid",
            val(_state(pair, [phone, legacy], epoch=5, ckv=OptIn.on)),
            flags=["LegacyWithOptIn"],
        )
    add(
        "wrong-label",
        "stored under another account's label",
        ["ACCT-010"],
        "invalid",
        val(two),
        flags=["WrongLabel"],
        at=account_label(stranger.public.account_id),
    )
    add(
        "wrong-label",
        "stored under a handle's label",
        ["ACCT-010", "IDENT-005"],
        "invalid",
        val(two),
        flags=["WrongLabel"],
        at=handle_label(PHONE),
    )
    short_id = _pair(cs, rng, rng(15))
    add(
        "wrong-label",
        "an account id of 15 bytes",
        ["ACCT-010", "IDENT-001", "IDENT-006"],
        "invalid",
        val(_state(short_id, [phone]), short_id),
        flags=["WrongLabel"],
        at=wire.encode(
            messages.DirectoryLabel(kind=LabelKind.account, account_id=short_id.public.account_id)
        ),
    )
    add(
        "wrong-key-type",
        f"an account key of {other_cs.name}'s type",
        ["ACCT-001"],
        "invalid",
        val(_state(alien, [phone]), alien),
        flags=["WrongKeyType"],
    )
    add(
        "malformed",
        "truncated by one byte",
        ["ACCT-009"],
        "invalid",
        enc[:-1].hex(),
        flags=["Malformed"],
    )
    add(
        "malformed",
        "one trailing byte",
        ["ACCT-009"],
        "invalid",
        (enc + b"\x00").hex(),
        flags=["Malformed"],
    )
    add("malformed", "empty value", ["ACCT-009"], "invalid", "", flags=["Malformed"])
    binding = sign_handle_binding(pair, HandleBinding(handle=PHONE, account_id=aid, epoch=1))
    add(
        "malformed",
        "a handle binding stored as the account's value",
        ["ACCT-009"],
        "invalid",
        _enc(binding),
        flags=["Malformed"],
    )
    return vf


# -- ckv.handle-binding.validate --------------------------------------------------------------

BINDING_NOTES = {
    "OtherHandle": Note("CONFUSION", "The binding names another handle (IDENT-007)."),
    "OtherAccount": Note(
        "CONFUSION", "The handle and the account do not name each other (IDENT-010)."
    ),
    "ModifiedSignature": Note(
        "AUTH_BYPASS", "The binding's signature does not verify (IDENT-008)."
    ),
    "WrongContext": Note("DOMAIN_SEPARATION", "The binding is signed under another context."),
    "Malformed": Note("CODEC", "The value does not decode strictly (IDENT-009)."),
}


def handle_handle_binding(request: JSON) -> JSON:
    """Reference handler of ``ckv.handle-binding.validate``."""
    cs = suite_named(request["cipher_suite"])
    handle = wire.from_json("Handle", request["handle"])
    account_value = hexb(request["account_value"], "account_value")
    try:
        # The account state the binding points at; it has been validated already.
        aid = decode_account_state(account_value).state.account_key.account_id
        state = validate_account_state(account_label(aid), account_value, suite=cs)
    except CKVError as exc:
        msg = f"account_value: not a valid account state: {exc}"
        raise UsageError(msg) from None
    value = hexb(request["value"], "value")
    binding = validate_handle_binding(handle_label(handle), value, state, handle)
    return {"account_id": binding.account_id.hex(), "epoch": binding.epoch}


def _binding_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"ckv/handle-binding.{short}.json",
        kind="ckv.handle-binding.validate",
        short=short,
        description=f"Validate handle bindings under {cs.name} against the account state they "
        "point at (spec: identities, IDENT-007 to IDENT-010).",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv handle binding vectors {cs.name}")
    pair = _pair(cs, rng)
    aid = pair.public.account_id
    stranger = _pair(cs, rng)
    forger = _pair(cs, rng, aid)
    phone = _device(rng)
    state = _state(pair, [phone], epoch=3, ckv=OptIn.on, handles=[PHONE, EMAIL])
    state_value = _enc(_signed(pair, state))
    no_email = _enc(_signed(pair, _state(pair, [phone], epoch=4, handles=[PHONE])))
    other_state = _enc(_signed(stranger, _state(stranger, [phone], handles=[EMAIL, OTHER])))

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        result: str,
        handle: Handle,
        value: str,
        account_value: str = state_value,
        flags: Sequence[str] = (),
    ) -> None:
        vf.add_reference(
            handle_handle_binding,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input={
                "cipher_suite": cs.name,
                "handle": wire.to_json(handle),
                "value": value,
                "account_value": account_value,
            },
            flags=flags,
        )

    def bind(handle: Handle, account: bytes = aid, signer: AccountKeyPair = pair) -> str:
        return _enc(
            sign_handle_binding(signer, HandleBinding(handle=handle, account_id=account, epoch=3))
        )

    ok = ["IDENT-007", "IDENT-008", "IDENT-009", "IDENT-010"]
    add("valid", "a phone number bound to the account", ok, "valid", PHONE, bind(PHONE))
    add("valid", "an email address bound to the account", ok, "valid", EMAIL, bind(EMAIL))
    add(
        "other-handle",
        "the binding names the email address, looked up as the phone number",
        ["IDENT-007"],
        "invalid",
        PHONE,
        bind(EMAIL),
        flags=["OtherHandle"],
    )
    add(
        "other-account",
        "the binding names another account",
        ["IDENT-010"],
        "invalid",
        EMAIL,
        bind(EMAIL, stranger.public.account_id, stranger),
        flags=["OtherAccount"],
    )
    add(
        "other-account",
        "the account state does not list the handle (given up)",
        ["IDENT-010"],
        "invalid",
        EMAIL,
        bind(EMAIL),
        no_email,
        flags=["OtherAccount"],
    )
    add(
        "other-account",
        "the binding names this account, the state given is another's that lists the handle",
        ["IDENT-010"],
        "invalid",
        EMAIL,
        bind(EMAIL),
        other_state,
        flags=["OtherAccount"],
    )
    good = wire.encode(
        sign_handle_binding(pair, HandleBinding(handle=PHONE, account_id=aid, epoch=3))
    )
    sig_len = len(good) - len(wire.encode(HandleBinding(handle=PHONE, account_id=aid, epoch=3))) - 2
    for bit in (0, 8 * sig_len - 1):
        add(
            "modified-signature",
            f"signature bit {bit} flipped",
            ["IDENT-008"],
            "invalid",
            PHONE,
            flip_bit(good, 8 * (len(good) - sig_len) + bit).hex(),
            flags=["ModifiedSignature"],
        )
    add(
        "modified-signature",
        "signed by another key of the same account",
        ["IDENT-008"],
        "invalid",
        PHONE,
        bind(PHONE, aid, forger),
        flags=["ModifiedSignature"],
    )
    binding = HandleBinding(handle=PHONE, account_id=aid, epoch=3)
    for what, context in (
        ("the account state context", CONTEXT_STATE),
        ("the device record context", CONTEXT_DEVICE),
        ("no context string", b""),
    ):
        forged = SignedHandleBinding(
            binding=binding, signature=pair.sign(context, wire.encode(binding))
        )
        add(
            "wrong-context",
            f"signed by the account key over {what}",
            ["ACCT-004", "IDENT-008"],
            "invalid",
            PHONE,
            _enc(forged),
            flags=["WrongContext"],
        )
    add(
        "malformed",
        "truncated by one byte",
        ["IDENT-009"],
        "invalid",
        PHONE,
        good[:-1].hex(),
        flags=["Malformed"],
    )
    add(
        "malformed",
        "one trailing byte",
        ["IDENT-009"],
        "invalid",
        PHONE,
        (good + b"\x01").hex(),
        flags=["Malformed"],
    )
    add(
        "malformed",
        "an account state stored as the handle's value",
        ["IDENT-009"],
        "invalid",
        PHONE,
        state_value,
        flags=["Malformed"],
    )
    return vf


# -- ckv.enrollment -----------------------------------------------------------------------------

ENROLL_NOTES = {
    "LegacyDevices": Note(
        "OPT_IN",
        "Turning CKV on must be refused while legacy devices are enrolled, naming exactly "
        "those devices in the state's order (ENROLL-005).",
    ),
    "LegacyWhileOn": Note("OPT_IN", "A legacy device must not be added while CKV is on."),
    "UnknownDevice": Note("PROTOCOL", "Removing a device that is not enrolled (ENROLL-004)."),
    "DuplicateDevice": Note("AMBIGUITY", "Adding a device that is already enrolled (ACCT-011)."),
    "Malformed": Note("CODEC", "The new device's record does not decode strictly."),
    "WrongKey": Note(
        "AUTH_BYPASS", "The private key is not the account key of the state (ACCT-008)."
    ),
}


def _enroll(
    cs: CipherSuite, pair: AccountKeyPair, current: AccountState, op: JSON, now: int
) -> SignedAccountState:
    """Perform one enrollment operation with the reference's pure transitions."""
    name = op["op"]
    if name == "add-device":
        return add_device(pair, current, _decode(DeviceRecord, op["record"], "record"), now)
    if name == "remove-device":
        return remove_device(pair, current, hexb(op["device_id"], "device_id"), now)
    if name == "enable-ckv":
        return enable_ckv(pair, current, now)
    if name == "disable-ckv":
        return disable_ckv(pair, current, now)
    if name == "rotate-key":
        private = hexb(op["new_private_key"], "new_private_key")
        new = _pair_from_private(cs, current.account_key.account_id, private)
        return rotate_account_key(pair, new, current, now)
    msg = f"unknown enrollment operation {name!r}"
    raise UsageError(msg)


def handle_enrollment(request: JSON) -> JSON:
    """Reference handler of ``ckv.enrollment``: the decision for one operation."""
    cs = suite_named(request["cipher_suite"])
    current = decode_account_state(hexb(request["state"], "state")).state
    pair = _pair_from_private(
        cs, current.account_key.account_id, hexb(request["private_key"], "private_key")
    )
    # ACCT-008: a state is signed by the account key it carries, and by no other.
    if pair.public != current.account_key:
        msg = "private_key: not the private half of the state's account key"
        raise UsageError(msg, requirement="ACCT-008")
    now = int(request["now_ms"])
    op = request["operation"]
    name = op["op"]
    try:
        signed = _enroll(cs, pair, current, op, now)
    except LegacyDevicesError as refusal:
        # ENROLL-003 (a legacy device while CKV is on) or ENROLL-005 (turning CKV on).
        requirement = "ENROLL-003" if name == "add-device" else "ENROLL-005"
        return {
            "decision": "refused",
            "requirement": requirement,
            "devices": [d.hex() for d in refusal.devices],
        }
    except UsageError as refusal:
        if refusal.requirement not in {"ENROLL-004", "ACCT-011"}:
            raise
        device = (
            op.get("device_id") or _decode(DeviceRecord, op["record"], "record").device_id.hex()
        )
        return {"decision": "refused", "requirement": refusal.requirement, "devices": [device]}
    out: JSON = {"decision": "published", "state": state_summary(signed.state)}
    # Ed25519 signatures are deterministic (RFC 8032), so the whole signed value is
    # reproducible; ECDSA signatures need not be (CKV does not require RFC 6979).
    if cs is CipherSuite.KT_128_SHA256_Ed25519:
        out["value"] = wire.encode(signed).hex()
    return out


def _enrollment_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"ckv/enrollment.{short}.json",
        kind="ckv.enrollment",
        short=short,
        description=f"Enrollment decisions under {cs.name} (spec: enrollment, ENROLL-002 to "
        "ENROLL-008): the next signed state, reproducible from the test keys given, or the "
        "refusal with the devices it names.",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv enrollment vectors {cs.name}")
    phone, laptop = _device(rng), _device(rng)
    tablet, watch = _device(rng, version=1), _device(rng, capable=False)
    pair = _pair(cs, rng)
    created = create_account(pair, phone, [PHONE, EMAIL], NOW)
    off = add_device(pair, created.state, laptop, NOW + 1000)
    with_legacy = add_device(
        pair, add_device(pair, off.state, tablet, NOW + 2000).state, watch, NOW + 3000
    )
    on = enable_ckv(pair, off.state, NOW + 4000)
    new_private = _pair(cs, rng, pair.public.account_id).private

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        state: SignedAccountState,
        operation: JSON,
        flags: Sequence[str] = (),
        *,
        result: str = "valid",
        private: bytes = pair.private,
    ) -> None:
        vf.add_reference(
            handle_enrollment,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input={
                "cipher_suite": cs.name,
                "private_key": private.hex(),
                "state": _enc(state),
                "now_ms": NOW + 60_000,
                "operation": operation,
            },
            flags=flags,
        )

    new_dev = _device(rng)
    add(
        "add-device",
        "add a capable device while CKV is off",
        ["ENROLL-002", "ACCT-006"],
        off,
        {"op": "add-device", "record": _enc(new_dev)},
    )
    add(
        "add-device",
        "add a capable device while CKV is on",
        ["ENROLL-002", "ENROLL-003"],
        on,
        {"op": "add-device", "record": _enc(new_dev)},
    )
    add(
        "add-device",
        "add a legacy device while CKV is off",
        ["ENROLL-002", "ENROLL-003"],
        off,
        {"op": "add-device", "record": _enc(tablet)},
    )
    for legacy in (tablet, watch):
        add(
            "legacy-while-on",
            f"add a legacy device {legacy.device_id.hex()} while CKV is on: refused",
            ["ENROLL-003"],
            on,
            {"op": "add-device", "record": _enc(legacy)},
            flags=["LegacyWhileOn"],
        )
    add(
        "duplicate-device",
        "add a device that is already enrolled: refused",
        ["ACCT-011"],
        off,
        {"op": "add-device", "record": _enc(laptop)},
        flags=["DuplicateDevice"],
    )
    add(
        "remove-device",
        "sign the laptop out",
        ["ENROLL-004"],
        on,
        {"op": "remove-device", "device_id": laptop.device_id.hex()},
    )
    add(
        "unknown-device",
        "sign out a device that is not enrolled: refused",
        ["ENROLL-004"],
        on,
        {"op": "remove-device", "device_id": tablet.device_id.hex()},
        flags=["UnknownDevice"],
    )
    add(
        "enable",
        "turn CKV on, every device capable",
        ["ENROLL-005", "ENROLL-006"],
        off,
        {"op": "enable-ckv"},
    )
    add(
        "legacy-devices",
        "turn CKV on with two legacy devices: refused, naming both in order",
        ["ENROLL-005"],
        with_legacy,
        {"op": "enable-ckv"},
        flags=["LegacyDevices"],
    )
    one_left = remove_device(pair, with_legacy.state, tablet.device_id, NOW + 5000)
    add(
        "legacy-devices",
        "turn CKV on after one legacy device was signed out: refused, naming the other",
        ["ENROLL-005"],
        one_left,
        {"op": "enable-ckv"},
        flags=["LegacyDevices"],
    )
    add("disable", "turn CKV off", ["ENROLL-007"], on, {"op": "disable-ckv"})
    add(
        "rotate",
        "rotate the account key: records signed again, the old key hands over",
        ["ENROLL-008", "ACCT-012"],
        on,
        {"op": "rotate-key", "new_private_key": new_private.hex()},
    )
    record = wire.encode(new_dev)
    for what, data in (
        ("truncated by one byte", record[:-1]),
        ("one trailing byte", record + b"\0"),
    ):
        add(
            "malformed-record",
            f"add a device whose record is {what}: rejected, nothing signed",
            ["ACCT-006"],
            off,
            {"op": "add-device", "record": data.hex()},
            ["Malformed"],
            result="invalid",
        )
    add(
        "wrong-key",
        "the private key given is not the state's account key: nothing is signed",
        ["ACCT-008"],
        on,
        {"op": "disable-ckv"},
        ["WrongKey"],
        result="invalid",
        private=new_private,
    )
    return vf


_RECORD_OP: JSON = _obj({"op": {"const": "add-device"}, "record": HEX})
_ENROLL_OPERATION: JSON = {
    "anyOf": [
        _RECORD_OP,
        _obj({"op": {"const": "remove-device"}, "device_id": HEX}),
        _obj({"op": {"enum": ["enable-ckv", "disable-ckv"]}}),
        _obj({"op": {"const": "rotate-key"}, "new_private_key": HEX}),
    ]
}
_ENROLL_OUTPUT: JSON = {
    "anyOf": [
        _obj(
            {"decision": {"const": "published"}, "state": _SUMMARY, "value": HEX},
            optional=["value"],
        ),
        _obj(
            {
                "decision": {"const": "refused"},
                "requirement": {"enum": ["ENROLL-003", "ENROLL-004", "ENROLL-005", "ACCT-011"]},
                "devices": _HEXES,
            }
        ),
    ]
}


# -- ckv.alert.decide ---------------------------------------------------------------------------

ALERT_KIND = "ckv.alert.decide"

ALERT_NOTES = {
    "OptOut": Note(
        "OPT_IN",
        "The contact turned CKV off after it was on: contact_ckv_off must be raised "
        "(VERIFY-006), by a client whose directory is honest.",
    ),
    "InjectedDevice": Note(
        "AUTH_BYPASS",
        "The directory adds a device the account key did not sign: unrecognized_device "
        "naming it (ACCT-007), or owner_unrecognized_device (SELF-004).",
    ),
    "Rollback": Note("ROLLBACK", "The directory replays an older state as a new version."),
    "KeyReplaced": Note(
        "AUTH_BYPASS",
        "The directory replaces the account key, or points the handle at another account: "
        "account_key_replaced (ACCT-012).",
    ),
    "ForgedState": Note(
        "AUTH_BYPASS",
        "The directory changes a signed state (drops a device, drops the opt-in flag) or "
        "serves one the account key did not sign: signature_invalid (ACCT-008).",
    ),
    "HandleMismatch": Note(
        "CONFUSION", "The handle points at an account that does not claim it (IDENT-010)."
    ),
    "StaleHead": Note("FRESHNESS", "The directory serves a frozen tree: directory_stale."),
    "TamperedProof": Note("AUTH_BYPASS", "A bit of a proof is flipped: proof_invalid."),
    "Unreachable": Note("AVAILABILITY", "The directory does not answer: directory_unreachable."),
    "LegacyWithOptIn": Note(
        "OPT_IN",
        "A state with CKV on that lists a legacy device must be refused (ENROLL-006): "
        "signature_invalid.",
    ),
    "Fork": Note(
        "SPLIT_VIEW",
        "The directory shows two devices different branches of the log: their gossip "
        "must raise fork_detected (VERIFY-005, FORK-001).",
    ),
    "UnexplainedValue": Note(
        "AUTH_BYPASS",
        "A value of the owner's account that its journal does not explain: "
        "owner_state_mismatch (SELF-005).",
    ),
}


def ckv_turned_off(previous: AccountState | None, state: AccountState) -> bool:
    """VERIFY-006: a state with CKV off accepted after one with CKV on."""
    return previous is not None and previous.ckv is OptIn.on and state.ckv is OptIn.off


#: Alerts whose verdict names a device (the alert's ``device_id``).
_NAMES_DEVICE = (AlertCode.unrecognized_device, AlertCode.owner_unrecognized_device)


class _Answer:
    """A transport that gives the one answer of a script's step to the one request."""

    def __init__(
        self, request: messages.DistinguishedRequest, response: str, config: messages.Configuration
    ) -> None:
        self.request = request
        self.response = response
        self.config = config

    def distinguished(
        self, request: messages.DistinguishedRequest
    ) -> messages.DistinguishedResponse:
        if request != self.request:
            msg = "the device made another request than the script's"
            raise UsageError(msg)
        response: messages.DistinguishedResponse = wire.decode(
            messages.DistinguishedResponse,
            hexb(self.response, "response"),
            suite=self.config.ciphersuite,
            mode=self.config.mode,
        )
        return response


@dataclass
class AlertSession:
    """A device's verdicts on the directory's answers (the reference adapter's side).

    ``role`` is ``contact`` (verify the contact whose handle label is ``label``) or
    ``owner`` (self-monitor the own account label ``label``). ``fetch``, when set,
    makes the account search of a contact step live instead of reading it from the
    step (the generator records it so).
    """

    config: messages.Configuration
    role: str
    label: bytes
    kt: ClientState = field(default_factory=ClientState.initial)
    accepted: AccountState | None = None
    account_id: bytes | None = None
    account_version: int | None = None
    #: Owner: the newest version the journal explained, and its epoch.
    explained: tuple[int, int] = (-1, -1)
    fetch: Callable[[bytes, int | None], JSON] | None = None
    fetched: JSON = None

    @classmethod
    def open(cls, setup: JSON) -> AlertSession:
        """A device with an empty state, of the directory the setup configures."""
        data = hexb(setup["configuration"], "configuration")
        suite = CipherSuite(int.from_bytes(data[:2], "big")) if len(data) >= 2 else None
        if suite not in SUITE_SHORT:
            raise UsageError("configuration: unknown cipher suite")
        config = wire.decode(messages.Configuration, data, suite=suite)
        role = str(setup["role"])
        label = hexb(setup["label"], "label")
        kind = parse_label(label).kind
        if (role, kind) not in {("contact", LabelKind.handle), ("owner", LabelKind.account)}:
            msg = f"role {role!r} with a {kind.name} label"
            raise UsageError(msg)
        return cls(config, role, label)

    def step(self, request: JSON) -> JSON:
        """One check; the output is the alert raised (or null) and the accepted epoch."""
        now = int(request["now_ms"])
        op = request["operation"]
        if self.role == "contact" and op in {"verify-contact", "gossip"}:
            if op == "gossip":
                code, device = self._gossip(request, now)
            else:
                code, device = self._verify_contact(request, now)
            epoch = None if self.accepted is None else self.accepted.epoch
        elif self.role == "owner" and op == "self-check":
            code, device = self._self_check(request, now)
            epoch = None if self.explained[1] < 0 else self.explained[1]
        else:
            msg = f"operation {op!r} in a {self.role} session"
            raise UsageError(msg)
        return {
            "alert": None if code is None else code.name,
            "device_id": device.hex() if code in _NAMES_DEVICE else "",
            "accepted_epoch": epoch,
        }

    def _search(self, exchange: JSON, label: bytes, now: int) -> tuple[Any, AlertCode | None]:
        """Verify one search exchange; the result, or the alert its failure raises."""
        cs = self.config.ciphersuite
        if not isinstance(exchange, dict):
            msg = f"no search exchange given for label {label.hex()}"
            raise UsageError(msg)
        req = wire.decode(messages.SearchRequest, hexb(exchange["request"], "request"), suite=cs)
        if req.label != label or req.version is not None or req.last != self.kt.tree_size:
            msg = (
                f"the script's request (label {req.label.hex()}, last {req.last}) is not the "
                f"greatest-version search of {label.hex()} from tree size {self.kt.tree_size}"
            )
            raise UsageError(msg)
        if exchange.get("response") is None:
            # VERIFY-008: no answer.
            return None, AlertCode.directory_unreachable
        try:
            resp = wire.decode(
                messages.SearchResponse,
                hexb(exchange["response"], "response"),
                suite=cs,
                mode=self.config.mode,
                context={"SearchRequest.version": "absent"},
            )
            result, new_state = verify_search(self.kt, self.config, req, resp, now)
        except CKVError as error:
            # VERIFY-009 (SUITE-020: directory_stale) or VERIFY-010 (proof_invalid).
            return None, alert_code_for(error)
        self.kt = new_state
        return result, None

    def _verify_contact(self, request: JSON, now: int) -> tuple[AlertCode | None, bytes]:
        """Resolve the handle and its account, as ContactVerification.verify_contact does."""
        from ckv.account import decode_handle_binding  # noqa: PLC0415

        hlabel = self.label
        handle = parse_label(hlabel).handle
        assert handle is not None
        bound, code = self._search(request.get("handle"), hlabel, now)
        if code is not None:
            return code, b""
        try:
            account_id: bytes | None = decode_handle_binding(bound.value).binding.account_id
        except AccountStateError:
            account_id = None
        if account_id is None or len(account_id) != 16:
            # IDENT-009: no binding the account key could have made.
            return AlertCode.signature_invalid, b""
        if self.account_id is not None and account_id != self.account_id:
            # The handle points at another account: no rotation hands one over (ACCT-014).
            return AlertCode.account_key_replaced, b""
        alabel = account_label(account_id)
        if self.fetch is not None:
            self.fetched = self.fetch(alabel, self.kt.tree_size)
            exchange = self.fetched
        else:
            exchange = request.get("account")
        looked, code = self._search(exchange, alabel, now)
        if code is not None:
            return code, b""
        try:
            # ACCT-015 compares with the newest state accepted before; the same version
            # found again has nothing to compare.
            same = looked.version == self.account_version
            state = validate_account_state(
                alabel,
                looked.value,
                suite=self.config.ciphersuite,
                previous=None if same else self.accepted,
            )
            validate_handle_binding(hlabel, bound.value, state, handle)
        except AccountStateError as error:
            # VERIFY-007: the alert the failed check names; VERIFY-002: nothing accepted.
            return alert_code_for(error), error.device_id or b""
        previous = self.accepted
        self.accepted, self.account_id, self.account_version = state, account_id, looked.version
        if ckv_turned_off(previous, state):
            return AlertCode.contact_ckv_off, b""
        return None, b""

    def _gossip(self, request: JSON, now: int) -> tuple[AlertCode | None, bytes]:
        """Walk the distinguished heads, compare with a peer's gossip (VERIFY-005, FORK-001)."""
        from ckv.kt_client import GossipEntry, HeadGossip, KTClient  # noqa: PLC0415

        cs = self.config.ciphersuite
        walk = request["walk"]
        req = wire.decode(messages.DistinguishedRequest, hexb(walk["request"], "request"), suite=cs)
        if req.last != self.kt.tree_size or req.stop is not None:
            msg = f"the script's walk does not start from tree size {self.kt.tree_size}"
            raise UsageError(msg)
        peer = HeadGossip(
            tuple(
                GossipEntry(
                    int(e["position"]),
                    wire.decode(messages.ForkView, hexb(e["view"], "view"), suite=cs),
                )
                for e in request["peer"]
            )
        )
        if walk.get("response") is None:
            return AlertCode.directory_unreachable, b""
        transport = _Answer(req, walk["response"], self.config)
        client = KTClient(self.config, transport, clock=lambda: now, state=self.kt)  # type: ignore[arg-type]
        try:
            client.refresh_distinguished()
        except CKVError as error:
            return alert_code_for(error), b""
        self.kt = client.state
        # FORK-001: heads that cannot both be right are a fork, for both devices.
        evidence = client.compare_with_peer(peer)
        return (None if evidence is None else AlertCode.fork_detected), b""

    def _self_check(self, request: JSON, now: int) -> tuple[AlertCode | None, bytes]:
        """Explain the own account's greatest version by the journal (SELF-002 to SELF-005)."""
        from ckv.device_core import epoch_of  # noqa: PLC0415

        label = self.label
        found, code = self._search(request.get("account"), label, now)
        if code is not None:
            return code, b""
        journal = request["journal"]
        entries = [wire.from_json("JournalEntry", e) for e in journal["entries"]]
        known = {wire.from_json("JournalDevice", d).device_id for d in journal["devices"]}
        version, value = found.version, found.value
        if version <= self.explained[0]:
            return None, b""  # explained before
        cs = self.config.ciphersuite
        digest = get_suite(cs).hash(value)
        epoch = epoch_of(label, value)
        # SELF-003: a journal entry with the label, epoch and hash explains the value, if
        # its epoch is newer than that of every version explained before.
        if (
            epoch is not None
            and epoch > self.explained[1]
            and any(
                e.label == label and e.value_hash == digest and e.epoch == epoch for e in entries
            )
        ):
            self.explained = (version, epoch)
            return None, b""
        unknown: bytes | None = None
        try:
            state = validate_account_state(label, value, suite=cs)
            extra = [d.record.device_id for d in state.devices if d.record.device_id not in known]
            unknown = extra[0] if extra else None
        except AccountStateError as error:
            unknown = error.device_id if error.requirement == "ACCT-007" else None
        # SELF-004: a device nobody enrolled; SELF-005: any other unexplained value.
        if unknown is not None:
            return AlertCode.owner_unrecognized_device, unknown
        return AlertCode.owner_state_mismatch, b""


# -- recording scripts from the adversarial directory ------------------------------------------


class _Stage:
    """One seeded world per vector file: the directory, Alice (the checking contact), Mallory."""

    def __init__(self, cs: CipherSuite, role: str) -> None:
        from ckv.demo import build_world  # noqa: PLC0415 - generator only

        self.cs = cs
        self.role = role
        w = self.world = build_world(f"ckv alert vectors {cs.name} {role}".encode(), cs)
        self.alice = w.device("alice-phone", "Alice's phone")
        self.alice.create_account([ALICE])
        self.alice.enable_ckv()
        self.mallory = w.device("mallory", "Mallory's phone")
        self.mallory.create_account([MALLORY])
        self.mallory.enable_ckv()
        self.scripts = 0


class _Script:
    """One scenario: a fresh contact account (Bob), a recording client and a real device.

    The recording client (``checker-<n>``) makes the searches the steps give; a real
    device of the reference (Alice's phone for a contact, Bob's phone for the owner)
    checks at the same moments, and its alerts must be the session's (cross-check).
    """

    def __init__(self, stage: _Stage, name: str) -> None:
        stage.scripts += 1
        n = stage.scripts
        self.stage = stage
        w = self.world = stage.world
        cs = self.cs = stage.cs
        role = self.role = stage.role
        self.handle = Handle(handle_type=HandleType.email, value=b"bob%d@example.org" % n)
        bob = self.bob = w.device(f"bob-{n}-phone", f"Bob's phone ({name})")
        bob.create_account([self.handle])
        self.bob_laptop = w.device(f"bob-{n}-laptop", f"Bob's laptop ({name})")
        bob.enroll(self.bob_laptop)
        bob.enable_ckv()
        self.alice = stage.alice
        self.tick()
        assert bob.account_id is not None
        self.alabel = account_label(bob.account_id)
        checker = f"checker-{n}"
        self.clients = [checker, "alice-phone" if role == "contact" else f"bob-{n}-phone"]
        label = handle_label(self.handle) if role == "contact" else self.alabel
        self.config = bob.config
        self.setup = {
            "configuration": wire.encode(self.config, suite=cs).hex(),
            "role": role,
            "label": label.hex(),
        }
        self.transport = w.directory.client(checker)
        self.session = AlertSession(self.config, role, label)
        self.session.fetch = self._exchange
        self.steps: list[Step] = []
        self.seen_real: set[str] = set()

    def tick(self, minutes: int = 1) -> None:
        w = self.world
        for _ in range(minutes):
            w.clock.advance(60_000)
            if w.directory.heartbeat_due():
                w.directory.heartbeat()

    def _exchange(self, label: bytes, last: int | None) -> JSON:
        from ckv.directory import DirectoryUnavailable  # noqa: PLC0415

        cs, mode = self.cs, self.config.mode
        req = messages.SearchRequest(last=last, label=label, version=None)
        ctx = {"SearchRequest.version": "absent"}
        out: JSON = {"request": wire.encode(req, suite=cs).hex(), "response": None}
        try:
            resp = self.transport.search(req)
        except DirectoryUnavailable:
            return out
        out["response"] = wire.encode(resp, suite=cs, mode=mode, context=ctx).hex()
        return out

    def check(self, description: str) -> JSON:
        """One step: the checker searches live; the real device checks the same moment."""
        s = self.session
        now = self.world.clock()
        if self.role == "contact":
            inp: JSON = {
                "operation": "verify-contact",
                "now_ms": now,
                "handle": self._exchange(s.label, s.kt.tree_size),
            }
            s.fetched = None
            output = s.step(inp)
            inp["account"] = s.fetched
            real = self._real_contact()
        else:
            journal = self.bob.journal()
            inp = {
                "operation": "self-check",
                "now_ms": now,
                "account": self._exchange(s.label, s.kt.tree_size),
                "journal": {
                    "devices": [wire.to_json(d) for d in journal.devices],
                    "entries": [wire.to_json(e) for e in journal.entries],
                },
            }
            output = s.step(inp)
            real = self._real_owner()
        self._cross_check(output, real, description)
        self.steps.append(Step(inp, "valid", output, description=description))
        return output

    def gossip(self, description: str) -> JSON:
        """A gossip step: the checker walks its view, Bob's phone is the peer."""
        s = self.session
        cs, mode = self.cs, self.config.mode
        req = messages.DistinguishedRequest(last=s.kt.tree_size, stop=None)
        resp = self.transport.distinguished(req)
        peer = self.bob.kt.tree_head_for_gossip()
        inp: JSON = {
            "operation": "gossip",
            "now_ms": self.world.clock(),
            "walk": {
                "request": wire.encode(req, suite=cs).hex(),
                "response": wire.encode(resp, suite=cs, mode=mode).hex(),
            },
            "peer": [
                {"position": e.position, "view": wire.encode(e.view, suite=cs).hex()}
                for e in peer.entries
            ],
        }
        output = s.step(inp)
        self._cross_check(output, self.alice.gossip(self.bob)[:1], description)
        self.steps.append(Step(inp, "valid", output, description=description))
        return output

    def _real_contact(self) -> list[Any]:
        contact = self.alice.contacts.get(handle_label(self.handle))
        before = 0 if contact is None else len(contact.alerts)
        return self.alice.verify_contact(self.handle).alerts[before:]

    def _real_owner(self) -> list[Any]:
        return [a for a in self.bob.self_monitor() if a.subject in {self.alabel, b""}]

    def _cross_check(self, output: JSON, real: list[Any], description: str) -> None:
        """The recorded verdict is what the reference's real device raised (or had raised)."""
        got = output["alert"]
        codes = [a.code.name for a in real]
        if codes:
            ok = got == codes[0] and (
                got not in {c.name for c in _NAMES_DEVICE}
                or output["device_id"] == real[0].device_id.hex()
            )
        else:
            ok = got is None or got in self.seen_real
        self.seen_real.update(codes)
        if not ok:
            msg = f"{description}: the session says {got}, the device raised {codes}"
            raise RuntimeError(msg)

    # -- what the directory and the owner do --------------------------------------------------

    def forged(self, *, signer: str = "forger", **changes: object) -> bytes:
        """Bob's current state, changed and signed by the directory's own key.

        With ``signer="kept"`` the signature of the current value is kept instead.
        """
        directory = self.world.directory
        current = directory.value(self.alabel, directory.greatest_version(self.alabel) or 0)
        signed = decode_account_state(current or b"")
        new = replace(signed.state, **changes)  # type: ignore[arg-type]
        if signer == "kept":
            return wire.encode(SignedAccountState(state=new, signature=signed.signature))
        signature = self.forger().sign(CONTEXT_STATE, wire.encode(new))
        return wire.encode(SignedAccountState(state=new, signature=signature))

    def forger(self) -> AccountKeyPair:
        from ckv.demo import SeededRandom  # noqa: PLC0415

        assert self.bob.account_id is not None
        return generate_account_key(self.cs, self.bob.account_id, SeededRandom(b"forger"))

    def inject(self, label: bytes, value: bytes) -> None:
        self.world.directory.inject(label, value)
        self.tick()


ALICE = Handle(handle_type=HandleType.phone, value=b"+14155550100")
MALLORY = Handle(handle_type=HandleType.email, value=b"mallory@example.org")


def _session_case(  # noqa: PLR0917 - a row of the vector table
    vf: VectorFile,
    script: _Script,
    name: str,
    what: str,
    reqs: Sequence[str],
    flags: Sequence[str] = (),
) -> None:
    alerts = any(s.output["alert"] is not None for s in script.steps)
    vf.add(
        Case(
            name,
            what,
            tuple(dict.fromkeys(["VERIFY-007", "ALERT-001", *reqs])),
            "invalid" if alerts else "valid",
            flags=tuple(flags) if alerts else (),
            setup=script.setup,
            steps=script.steps,
        )
    )


def _contact_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"ckv/alert-contact.{short}.json",
        kind=ALERT_KIND,
        short=f"contact.{short}",
        description=f"Automatic verification of a contact under {cs.name}: the harness plays "
        "the directory (honest, or misbehaving on a seeded script) and the device answers "
        "each lookup with the alert it raises (spec: verification, VERIFY-001 to VERIFY-011).",
        parameters={"cipher_suite": cs.name, "role": "contact"},
    )

    stage = _Stage(cs, "contact")

    def new(name: str) -> _Script:
        return _Script(stage, name)

    s = new("honest")
    s.check("first lookup: accepted")
    watch = s.world.device("bob-watch", "Bob's watch")
    s.bob.enroll(watch)
    s.tick()
    s.check("Bob enrolled a watch: no alert")
    s.bob_laptop.rotate_account_key()
    s.tick()
    s.check("Bob's laptop rotated the account key (with hand-over): no alert")
    s.bob.sign_out(watch.device_id)
    s.tick(3)
    s.check("Bob signed the watch out: no alert")
    s.check("nothing changed: no alert")
    _session_case(
        vf,
        s,
        "honest",
        "an honest directory and the owner's own changes (enroll, rotate, sign out) raise nothing",
        ["VERIFY-001", "VERIFY-004", "VERIFY-011", "ENROLL-008", "ACCT-012"],
    )

    s = new("ckv-off")
    s.check("first lookup: accepted, CKV on")
    s.bob.disable_ckv()
    s.tick()
    s.check("Bob turned CKV off: contact_ckv_off")
    s.bob.enable_ckv()
    s.tick()
    s.check("Bob turned CKV on again: no alert")
    _session_case(
        vf,
        s,
        "ckv-off",
        "the contact turns CKV off (honest directory): contact_ckv_off",
        ["VERIFY-006", "ENROLL-007", "VERIFY-011"],
        ["OptOut"],
    )

    s = new("opt-in-dropped")
    s.check("first lookup: accepted, CKV on")
    s.inject(
        s.alabel, s.forged(signer="kept", ckv=OptIn.off, epoch=s.bob.account_state().epoch + 1)
    )
    s.check("the directory drops the opt-in flag (signature kept): signature_invalid")
    _session_case(
        vf,
        s,
        "opt-in-dropped",
        "the directory turns the flag off itself: not contact_ckv_off but signature_invalid",
        ["ACCT-008", "VERIFY-006"],
        ["ForgedState"],
    )

    s = new("injected-device")
    s.check("first lookup: accepted")
    fake = replace(s.bob.record, device_id=b"\xee" * 16)
    state = s.bob.account_state()
    s.inject(
        s.alabel,
        s.forged(
            devices=(*state.devices, sign_device_record(s.forger(), fake)), epoch=state.epoch + 1
        ),
    )
    s.check(f"the directory injects device {fake.device_id.hex()}: unrecognized_device")
    s.check("looked up again: the alert again, the accepted state kept")
    _session_case(
        vf,
        s,
        "injected-device",
        "the directory adds a device to the contact's account: unrecognized_device naming it",
        ["ACCT-007", "VERIFY-002"],
        ["InjectedDevice"],
    )

    s = new("rollback")
    s.check("first lookup: accepted")
    s.world.directory.rollback(s.alabel, 0)
    s.tick()
    s.check("the directory replays the account's first state: rollback")
    _session_case(vf, s, "rollback", "a replayed older state: rollback", ["ACCT-015"], ["Rollback"])

    s = new("key-replaced")
    s.check("first lookup: accepted")
    forger = s.forger()
    state = s.bob.account_state()
    fake_state = replace(
        state,
        account_key=forger.public,
        epoch=state.epoch + 1,
        devices=tuple(sign_device_record(forger, d.record) for d in state.devices),
    )
    s.inject(s.alabel, wire.encode(sign_account_state(forger, fake_state)))
    s.check("the directory replaces the account key: account_key_replaced")
    _session_case(
        vf,
        s,
        "key-replaced",
        "a new account key without the previous key's hand-over: account_key_replaced",
        ["ACCT-012"],
        ["KeyReplaced"],
    )

    s = new("dropped-device")
    s.check("first lookup: accepted")
    state = s.bob.account_state()
    s.inject(s.alabel, s.forged(signer="kept", devices=state.devices[:1], epoch=state.epoch + 1))
    s.check("the directory drops Bob's laptop (signature kept): signature_invalid")
    _session_case(
        vf,
        s,
        "dropped-device",
        "a device dropped from a signed state: signature_invalid",
        ["ACCT-008"],
        ["ForgedState"],
    )

    s = new("legacy-opt-in")
    s.check("first lookup: accepted")
    state = s.bob.account_state()
    old = replace(s.bob.record, device_id=b"\x1e" * 16, protocol_version=1, capabilities=())
    pair = s.bob._pair()
    legacy_on = replace(
        state, epoch=state.epoch + 1, devices=(*state.devices, sign_device_record(pair, old))
    )
    s.inject(s.alabel, wire.encode(sign_account_state(pair, legacy_on)))
    s.check("a state signed by Bob's key with CKV on and a legacy device: signature_invalid")
    _session_case(
        vf,
        s,
        "legacy-opt-in",
        "CKV on with a legacy device, signed by the account key (a faulty owner device; the "
        "directory's own check bypassed): signature_invalid (ENROLL-006)",
        ["ENROLL-006"],
        ["LegacyWithOptIn"],
    )

    s = new("forged-signature")
    s.check("first lookup: accepted")
    s.inject(s.alabel, s.forged(epoch=s.bob.account_state().epoch + 1))
    s.check("a newer state signed by the directory's own key: signature_invalid")
    _session_case(
        vf,
        s,
        "forged-signature",
        "a state not signed by its account key: signature_invalid",
        ["ACCT-008"],
        ["ForgedState"],
    )

    for name, first in (("handle-repointed", True), ("handle-mismatch", False)):
        s = new(name)
        mallory = stage.mallory
        if first:
            s.check("first lookup: accepted")
        binding = HandleBinding(handle=s.handle, account_id=mallory.account_id or b"", epoch=9)
        pair = mallory._pair()
        s.inject(handle_label(s.handle), wire.encode(sign_handle_binding(pair, binding)))
        if first:
            s.check("the directory points Bob's handle at Mallory's account: account_key_replaced")
            _session_case(
                vf,
                s,
                name,
                "the handle re-pointed at another account: account_key_replaced",
                ["ACCT-014", "IDENT-010"],
                ["KeyReplaced"],
            )
        else:
            s.check("first lookup: the handle is bound to an account that does not claim it")
            _session_case(
                vf,
                s,
                name,
                "a handle bound to an account that does not list it: handle_mismatch",
                ["IDENT-010", "VERIFY-001"],
                ["HandleMismatch"],
            )

    s = new("stale")
    s.check("first lookup: accepted")
    s.world.directory.serve_stale(on=True, clients=s.clients)
    s.world.clock.advance(90 * 60_000)
    s.world.directory.heartbeat()
    s.check("90 minutes later the directory still serves the old tree: directory_stale")
    s.world.directory.serve_stale(on=False, clients=s.clients)
    s.check("the directory is fresh again: no alert")
    _session_case(
        vf,
        s,
        "stale",
        "a frozen tree older than max_behind: directory_stale",
        ["VERIFY-009", "SUITE-020"],
        ["StaleHead"],
    )

    s = new("tampered")
    s.check("first lookup: accepted")
    for client in s.clients:
        s.world.directory.tamper(client=client)
    s.check("a bit of the proof flipped: proof_invalid")
    s.check("the honest answer: no alert")
    _session_case(
        vf,
        s,
        "tampered",
        "a tampered proof: proof_invalid; the state is kept and the honest answer verifies",
        ["VERIFY-010", "VERIFY-002"],
        ["TamperedProof"],
    )

    s = new("unreachable")
    s.check("first lookup: accepted")
    s.world.directory.go_silent(on=True, clients=s.clients)
    s.check("no answer: directory_unreachable")
    s.world.directory.go_silent(on=False, clients=s.clients)
    s.check("the directory answers again: no alert")
    _session_case(
        vf,
        s,
        "unreachable",
        "the directory does not answer: directory_unreachable",
        ["VERIFY-008"],
        ["Unreachable"],
    )

    # Last: the directory forks for good (one fork per directory).
    s = new("fork")
    s.check("first lookup: accepted")
    s.gossip("tree heads exchanged with Bob's phone, one view: no alert")
    state = s.bob.account_state()
    s.world.directory.fork(set(s.clients), label=s.alabel, value=s.forged(epoch=state.epoch + 40))
    s.tick(40)
    s.gossip("after the directory forked the checker's view: fork_detected")
    _session_case(
        vf,
        s,
        "fork",
        "gossip with a contact's device on another branch of the log: fork_detected",
        ["VERIFY-005", "FORK-001"],
        ["Fork"],
    )
    return vf


def _owner_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"ckv/alert-owner.{short}.json",
        kind=ALERT_KIND,
        short=f"owner.{short}",
        description=f"Self-monitoring under {cs.name}: the harness plays the directory and "
        "gives the account's journal; the device explains each value of its account label "
        "by the journal or raises an owner alert (spec: self-monitoring, SELF-002 to SELF-005).",
        parameters={"cipher_suite": cs.name, "role": "owner"},
    )

    stage = _Stage(cs, "owner")

    def new(name: str) -> _Script:
        return _Script(stage, name)

    s = new("honest")
    s.check("the account's newest state: explained by the journal")
    watch = s.world.device("bob-watch", "Bob's watch")
    s.bob.enroll(watch)
    s.tick()
    s.check("Bob enrolled a watch: explained")
    s.bob_laptop.rotate_account_key()
    s.tick()
    s.check("Bob's laptop rotated the account key: explained")
    s.bob.disable_ckv()
    s.tick()
    s.check("Bob turned CKV off: explained")
    s.check("nothing changed: no alert")
    _session_case(
        vf,
        s,
        "honest",
        "the owner's own changes are explained by the journal: no alert",
        ["SELF-002", "SELF-003", "VERIFY-011"],
    )

    s = new("injected-device")
    s.check("explained")
    fake = replace(s.bob.record, device_id=b"\xdd" * 16)
    state = s.bob.account_state()
    s.inject(
        s.alabel,
        s.forged(
            devices=(*state.devices, sign_device_record(s.forger(), fake)), epoch=state.epoch + 1
        ),
    )
    s.check(f"the directory injects device {fake.device_id.hex()}: owner_unrecognized_device")
    _session_case(
        vf,
        s,
        "injected-device",
        "a device none of the account's devices enrolled: owner_unrecognized_device naming it",
        ["SELF-003", "SELF-004"],
        ["InjectedDevice"],
    )

    s = new("rollback")
    s.check("explained")
    s.world.directory.rollback(s.alabel, 0)
    s.tick()
    s.check("the first state replayed: owner_state_mismatch")
    _session_case(
        vf,
        s,
        "rollback",
        "a replayed state (its journal entry is older): owner_state_mismatch",
        ["SELF-003", "SELF-005"],
        ["UnexplainedValue"],
    )

    s = new("key-replaced")
    s.check("explained")
    forger = s.forger()
    state = s.bob.account_state()
    fake_state = replace(
        state,
        account_key=forger.public,
        epoch=state.epoch + 1,
        devices=tuple(sign_device_record(forger, d.record) for d in state.devices),
    )
    s.inject(s.alabel, wire.encode(sign_account_state(forger, fake_state)))
    s.check("a state under a key the account never had: owner_state_mismatch")
    _session_case(
        vf,
        s,
        "key-replaced",
        "the account key replaced by the directory: owner_state_mismatch",
        ["SELF-005"],
        ["UnexplainedValue"],
    )

    s = new("opt-in-dropped")
    s.check("explained")
    s.inject(
        s.alabel, s.forged(signer="kept", ckv=OptIn.off, epoch=s.bob.account_state().epoch + 1)
    )
    s.check("the opt-in flag dropped by the directory: owner_state_mismatch")
    _session_case(
        vf,
        s,
        "opt-in-dropped",
        "a changed opt-in flag nobody published: owner_state_mismatch",
        ["SELF-005"],
        ["UnexplainedValue"],
    )

    s = new("tampered")
    s.check("explained")
    for client in s.clients:
        s.world.directory.tamper(client=client)
    s.check("a bit of the proof flipped: proof_invalid")
    s.check("the honest answer: no alert")
    _session_case(
        vf,
        s,
        "tampered",
        "a tampered proof of the owner's own label: proof_invalid",
        ["VERIFY-010"],
        ["TamperedProof"],
    )
    return vf


@functools.cache
def _alert_files() -> list[VectorFile]:
    """Both roles under both suites (cached: the scripts take seconds to record)."""
    return [f(cs) for cs in _SUITES for f in (_contact_file, _owner_file)]


_EXCHANGE: JSON = _obj({"request": HEX, "response": {"anyOf": [HEX, {"type": "null"}]}})
_JOURNAL: JSON = _obj(
    {
        "devices": {"type": "array", "items": {"type": "object"}},
        "entries": {"type": "array", "items": {"type": "object"}},
    }
)
_ALERT_STEP: JSON = {
    "anyOf": [
        _obj(
            {
                "operation": {"const": "verify-contact"},
                "now_ms": _UINT,
                "handle": _EXCHANGE,
                "account": {"anyOf": [_EXCHANGE, {"type": "null"}]},
            }
        ),
        _obj(
            {
                "operation": {"const": "gossip"},
                "now_ms": _UINT,
                "walk": _EXCHANGE,
                "peer": {
                    "type": "array",
                    "items": _obj({"position": _UINT, "view": HEX}),
                },
            }
        ),
        _obj(
            {
                "operation": {"const": "self-check"},
                "now_ms": _UINT,
                "account": _EXCHANGE,
                "journal": _JOURNAL,
            }
        ),
    ]
}
_ALERT_OUTPUT: JSON = _obj(
    {
        "alert": {"anyOf": [{"enum": [c.name for c in AlertCode]}, {"type": "null"}]},
        "device_id": HEX,
        "accepted_epoch": {"anyOf": [_UINT, {"type": "null"}]},
    }
)

register(
    VectorKind(
        name="ckv.device-record.verify",
        description="Verify a device record's signature by the account key (ACCT-004 to "
        "ACCT-007); output the device id and whether it is capable.",
        generate=lambda: [_device_record_file(cs) for cs in _SUITES],
        input_schema=_obj({"account_key": HEX, "record": HEX}),
        output_schema=_obj({"device_id": HEX, "capable": {"type": "boolean"}}),
        notes=RECORD_NOTES,
        handler=handle_device_record,
    )
)
register(
    VectorKind(
        name="ckv.account-state.validate",
        description="Validate an account label's value, optionally against the state accepted "
        "before; output a summary of the accepted state.",
        generate=lambda: [_account_state_file(cs) for cs in _SUITES],
        input_schema=_obj(
            {
                "cipher_suite": _SUITE_NAME,
                "label": HEX,
                "value": HEX,
                "previous": {"anyOf": [HEX, {"type": "null"}]},
            }
        ),
        output_schema=_SUMMARY,
        notes=STATE_NOTES,
        handler=handle_account_state,
    )
)
register(
    VectorKind(
        name="ckv.handle-binding.validate",
        description="Validate a handle label's value against the account state it points at "
        "(IDENT-007 to IDENT-010).",
        generate=lambda: [_binding_file(cs) for cs in _SUITES],
        input_schema=_obj(
            {"cipher_suite": _SUITE_NAME, "handle": _HANDLE, "value": HEX, "account_value": HEX}
        ),
        output_schema=_obj({"account_id": HEX, "epoch": _UINT}),
        notes=BINDING_NOTES,
        handler=handle_handle_binding,
    )
)
register(
    VectorKind(
        name="ckv.enrollment",
        description="Decide one enrollment operation on an account state: the next signed "
        "state, or the refusal naming the devices (ENROLL-002 to ENROLL-008).",
        generate=lambda: [_enrollment_file(cs) for cs in _SUITES],
        input_schema=_obj(
            {
                "cipher_suite": _SUITE_NAME,
                "private_key": HEX,
                "state": HEX,
                "now_ms": _UINT,
                "operation": _ENROLL_OPERATION,
            }
        ),
        output_schema=_ENROLL_OUTPUT,
        notes=ENROLL_NOTES,
        handler=handle_enrollment,
    )
)
register(
    VectorKind(
        name=ALERT_KIND,
        description="A device's alert decisions while the harness plays the directory: "
        "each step gives the exchanges of one check (verify-contact, gossip, self-check; "
        "conformance/PROTOCOL.md) and the device answers with the alert it raises, or none "
        "(VERIFY-001 to VERIFY-011, SELF-002 to SELF-005, FORK-001, CONF-016).",
        generate=_alert_files,
        input_schema=_ALERT_STEP,
        output_schema=_ALERT_OUTPUT,
        notes=ALERT_NOTES,
        session=AlertSession.open,
        setup_schema=_obj(
            {"configuration": HEX, "role": {"enum": ["contact", "owner"]}, "label": HEX}
        ),
    )
)
