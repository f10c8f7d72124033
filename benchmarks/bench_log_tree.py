"""Log tree benchmark: ckv.log_tree (KEYTRANS) against pymerkle (RFC 9162 style), same run.

For trees of 10^3, 10^4, 10^5 and 10^6 entries (``--quick``: up to 10^5) it measures

* building the tree from the encoded ``LogEntry`` bytes of every entry (both sides hash
  each entry to a leaf, then the interior), plus, for CKV, an auditor growing only the
  full-subtree heads leaf by leaf;
* three requests: inclusion of 1 leaf; inclusion of 1 leaf together with consistency
  from a retained size ``m = n - n/100``; inclusion of 10 leaves together with the
  same consistency. CKV answers each with one batch ``InclusionProof`` (KEYTRANS
  §12.1); pymerkle with one inclusion proof per leaf plus one consistency proof;
* proof generation time, verification time and proof size. CKV's size is the encoded
  ``InclusionProof``; pymerkle's is its digests at 32 bytes each (its own format is
  JSON with hex digests and per-step rule bits, several times larger);
* the verifier's hash invocations (counted by running it once with a counting hash),
  the cost of one SHA-256 of a 66-byte input measured in the same run, and the ratio
  verification time / (hashes x per-hash cost). ``ratio(node)`` divides instead by the
  cost of one parent computation including assembling its input,
  ``b"\\x01" + sha256(left + right).digest()`` with 33-byte contents.

What differs between the two: pymerkle hashes a leaf as SHA-256(0x00 || data) and a
parent as SHA-256(0x01 || left || right) (RFC 6962/9162); KEYTRANS hashes a leaf as
SHA-256(LogEntry) and a parent as SHA-256(prefix || left || prefix || right) with a
per-child prefix (§11.8). pymerkle proves one leaf per proof and checks consistency
between two roots; a CKV verifier instead holds the full-subtree heads of the earlier
tree and checks all leaves and consistency in one pass, including §12.1's retained-head
comparison. pymerkle's in-memory tree rehashes the right edge on every append
(O(log n) hashes per append); CKV's LogTree hashes each new balanced subtree once.

    python benchmarks/bench_log_tree.py [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ckv import log_tree as lt
from ckv import wire
from ckv.wire import messages

try:
    import pymerkle
except ImportError:  # pragma: no cover - benchmark-only dependency
    pymerkle = None

SUITE = messages.CipherSuite.KT_128_SHA256_Ed25519
_sha = hashlib.sha256


def best(fn: Callable[[], object], budget: float) -> float:
    """Seconds per call: the best of several timed batches within about ``budget`` seconds."""
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(budget / 7 / once))
    results = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        results.append((time.perf_counter() - t0) / number)
    return min(results)


def paired(fn: Callable[[], object], hashes: int, budget: float) -> tuple[float, float, float]:
    """Seconds per call of ``fn``, of ``hashes`` bare SHA-256 calls, and of ``hashes`` parent
    computations, timed in alternating batches so that all three see the same machine."""
    x = bytes(range(66))
    a, b = b"\x01" + bytes(32), b"\x01" + bytes(range(32))
    p = b"\x01"
    loop = range(hashes)

    def bare() -> None:
        for _ in loop:
            _sha(x).digest()

    def node() -> None:
        for _ in loop:
            p + _sha(a + b).digest()

    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(budget / 3 / 9 / once))
    out: list[list[float]] = [[], [], []]
    for _ in range(9):
        for k, f in enumerate((fn, bare, node)):
            t0 = time.perf_counter()
            for _ in range(number):
                f()
            out[k].append((time.perf_counter() - t0) / number)
    return min(out[0]), min(out[1]), min(out[2])


def hash_cost(budget: float) -> tuple[float, float]:
    """Seconds per SHA-256 of 66 bytes, and per parent computation from two contents."""
    x = bytes(range(66))
    a, b = b"\x01" + bytes(32), b"\x01" + bytes(range(32))
    p = b"\x01"

    def bare() -> None:
        for _ in range(100):
            _sha(x).digest()

    def node() -> None:
        for _ in range(100):
            p + _sha(a + b).digest()

    return best(bare, budget) / 100, best(node, budget) / 100


def entries(n: int) -> list[bytes]:
    """Encoded LogEntry structures: what a log hashes into its leaves."""
    codec = wire.codec_for(SUITE)
    out = []
    for i in range(n):
        root = _sha(i.to_bytes(8, "big")).digest()
        out.append(
            codec.encode(messages.LogEntry(timestamp=1_785_000_000_000 + i, prefix_tree=root))
        )
    return out


@dataclass
class Row:
    size: int
    request: str
    impl: str
    proof_bytes: int
    digests: int
    prove: float
    verify: float
    hashes: int
    prim_bare: float
    prim_node: float

    def cells(self) -> list[str]:
        primitive = self.prim_bare
        return [
            f"{self.size:>9,}",
            self.request,
            self.impl,
            f"{self.proof_bytes:>6}",
            f"{self.digests:>4}",
            f"{self.prove * 1e6:>9.1f}",
            f"{self.verify * 1e6:>9.1f}",
            f"{self.hashes:>5}",
            f"{primitive * 1e6:>8.1f}",
            f"{self.verify / primitive:>5.2f}" if primitive else "   - ",
            f"{self.verify / self.prim_node:>5.2f}" if self.hashes else "   - ",
        ]


HEADER = [
    "n",
    "request",
    "impl",
    "bytes",
    "dig",
    "prove us",
    "verify us",
    "hash",
    "prim us",
    "ratio",
    "r(node)",
]


class Counting:
    """A hash function that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: bytes) -> bytes:
        self.calls += 1
        return _sha(data).digest()


class CountingConstructor:
    """A ``hashlib``-style constructor that counts the digests it is asked for."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: bytes | None = None) -> Any:
        if data is None:  # pymerkle asks for an empty object to read the digest size
            return _sha()
        self.calls += 1
        return _sha(data)


def bench_ckv(
    *,
    n: int,
    values: list[bytes],
    tree: lt.LogTree,
    requests: list[tuple[str, list[int], int]],
    budget: float,
) -> list[Row]:
    rows = []
    root = tree.root()
    for name, leaves, m in requests:
        retained = lt.FullSubtrees.from_leaves(values[:m]) if m else None
        proof = tree.batch_proof(leaves, m)
        encoded = wire.encode(proof, suite=SUITE)
        leaf_map = {i: values[i] for i in leaves}
        counter = Counting()
        lt.verify_batch(n, proof, leaf_map, retained, expected_root=root, hash_fn=counter)
        received = wire.decode(messages.InclusionProof, encoded, suite=SUITE)
        prove = best(lambda leaves=leaves, m=m: tree.batch_proof(leaves, m), budget)
        verify, prim_bare, prim_node = paired(
            lambda received=received, leaf_map=leaf_map, retained=retained: lt.verify_batch(
                n, received, leaf_map, retained, expected_root=root
            ),
            counter.calls,
            budget,
        )
        rows.append(
            Row(
                n,
                name,
                "ckv",
                len(encoded),
                len(proof.elements),
                prove,
                verify,
                counter.calls,
                prim_bare,
                prim_node,
            )
        )
    return rows


def bench_pymerkle(
    *,
    n: int,
    tree: Any,
    requests: list[tuple[str, list[int], int]],
    budget: float,
) -> list[Row]:
    rows = []
    root = tree.get_root()
    bases = {}
    for name, leaves, m in requests:
        for i in leaves:
            bases[i] = tree.get_leaf(i + 1)
        prior = tree.get_root(m) if m else None

        def prove(leaves: list[int] = leaves, m: int = m) -> list[Any]:
            proofs = [tree.prove_inclusion(i + 1, n) for i in leaves]
            if m:
                proofs.append(tree.prove_consistency(m, n))
            return proofs

        proofs = prove()

        def verify(
            proofs: list[Any] = proofs, leaves: list[int] = leaves, prior: Any = prior
        ) -> None:
            for i, p in zip(leaves, proofs, strict=False):
                pymerkle.verify_inclusion(bases[i], root, p)
            if prior is not None:
                pymerkle.verify_consistency(prior, root, proofs[-1])

        counter = CountingConstructor()
        for p in proofs:
            p.hasher.hashfunc = counter
        verify()
        for p in proofs:
            p.hasher.hashfunc = _sha
        digests = sum(len(p.path) for p in proofs)
        verify_time, prim_bare, prim_node = paired(verify, counter.calls, budget)
        rows.append(
            Row(
                n,
                name,
                "pymerkle",
                32 * digests,
                digests,
                best(prove, budget),
                verify_time,
                counter.calls,
                prim_bare,
                prim_node,
            )
        )
    return rows


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 10^5 (< 1 minute)")
    parser.add_argument("--no-pymerkle", action="store_true", help="skip the peer library")
    args = parser.parse_args(argv)
    sizes = [10**3, 10**4, 10**5] if args.quick else [10**3, 10**4, 10**5, 10**6]
    budget = 0.15 if args.quick else 0.6
    use_pymerkle = pymerkle is not None and not args.no_pymerkle
    started = time.perf_counter()
    peer = f"pymerkle {pymerkle.__version__}" if use_pymerkle else "pymerkle not run"
    print(f"python {sys.version.split()[0]}, ckv.log_tree, {peer}")
    rows: list[Row] = []
    builds = []
    rng = random.Random(2026)
    for n in sizes:
        data = entries(n)
        m = n - n // 100
        one = [rng.randrange(n)]
        ten = sorted(rng.sample(range(n), 10))
        requests = [("1 leaf", one, 0), ("1 leaf + cons", one, m), ("10 leaves + cons", ten, m)]

        t0 = time.perf_counter()
        tree = lt.LogTree()
        for d in data:
            tree.append_leaf(_sha(d).digest())
        ckv_build = time.perf_counter() - t0
        values = [tree.leaf(i) for i in range(n)]
        t0 = time.perf_counter()
        state = lt.FullSubtrees.empty()
        for v in values:
            state = state.append(v)
        auditor = time.perf_counter() - t0
        assert state.root() == tree.root()
        costs = hash_cost(budget / 2)
        rows += bench_ckv(n=n, values=values, tree=tree, requests=requests, budget=budget)
        pm_build = float("nan")
        if use_pymerkle:
            t0 = time.perf_counter()
            ptree = pymerkle.InmemoryTree()
            for d in data:
                ptree.append_entry(d)
            pm_build = time.perf_counter() - t0
            rows += bench_pymerkle(n=n, tree=ptree, requests=requests, budget=budget)
            del ptree
        builds.append((n, ckv_build, auditor, pm_build, tree.storage_bytes, costs))
        del tree, data, values

    print()
    print("Build (every entry hashed to a leaf, then the interior)")
    print(
        f"{'n':>9}  {'ckv LogTree s':>13}  {'ckv auditor s':>13}  {'pymerkle s':>10}  "
        f"{'ckv MB':>7}  {'sha256 ns':>9}  {'node ns':>7}"
    )
    for n, cb, au, pb, nbytes, (per_hash, per_node) in builds:
        print(
            f"{n:>9,}  {cb:>13.3f}  {au:>13.3f}  {pb:>10.3f}  {nbytes / 2**20:>7.1f}  "
            f"{per_hash * 1e9:>9.0f}  {per_node * 1e9:>7.0f}"
        )
    print()
    print("Proofs (times are the best batch of several; prim = hash x per-hash cost)")
    table = [HEADER, *(r.cells() for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    for row in table:
        print(
            "  ".join(
                cell.rjust(w) if i != 1 else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print()
    print(f"max RSS {rss_mb():.0f} MB, total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
