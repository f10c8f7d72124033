"""The key directory as a client sees it: the transport contract (spec/kt/client.md).

A CKV client talks to its key directory, a KEYTRANS Transparency Log, through
an object that implements :class:`DirectoryTransport`: one synchronous method per
KEYTRANS operation (KEYTRANS §13), each taking the request and returning the
response as the wire dataclasses of :mod:`ckv.wire.messages`. The transport only
carries messages; it verifies nothing. Verification is the client's
(:mod:`ckv.kt_client`).

A transport reports two kinds of failure, and nothing else:

* :class:`DirectoryUnavailable`: no answer came (unreachable, timed out, the
  connection broke). The request may or may not have reached the directory.
* :class:`DirectoryRefused`: the directory answered with a refusal instead of a
  response (no such label or version, an expired version, a malformed request,
  an owner's value the directory's own checks refused). :attr:`DirectoryRefused.reason`
  says which, and :attr:`~ckv.errors.CKVError.requirement` names the requirement
  the directory invoked, if any.

A response that arrives but does not verify is neither: the client raises
:class:`~ckv.errors.VerificationError` for it.

Implementations here: :class:`ckv.directory.memory.InMemoryDirectory` (an honest
directory over :class:`~ckv.transparency_log.TransparencyLog`) and
:class:`ckv.directory.adversary.AdversarialDirectory` (the same, misbehaving on
command). Both hand out one transport per client with ``client(client_id)``.
"""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable

from ckv.errors import CKVError
from ckv.wire import messages

__all__ = [
    "DirectoryRefused",
    "DirectoryTransport",
    "DirectoryUnavailable",
    "RefusalReason",
]


class DirectoryUnavailable(CKVError):  # noqa: N818 - the name says what the caller meets
    """The directory could not be reached or did not answer in time (DIRAPI-008).

    The message is for humans only: it is not evidence a third party can check.
    """


class RefusalReason(enum.StrEnum):
    """Why a directory answered a request with a refusal rather than a response."""

    #: The label, or the requested version, does not exist (KEYTRANS §13.1, OPS-014).
    NOT_FOUND = "not_found"
    #: The requested version exists but is expired (KEYTRANS §7.2, OPS-009).
    EXPIRED = "expired"
    #: The request is not one the directory can answer (bad size, map, start, version).
    INVALID_REQUEST = "invalid_request"
    #: An owner's new value failed the directory's own acceptance checks (DIRAPI-011).
    VALUE_REJECTED = "value_rejected"


class DirectoryRefused(CKVError):  # noqa: N818 - the name says what the caller meets
    """The directory answered a request with a refusal (DIRAPI-009)."""

    def __init__(
        self,
        message: str,
        *,
        reason: RefusalReason,
        requirement: str | None = None,
    ) -> None:
        super().__init__(message, requirement=requirement)
        self.reason = reason


@runtime_checkable
class DirectoryTransport(Protocol):
    """One client's channel to the key directory (KEYTRANS §13; DIRAPI-007 to DIRAPI-009).

    Every method is synchronous, takes a request and returns the response as wire
    dataclasses, and raises only :class:`DirectoryUnavailable` or
    :class:`DirectoryRefused` (besides programming errors). A transport is bound to
    one client: the directory may keep per-client state between calls, such as an
    owner's starting position (DIRAPI-010).
    """

    def configuration(self) -> messages.Configuration:
        """The directory's ``Configuration`` (KEYTRANS §11.1); a client pins it (DIRAPI-001)."""
        ...

    def search(self, request: messages.SearchRequest) -> messages.SearchResponse:
        """Search for a label's greatest or a fixed version (KEYTRANS §13.1)."""
        ...

    def update(self, request: messages.UpdateRequest) -> messages.UpdateResponse:
        """An owner's update: the proof that the entry at ``position`` holds it (§13.5).

        When the owner is behind (``greatest_version`` is not the label's greatest),
        the values are disregarded and the response reports the versions created
        after ``greatest_version`` (non-empty ``values``).
        """
        ...

    def contact_monitor(
        self, request: messages.ContactMonitorRequest
    ) -> messages.ContactMonitorResponse:
        """Contact Monitoring of label-version pairs (KEYTRANS §13.2)."""
        ...

    def owner_init(self, request: messages.OwnerInitRequest) -> messages.OwnerInitResponse:
        """Owner Initialization from a starting position (KEYTRANS §13.3)."""
        ...

    def owner_monitor(self, request: messages.OwnerMonitorRequest) -> messages.OwnerMonitorResponse:
        """Owner Monitoring (KEYTRANS §13.4)."""
        ...

    def distinguished(
        self, request: messages.DistinguishedRequest
    ) -> messages.DistinguishedResponse:
        """Walk the recent distinguished entries (KEYTRANS §13.6): the heads users gossip."""
        ...
