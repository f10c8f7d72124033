"""Wire codec benchmark: the schema-derived codec against a hand-written one.

Decodes and encodes a ~10 KB ``SearchResponse`` (greatest-version search,
contact-monitoring mode, KT_128_SHA256_Ed25519) with

* ``ckv.wire`` — the codec generated from ``spec/wire/*.tls``, and
* a hand-written decoder and encoder for the same message, built on
  ``struct``, that makes the same checks (truncation, enum values, presence
  octets, vector bounds, trailing bytes) and builds the same frozen
  dataclasses,

in the same run, and reports throughput and the ratio between them.

    python benchmarks/bench_wire.py [--quick]
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from collections.abc import Callable

from ckv import wire
from ckv.wire import messages as m

CM = m.DeploymentMode.contactMonitoring
CTX = {"SearchRequest.version": "absent"}


def sample_response() -> m.SearchResponse:
    """A SearchResponse shaped like one from a log of ~10^6 entries."""
    h = bytes(range(32))
    leaf = m.PrefixLeaf(vrf_output=b"\x11" * 32, commitment=b"\x22" * 32)
    kinds = [
        m.PrefixSearchResult(result_type=m.PrefixSearchResultType.inclusion, depth=21),
        m.PrefixSearchResult(
            result_type=m.PrefixSearchResultType.nonInclusionLeaf, leaf=leaf, depth=20
        ),
        m.PrefixSearchResult(result_type=m.PrefixSearchResultType.nonInclusionParent, depth=22),
    ]
    proofs = tuple(
        m.PrefixProof(results=tuple(kinds[(i + j) % 3] for j in range(5)), elements=(h,) * 22)
        for i in range(10)
    )
    return m.SearchResponse(
        full_tree_head=m.FullTreeHead(
            head_type=m.FullTreeHeadType.updated,
            tree_head=m.TreeHead(tree_size=1_000_003, signature=b"\x33" * 64),
        ),
        version=5,
        opening=b"\x44" * 16,
        value=m.UpdateValue(value=b"\x55" * 200, suffix=m.UpdateSuffix()),
        binary_ladder=tuple(
            m.BinaryLadderStep(proof=b"\x66" * 80, commitment=(h if i % 2 else None))
            for i in range(6)
        ),
        search=m.CombinedTreeProof(
            timestamps=tuple(1_785_418_673_000 + i for i in range(12)),
            prefix_proofs=proofs,
            prefix_roots=(h,) * 2,
            inclusion=m.InclusionProof(elements=(h,) * 24),
        ),
    )


# --------------------------------------------------------------------------
# The hand-written baseline
# --------------------------------------------------------------------------

_U16 = struct.Struct(">H").unpack_from
_U32 = struct.Struct(">I").unpack_from
_U64 = struct.Struct(">Q").unpack_from
_RESULT = {
    1: m.PrefixSearchResultType.inclusion,
    2: m.PrefixSearchResultType.nonInclusionLeaf,
    3: m.PrefixSearchResultType.nonInclusionParent,
}
_HEAD = {1: m.FullTreeHeadType.same, 2: m.FullTreeHeadType.updated}


class BadInputError(Exception):
    pass


def _need(buf: bytes, p: int, k: int) -> None:
    if p + k > len(buf):
        raise BadInputError("truncated")


def _hashes(buf: bytes, p: int, count_width: int) -> tuple[tuple[bytes, ...], int]:
    _need(buf, p, count_width)
    n = buf[p] if count_width == 1 else _U16(buf, p)[0]
    p += count_width
    end = p + 32 * n
    _need(buf, p, 32 * n)
    return tuple([buf[i : i + 32] for i in range(p, end, 32)]), end


def _prefix_proof(buf: bytes, p: int) -> tuple[m.PrefixProof, int]:
    _need(buf, p, 1)
    n = buf[p]
    p += 1
    results = []
    for _ in range(n):
        _need(buf, p, 1)
        rt = _RESULT.get(buf[p])
        if rt is None:
            raise BadInputError("result_type")
        p += 1
        leaf = None
        if rt == 2:
            _need(buf, p, 64)
            leaf = m.PrefixLeaf(vrf_output=buf[p : p + 32], commitment=buf[p + 32 : p + 64])
            p += 64
        _need(buf, p, 1)
        results.append(m.PrefixSearchResult(result_type=rt, leaf=leaf, depth=buf[p]))
        p += 1
    elements, p = _hashes(buf, p, 2)
    return m.PrefixProof(results=tuple(results), elements=elements), p


def handwritten_decode(buf: bytes) -> m.SearchResponse:
    p = 0
    _need(buf, p, 1)
    head_type = _HEAD.get(buf[p])
    if head_type is None:
        raise BadInputError("head_type")
    p += 1
    tree_head = None
    if head_type == 2:
        _need(buf, p, 10)
        size = _U64(buf, p)[0]
        n = _U16(buf, p + 8)[0]
        p += 10
        _need(buf, p, n)
        tree_head = m.TreeHead(tree_size=size, signature=buf[p : p + n])
        p += n
    fth = m.FullTreeHead(head_type=head_type, tree_head=tree_head)
    _need(buf, p, 4 + 16 + 4)
    version = _U32(buf, p)[0]
    opening = buf[p + 4 : p + 20]
    n = _U32(buf, p + 20)[0]
    p += 24
    _need(buf, p, n)
    value = m.UpdateValue(value=buf[p : p + n], suffix=m.UpdateSuffix())
    p += n
    _need(buf, p, 1)
    n = buf[p]
    p += 1
    ladder = []
    for _ in range(n):
        _need(buf, p, 81)
        proof = buf[p : p + 80]
        flag = buf[p + 80]
        p += 81
        commitment = None
        if flag == 1:
            _need(buf, p, 32)
            commitment = buf[p : p + 32]
            p += 32
        elif flag != 0:
            raise BadInputError("presence")
        ladder.append(m.BinaryLadderStep(proof=proof, commitment=commitment))
    _need(buf, p, 1)
    n = buf[p]
    p += 1
    _need(buf, p, 8 * n)
    timestamps = struct.unpack_from(f">{n}Q", buf, p)
    p += 8 * n
    _need(buf, p, 1)
    n = buf[p]
    p += 1
    proofs = []
    for _ in range(n):
        proof, p = _prefix_proof(buf, p)
        proofs.append(proof)
    roots, p = _hashes(buf, p, 1)
    elements, p = _hashes(buf, p, 2)
    if p != len(buf):
        raise BadInputError("trailing")
    return m.SearchResponse(
        full_tree_head=fth,
        version=version,
        opening=opening,
        value=value,
        binary_ladder=tuple(ladder),
        search=m.CombinedTreeProof(
            timestamps=timestamps,
            prefix_proofs=tuple(proofs),
            prefix_roots=roots,
            inclusion=m.InclusionProof(elements=elements),
        ),
    )


def handwritten_encode(v: m.SearchResponse) -> bytes:
    out = [bytes([v.full_tree_head.head_type])]
    th = v.full_tree_head.tree_head
    if th is not None:
        out += [struct.pack(">QH", th.tree_size, len(th.signature)), th.signature]
    out += [
        struct.pack(">I", v.version),
        v.opening,
        struct.pack(">I", len(v.value.value)),
        v.value.value,
        bytes([len(v.binary_ladder)]),
    ]
    for step in v.binary_ladder:
        if len(step.proof) != 80:
            raise BadInputError("proof size")
        out.append(step.proof)
        if step.commitment is None:
            out.append(b"\x00")
        else:
            out += [b"\x01", step.commitment]
    s = v.search
    out += [
        bytes([len(s.timestamps)]),
        struct.pack(f">{len(s.timestamps)}Q", *s.timestamps),
        bytes([len(s.prefix_proofs)]),
    ]
    for proof in s.prefix_proofs:
        out.append(bytes([len(proof.results)]))
        for r in proof.results:
            out.append(bytes([r.result_type]))
            if r.leaf is not None:
                out += [r.leaf.vrf_output, r.leaf.commitment]
            out.append(bytes([r.depth]))
        out += [struct.pack(">H", len(proof.elements)), *proof.elements]
    out += [
        bytes([len(s.prefix_roots)]),
        *s.prefix_roots,
        struct.pack(">H", len(s.inclusion.elements)),
        *s.inclusion.elements,
    ]
    return b"".join(out)


# --------------------------------------------------------------------------


def best_of(fn: Callable[[], object], loops: int, repeats: int) -> float:
    """Best time per call, in seconds, over ``repeats`` batches of ``loops`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - start) / loops)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    loops, repeats = (200, 5) if args.quick else (2000, 9)

    value = sample_response()
    data = wire.encode(value, mode=CM, context=CTX)
    assert handwritten_encode(value) == data
    assert handwritten_decode(data) == value
    codec = wire.codec_for()
    ctx = wire.make_context(CM, CTX)

    # The same call the public API makes, minus argument normalisation done once.
    def generated_decode() -> object:
        return codec.decode(m.SearchResponse, data, mode=CM, context=CTX)

    def generated_encode() -> bytes:
        return codec.encode(value, mode=CM, context=CTX)

    decoder = codec._decoders["SearchResponse"]
    encoder = codec._encoders["SearchResponse"]

    def generated_decode_core() -> object:
        return decoder(data, 0, ctx)

    def generated_encode_core() -> bytes:
        parts: list[bytes] = []
        encoder(value, parts, ctx)
        return b"".join(parts)

    rows = [
        ("decode", generated_decode, generated_decode_core, lambda: handwritten_decode(data)),
        ("encode", generated_encode, generated_encode_core, lambda: handwritten_encode(value)),
    ]
    print(
        f"SearchResponse: {len(data)} bytes; Python {sys.version.split()[0]}; "
        f"best of {repeats} x {loops} calls"
    )
    print(
        f"{'':8}{'ckv.wire API':>16}{'generated core':>17}{'hand-written':>15}"
        f"{'API/hand':>10}{'core/hand':>11}"
    )
    for name, api, core, hand in rows:
        t_api = best_of(api, loops, repeats)
        t_core = best_of(core, loops, repeats)
        t_hand = best_of(hand, loops, repeats)
        print(
            f"{name:8}{t_api * 1e6:13.1f} us{t_core * 1e6:14.1f} us{t_hand * 1e6:12.1f} us"
            f"{t_api / t_hand:9.2f}x{t_core / t_hand:10.2f}x"
        )
        mbps = len(data) / t_api / 1e6
        print(f"{'':8}{mbps:13.1f} MB/s{'':>11}{len(data) / t_hand / 1e6:10.1f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
