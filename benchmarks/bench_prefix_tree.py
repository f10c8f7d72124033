"""Benchmark the KEYTRANS prefix tree: building, proving, verifying, memory.

Usage: python benchmarks/bench_prefix_tree.py [--quick]

For each tree size (10^3 .. 10^6 entries; --quick stops at 10^5) it reports

* insert throughput: a bulk build (``from_leaves`` + ``root``), one key per new
  version (``insert`` + ``root``, as a log adding one key per entry), and 100
  keys per new version;
* proof generation and verification time for one key and for a ladder-like
  batch of 6 keys (4 present, 2 absent), and the encoded proof sizes;
* verification time as a ratio to the hash invocations a verifier cannot avoid
  (one per terminal leaf, one per parent on the searched paths, counted from the
  proofs), with the cost of one SHA-256 over a 65-byte node input measured in
  the same run, interleaved with the verification timings;

and, at the largest size, memory per entry (RSS delta) and the memory one new
version costs (tracemalloc). All times are CPU time of this process
(``time.process_time_ns``), best of several interleaved rounds, so that other
load on the machine disturbs them as little as possible.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from ckv import wire
from ckv.prefix_tree import PrefixTree, digest_size, evaluate_prefix_proof, reconstruct
from ckv.prefix_tree.verify import SkeletonLeaf, SkeletonParent
from ckv.wire.messages import PrefixProof

NODE_INPUT = b"\x03" + bytes(64)  # a parent's hash input: 1 + 2 * Hash.Nh bytes


def cpu_per_call(fn: Callable[[], object], calls: int) -> float:
    """CPU nanoseconds per call of ``fn``, over ``calls`` calls."""
    start = time.process_time_ns()
    for _ in range(calls):
        fn()
    return (time.process_time_ns() - start) / calls


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    fields = Path("/proc/self/statm").read_text(encoding="ascii").split()
    return int(fields[1]) * 4096


def unavoidable_hashes(
    keys: list[bytes], proof: PrefixProof, commitments: list[bytes | None]
) -> int:
    """Distinct terminal leaves plus parents on the searched paths."""
    stack = [reconstruct(keys, proof, commitments)]
    count = 0
    while stack:
        node = stack.pop()
        if isinstance(node, SkeletonParent):
            count += 1
            stack.extend((node.left, node.right))
        elif isinstance(node, SkeletonLeaf):
            count += 1
    return count


def counted_invocations(
    keys: list[bytes], proof: PrefixProof, commitments: list[bytes | None]
) -> int:
    calls = [0]

    def counting(data: bytes) -> bytes:
        calls[0] += 1
        return hashlib.sha256(data).digest()

    digest_size(counting)  # learning Hash.Nh takes one call; not part of a verification
    calls[0] = 0
    evaluate_prefix_proof(keys, proof, commitments, hash_fn=counting)
    return calls[0]


def measure(n: int, rng: random.Random, quick: bool, memory: bool) -> dict[str, object]:
    row: dict[str, object] = {"n": n}
    rss0 = rss_bytes()
    keys = [rng.randbytes(32) for _ in range(n)]
    commitments = [rng.randbytes(32) for _ in range(n)]
    start = time.process_time_ns()
    tree = PrefixTree.from_leaves(zip(keys, commitments, strict=True))
    root = tree.root()
    row["bulk_per_s"] = n / ((time.process_time_ns() - start) / 1e9)
    if memory:
        del commitments
        gc.collect()
        row["rss_per_entry"] = (rss_bytes() - rss0) / n
        commitments = [tree.get(k) for k in keys[:2000]]  # only the sample below is needed

    # One key per version, and 100 keys per version, each followed by root().
    singles = 500 if quick else 2000
    fresh = [rng.randbytes(32) for _ in range(singles)]
    version = tree
    start = time.process_time_ns()
    for key in fresh:
        version = version.insert(key, key)
        version.root()
    row["single_per_s"] = singles / ((time.process_time_ns() - start) / 1e9)
    batches = 10 if quick else 40
    start = time.process_time_ns()
    version = tree
    for _ in range(batches):
        version = version.update(insert={rng.randbytes(32): bytes(32) for _ in range(100)})
        version.root()
    row["batch100_per_s"] = 100 * batches / ((time.process_time_ns() - start) / 1e9)

    # Proofs: single present keys, and ladder-like batches (4 present, 2 absent).
    samples = 50 if quick else 200
    sample = rng.sample(range(min(n, 2000)), min(samples, n))
    single_cases = []
    for i in sample:
        key = keys[i]
        single_cases.append(([key], [commitments[i]]))
    batch_cases = []
    for _ in range(samples):
        present = rng.sample(range(min(n, 2000)), 4)
        batch = [keys[i] for i in present] + [rng.randbytes(32) for _ in range(2)]
        batch_cases.append((batch, [commitments[i] for i in present] + [None, None]))
    for label, cases in (("single", single_cases), ("ladder", batch_cases)):
        proofs = [tree.prove(k) for k, _ in cases]
        decoded = [wire.decode(PrefixProof, wire.encode(p)) for p in proofs]
        row[f"{label}_bytes"] = sum(len(wire.encode(p)) for p in proofs) / len(proofs)
        row[f"{label}_depth"] = sum(r.depth for p in proofs for r in p.results) / sum(
            len(p.results) for p in proofs
        )
        needed = sum(unavoidable_hashes(k, p, c) for (k, c), p in zip(cases, decoded, strict=True))
        done = sum(counted_invocations(k, p, c) for (k, c), p in zip(cases, decoded, strict=True))
        row[f"{label}_hashes"] = needed / len(cases)
        row[f"{label}_invocations"] = done / len(cases)

        def prove_all(cases: list[tuple[list[bytes], list[bytes | None]]] = cases) -> None:
            for k, _ in cases:
                tree.prove(k)

        def verify_all(
            cases: list[tuple[list[bytes], list[bytes | None]]] = cases,
            decoded: list[PrefixProof] = decoded,
        ) -> None:
            for (k, c), p in zip(cases, decoded, strict=True):
                if evaluate_prefix_proof(k, p, c) != root:
                    raise AssertionError("proof does not verify")

        def hash_all(count: int = needed) -> None:
            new = hashlib.sha256
            message = NODE_INPUT
            for _ in range(count):
                new(message).digest()

        rounds = 5 if quick else 9
        reps = 4 if quick else 8
        best_prove = best_verify = best_hash = float("inf")
        for _ in range(rounds):  # interleaved, best of each
            best_hash = min(best_hash, cpu_per_call(hash_all, reps))
            best_verify = min(best_verify, cpu_per_call(verify_all, reps))
            best_prove = min(best_prove, cpu_per_call(prove_all, reps))
        row[f"{label}_prove_us"] = best_prove / len(cases) / 1e3
        row[f"{label}_verify_us"] = best_verify / len(cases) / 1e3
        row[f"{label}_hash_ns"] = best_hash / needed
        row[f"{label}_ratio"] = best_verify / best_hash

    if memory:
        # What one more version costs, beyond the tree it shares everything else with.
        for size in (1, 100):
            additions = {rng.randbytes(32): rng.randbytes(32) for _ in range(size)}
            tracemalloc.start()
            newer = tree.update(insert=additions)
            newer.root()
            current, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            row[f"version_{size}_bytes"] = current
            del newer
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 10^5 (under a minute)")
    args = parser.parse_args()
    sizes = [10**3, 10**4, 10**5] if args.quick else [10**3, 10**4, 10**5, 10**6]
    rng = random.Random(20260101)
    started = time.perf_counter()
    rows = [measure(n, rng, args.quick, memory=(n == sizes[-1])) for n in sizes]
    header = (
        f"{'entries':>9} {'bulk/s':>9} {'1/ver/s':>8} {'100/ver/s':>9} │ "
        f"{'depth':>5} {'bytes':>6} {'prove':>7} {'verify':>7} {'hashes':>6} {'ns/h':>5} "
        f"{'ratio':>5} │ {'bytes':>6} {'prove':>7} {'verify':>7} {'hashes':>6} {'ratio':>5}"
    )
    print(f"prefix tree, SHA-256, 32-byte keys; Python {sys.version.split()[0]}; CPU time")
    print(f"{'':>39} │ {'single key (us)':^52} │ {'ladder batch of 6 keys (us)':^36}")
    print(header)
    for r in rows:
        print(
            f"{r['n']:>9,} {r['bulk_per_s']:>9,.0f} {r['single_per_s']:>8,.0f} "
            f"{r['batch100_per_s']:>9,.0f} │ {r['single_depth']:>5.1f} {r['single_bytes']:>6.0f} "
            f"{r['single_prove_us']:>7.1f} {r['single_verify_us']:>7.1f} "
            f"{r['single_hashes']:>6.1f} {r['single_hash_ns']:>5.0f} {r['single_ratio']:>5.2f} │ "
            f"{r['ladder_bytes']:>6.0f} {r['ladder_prove_us']:>7.1f} {r['ladder_verify_us']:>7.1f} "
            f"{r['ladder_hashes']:>6.1f} {r['ladder_ratio']:>5.2f}"
        )
    last = rows[-1]
    mismatch = [
        r["n"]
        for r in rows
        for label in ("single", "ladder")
        if r[f"{label}_hashes"] != r[f"{label}_invocations"]
    ]
    print(
        f"hash invocations made by the verifier = the unavoidable count at every size: "
        f"{'yes' if not mismatch else 'no, at ' + str(mismatch)}"
    )
    print(
        f"memory at {last['n']:,} entries: {last['rss_per_entry']:.0f} bytes/entry (RSS delta, "
        f"includes keys and commitments); a new version costs "
        f"{last['version_1_bytes']:,} bytes for 1 inserted key and "
        f"{last['version_100_bytes']:,} bytes for 100 (tracemalloc)"
    )
    print(f"total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
