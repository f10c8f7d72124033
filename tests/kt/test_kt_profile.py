"""KT-007: a configuration outside CKV's profile is refused, with every reason named."""

from __future__ import annotations

import dataclasses

import pytest

from ckv.errors import VerificationError
from ckv.kt_profile import check_configuration
from ckv.wire.messages import CipherSuite, Configuration, DeploymentMode

DAY = 86_400_000
GOOD = Configuration(
    ciphersuite=CipherSuite.KT_128_SHA256_Ed25519,
    mode=DeploymentMode.contactMonitoring,
    signature_public_key=bytes(32),
    vrf_public_key=bytes(32),
    max_ahead=60_000,
    max_behind=3_600_000,
    reasonable_monitoring_window=DAY,
    maximum_lifetime=30 * DAY,
)


def test_the_recommended_values_are_inside_the_profile() -> None:
    check_configuration(GOOD)
    check_configuration(dataclasses.replace(GOOD, maximum_lifetime=14 * DAY, max_ahead=300_000))


@pytest.mark.req("KT-007")
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"reasonable_monitoring_window": DAY + 1}, "reasonable_monitoring_window"),
        ({"maximum_lifetime": None}, "maximum_lifetime is absent"),
        ({"maximum_lifetime": 14 * DAY - 1}, "less than 14 x"),
        ({"max_ahead": 300_001}, "max_ahead"),
        ({"max_behind": 3_600_001}, "max_behind"),
        ({"mode": 0}, "deployment mode"),
        ({"ciphersuite": 0xF000}, "cipher suite"),
    ],
)
def test_each_bound(change: dict[str, object], reason: str) -> None:
    with pytest.raises(VerificationError) as info:
        check_configuration(dataclasses.replace(GOOD, **change))
    assert info.value.requirement == "KT-007"
    assert reason in str(info.value)


def test_all_problems_are_listed() -> None:
    bad = dataclasses.replace(GOOD, max_ahead=10**9, max_behind=10**9)
    with pytest.raises(VerificationError, match=r"max_ahead .*; max_behind"):
        check_configuration(bad)


@pytest.mark.req("KT-004")
def test_the_reference_defaults_to_the_ed25519_suite() -> None:
    from ckv import wire
    from ckv.demo import build_world
    from ckv.wire import messages

    assert wire.DEFAULT_SUITE is messages.CipherSuite.KT_128_SHA256_Ed25519
    assert build_world().directory.config.ciphersuite is messages.CipherSuite.KT_128_SHA256_Ed25519
