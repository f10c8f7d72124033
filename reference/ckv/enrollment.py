"""Enrollment: how an account's devices change its state (spec chapter "Enrollment").

Each function takes the account's current state and returns the next one,
signed by the account key, with the epoch advanced by one (ACCT-015). They do
no I/O: a device (:mod:`ckv.device`) records the result in the account's
journal and then publishes it to the directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ckv.account import (
    AccountKeyPair,
    is_capable,
    legacy_devices,
    sign_account_state,
    sign_device_record,
    sign_rotation,
)
from ckv.errors import CKVError, UsageError
from ckv.wire.messages import (
    AccountState,
    DeviceRecord,
    Handle,
    OptIn,
    SignedAccountState,
)

__all__ = [
    "LegacyDevicesError",
    "add_device",
    "create_account",
    "disable_ckv",
    "enable_ckv",
    "remove_device",
    "rotate_account_key",
    "set_handles",
]


class LegacyDevicesError(CKVError):
    """These devices cannot take part in CKV (ENROLL-005; ENROLL-003 for a joining one).

    ``devices`` lists exactly the ids of the devices that must be updated or
    signed out, in the order the account state lists them.
    """

    def __init__(
        self,
        devices: Sequence[bytes],
        names: Sequence[str] = (),
        *,
        requirement: str = "ENROLL-005",
    ) -> None:
        self.devices = tuple(devices)
        shown = [
            f"{name} ({device.hex()})" if name else device.hex()
            for device, name in zip(self.devices, [*names, *[""] * len(self.devices)], strict=False)
        ]
        msg = "CKV cannot be turned on until these devices are updated or signed out: " + ", ".join(
            shown
        )
        super().__init__(msg, requirement=requirement)


def _next(
    pair: AccountKeyPair, state: AccountState, now_ms: int, **changes: object
) -> SignedAccountState:
    following = replace(state, epoch=state.epoch + 1, updated_at=now_ms, rotation=None, **changes)  # type: ignore[arg-type]
    return sign_account_state(pair, following)


def create_account(
    pair: AccountKeyPair, first_device: DeviceRecord, handles: Sequence[Handle], now_ms: int
) -> SignedAccountState:
    """The first state of an account: its first device, its handles, CKV off (ENROLL-001)."""
    # ENROLL-001: the account key is generated on a device that can hold it.
    if not is_capable(first_device):
        msg = "the account key is generated on a CKV-capable device; this one is legacy"
        raise UsageError(msg, requirement="ENROLL-001")
    state = AccountState(
        account_key=pair.public,
        epoch=1,
        updated_at=now_ms,
        ckv=OptIn.off,
        devices=(sign_device_record(pair, first_device),),
        handles=tuple(handles),
        rotation=None,
    )
    return sign_account_state(pair, state)


def add_device(
    pair: AccountKeyPair, state: AccountState, record: DeviceRecord, now_ms: int
) -> SignedAccountState:
    """Enroll ``record``: a device holding the account key signs it (ENROLL-002)."""
    if any(d.record.device_id == record.device_id for d in state.devices):
        msg = f"device {record.device_id.hex()} is already enrolled"
        raise UsageError(msg, requirement="ACCT-011")
    # ENROLL-003: with CKV on, only a device that can take part may join.
    if state.ckv is OptIn.on and not is_capable(record):
        raise LegacyDevicesError([record.device_id], requirement="ENROLL-003")
    devices = (*state.devices, sign_device_record(pair, record))
    return _next(pair, state, now_ms, devices=devices)


def remove_device(
    pair: AccountKeyPair, state: AccountState, device_id: bytes, now_ms: int
) -> SignedAccountState:
    """Sign a device out of the account (ENROLL-004)."""
    devices = tuple(d for d in state.devices if d.record.device_id != device_id)
    if len(devices) == len(state.devices):
        msg = f"device {device_id.hex()} is not enrolled"
        raise UsageError(msg, requirement="ENROLL-004")
    return _next(pair, state, now_ms, devices=devices)


def enable_ckv(
    pair: AccountKeyPair, state: AccountState, now_ms: int, names: Sequence[str] = ()
) -> SignedAccountState:
    """Turn CKV on for every device of the account (ENROLL-005, ENROLL-006)."""
    legacy = legacy_devices(state.devices)
    # ENROLL-005: refused while any enrolled device cannot take part; say which.
    if legacy:
        by_id = dict(zip((d.record.device_id for d in state.devices), names, strict=False))
        raise LegacyDevicesError(legacy, [by_id.get(d, "") for d in legacy])
    return _next(pair, state, now_ms, ckv=OptIn.on)


def disable_ckv(pair: AccountKeyPair, state: AccountState, now_ms: int) -> SignedAccountState:
    """Turn CKV off for every device of the account (ENROLL-007)."""
    return _next(pair, state, now_ms, ckv=OptIn.off)


def set_handles(
    pair: AccountKeyPair, state: AccountState, handles: Sequence[Handle], now_ms: int
) -> SignedAccountState:
    """Change the handles the account claims (IDENT-010)."""
    return _next(pair, state, now_ms, handles=tuple(handles))


def rotate_account_key(
    old: AccountKeyPair, new: AccountKeyPair, state: AccountState, now_ms: int
) -> SignedAccountState:
    """Replace the account key: re-sign every device, hand over with the old key (ENROLL-008)."""
    if new.public.account_id != old.public.account_id:
        msg = "a rotated account key keeps the account id"
        raise UsageError(msg, requirement="ACCT-014")
    epoch = state.epoch + 1
    following = replace(
        state,
        account_key=new.public,
        epoch=epoch,
        updated_at=now_ms,
        devices=tuple(sign_device_record(new, d.record) for d in state.devices),
        rotation=sign_rotation(old, new.public, epoch),
    )
    return sign_account_state(new, following)
