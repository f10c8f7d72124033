#!/usr/bin/env python3
"""A deliberately broken adapter: the reference decoder, but trailing bytes are ignored.

A decoder that accepts a structure followed by extra bytes accepts non-canonical
encodings: two byte strings decode to one value. The conformance suite must
fail this implementation (tests/conformance/test_broken_adapters.py).
"""

import sys
from typing import Any

from ckv.conformance.reference_adapter import main
from ckv.errors import DecodeError, ErrorCode
from ckv.wire.codec import Codec

_strict_decode = Codec.decode


def _lenient_decode(self: Codec, type_: Any, data: Any, **kwargs: Any) -> Any:
    """The disabled check: decode the prefix a structure takes, ignore the rest."""
    try:
        return _strict_decode(self, type_, data, **kwargs)
    except DecodeError as exc:
        if exc.code is not ErrorCode.TRAILING_BYTES or exc.offset is None:
            raise
        return _strict_decode(self, type_, bytes(data)[: exc.offset], **kwargs)


if __name__ == "__main__":
    Codec.decode = _lenient_decode  # type: ignore[method-assign]
    sys.exit(main("broken-accept-noncanonical"))
