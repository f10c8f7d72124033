"""Interop cases for the Search operation (KEYTRANS §13.1, §6.3, §7.2, §12.3): ``search.json``.

Each case is a ``SearchResponse`` a katie log served. The handler decodes it
with the request's context and runs CKV's client verification
(:func:`ckv.search.verify_search`) with the vector's configuration; a case
passes only if the proof is consumed exactly and the ``FullTreeHead``
signature verifies over the recomputed root.

Also here: :class:`MemoryLog`, a small in-memory log implementing
:class:`ckv.search.SearchLogView`, used for the case the log refused
(``fixed-version-expired-target``) and by the tests.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ckv import combined_tree as ct
from ckv import implicit_search_tree as ibst
from ckv import log_tree, wire
from ckv.cipher_suites import get_suite
from ckv.client_state import ClientState
from ckv.commitment import commit, compute_commitment, sign_update
from ckv.errors import CKVError
from ckv.interop import Case, CaseOutcome, FileMeta, handler
from ckv.interop.monitor_vectors import TrustingConsumer, limited_check_detail
from ckv.prefix_tree import PrefixTree
from ckv.search import answer_search, response_ladder, verify_search
from ckv.wire import messages

__all__ = ["MemoryLog", "MemoryLogView", "demo_log", "run_search_case"]


@dataclass(frozen=True, slots=True)
class _Stored:
    opening: bytes
    value: messages.UpdateValue


@dataclass(slots=True)
class _Label:
    versions: list[_Stored] = field(default_factory=list)
    #: Entry at which each version was added.
    added_at: list[int] = field(default_factory=list)


class MemoryLog:
    """An in-memory Transparency Log: entries, prefix trees, a log tree and a VRF key.

    Deterministic given ``random_bytes`` (openings). Test and interop use only.
    """

    def __init__(
        self,
        config: messages.Configuration,
        vrf_secret: bytes,
        *,
        leaf_key: bytes = b"",
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self.config = config
        self.suite = get_suite(config.ciphersuite)
        self._vrf_secret = vrf_secret
        self._leaf_key = leaf_key
        self._random = random_bytes
        self._timestamps: list[int] = []
        self._trees: list[PrefixTree] = []
        self._log = log_tree.LogTree(hash_fn=log_tree.hash_for_suite(config.ciphersuite))
        self._labels: dict[bytes, _Label] = {}
        self._vrf: dict[tuple[bytes, int], tuple[bytes, bytes]] = {}

    @property
    def size(self) -> int:
        """The number of entries."""
        return len(self._timestamps)

    def vrf(self, label: bytes, version: int) -> tuple[bytes, bytes]:
        """(output, proof) of a label-version pair, cached."""
        got = self._vrf.get((label, version))
        if got is None:
            result = self.suite.vrf_prove(self._vrf_secret, label, version)
            got = self._vrf[(label, version)] = (result.output, result.proof)
        return got

    def append(self, timestamp: int, updates: Sequence[tuple[bytes, bytes]]) -> None:
        """Add one entry creating the next version of each ``(label, value)``."""
        tree = self._trees[-1] if self._trees else PrefixTree(key_size=self.suite.vrf_nh)
        inserts = []
        for label, value in updates:
            record = self._labels.setdefault(label, _Label())
            version = len(record.versions)
            update = sign_update(self.config, self._leaf_key, label, version, value)
            c = commit(
                self.config.ciphersuite,
                label,
                version,
                update,
                mode=self.config.mode,
                random_bytes=self._random,
            )
            record.versions.append(_Stored(c.opening, update))
            record.added_at.append(self.size)
            inserts.append((self.vrf(label, version)[0], c.commitment))
        tree = tree.update(insert=inserts) if inserts else tree
        self._trees.append(tree)
        self._timestamps.append(timestamp)
        self._log.append_entry(
            messages.LogEntry(timestamp=timestamp, prefix_tree=tree.root()),
            suite=self.config.ciphersuite,
        )

    def view(self, size: int | None = None) -> MemoryLogView:
        """The log as of ``size`` entries (default: all)."""
        return MemoryLogView(self, self.size if size is None else size)


class MemoryLogView:
    """A :class:`MemoryLog` as of one size: implements :class:`ckv.search.SearchLogView`."""

    def __init__(self, log: MemoryLog, size: int) -> None:
        self._log = log
        self._size = size

    @property
    def size(self) -> int:
        """The number of entries."""
        return self._size

    def timestamp(self, x: int) -> int:
        """The timestamp of entry ``x``."""
        return self._log._timestamps[x]

    def prefix_tree(self, x: int) -> PrefixTree:
        """The prefix tree as of entry ``x``."""
        return self._log._trees[x]

    def vrf_output(self, label: bytes, version: int) -> bytes:
        """The search key of a label-version pair."""
        return self._log.vrf(label, version)[0]

    def vrf_proof(self, label: bytes, version: int) -> bytes:
        """The VRF proof of a label-version pair."""
        return self._log.vrf(label, version)[1]

    def _stored(self, label: bytes, version: int) -> _Stored | None:
        record = self._log._labels.get(label)
        if record is None or version >= len(record.versions):
            return None
        if record.added_at[version] >= self._size:
            return None
        return record.versions[version]

    def opening(self, label: bytes, version: int) -> bytes | None:
        """The opening of a label-version pair existing at this size."""
        stored = self._stored(label, version)
        return None if stored is None else stored.opening

    def value(self, label: bytes, version: int) -> messages.UpdateValue | None:
        """The ``UpdateValue`` of a label-version pair existing at this size."""
        stored = self._stored(label, version)
        return None if stored is None else stored.value

    def batch_proof(self, leaves: Sequence[int], retained_size: int) -> messages.InclusionProof:
        """The §12.1 batch proof at this size."""
        return self._log._log.batch_proof(leaves, retained_size, size=self._size)

    def root(self) -> bytes:
        """The log tree root at this size."""
        return self._log._log.root(self._size)


# -- the handler --------------------------------------------------------------------------


def _config(meta: FileMeta, inp: Any) -> messages.Configuration:
    lifetime = int(inp["maximum_lifetime"])
    return messages.Configuration(
        ciphersuite=messages.CipherSuite(int(meta.get("cipher_suite", 2))),
        mode=messages.DeploymentMode(int(inp["mode"])),
        signature_public_key=bytes.fromhex(inp["signature_public_key"]),
        vrf_public_key=bytes.fromhex(inp["vrf_public_key"]),
        max_ahead=int(inp["max_ahead"]),
        max_behind=int(inp["max_behind"]),
        reasonable_monitoring_window=int(inp["monitoring_window"]),
        # The vectors write "no maximum lifetime" as 0 (§7.1: one, if defined, is > 0).
        maximum_lifetime=lifetime or None,
    )


def _request(inp: Any) -> messages.SearchRequest:
    version = inp.get("version")
    return messages.SearchRequest(
        last=inp.get("last"),
        label=bytes.fromhex(inp["label"]),
        version=None if version is None else int(version),
    )


def _refused_by_log(meta: FileMeta, inp: Any, expect: Any) -> CaseOutcome:
    """The log refused: rebuild the same log (own keys) and check CKV's log refuses too."""
    config = _config(meta, inp)
    suite = get_suite(config.ciphersuite)
    sig_key = bytes(range(32))
    vrf_key = bytes(range(1, 33))
    config = messages.Configuration(
        ciphersuite=config.ciphersuite,
        mode=config.mode,
        signature_public_key=suite.signature_public_key(sig_key),
        vrf_public_key=suite.vrf_public_key(vrf_key),
        max_ahead=config.max_ahead,
        max_behind=config.max_behind,
        reasonable_monitoring_window=config.reasonable_monitoring_window,
        maximum_lifetime=config.maximum_lifetime,
    )
    log = MemoryLog(config, vrf_key, random_bytes=bytes)
    for ts, mutation in zip(inp["entry_timestamps"], inp["mutations"], strict=True):
        log.append(
            int(ts),
            [(bytes.fromhex(a["label"]), bytes.fromhex(a["value"])) for a in mutation["add"]],
        )
    try:
        answer_search(log.view(), config, sig_key, _request(inp))
    except ct.SearchRefusedError as exc:
        want = str(expect["error"])
        if exc.reason is ct.Refusal.EXPIRED and "expired" in want:
            return CaseOutcome.passed(f"CKV's log refuses too: {exc} ({exc.requirement})")
        return CaseOutcome.failed(f"refused for another reason: {exc}; katie: {want}")
    return CaseOutcome.failed(f"CKV's log answered a search katie refused ({expect['error']})")


def _limited_advertised(
    config: messages.Configuration,
    request: messages.SearchRequest,
    response: messages.SearchResponse,
    inp: Any,
) -> CaseOutcome:
    """A case with ``last``: the vector lacks the retained state, so only consumption is checked.

    The retained frontier timestamps are taken from ``entry_timestamps``; the retained
    prefix roots are unknown, so each is accepted as its proof gives it; the log tree
    root cannot be computed (the retained full subtree heads are unknown) and the
    signature is not checked. The view update is read as katie builds it (KT-05).
    """
    last = request.last
    if last is None:
        return CaseOutcome.failed("no advertised size")
    stamps = [int(t) for t in inp["entry_timestamps"]]
    target = request.version if request.version is not None else response.version
    if target is None or response.full_tree_head.tree_head is None:
        return CaseOutcome.failed("response has no target version or no tree head")
    suite = get_suite(config.ciphersuite)
    ladder = response_ladder(target)
    outputs = {
        v: suite.vrf_verify(config.vrf_public_key, request.label, v, s.proof)
        for v, s in zip(ladder, response.binary_ladder, strict=True)
    }
    commitments = {
        v: s.commitment
        for v, s in zip(ladder, response.binary_ladder, strict=True)
        if s.commitment is not None
    }
    commitments[target] = compute_commitment(
        config.ciphersuite,
        messages.CommitmentValue(
            opening=response.opening, label=request.label, version=target, update=response.value
        ),
        mode=config.mode,
    )
    n = response.full_tree_head.tree_head.tree_size
    results = {}
    for reading in ("kt05", "draft"):
        consumer = TrustingConsumer(
            response.search,
            n,
            vrf_outputs=outputs,
            commitments=commitments,
            stamps={x: stamps[x] for x in ibst.frontier(last)},
            suite=config.ciphersuite,
        )
        try:
            ct.update_view(consumer, last, restart=reading == "draft")
            rmw = config.reasonable_monitoring_window
            if request.version is None:
                ct.greatest_version_search(consumer, target, rmw)
            else:
                ct.fixed_version_search(consumer, target, rmw, config.maximum_lifetime)
            consumer.check_counts()
            results[reading] = "consumed exactly"
        except CKVError as exc:
            results[reading] = f"rejected: {exc}"
    detail = limited_check_detail(results, last)
    if results["kt05"] != "consumed exactly":
        return CaseOutcome.failed(detail)
    return CaseOutcome.diverges("IOP-S01", detail)


@handler("search")
def run_search_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Verify a recorded ``SearchResponse`` as a client would (§13.1)."""
    inp = case["input"]
    expect = case["expect"]
    if "error" in expect:
        return _refused_by_log(meta, inp, expect)
    config = _config(meta, inp)
    request = _request(inp)
    context = {"SearchRequest.version": "absent" if request.version is None else "present"}
    try:
        response = wire.decode(
            messages.SearchResponse,
            bytes.fromhex(expect["response"]),
            suite=config.ciphersuite,
            mode=config.mode,
            context=context,
        )
    except CKVError as exc:
        return CaseOutcome.failed(f"response does not decode: {exc}")
    if request.last is not None:
        return _limited_advertised(config, request, response, inp)
    now = int(inp["entry_timestamps"][-1])
    # How many versions the mutations gave the label: a target at or above that count is a
    # negative result, which katie serves and §13.1 forbids accepting (DRAFT-08).
    versions = sum(
        1 for m in inp["mutations"] for a in m["add"] if bytes.fromhex(a["label"]) == request.label
    )
    target = request.version if request.version is not None else response.version
    negative = target is None or target >= versions
    try:
        result, state = verify_search(ClientState.initial(), config, request, response, now)
    except CKVError as exc:
        if negative:
            requirement = getattr(exc, "requirement", None)
            return CaseOutcome.diverges(
                "IOP-O01",
                f"katie serves a negative result (the label has {versions} versions, the "
                f"response claims version {target}); §13.1 requires clients to reject it and "
                f"CKV does ({requirement}: {exc})",
            )
        return CaseOutcome.failed(f"rejected: {exc}")
    if negative:
        return CaseOutcome.failed("a negative result was accepted (§13.1 requires rejection)")
    want = expect.get("version", request.version)
    if result.version != want:
        return CaseOutcome.failed(f"version {result.version} != {want}")
    if state.tree_size != int(expect["tree_size"]):
        return CaseOutcome.failed(f"state size {state.tree_size} != {expect['tree_size']}")
    return CaseOutcome.passed(
        f"version {result.version}, terminal entry {result.terminal}, consumed exactly, "
        "tree head verified"
    )


def demo_log(
    timestamps: Sequence[int],
    updates: Sequence[Sequence[tuple[bytes, bytes]]],
    *,
    mode: messages.DeploymentMode = messages.DeploymentMode.contactMonitoring,
    rmw: int = 604_800_000,
    max_lifetime: int | None = None,
    suite: messages.CipherSuite = messages.CipherSuite.KT_128_SHA256_Ed25519,
    clock_bounds: int = 10_000,
) -> tuple[MemoryLog, messages.Configuration, bytes]:
    """A :class:`MemoryLog` with fixed test keys, its configuration and signing key.

    Entry ``i`` has timestamp ``timestamps[i]`` and adds ``updates[i]``. Openings are
    all-zero (deterministic). For tests and interop only.
    """
    s = get_suite(suite)
    sig_key = bytes(range(32))
    vrf_key = bytes(range(1, 33))
    leaf_key = bytes(range(2, 34))
    managed = mode is messages.DeploymentMode.thirdPartyManagement
    config = messages.Configuration(
        ciphersuite=suite,
        mode=mode,
        signature_public_key=s.signature_public_key(sig_key),
        vrf_public_key=s.vrf_public_key(vrf_key),
        leaf_public_key=s.signature_public_key(leaf_key) if managed else None,
        max_ahead=clock_bounds,
        max_behind=clock_bounds,
        reasonable_monitoring_window=rmw,
        maximum_lifetime=max_lifetime,
    )
    log = MemoryLog(config, vrf_key, leaf_key=leaf_key, random_bytes=bytes)
    for ts, entry in zip(timestamps, updates, strict=True):
        log.append(ts, entry)
    return log, config, sig_key
