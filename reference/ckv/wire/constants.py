"""Size constants of the KEYTRANS cipher suites (draft §11.1, §17.1).

The wire codecs need only these sizes; the primitives of each suite live in
:mod:`ckv.cipher_suites`, which re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ckv.errors import UsageError
from ckv.wire.messages import CipherSuite

__all__ = ["SUITES", "SuiteConstants", "parse_suite"]


@dataclass(frozen=True, slots=True)
class SuiteConstants:
    """The sizes a cipher suite fixes (KEYTRANS §11.1, §17.1)."""

    suite: CipherSuite
    hash_nh: int
    vrf_nh: int
    vrf_np: int
    nc: int

    def as_mapping(self) -> Mapping[str, int]:
        """The constants by the names the wire definitions use."""
        return {
            "Hash.Nh": self.hash_nh,
            "VRF.Nh": self.vrf_nh,
            "VRF.Np": self.vrf_np,
            "Nc": self.nc,
        }


SUITES: Mapping[CipherSuite, SuiteConstants] = MappingProxyType(
    {
        # §17.1: both suites use SHA-256 (Nh = 32), Nc = 16 and a 32-byte VRF output.
        CipherSuite.KT_128_SHA256_P256: SuiteConstants(
            CipherSuite.KT_128_SHA256_P256, hash_nh=32, vrf_nh=32, vrf_np=81, nc=16
        ),
        CipherSuite.KT_128_SHA256_Ed25519: SuiteConstants(
            CipherSuite.KT_128_SHA256_Ed25519, hash_nh=32, vrf_nh=32, vrf_np=80, nc=16
        ),
    }
)

_ALIASES = {
    "p256": CipherSuite.KT_128_SHA256_P256,
    "ed25519": CipherSuite.KT_128_SHA256_Ed25519,
}

_ALIASES = {
    "p256": CipherSuite.KT_128_SHA256_P256,
    "ed25519": CipherSuite.KT_128_SHA256_Ed25519,
}


def parse_suite(text: str) -> CipherSuite:
    """Read a suite given by name, short name (``p256``, ``ed25519``) or number."""
    t = text.strip()
    if t.lower() in _ALIASES:
        return _ALIASES[t.lower()]
    for suite in SUITES:
        if t == suite.name:
            return suite
    try:
        number = int(t, 0)
    except ValueError:
        number = -1
    for suite in SUITES:
        if number == suite.value:
            return suite
    known = ", ".join(f"{s.name} ({s.value:#06x})" for s in SUITES)
    msg = f"unknown cipher suite {text!r}; CKV supports {known}"
    raise UsageError(msg)
