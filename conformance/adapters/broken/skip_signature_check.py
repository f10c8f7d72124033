#!/usr/bin/env python3
"""A deliberately broken adapter: the reference with signature verification disabled.

Every signature "verifies", whatever its bytes. The conformance suite must fail
this implementation (tests/conformance/test_broken_adapters.py); it exists only
to show that the vectors catch a skipped signature check.
"""

import sys

from ckv.cipher_suites import EcdsaP256Sha256, Ed25519Signatures
from ckv.conformance.reference_adapter import main


def _accept_anything(*_args: object, **_kwargs: object) -> None:
    """The disabled check: never raises."""


if __name__ == "__main__":
    EcdsaP256Sha256.verify = _accept_anything  # type: ignore[method-assign]
    Ed25519Signatures.verify = _accept_anything  # type: ignore[method-assign]
    sys.exit(main("broken-skip-signature-check"))
