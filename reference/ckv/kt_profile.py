"""CKV's profile of KEYTRANS: the bounds a directory's ``Configuration`` must meet.

See the spec's chapter "Key transparency", section "The profile". A client calls
:func:`check_configuration` before it trusts anything signed under a
configuration, so that a directory cannot weaken CKV's guarantees by its choice
of parameters (KT-007).
"""

from __future__ import annotations

from dataclasses import dataclass

from ckv.errors import ErrorCode, VerificationError
from ckv.wire.messages import CipherSuite, Configuration, DeploymentMode

__all__ = ["PROFILE", "Profile", "check_configuration"]

_HOUR = 3_600_000
_DAY = 24 * _HOUR


@dataclass(frozen=True, slots=True)
class Profile:
    """Bounds on the log parameters, in milliseconds (spec table ``kt-parameters``)."""

    max_reasonable_monitoring_window: int = _DAY
    min_lifetime_windows: int = 14
    max_ahead: int = 300_000
    max_behind: int = _HOUR
    suites: frozenset[CipherSuite] = frozenset(
        {CipherSuite.KT_128_SHA256_Ed25519, CipherSuite.KT_128_SHA256_P256}
    )
    modes: frozenset[DeploymentMode] = frozenset(
        {
            DeploymentMode.contactMonitoring,
            DeploymentMode.thirdPartyAuditing,
            DeploymentMode.thirdPartyManagement,
        }
    )


#: The bounds of CKV's profile.
PROFILE = Profile()


def check_configuration(config: Configuration, profile: Profile = PROFILE) -> None:
    """Raise :class:`VerificationError` (KT-007) if ``config`` is outside the profile."""
    problems: list[str] = []
    if config.ciphersuite not in profile.suites:
        problems.append(f"cipher suite {config.ciphersuite!r} is not supported")
    if config.mode not in profile.modes:
        problems.append(f"deployment mode {config.mode!r} is not supported")
    rmw = config.reasonable_monitoring_window
    # KT-007: the window, the lifetime and the clock bounds stay within CKV's bounds.
    if rmw > profile.max_reasonable_monitoring_window:
        problems.append(
            f"reasonable_monitoring_window {rmw} exceeds {profile.max_reasonable_monitoring_window}"
        )
    lifetime = config.maximum_lifetime
    if lifetime is None:
        problems.append("maximum_lifetime is absent")
    elif lifetime < profile.min_lifetime_windows * rmw:
        problems.append(
            f"maximum_lifetime {lifetime} is less than "
            f"{profile.min_lifetime_windows} x reasonable_monitoring_window"
        )
    if config.max_ahead > profile.max_ahead:
        problems.append(f"max_ahead {config.max_ahead} exceeds {profile.max_ahead}")
    if config.max_behind > profile.max_behind:
        problems.append(f"max_behind {config.max_behind} exceeds {profile.max_behind}")
    if problems:
        raise VerificationError(
            "configuration outside CKV's profile: " + "; ".join(problems),
            requirement="KT-007",
            code=ErrorCode.PROOF_INVALID,
        )
