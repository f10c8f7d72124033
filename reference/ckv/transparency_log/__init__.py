"""The server-side state of a KEYTRANS transparency log, sans-IO (KEYTRANS §3, §9, §13.5, §15).

- :class:`LogKeys`: the ``Configuration`` and the private keys the log holds;
  :class:`ServiceOperator`: the party that signs updates under
  ``thirdPartyManagement``.
- :class:`TransparencyLog`: sequencing (``stage``/``sequence``/``update``/
  ``heartbeat``) and the read accessors a proof engine uses.
- :func:`make_auditor_update`: the §15.2 ``AuditorUpdate`` of one entry.

Normative description: spec/kt/log-operation.md (requirement IDs ``LOGOP-nnn``).
"""

from ckv.transparency_log.auditing import make_auditor_update
from ckv.transparency_log.keys import LogKeys, ServiceOperator
from ckv.transparency_log.log import (
    HEARTBEAT_LABEL,
    RandomBytes,
    TransparencyLog,
    VrfFunction,
    heartbeat_value,
)
from ckv.transparency_log.records import (
    LabelChange,
    OutcomeKind,
    SequencedEntry,
    UpdateOutcome,
    UpdateResult,
    VersionRecord,
)
from ckv.transparency_log.view import LogAt

__all__ = [
    "HEARTBEAT_LABEL",
    "LabelChange",
    "LogAt",
    "LogKeys",
    "OutcomeKind",
    "RandomBytes",
    "SequencedEntry",
    "ServiceOperator",
    "TransparencyLog",
    "UpdateOutcome",
    "UpdateResult",
    "VersionRecord",
    "VrfFunction",
    "heartbeat_value",
    "make_auditor_update",
]
