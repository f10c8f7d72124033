"""The CKV wire format: one grammar, one set of `.tls` definitions, derived codecs.

Typical use::

    from ckv import wire
    from ckv.wire.messages import SearchRequest

    data = wire.encode(SearchRequest(last=None, label=b"alice", version=None))
    request = wire.decode(SearchRequest, data)

Structures whose layout depends on the deployment mode take ``mode=``; the
search response also needs to know whether the request named a version
(``context={"SearchRequest.version": "absent"}``).
"""

from ckv.wire.codec import DEFAULT_SUITE, Codec, Limits, codec_for, decode, encode, make_context
from ckv.wire.jsonform import from_json, to_json
from ckv.wire.schema import Schema, load_schema

__all__ = [
    "DEFAULT_SUITE",
    "Codec",
    "Limits",
    "Schema",
    "codec_for",
    "decode",
    "encode",
    "from_json",
    "load_schema",
    "make_context",
    "to_json",
]
