"""Read tamarin-prover's batch output: the per-lemma results of its summary.

Tamarin ends a batch run with a block like::

    ==============================================================================
    summary of summaries:

    analyzed: models/tamarin/directory.spthy

      processing time: 0.84s

      WARNING: 1 wellformedness check failed!
               The analysis results might be wrong!

      exec_lookup_accepted (exists-trace): verified (7 steps)
      no_equivocation_with_auditor (all-traces): falsified - found trace (9 steps)

    ==============================================================================

Its exit code says nothing about the lemmas, so the summary is the result. Every
status Tamarin can print is recognised; anything else is kept as
:attr:`Status.UNKNOWN` with its text, never read as success.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

__all__ = [
    "LemmaResult",
    "Status",
    "Summary",
    "ToolVersions",
    "parse_summary",
    "parse_versions",
]


class Status(enum.StrEnum):
    """A lemma's result as Tamarin prints it (value: the exact text)."""

    VERIFIED = "verified"
    FALSIFIED_TRACE = "falsified - found trace"
    FALSIFIED_NO_TRACE = "falsified - no trace found"
    INCOMPLETE = "analysis incomplete"
    UNDETERMINED = "analysis undetermined"
    REDUCIBLE = "analysis cannot be finished (reducible operators in subterms)"
    INVALIDATED = "proof has been invalidated"
    UNKNOWN = "unknown"

    @property
    def outcome(self) -> str:
        """``verified``, ``falsified`` or ``incomplete``: what a pin states."""
        if self is Status.VERIFIED:
            return "verified"
        if self in {Status.FALSIFIED_TRACE, Status.FALSIFIED_NO_TRACE}:
            return "falsified"
        return "incomplete"


_BY_TEXT = {s.value: s for s in Status if s is not Status.UNKNOWN}

_LEMMA = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+\((?P<quantifier>all-traces|exists-trace)\):\s+"
    r"(?P<status>.*?)(?:\s+\((?P<steps>\d+) steps?\))?\s*$"
)
_ANALYZED = re.compile(r"^\s*analyzed:\s+(?P<path>\S.*?)\s*$")
_TIME = re.compile(r"^\s*processing time:\s+(?P<seconds>[0-9.]+)s\s*$")
_WARNING = re.compile(r"WARNING:\s+(?P<count>\d+)\s+wellformedness checks?\s+failed", re.IGNORECASE)
_SUMMARY = "summary of summaries:"


@dataclass(frozen=True, slots=True)
class LemmaResult:
    """One lemma line of the summary."""

    name: str
    quantifier: str
    status: Status
    text: str
    steps: int | None


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary of one analysed file."""

    path: str | None
    processing_seconds: float | None
    wellformedness_failures: int
    lemmas: tuple[LemmaResult, ...]

    def result(self, name: str) -> LemmaResult | None:
        """The line for lemma ``name``, if the summary has one."""
        for lemma in self.lemmas:
            if lemma.name == name:
                return lemma
        return None


@dataclass(frozen=True, slots=True)
class ToolVersions:
    """What ``tamarin-prover --version`` reports."""

    tamarin: str | None
    maude: str | None
    git_revision: str | None


def parse_status(text: str) -> Status:
    """The :class:`Status` for a status text (``UNKNOWN`` if Tamarin never prints it)."""
    return _BY_TEXT.get(text.strip(), Status.UNKNOWN)


def parse_summary(output: str) -> Summary | None:
    """The summary in ``output`` (stdout and stderr of one run), or None if there is none.

    A run analyses one file, so the first ``analyzed:`` block is the one; the
    wellformedness warning may also appear before the summary (Tamarin prints
    the failed checks as it loads the theory), and is counted wherever it is.
    """
    warnings = max((int(m.group("count")) for m in _WARNING.finditer(output)), default=0)
    start = output.find(_SUMMARY)
    if start < 0:
        return None
    path: str | None = None
    seconds: float | None = None
    lemmas: list[LemmaResult] = []
    for line in output[start + len(_SUMMARY) :].splitlines():
        if line.startswith("=" * 10) and (path is not None or lemmas):
            break
        if path is None and (m := _ANALYZED.match(line)):
            path = m.group("path")
        elif m := _TIME.match(line):
            seconds = float(m.group("seconds"))
        elif m := _LEMMA.match(line):
            steps = m.group("steps")
            lemmas.append(
                LemmaResult(
                    name=m.group("name"),
                    quantifier=m.group("quantifier"),
                    status=parse_status(m.group("status")),
                    text=m.group("status").strip(),
                    steps=int(steps) if steps is not None else None,
                )
            )
    return Summary(path, seconds, warnings, tuple(lemmas))


_VERSION = re.compile(r"tamarin-prover\s+(?P<v>[0-9][0-9A-Za-z.\-+]*)")
_MAUDE = re.compile(r"checking version:\s*(?P<v>[0-9]+(?:\.[0-9]+)*)")
_MAUDE_LINE = re.compile(r"^Maude version\s+(?P<v>[0-9]+(?:\.[0-9]+)*)", re.MULTILINE)
_GIT = re.compile(r"Git revision:\s*(?P<v>[0-9a-f]{7,40}|UNKNOWN)", re.IGNORECASE)


def parse_versions(output: str) -> ToolVersions:
    """Tamarin's and Maude's versions from the output of ``tamarin-prover --version``."""
    tamarin = _VERSION.search(output)
    # stderr ("checking version: 3.4. OK.") and stdout may interleave; the
    # "Maude version" line of stdout is the fallback.
    maude = _MAUDE.search(output) or _MAUDE_LINE.search(output)
    git = _GIT.search(output)
    return ToolVersions(
        tamarin=tamarin.group("v").rstrip(".,") if tamarin else None,
        maude=maude.group("v") if maude else None,
        git_revision=git.group("v") if git else None,
    )
