"""Benchmark of the Search operation's verification (``ckv.search.verify_search``).

Run:  python benchmarks/bench_operations.py [--quick]

For each scenario (log size, versions, greatest-version or fixed-version search,
first-time or returning user) it builds a response with the in-memory log,
then times the user's verification and compares it with the cost of the
operations the user cannot avoid, measured in the same run:

* one VRF verification per binary ladder step (``Suite.vrf_verify``);
* one tree head signature verification;
* one commitment HMAC for the target version;
* SHA-256 evaluations of the prefix and log tree proofs, counted from the
  proof's shape (one per prefix proof element and result, one per log tree
  leaf and inclusion element): an estimate, timed as ``hashlib.sha256`` over
  65 bytes.

Times are the minimum over the repeats. The ratio measured/primitive is what
the engine adds (decoding-free: the response is already a dataclass).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable

from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.commitment import compute_commitment
from ckv.interop.search_vectors import demo_log
from ckv.search import answer_search, response_ladder, verify_search
from ckv.tree_head import tree_head_tbs
from ckv.wire import messages

LABEL = b"alice@example.com"


def _time(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples)


def _scenario(
    n: int, versions: int, fixed: bool, returning: bool, repeat: int
) -> tuple[str, float, float, int, int]:
    timestamps = [1_000_000 + 100 * i for i in range(n)]
    step = max(1, n // versions)
    updates = [
        [(LABEL, b"value %d" % i)] if i % step == 0 and i // step < versions else []
        for i in range(n)
    ]
    updates = [u or [(b"other %d" % i, b"x")] for i, u in enumerate(updates)]
    log, config, key = demo_log(timestamps, updates, rmw=100 * max(1, n // 8))
    state = ClientState.initial()
    if returning:
        m = n // 2 + 1
        first = answer_search(
            log.view(m), config, key, messages.SearchRequest(last=None, label=LABEL, version=None)
        )
        _, state = verify_search(
            state,
            config,
            messages.SearchRequest(last=None, label=LABEL, version=None),
            first,
            timestamps[m - 1],
        )
    target = versions // 2 if fixed else None
    request = messages.SearchRequest(last=state.tree_size, label=LABEL, version=target)
    response = answer_search(log.view(), config, key, request)
    now = timestamps[-1]
    measured = _time(lambda: verify_search(state, config, request, response, now), repeat)

    suite = get_suite(config.ciphersuite)
    steps = response.binary_ladder
    ladder = response_ladder(target if target is not None else response.version or 0)
    # Each version's proof costs differently (try-and-increment), so time them all.
    vrf = _time(
        lambda: [
            suite.vrf_verify(config.vrf_public_key, LABEL, v, s.proof)
            for v, s in zip(ladder, steps, strict=True)
        ],
        repeat,
    )
    head = response.full_tree_head.tree_head
    if head is None:
        raise SystemExit("expected an updated tree head")
    tbs = tree_head_tbs(config, head.tree_size, log.view().root())
    sig = _time(lambda: suite.verify(config.signature_public_key, tbs, head.signature), repeat)
    value = messages.CommitmentValue(
        opening=response.opening,
        label=LABEL,
        version=target if target is not None else response.version or 0,
        update=response.value,
    )
    hmac = _time(lambda: compute_commitment(config.ciphersuite, value, mode=config.mode), repeat)
    proof = response.search
    hashes = sum(len(p.elements) + len(p.results) for p in proof.prefix_proofs)
    hashes += len(proof.timestamps) + len(proof.inclusion.elements)
    block = b"\x01" * 65
    h = _time(lambda: [hashlib.sha256(block).digest() for _ in range(100)], repeat) / 100
    primitive = vrf + sig + hmac + hashes * h
    name = (
        f"n={n:<6} v={versions:<3} {'fixed ' if fixed else 'greatest'} "
        f"{'returning' if returning else 'first'}"
    )
    return name, measured, primitive, len(steps), hashes


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small logs, few repeats")
    args = parser.parse_args()
    sizes = [64, 256] if args.quick else [64, 256, 1024, 4096]
    repeat = 5 if args.quick else 15
    header = ("scenario", "verify ms", "primitive ms", "ratio", "VRF", "hashes")
    print("{:<40} {:>10} {:>13} {:>6} {:>4} {:>7}".format(*header))
    for n in sizes:
        for fixed in (False, True):
            for returning in (False, True):
                name, measured, primitive, vrfs, hashes = _scenario(n, 12, fixed, returning, repeat)
                print(
                    f"{name:<40} {measured * 1e3:>10.2f} {primitive * 1e3:>13.2f} "
                    f"{measured / primitive:>6.2f} {vrfs:>4} {hashes:>7}"
                )


if __name__ == "__main__":
    main()
