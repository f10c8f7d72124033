"""Run the KEYTRANS interop vectors (katie's, as published by OR13/kt).

Each vector file names its ``primitive``; a handler registered for that
primitive runs one case and returns a :class:`CaseOutcome`. A case is a pass,
a failure, or a *known divergence*: a case where katie and the KEYTRANS draft
disagree and CKV implements the draft, listed with its evidence in the spec's
interoperability appendix. A divergence is never counted as a pass.
"""

from __future__ import annotations

import enum
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "HANDLER_MODULES",
    "CaseOutcome",
    "FileReport",
    "Status",
    "handler",
    "run_directory",
    "run_file",
]

Case = Mapping[str, Any]
FileMeta = Mapping[str, Any]


class Status(enum.Enum):
    """The outcome classes of a case."""

    PASS = "pass"  # noqa: S105 - not a password
    FAIL = "fail"
    DIVERGENCE = "divergence"


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """What running one case showed."""

    status: Status
    detail: str = ""
    #: ID of the interoperability-notes entry (for example ``IOP-L02``) when a divergence.
    divergence: str | None = None

    @classmethod
    def passed(cls, detail: str = "") -> CaseOutcome:
        """The case ran and agreed with the vector."""
        return cls(Status.PASS, detail)

    @classmethod
    def failed(cls, detail: str) -> CaseOutcome:
        """The case disagreed with the vector, or could not be run."""
        return cls(Status.FAIL, detail)

    @classmethod
    def diverges(cls, divergence: str, detail: str) -> CaseOutcome:
        """The vector records katie's reading; CKV implements the draft's (documented)."""
        return cls(Status.DIVERGENCE, detail, divergence)


Handler = Callable[[FileMeta, Case], CaseOutcome]
_HANDLERS: dict[str, Handler] = {}

#: Modules whose import registers handlers (one per area of the draft).
HANDLER_MODULES = (
    "ckv.interop.wire_vectors",
    "ckv.interop.crypto_vectors",
    "ckv.interop.log_vectors",
    "ckv.interop.search_tree_vectors",
    "ckv.interop.prefix_vectors",
    "ckv.interop.auditor_vectors",
    "ckv.interop.search_vectors",
    "ckv.interop.monitor_vectors",
    "ckv.interop.update_vectors",
)


def handler(primitive: str) -> Callable[[Handler], Handler]:
    """Register the function that runs the cases of one ``primitive``."""

    def register(fn: Handler) -> Handler:
        if primitive in _HANDLERS:
            msg = f"two handlers for primitive {primitive!r}"
            raise RuntimeError(msg)
        _HANDLERS[primitive] = fn
        return fn

    return register


def handlers() -> Mapping[str, Handler]:
    """Every registered handler, keyed by primitive."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return _HANDLERS


@dataclass(slots=True)
class FileReport:
    """The outcome of every case of one vector file."""

    name: str
    primitive: str
    implemented: bool = True
    outcomes: dict[str, CaseOutcome] = field(default_factory=dict)

    def count(self, status: Status) -> int:
        """How many cases had this outcome."""
        return sum(1 for o in self.outcomes.values() if o.status is status)

    def summary(self) -> str:
        """The one-line report for this file."""
        if not self.implemented:
            return (
                f"{self.name}: not implemented yet ({len(self.outcomes)} cases, primitive "
                f"{self.primitive!r})"
            )
        return (
            f"{self.name}: {self.count(Status.PASS)} passed, {self.count(Status.FAIL)} "
            f"failed, {self.count(Status.DIVERGENCE)} known divergences"
        )


def run_file(path: Path) -> FileReport:
    """Run every case of one vector file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    primitive = str(data.get("primitive", "?"))
    report = FileReport(path.name, primitive)
    fn = handlers().get(primitive)
    cases = data.get("cases", [])
    if fn is None:
        report.implemented = False
        report.outcomes = {str(c.get("name")): CaseOutcome.failed("no handler") for c in cases}
        return report
    for case in cases:
        name = str(case.get("name"))
        try:
            outcome = fn(data, case)
        except Exception as exc:  # noqa: BLE001 - one broken case must not stop the run
            outcome = CaseOutcome.failed(f"{type(exc).__name__}: {exc}")
        report.outcomes[name] = outcome
    return report


def run_directory(directory: Path) -> list[FileReport]:
    """Run every ``*.json`` vector file of a directory, in name order."""
    return [run_file(p) for p in sorted(directory.glob("*.json"))]
