"""Honest and adversarial views of a Transparency Log, for tests (KEYTRANS §4-§10, §13).

Every answer function of the reference (``answer_search``, ``answer_contact_monitor``,
``answer_owner_init``, ``answer_owner_monitor``, ``answer_update``) reads a
:class:`~ckv.search.SearchLogView`. The classes here are such views, so an honest
answer function run over one of them is a log that misbehaves in exactly one way:

* :class:`LogAt` is the honest view of a :class:`~ckv.transparency_log.TransparencyLog`
  as of a size. Over an older size it is a log that stopped growing (stale heads) or
  that rolled back.
* :class:`AlteredHistory` is a history the log rewrote: entries dropped, timestamps
  changed, prefix trees edited, values replaced. With ``resign=True`` it has a log
  tree of its own and the log signs it (a self-consistent alternative history, i.e.
  one side of a fork); with ``resign=False`` the log keeps serving the proofs and
  heads of the history it signed, so its prefix proofs contradict them.
  :func:`omit_versions`, :func:`replace_version`, :func:`swap_timestamps` and
  :func:`drop_entry` build the usual ones.
* :class:`ForkingLog` drives two logs under one key in lock-step, then lets them
  diverge: each user it shows one branch sees a valid history.

Two answer functions lie where the honest ones would refuse:
:func:`answer_search_claiming` claims a greatest version older than the one that
exists, and :func:`answer_owner_monitor_unstopped` gives an owner ladders past an
entry holding a version the owner does not know of. Both record the honest
algorithm and send what it recorded up to the point where it found the claim
false (:func:`record_past_refusal`).

Nothing here is used by the reference implementation itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ckv import combined_tree as ct
from ckv.commitment import commit
from ckv.errors import UsageError, VerificationError
from ckv.log_tree import LogTree, hash_for_suite
from ckv.monitoring import full_tree_head_for, greatest_at
from ckv.prefix_tree import PrefixTree
from ckv.search import SearchLogView, response_ladder
from ckv.transparency_log import LogAt, LogKeys, RandomBytes, TransparencyLog, UpdateResult
from ckv.wire import messages

__all__ = [
    "AlteredHistory",
    "ForkingLog",
    "LogAt",
    "StoredVersion",
    "TreeEdit",
    "answer_owner_monitor_unstopped",
    "answer_search_claiming",
    "drop_entry",
    "omit_versions",
    "record_past_refusal",
    "replace_version",
    "swap_timestamps",
]

#: ``edit(x, tree)``: the prefix tree entry ``x`` shows instead of ``tree``.
TreeEdit = Callable[[int, PrefixTree], PrefixTree]


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """The opening and ``UpdateValue`` a log serves for one label-version pair."""

    opening: bytes
    value: messages.UpdateValue


# -- the honest view ----------------------------------------------------------------------


# -- rewritten histories ------------------------------------------------------------------


class AlteredHistory:
    """A history the log rewrote; a :class:`~ckv.search.SearchLogView`.

    Entry ``i`` of this history is entry ``keep[i]`` of ``base`` (default: all of
    them), with the timestamp ``timestamps.get(keep[i])`` if given and the prefix
    tree ``edit(keep[i], tree)`` if ``edit`` is given. ``values`` overrides what is
    served for a label-version pair (``None``: nothing). With ``resign`` the
    history has its own log tree (the log signs its root); without it, the log
    tree proofs and root are still those of ``base``, which then contradict the
    timestamps and prefix trees served (only possible when no entry is dropped).
    """

    __slots__ = ("_base", "_log_tree", "_timestamps", "_trees", "_values")

    def __init__(
        self,
        base: SearchLogView,
        suite: messages.CipherSuite,
        *,
        keep: Sequence[int] | None = None,
        timestamps: Mapping[int, int] | None = None,
        edit: TreeEdit | None = None,
        values: Mapping[tuple[bytes, int], StoredVersion | None] | None = None,
        resign: bool = True,
    ) -> None:
        order = list(range(base.size)) if keep is None else list(keep)
        if not order or any(not 0 <= x < base.size for x in order):
            msg = "keep must name at least one entry of the base history"
            raise UsageError(msg)
        if not resign and order != list(range(base.size)):
            msg = "a history with entries dropped cannot reuse the base log tree"
            raise UsageError(msg)
        moved = timestamps or {}
        self._base = base
        self._timestamps = [moved.get(x, base.timestamp(x)) for x in order]
        trees = [base.prefix_tree(x) for x in order]
        if edit is not None:
            trees = [edit(x, tree) for x, tree in zip(order, trees, strict=True)]
        self._trees = trees
        self._values = dict(values or {})
        self._log_tree: LogTree | None = None
        if resign:
            log = LogTree(hash_fn=hash_for_suite(suite))
            for t, tree in zip(self._timestamps, trees, strict=True):
                log.append_entry(
                    messages.LogEntry(timestamp=t, prefix_tree=tree.root()), suite=suite
                )
            self._log_tree = log

    @property
    def size(self) -> int:
        """The number of entries of the rewritten history."""
        return len(self._trees)

    def timestamp(self, x: int) -> int:
        """The timestamp the log now shows for entry ``x``."""
        return self._timestamps[x]

    def prefix_tree(self, x: int) -> PrefixTree:
        """The prefix tree the log now shows for entry ``x``."""
        return self._trees[x]

    def vrf_output(self, label: bytes, version: int) -> bytes:
        """The search key of a label-version pair (the VRF is not rewritten)."""
        return self._base.vrf_output(label, version)

    def vrf_proof(self, label: bytes, version: int) -> bytes:
        """The VRF proof of a label-version pair."""
        return self._base.vrf_proof(label, version)

    def opening(self, label: bytes, version: int) -> bytes | None:
        """The opening served for a label-version pair."""
        if (label, version) in self._values:
            stored = self._values[label, version]
            return None if stored is None else stored.opening
        return self._base.opening(label, version)

    def value(self, label: bytes, version: int) -> messages.UpdateValue | None:
        """The ``UpdateValue`` served for a label-version pair."""
        if (label, version) in self._values:
            stored = self._values[label, version]
            return None if stored is None else stored.value
        return self._base.value(label, version)

    def batch_proof(self, leaves: Sequence[int], retained_size: int) -> messages.InclusionProof:
        """A §12.1 batch proof: of this history if re-signed, else of the base history."""
        if self._log_tree is None:
            return self._base.batch_proof(leaves, retained_size)
        return self._log_tree.batch_proof(leaves, retained_size)

    def root(self) -> bytes:
        """The log tree root: of this history if re-signed, else of the base history."""
        return self._base.root() if self._log_tree is None else self._log_tree.root()

    @property
    def log_tree(self) -> LogTree | None:
        """The rewritten history's own log tree (None without ``resign``)."""
        return self._log_tree


def _existing_versions(base: SearchLogView, label: bytes, above: int) -> list[int]:
    """The versions of ``label`` above ``above`` in ``base``'s rightmost prefix tree."""
    tree = base.prefix_tree(base.size - 1)
    found: list[int] = []
    version = above + 1
    while tree.get(base.vrf_output(label, version)) is not None:
        found.append(version)
        version += 1
    return found


def omit_versions(
    base: SearchLogView,
    suite: messages.CipherSuite,
    label: bytes,
    above: int,
    *,
    resign: bool,
) -> AlteredHistory:
    """A history in which ``label`` never had a version above ``above``.

    The versions are removed from every prefix tree that held them, and the log
    serves nothing for them.
    """
    hidden = _existing_versions(base, label, above)
    if not hidden:
        msg = f"the label has no version above {above} to omit"
        raise UsageError(msg)
    keys = [base.vrf_output(label, v) for v in hidden]

    def edit(_x: int, tree: PrefixTree) -> PrefixTree:
        present = [k for k in keys if tree.get(k) is not None]
        return tree.update(remove=present) if present else tree

    values: dict[tuple[bytes, int], StoredVersion | None] = dict.fromkeys(
        ((label, v) for v in hidden), None
    )
    return AlteredHistory(base, suite, edit=edit, values=values, resign=resign)


def replace_version(
    base: SearchLogView,
    config: messages.Configuration,
    label: bytes,
    version: int,
    value: bytes,
    *,
    from_entry: int,
    opening: bytes,
    resign: bool = True,
) -> AlteredHistory:
    """A history in which, from ``from_entry`` on, ``version`` of ``label`` holds ``value``.

    The prefix trees of entries before ``from_entry`` are unchanged; from it on,
    the leaf of the pair commits to ``value`` under ``opening``. The log serves the
    new value and opening.
    """
    key = base.vrf_output(label, version)
    if base.prefix_tree(base.size - 1).get(key) is None:
        msg = f"version {version} of the label does not exist to be replaced"
        raise UsageError(msg)
    update = messages.UpdateValue(value=value, suffix=messages.UpdateSuffix())
    made = commit(config.ciphersuite, label, version, update, mode=config.mode, opening=opening)

    def edit(x: int, tree: PrefixTree) -> PrefixTree:
        if x < from_entry or tree.get(key) is None:
            return tree
        return tree.replace(key, made.commitment)

    values = {(label, version): StoredVersion(opening, update)}
    return AlteredHistory(base, config.ciphersuite, edit=edit, values=values, resign=resign)


def swap_timestamps(
    base: SearchLogView, suite: messages.CipherSuite, x: int, y: int, *, resign: bool = True
) -> AlteredHistory:
    """A history whose entries ``x`` and ``y`` carry each other's timestamp."""
    moved = {x: base.timestamp(y), y: base.timestamp(x)}
    return AlteredHistory(base, suite, timestamps=moved, resign=resign)


def drop_entry(base: SearchLogView, suite: messages.CipherSuite, x: int) -> AlteredHistory:
    """A re-signed history without entry ``x``: every later entry moves one position left."""
    keep = [y for y in range(base.size) if y != x]
    return AlteredHistory(base, suite, keep=keep)


# -- a fork -------------------------------------------------------------------------------


class ForkingLog:
    """Two logs under one key: identical until :meth:`fork`, then driven separately.

    ``random_bytes`` makes one source of commitment openings per branch; the two
    must produce the same bytes (e.g. two instances of one deterministic
    generator), so that the branches' shared prefix is bit for bit the same.
    """

    __slots__ = ("_branches", "_fork_size")

    def __init__(self, keys: LogKeys, random_bytes: Callable[[], RandomBytes]) -> None:
        self._branches = (
            TransparencyLog(keys, random_bytes=random_bytes()),
            TransparencyLog(keys, random_bytes=random_bytes()),
        )
        self._fork_size: int | None = None

    @property
    def fork_size(self) -> int | None:
        """The number of entries the branches share, once forked."""
        return self._fork_size

    def branch(self, i: int) -> TransparencyLog:
        """Branch ``i`` (0 or 1)."""
        return self._branches[i]

    def _joined(self) -> tuple[TransparencyLog, TransparencyLog]:
        if self._fork_size is not None:
            msg = "the log has forked: drive each branch on its own"
            raise UsageError(msg)
        return self._branches

    def _check_same(self) -> None:
        a, b = self._branches
        if a.root() != b.root():  # pragma: no cover - the sources of randomness differ
            msg = "the branches diverged before the fork: their random sources differ"
            raise UsageError(msg)

    def update(
        self, requests: Sequence[messages.UpdateRequest], *, now_ms: int
    ) -> tuple[UpdateResult, UpdateResult]:
        """Apply a batch of requests to both branches (before the fork)."""
        a, b = self._joined()
        results = (a.update(requests, now_ms=now_ms), b.update(requests, now_ms=now_ms))
        self._check_same()
        return results

    def heartbeat(self, now_ms: int) -> None:
        """Sequence a heartbeat entry in both branches (before the fork)."""
        a, b = self._joined()
        a.heartbeat(now_ms)
        b.heartbeat(now_ms)
        self._check_same()

    def fork(self) -> int:
        """From now on the branches are driven separately; returns the shared size."""
        self._joined()
        self._fork_size = self._branches[0].size
        return self._fork_size


# -- answers an honest log would refuse to give -------------------------------------------


def record_past_refusal(run: Callable[[], object]) -> VerificationError | None:
    """Run a recording algorithm, keeping what it recorded if it refuses.

    An honest log stops when its own algorithm finds the claim it is proving
    false; a dishonest one sends the proof recorded so far anyway. Returns the
    refusal the honest log would have met (None if there was none).
    """
    try:
        run()
    except VerificationError as refusal:
        return refusal
    return None


def answer_search_claiming(
    log: SearchLogView,
    config: messages.Configuration,
    signing_key: bytes,
    request: messages.SearchRequest,
    claimed: int,
) -> messages.SearchResponse:
    """A greatest-version ``SearchResponse`` claiming ``claimed`` as the greatest version.

    Everything in it is genuine: the ladder's VRF proofs and commitments, the
    opening and value of ``claimed``, the prefix proofs and the signed head. Only
    the claim is false when a greater version exists, and the proof stops at the
    first ladder that shows one.
    """
    if request.version is not None:
        msg = "only a greatest-version search claims a greatest version"
        raise UsageError(msg)
    opening = log.opening(request.label, claimed)
    value = log.value(request.label, claimed)
    if opening is None or value is None:
        msg = f"version {claimed} has no stored value to serve"
        raise UsageError(msg)
    recorder = ct.Recorder(log, request.label, request.last)
    rmw = config.reasonable_monitoring_window

    def run() -> None:
        ct.update_view(recorder, request.last)
        ct.greatest_version_search(recorder, claimed, rmw)

    record_past_refusal(run)
    proof = recorder.finish()
    rightmost = log.prefix_tree(log.size - 1)
    steps = tuple(
        messages.BinaryLadderStep(
            proof=log.vrf_proof(request.label, v),
            commitment=None if v == claimed else rightmost.get(log.vrf_output(request.label, v)),
        )
        for v in response_ladder(claimed)
    )
    return messages.SearchResponse(
        full_tree_head=full_tree_head_for(log, config, signing_key, request.last),
        version=claimed,
        opening=opening,
        value=value,
        binary_ladder=steps,
        search=proof,
    )


def answer_owner_monitor_unstopped(
    log: SearchLogView,
    config: messages.Configuration,
    signing_key: bytes,
    request: messages.OwnerMonitorRequest,
) -> messages.OwnerMonitorResponse:
    """An ``OwnerMonitorResponse`` that does not stop before a version the owner lacks.

    An honest log stops before an entry whose greatest version is above the
    owner's ``greatest_version`` (OPS-027), so that the owner first learns of it in
    an ``UpdateResponse``. This log instead gives that entry's ladder for the
    version the owner expects, as if nothing had been added. It also answers a
    map the honest log would refuse (OPS-015), e.g. one naming a version its
    rewritten history lacks, and sends what it recorded up to the first check
    its own recording met.
    """
    label = request.label
    claimed = request.greatest_version
    recorder = ct.Recorder(log, label, request.last)
    rmw = config.reasonable_monitoring_window
    entries = {e.position: e.version for e in request.entries}

    def expected(x: int) -> int | None:
        there = greatest_at(log, label, x)
        if there is None or claimed is None:
            return there if claimed is not None else None
        return min(there, claimed)

    def run() -> None:
        ct.update_view(recorder, request.last)
        ct.contact_monitor(recorder, entries, rmw, owner_start=request.start)
        ct.owner_monitor(recorder, request.start, expected, rmw, lambda _x: False)

    record_past_refusal(run)
    return messages.OwnerMonitorResponse(
        full_tree_head=full_tree_head_for(log, config, signing_key, request.last),
        monitor=recorder.finish(),
    )
