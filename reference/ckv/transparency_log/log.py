"""The state of a KEYTRANS transparency log, sans-IO (KEYTRANS §3, §9, §11.5-§11.8, §13.5, §15).

:class:`TransparencyLog` holds the log tree, one persistent prefix tree per log
entry, and every label-version pair it ever created. Time and randomness are
injected: every call that sequences an entry takes ``now_ms``, and commitment
openings are drawn from the ``random_bytes(n)`` callable given at construction.

Changes are staged, then sequenced as one log entry:

* :meth:`TransparencyLog.stage` queues new versions of a label (no checks beyond
  the wire bounds: the caller is the Service Operator's own logic);
* :meth:`TransparencyLog.update` applies a batch of ``UpdateRequest`` (or, under
  ``thirdPartyManagement``, ``ManagerUpdateRequest``) with the semantics of
  §13.5 and §15.1 and sequences one entry for all the versions they create;
* :meth:`TransparencyLog.sequence` / :meth:`TransparencyLog.heartbeat` sequence
  an entry for whatever is staged, or for nothing.

The read accessors (``size``, ``timestamp``, ``prefix_tree``, ``vrf_output``,
``commitment`` and so on) are what a proof engine needs to answer queries about
any past entry. Normative description: spec/kt/log-operation.md (``LOGOP-nnn``).
"""

from __future__ import annotations

import secrets
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter

from ckv.cipher_suites import VrfResult, get_suite
from ckv.commitment import commit, verify_update
from ckv.errors import UsageError, VerificationError
from ckv.log_tree import LogTree, hash_for_suite
from ckv.log_tree import sha256 as log_sha256
from ckv.prefix_tree import MAX_RESULTS, PrefixTree
from ckv.prefix_tree import sha256 as prefix_sha256
from ckv.transparency_log.auditing import make_auditor_update
from ckv.transparency_log.keys import LogKeys
from ckv.transparency_log.records import (
    LabelChange,
    OutcomeKind,
    SequencedEntry,
    UpdateOutcome,
    UpdateResult,
    VersionRecord,
)
from ckv.tree_head import auditor_tree_head_tbs, sign_tree_head
from ckv.wire.messages import (
    AuditorTreeHead,
    AuditorUpdate,
    Configuration,
    DeploymentMode,
    FullTreeHead,
    FullTreeHeadType,
    InclusionProof,
    LogEntry,
    ManagerUpdateRequest,
    PrefixLeaf,
    TreeHead,
    UpdateRequest,
    UpdateSuffix,
    UpdateValue,
)

__all__ = ["RandomBytes", "TransparencyLog", "VrfFunction"]

#: ``random_bytes(n)``: ``n`` bytes from a cryptographically secure source.
RandomBytes = Callable[[int], bytes]
#: Evaluates the VRF on a label-version pair.
VrfFunction = Callable[[bytes, int], VrfResult]

REQ_SEQUENCE = "LOGOP-002"
REQ_CLOCK = "LOGOP-003"
REQ_OPENING = "LOGOP-004"
REQ_VERSIONS = "LOGOP-006"
REQ_BEHIND = "LOGOP-007"
REQ_REJECT = "LOGOP-008"
REQ_BOUNDS = "LOGOP-009"
REQ_MANAGED = "LOGOP-010"
REQ_SIGNED_BEHIND = "LOGOP-011"
REQ_NO_VALUES = "LOGOP-013"
REQ_HEARTBEAT = "LOGOP-014"
REQ_AUDIT_BOUND = "LOGOP-016"
REQ_AUDITOR_HEAD = "LOGOP-020"
REQ_SUFFIX = "LOGOP-022"

MAX_VERSION = 2**32 - 1
MAX_TIMESTAMP = 2**64 - 1
MAX_LABEL = 255
MAX_VALUES = 255
MAX_VALUE = 2**32 - 1

_NO_SUFFIX = UpdateSuffix()
_POSITION = attrgetter("position")


@dataclass(slots=True)
class _Entry:
    timestamp: int
    tree: PrefixTree
    #: The leaves the entry added, sorted by vrf_output.
    added: tuple[PrefixLeaf, ...]


#: The label of the versions a log adds to keep its entries fresh and auditable (KT-008).
HEARTBEAT_LABEL = b"ckv:heartbeat"


def heartbeat_value(now_ms: int) -> bytes:
    """The value of a heartbeat version: the entry's timestamp as a big-endian ``uint64``."""
    return now_ms.to_bytes(8, "big")


class TransparencyLog:
    """A KEYTRANS log: log tree, prefix trees per entry, label-version pairs.

    ``random_bytes`` supplies commitment openings (default
    :func:`secrets.token_bytes`). ``evaluate_vrf`` replaces the suite VRF with the
    log's key; it exists for benchmarks that separate tree cost from VRF cost,
    and a log built with it serves no verifiable VRF proof.
    """

    __slots__ = (
        "_auditing",
        "_auditor_head",
        "_config",
        "_empty",
        "_entries",
        "_keys",
        "_labels",
        "_log_tree",
        "_managed",
        "_pending",
        "_pending_changes",
        "_pending_count",
        "_random",
        "_suite",
        "_vrf",
        "_vrf_cache",
        "_vrf_cache_size",
        "_zero",
    )

    def __init__(
        self,
        keys: LogKeys,
        *,
        random_bytes: RandomBytes = secrets.token_bytes,
        evaluate_vrf: VrfFunction | None = None,
        vrf_cache_size: int = 4096,
    ) -> None:
        config = keys.config
        suite = get_suite(config.ciphersuite)
        hash_fn = hash_for_suite(config.ciphersuite)
        self._keys = keys
        self._config = config
        self._suite = suite
        self._random = random_bytes
        if evaluate_vrf is None:
            secret = keys.vrf_private_key

            def evaluate_vrf(label: bytes, version: int) -> VrfResult:
                return suite.vrf_prove(secret, label, version)

        self._vrf = evaluate_vrf
        self._vrf_cache: OrderedDict[tuple[bytes, int], VrfResult] = OrderedDict()
        self._vrf_cache_size = vrf_cache_size
        self._managed = config.mode is DeploymentMode.thirdPartyManagement
        self._auditing = config.mode is DeploymentMode.thirdPartyAuditing
        # The prefix tree's own SHA-256 lets it use its precomputed tagged hash states.
        prefix_hash = prefix_sha256 if hash_fn is log_sha256 else hash_fn
        self._empty = PrefixTree(hash_fn=prefix_hash, key_size=suite.vrf_nh)
        self._log_tree = LogTree(hash_fn=hash_fn)
        self._entries: list[_Entry] = []
        self._labels: dict[bytes, list[VersionRecord]] = {}
        self._pending: dict[bytes, list[VersionRecord]] = {}
        self._pending_changes: list[LabelChange] = []
        self._pending_count = 0
        self._zero = bytes(suite.hash_nh)
        self._auditor_head: AuditorTreeHead | None = None

    # -- configuration --------------------------------------------------------------------------

    @property
    def keys(self) -> LogKeys:
        """The log's configuration and private keys."""
        return self._keys

    @property
    def config(self) -> Configuration:
        """The log's ``Configuration``."""
        return self._config

    # -- reading: the log -----------------------------------------------------------------------

    @property
    def size(self) -> int:
        """The number of log entries sequenced."""
        return len(self._entries)

    @property
    def log_tree(self) -> LogTree:
        """The log tree; its leaves are ``Hash(LogEntry)`` (KEYTRANS §11.8). Read it only."""
        return self._log_tree

    def _entry(self, x: int) -> _Entry:
        if not 0 <= x < len(self._entries):
            msg = f"log entry {x} does not exist in a log of {len(self._entries)} entries"
            raise UsageError(msg)
        return self._entries[x]

    def timestamp(self, x: int) -> int:
        """The timestamp of log entry ``x`` (milliseconds since the Unix epoch)."""
        return self._entry(x).timestamp

    def prefix_tree(self, x: int) -> PrefixTree:
        """The prefix tree as of log entry ``x`` (immutable)."""
        return self._entry(x).tree

    def root(self, size: int | None = None) -> bytes:
        """The log tree root at ``size`` entries (default: all of them)."""
        return self._log_tree.root(size)

    def batch_proof(
        self, leaves: Sequence[int], retained_size: int = 0, *, size: int | None = None
    ) -> InclusionProof:
        """The log tree batch proof of ``leaves`` at ``size`` (default: all) (KEYTRANS §12.1).

        ``retained_size`` is the size whose full subtrees the user retained (0: none).
        """
        return self._log_tree.batch_proof(leaves, retained_size, size=size)

    def leaves_added(self, x: int) -> tuple[PrefixLeaf, ...]:
        """The prefix tree leaves entry ``x`` added, sorted by ``vrf_output``."""
        return self._entry(x).added

    # -- reading: labels ------------------------------------------------------------------------

    def labels(self) -> list[bytes]:
        """Every label with at least one sequenced version."""
        return list(self._labels)

    def greatest_version(self, label: bytes, at_position: int | None = None) -> int | None:
        """The greatest version of ``label`` in the prefix tree of entry ``at_position``.

        ``None`` if the label had no version then. The default is the newest entry.
        Skipped versions count: they are in the prefix tree.
        """
        records = self._labels.get(label)
        if at_position is None:
            return len(records) - 1 if records else None
        self._entry(at_position)
        if not records:
            return None
        # Record i is version i (versions are dense from 0), so a count is a version + 1.
        count = bisect_right(records, at_position, key=_POSITION)
        return count - 1 if count else None

    def versions_created_at(self, label: bytes, position: int) -> range:
        """The versions of ``label`` (skipped ones included) that entry ``position`` created."""
        self._entry(position)
        records = self._labels.get(label, [])
        return range(
            bisect_left(records, position, key=_POSITION),
            bisect_right(records, position, key=_POSITION),
        )

    def record(self, label: bytes, version: int) -> VersionRecord | None:
        """Everything the log holds about a sequenced label-version pair, or ``None``."""
        records = self._labels.get(label)
        if records is None or not 0 <= version < len(records):
            return None
        return records[version]

    def _existing(self, label: bytes, version: int) -> VersionRecord:
        record = self.record(label, version)
        if record is None:
            msg = f"label {label.hex()} has no version {version}"
            raise UsageError(msg)
        return record

    def commitment(self, label: bytes, version: int) -> bytes | None:
        """The commitment of a label-version pair (all zeros if skipped); ``None`` if absent."""
        record = self.record(label, version)
        return None if record is None else record.commitment

    def opening(self, label: bytes, version: int) -> bytes | None:
        """The opening of an existing version; ``None`` if skipped or deleted (LOGOP-005)."""
        return self._existing(label, version).opening

    def value(self, label: bytes, version: int) -> UpdateValue | None:
        """The ``UpdateValue`` of an existing version; ``None`` if it is a skipped version."""
        return self._existing(label, version).update

    def vrf_output(self, label: bytes, version: int) -> bytes:
        """The VRF output (search key) of any label-version pair, existing or not."""
        return self._vrf_result(label, version).output

    def vrf_proof(self, label: bytes, version: int) -> bytes:
        """The VRF proof of any label-version pair, existing or not."""
        return self._vrf_result(label, version).proof

    def _vrf_result(self, label: bytes, version: int) -> VrfResult:
        record = self.record(label, version)
        if record is not None:
            return VrfResult(record.vrf_output, record.vrf_proof)
        pending = self._pending.get(label)
        if pending and pending[0].version <= version <= pending[-1].version:
            found = pending[version - pending[0].version]
            return VrfResult(found.vrf_output, found.vrf_proof)
        return self._evaluate(label, version)

    def _evaluate(self, label: bytes, version: int) -> VrfResult:
        """The VRF on a pair no record holds, through a small LRU cache."""
        # LOGOP-009: labels and versions are bounded by their wire fields.
        if len(label) > MAX_LABEL or not 0 <= version <= MAX_VERSION:
            msg = f"no label-version pair ({len(label)}-byte label, version {version}) exists"
            raise UsageError(msg, requirement=REQ_BOUNDS)
        cache = self._vrf_cache
        key = (label, version)
        result = cache.get(key)
        if result is not None:
            cache.move_to_end(key)
            return result
        result = self._vrf(label, version)
        if self._vrf_cache_size:
            cache[key] = result
            if len(cache) > self._vrf_cache_size:
                cache.popitem(last=False)
        return result

    def delete_opening(self, label: bytes, version: int) -> None:
        """Forget the opening of a version, so it can no longer be recovered here (LOGOP-005)."""
        records = self._labels.get(label)
        record = self._existing(label, version)
        assert records is not None
        records[version] = replace(record, opening=None)

    # -- staging --------------------------------------------------------------------------------

    @property
    def pending_count(self) -> int:
        """How many label-versions are staged for the next entry."""
        return self._pending_count

    def _next_version(self, label: bytes) -> int:
        pending = self._pending.get(label)
        if pending:
            return pending[-1].version + 1
        records = self._labels.get(label)
        return len(records) if records else 0

    def _current(self, label: bytes) -> int | None:
        """The greatest version, staged versions included."""
        following = self._next_version(label)
        return following - 1 if following else None

    def stage(
        self,
        label: bytes,
        values: Sequence[bytes | UpdateValue],
        *,
        signed_version: int | None = None,
    ) -> LabelChange:
        """Stage new versions of ``label`` for the next entry (KEYTRANS §13.5, §15.1).

        Outside ``thirdPartyManagement`` a value is bytes (or an ``UpdateValue``
        with an empty suffix). Under it, each value is an ``UpdateValue`` the
        Service Operator signed for version ``signed_version + i`` (by default the
        next version); versions below ``signed_version`` are skipped. Returns the
        versions staged; the state is unchanged if it refuses (LOGOP-019).
        """
        if not values:
            msg = "stage needs at least one value"
            raise UsageError(msg, requirement=REQ_REJECT)
        updates = tuple(self._update_value(v) for v in values)
        return self._stage(label, updates, signed_version)

    def _update_value(self, value: bytes | UpdateValue) -> UpdateValue:
        if isinstance(value, bytes):
            if self._managed:
                msg = (
                    "under thirdPartyManagement a value must be an UpdateValue the operator signed"
                )
                raise UsageError(msg, requirement=REQ_MANAGED)
            return UpdateValue(value=value, suffix=_NO_SUFFIX)
        # LOGOP-022: the suffix carries a signature exactly under thirdPartyManagement.
        if (value.suffix.signature is not None) != self._managed:
            msg = f"an UpdateValue under {self._config.mode.name} must " + (
                "carry the operator's signature" if self._managed else "have an empty suffix"
            )
            raise UsageError(msg, requirement=REQ_SUFFIX)
        if not self._managed and value.suffix is not _NO_SUFFIX:
            value = UpdateValue(value=value.value, suffix=_NO_SUFFIX)
        return value

    def _stage(
        self, label: bytes, updates: tuple[UpdateValue, ...], signed_version: int | None
    ) -> LabelChange:
        following = self._next_version(label)
        first = following if signed_version is None else signed_version
        last = first + len(updates) - 1
        # LOGOP-009: the wire bounds of label, values and version counters.
        if not 1 <= len(label) <= MAX_LABEL:
            msg = f"a label is 1 to {MAX_LABEL} bytes, not {len(label)}"
            raise UsageError(msg, requirement=REQ_BOUNDS)
        if len(updates) > MAX_VALUES:
            msg = f"one request creates at most {MAX_VALUES} versions, not {len(updates)}"
            raise UsageError(msg, requirement=REQ_BOUNDS)
        if last > MAX_VERSION:
            msg = f"version {last} of label {label.hex()} exceeds the uint32 counter"
            raise UsageError(msg, requirement=REQ_BOUNDS)
        for update in updates:
            if len(update.value) > MAX_VALUE:
                msg = f"a value is at most 2^32-1 bytes, not {len(update.value)}"
                raise UsageError(msg, requirement=REQ_BOUNDS)
        # LOGOP-011: a signed version below the next version to create means the operator
        # and the Manager disagree about the past; the request is refused (§15.1).
        if first < following:
            msg = (
                f"signed_version {first} of label {label.hex()} is below the next version "
                f"{following}"
            )
            raise UsageError(msg, requirement=REQ_SIGNED_BEHIND)
        skipped = first - following
        # LOGOP-016: an audited entry changes at most 255 keys, since its AuditorUpdate's
        # proof answers at most 255 searches.
        if self._auditing and self._pending_count + skipped + len(updates) > MAX_RESULTS:
            msg = (
                f"an audited log entry changes at most {MAX_RESULTS} keys; "
                f"{self._pending_count} are staged and this adds {skipped + len(updates)}"
            )
            raise UsageError(msg, requirement=REQ_AUDIT_BOUND)
        if self._managed:
            for offset, update in enumerate(updates):
                # LOGOP-010: the Manager inserts only values the Service Operator signed for
                # exactly this label and version (§11.5, §15.1).
                try:
                    verify_update(self._config, label, first + offset, update)
                except VerificationError as error:
                    msg = f"value {offset} of label {label.hex()}: {error}"
                    raise UsageError(msg, requirement=REQ_MANAGED) from error
        position = len(self._entries)
        suite_id = self._config.ciphersuite
        mode = self._config.mode
        records: list[VersionRecord] = []
        # LOGOP-012: skipped versions take the lower counters and an all-zero commitment.
        for version in range(following, first):
            vrf = self._vrf(label, version)
            records.append(
                VersionRecord(version, position, self._zero, None, None, vrf.output, vrf.proof)
            )
        nc = self._suite.nc
        for offset, update in enumerate(updates):
            version = first + offset
            # LOGOP-006: each pair's search key is its VRF output; its commitment opens to
            # the UpdateValue under a fresh opening.
            vrf = self._vrf(label, version)
            opening = self._random(nc)
            # LOGOP-004: an opening is Nc bytes from the injected secure source.
            if len(opening) != nc:
                msg = f"random_bytes({nc}) returned {len(opening)} bytes"
                raise UsageError(msg, requirement=REQ_OPENING)
            made = commit(suite_id, label, version, update, mode=mode, opening=opening)
            records.append(
                VersionRecord(
                    version, position, made.commitment, opening, update, vrf.output, vrf.proof
                )
            )
        self._pending.setdefault(label, []).extend(records)
        self._pending_count += len(records)
        change = LabelChange(label, position, following, skipped, len(records))
        self._pending_changes.append(change)
        return change

    # -- sequencing -----------------------------------------------------------------------------

    def _check_clock(self, now_ms: int) -> None:
        # LOGOP-003: timestamps are uint64 milliseconds and never go backwards.
        if not 0 <= now_ms <= MAX_TIMESTAMP:
            msg = f"timestamp {now_ms} is not a uint64 count of milliseconds"
            raise UsageError(msg, requirement=REQ_CLOCK)
        if self._entries and now_ms < self._entries[-1].timestamp:
            msg = (
                f"the clock went backwards: {now_ms} is before the last entry's "
                f"{self._entries[-1].timestamp}"
            )
            raise UsageError(msg, requirement=REQ_CLOCK)

    def sequence(self, now_ms: int) -> SequencedEntry:
        """Sequence one log entry holding every staged version (none: a heartbeat)."""
        self._check_clock(now_ms)
        pending = self._pending
        position = len(self._entries)
        leaves = [
            PrefixLeaf(vrf_output=record.vrf_output, commitment=record.commitment)
            for records in pending.values()
            for record in records
        ]
        leaves.sort(key=attrgetter("vrf_output"))
        added = tuple(leaves)
        previous = self._entries[-1].tree if self._entries else self._empty
        # LOGOP-002: the new prefix tree is the previous one plus this entry's pairs.
        tree = previous.update(insert=[(leaf.vrf_output, leaf.commitment) for leaf in added])
        auditor_update = make_auditor_update(previous, now_ms, added) if self._auditing else None
        root = tree.root()
        # LOGOP-002: the log tree leaf is Hash(LogEntry{timestamp, prefix tree root}).
        leaf = self._log_tree.append_entry(
            LogEntry(timestamp=now_ms, prefix_tree=root), suite=self._config.ciphersuite
        )
        self._entries.append(_Entry(now_ms, tree, added))
        labels = self._labels
        for label, records in pending.items():
            existing = labels.get(label)
            if existing is None:
                labels[label] = records
            else:
                existing.extend(records)
        changes = tuple(self._pending_changes)
        self._pending = {}
        self._pending_changes = []
        self._pending_count = 0
        return SequencedEntry(position, now_ms, root, leaf, changes, auditor_update)

    def heartbeat(self, now_ms: int, *, signed: UpdateValue | None = None) -> SequencedEntry:
        """Sequence a heartbeat entry (LOGOP-014, KT-008); refuses if changes are staged.

        The entry adds the next version of the heartbeat label, ``ckv:heartbeat``,
        whose value is ``now_ms`` as a big-endian ``uint64``: an entry must change
        the prefix tree for a third-party auditor to check it (AUDIT-003). Under
        ``thirdPartyManagement`` the Service Operator signs that value (``signed``).
        """
        if self._pending_count:
            msg = f"{self._pending_count} label-versions are staged; sequence them instead"
            raise UsageError(msg, requirement=REQ_HEARTBEAT)
        self._check_clock(now_ms)
        value: bytes | UpdateValue = signed if signed is not None else heartbeat_value(now_ms)
        self.stage(HEARTBEAT_LABEL, [value])
        return self.sequence(now_ms)

    def heartbeat_due(self, now_ms: int) -> bool:
        """Whether LOGOP-014 requires an entry now: none for ``max_behind / 2`` ms."""
        if not self._entries:
            return True
        return now_ms - self._entries[-1].timestamp >= self._config.max_behind // 2

    # -- requests (§13.5, §15.1) ----------------------------------------------------------------

    def update(
        self, requests: Sequence[UpdateRequest | ManagerUpdateRequest], *, now_ms: int
    ) -> UpdateResult:
        """Apply a batch of update requests and sequence one entry for what they create.

        Requests are applied in order, each seeing the versions the ones before it
        staged. A request that is refused gets a ``REJECTED`` outcome and changes
        nothing; the others go ahead. Versions staged earlier with :meth:`stage` go
        in the same entry. No entry is sequenced if nothing is staged.
        """
        self._check_clock(now_ms)
        outcomes = []
        for request in requests:
            try:
                outcomes.append(self._apply(request))
            except UsageError as error:
                outcomes.append(UpdateOutcome(request.label, OutcomeKind.REJECTED, error=error))
        entry = self.sequence(now_ms) if self._pending_count else None
        return UpdateResult(entry, tuple(outcomes))

    def _apply(self, request: UpdateRequest | ManagerUpdateRequest) -> UpdateOutcome:
        managed = isinstance(request, ManagerUpdateRequest)
        # LOGOP-010: a Manager takes ManagerUpdateRequests, any other log UpdateRequests.
        if managed != self._managed:
            msg = f"a {type(request).__name__} is not accepted under {self._config.mode.name}"
            raise UsageError(msg, requirement=REQ_MANAGED)
        label = request.label
        values = request.values
        if isinstance(request, ManagerUpdateRequest) and not values and request.signed_version:
            # LOGOP-013: with no values, signed_version is zero (§15.1).
            msg = f"signed_version is {request.signed_version} but values is empty"
            raise UsageError(msg, requirement=REQ_NO_VALUES)
        current = self._current(label)
        claimed = request.greatest_version
        # LOGOP-008: refuse a greatest_version the log never reached, and a request that
        # neither creates nor has anything to learn.
        if claimed is not None and (current is None or claimed > current):
            msg = (
                f"greatest_version {claimed} of label {label.hex()} is beyond the current "
                f"{'none' if current is None else current}"
            )
            raise UsageError(msg, requirement=REQ_REJECT)
        if claimed == current:
            if not values:
                msg = f"label {label.hex()}: no values, and greatest_version is current"
                raise UsageError(msg, requirement=REQ_REJECT)
            if isinstance(request, ManagerUpdateRequest):
                change = self._stage(label, request.values, request.signed_version)
            else:
                updates = tuple(
                    UpdateValue(value=v.value, suffix=_NO_SUFFIX) for v in request.values
                )
                change = self._stage(label, updates, None)
            return UpdateOutcome(
                label,
                OutcomeKind.CREATED,
                change.position,
                tuple(change.unskipped),
                change.skipped_versions,
            )
        # LOGOP-007: behind the current version, the values are disregarded and the
        # log reports the version after greatest_version and the rest of its entry.
        target = 0 if claimed is None else claimed + 1
        sequenced = self._labels.get(label, [])
        if target < len(sequenced):
            position = sequenced[target].position
            at_position = sequenced[target : bisect_right(sequenced, position, key=_POSITION)]
        else:
            # Every staged version is in the entry being built.
            at_position = self._pending[label][target - len(sequenced) :]
            position = at_position[0].position
        skipped = sum(1 for r in at_position if r.update is None)
        versions = tuple(r.version for r in at_position if r.update is not None)
        return UpdateOutcome(label, OutcomeKind.EXISTING, position, versions, skipped)

    # -- auditing (§15.2) and tree heads (§11.2-§11.4) ------------------------------------------

    def auditor_update(self, x: int) -> AuditorUpdate:
        """The ``AuditorUpdate`` of entry ``x`` (LOGOP-015), whatever the mode."""
        entry = self._entry(x)
        previous = self._entries[x - 1].tree if x else self._empty
        return make_auditor_update(previous, entry.timestamp, entry.added)

    def sign_tree_head(self, size: int | None = None) -> TreeHead:
        """A ``TreeHead`` for the log at ``size`` entries (default: all), signed by the log."""
        n = self.size if size is None else size
        return sign_tree_head(self._config, self._keys.signature_private_key, n, self.root(n))

    @property
    def auditor_tree_head(self) -> AuditorTreeHead | None:
        """The newest ``AuditorTreeHead`` attached (``thirdPartyAuditing`` only)."""
        return self._auditor_head

    def attach_auditor_tree_head(self, head: AuditorTreeHead) -> None:
        """Keep an ``AuditorTreeHead`` to serve with tree heads, once it is verified (LOGOP-020).

        It must cover entries the log has, carry the timestamp of its last entry
        (§15.2 step 8), not go back from the one attached before, and verify with
        ``Configuration.auditor_public_key`` over the log's own root at its size.
        """
        config = self._config
        if not self._auditing or config.auditor_public_key is None:
            msg = f"auditor tree heads exist only under thirdPartyAuditing, not {config.mode.name}"
            raise UsageError(msg, requirement=REQ_AUDITOR_HEAD)
        n = head.tree_size
        # LOGOP-020: the head describes a prefix of this log, with its timestamp.
        if not 1 <= n <= self.size:
            msg = f"auditor tree size {n} is not in [1, {self.size}]"
            raise VerificationError(
                msg, requirement=REQ_AUDITOR_HEAD, expected=self.size, computed=n
            )
        if head.timestamp != self.timestamp(n - 1):
            raise VerificationError(
                f"auditor timestamp {head.timestamp} is not that of entry {n - 1}, "
                f"{self.timestamp(n - 1)}",
                requirement=REQ_AUDITOR_HEAD,
                expected=self.timestamp(n - 1),
                computed=head.timestamp,
            )
        if self._auditor_head is not None and n < self._auditor_head.tree_size:
            raise VerificationError(
                f"auditor tree size {n} is below the attached {self._auditor_head.tree_size}",
                requirement=REQ_AUDITOR_HEAD,
                expected=self._auditor_head.tree_size,
                computed=n,
            )
        tbs = auditor_tree_head_tbs(config, head.timestamp, n, self.root(n))
        self._suite.verify(
            config.auditor_public_key, tbs, head.signature, requirement=REQ_AUDITOR_HEAD
        )
        self._auditor_head = head

    def full_tree_head(self, size: int | None = None) -> FullTreeHead:
        """An ``updated`` ``FullTreeHead`` at ``size`` entries (KEYTRANS §11.4)."""
        n = self.size if size is None else size
        tree_head = self.sign_tree_head(n)
        if not self._auditing:
            return FullTreeHead(head_type=FullTreeHeadType.updated, tree_head=tree_head)
        head = self._auditor_head
        if head is None or head.tree_size > n:
            msg = f"no auditor tree head at or below size {n} is attached"
            raise UsageError(msg, requirement=REQ_AUDITOR_HEAD)
        return FullTreeHead(
            head_type=FullTreeHeadType.updated, tree_head=tree_head, auditor_tree_head=head
        )
