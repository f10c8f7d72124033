"""What a CKV directory accepts from an account's devices (spec chapter "Enrollment").

:func:`ckv_validator` returns the ``validator`` an
:class:`~ckv.directory.memory.InMemoryDirectory` (or any directory service) calls
before it accepts an owner's new value: the same checks a contact makes, so
that an honest directory never publishes a value its readers would refuse, and
a device record with a bad signature is rejected and never stored (DIR-001).
"""

from __future__ import annotations

from collections.abc import Callable

from ckv.account import (
    AccountStateError,
    decode_handle_binding,
    validate_account_state,
    validate_handle_binding,
)
from ckv.identity import account_label, parse_label
from ckv.wire.messages import AccountState, CipherSuite, LabelKind

__all__ = ["ValueAt", "ckv_validator"]

#: ``value_at(label, version)``: the value the directory holds, or None.
ValueAt = Callable[[bytes, int], "bytes | None"]
GreatestVersion = Callable[[bytes], "int | None"]


def ckv_validator(
    suite: CipherSuite, value_at: ValueAt, greatest: GreatestVersion
) -> Callable[[bytes, bytes, int], None]:
    """The acceptance check of a CKV directory (DIR-001, DIR-002)."""

    def current_state(label: bytes) -> AccountState | None:
        # The newest state that is valid on its own. In an honest directory that is the
        # greatest version; a directory that also publishes values of its own (the
        # adversarial one of the tests) keeps accepting the owner's updates.
        version = greatest(label)
        while version is not None and version >= 0:
            value = value_at(label, version)
            if value is not None:
                try:
                    return validate_account_state(label, value, suite=suite)
                except AccountStateError:
                    pass
            version -= 1
        return None

    def validate(label: bytes, value: bytes, version: int) -> None:
        del version
        parsed = parse_label(label)
        if parsed.kind is LabelKind.account:
            # DIR-001: an account state is accepted only if a contact would accept it
            # after the current one (signatures, epoch, key hand-over).
            validate_account_state(label, value, suite=suite, previous=current_state(label))
            return
        handle = parsed.handle
        binding = decode_handle_binding(value).binding
        state = current_state(account_label(binding.account_id))
        # DIR-002: a handle binding is accepted only for an account that claims the handle.
        if state is None or handle is None:
            msg = f"handle binding for an account {binding.account_id.hex()} that does not exist"
            raise AccountStateError(msg, requirement="DIR-002")
        validate_handle_binding(label, value, state, handle)

    return validate
