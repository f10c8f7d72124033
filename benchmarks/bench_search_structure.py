"""Benchmark: the implicit search tree and binary ladders (KEYTRANS §4.1, §5, §6.2).

Measures, per tree size (or version) from 10^3 to 10^9, how many operations per
second CKV's closed-form code does, against a naive reading of Appendix A/B
(loops for log2, level and the right child, the frontier by repeated right
children, the direct path by recursive descent from the root, ladders as lists).
``speedup`` is naive time / CKV time. ``x SHA-256`` puts one operation next to
one SHA-256 of 64 bytes (a log-tree node hash) measured in the same run: the
structure's cost is pure integer math, so the hashes a verifier must do anyway
are the natural yardstick.

Run: ``python benchmarks/bench_search_structure.py [--quick]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives import hashes

from ckv import binary_ladder as bl
from ckv import implicit_search_tree as ibst

# --- The naive baseline: Appendix A/B read literally, written for this benchmark. ---


def naive_log2(x: int) -> int:
    if x == 0:
        return 0
    k = 0
    while (x >> k) > 0:
        k += 1
    return k - 1


def naive_level(x: int) -> int:
    k = 0
    while (x >> k) & 1:
        k += 1
    return k


def naive_root(n: int) -> int:
    return (1 << naive_log2(n)) - 1


def naive_left(x: int) -> int:
    k = naive_level(x)
    if k == 0:
        raise ValueError("leaf")
    return x ^ (1 << (k - 1))


def naive_right(x: int, n: int) -> int:
    k = naive_level(x)
    if k == 0 or x == n - 1:
        raise ValueError("no right child")
    x ^= 3 << (k - 1)
    while x >= n:
        x = naive_left(x)
    return x


def naive_frontier(n: int) -> list[int]:
    out = [naive_root(n)]
    while out[-1] != n - 1:
        out.append(naive_right(out[-1], n))
    return out


def naive_direct_path(x: int, n: int) -> list[int]:
    def descend(node: int) -> list[int]:
        if node == x:
            return []
        child = naive_left(node) if x < node else naive_right(node, n)
        return [*descend(child), node]

    return descend(naive_root(n))


def naive_ladder(n: int) -> list[int]:
    out: list[int] = []
    while True:
        value = (1 << len(out)) - 1
        out.append(value)
        if value > n:
            break
    lo, hi = out[-2], out[-1]
    while lo + 1 < hi:
        value = (lo + hi) // 2
        out.append(value)
        if value <= n and value < (1 << 32):
            lo = value
        else:
            hi = value
    return [v for v in out if v < (1 << 32)]


def naive_interpret(target: int, outcomes: Sequence[bool]) -> int:
    ladder = naive_ladder(target)
    for i, version in enumerate(ladder):
        if i == len(outcomes):
            raise ValueError("too few")
        if outcomes[i] and version > target:
            verdict = 1
            break
        if not outcomes[i] and version <= target:
            verdict = -1
            break
    else:
        verdict = 0
    if i + 1 != len(outcomes) and verdict != 0:
        raise ValueError("too many")
    return verdict


# --- Timing. ---


def per_op(fn: Callable[[int], object], inputs: Sequence[int], budget: float) -> float:
    """Seconds per call of fn over the inputs (best of several rounds within the budget)."""
    best = float("inf")
    deadline = time.perf_counter() + budget
    rounds = 0
    while rounds < 3 or time.perf_counter() < deadline:
        start = time.perf_counter()
        for value in inputs:
            fn(value)
        best = min(best, (time.perf_counter() - start) / len(inputs))
        rounds += 1
        if rounds >= 50:
            break
    return best


def sha256_cost(budget: float) -> float:
    data = bytes(64)

    def one(_: int) -> object:
        h = hashes.Hash(hashes.SHA256())
        h.update(data)
        return h.finalize()

    return per_op(one, range(2000), budget)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, shorter timing")
    args = parser.parse_args(argv)
    exponents = [3, 6, 9] if args.quick else list(range(3, 10))
    budget = 0.15 if args.quick else 0.6
    count = 200 if args.quick else 1000
    rnd = random.Random(2026)

    sha = sha256_cost(budget)
    print(f"SHA-256 of 64 bytes (cryptography): {sha * 1e6:.2f} us/op")
    header = (
        f"{'operation':<22} {'size':>6} {'CKV ops/s':>12} {'naive ops/s':>12} "
        f"{'speedup':>8} {'x SHA-256':>10}"
    )
    print(header)
    print("-" * len(header))
    started = time.perf_counter()
    for e in exponents:
        n = 10**e
        positions = [rnd.randrange(n) for _ in range(count)]
        versions = [min(p, bl.MAX_VERSION) for p in positions]
        honest = {}
        for v in versions:
            honest[v] = [w <= v for w in bl.base_binary_ladder(v)]
        rows = [
            ("frontier(n)", lambda _, n=n: ibst.frontier(n), lambda _, n=n: naive_frontier(n)),
            (
                "direct_path(x, n)",
                lambda x, n=n: ibst.direct_path(x, n),
                lambda x, n=n: naive_direct_path(x, n),
            ),
            ("base ladder(g)", bl.base_binary_ladder, naive_ladder),
            (
                "read search ladder",
                lambda t, honest=honest: bl.interpret_search_ladder(t, honest[t]),
                lambda t, honest=honest: naive_interpret(t, honest[t]),
            ),
        ]
        for name, ours, naive in rows:
            inputs = positions if "path" in name else versions
            t_ours = per_op(ours, inputs, budget)
            t_naive = per_op(naive, inputs, budget)
            print(
                f"{name:<22} {'1e' + str(e):>6} {1 / t_ours:>12,.0f} {1 / t_naive:>12,.0f} "
                f"{t_naive / t_ours:>8.2f} {t_ours / sha:>10.2f}"
            )
    print(f"\n(measured in {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
