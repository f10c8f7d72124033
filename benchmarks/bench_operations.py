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

Two more tables use :class:`ckv.transparency_log.TransparencyLog` itself:

* **Search at directory scale**: 10^4, 10^5 (and, without ``--quick``, 10^6)
  labels, sequenced 1,000 label-versions per entry; the time to generate
  (``answer_search``) and verify (``verify_search``) a greatest-version search
  for one label, first-time and returning user, and the response's encoded size.
* **Monitoring cost per day of one label**: a log sequencing one entry every
  second or every minute (a heartbeat each, over a prefix tree of many labels),
  ``reasonable_monitoring_window`` one day as CKV recommends. Each window the
  owner changes its key (one Update), a minute later the contact looks the label
  up (a returning user's Search), the contact monitors the pairs it looked up
  once per window until a distinguished entry covers them (KT-006), and the owner
  sends one Owner Monitoring request per window (both half a window later).
  A key change every day is a pessimistic case: a label whose key does not
  change needs no contact monitoring at all once covered. Bytes are the
  encoded request plus response; time is the user's verification. With
  ``--quick`` the one-second cadence runs with a one-hour window instead and the
  figures are multiplied by 24 (marked "scaled").

Populating uses a stand-in VRF (SHA-512 of label and version, proofs of the real
size) for every label but the one searched or monitored, whose VRF is the
suite's, so its proofs verify.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ckv import distinguished as dist
from ckv import wire
from ckv.cipher_suites import VrfResult, get_suite
from ckv.client_state import ClientState
from ckv.commitment import compute_commitment
from ckv.interop.search_vectors import demo_log
from ckv.label_update import answer_update, verify_update_response
from ckv.monitoring import (
    OwnerState,
    answer_contact_monitor,
    answer_owner_init,
    answer_owner_monitor,
    verify_contact_monitor,
    verify_owner_init,
    verify_owner_monitor,
)
from ckv.prefix_tree import PrefixTree
from ckv.search import answer_search, response_ladder, verify_search
from ckv.transparency_log import LogKeys, TransparencyLog
from ckv.tree_head import tree_head_tbs
from ckv.wire import messages

LABEL = b"alice@example.com"
SUITE = messages.CipherSuite.KT_128_SHA256_Ed25519
LOG_SK = hashlib.sha256(b"bench log").digest()
VRF_SK = hashlib.sha256(b"bench vrf").digest()
BATCH = 1000
SECOND = 1000
DAY = 86_400_000
T0 = 1_700_000_000_000


def _time(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples)


def _timed(repeat: int, fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    """Minimum seconds of ``fn(*args, **kwargs)`` over ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
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


# -- the log at directory scale ------------------------------------------------------------


class BenchVrf:
    """The suite's VRF for the labels in ``real``, a stand-in of the same sizes otherwise."""

    def __init__(self, real: set[bytes]) -> None:
        self.real = real
        self.suite = get_suite(SUITE)

    def __call__(self, label: bytes, version: int) -> VrfResult:
        if label in self.real:
            return self.suite.vrf_prove(VRF_SK, label, version)
        digest = hashlib.sha512(label + version.to_bytes(4, "big")).digest()
        return VrfResult(digest[:32], digest + digest[:16])


def bench_config(rmw: int) -> messages.Configuration:
    s = get_suite(SUITE)
    return messages.Configuration(
        ciphersuite=SUITE,
        mode=messages.DeploymentMode.contactMonitoring,
        signature_public_key=s.signature_public_key(LOG_SK),
        vrf_public_key=s.vrf_public_key(VRF_SK),
        max_ahead=60_000,
        max_behind=3_600_000,
        reasonable_monitoring_window=rmw,
        maximum_lifetime=30 * DAY,
    )


def new_log(rmw: int, labels: int, cadence: int) -> tuple[TransparencyLog, int]:
    """A log holding ``labels`` labels, ``BATCH`` per entry, and LABEL; returns it and the time."""
    counter = iter(range(1 << 62))
    log = TransparencyLog(
        LogKeys(bench_config(rmw), LOG_SK, VRF_SK),
        random_bytes=lambda n: hashlib.sha256(b"%d" % next(counter)).digest()[:n],
        evaluate_vrf=BenchVrf({LABEL}),
    )
    now = T0
    log.stage(LABEL, [b"alice's key 0"])
    for first in range(0, labels, BATCH):
        for i in range(first, min(labels, first + BATCH)):
            log.stage(b"label-%07d" % i, [b"key of %d" % i])
        now += cadence
        log.sequence(now)
    return log, now


def encoded(
    value: object, config: messages.Configuration, request: messages.SearchRequest | None = None
) -> int:
    """Encoded size; a SearchResponse needs its request's ``version`` to be encoded."""
    context = (
        {"SearchRequest.version": "absent" if request.version is None else "present"}
        if request is not None
        else None
    )
    return len(wire.encode(value, suite=config.ciphersuite, mode=config.mode, context=context))


@dataclass
class Primitives:
    """Seconds per unavoidable operation, measured in this run."""

    sig: float
    vrf: float
    hmac: float
    sha: float

    @classmethod
    def measure(cls) -> Primitives:
        suite = get_suite(SUITE)
        config = bench_config(DAY)
        message = b"\x00" * 144
        signature = suite.sign(LOG_SK, message)
        proofs = [suite.vrf_prove(VRF_SK, LABEL, v).proof for v in range(8)]
        value = messages.CommitmentValue(
            opening=bytes(16),
            label=LABEL,
            version=0,
            update=messages.UpdateValue(value=bytes(48), suffix=messages.UpdateSuffix()),
        )
        block = b"\x01" * 65
        return cls(
            sig=_time(lambda: suite.verify(config.signature_public_key, message, signature), 20),
            vrf=_time(
                lambda: [
                    suite.vrf_verify(config.vrf_public_key, LABEL, v, p)
                    for v, p in enumerate(proofs)
                ],
                5,
            )
            / len(proofs),
            hmac=_time(lambda: compute_commitment(SUITE, value, mode=config.mode), 20),
            sha=_time(lambda: [hashlib.sha256(block).digest() for _ in range(1000)], 5) / 1000,
        )


def proof_hashes(proof: messages.CombinedTreeProof) -> int:
    """Estimated SHA-256 calls to verify a CombinedTreeProof (as in the first table)."""
    hashes = sum(len(p.elements) + len(p.results) for p in proof.prefix_proofs)
    return hashes + len(proof.timestamps) + len(proof.inclusion.elements)


@dataclass
class Cost:
    """Accumulated cost of some responses: bytes, verification time, primitive floor."""

    count: int = 0
    size: int = 0
    verify: float = 0.0
    floor: float = 0.0
    sigs: int = 0
    vrfs: int = 0
    hashes: int = 0

    def add(
        self,
        size: int,
        verify: float,
        prim: Primitives,
        *,
        sigs: int,
        vrfs: int,
        hmacs: int,
        hashes: int,
    ) -> None:
        self.count += 1
        self.size += size
        self.verify += verify
        self.sigs += sigs
        self.vrfs += vrfs
        self.hashes += hashes
        self.floor += sigs * prim.sig + vrfs * prim.vrf + hmacs * prim.hmac + hashes * prim.sha


def search_at_scale(labels: int, repeat: int, prim: Primitives) -> list[str]:
    """Rows for one directory size: first-time and returning user."""
    started = time.perf_counter()
    log, now = new_log(DAY, labels, SECOND)
    # A few more entries, so that a returning user has something to catch up on.
    for _ in range(16):
        now += SECOND
        log.heartbeat(now)
    populate = time.perf_counter() - started
    config = log.config
    rows = []
    first = messages.SearchRequest(last=None, label=LABEL, version=None)
    for name, last in (("first", None), ("returning", log.size - 16)):
        state = ClientState.initial()
        if last is not None:
            # The returning user verified the log as it was 16 entries ago.
            earlier = answer_search(_LogAt(log, last), config, LOG_SK, first)
            _, state = verify_search(state, config, first, earlier, log.timestamp(last - 1))
        request = messages.SearchRequest(last=last, label=LABEL, version=None)
        response = answer_search(log, config, LOG_SK, request)
        generate = _timed(repeat, answer_search, log, config, LOG_SK, request)
        verify = _timed(repeat, verify_search, state, config, request, response, now)
        cost = Cost()
        cost.add(
            encoded(response, config, request),
            verify,
            prim,
            sigs=1,
            vrfs=len(response.binary_ladder),
            hmacs=1,
            hashes=proof_hashes(response.search),
        )
        rows.append(
            f"{labels:>9,} {log.size:>7,} {name:<9} {generate * 1e3:>9.2f} {verify * 1e3:>9.2f}"
            f" {cost.floor * 1e3:>9.2f} {verify / cost.floor:>6.2f} {cost.size:>8,}"
            f" {cost.vrfs:>4} {cost.hashes:>6} {populate:>7.1f}"
        )
    return rows


class _LogAt:
    """A TransparencyLog as of an earlier size (a SearchLogView)."""

    def __init__(self, log: TransparencyLog, size: int) -> None:
        self._log = log
        self.size = size

    def timestamp(self, x: int) -> int:
        return self._log.timestamp(x)

    def prefix_tree(self, x: int) -> PrefixTree:
        return self._log.prefix_tree(x)

    def vrf_output(self, label: bytes, version: int) -> bytes:
        return self._log.vrf_output(label, version)

    def vrf_proof(self, label: bytes, version: int) -> bytes:
        return self._log.vrf_proof(label, version)

    def opening(self, label: bytes, version: int) -> bytes | None:
        return self._log.opening(label, version)

    def value(self, label: bytes, version: int) -> messages.UpdateValue | None:
        return self._log.value(label, version)

    def batch_proof(self, leaves: Sequence[int], retained_size: int) -> messages.InclusionProof:
        return self._log.batch_proof(leaves, retained_size, size=self.size)

    def root(self) -> bytes:
        return self._log.root(self.size)


# -- monitoring cost per day ------------------------------------------------------------------


@dataclass
class DayCosts:
    """Per-window costs of one label, by operation."""

    update: Cost = field(default_factory=Cost)
    search: Cost = field(default_factory=Cost)
    contact: Cost = field(default_factory=Cost)
    owner: Cost = field(default_factory=Cost)
    entries: int = 0


def simulate_monitoring(
    *, cadence: int, rmw: int, windows: int, labels: int, prim: Primitives
) -> DayCosts:
    """Run a log for ``windows`` windows after a warm-up; cost one label's monitoring."""
    log, now = new_log(rmw, labels, cadence)
    config = log.config

    def run_until(t: int) -> None:
        nonlocal now
        while now + cadence <= t:
            now += cadence
            log.heartbeat(now)

    # Warm-up: a window and a bit, so that distinguished entries exist.
    begin = now + rmw + rmw // 8
    run_until(begin)
    start = dist.rightmost_distinguished(log.size, rmw, log.timestamp)
    if start is None:
        raise SystemExit("no distinguished entry after the warm-up")
    init_request = messages.OwnerInitRequest(last=None, label=LABEL, start=start)
    init = answer_owner_init(log, config, LOG_SK, init_request)
    owner, owner_state = verify_owner_init(ClientState.initial(), config, init_request, init, now)
    contact = ClientState.initial()
    request = messages.SearchRequest(last=None, label=LABEL, version=None)
    _, contact = verify_search(
        contact, config, request, answer_search(log, config, LOG_SK, request), now
    )
    pairs: dict[int, int] = {}
    outputs: dict[int, bytes] = {}
    commitments: dict[int, bytes] = {}
    costs = DayCosts()
    first_entry = log.size
    for w in range(windows):
        # The owner changes its key at the start of each window ...
        run_until(begin + w * rmw)
        value = b"alice's key %d" % (w + 1)
        update_request = messages.UpdateRequest(
            last=owner_state.tree_size,
            label=LABEL,
            greatest_version=owner.greatest,
            values=(messages.LabelValue(value=value),),
        )
        log.stage(LABEL, [value])
        now += cadence
        position = log.sequence(now).position
        update = answer_update(log, config, LOG_SK, update_request, position, owner_start=start)
        verify = _timed(
            3,
            verify_update_response,
            owner_state,
            config,
            owner,
            update_request,
            update,
            now_ms=now,
        )
        _, owner, owner_state = verify_update_response(
            owner_state, config, owner, update_request, update, now_ms=now
        )
        costs.update.add(
            encoded(update_request, config) + encoded(update, config),
            verify,
            prim,
            sigs=1,
            vrfs=len(update.binary_ladder),
            hmacs=len(update.info),
            hashes=proof_hashes(update.update),
        )
        # ... the contact looks it up a minute later ...
        run_until(begin + w * rmw + 60 * SECOND)
        request = messages.SearchRequest(last=contact.tree_size, label=LABEL, version=None)
        response = answer_search(log, config, LOG_SK, request)
        verify = _timed(3, verify_search, contact, config, request, response, now)
        result, contact = verify_search(contact, config, request, response, now)
        costs.search.add(
            encoded(request, config) + encoded(response, config, request),
            verify,
            prim,
            sigs=1,
            vrfs=len(response.binary_ladder),
            hmacs=1,
            hashes=proof_hashes(response.search),
        )
        if result.must_monitor:
            pairs[result.terminal] = result.version
            # What the Search's binary ladder taught the contact about the label's versions.
            for v in response_ladder(result.version):
                outputs[v] = log.vrf_output(LABEL, v)
                if v <= result.version:
                    commitments[v] = log.commitment(LABEL, v) or b""
        # ... and monitors, as the owner does, half a window later.
        run_until(begin + w * rmw + rmw // 2)
        if pairs:
            cm_request = messages.ContactMonitorRequest(
                last=contact.tree_size,
                label=LABEL,
                entries=tuple(
                    messages.MonitorMapEntry(position=p, version=v)
                    for p, v in sorted(pairs.items())
                ),
            )
            cm = answer_contact_monitor(log, config, LOG_SK, cm_request)
            verify = _timed(
                3,
                verify_contact_monitor,
                contact,
                config,
                cm_request,
                cm,
                now,
                vrf_outputs=outputs,
                commitments=commitments,
            )
            pairs, contact = verify_contact_monitor(
                contact, config, cm_request, cm, now, vrf_outputs=outputs, commitments=commitments
            )
            costs.contact.add(
                encoded(cm_request, config) + encoded(cm, config),
                verify,
                prim,
                sigs=1,
                vrfs=0,
                hmacs=0,
                hashes=proof_hashes(cm.monitor),
            )
        om_request = _owner_request(owner, owner_state)
        om = answer_owner_monitor(log, config, LOG_SK, om_request)
        verify = _timed(
            3, verify_owner_monitor, owner_state, config, owner, om_request, om, now_ms=now
        )
        owner, owner_state = verify_owner_monitor(
            owner_state, config, owner, om_request, om, now_ms=now
        )
        costs.owner.add(
            encoded(om_request, config) + encoded(om, config),
            verify,
            prim,
            sigs=1,
            vrfs=0,
            hmacs=0,
            hashes=proof_hashes(om.monitor),
        )
    costs.entries = log.size - first_entry
    return costs


def _owner_request(owner: OwnerState, state: ClientState) -> messages.OwnerMonitorRequest:
    return messages.OwnerMonitorRequest(
        last=state.tree_size,
        label=LABEL,
        entries=tuple(
            messages.MonitorMapEntry(position=p, version=v)
            for p, v in sorted(owner.entries.items())
        ),
        start=owner.start,
        greatest_version=owner.greatest,
    )


def monitoring_rows(
    name: str, *, cadence: int, rmw: int, windows: int, labels: int, prim: Primitives
) -> list[str]:
    """Rows per operation, per day: bytes, verification seconds, ratio to the floor."""
    started = time.perf_counter()
    costs = simulate_monitoring(cadence=cadence, rmw=rmw, windows=windows, labels=labels, prim=prim)
    elapsed = time.perf_counter() - started
    per_day = DAY / (rmw * windows)
    rows = []
    total = Cost()
    for op, cost in (
        ("update", costs.update),
        ("search", costs.search),
        ("contact", costs.contact),
        ("owner", costs.owner),
    ):
        total.size += cost.size
        total.verify += cost.verify
        total.floor += cost.floor
        total.count += cost.count
        if not cost.count:
            rows.append(f"{name:<22} {op:<8} {'-':>6}")
            continue
        rows.append(
            f"{name:<22} {op:<8} {cost.count * per_day:>6.1f} {cost.size * per_day:>10,.0f}"
            f" {cost.verify * per_day * 1e3:>10.2f} {cost.floor * per_day * 1e3:>10.2f}"
            f" {cost.verify / cost.floor:>6.2f} {cost.sigs * per_day:>5.1f}"
            f" {cost.vrfs * per_day:>5.1f} {cost.hashes * per_day:>8,.0f}"
        )
    rows.append(
        f"{name:<22} {'total':<8} {total.count * per_day:>6.1f} {total.size * per_day:>10,.0f}"
        f" {total.verify * per_day * 1e3:>10.2f} {total.floor * per_day * 1e3:>10.2f}"
        f" {total.verify / total.floor:>6.2f}   ({costs.entries:,} entries simulated,"
        f" {elapsed:.0f} s)"
    )
    return rows


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small logs, few repeats")
    args = parser.parse_args()
    started = time.perf_counter()
    sizes = [64, 256] if args.quick else [64, 256, 1024, 4096]
    repeat = 5 if args.quick else 15
    print(f"Search verification over small demo logs ({SUITE.name})")
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
    prim = Primitives.measure()
    print()
    print(
        f"primitives: Ed25519 verify {prim.sig * 1e6:.0f} us, ECVRF verify {prim.vrf * 1e6:.0f} us,"
        f" commitment HMAC {prim.hmac * 1e6:.1f} us, SHA-256 (65 B) {prim.sha * 1e9:.0f} ns"
    )
    print()
    print(f"Search at directory scale: {BATCH:,} label-versions per entry, one entry per second")
    print(
        f"{'labels':>9} {'entries':>7} {'user':<9} {'answer ms':>9} {'verify ms':>9}"
        f" {'floor ms':>9} {'ratio':>6} {'bytes':>8} {'VRF':>4} {'hashes':>6} {'build s':>7}"
    )
    scale = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    for labels in scale:
        for row in search_at_scale(labels, 3 if args.quick else 5, prim):
            print(row, flush=True)
    print()
    print(
        "Monitoring cost of one label per day (reasonable_monitoring_window one day unless"
        " scaled; per window: one key change (Update), one Search, one Contact Monitoring"
        " while a looked-up pair is uncovered, one Owner Monitoring)"
    )
    print(
        f"{'cadence':<22} {'op':<8} {'req/d':>6} {'bytes/d':>10} {'verify ms/d':>10}"
        f" {'floor ms/d':>10} {'ratio':>6} {'sig/d':>5} {'VRF/d':>5} {'hashes/d':>8}"
    )
    if args.quick:
        plan = [
            ("1 s (scaled: 1 h x24)", SECOND, 3_600_000, 2, 10**4),
            ("60 s", 60 * SECOND, DAY, 2, 10**4),
        ]
    else:
        plan = [
            ("1 s", SECOND, DAY, 2, 10**5),
            ("60 s", 60 * SECOND, DAY, 6, 10**5),
        ]
    for name, cadence, rmw, windows, labels in plan:
        for row in monitoring_rows(
            name, cadence=cadence, rmw=rmw, windows=windows, labels=labels, prim=prim
        ):
            print(row, flush=True)
    print(
        "floor: signature verifications + VRF verifications + commitment HMACs + estimated"
        " SHA-256 calls (prefix proof elements and results, log tree leaves and inclusion"
        " elements), each timed in this run; ratio: verify / floor; bytes: encoded request +"
        " response"
    )
    print(f"total run time {time.perf_counter() - started:.0f} s (wall clock)")


if __name__ == "__main__":
    main()
