"""Elliptic-curve VRFs of RFC 9381, for the two KEYTRANS cipher suites (KEYTRANS §17.1).

* :data:`ECVRF_P256_SHA256_TAI` for ``KT_128_SHA256_P256`` (compressed SEC1
  public keys, 81-byte proofs, 32-byte output);
* :data:`ECVRF_EDWARDS25519_SHA512_TAI` for ``KT_128_SHA256_Ed25519`` (RFC 8032
  public keys, 80-byte proofs, 64-byte output that KEYTRANS truncates to 32).

Each is an :class:`Ecvrf` with ``prove``, ``proof_to_hash`` and ``verify``
exactly as RFC 9381 §5 defines them over raw ``alpha`` strings; the KEYTRANS
wrapping (the ``VrfInput`` encoding and the truncation) is in
:mod:`ckv.cipher_suites`.
"""

from ckv.vrf._ecvrf import Ecvrf
from ckv.vrf.edwards25519 import ECVRF_EDWARDS25519_SHA512_TAI
from ckv.vrf.p256 import ECVRF_P256_SHA256_TAI

__all__ = ["ECVRF_EDWARDS25519_SHA512_TAI", "ECVRF_P256_SHA256_TAI", "Ecvrf"]
