"""Codec behaviour: exact errors and paths, bounds, limits, context, unusual schemas."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckv import wire
from ckv.errors import DecodeError, EncodeError, ErrorCode, UsageError
from ckv.wire import messages as m
from ckv.wire import strategies
from ckv.wire.codec import Codec, Limits
from ckv.wire.schema import build_schema

ED = m.CipherSuite.KT_128_SHA256_Ed25519
P256 = m.CipherSuite.KT_128_SHA256_P256
H = bytes(32)


def _decode_error(struct: str, data: bytes, **kw: object) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        wire.decode(struct, data, **kw)  # type: ignore[arg-type]
    return info.value


def _search_response(results_per_proof: int = 2) -> m.SearchResponse:
    leaf = m.PrefixLeaf(vrf_output=b"\x01" * 32, commitment=b"\x02" * 32)
    results = tuple(
        m.PrefixSearchResult(
            result_type=m.PrefixSearchResultType.nonInclusionLeaf, leaf=leaf, depth=i
        )
        for i in range(results_per_proof)
    )
    proofs = tuple(m.PrefixProof(results=results, elements=(H, H)) for _ in range(3))
    return m.SearchResponse(
        full_tree_head=m.FullTreeHead(head_type=m.FullTreeHeadType.same),
        version=7,
        opening=bytes(16),
        value=m.UpdateValue(value=b"key", suffix=m.UpdateSuffix()),
        binary_ladder=(m.BinaryLadderStep(proof=bytes(80), commitment=None),),
        search=m.CombinedTreeProof(
            timestamps=(1, 2),
            prefix_proofs=proofs,
            prefix_roots=(H,),
            inclusion=m.InclusionProof(elements=()),
        ),
    )


GV = {"SearchRequest.version": "absent"}
CM = m.DeploymentMode.contactMonitoring


def _offset_of_result_type(value: m.SearchResponse, proof: int, result: int) -> int:
    """Byte offset of search.prefix_proofs[proof].results[result].result_type."""
    encoded = wire.encode(value, mode=CM, context=GV)
    prefix = wire.encode(value.search, mode=CM)
    start = encoded.index(prefix) + 1 + 8 * len(value.search.timestamps) + 1
    for i in range(proof):
        start += len(wire.encode(value.search.prefix_proofs[i]))
    start += 1  # results count
    for j in range(result):
        start += len(wire.encode(value.search.prefix_proofs[proof].results[j]))
    return start


@pytest.mark.req("WIRE-007")
def test_error_path_names_the_field_deep_inside() -> None:
    value = _search_response()
    data = bytearray(wire.encode(value, mode=CM, context=GV))
    offset = _offset_of_result_type(value, 2, 1)
    assert data[offset] == m.PrefixSearchResultType.nonInclusionLeaf
    data[offset] = 13
    err = _decode_error("SearchResponse", bytes(data), mode=CM, context=GV)
    assert err.path == "SearchResponse.search.prefix_proofs[2].results[1].result_type"
    assert err.code is ErrorCode.UNKNOWN_ENUM
    assert err.requirement == "WIRE-007"
    assert err.offset == offset
    assert "13 is not a defined PrefixSearchResultType value" in str(err)


@pytest.mark.req("WIRE-004")
def test_truncation_names_the_field_and_what_is_missing() -> None:
    value = _search_response()
    data = wire.encode(value, mode=CM, context=GV)
    offset = _offset_of_result_type(value, 0, 0)
    # cut inside results[0]: after result_type and 10 bytes of its leaf
    err = _decode_error("SearchResponse", data[: offset + 11], mode=CM, context=GV)
    assert err.path == "SearchResponse.search.prefix_proofs[0].results[0].leaf.vrf_output"
    assert err.code is ErrorCode.TRUNCATED


@pytest.mark.req("WIRE-008")
def test_trailing_bytes() -> None:
    data = wire.encode(m.MonitorMapEntry(position=1, version=2)) + b"\x00"
    err = _decode_error("MonitorMapEntry", data)
    assert err.code is ErrorCode.TRAILING_BYTES
    assert err.offset == 12


@pytest.mark.req("WIRE-006")
@pytest.mark.parametrize("flag", [2, 0x80, 0xFF])
def test_optional_presence_octet(flag: int) -> None:
    err = _decode_error("SearchRequest", bytes([flag]) + bytes(8) + b"\x00\x00")
    assert err.code is ErrorCode.OPTIONAL_BAD_PRESENCE
    assert err.path == "SearchRequest.last"


@pytest.mark.req("WIRE-007")
@pytest.mark.parametrize(
    ("struct", "data"),
    [
        ("FullTreeHead", b"\x00"),  # reserved(0)
        ("FullTreeHead", b"\x03"),  # undefined
        ("PrefixSearchResult", b"\x00\x00"),
    ],
)
def test_reserved_and_undefined_enum_values(struct: str, data: bytes) -> None:
    err = _decode_error(struct, data, mode=CM)
    assert err.code is ErrorCode.UNKNOWN_ENUM


@pytest.mark.req("WIRE-007")
def test_cipher_suite_outside_the_registry_is_rejected() -> None:
    config = m.Configuration(
        ciphersuite=ED,
        mode=CM,
        signature_public_key=b"k",
        vrf_public_key=b"v",
        max_ahead=1,
        max_behind=1,
        reasonable_monitoring_window=1,
        maximum_lifetime=None,
    )
    data = bytearray(wire.encode(config))
    data[0:2] = b"\xf0\x00"  # private use
    err = _decode_error("Configuration", bytes(data))
    assert err.path == "Configuration.ciphersuite"
    for bad in (0, 0xF000):
        with pytest.raises(EncodeError, match="not a defined CipherSuite"):
            wire.encode(dataclasses.replace(config, ciphersuite=bad))


@pytest.mark.req("WIRE-005")
def test_vector_bounds_on_encode() -> None:
    with pytest.raises(EncodeError) as info:
        wire.encode(m.SearchRequest(last=None, label=bytes(256), version=None))
    assert info.value.path == "SearchRequest.label"
    assert info.value.code is ErrorCode.LENGTH_OUT_OF_RANGE
    wire.encode(m.SearchRequest(last=None, label=bytes(255), version=None))


@pytest.mark.req("WIRE-005", "WIRE-009")
def test_huge_count_is_refused_before_allocating() -> None:
    # elements<0..2^16-1> claims 65535 hashes but only 3 bytes follow.
    err = _decode_error("InclusionProof", b"\xff\xff\x00\x00\x00")
    assert err.code is ErrorCode.TRUNCATED
    assert "needs 2097120 byte(s), 3 remain" in err.reason
    # a 4-byte length claiming 4 GiB of value
    err = _decode_error("LabelValue", b"\xff\xff\xff\xff")
    assert err.code is ErrorCode.TRUNCATED


@pytest.mark.req("WIRE-012")
def test_fixed_size_depends_on_the_suite() -> None:
    step = m.BinaryLadderStep(proof=bytes(81), commitment=None)
    data = wire.encode(step, suite=P256)
    assert len(data) == 82
    assert wire.decode(m.BinaryLadderStep, data, suite=P256) == step
    with pytest.raises(EncodeError, match="exactly 80 bytes, got 81"):
        wire.encode(step, suite=ED)
    assert _decode_error("BinaryLadderStep", data, suite=ED).code is ErrorCode.TRAILING_BYTES


@pytest.mark.req("WIRE-011")
def test_missing_context_is_an_error_not_a_guess() -> None:
    err = _decode_error("FullTreeHead", b"\x02" + bytes(8) + b"\x00\x00")
    assert err.code is ErrorCode.MISSING_CONTEXT
    assert "Configuration.mode" in err.reason
    with pytest.raises(EncodeError, match=r"Configuration\.mode"):
        wire.encode(
            m.FullTreeHead(
                head_type=m.FullTreeHeadType.updated,
                tree_head=m.TreeHead(tree_size=1, signature=b""),
            )
        )


@pytest.mark.req("WIRE-011")
def test_search_response_version_follows_the_request() -> None:
    value = _search_response()
    data = wire.encode(value, mode=CM, context=GV)
    fixed = {"SearchRequest.version": "present"}
    with pytest.raises(EncodeError, match="must be None"):
        wire.encode(value, mode=CM, context=fixed)
    # Decoding the greatest-version bytes as a fixed-version response fails.
    with pytest.raises(DecodeError):
        wire.decode(m.SearchResponse, data, mode=CM, context=fixed)


@pytest.mark.req("WIRE-010")
def test_encode_refuses_fields_of_an_inactive_case() -> None:
    fth = m.FullTreeHead(
        head_type=m.FullTreeHeadType.same, tree_head=m.TreeHead(tree_size=1, signature=b"")
    )
    with pytest.raises(EncodeError) as info:
        wire.encode(fth, mode=CM)
    assert info.value.path == "FullTreeHead.tree_head"


@pytest.mark.req("WIRE-010")
@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        (m.MonitorMapEntry(position=-1, version=0), "MonitorMapEntry.position", "does not fit"),
        (m.MonitorMapEntry(position=2**64, version=0), "MonitorMapEntry.position", "does not fit"),
        (m.MonitorMapEntry(position=True, version=0), "MonitorMapEntry.position", "integer"),
        (m.MonitorMapEntry(position=1, version="1"), "MonitorMapEntry.version", "integer"),
        (m.LabelValue(value="text"), "LabelValue.value", "expected bytes"),
        (m.InclusionProof(elements=(H, b"short")), "InclusionProof.elements[1]", "exactly 32"),
        (m.InclusionProof(elements=H), "InclusionProof.elements", "expected a tuple"),
        (m.FullTreeHead(head_type=1.0), "FullTreeHead.head_type", "not a defined"),
        (m.FullTreeHead(head_type=True), "FullTreeHead.head_type", "not a defined"),
        (m.FullTreeHead(head_type=[1]), "FullTreeHead.head_type", "not a defined"),
        (
            m.CombinedTreeProof(
                timestamps=(1, -1),
                prefix_proofs=(),
                prefix_roots=(),
                inclusion=m.InclusionProof(elements=()),
            ),
            "CombinedTreeProof.timestamps[1]",
            "does not fit in uint64",
        ),
    ],
)
def test_encode_type_and_range_errors(value: object, path: str, reason: str) -> None:
    with pytest.raises(EncodeError) as info:
        wire.encode(value)
    assert info.value.path == path
    assert reason in info.value.reason


@pytest.mark.req("WIRE-009")
def test_size_and_depth_limits() -> None:
    codec = Codec(ED, limits=Limits(max_size=10))
    with pytest.raises(DecodeError) as info:
        codec.decode(m.LabelValue, bytes(11))
    assert info.value.code is ErrorCode.TOO_LARGE
    with pytest.raises(EncodeError):
        codec.encode(m.LabelValue(value=bytes(10)))
    shallow = Codec(ED, limits=Limits(max_depth=4))
    with pytest.raises(DecodeError) as info:
        shallow.decode(m.SearchResponse, b"", mode=CM, context=GV)
    assert info.value.code is ErrorCode.TOO_DEEP
    shallow.decode(m.SearchRequest, b"\x00\x00\x00")


def test_unknown_structure_and_context() -> None:
    with pytest.raises(UsageError, match="unknown structure"):
        wire.decode("Nope", b"")
    with pytest.raises(UsageError, match="unknown decoding context"):
        wire.decode(m.SearchRequest, b"\x00\x00\x00", context={"X.y": 1})
    with pytest.raises(UsageError, match="not a DeploymentMode"):
        wire.decode(m.SearchRequest, b"\x00\x00\x00", mode="sideways")


def test_json_round_trip() -> None:
    value = _search_response()
    obj = wire.to_json(value, context={"Configuration.mode": 1, "SearchRequest.version": False})
    assert obj["full_tree_head"] == {"head_type": "same"}
    assert obj["search"]["prefix_proofs"][0]["results"][1]["leaf"]["vrf_output"] == "01" * 32
    ctx = wire.make_context(CM, GV)
    assert wire.from_json("SearchResponse", obj, context=ctx) == value


@pytest.mark.parametrize(
    ("obj", "path", "reason"),
    [
        ({"last": None, "label": "0g", "version": None}, "SearchRequest.label", "not valid hex"),
        ({"last": None, "label": "00"}, "SearchRequest", "missing field 'version'"),
        ({"last": None, "label": "00", "version": None, "x": 1}, "SearchRequest", "unexpected"),
        ({"last": 1.5, "label": "00", "version": None}, "SearchRequest.last", "integer"),
        ({"last": None, "label": 5, "version": None}, "SearchRequest.label", "hex string"),
        ([], "SearchRequest", "expected an object"),
    ],
)
def test_json_errors(obj: object, path: str, reason: str) -> None:
    with pytest.raises(EncodeError) as info:
        wire.from_json("SearchRequest", obj)
    assert info.value.path == path
    assert reason in info.value.reason


UNUSUAL = """
enum { reserved(0), small(1), big(300), (65535) } Wide;
enum { red(1), green(2), blue(3), (255) } Colour;
struct { } Empty;
struct {
  Wide w;
  Colour c;
  select (Thing.c) {
    case red, green:
      uint16 shade;
      optional<Empty> e;
    case blue:
      uint64 n<0..2^24-1>;
  };
  optional<uint8> maybe;
  select (Thing.maybe) {
    case present:
      opaque more<2..5>;
      select (Thing.w) { case big: Colour deep; };
  };
  opaque tail[3];
} Thing;
"""


@given(data=st.data())
def test_an_unusual_schema_round_trips_and_is_canonical(data: st.DataObject) -> None:
    """Multi-label cases, 2-byte enums, 3-byte prefixes, selects on optionals, empty structs."""
    schema = build_schema([("unusual.tls", UNUSUAL)])
    codec = Codec(ED, schema=schema)
    value = data.draw(strategies.values("Thing", {}, schema=schema))
    encoded = codec.encode(value)
    assert codec.decode("Thing", encoded) == value
    i = data.draw(st.integers(0, len(encoded) - 1))
    mutated = encoded[:i] + bytes([encoded[i] ^ data.draw(st.integers(1, 255))]) + encoded[i + 1 :]
    try:
        again = codec.decode("Thing", mutated)
    except DecodeError:
        return
    assert codec.encode(again) == mutated


def test_unusual_schema_details() -> None:
    schema = build_schema([("unusual.tls", UNUSUAL)])
    codec = Codec(ED, schema=schema)
    with pytest.raises(DecodeError) as info:  # `more` below its floor of 2
        codec.decode("Thing", b"\x00\x01\x03\x00\x00\x00\x01\x05\x01\xaa\x00\x00\x00")
    assert info.value.path == "Thing.more"
    assert info.value.code is ErrorCode.LENGTH_OUT_OF_RANGE
    value = codec.decode("Thing", b"\x01\x2c\x03\x00\x00\x01" + bytes(8) + b"\x00" + b"abc")
    assert value.n == (0,)
    assert value.w == 300
