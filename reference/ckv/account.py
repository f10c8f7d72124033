"""Account keys, device records and account states (spec chapter "Accounts and devices").

The account key signs every device record, every account state and every
handle binding the account publishes. This module makes and checks those
signatures and validates an account state as a contact or a sibling device
reads it from the directory. It does no I/O and keeps no state: enrollment
(:mod:`ckv.enrollment`) and verification (:mod:`ckv.contact_verification`)
build on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.errors import DecodeError, ErrorCode, UsageError, VerificationError
from ckv.identity import ACCOUNT_ID_SIZE, account_label, handle_label
from ckv.public_code import AccountKey
from ckv.wire.messages import (
    AccountKeyType,
    AccountPublicKey,
    AccountState,
    CipherSuite,
    DeviceCapability,
    DeviceRecord,
    DeviceRecordTBS,
    Handle,
    HandleBinding,
    KeyRotation,
    KeyRotationTBS,
    OptIn,
    SignedAccountState,
    SignedDeviceRecord,
    SignedHandleBinding,
)

__all__ = [
    "DEVICE_ID_SIZE",
    "MIN_PROTOCOL_VERSION",
    "AccountKeyPair",
    "AccountStateError",
    "decode_account_state",
    "decode_handle_binding",
    "generate_account_key",
    "is_capable",
    "key_type_for_suite",
    "legacy_devices",
    "public_code_key",
    "sign_account_state",
    "sign_device_record",
    "sign_handle_binding",
    "sign_rotation",
    "validate_account_state",
    "validate_handle_binding",
    "verify_device_record",
]

#: ACCT-003: device identifiers are 16 random bytes.
DEVICE_ID_SIZE = 16
#: ACCT-005: the lowest protocol version that can take part in CKV.
MIN_PROTOCOL_VERSION = 2

# ACCT-004: every signature the account key makes starts with one of these
# context strings, so that no signed object can be read as another.
_CONTEXT_DEVICE = b"CKV-v1 device record\x00"
_CONTEXT_STATE = b"CKV-v1 account state\x00"
_CONTEXT_HANDLE = b"CKV-v1 handle binding\x00"
_CONTEXT_ROTATION = b"CKV-v1 key rotation\x00"

_KEY_TYPES: dict[CipherSuite, AccountKeyType] = {
    CipherSuite.KT_128_SHA256_Ed25519: AccountKeyType.ed25519,
    CipherSuite.KT_128_SHA256_P256: AccountKeyType.ecdsa_p256_sha256,
}
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class AccountStateError(VerificationError):
    """An account state, device record or handle binding failed a check.

    ``device_id`` names the device record concerned, where there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        requirement: str,
        device_id: bytes | None = None,
        code: ErrorCode = ErrorCode.PROOF_INVALID,
    ) -> None:
        super().__init__(message, requirement=requirement, code=code)
        self.device_id = device_id


def key_type_for_suite(suite: CipherSuite) -> AccountKeyType:
    """The account key type a directory of this cipher suite uses (ACCT-001)."""
    return _KEY_TYPES[CipherSuite(suite)]


def _suite_for(key_type: AccountKeyType) -> CipherSuite:
    for suite, kind in _KEY_TYPES.items():
        if kind is key_type:
            return suite
    msg = f"account key type {key_type!r} is not registered"
    raise UsageError(msg, requirement="ACCT-001")


@dataclass(frozen=True, slots=True)
class AccountKeyPair:
    """An account key: the public half the directory holds and the private half.

    The private half exists only on the account's own devices and in the
    end-to-end encrypted sync record (ACCT-002).
    """

    public: AccountPublicKey
    private: bytes = b""

    def sign(self, context: bytes, message: bytes) -> bytes:
        """A signature by the account key over ``context || message``."""
        suite = get_suite(_suite_for(self.public.key_type))
        return suite.sign(self.private, context + message)

    def __repr__(self) -> str:  # never print a private key
        return f"AccountKeyPair(public={self.public!r}, private=<{len(self.private)} bytes>)"


def generate_account_key(
    suite: CipherSuite, account_id: bytes, random_bytes: Callable[[int], bytes]
) -> AccountKeyPair:
    """A fresh account key for ``account_id`` (ACCT-001, ACCT-002)."""
    key_type = key_type_for_suite(suite)
    while True:
        private = random_bytes(32)
        if key_type is AccountKeyType.ed25519 or 0 < int.from_bytes(private) < _P256_ORDER:
            break
    public = get_suite(suite).signature_public_key(private)
    return AccountKeyPair(
        AccountPublicKey(key_type=key_type, account_id=account_id, key=public), private
    )


def _verify(key: AccountPublicKey, context: bytes, message: bytes, signature: bytes) -> None:
    suite = get_suite(_suite_for(key.key_type))
    suite.verify(key.key, context + message, signature)


def public_code_key(key: AccountPublicKey) -> AccountKey:
    """The value the public verification code fingerprints for this account key."""
    return AccountKey(
        key=key.key,
        key_type=int(key.key_type),
        account_id=key.account_id,
        suite=_suite_for(key.key_type),
    )


def is_capable(record: DeviceRecord) -> bool:
    """Whether a device can take part in CKV (ACCT-005)."""
    return (
        record.protocol_version >= MIN_PROTOCOL_VERSION
        and DeviceCapability.ckv in record.capabilities
    )


def legacy_devices(devices: Sequence[SignedDeviceRecord]) -> tuple[bytes, ...]:
    """The ids of the enrolled devices that cannot take part in CKV, in order."""
    return tuple(d.record.device_id for d in devices if not is_capable(d.record))


def sign_device_record(pair: AccountKeyPair, record: DeviceRecord) -> SignedDeviceRecord:
    """Enroll a device: the account key signs its record (ACCT-006)."""
    tbs = wire.encode(DeviceRecordTBS(account_key=pair.public, record=record))
    return SignedDeviceRecord(record=record, signature=pair.sign(_CONTEXT_DEVICE, tbs))


def verify_device_record(
    key: AccountPublicKey, signed: SignedDeviceRecord, *, encoded_key: bytes | None = None
) -> None:
    """Raise :class:`AccountStateError` unless the account key signed this record.

    ``encoded_key`` is ``wire.encode(key)`` when the caller has it (a
    ``DeviceRecordTBS`` is the key's encoding followed by the record's).
    """
    prefix = wire.encode(key) if encoded_key is None else encoded_key
    tbs = prefix + wire.encode(signed.record)
    try:
        _verify(key, _CONTEXT_DEVICE, tbs, signed.signature)
    except VerificationError:
        # ACCT-007: a device record counts only with the account key's signature.
        msg = (
            f"device {signed.record.device_id.hex()}: its record is not signed by the "
            f"account key of account {key.account_id.hex()}"
        )
        raise AccountStateError(
            msg,
            requirement="ACCT-007",
            device_id=signed.record.device_id,
            code=ErrorCode.SIGNATURE_INVALID,
        ) from None


def sign_rotation(previous: AccountKeyPair, new_key: AccountPublicKey, epoch: int) -> KeyRotation:
    """The previous key's signature handing the account over to ``new_key`` (ACCT-012)."""
    tbs = wire.encode(KeyRotationTBS(previous_key=previous.public, new_key=new_key, epoch=epoch))
    return KeyRotation(
        previous_key=previous.public, signature=previous.sign(_CONTEXT_ROTATION, tbs)
    )


def sign_account_state(pair: AccountKeyPair, state: AccountState) -> SignedAccountState:
    """The account key's signature over a whole account state (ACCT-008)."""
    if state.account_key != pair.public:
        msg = "an account state must carry the key that signs it"
        raise UsageError(msg, requirement="ACCT-008")
    signature = pair.sign(_CONTEXT_STATE, wire.encode(state))
    return SignedAccountState(state=state, signature=signature)


def sign_handle_binding(pair: AccountKeyPair, binding: HandleBinding) -> SignedHandleBinding:
    """The account key's signature pointing a handle at the account (IDENT-008)."""
    signature = pair.sign(_CONTEXT_HANDLE, wire.encode(binding))
    return SignedHandleBinding(binding=binding, signature=signature)


def decode_account_state(value: bytes) -> SignedAccountState:
    """The ``SignedAccountState`` an account label's value encodes (ACCT-009)."""
    try:
        return wire.decode(SignedAccountState, value)
    except DecodeError as exc:
        msg = f"the account label's value is not a SignedAccountState: {exc}"
        raise AccountStateError(msg, requirement="ACCT-009") from None


def decode_handle_binding(value: bytes) -> SignedHandleBinding:
    """The ``SignedHandleBinding`` a handle label's value encodes (IDENT-009)."""
    try:
        return wire.decode(SignedHandleBinding, value)
    except DecodeError as exc:
        msg = f"the handle label's value is not a SignedHandleBinding: {exc}"
        raise AccountStateError(msg, requirement="IDENT-009") from None


def validate_account_state(
    label: bytes,
    value: bytes,
    *,
    suite: CipherSuite,
    previous: AccountState | None = None,
) -> AccountState:
    """Check an account label's value as a contact or sibling reads it (ACCT-009..016).

    ``previous`` is the newest state the reader accepted before for this account;
    with it, the epoch must grow and a changed account key must be handed over by
    the previous one. Checks run in a fixed order so that a reader classifies a
    failure the same way every time: device records first (an injected device
    is reported as such), then the state's own signature, then the history.
    """
    signed = decode_account_state(value)
    state = signed.state
    key = state.account_key
    # ACCT-010: the state belongs to the account whose label it is stored under.
    if len(key.account_id) != ACCOUNT_ID_SIZE or account_label(key.account_id) != label:
        msg = f"the account state of {key.account_id.hex()} is stored under another label"
        raise AccountStateError(msg, requirement="ACCT-010")
    # ACCT-001: the account key's type is the one the directory's cipher suite uses.
    if key.key_type is not key_type_for_suite(suite):
        msg = f"account key type {key.key_type.name} does not match cipher suite {suite.name}"
        raise AccountStateError(msg, requirement="ACCT-001")
    seen: set[bytes] = set()
    encoded_key = wire.encode(key)
    for device in state.devices:
        device_id = device.record.device_id
        # ACCT-011: device ids are unique within an account.
        if device_id in seen:
            msg = f"device {device_id.hex()} appears twice in the account state"
            raise AccountStateError(msg, requirement="ACCT-011", device_id=device_id)
        seen.add(device_id)
        # ACCT-007: every device record is signed by the account key.
        verify_device_record(key, device, encoded_key=encoded_key)
    # ACCT-008: the whole state is signed by the account key it carries. The decoder
    # accepts only the canonical encoding, so the signed bytes are the value without
    # its signature field (a 2-byte length and the signature).
    state_bytes = value[: len(value) - 2 - len(signed.signature)]
    try:
        _verify(key, _CONTEXT_STATE, state_bytes, signed.signature)
    except VerificationError:
        msg = f"the account state of {key.account_id.hex()} is not signed by its account key"
        raise AccountStateError(
            msg, requirement="ACCT-008", code=ErrorCode.SIGNATURE_INVALID
        ) from None
    # ACCT-013: handles are unique; ENROLL-006: with CKV on, every device is capable.
    if len(set(state.handles)) != len(state.handles):
        msg = "the account state lists a handle twice"
        raise AccountStateError(msg, requirement="ACCT-013")
    legacy = legacy_devices(state.devices)
    if state.ckv is OptIn.on and legacy:
        msg = f"CKV is on but devices {', '.join(d.hex() for d in legacy)} cannot take part"
        raise AccountStateError(msg, requirement="ENROLL-006", device_id=legacy[0])
    if previous is not None:
        _check_history(previous, state)
    return state


def _check_history(previous: AccountState, state: AccountState) -> None:
    # ACCT-014: the account id never changes.
    if previous.account_key.account_id != state.account_key.account_id:
        msg = "the account id changed between two states of the same label"
        raise AccountStateError(msg, requirement="ACCT-014")
    # ACCT-015: every new state has a greater epoch than any state seen before.
    if state.epoch <= previous.epoch:
        msg = f"epoch {state.epoch} does not follow epoch {previous.epoch} seen before"
        raise AccountStateError(msg, requirement="ACCT-015")
    if state.account_key == previous.account_key:
        return
    rotation = state.rotation
    # ACCT-012: a new account key is handed over by the previous key's signature.
    if rotation is None or rotation.previous_key != previous.account_key:
        msg = "the account key changed without a rotation signed by the previous key"
        raise AccountStateError(msg, requirement="ACCT-012", code=ErrorCode.SIGNATURE_INVALID)
    tbs = wire.encode(
        KeyRotationTBS(
            previous_key=previous.account_key, new_key=state.account_key, epoch=state.epoch
        )
    )
    try:
        _verify(previous.account_key, _CONTEXT_ROTATION, tbs, rotation.signature)
    except VerificationError:
        msg = "the key rotation is not signed by the previous account key"
        raise AccountStateError(
            msg, requirement="ACCT-012", code=ErrorCode.SIGNATURE_INVALID
        ) from None


def validate_handle_binding(
    label: bytes, value: bytes, state: AccountState, handle: Handle
) -> HandleBinding:
    """Check that ``handle`` points at the account ``state`` describes (IDENT-007..010)."""
    signed = decode_handle_binding(value)
    binding = signed.binding
    # IDENT-007: the binding is stored under the handle's own label.
    if binding.handle != handle or handle_label(handle) != label:
        msg = "the handle binding is stored under another handle's label"
        raise AccountStateError(msg, requirement="IDENT-007")
    # IDENT-010: the binding names the account, and the account claims the handle.
    if binding.account_id != state.account_key.account_id or handle not in state.handles:
        msg = (
            f"handle {handle.value.decode(errors='replace')!r} and account "
            f"{state.account_key.account_id.hex()} do not name each other"
        )
        raise AccountStateError(msg, requirement="IDENT-010")
    # IDENT-008: the account key signed the binding.
    try:
        _verify(state.account_key, _CONTEXT_HANDLE, wire.encode(binding), signed.signature)
    except VerificationError:
        msg = "the handle binding is not signed by the account key"
        raise AccountStateError(
            msg, requirement="IDENT-008", code=ErrorCode.SIGNATURE_INVALID
        ) from None
    return binding
