"""Benchmark the KEYTRANS log state: sequencing throughput, VRF share, memory per label.

Usage: python benchmarks/bench_transparency_log.py [--quick]

For each directory size (10^4, 10^5 and 10^6 labels; --quick stops at 10^5) the
log is first populated with one version per label, in entries of 1,000
label-versions, using a stand-in VRF (a SHA-512 of the label and version, with
proofs of the real size) so that populating does not take an hour of VRF
evaluations. It then sequences entries of 1,000 new versions of random
existing labels and reports, in label-versions per second:

* **without VRF**: the stand-in VRF, so the figure is the log's own cost
  (commitments, prefix tree insertion and root, log tree append);
* **with VRF**: the suite's RFC 9381 ECVRF with the log's key, as a real log runs.

It also measures, in the same run, the unavoidable primitive operations per
label-version: one VRF evaluation, one commitment (HMAC over the encoded
``CommitmentValue``), and the SHA-256 invocations of the prefix tree (one leaf
plus at most ``ceil(log2 n)`` parents on its path; an upper bound, since
paths in one batch share their top), and reports measured / primitive.

Memory per label is the RSS growth while populating, divided by the number of
labels: the version record (commitment, opening, value, VRF output and proof),
its prefix tree leaf and path, and the log's per-label index. The ``--quick``
run finishes in well under a minute; the full run takes a few minutes.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ckv.cipher_suites import VrfResult, get_suite
from ckv.commitment import commit
from ckv.transparency_log import LogKeys, TransparencyLog, make_auditor_update
from ckv.wire.messages import CipherSuite, Configuration, DeploymentMode, UpdateSuffix, UpdateValue

SUITE = CipherSuite.KT_128_SHA256_Ed25519
BATCH = 1000
LOG_SK = hashlib.sha256(b"log").digest()
VRF_SK = hashlib.sha256(b"vrf").digest()


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    fields = Path("/proc/self/statm").read_text(encoding="ascii").split()
    return int(fields[1]) * 4096


def config() -> Configuration:
    s = get_suite(SUITE)
    return Configuration(
        ciphersuite=SUITE,
        mode=DeploymentMode.contactMonitoring,
        signature_public_key=s.signature_public_key(LOG_SK),
        vrf_public_key=s.vrf_public_key(VRF_SK),
        max_ahead=60_000,
        max_behind=3_600_000,
        reasonable_monitoring_window=86_400_000,
        maximum_lifetime=14 * 86_400_000,
    )


class SwitchableVrf:
    """The suite VRF, or a stand-in of the same output and proof sizes."""

    def __init__(self) -> None:
        self.real = False
        self.suite = get_suite(SUITE)
        #: Seconds spent in real VRF evaluations.
        self.seconds = 0.0

    def __call__(self, label: bytes, version: int) -> VrfResult:
        if self.real:
            start = time.process_time()
            result = self.suite.vrf_prove(VRF_SK, label, version)
            self.seconds += time.process_time() - start
            return result
        digest = hashlib.sha512(label + version.to_bytes(4, "big")).digest()
        return VrfResult(digest[:32], digest + digest[:16])


def per_call(fn: Callable[[], object], calls: int) -> float:
    """CPU seconds per call, after a warm-up (the VRF builds its tables on first use)."""
    for _ in range(max(1, calls // 4)):
        fn()
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


def primitive_costs() -> dict[str, float]:
    """Seconds per VRF evaluation, per commitment, per SHA-256 of a node input."""
    suite = get_suite(SUITE)
    update = UpdateValue(value=bytes(48), suffix=UpdateSuffix())
    counter = iter(range(10**9))
    opening = bytes(16)
    return {
        "vrf": per_call(lambda: suite.vrf_prove(VRF_SK, b"label-0000001", next(counter)), 200),
        "commit": per_call(
            lambda: commit(
                SUITE,
                b"label-0000001",
                next(counter),
                update,
                mode=DeploymentMode.contactMonitoring,
                opening=opening,
            ),
            5000,
        ),
        "sha256": per_call(lambda: hashlib.sha256(b"\x03" + bytes(64)).digest(), 100_000),
    }


def label(i: int) -> bytes:
    return b"label-%07d" % i


def run_size(
    n: int, entries_fake: int, entries_real: int, prim: dict[str, float]
) -> dict[str, float]:
    vrf = SwitchableVrf()
    log = TransparencyLog(
        LogKeys(config(), LOG_SK, VRF_SK), random_bytes=os.urandom, evaluate_vrf=vrf
    )
    gc.collect()
    rss0 = rss_bytes()
    now = 1_700_000_000_000
    start = time.process_time()
    for first in range(0, n, BATCH):
        for i in range(first, min(n, first + BATCH)):
            log.stage(label(i), [b"initial key of %d" % i])
        now += 1000
        log.sequence(now)
    populate = time.process_time() - start
    gc.collect()
    per_label = (rss_bytes() - rss0) / n
    rng = random.Random(n)

    def entries(count: int) -> float:
        nonlocal now
        elapsed = 0.0
        for _ in range(count):
            chosen = rng.sample(range(n), BATCH)
            start = time.process_time()
            for i in chosen:
                log.stage(label(i), [b"new key"])
            now += 1000
            log.sequence(now)
            elapsed += time.process_time() - start
        return count * BATCH / elapsed

    fake = entries(entries_fake)
    vrf.real = True
    real = entries(entries_real)
    vrf.real = False
    vrf_share = vrf.seconds / (entries_real * BATCH / real)
    # A long-running log would move its (acyclic) history out of the collector's way.
    gc.collect()
    gc.freeze()
    frozen = entries(entries_fake)
    gc.unfreeze()
    # An AuditorUpdate for an entry of 255 new keys (the most one can carry), at this size.
    x = log.size - 1
    added = log.leaves_added(x)[:255]
    previous = log.prefix_tree(x - 1)
    audit = per_call(lambda: make_auditor_update(previous, now, added), 5)
    hashes = math.ceil(math.log2(n)) + 1
    floor_tree = prim["commit"] + hashes * prim["sha256"]
    # The VRF evaluations timed where the log makes them (the same primitive, measured in place).
    floor_real = floor_tree + vrf.seconds / (entries_real * BATCH)
    return {
        "n": n,
        "populate_s": populate,
        "fake": fake,
        "frozen": frozen,
        "real": real,
        "per_label": per_label,
        "ratio_fake": (1 / fake) / floor_tree,
        "ratio_real": (1 / real) / floor_real,
        "vrf_share": vrf_share,
        "audit_ms": audit * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 10^5 labels, fewer entries")
    args = parser.parse_args()
    started = time.perf_counter()
    prim = primitive_costs()
    if args.quick:
        plan = [(10**4, 3, 1), (10**5, 3, 1)]
    else:
        plan = [(10**4, 10, 3), (10**5, 10, 3), (10**6, 10, 3)]
    print(
        f"KEYTRANS log state, {SUITE.name}, contactMonitoring, {BATCH} label-versions per entry;"
        f" Python {sys.version.split()[0]}; CPU time of this process"
    )
    print(
        f"primitives: VRF prove {prim['vrf'] * 1e6:.0f} us, commitment {prim['commit'] * 1e6:.1f}"
        f" us, SHA-256 (65 B) {prim['sha256'] * 1e9:.0f} ns"
    )
    header = (
        f"{'labels':>9} │ {'populate s':>10} │ {'no-VRF lv/s':>11} {'x floor':>7}"
        f" {'gc.freeze':>9} │"
        f" {'VRF lv/s':>8} {'x floor':>7} {'VRF share':>9} │ {'B/label':>7} │ {'audit255 ms':>11}"
    )
    print(header)
    print("─" * len(header))
    for n, fake, real in plan:
        r = run_size(n, fake, real, prim)
        print(
            f"{n:>9,} │ {r['populate_s']:>10.1f} │ {r['fake']:>11,.0f} {r['ratio_fake']:>7.2f}"
            f" {r['frozen']:>9,.0f} │"
            f" {r['real']:>8,.0f} {r['ratio_real']:>7.2f} {r['vrf_share']:>9.0%} │"
            f" {r['per_label']:>7,.0f} │ {r['audit_ms']:>11.1f}"
        )
        gc.collect()
    print(
        "lv/s: label-versions per second; x floor: measured time per label-version /"
        " (commitment + (ceil(log2 n)+1) SHA-256 [+ the VRF proves timed in the run]);"
        " gc.freeze: no-VRF lv/s"
        " after gc.freeze(); VRF share: time in VRF evaluations / time of the VRF entries"
    )
    print(f"total run time {time.perf_counter() - started:.0f} s (wall clock)")


if __name__ == "__main__":
    main()
