#!/usr/bin/env python3
"""A deliberately broken adapter: the reference with the CKV opt-in checks disabled.

It never raises ``contact_ckv_off`` when a contact turns CKV off (VERIFY-006), and
it accepts CKV on while legacy devices are enrolled: account states with CKV on
that list a legacy device pass (ENROLL-006) and turning CKV on is never refused
(ENROLL-005). The conformance suite must fail this implementation
(tests/conformance/test_ckv_kinds.py); it exists only to show that the CKV-layer
vectors catch an ignored opt-in flag.
"""

import sys

import ckv.account
import ckv.conformance.kinds_ckv
import ckv.enrollment
from ckv.conformance.reference_adapter import main


def _no_legacy_devices(*_args: object, **_kwargs: object) -> tuple[bytes, ...]:
    """The disabled check: no enrolled device is ever found to be legacy."""
    return ()


def _never_turned_off(*_args: object, **_kwargs: object) -> bool:
    """The disabled check: a contact never turns CKV off."""
    return False


if __name__ == "__main__":
    ckv.account.legacy_devices = _no_legacy_devices
    setattr(ckv.enrollment, "legacy_devices", _no_legacy_devices)  # noqa: B010 - imported name
    ckv.conformance.kinds_ckv.ckv_turned_off = _never_turned_off
    sys.exit(main("broken-ignore-opt-in"))
