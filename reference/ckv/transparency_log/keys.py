"""Who holds which key: the log's keys, and the Service Operator's (KEYTRANS §11.2, §15.1).

The log (the Service Operator in ``contactMonitoring`` and ``thirdPartyAuditing``,
the Third-Party Manager in ``thirdPartyManagement``) holds the private keys of
``Configuration.signature_public_key`` and ``Configuration.vrf_public_key``.
Under ``thirdPartyManagement`` the key of ``Configuration.leaf_public_key`` is
the Service Operator's, not the log's: :class:`ServiceOperator` models that
party, which authorizes each new version by signing its ``UpdateTBS`` and
forwards the request as a ``ManagerUpdateRequest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ckv.cipher_suites import get_suite
from ckv.commitment import sign_update
from ckv.errors import UsageError
from ckv.wire.messages import (
    Configuration,
    DeploymentMode,
    ManagerUpdateRequest,
    UpdateRequest,
    UpdateValue,
)

__all__ = ["LogKeys", "ServiceOperator"]

REQ_KEYS = "LOGOP-001"


@dataclass(frozen=True, slots=True)
class LogKeys:
    """The log's ``Configuration`` and the two private keys that go with it.

    ``signature_private_key`` signs tree heads (its public key is
    ``config.signature_public_key``); ``vrf_private_key`` evaluates the VRF (its
    public key is ``config.vrf_public_key``). Both are checked on construction.
    """

    config: Configuration
    signature_private_key: bytes = field(repr=False)
    vrf_private_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        suite = get_suite(self.config.ciphersuite)
        # LOGOP-001: the log signs and evaluates with the keys its Configuration names.
        if suite.signature_public_key(self.signature_private_key) != (
            self.config.signature_public_key
        ):
            msg = "signature_private_key does not match Configuration.signature_public_key"
            raise UsageError(msg, requirement=REQ_KEYS)
        if suite.vrf_public_key(self.vrf_private_key) != self.config.vrf_public_key:
            msg = "vrf_private_key does not match Configuration.vrf_public_key"
            raise UsageError(msg, requirement=REQ_KEYS)


class ServiceOperator:
    """The Service Operator of a ``thirdPartyManagement`` log (KEYTRANS §15.1).

    It authorizes exactly one value per version of a label: it keeps its own
    counter per label and signs each value with the version it assigns, whether
    or not the Manager later applies the request. A request the Manager never
    applies therefore leaves a gap, which the Manager fills with skipped
    versions when the next request arrives.
    """

    __slots__ = ("_config", "_key", "_next")

    def __init__(self, config: Configuration, leaf_private_key: bytes) -> None:
        if config.mode is not DeploymentMode.thirdPartyManagement:
            msg = f"only thirdPartyManagement has a Service Operator key, not {config.mode.name}"
            raise UsageError(msg)
        public = get_suite(config.ciphersuite).signature_public_key(leaf_private_key)
        # LOGOP-001: the operator signs with the key of Configuration.leaf_public_key.
        if public != config.leaf_public_key:
            msg = "leaf_private_key does not match Configuration.leaf_public_key"
            raise UsageError(msg, requirement=REQ_KEYS)
        self._config = config
        self._key = leaf_private_key
        self._next: dict[bytes, int] = {}

    def next_version(self, label: bytes) -> int:
        """The version the operator will sign the next value of ``label`` with."""
        return self._next.get(label, 0)

    def sign(self, label: bytes, version: int, value: bytes) -> UpdateValue:
        """``UpdateValue{value, suffix.signature}`` signed over ``UpdateTBS`` (KEYTRANS §11.5)."""
        return sign_update(self._config, self._key, label, version, value)

    def authorize(self, request: UpdateRequest) -> ManagerUpdateRequest:
        """Sign the values of a user's ``UpdateRequest`` and forward it (KEYTRANS §15.1).

        The first value is signed with :meth:`next_version`, the next with one
        more, and so on; the operator's counter advances past them at once.
        """
        label = request.label
        first = self.next_version(label)
        values = tuple(
            self.sign(label, first + i, item.value) for i, item in enumerate(request.values)
        )
        if values:
            self._next[label] = first + len(values)
        return ManagerUpdateRequest(
            last=request.last,
            label=label,
            greatest_version=request.greatest_version,
            values=values,
            # §15.1: signed_version is zero when there are no values.
            signed_version=first if values else 0,
        )
