"""The combined tree algorithms and the ``CombinedTreeProof`` (KEYTRANS §4.2, §6, §7, §12.3).

A ``CombinedTreeProof`` carries timestamps and prefix proofs with nothing saying
which log entry each belongs to: they are in the order the algorithm being run
asks for them (§12.3, Appendix "CombinedTreeProof Implementation"). So the
algorithms are written once, against a :class:`Provider`, and run in two modes:

* :class:`Recorder` (the log): reads a :class:`LogView` and *appends* each
  timestamp or ``PrefixProof`` the first time the algorithm needs it;
  :meth:`Recorder.finish` adds ``prefix_roots`` and the log tree ``inclusion``.
* :class:`Consumer` (the user): *pops* them from a received proof, checks them
  as they arrive and, in :meth:`Consumer.finish`, checks the exact counts and
  computes the log tree root from the leaves it can now hash.

The algorithms: :func:`update_view` (§4.2), :func:`greatest_version_search`
(§6.3), :func:`fixed_version_search` (§7.2), :func:`contact_monitor` (§8.2),
:func:`owner_init_entries` and :func:`owner_init_ladders` (§8.3, first
algorithm), :func:`owner_monitor` (§8.3, second algorithm) and
:func:`label_update` (§9.1). Omission of redundant ladder lookups (§6.2) is
directional and kept by the provider: an inclusion proven (or, for §9.1,
assumed) at an entry to the left, or a non-inclusion proven at an entry to the
right, of the entry being asked about.

Normative description: spec/kt/operations.md (requirement IDs ``COMBINED-nnn``).
"""

from __future__ import annotations

import abc
import enum
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple, Protocol

from ckv import binary_ladder as bl
from ckv import distinguished as dist
from ckv import implicit_search_tree as ibst
from ckv import log_tree
from ckv.errors import UsageError, VerificationError
from ckv.prefix_tree import PrefixTree, evaluate_prefix_proof
from ckv.update_view import TimestampLedger, plan_update_view
from ckv.wire import messages

__all__ = [
    "CombinedResult",
    "Consumer",
    "FixedVersionOutcome",
    "GreatestVersionOutcome",
    "LabelUpdateOutcome",
    "LadderResult",
    "LogView",
    "Provider",
    "Recorder",
    "Refusal",
    "RetainedEntry",
    "SearchRefusedError",
    "contact_monitor",
    "fixed_version_search",
    "greatest_version_search",
    "label_update",
    "owner_init_entries",
    "owner_init_ladders",
    "owner_monitor",
    "update_view",
]

_INCLUSION = messages.PrefixSearchResultType.inclusion


class LogView(Protocol):
    """What the :class:`Recorder` reads from a log, as of one tree size.

    ``size`` is the number of entries of the tree the proof is for;
    ``timestamp(x)`` and ``prefix_tree(x)`` give entry ``x``'s timestamp and its
    prefix tree (the tree as of that entry); ``vrf_output`` the search key of a
    label-version pair (the log holds the VRF private key); ``batch_proof`` the
    §12.1 batch proof of the given leaves for a user who retained the full
    subtrees of a tree of ``retained_size`` entries (0: none), e.g.
    ``ckv.log_tree.LogTree.batch_proof``.
    """

    @property
    def size(self) -> int:
        """The number of log entries."""
        ...

    def timestamp(self, x: int) -> int:
        """The timestamp of log entry ``x``."""
        ...

    def prefix_tree(self, x: int) -> PrefixTree:
        """The prefix tree as of log entry ``x``."""
        ...

    def vrf_output(self, label: bytes, version: int) -> bytes:
        """The VRF output (prefix tree search key) of a label-version pair."""
        ...

    def batch_proof(self, leaves: Sequence[int], retained_size: int) -> messages.InclusionProof:
        """The log tree batch proof for ``leaves`` against ``retained_size`` (§12.1)."""
        ...


class Refusal(enum.Enum):
    """Why a search ends without a result (§6.3, §7.2)."""

    #: The log's answer contradicts itself or the claimed version (a dishonest log).
    INCONSISTENT = "inconsistent"
    #: The target version of the label does not exist (§7.2 steps 6.1, 6.3; §13.1).
    NOT_FOUND = "not found"
    #: The target version of the label is expired (§7.2 steps 5.2, 6.2).
    EXPIRED = "expired"


class SearchRefusedError(VerificationError):
    """A search that cannot end successfully; ``reason`` says why.

    The user rejects the response; the log, meeting it while recording, answers
    with an error instead of a proof.
    """

    def __init__(self, message: str, *, requirement: str, reason: Refusal) -> None:
        super().__init__(message, requirement=requirement)
        self.reason = reason


class LadderResult(NamedTuple):
    """One search ladder: what it established and the outcome of each lookup made."""

    reading: bl.LadderReading
    #: One per ``reading.looked_up``: True for inclusion.
    outcomes: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class RetainedEntry:
    """A frontier entry of the previously verified tree: timestamp and prefix root."""

    timestamp: int
    prefix_root: bytes


def _fail(
    requirement: str, message: str, *, expected: object = None, computed: object = None
) -> VerificationError:
    return VerificationError(message, requirement=requirement, expected=expected, computed=computed)


class Provider(abc.ABC):
    """The data the algorithms ask for, per log entry; recorded or consumed.

    Keeps what every mode needs: the timestamps known so far, the prefix roots,
    and the lookups proven at each entry (for §6.2's directional omission).
    """

    def __init__(self, size: int, retained: Mapping[int, RetainedEntry]) -> None:
        ibst.check_size(size)
        self.size = size
        self._retained = retained
        #: Prefix tree roots known per entry (from proofs; retained ones are separate).
        self.roots: dict[int, bytes] = {}
        #: Entries whose timestamp travels in ``timestamps`` (not retained), first-request order.
        self.supplied: list[int] = []
        #: Per entry, version -> inclusion, of every ladder lookup made in this response.
        self._proven: dict[int, dict[int, bool]] = {}
        #: Per entry, versions taken as included for §9.1's omission without a lookup.
        self._assumed: dict[int, frozenset[int]] = {}

    def proven(self, x: int) -> Mapping[int, bool]:
        """Version -> inclusion for every ladder lookup made at entry ``x`` so far."""
        return self._proven.get(x, {})

    # -- timestamps ----------------------------------------------------------------------

    @abc.abstractmethod
    def timestamp(self, x: int) -> int:
        """The timestamp of entry ``x`` (recorded or consumed the first time)."""

    @abc.abstractmethod
    def known_timestamp(self, x: int) -> int | None:
        """The timestamp of ``x`` if already associated, without consuming anything."""

    # -- prefix tree lookups -------------------------------------------------------------

    def assume_included(self, x: int, versions: Sequence[int]) -> None:
        """Take ``versions`` as included at entry ``x`` for later omission (§9.1 step 2.2).

        Nothing is consumed or recorded: the lookups are those a skipped entry
        would have made had it been inspected.
        """
        self._assumed[x] = self._assumed.get(x, frozenset()) | frozenset(versions)

    def search_ladder(self, x: int, target: int, *, omit: bool = True) -> LadderResult:
        """A §6.2 search ladder from entry ``x`` for ``target``.

        With ``omit`` (§6.3, §7.2, §9.1) redundant lookups are omitted; without it
        (§8.3) every lookup is made.
        """
        ibst.check_position(x, self.size)
        left: set[int] = set()
        right: set[int] = set()
        if omit:
            for y, results in self._proven.items():
                if y < x:
                    left.update(v for v, inc in results.items() if inc)
                elif y > x:
                    right.update(v for v, inc in results.items() if not inc)
            for y, versions in self._assumed.items():
                if y < x:
                    left.update(versions)
        result = self._search_ladder(x, target, left, right)
        proven = self._proven.setdefault(x, {})
        for version, included in zip(result.reading.looked_up, result.outcomes, strict=True):
            proven[version] = included
        return result

    @abc.abstractmethod
    def _search_ladder(self, x: int, target: int, left: set[int], right: set[int]) -> LadderResult:
        """One ladder, given the versions proven to the left (included) and right (absent)."""

    @abc.abstractmethod
    def lookup(self, x: int, version: int) -> bool:
        """A single lookup of ``version`` in entry ``x``'s prefix tree (§7.2 step 6.3)."""

    @abc.abstractmethod
    def inclusions(self, x: int, versions: Sequence[int]) -> None:
        """One ``PrefixProof`` from entry ``x`` showing every one of ``versions`` included.

        §9.1 steps 3 and 4: the new versions a ladder does not look up, ascending.
        """

    @abc.abstractmethod
    def exhausted(self) -> bool:
        """Whether nothing more is to be sent or read (§8.3's user-side stop condition)."""

    @abc.abstractmethod
    def monitoring_ladder(self, x: int, target: int) -> tuple[int, ...]:
        """A §8.1 monitoring ladder from entry ``x`` for ``target``; returns its versions.

        Every lookup must be an inclusion (SEARCH-017); nothing is omitted (IOP-S02).
        """

    def _associate_root(self, x: int, root: bytes) -> None:
        known = self.roots.get(x)
        # COMBINED-006: several proofs from one entry give one prefix tree root.
        if known is not None and known != root:
            raise _fail(
                "COMBINED-006",
                f"two prefix proofs for log entry {x} give different roots",
                expected=known.hex(),
                computed=root.hex(),
            )
        retained = self._retained.get(x)
        # COMBINED-007: a proof from a retained entry gives the retained prefix root.
        if retained is not None and retained.prefix_root != root:
            raise _fail(
                "COMBINED-007",
                f"the prefix proof for retained log entry {x} does not give its retained root",
                expected=retained.prefix_root.hex(),
                computed=root.hex(),
            )
        self.roots[x] = root


# -- the log's side ---------------------------------------------------------------------


class Recorder(Provider):
    """Builds a ``CombinedTreeProof`` by running the algorithms over a :class:`LogView`."""

    def __init__(
        self,
        log: LogView,
        label: bytes,
        advertised: int | None = None,
        *,
        auditor_size: int | None = None,
    ) -> None:
        size = log.size
        if advertised is not None and not 1 <= advertised <= size:
            msg = f"advertised size {advertised} is not in [1, {size}]"
            raise UsageError(msg)
        if auditor_size is not None:
            tree = getattr(log, "log_tree", None)
            # OPS-036: under thirdPartyAuditing the inclusion proof also gives the root at
            # the auditor's size, which takes a proof with a cut there (LOG-014).
            if not isinstance(tree, log_tree.LogTree) or tree.size < size:
                msg = "a log view proving an auditor's root must expose its LogTree as log_tree"
                raise UsageError(msg, requirement="OPS-036")
            if not 1 <= auditor_size <= size:
                msg = f"auditor tree size {auditor_size} is not in [1, {size}]"
                raise UsageError(msg, requirement="OPS-037")
        self._auditor_size = auditor_size
        retained = {
            x: RetainedEntry(log.timestamp(x), log.prefix_tree(x).root())
            for x in (ibst.frontier(advertised) if advertised else ())
        }
        super().__init__(size, retained)
        self._log = log
        self._label = label
        self._advertised = advertised or 0
        self._timestamps: dict[int, int] = {}
        self._out_timestamps: list[int] = []
        self._out_proofs: list[messages.PrefixProof] = []
        self._keys: dict[int, bytes] = {}

    def _key(self, version: int) -> bytes:
        key = self._keys.get(version)
        if key is None:
            key = self._keys[version] = self._log.vrf_output(self._label, version)
        return key

    def known_timestamp(self, x: int) -> int | None:  # noqa: D102 - see Provider
        return self._timestamps.get(x)

    def timestamp(self, x: int) -> int:  # noqa: D102 - see Provider
        value = self._timestamps.get(x)
        if value is None:
            ibst.check_position(x, self.size)
            value = self._timestamps[x] = self._log.timestamp(x)
            # COMBINED-012: retained frontier timestamps are never sent (§12.3).
            if x not in self._retained:
                self._out_timestamps.append(value)
                self.supplied.append(x)
        return value

    def _search_ladder(self, x: int, target: int, left: set[int], right: set[int]) -> LadderResult:
        tree = self._log.prefix_tree(x)
        outcomes: list[bool] = []
        keys: list[bytes] = []
        # Walk the target's ladder until the verdict is known (OR13/kt NOTE-04).
        for version in bl.base_binary_ladder(target):
            if version in left:
                included = True
            elif version in right:
                included = False
            else:
                key = self._key(version)
                included = tree.get(key) is not None
                keys.append(key)
                outcomes.append(included)
            if included != (version <= target):
                break
        self._out_proofs.append(tree.prove(keys))
        self._associate_root(x, tree.root())
        reading = bl.interpret_search_ladder(target, outcomes, left, right)
        return LadderResult(reading, tuple(outcomes))

    def lookup(self, x: int, version: int) -> bool:  # noqa: D102 - see Provider
        tree = self._log.prefix_tree(x)
        key = self._key(version)
        self._out_proofs.append(tree.prove([key]))
        self._associate_root(x, tree.root())
        return tree.get(key) is not None

    def inclusions(self, x: int, versions: Sequence[int]) -> None:  # noqa: D102
        tree = self._log.prefix_tree(x)
        keys = [self._key(v) for v in versions]
        missing = [v for v, k in zip(versions, keys, strict=True) if tree.get(k) is None]
        # OPS-035: the log cannot prove a new version its tree does not hold.
        if missing:
            msg = f"log entry {x} does not hold versions {missing} of the label"
            raise _fail("OPS-035", msg)
        self._out_proofs.append(tree.prove(keys))
        self._associate_root(x, tree.root())

    def exhausted(self) -> bool:  # noqa: D102 - see Provider
        return False

    def monitoring_ladder(self, x: int, target: int) -> tuple[int, ...]:  # noqa: D102
        tree = self._log.prefix_tree(x)
        versions = bl.monitoring_binary_ladder(target)
        keys = [self._key(v) for v in versions]
        self._out_proofs.append(tree.prove(keys))
        self._associate_root(x, tree.root())
        outcomes = [tree.get(k) is not None for k in keys]
        # SEARCH-017: the log cannot prove a monitored version that its tree lost.
        return bl.verify_monitoring_ladder(target, outcomes)

    def finish(self) -> messages.CombinedTreeProof:
        """The recorded proof: timestamps, prefix proofs, prefix roots and inclusion."""
        leaves = sorted(self.supplied)
        roots = tuple(self._log.prefix_tree(x).root() for x in leaves if x not in self.roots)
        if self._auditor_size is None:
            inclusion = self._log.batch_proof(leaves, self._advertised)
        else:
            tree: log_tree.LogTree = getattr(self._log, "log_tree")  # noqa: B009 - checked in __init__
            # OPS-036: the elements also give the root at AuditorTreeHead.tree_size (LOG-014).
            inclusion = tree.batch_proof(
                leaves, self._advertised, size=self.size, cut=self._auditor_size
            )
        return messages.CombinedTreeProof(
            timestamps=tuple(self._out_timestamps),
            prefix_proofs=tuple(self._out_proofs),
            prefix_roots=roots,
            inclusion=inclusion,
        )


# -- the user's side --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CombinedResult:
    """What a fully consumed ``CombinedTreeProof`` establishes."""

    #: The log tree root at ``size`` computed from the leaves and the inclusion proof.
    root: bytes
    #: The full subtrees of the tree of ``size`` entries, to retain.
    full_subtrees: log_tree.FullSubtrees
    #: Every timestamp associated with an entry (retained ones included).
    timestamps: Mapping[int, int]
    #: Every prefix tree root known for an entry (retained ones included).
    prefix_roots: Mapping[int, bytes]
    #: The log tree root at the auditor's tree size, when one was asked for (OPS-036).
    auditor_root: bytes | None = None


class Consumer(Provider):
    """Reads a received ``CombinedTreeProof`` as the algorithms ask for its elements.

    ``vrf_outputs`` maps each version the response proves a VRF output for to
    that output; ``commitments`` each version with a known commitment to it.
    ``retained`` maps the previous tree's frontier to what the user kept.
    """

    def __init__(
        self,
        proof: messages.CombinedTreeProof,
        size: int,
        *,
        vrf_outputs: Mapping[int, bytes],
        commitments: Mapping[int, bytes],
        retained: Mapping[int, RetainedEntry] | None = None,
        suite: messages.CipherSuite = messages.CipherSuite.KT_128_SHA256_Ed25519,
    ) -> None:
        retained = retained or {}
        super().__init__(size, retained)
        self._proof = proof
        self._timestamps = deque(proof.timestamps)
        self._proofs = deque(proof.prefix_proofs)
        self._vrf = vrf_outputs
        self._commitments = commitments
        self._suite = suite
        self.ledger = TimestampLedger({x: e.timestamp for x, e in retained.items()})

    def known_timestamp(self, x: int) -> int | None:  # noqa: D102 - see Provider
        return self.ledger.get(x)

    def timestamp(self, x: int) -> int:  # noqa: D102 - see Provider
        value = self.ledger.get(x)
        if value is not None:
            return value
        ibst.check_position(x, self.size)
        # COMBINED-001: the algorithm's next timestamp is present.
        if not self._timestamps:
            raise _fail(
                "COMBINED-001",
                f"the proof has no timestamp left for log entry {x}",
                expected=f"more than {len(self._proof.timestamps)} timestamps",
                computed=len(self._proof.timestamps),
            )
        value = self._timestamps.popleft()
        # SEARCH-010 (via the ledger): timestamps are monotonic across the response.
        self.ledger.add(x, value)
        self.supplied.append(x)
        return value

    def _next_proof(self, x: int) -> messages.PrefixProof:
        # COMBINED-002: the algorithm's next prefix proof is present.
        if not self._proofs:
            raise _fail(
                "COMBINED-002",
                f"the proof has no prefix proof left for log entry {x}",
                expected=f"more than {len(self._proof.prefix_proofs)} prefix proofs",
                computed=len(self._proof.prefix_proofs),
            )
        return self._proofs.popleft()

    def _evaluate(
        self, x: int, versions: Sequence[int], outcomes: Sequence[bool], proof: messages.PrefixProof
    ) -> None:
        keys: list[bytes] = []
        commitments: list[bytes | None] = []
        for version, included in zip(versions, outcomes, strict=True):
            key = self._vrf.get(version)
            # COMBINED-008: every looked-up version has a VRF output from the response ...
            if key is None:
                raise _fail(
                    "COMBINED-008",
                    f"log entry {x}: the response proves no VRF output for version {version}",
                )
            commitment = self._commitments.get(version) if included else None
            # COMBINED-008: ... and every version proven included has a commitment.
            if included and commitment is None:
                raise _fail(
                    "COMBINED-008",
                    f"log entry {x}: version {version} is proven included but the response "
                    "carries no commitment for it",
                )
            keys.append(key)
            commitments.append(commitment)
        root = evaluate_prefix_proof(keys, proof, commitments)
        self._associate_root(x, root)

    def _search_ladder(self, x: int, target: int, left: set[int], right: set[int]) -> LadderResult:
        proof = self._next_proof(x)
        outcomes = tuple(r.result_type is _INCLUSION for r in proof.results)
        reading = bl.interpret_search_ladder(target, outcomes, left, right)
        self._evaluate(x, reading.looked_up, outcomes, proof)
        return LadderResult(reading, outcomes)

    def lookup(self, x: int, version: int) -> bool:  # noqa: D102 - see Provider
        proof = self._next_proof(x)
        # COMBINED-009: a single lookup's proof has exactly one result.
        if len(proof.results) != 1:
            raise _fail(
                "COMBINED-009",
                f"the lookup of version {version} in log entry {x} has "
                f"{len(proof.results)} results",
                expected=1,
                computed=len(proof.results),
            )
        included = proof.results[0].result_type is _INCLUSION
        self._evaluate(x, (version,), (included,), proof)
        return included

    def inclusions(self, x: int, versions: Sequence[int]) -> None:  # noqa: D102
        proof = self._next_proof(x)
        # OPS-035: exactly one result per new version asked for, each an inclusion.
        if len(proof.results) != len(versions):
            raise _fail(
                "OPS-035",
                f"the proof of new versions {list(versions)} at log entry {x} has "
                f"{len(proof.results)} results",
                expected=len(versions),
                computed=len(proof.results),
            )
        absent = [
            v
            for v, r in zip(versions, proof.results, strict=True)
            if r.result_type is not _INCLUSION
        ]
        if absent:
            raise _fail("OPS-035", f"log entry {x} proves new versions {absent} absent")
        self._evaluate(x, versions, (True,) * len(versions), proof)

    def exhausted(self) -> bool:  # noqa: D102 - see Provider
        return not self._timestamps and not self._proofs

    def monitoring_ladder(self, x: int, target: int) -> tuple[int, ...]:  # noqa: D102
        proof = self._next_proof(x)
        outcomes = [r.result_type is _INCLUSION for r in proof.results]
        # SEARCH-017: exactly the monitoring ladder's lookups, each an inclusion.
        versions = bl.verify_monitoring_ladder(target, outcomes)
        self._evaluate(x, versions, outcomes, proof)
        return versions

    def finish(
        self,
        retained: log_tree.FullSubtrees | None,
        *,
        expected_root: bytes | None = None,
        auditor_size: int | None = None,
    ) -> CombinedResult:
        """Check the exact counts, fill the prefix roots, and compute the log tree root.

        With ``auditor_size`` (an ``AuditorTreeHead.tree_size``), the inclusion proof
        must also give the root at that size (``CombinedResult.auditor_root``).
        """
        # OPS-037: the auditor's tree size is a size of the tree the proof is for.
        if auditor_size is not None and not 1 <= auditor_size <= self.size:
            raise _fail(
                "OPS-037",
                f"auditor tree size {auditor_size} is not in [1, tree size {self.size}]",
                expected=f"1..{self.size}",
                computed=auditor_size,
            )
        # COMBINED-003: no timestamp is left over.
        if self._timestamps:
            raise _fail(
                "COMBINED-003",
                f"{len(self._timestamps)} timestamps left over after the algorithm finished",
                expected=len(self._proof.timestamps) - len(self._timestamps),
                computed=len(self._proof.timestamps),
            )
        # COMBINED-004: no prefix proof is left over.
        if self._proofs:
            raise _fail(
                "COMBINED-004",
                f"{len(self._proofs)} prefix proofs left over after the algorithm finished",
                expected=len(self._proof.prefix_proofs) - len(self._proofs),
                computed=len(self._proof.prefix_proofs),
            )
        leaves = sorted(self.supplied)
        missing = [x for x in leaves if x not in self.roots]
        given = self._proof.prefix_roots
        # COMBINED-005: one prefix root per supplied-timestamp entry without a proof.
        if len(given) != len(missing):
            raise _fail(
                "COMBINED-005",
                f"the proof carries {len(given)} prefix roots; entries {missing} need them",
                expected=len(missing),
                computed=len(given),
            )
        roots = dict(self.roots)
        roots.update(zip(missing, given, strict=True))
        suite = self._suite
        timestamps = dict(self.ledger.items())
        # COMBINED-010: each supplied entry's leaf is Hash(LogEntry(timestamp, prefix root)).
        leaf_values = {
            x: log_tree.leaf_value(
                messages.LogEntry(timestamp=timestamps[x], prefix_tree=roots[x]), suite=suite
            )
            for x in leaves
        }
        # COMBINED-010: the leaves, the inclusion proof and the retained full subtrees give
        # the root (LOG-0xx checks inside verify_batch).
        batch = log_tree.verify_batch(
            self.size,
            self._proof.inclusion,
            leaf_values,
            retained if retained is not None and retained.size else None,
            expected_root=expected_root,
            hash_fn=log_tree.hash_for_suite(suite),
            cut=auditor_size,
        )
        for x, entry in self._retained.items():
            roots.setdefault(x, entry.prefix_root)
        return CombinedResult(batch.root, batch.full_subtrees, timestamps, roots, batch.cut_root)


# -- the algorithms ---------------------------------------------------------------------


def update_view(p: Provider, advertised: int | None, *, restart: bool = True) -> tuple[int, ...]:
    """§4.2: ask for the timestamps that move a user from ``advertised`` to ``p.size``.

    With ``restart=False`` the 2026-07-28 frontier restart is not applied (katie's
    reading, OR13/kt ``KT-05``): nothing is asked for when the direct path is empty.
    Returns the new frontier.
    """
    plan = plan_update_view(p.size, advertised)
    entries = plan.entries if restart or not plan.restarted else ()
    for x in entries:
        p.timestamp(x)
    return plan.frontier


@dataclass(frozen=True, slots=True)
class GreatestVersionOutcome:
    """The result of a §6.3 search."""

    #: The leftmost inspected entry holding the greatest version (§6.3).
    terminal: int
    #: The entry the search started at (rightmost distinguished, else the root).
    start: int


def greatest_version_search(p: Provider, target: int, rmw: int) -> GreatestVersionOutcome:
    """§6.3: check that ``target`` is the label's greatest version, down the frontier."""
    n = p.size
    start = dist.rightmost_distinguished(n, rmw, p.timestamp)
    x = ibst.root(n) if start is None else start
    first = x
    terminal: int | None = None
    while True:
        p.timestamp(x)
        reading = p.search_ladder(x, target).reading
        # OPS-006: no inspected entry holds a version above the claimed greatest.
        if reading.verdict > 0:
            msg = f"log entry {x} holds a version of the label above the claimed greatest {target}"
            raise SearchRefusedError(msg, requirement="OPS-006", reason=Refusal.INCONSISTENT)
        if x == n - 1:
            # OPS-007: the rightmost entry holds the claimed greatest version, so a negative
            # result (no version at all) is rejected (§13.1, OR13/kt DRAFT-08).
            if reading.verdict < 0:
                msg = (
                    f"the rightmost log entry does not hold version {target} of the label: "
                    "a negative result, which a search response cannot carry"
                )
                raise SearchRefusedError(msg, requirement="OPS-007", reason=Refusal.NOT_FOUND)
            if terminal is None:
                terminal = x
            return GreatestVersionOutcome(terminal, first)
        if reading.verdict == 0 and terminal is None:
            terminal = x
        x = ibst.right(x, n)


@dataclass(frozen=True, slots=True)
class FixedVersionOutcome:
    """The result of a §7.2 search."""

    #: The entry of step 5 or the one identified in step 6.
    terminal: int
    #: Whether the search ended in step 6.3 (a lookup) rather than step 5.
    by_lookup: bool


class _Inspected(NamedTuple):
    position: int
    verdict: int
    distinguished: bool


def fixed_version_search(
    p: Provider, target: int, rmw: int, max_lifetime: int | None
) -> FixedVersionOutcome:
    """§7.2 with §7.1's expiry: find the first entry holding ``target``.

    Asks for the rightmost entry's timestamp first (expiry is relative to it),
    then, at each entry visited, its timestamp and, if unexpired, a ladder.
    Distinguishedness along the path is decided from the brackets of §6.1.
    """
    n = p.size
    t_last = p.timestamp(n - 1)
    x = ibst.root(n)
    bracket = dist.Bracket.at_root(t_last)
    ancestors_distinguished = True
    #: (position, expired, distinguished) of the entries above ``x``.
    path: list[tuple[int, bool, bool]] = []
    inspected: list[_Inspected] = []
    expired_seen = False
    while True:
        t_x = p.timestamp(x)
        here_distinguished = ancestors_distinguished and bracket.distinguished(rmw)
        expired = dist.is_expired(t_x, t_last, max_lifetime)
        go_left: bool | None
        if expired:
            # Step 1: an expired entry sends the search right, without a ladder.
            expired_seen = True
            go_left = False if ibst.has_right(x, n) else None
        else:
            verdict = p.search_ladder(x, target).reading.verdict
            inspected.append(_Inspected(x, verdict, here_distinguished))
            if verdict < 0:
                go_left = False if ibst.has_right(x, n) else None
            elif verdict > 0:
                go_left = True if ibst.has_left(x) else None
            else:
                # Step 5.1: nothing expired above this entry.
                if not any(e for _, e, _ in path):
                    return FixedVersionOutcome(x, by_lookup=False)
                # Step 5.2: it, or an unexpired distinguished ancestor to its left, is
                # distinguished.
                if here_distinguished or any(d and not e and y < x for y, e, d in path):
                    return FixedVersionOutcome(x, by_lookup=False)
                msg = f"version {target} of the label is expired (§7.2 step 5.2 at entry {x})"
                # OPS-009: an expired target version is refused.
                raise SearchRefusedError(msg, requirement="OPS-009", reason=Refusal.EXPIRED)
        if go_left is None:
            break
        path.append((x, expired, here_distinguished))
        ancestors_distinguished = here_distinguished
        if go_left:
            bracket = bracket.to_left(t_x)
            x = ibst.left(x)
        else:
            bracket = bracket.to_right(t_x)
            x = ibst.right(x, n)
    # Step 6: the leftmost inspected entry whose greatest version is above the target.
    above = [e.position for e in inspected if e.verdict > 0]
    # OPS-008: a version no entry shows is refused (step 6.1).
    if not above:
        msg = f"version {target} of the label does not exist (§7.2 step 6.1)"
        raise SearchRefusedError(msg, requirement="OPS-008", reason=Refusal.NOT_FOUND)
    y = min(above)
    # OPS-009 (step 6.2): with expired entries met, an unexpired distinguished entry left of
    # the identified one must have been inspected.
    if expired_seen and not any(e.distinguished and e.position < y for e in inspected):
        msg = f"version {target} of the label is expired (§7.2 step 6.2, entry {y})"
        raise SearchRefusedError(msg, requirement="OPS-009", reason=Refusal.EXPIRED)
    # Step 6.3: look the target up in the identified entry.
    if not p.lookup(y, target):
        msg = f"version {target} of the label does not exist (§7.2 step 6.3, entry {y})"
        raise SearchRefusedError(msg, requirement="OPS-008", reason=Refusal.NOT_FOUND)
    return FixedVersionOutcome(y, by_lookup=True)


# -- monitoring (§8) ----------------------------------------------------------------------


class _PathFlags:
    """Which entries are distinguished, decided along search paths (§6.1), cached.

    Asks for timestamps as :func:`ckv.distinguished.is_distinguished` does: the
    rightmost entry's first, then each ancestor's, root first, stopping at the
    first entry that is not distinguished (everything below it is not either).
    """

    def __init__(self, p: Provider, rmw: int) -> None:
        self._p = p
        self._rmw = rmw
        self._known: dict[int, bool] = {}

    def __call__(self, x: int) -> bool:
        known = self._known.get(x)
        if known is not None:
            return known
        p = self._p
        n = p.size
        path = ibst.search_path(x, n)
        bracket = dist.Bracket.at_root(p.timestamp(n - 1))
        for i, here in enumerate(path):
            flag = self._known.get(here)
            if flag is None:
                flag = self._known[here] = bracket.distinguished(self._rmw)
            if not flag:
                for below in path[i + 1 :]:
                    self._known[below] = False
                break
            if i + 1 < len(path):
                t_here = p.timestamp(here)
                child = path[i + 1]
                # SEARCH-021: a left step lowers the right edge, a right step raises the left.
                bracket = bracket.to_left(t_here) if child < here else bracket.to_right(t_here)
        return self._known[x]


def contact_monitor(
    p: Provider, entries: Mapping[int, int], rmw: int, *, owner_start: int | None = None
) -> dict[int, int]:
    """§8.2: move each position-version pair of a monitoring map up the tree.

    ``entries`` maps positions to versions. Runs the map from rightmost to leftmost
    entry, asking for the timestamps that decide distinguishedness and, from each
    entry to inspect, its timestamp and a monitoring ladder. ``owner_start`` (an
    Owner Monitoring request's ``start``) skips the final distinguished entry of a
    pair at or right of it (§8.2 step 2.4). Returns the new map, with the pairs at
    distinguished entries removed.
    """
    n = p.size
    distinguished = _PathFlags(p, rmw)
    provided: dict[int, int] = {}
    moved: dict[int, int] = {}
    for position in sorted(entries, reverse=True):
        version = entries[position]
        ibst.check_position(position, n)
        # Step 1: a distinguished entry stays as it is.
        if distinguished(position):
            moved[position] = max(moved.get(position, version), version)
            continue
        # Step 2: the ancestors to the right, up to and including the first distinguished.
        inspect: list[int] = []
        for y in ibst.direct_path(position, n):
            if y < position:
                continue
            inspect.append(y)
            if distinguished(y):
                if owner_start is not None and position >= owner_start:
                    inspect.pop()
                break
        here: int | None = position
        for y in inspect:
            earlier = provided.get(y)
            if earlier is not None:
                # OPS-016: a ladder already given from this entry must be for a greater
                # version, which makes this pair redundant (§8.2 step 3.1).
                if earlier <= version:
                    msg = (
                        f"log entry {y} already gave a monitoring ladder for version {earlier}; "
                        f"the map pair ({position}, {version}) cannot be monitored past it"
                    )
                    raise _fail("OPS-016", msg, expected=f"> {version}", computed=earlier)
                here = None
                break
            # OPS-017: an inspected entry's timestamp is known before its ladder, so its
            # leaf, and with it the ladder, is bound to the log tree.
            p.timestamp(y)
            # SEARCH-017 (in monitoring_ladder): every lookup present and an inclusion.
            p.monitoring_ladder(y, version)
            provided[y] = version
            here = y
        if here is not None:
            moved[here] = max(moved.get(here, version), version)
    # OPS-018: the pairs now at distinguished entries need no more monitoring.
    return {x: v for x, v in sorted(moved.items()) if not distinguished(x)}


def owner_init_entries(p: Provider, start: int, rmw: int, max_lifetime: int | None) -> list[int]:
    """§8.3 first algorithm, step 1, with §12.3.5's timestamps; returns the entries.

    Asks for the rightmost entry's timestamp, then those of the path from the
    root to ``start`` and of ``start``; checks that ``start`` is distinguished and
    unexpired (OPS-020). The list is ``start`` then its ancestors to its left,
    nearest first, ending before the first expired one.
    """
    n = p.size
    ibst.check_position(start, n)
    path = ibst.search_path(start, n)
    t_last = p.timestamp(n - 1)
    bracket = dist.Bracket.at_root(t_last)
    distinguished = bracket.distinguished(rmw)
    for here, child in pairwise(path):
        t_here = p.timestamp(here)
        bracket = bracket.to_left(t_here) if child < here else bracket.to_right(t_here)
        distinguished = distinguished and bracket.distinguished(rmw)
    t_start = p.timestamp(start)
    # OPS-020: the starting position is a distinguished, unexpired entry.
    if not distinguished:
        raise _fail("OPS-020", f"the starting position {start} is not a distinguished entry")
    if dist.is_expired(t_start, t_last, max_lifetime):
        raise _fail("OPS-020", f"the starting position {start} is expired")
    out = [start]
    for y in ibst.direct_path(start, n):
        if y > start:
            continue
        if dist.is_expired(p.timestamp(y), t_last, max_lifetime):
            break
        out.append(y)
    return out


def owner_init_ladders(
    p: Provider, entries: Sequence[int], greatest_versions: Sequence[int]
) -> None:
    """§8.3 first algorithm, step 5: a full search ladder from each entry.

    Entry ``entries[i]`` must hold ``greatest_versions[i]`` as its greatest
    version; an entry past the end of ``greatest_versions`` no version at all.
    """
    # OPS-021: at most one greatest version per entry, not increasing leftwards.
    if len(greatest_versions) > len(entries):
        raise _fail(
            "OPS-021",
            f"{len(greatest_versions)} greatest versions for {len(entries)} entries",
            expected=f"<= {len(entries)}",
            computed=len(greatest_versions),
        )
    for earlier, later in pairwise(greatest_versions):
        if later > earlier:
            msg = f"greatest_versions is not descending: {later} follows {earlier}"
            raise _fail("OPS-021", msg)
    for i, x in enumerate(entries):
        exists = i < len(greatest_versions)
        target = greatest_versions[i] if exists else 0
        p.timestamp(x)
        verdict = p.search_ladder(x, target, omit=False).reading.verdict
        # OPS-023: each ladder ends consistent with the claimed greatest version (or none).
        if verdict != (0 if exists else -1):
            claim = f"version {target}" if exists else "no version"
            raise _fail("OPS-023", f"log entry {x}'s ladder contradicts its claim of {claim}")


def owner_monitor(
    p: Provider,
    start: int,
    expected: Callable[[int], int | None],
    rmw: int,
    stop: Callable[[int], bool],
) -> int | None:
    """§8.3 second algorithm: ladders from distinguished entries right of ``start``.

    ``expected(x)`` is the owner's greatest version as of entry ``x`` (None: none);
    ``stop(x)`` the step 4 stop condition (the user: the proof is exhausted).
    Returns the rightmost entry whose ladder was verified, or None.
    """
    n = p.size
    reached: int | None = None
    stopped = False

    def visit(x: int, bracket: dist.Bracket) -> None:
        nonlocal reached, stopped
        # Step 1.
        if not bracket.distinguished(rmw):
            return
        # Step 2.
        if x <= start:
            if ibst.has_right(x, n):
                visit(ibst.right(x, n), bracket.to_right(p.timestamp(x)))
            return
        # Step 3.
        if ibst.has_left(x):
            visit(ibst.left(x), bracket.to_left(p.timestamp(x)))
        # Step 4.
        if stopped or stop(x):
            stopped = True
            return
        # OPS-026: the entry's timestamp precedes its ladder (OR13/kt DRAFT-10).
        p.timestamp(x)
        target = expected(x)
        verdict = p.search_ladder(x, 0 if target is None else target, omit=False).reading.verdict
        # OPS-025: the full ladder shows the owner's expected greatest version (or none).
        if verdict != (-1 if target is None else 0):
            claim = "no version" if target is None else f"version {target}"
            msg = f"log entry {x}'s ladder contradicts the owner's expected {claim}"
            raise _fail("OPS-025", msg)
        reached = x
        # Step 6.
        if ibst.has_right(x, n):
            visit(ibst.right(x, n), bracket.to_right(p.timestamp(x)))

    visit(ibst.root(n), dist.Bracket.at_root(p.timestamp(n - 1)))
    return reached


# -- updating a label (§9.1) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelUpdateOutcome:
    """What §9.1 established."""

    #: Whether the entry with the new versions is distinguished in the current tree.
    distinguished: bool
    #: The new greatest version.
    greatest: int


def label_update(
    p: Provider,
    position: int,
    *,
    count: int,
    previous: int | None,
    skip_through: int,
    expected: Callable[[int], int | None],
    rmw: int,
) -> LabelUpdateOutcome:
    """§9.1: verify that ``count`` new versions were added at entry ``position``.

    ``previous`` is the previous greatest version (None: the label had none);
    ``skip_through`` the greater of the owner's starting position and the entry
    where ``previous`` was inserted (step 2.1 skips entries up to it when a
    previous version exists); ``expected(x)`` the owner's greatest version as of
    entry ``x`` (for an entry left of its start: the version at its start).

    Step 2.2's omission: the previous tree's frontier entry before the first
    inspected one is the rightmost distinguished entry, where a greatest-version
    search would have begun, so its ladder counts as made (with the owner's
    greatest version there), and so does the ladder of the first entry the walk
    skips (with the previous greatest version), as OR13/kt measured katie doing.
    """
    n = p.size
    ibst.check_position(position, n)
    if count < 1:
        msg = "an update creates at least one version"
        raise UsageError(msg)
    first = 0 if previous is None else previous + 1
    greatest = first + count - 1
    if greatest > bl.MAX_VERSION:
        msg = f"version {greatest} is beyond 2^32-1"
        raise UsageError(msg)
    distinguished = _PathFlags(p, rmw)
    # Step 1: the first entry of the previous tree's frontier not distinguished now.
    frontier = ibst.frontier(position) if position else ()
    begin = next((i for i, y in enumerate(frontier) if not distinguished(y)), None)
    if begin is not None:
        target = 0 if previous is None else previous
        if previous is not None:
            # Step 2.2: lookups a greatest-version search would omit are omitted here too,
            # also for entries step 2.1 skips.
            ladder = bl.base_binary_ladder(previous)
            if begin:
                parent = expected(frontier[begin - 1])
                if parent is not None:
                    p.assume_included(frontier[begin - 1], [v for v in ladder if v <= parent])
            p.assume_included(frontier[begin], [v for v in ladder if v <= previous])
        for y in frontier[begin:]:
            # Step 2.1.
            if previous is not None and y <= skip_through:
                continue
            p.timestamp(y)
            verdict = p.search_ladder(y, target).reading.verdict
            # OPS-032: the previous tree shows the previous greatest version (or none).
            if verdict != (-1 if previous is None else 0):
                claim = "no version" if previous is None else f"version {previous}"
                msg = f"log entry {y} of the previous tree contradicts its greatest {claim}"
                raise _fail("OPS-032", msg)
    ladder_versions = set(bl.base_binary_ladder(greatest))
    additional = [v for v in range(first, greatest + 1) if v not in ladder_versions]
    here_distinguished = distinguished(position)
    if not here_distinguished:
        # Step 4: a search ladder for the new greatest version, omitting redundant lookups.
        p.timestamp(position)
        verdict = p.search_ladder(position, greatest).reading.verdict
        # OPS-033: the entry shows the new greatest version as the greatest.
        if verdict != 0:
            msg = f"log entry {position} does not show version {greatest} as the greatest"
            raise _fail("OPS-033", msg)
    if additional:
        # Steps 3 and 4: the new versions no ladder looks up, in one proof.
        p.timestamp(position)
        p.inclusions(position, additional)
    return LabelUpdateOutcome(here_distinguished, greatest)
