"""``ckv conformance run``: drive an implementation under test through its adapter.

The harness starts the adapter as a subprocess, exchanges JSON lines with it
(:mod:`ckv.conformance.protocol`, conformance/PROTOCOL.md), sends every case of
the vector files whose kind the adapter advertises, and judges each answer:

* ``pass``: the result is the expected one (and, for ``valid``, the output is
  equal to the expected output; with ``strict_errors``, an ``invalid`` answer
  names the expected error class);
* ``fail``: anything else, including a timeout, a crash or a protocol error (the
  adapter is then restarted for the next case);
* ``xfail`` / ``xpass``: the case is listed in the implementation's
  expected-failure file; it failed as expected, or passed unexpectedly (an
  ``xpass`` fails the run, so the list stays honest);
* ``unsupported``: the adapter does not advertise the kind, or answered
  ``unsupported``; never a failure.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import queue
import shlex
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ckv.conformance.protocol import PROTOCOL_VERSION
from ckv.conformance.vectors import SUITE_VERSION, load_vector_files
from ckv.errors import UsageError

__all__ = [
    "OUTCOMES",
    "AdapterError",
    "CaseResult",
    "ExpectedFailures",
    "RunReport",
    "load_expected_failures",
    "run",
]

JSON = Any
#: Every outcome a case can have; ``fail`` and ``xpass`` fail the run.
OUTCOMES = ("pass", "fail", "xfail", "xpass", "unsupported")


class AdapterError(Exception):
    """The adapter timed out, exited, or broke the protocol."""


@dataclass(frozen=True, slots=True)
class ExpectedFailures:
    """An implementation's expected-failure list: ID patterns with their reasons."""

    entries: tuple[tuple[str, str], ...] = ()

    def reason(self, case_id: str) -> str | None:
        """The reason the case is expected to fail, or None if it is not listed."""
        for pattern, why in self.entries:
            if fnmatch.fnmatchcase(case_id, pattern):
                return why
        return None


def load_expected_failures(path: Path) -> ExpectedFailures:
    """Read an expected-failure file (conformance/expected-failures/README.md).

    Each non-blank line that is not a ``#`` comment is ``PATTERN  REASON``: a case
    ID or an fnmatch pattern, whitespace, and a reason (required).
    """
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, reason = line.partition(" ")
        if not reason.strip():
            msg = f"{path}:{number}: an expected failure needs a reason after the pattern"
            raise UsageError(msg, requirement="CONF-011")
        entries.append((pattern, reason.strip()))
    return ExpectedFailures(tuple(entries))


@dataclass(slots=True)
class CaseResult:
    """The outcome of one case."""

    id: str
    kind: str
    file: str
    requirements: tuple[str, ...]
    expected: str
    outcome: str
    detail: str = ""
    answer: JSON = None
    seconds: float = 0.0


@dataclass(slots=True)
class RunReport:
    """Everything a run established, for the reports."""

    implementation: JSON
    command: str
    suite_version: str = SUITE_VERSION
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0
    restarts: int = 0

    def count(self, outcome: str) -> int:
        """How many cases had this outcome."""
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def ok(self) -> bool:
        """True when no case failed and no expected failure passed."""
        return not any(r.outcome in {"fail", "xpass"} for r in self.results)

    def summary(self) -> str:
        """One line: counts of every outcome."""
        parts = [f"{self.count(o)} {o}" for o in OUTCOMES]
        return f"{len(self.results)} cases: " + ", ".join(parts) + f" ({self.seconds:.1f} s)"


class _Adapter:
    """The running adapter process."""

    def __init__(
        self, command: Sequence[str], cwd: Path | None, timeout: float, startup: float
    ) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.timeout = timeout
        self.startup = startup
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.hello: JSON = None
        self.reader: threading.Thread | None = None
        self.transcript: IO[str] | None = None

    def start(self) -> JSON:
        self.proc = subprocess.Popen(  # noqa: S603 - the command is the user's adapter
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            encoding="utf-8",
            cwd=self.cwd,
            bufsize=1,
        )
        self.lines = queue.Queue()
        self.reader = threading.Thread(
            target=self._read, args=(self.proc.stdout, self.lines), daemon=True
        )
        self.reader.start()
        # The hello may take the adapter's start-up time (an interpreter, a JIT).
        self.hello = self.ask(
            {"type": "hello", "protocol": PROTOCOL_VERSION, "suite_version": SUITE_VERSION},
            timeout=self.startup,
        )
        if self.hello.get("type") != "hello" or self.hello.get("protocol") != PROTOCOL_VERSION:
            msg = f"bad hello from the adapter: {self.hello!r}"
            raise AdapterError(msg)
        return self.hello

    @staticmethod
    def _read(stream: IO[str] | None, into: queue.Queue[str | None]) -> None:
        assert stream is not None
        for line in stream:
            into.put(line)
        into.put(None)

    def ask(self, message: Mapping[str, JSON], timeout: float | None = None) -> JSON:
        proc = self.proc
        if proc is None or proc.stdin is None:
            raise AdapterError("the adapter is not running")
        try:
            proc.stdin.write(json.dumps(message, sort_keys=True) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            msg = f"the adapter closed its input ({exc})"
            raise AdapterError(msg) from None
        try:
            line = self.lines.get(timeout=timeout or self.timeout)
        except queue.Empty:
            msg = f"timeout: no answer within {timeout or self.timeout:g} s"
            raise AdapterError(msg) from None
        if line is None:
            msg = f"the adapter exited (code {proc.poll()})"
            raise AdapterError(msg)
        try:
            answer = json.loads(line)
        except json.JSONDecodeError:
            msg = f"protocol error: not a JSON line: {line[:120]!r}"
            raise AdapterError(msg) from None
        if not isinstance(answer, dict):
            msg = f"protocol error: not a JSON object: {line[:120]!r}"
            raise AdapterError(msg)
        if self.transcript is not None:
            self.transcript.write(json.dumps({"sent": message, "received": answer}) + "\n")
        expected_id = message.get("id")
        if expected_id is not None and answer.get("id") != expected_id:
            msg = f"protocol error: answer for {answer.get('id')!r}, expected {expected_id!r}"
            raise AdapterError(msg)
        return answer

    def stop(self, *, graceful: bool = True) -> None:
        proc = self.proc
        if proc is None:
            return
        if not graceful and proc.poll() is None:
            proc.kill()
        try:
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.write('{"type": "bye"}\n')
                proc.stdin.flush()
                proc.stdin.close()
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            proc.kill()
            proc.wait()
        if self.reader is not None:
            self.reader.join(timeout=2)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        self.proc = None


def _judge(expected: Mapping[str, JSON], answer: Mapping[str, JSON], strict_errors: bool) -> str:
    """Empty if the answer meets the expectation, else what differs."""
    got = answer.get("result")
    want = expected["result"]
    if want == "acceptable":
        return "" if got in {"valid", "invalid"} else f"result {got!r}"
    if got != want:
        detail = answer.get("detail") or answer.get("error") or ""
        return f"expected {want}, got {got}" + (f": {detail}" if detail else "")
    if want == "valid" and "output" in expected and answer.get("output") != expected["output"]:
        return (
            f"output differs: expected {json.dumps(expected['output'], sort_keys=True)[:300]}, "
            f"got {json.dumps(answer.get('output'), sort_keys=True)[:300]}"
        )
    if (
        want == "invalid"
        and strict_errors
        and "error" in expected
        and answer.get("error") != expected["error"]
    ):
        return f"expected error {expected['error']}, got {answer.get('error')}"
    return ""


def run(
    command: str | Sequence[str],
    vectors_dir: Path,
    *,
    expected_failures: ExpectedFailures | None = None,
    timeout: float = 10.0,
    select: Iterable[str] = (),
    strict_errors: bool = False,
    cwd: Path | None = None,
    startup_timeout: float = 60.0,
    record: Path | None = None,
) -> RunReport:
    """Run every selected case through the adapter ``command``; return the report.

    ``select`` holds fnmatch patterns over case IDs (all cases when empty);
    ``timeout`` bounds each answer, ``startup_timeout`` the answer to ``hello``;
    ``record`` is a file to write every request and answer to (JSON lines).
    """
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if not argv:
        raise UsageError("no adapter command given")
    patterns = list(select)
    xfails = expected_failures or ExpectedFailures()
    adapter = _Adapter(argv, cwd, timeout, startup_timeout)
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        adapter.transcript = record.open("w", encoding="utf-8")
    try:
        return _run_all(adapter, argv, vectors_dir, patterns, xfails, strict_errors=strict_errors)
    finally:
        adapter.stop()
        if adapter.transcript is not None:
            adapter.transcript.close()


def _run_all(
    adapter: _Adapter,
    argv: Sequence[str],
    vectors_dir: Path,
    patterns: Sequence[str],
    xfails: ExpectedFailures,
    *,
    strict_errors: bool,
) -> RunReport:
    started = time.monotonic()
    hello = adapter.start()
    report = RunReport(implementation=hello, command=shlex.join(argv))
    capabilities = set(hello.get("capabilities") or [])
    sessions = 0

    dead = ""

    def restart() -> None:
        nonlocal capabilities, dead
        adapter.stop(graceful=False)
        report.restarts += 1
        try:
            capabilities = set(adapter.start().get("capabilities") or [])
        except AdapterError as exc:
            dead = f"the adapter could not be restarted: {exc}"

    for rel, doc in load_vector_files(vectors_dir):
        kind = doc["kind"]
        for test in doc["tests"]:
            cid = test["id"]
            if patterns and not any(fnmatch.fnmatchcase(cid, p) for p in patterns):
                continue
            result = CaseResult(
                id=cid,
                kind=kind,
                file=rel,
                requirements=tuple(test["requirements"]),
                expected=test["expected"]["result"],
                outcome="pass",
            )
            t0 = time.monotonic()
            if dead:
                result.outcome = "fail"
                result.detail = dead
            elif kind not in capabilities:
                result.outcome = "unsupported"
                result.detail = "kind not advertised"
            else:
                try:
                    if "steps" in test:
                        sessions += 1
                        result.outcome, result.detail, result.answer = _run_session(
                            adapter, kind, f"s{sessions}", test, strict_errors
                        )
                    else:
                        answer = adapter.ask(
                            {"type": "case", "id": cid, "kind": kind, "input": test["input"]}
                        )
                        result.answer = answer
                        if answer.get("result") == "unsupported":
                            result.outcome = "unsupported"
                            result.detail = str(answer.get("detail", ""))
                        else:
                            problem = _judge(test["expected"], answer, strict_errors)
                            result.outcome = "fail" if problem else "pass"
                            result.detail = problem or str(answer.get("detail", ""))
                except AdapterError as exc:
                    result.outcome = "fail"
                    result.detail = str(exc)
                    restart()
            result.seconds = time.monotonic() - t0
            why = xfails.reason(cid)
            if why is not None and result.outcome in {"pass", "fail"}:
                if result.outcome == "fail":
                    result.outcome = "xfail"
                    result.detail = f"expected failure ({why}): {result.detail}"
                else:
                    result.outcome = "xpass"
                    result.detail = f"listed as an expected failure ({why}) but passed"
            report.results.append(result)
    report.seconds = time.monotonic() - started
    return report


def _run_session(
    adapter: _Adapter, kind: str, sid: str, test: Mapping[str, JSON], strict_errors: bool
) -> tuple[str, str, JSON]:
    """Open a session, send its steps in order, close it; the outcome of the whole case."""
    opened = adapter.ask({"type": "open", "session": sid, "kind": kind, "setup": test["setup"]})
    if opened.get("type") != "opened":
        if opened.get("result") == "unsupported":
            return "unsupported", str(opened.get("detail", "")), opened
        return "fail", f"session not opened: {opened!r}"[:300], opened
    answers = []
    outcome, detail = "pass", ""
    for i, step in enumerate(test["steps"], 1):
        answer = adapter.ask(
            {"type": "step", "session": sid, "id": f"{test['id']}#{i}", "input": step["input"]}
        )
        answers.append(answer)
        if answer.get("result") == "unsupported":
            outcome, detail = "unsupported", str(answer.get("detail", ""))
            break
        problem = _judge(step["expected"], answer, strict_errors)
        if problem:
            outcome, detail = "fail", f"step {i} ({step['description']}): {problem}"
            break
    closed = adapter.ask({"type": "close", "session": sid})
    if closed.get("type") != "closed":
        msg = f"protocol error: expected closed, got {closed!r}"[:300]
        raise AdapterError(msg)
    return outcome, detail, answers
