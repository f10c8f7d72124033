"""An honest key directory in memory (spec/kt/client.md, "Directory client and transport").

:class:`InMemoryDirectory` runs a :class:`~ckv.transparency_log.TransparencyLog`
and answers every :class:`~ckv.directory.DirectoryTransport` request with the
reference answer functions (:func:`~ckv.search.answer_search` and the others).
Each client talks to it through its own handle, ``directory.client("alice")``;
the directory object itself is also a transport, for an anonymous client.

Updates. :meth:`InMemoryDirectory.update` sequences one log entry per call;
:meth:`InMemoryDirectory.update_batch` sequences one entry for a batch, and
:meth:`InMemoryDirectory.heartbeat` an entry with no change of a user's label
(LOGOP-014). Before an owner's new values are accepted, the optional
``validator(label, value, version)`` is called for each; if it raises a
:class:`~ckv.errors.CKVError` the request is refused
(:class:`~ckv.directory.DirectoryRefused`, ``VALUE_REJECTED``) and nothing is
written (DIRAPI-011). The CKV layer plugs its account-key signature checks in
there.

Owner starting positions (DIRAPI-010). An ``UpdateResponse`` depends on the
starting position of the owner it is for (KEYTRANS §9.1 step 2.1), which an
``UpdateRequest`` does not carry. The directory therefore keeps, per client
handle and label, the start the owner established: the ``start`` of its last
``OwnerInitRequest``, or after an ``OwnerMonitorRequest`` the start that the
response moves the owner to (the rightmost distinguished entry right of the
advertised start whose ladder the response carries). Two devices of one
account owning the same label are two handles with a start each. A device whose
owner state and the directory's record disagree (it rejected a monitoring
response, or never received one) re-advertises its start with an
``OwnerMonitorRequest`` before it updates (DIRAPI-005).

Time comes from the injected ``clock()`` (milliseconds since the Unix epoch,
never going backwards), randomness (commitment openings) from ``random_bytes``.
The directory sequences a first heartbeat entry on construction, so that it can
answer from the start. It runs the ``contactMonitoring`` deployment mode only: a
Third-Party Manager takes ``ManagerUpdateRequest`` structures, and a log with a
Third-Party Auditor needs the auditor's tree heads, neither of which it models.
"""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Callable, Sequence
from typing import TypeVar

from ckv import combined_tree as ct
from ckv import distinguished as dist
from ckv.directory import DirectoryRefused, DirectoryTransport, RefusalReason
from ckv.distinguished_walk import answer_distinguished
from ckv.errors import CKVError, UsageError, VerificationError
from ckv.label_update import answer_update
from ckv.monitoring import (
    answer_contact_monitor,
    answer_owner_init,
    answer_owner_monitor,
    greatest_at,
)
from ckv.search import SearchLogView, answer_search
from ckv.transparency_log import (
    LogKeys,
    OutcomeKind,
    RandomBytes,
    SequencedEntry,
    TransparencyLog,
    UpdateResult,
)
from ckv.wire import messages

__all__ = ["ANONYMOUS", "Clock", "DirectoryClient", "InMemoryDirectory", "Validator"]

#: ``clock()``: the current time in milliseconds since the Unix epoch.
Clock = Callable[[], int]
#: ``validator(label, value, version)``: raises a CKVError to refuse an owner's new value.
Validator = Callable[[bytes, bytes, int], None]
#: The client id of requests made on the directory object itself.
ANONYMOUS = ""

_R = TypeVar("_R")

_REASONS = {
    ct.Refusal.NOT_FOUND: RefusalReason.NOT_FOUND,
    ct.Refusal.EXPIRED: RefusalReason.EXPIRED,
    ct.Refusal.INCONSISTENT: RefusalReason.INVALID_REQUEST,
}


def refused(error: CKVError) -> DirectoryRefused:
    """The refusal a directory answers with when its own answer function refuses."""
    reason = (
        _REASONS[error.reason]
        if isinstance(error, ct.SearchRefusedError)
        else RefusalReason.INVALID_REQUEST
    )
    refusal = DirectoryRefused(str(error), reason=reason, requirement=error.requirement)
    refusal.__cause__ = error
    return refusal


def answering(call: Callable[[], _R]) -> _R:
    """Run an answer function; its refusals become :class:`DirectoryRefused` (DIRAPI-009)."""
    try:
        return call()
    except (UsageError, VerificationError) as error:
        raise refused(error) from error


class DirectoryClient:
    """One client's :class:`~ckv.directory.DirectoryTransport` to an in-memory directory."""

    __slots__ = ("_client_id", "_directory")

    def __init__(self, directory: InMemoryDirectory, client_id: str) -> None:
        self._directory = directory
        self._client_id = client_id

    @property
    def client_id(self) -> str:
        """The id the directory knows this client by."""
        return self._client_id

    def configuration(self) -> messages.Configuration:
        """The directory's ``Configuration``."""
        return self._directory.configuration(client_id=self._client_id)

    def search(self, request: messages.SearchRequest) -> messages.SearchResponse:
        """KEYTRANS §13.1."""
        return self._directory.search(request, client_id=self._client_id)

    def update(self, request: messages.UpdateRequest) -> messages.UpdateResponse:
        """KEYTRANS §13.5: one new log entry for the request."""
        return self._directory.update(request, client_id=self._client_id)

    def contact_monitor(
        self, request: messages.ContactMonitorRequest
    ) -> messages.ContactMonitorResponse:
        """KEYTRANS §13.2."""
        return self._directory.contact_monitor(request, client_id=self._client_id)

    def owner_init(self, request: messages.OwnerInitRequest) -> messages.OwnerInitResponse:
        """KEYTRANS §13.3."""
        return self._directory.owner_init(request, client_id=self._client_id)

    def owner_monitor(self, request: messages.OwnerMonitorRequest) -> messages.OwnerMonitorResponse:
        """KEYTRANS §13.4."""
        return self._directory.owner_monitor(request, client_id=self._client_id)

    def distinguished(
        self, request: messages.DistinguishedRequest
    ) -> messages.DistinguishedResponse:
        """KEYTRANS §13.6."""
        return self._directory.distinguished(request, client_id=self._client_id)


class InMemoryDirectory:
    """An honest KEYTRANS directory over a :class:`~ckv.transparency_log.TransparencyLog`.

    Implements :class:`~ckv.directory.DirectoryTransport` (as the anonymous
    client); :meth:`client` hands out a transport per client. See the module
    docstring for updates, the validator and owner starting positions.
    """

    def __init__(
        self,
        keys: LogKeys,
        *,
        clock: Clock,
        random_bytes: RandomBytes = secrets.token_bytes,
        validator: Validator | None = None,
    ) -> None:
        if keys.config.mode is not messages.DeploymentMode.contactMonitoring:
            msg = (
                "the in-memory directory answers under contactMonitoring only, "
                f"not {keys.config.mode.name}"
            )
            raise UsageError(msg)
        self._keys = keys
        self._config = keys.config
        self._signing_key = keys.signature_private_key
        self._clock = clock
        self._validator = validator
        self._starts: dict[tuple[str, bytes], int] = {}
        self._log = self._create_log(keys, random_bytes)
        self._sequence_heartbeat(clock())

    # -- hooks an adversarial directory overrides -----------------------------------------

    def _create_log(self, keys: LogKeys, random_bytes: RandomBytes) -> TransparencyLog:
        return TransparencyLog(keys, random_bytes=random_bytes)

    def _check_available(self, client_id: str) -> None:
        """Raise :class:`~ckv.directory.DirectoryUnavailable` to fail a call."""

    def _view(self, client_id: str) -> SearchLogView:
        del client_id
        return self._log

    def _respond(self, client_id: str, response: _R) -> _R:
        del client_id
        return response

    def _sequence_update(
        self, client_id: str, requests: Sequence[messages.UpdateRequest], now_ms: int
    ) -> UpdateResult:
        del client_id
        return self._log.update(requests, now_ms=now_ms)

    def _sequence_heartbeat(self, now_ms: int) -> SequencedEntry:
        return self._log.heartbeat(now_ms)

    # -- reading ------------------------------------------------------------------------------

    @property
    def config(self) -> messages.Configuration:
        """The directory's ``Configuration``."""
        return self._config

    @property
    def keys(self) -> LogKeys:
        """The log's configuration and private keys."""
        return self._keys

    @property
    def log(self) -> TransparencyLog:
        """The log (read it only)."""
        return self._log

    @property
    def size(self) -> int:
        """The number of log entries."""
        return self._log.size

    def now(self) -> int:
        """The directory's clock."""
        return self._clock()

    def greatest_version(self, label: bytes) -> int | None:
        """The greatest version of ``label`` (None: no version), for validators and tests."""
        return self._log.greatest_version(label)

    def value(self, label: bytes, version: int) -> bytes | None:
        """The value of a label-version pair (None: none, or skipped)."""
        update = self._log.value(label, version)
        return None if update is None else update.value

    def owner_start(self, client_id: str, label: bytes) -> int | None:
        """The starting position recorded for ``client_id`` as owner of ``label`` (DIRAPI-010)."""
        return self._starts.get((client_id, label))

    def client(self, client_id: str) -> DirectoryTransport:
        """A transport for the client ``client_id`` (DIRAPI-007)."""
        return DirectoryClient(self, client_id)

    # -- sequencing -----------------------------------------------------------------------------

    def heartbeat(self) -> SequencedEntry:
        """Sequence a heartbeat entry now (LOGOP-014)."""
        return self._sequence_heartbeat(self._clock())

    def heartbeat_due(self) -> bool:
        """Whether LOGOP-014 asks for an entry now."""
        return self._log.heartbeat_due(self._clock())

    def _refusals(self, requests: Sequence[messages.UpdateRequest]) -> dict[int, DirectoryRefused]:
        """The requests refused before anything is written (DIRAPI-011, DIRAPI-013)."""
        validator = self._validator
        refusals: dict[int, DirectoryRefused] = {}
        labels: set[bytes] = set()
        for i, request in enumerate(requests):
            label = request.label
            # DIRAPI-013: one request per label per entry, since an UpdateResponse describes
            # every version an entry gives a label, after the version before the entry.
            if label in labels:
                refusals[i] = DirectoryRefused(
                    f"label {label.hex()} is already updated in this batch",
                    reason=RefusalReason.INVALID_REQUEST,
                    requirement="DIRAPI-013",
                )
                continue
            labels.add(label)
            greatest = self._log.greatest_version(label)
            # Only a request that creates versions carries values the log would accept
            # (KEYTRANS §13.5): one behind is answered with a report, one ahead is refused.
            if validator is None or not request.values or request.greatest_version != greatest:
                continue
            first = 0 if greatest is None else greatest + 1
            try:
                # DIRAPI-011: every new value passes the validator before anything is written.
                for offset, item in enumerate(request.values):
                    validator(label, item.value, first + offset)
            except CKVError as error:
                refusal = DirectoryRefused(
                    f"value refused for label {label.hex()}: {error}",
                    reason=RefusalReason.VALUE_REJECTED,
                    requirement=error.requirement,
                )
                refusal.__cause__ = error
                refusals[i] = refusal
        return refusals

    def update_batch(
        self, requests: Sequence[messages.UpdateRequest], *, client_id: str = ANONYMOUS
    ) -> tuple[messages.UpdateResponse | DirectoryRefused, ...]:
        """Apply requests in order and sequence one entry for what they create.

        Returns, per request, its ``UpdateResponse`` or the refusal. A refused request
        writes nothing; the others go ahead (KEYTRANS §13.5).
        """
        self._check_available(client_id)
        refusals = self._refusals(requests)
        accepted = [r for i, r in enumerate(requests) if i not in refusals]
        result = self._sequence_update(client_id, accepted, self._clock())
        outcomes = iter(result.outcomes)
        view = self._view(client_id)
        answers: list[messages.UpdateResponse | DirectoryRefused] = []
        for i, request in enumerate(requests):
            if i in refusals:
                answers.append(refusals[i])
                continue
            outcome = next(outcomes)
            if outcome.kind is OutcomeKind.REJECTED or outcome.position is None:
                error = outcome.error or UsageError("the log refused the request")
                answers.append(refused(error))
                continue
            try:
                answers.append(self._answer_update(client_id, view, request, outcome.position))
            except DirectoryRefused as refusal:
                answers.append(refusal)
        return tuple(answers)

    def _answer_update(
        self,
        client_id: str,
        view: SearchLogView,
        request: messages.UpdateRequest,
        position: int,
    ) -> messages.UpdateResponse:
        start = self._starts.get((client_id, request.label), 0)
        response = answering(
            lambda: answer_update(
                view, self._config, self._signing_key, request, position, owner_start=start
            )
        )
        return self._respond(client_id, response)

    # -- the transport --------------------------------------------------------------------------

    def configuration(self, *, client_id: str = ANONYMOUS) -> messages.Configuration:
        """The directory's ``Configuration``."""
        self._check_available(client_id)
        return self._config

    def search(
        self, request: messages.SearchRequest, *, client_id: str = ANONYMOUS
    ) -> messages.SearchResponse:
        """KEYTRANS §13.1; refuses (NOT_FOUND, EXPIRED) where the draft has no answer."""
        self._check_available(client_id)
        view = self._view(client_id)
        response = answering(lambda: answer_search(view, self._config, self._signing_key, request))
        return self._respond(client_id, response)

    def update(
        self, request: messages.UpdateRequest, *, client_id: str = ANONYMOUS
    ) -> messages.UpdateResponse:
        """KEYTRANS §13.5: sequence the request in a new entry, answer with its proof."""
        (answer,) = self.update_batch([request], client_id=client_id)
        if isinstance(answer, DirectoryRefused):
            raise answer
        return answer

    def contact_monitor(
        self, request: messages.ContactMonitorRequest, *, client_id: str = ANONYMOUS
    ) -> messages.ContactMonitorResponse:
        """KEYTRANS §13.2."""
        self._check_available(client_id)
        view = self._view(client_id)
        response = answering(
            lambda: answer_contact_monitor(view, self._config, self._signing_key, request)
        )
        return self._respond(client_id, response)

    def owner_init(
        self, request: messages.OwnerInitRequest, *, client_id: str = ANONYMOUS
    ) -> messages.OwnerInitResponse:
        """KEYTRANS §13.3; records ``start`` as the client's starting position (DIRAPI-010)."""
        self._check_available(client_id)
        view = self._view(client_id)
        response = answering(
            lambda: answer_owner_init(view, self._config, self._signing_key, request)
        )
        self._starts[client_id, request.label] = request.start
        return self._respond(client_id, response)

    def owner_monitor(
        self, request: messages.OwnerMonitorRequest, *, client_id: str = ANONYMOUS
    ) -> messages.OwnerMonitorResponse:
        """KEYTRANS §13.4; records the start the response moves the owner to (DIRAPI-010)."""
        self._check_available(client_id)
        view = self._view(client_id)
        response = answering(
            lambda: answer_owner_monitor(view, self._config, self._signing_key, request)
        )
        reached = monitored_start(view, self._config, request)
        self._starts[client_id, request.label] = max(request.start, reached or request.start)
        return self._respond(client_id, response)

    def distinguished(
        self, request: messages.DistinguishedRequest, *, client_id: str = ANONYMOUS
    ) -> messages.DistinguishedResponse:
        """KEYTRANS §13.6."""
        self._check_available(client_id)
        view = self._view(client_id)
        response = answering(
            lambda: answer_distinguished(view, self._config, self._signing_key, request)
        )
        return self._respond(client_id, response)


def monitored_start(
    log: SearchLogView, config: messages.Configuration, request: messages.OwnerMonitorRequest
) -> int | None:
    """The rightmost entry whose ladder an honest ``OwnerMonitorResponse`` carries, or None.

    The second walk of KEYTRANS §8.3 visits the distinguished entries right of
    ``start`` in ascending order (left subtree, entry, right subtree) and stops at
    the first one whose greatest version is above the owner's ``greatest_version``
    (OPS-027). Greatest versions never decrease along the log, so the entry reached
    is the last distinguished entry right of ``start`` whose greatest version is at
    most the owner's; the owner's start moves there (``verify_owner_monitor``).
    """
    rmw = config.reasonable_monitoring_window
    candidates = [
        x for x in dist.distinguished_entries(log.size, rmw, log.timestamp) if x > request.start
    ]
    limit = -1 if request.greatest_version is None else request.greatest_version

    def within(x: int) -> bool:
        greatest = greatest_at(log, request.label, x)
        return (-1 if greatest is None else greatest) <= limit

    # The candidates within the limit form a prefix of the list: find its end.
    count = bisect.bisect_left(candidates, 1, key=lambda x: 0 if within(x) else 1)
    return candidates[count - 1] if count else None
