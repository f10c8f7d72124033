"""What a log keeps per label-version pair and what it reports per log entry."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ckv.errors import UsageError
from ckv.wire.messages import AuditorUpdate, UpdateValue

__all__ = [
    "LabelChange",
    "OutcomeKind",
    "SequencedEntry",
    "UpdateOutcome",
    "UpdateResult",
    "VersionRecord",
]


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One label-version pair as the log holds it (LOGOP-018).

    A skipped version (KEYTRANS §15.1) has an all-zero ``commitment`` and no
    ``opening`` or ``update``; a version whose opening was deleted (LOGOP-005)
    keeps everything but the opening.
    """

    version: int
    #: Index of the log entry that created the version.
    position: int
    #: ``Hash.Nh`` bytes: ``HMAC(Kc, CommitmentValue)``, or all zeros if skipped.
    commitment: bytes
    #: ``Nc`` bytes; ``None`` if the version was skipped or the opening was deleted.
    opening: bytes | None
    #: The committed ``UpdateValue``; ``None`` if the version was skipped.
    update: UpdateValue | None
    #: ``VRF.Nh`` bytes: the prefix tree search key.
    vrf_output: bytes
    #: ``VRF.Np`` bytes.
    vrf_proof: bytes

    @property
    def skipped(self) -> bool:
        """Whether this is a dummy version that only skips a counter (KEYTRANS §15.1)."""
        return self.update is None


@dataclass(frozen=True, slots=True)
class LabelChange:
    """The versions of one label one log entry created (KEYTRANS §9.1, §13.5)."""

    label: bytes
    position: int
    #: The lowest version created; skipped versions come first (KEYTRANS §13.5).
    first_version: int
    #: How many of the versions created are skipped (dummy) versions.
    skipped_versions: int
    #: How many versions were created in all, skipped ones included.
    count: int

    @property
    def versions(self) -> range:
        """Every version created, skipped ones included."""
        return range(self.first_version, self.first_version + self.count)

    @property
    def unskipped(self) -> range:
        """The versions created with a value."""
        return range(self.first_version + self.skipped_versions, self.first_version + self.count)


@dataclass(frozen=True, slots=True)
class SequencedEntry:
    """One log entry the log has sequenced."""

    position: int
    timestamp: int
    #: Root of the prefix tree as of this entry (``LogEntry.prefix_tree``).
    prefix_root: bytes
    #: ``Hash(LogEntry)``: the log tree leaf (KEYTRANS §11.8).
    leaf: bytes
    #: The versions this entry created: one change per ``stage`` call or creating request,
    #: in the order they were staged (a label staged twice appears twice).
    changes: tuple[LabelChange, ...]
    #: The ``AuditorUpdate`` to send to the auditor (``thirdPartyAuditing`` only).
    auditor_update: AuditorUpdate | None


class OutcomeKind(enum.Enum):
    """How the log answered one update request (KEYTRANS §13.5, §15.1)."""

    #: New versions were created (in the entry the batch sequenced).
    CREATED = "created"
    #: ``greatest_version`` was behind: the values were disregarded, existing versions reported.
    EXISTING = "existing"
    #: The request was refused; :attr:`UpdateOutcome.error` says why.
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class UpdateOutcome:
    """The state-level answer to one ``UpdateRequest`` or ``ManagerUpdateRequest``.

    For ``CREATED`` and ``EXISTING``, ``position`` is the entry an
    ``UpdateResponse`` is about, ``versions`` the unskipped versions it reports
    (those created from ``values`` for ``CREATED``; those created at
    ``position`` from ``greatest_version + 1`` on for ``EXISTING``) and
    ``skipped_versions`` the number of skipped versions below them.
    """

    label: bytes
    kind: OutcomeKind
    position: int | None = None
    versions: tuple[int, ...] = ()
    skipped_versions: int = 0
    error: UsageError | None = None


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """The answer to one batch of requests: the entry sequenced (if any) and one outcome each."""

    entry: SequencedEntry | None
    outcomes: tuple[UpdateOutcome, ...]
