"""Run tamarin-prover, one lemma per process, under a wall-clock timeout.

Each pinned lemma gets its own run (``--prove=NAME`` with the pin's ``-D=FLAG``
flags), so no result leans on another lemma's run. A helper lemma (``[reuse]``
or ``[sources]``) is assumed by Tamarin when it proves a later lemma, so it is
proved in its own run like every other and its pin must expect ``verified``;
:func:`judge` fails a lemma whose helpers did not come out verified.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ckv.prove import output, spthy
from ckv.prove.pins import Pin, PinSet

__all__ = [
    "PROVER",
    "ProverMissingError",
    "RunResult",
    "command",
    "find_prover",
    "judge",
    "prove",
    "versions",
]

PROVER = "tamarin-prover"
#: Tamarin's own checks that may take time are bounded explicitly.
DERIVCHECK_TIMEOUT_S = 30
#: Project machines have two cores (README); Tamarin's solver uses both.
RTS_THREADS = 2
_RTS_REFUSED = "RTS options are disabled"


class ProverMissingError(RuntimeError):
    """tamarin-prover is not on PATH."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of one lemma run, judged against its pin."""

    pin: Pin
    status: output.Status | None
    text: str
    steps: int | None
    seconds: float
    timed_out: bool
    wellformedness_failures: int
    ok: bool
    reason: str
    command: tuple[str, ...]

    @property
    def outcome(self) -> str:
        """``verified``, ``falsified``, ``incomplete`` or ``timeout``."""
        if self.timed_out:
            return "timeout"
        return self.status.outcome if self.status is not None else "incomplete"


def find_prover() -> str:
    """The path of tamarin-prover; raises :class:`ProverMissingError` when absent."""
    found = shutil.which(PROVER)
    if found is None:
        msg = f"{PROVER} is not on PATH"
        raise ProverMissingError(msg)
    return found


def versions(prover: str) -> output.ToolVersions:
    """Tamarin's and Maude's versions (``tamarin-prover --version``)."""
    done = subprocess.run(  # noqa: S603 - the prover found on PATH, fixed arguments
        [prover, "--version"], capture_output=True, text=True, timeout=120, check=False
    )
    return output.parse_versions(done.stdout + done.stderr)


def command(prover: str, model: Path, pin: Pin) -> tuple[str, ...]:
    """The command line that proves ``pin``'s lemma alone."""
    return (
        prover,
        "+RTS",
        f"-N{RTS_THREADS}",
        "-RTS",
        str(model),
        f"--prove={pin.lemma}",
        *(f"-D={flag}" for flag in sorted(pin.flags)),
        f"--derivcheck-timeout={DERIVCHECK_TIMEOUT_S}",
    )


def _run(cmd: Sequence[str], timeout: float, cwd: Path) -> tuple[str, float, bool]:
    started = time.monotonic()
    # A new session, so that a timeout ends Tamarin and the Maude processes it started.
    with subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        list(cmd),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return out or "", time.monotonic() - started, True
    return out or "", time.monotonic() - started, False


def judge(
    pin: Pin,
    summary: output.Summary | None,
    seconds: float,
    *,
    timed_out: bool,
    cmd: Sequence[str] = (),
    helpers_ok: bool = True,
) -> RunResult:
    """Compare one run's summary with its pin."""
    line = summary.result(pin.lemma) if summary else None
    status = line.status if line else None
    reason = ""
    if timed_out:
        reason = f"no result within {seconds:.0f} s"
    elif summary is None:
        reason = "tamarin-prover printed no summary (see its output)"
    elif line is None:
        reason = f"the summary has no line for {pin.lemma}"
    elif line.quantifier != pin.quantifier:
        reason = f"the prover read a {line.quantifier} lemma, pinned {pin.quantifier}"
    elif line.status is output.Status.UNKNOWN:
        reason = f"unrecognised status {line.text!r}"
    elif line.status.outcome != pin.expected:
        reason = f"expected {pin.expected}, got {line.text}"
    elif summary.wellformedness_failures:
        reason = f"{summary.wellformedness_failures} wellformedness check(s) failed"
    elif seconds > pin.budget_s:
        reason = f"took {seconds:.1f} s, over its budget of {pin.budget_s:g} s"
    elif not helpers_ok:
        reason = "a helper lemma it may assume did not come out as expected"
    return RunResult(
        pin=pin,
        status=status,
        text=line.text if line else "",
        steps=line.steps if line else None,
        seconds=seconds,
        timed_out=timed_out,
        wellformedness_failures=summary.wellformedness_failures if summary else 0,
        ok=not reason,
        reason=reason,
        command=tuple(cmd),
    )


def prove(
    pinset: PinSet,
    pins: Sequence[Pin],
    *,
    prover: str,
    timeout: float | None = None,
    progress: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Run every pin in ``pins`` (in order), each in its own prover process.

    ``timeout`` caps each run; without it a run may take twice its budget
    before it is stopped (so that a slow result is reported as over budget,
    not as missing).
    """
    results: list[RunResult] = []
    helper_status: dict[tuple[str, frozenset[str], str], bool] = {}
    theories = {name: spthy.parse_file(pinset.model_path(name)) for name in pinset.models}
    for pin in _helpers_first(pins, theories):
        model = pinset.model_path(pin.model)
        cmd = command(prover, model.resolve(), pin)
        limit = timeout if timeout is not None else 2 * pin.budget_s
        out, seconds, timed_out = _run(cmd, limit, model.parent)
        if not timed_out and _RTS_REFUSED in out:
            # A prover built without -rtsopts refuses +RTS; run it with its defaults.
            cmd = tuple(a for a in cmd if a not in {"+RTS", f"-N{RTS_THREADS}", "-RTS"})
            out, seconds, timed_out = _run(cmd, limit, model.parent)
        theory = theories[pin.model]
        helpers = [
            h
            for h in theory.active_lemmas(pin.flag_set)
            if h.helper and h.name != pin.lemma and h.line < _line_of(theory, pin)
        ]
        helpers_ok = all(
            helper_status.get((pin.model, pin.flag_set, h.name), True) for h in helpers
        )
        result = judge(
            pin,
            output.parse_summary(out),
            seconds,
            timed_out=timed_out,
            cmd=cmd,
            helpers_ok=helpers_ok,
        )
        lemma = theory.lemma(pin.lemma, pin.flag_set)
        if lemma is not None and lemma.helper:
            helper_status[(pin.model, pin.flag_set, pin.lemma)] = result.ok
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def _line_of(theory: spthy.Theory, pin: Pin) -> int:
    lemma = theory.lemma(pin.lemma, pin.flag_set)
    return lemma.line if lemma else 0


def _helpers_first(pins: Sequence[Pin], theories: dict[str, spthy.Theory]) -> list[Pin]:
    def is_helper(pin: Pin) -> bool:
        lemma = theories[pin.model].lemma(pin.lemma, pin.flag_set)
        return lemma is not None and lemma.helper

    return [p for p in pins if is_helper(p)] + [p for p in pins if not is_helper(p)]
