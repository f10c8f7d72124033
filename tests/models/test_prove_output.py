"""The prover output parser, the judging of results against pins, the runner and `ckv prove`.

No prover is needed: the parser reads fixtures in Tamarin's format, and the runner and
the command are driven through a stand-in `tamarin-prover` script that prints them.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ckv.cli import prove as prove_cli
from ckv.prove import output, pins, report, runner
from ckv.prove.output import Status

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
PINS = REPO / "models" / "tamarin" / "expected.toml"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# ---- the summary parser ----------------------------------------------------


@pytest.mark.req("FORMAL-006")
def test_every_status_tamarin_prints_is_recognised() -> None:
    summary = output.parse_summary(fixture("all-statuses.handmade.txt"))
    assert summary is not None
    got = {r.name: (r.quantifier, r.status, r.steps) for r in summary.lemmas}
    assert got == {
        "a_verified": ("all-traces", Status.VERIFIED, 11),
        "b_found_trace": ("all-traces", Status.FALSIFIED_TRACE, 14),
        "c_exists_verified": ("exists-trace", Status.VERIFIED, 6),
        "d_no_trace": ("exists-trace", Status.FALSIFIED_NO_TRACE, 3),
        "e_incomplete": ("all-traces", Status.INCOMPLETE, 1),
        "f_undetermined": ("all-traces", Status.UNDETERMINED, 27),
        "g_reducible": ("all-traces", Status.REDUCIBLE, 2),
        "h_invalidated": ("exists-trace", Status.INVALIDATED, 5),
        "i_single_step": ("all-traces", Status.VERIFIED, 1),
        "j_unknown": ("all-traces", Status.UNKNOWN, 4),
    }
    assert summary.path == "all_statuses.spthy"
    assert summary.processing_seconds == pytest.approx(12.53)
    assert summary.wellformedness_failures == 1
    assert summary.result("j_unknown") is not None
    assert summary.result("j_unknown").text == "proved by magic"  # type: ignore[union-attr]


def test_outcomes_group_the_statuses() -> None:
    assert Status.VERIFIED.outcome == "verified"
    assert Status.FALSIFIED_TRACE.outcome == "falsified"
    assert Status.FALSIFIED_NO_TRACE.outcome == "falsified"
    for status in (
        Status.INCOMPLETE,
        Status.UNDETERMINED,
        Status.REDUCIBLE,
        Status.INVALIDATED,
        Status.UNKNOWN,
    ):
        assert status.outcome == "incomplete"


def test_status_line_without_steps() -> None:
    text = (
        "summary of summaries:\n\nanalyzed: x.spthy\n\n"
        "  l (all-traces): analysis cannot be finished (reducible operators in subterms)\n"
    )
    summary = output.parse_summary(text)
    assert summary is not None
    (line,) = summary.lemmas
    assert (line.status, line.steps) == (Status.REDUCIBLE, None)


def test_no_summary_is_none() -> None:
    assert output.parse_summary(fixture("no-summary.handmade.txt")) is None


def test_versions() -> None:
    versions = output.parse_versions(fixture("version.handmade.txt"))
    assert (versions.tamarin, versions.maude, versions.git_revision) == ("1.10.0", "3.4", "UNKNOWN")
    assert output.parse_versions("nothing here") == output.ToolVersions(None, None, None)


# ---- judging a run against its pin -----------------------------------------


def pin_of(lemma: str, *, expected: str = "verified", quantifier: str = "all-traces") -> pins.Pin:
    return pins.Pin(
        model="public_code",
        flags=(),
        lemma=lemma,
        quantifier=quantifier,
        expected=expected,
        sha256="0" * 64,
        budget_s=20,
    )


@pytest.mark.req("FORMAL-006")
def test_judge_accepts_only_the_pinned_outcome() -> None:
    summary = output.parse_summary(fixture("public-code-binds.handmade.txt"))
    ok = runner.judge(pin_of("public_code_binds_account_key"), summary, 1.0, timed_out=False)
    assert ok.ok, ok.reason
    assert (ok.steps, ok.outcome) == (5, "verified")
    # The other lemma was not selected: "analysis incomplete (1 steps)" is never success.
    other = runner.judge(
        pin_of("exec_code_matches_directory_key", quantifier="exists-trace"),
        summary,
        1.0,
        timed_out=False,
    )
    assert not other.ok
    assert "expected verified, got analysis incomplete" in other.reason


@pytest.mark.req("FORMAL-005", "FORMAL-006")
def test_judge_falsified_variant() -> None:
    summary = output.parse_summary(fixture("public-code-weak.handmade.txt"))
    pin = pin_of("public_code_binds_account_key", expected="falsified")
    result = runner.judge(pin, summary, 1.0, timed_out=False)
    assert result.ok, result.reason
    assert result.status is Status.FALSIFIED_TRACE
    assert not runner.judge(replace(pin, expected="verified"), summary, 1.0, timed_out=False).ok


@pytest.mark.req("FORMAL-006", "FORMAL-007")
@pytest.mark.parametrize(
    ("summary_name", "seconds", "timed_out", "reason"),
    [
        ("public-code-binds.handmade.txt", 25.0, False, "over its budget"),
        ("public-code-binds.handmade.txt", 40.0, True, "no result within"),
        ("no-summary.handmade.txt", 1.0, False, "no summary"),
        ("all-statuses.handmade.txt", 1.0, False, "no line for"),
    ],
)
def test_judge_failures(summary_name: str, seconds: float, timed_out: bool, reason: str) -> None:
    summary = output.parse_summary(fixture(summary_name))
    result = runner.judge(
        pin_of("public_code_binds_account_key"), summary, seconds, timed_out=timed_out
    )
    assert not result.ok
    assert reason in result.reason


def test_judge_wellformedness_quantifier_unknown_and_helpers() -> None:
    summary = output.parse_summary(fixture("all-statuses.handmade.txt"))
    assert (
        "wellformedness" in runner.judge(pin_of("a_verified"), summary, 1, timed_out=False).reason
    )
    clean = replace(summary, wellformedness_failures=0) if summary else None
    assert runner.judge(pin_of("a_verified"), clean, 1, timed_out=False).ok
    wrong_q = pin_of("a_verified", quantifier="exists-trace")
    assert "exists-trace" in runner.judge(wrong_q, clean, 1, timed_out=False).reason
    assert "unrecognised" in runner.judge(pin_of("j_unknown"), clean, 1, timed_out=False).reason
    helper = runner.judge(pin_of("a_verified"), clean, 1, timed_out=False, helpers_ok=False)
    assert "helper" in helper.reason


# ---- the runner and the command, with a stand-in prover --------------------


def fake_prover(tmp_path: Path, body: str) -> Path:
    """A `tamarin-prover` on PATH that runs `body` (Python) with the arguments."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "tamarin-prover"
    script.write_text(f"#!{sys.executable}\nimport sys, time\nargs = sys.argv[1:]\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bindir


ANSWER = f"""
if args == ["--version"]:
    print(open({str(FIXTURES / "version.handmade.txt")!r}).read())
    sys.exit(0)
lemma = next(a.split("=", 1)[1] for a in args if a.startswith("--prove="))
flags = [a for a in args if a.startswith("-D=")]
q = "exists-trace" if lemma.startswith(("exec_", "attack_")) else "all-traces"
status = "verified (4 steps)"
if lemma == "public_code_binds_account_key" and flags:
    status = "falsified - found trace (8 steps)"
print("summary of summaries:")
print()
print("analyzed: public_code.spthy")
print()
print("  processing time: 0.05s")
print()
print(f"  {{lemma}} ({{q}}): {{status}}")
print()
print("=" * 78)
"""


@pytest.mark.req("FORMAL-006", "FORMAL-009")
def test_prove_with_stand_in_prover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", f"{fake_prover(tmp_path, ANSWER)}{os.pathsep}/usr/bin:/bin")
    reports = tmp_path / "reports"
    code = prove_cli.main(["prove", "--model", "public_code", "--report-dir", str(reports)])
    out, err = capsys.readouterr()
    assert code == prove_cli.EXIT_OK, out + err
    data = json.loads((reports / "prove-report.json").read_text())
    assert data["ok"] is True
    assert data["tamarin"] == "1.10.0"
    assert data["maude"] == "3.4"
    lemmas = {(tuple(r["flags"]), r["lemma"]): r for r in data["results"]}
    assert len(lemmas) == 5
    weak = lemmas[(("WEAK_PUBLIC_CODE",), "public_code_binds_account_key")]
    assert (weak["outcome"], weak["steps"]) == ("falsified", 8)
    assert "-D=WEAK_PUBLIC_CODE" in weak["command"]
    assert "--prove=public_code_binds_account_key" in weak["command"]
    md = (reports / "prove-report.md").read_text()
    assert "5 of 5 lemmas as pinned" in md


@pytest.mark.req("FORMAL-006", "FORMAL-009")
def test_prove_fails_on_unexpected_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = ANSWER.replace('status = "falsified - found trace (8 steps)"', "pass")
    monkeypatch.setenv("PATH", f"{fake_prover(tmp_path, body)}{os.pathsep}/usr/bin:/bin")
    code = prove_cli.main(["prove", "--model", "public_code", "--report-dir", str(tmp_path / "r")])
    out, _ = capsys.readouterr()
    assert code == prove_cli.EXIT_FAILED
    assert "expected falsified, got verified" in out


def test_runner_timeout_kills_the_run(tmp_path: Path) -> None:
    bindir = fake_prover(tmp_path, "time.sleep(30)")
    pinset = pins.load(PINS)
    pin = next(p for p in pinset.pins if p.model == "public_code")
    results = runner.prove(pinset, [pin], prover=str(bindir / "tamarin-prover"), timeout=0.5)
    (result,) = results
    assert result.timed_out
    assert result.outcome == "timeout"
    assert not result.ok
    assert result.seconds < 10


@pytest.mark.req("FORMAL-009")
def test_missing_prover_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code = prove_cli.main(["prove", "--report-dir", str(tmp_path / "r")])
    _, err = capsys.readouterr()
    assert code == prove_cli.EXIT_NO_PROVER
    assert "tamarin-prover is not on PATH" in err
    assert prove_cli.main(["prove", "--lint-only"]) == prove_cli.EXIT_OK


def test_lemma_selection_adds_helpers() -> None:
    pinset = pins.load(PINS)
    args = prove_cli.argparse.Namespace(
        model=["directory"], lemma=["no_equivocation_with_auditor"], flags=""
    )
    chosen = [p.lemma for p in prove_cli._select(pinset, args)]
    assert chosen == ["auditor_signs_once_per_epoch", "no_equivocation_with_auditor"]


@pytest.mark.req("FORMAL-003")
def test_update_pins_records_only_observed_results(tmp_path: Path) -> None:
    loaded = pins.load(PINS)
    pinset = replace(loaded, pins=tuple(replace(p, observed=None) for p in loaded.pins))
    pin = pinset.pins[0]
    summary = output.parse_summary(
        "summary of summaries:\n\nanalyzed: x\n\n"
        f"  {pin.lemma} ({pin.quantifier}): verified (3 steps)\n"
    )
    seen = runner.judge(pin, summary, 0.5, timed_out=False)
    lost = runner.judge(pinset.pins[1], None, 40.0, timed_out=True)
    versions = output.ToolVersions("1.10.0", "3.4", None)
    updated = prove_cli._record(pinset, [seen, lost], versions)
    assert updated.pins[0].observed is not None
    assert updated.pins[0].observed.status == "verified"
    assert updated.pins[1].observed == pinset.pins[1].observed
    text = pins.dump(updated)
    again = pins.load(_write(tmp_path / "expected.toml", text))
    assert again.pins[0].observed == updated.pins[0].observed
    table = report.results_table(again)
    assert "tamarin-prover 1.10.0, Maude 3.4" in table
    assert "not yet run" in table


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---- real outputs of tamarin-prover 1.10.0 (fixtures/*.recorded.txt) -----------------


@pytest.mark.req("FORMAL-006")
@pytest.mark.parametrize(
    ("name", "lemma", "status", "steps", "expected"),
    [
        ("public-code-binds", "public_code_binds_account_key", Status.VERIFIED, 3, "verified"),
        (
            "public-code-weak",
            "public_code_binds_account_key",
            Status.FALSIFIED_TRACE,
            9,
            "falsified",
        ),
    ],
)
def test_recorded_outputs(name: str, lemma: str, status: Status, steps: int, expected: str) -> None:
    summary = output.parse_summary(fixture(f"{name}.recorded.txt"))
    assert summary is not None
    assert summary.path == "public_code.spthy"
    assert summary.wellformedness_failures == 0
    line = summary.result(lemma)
    assert line is not None
    assert (line.quantifier, line.status, line.steps) == ("all-traces", status, steps)
    others = [r for r in summary.lemmas if r.name != lemma]
    assert others
    assert all(r.status is Status.INCOMPLETE and r.steps == 1 for r in others)
    assert runner.judge(pin_of(lemma, expected=expected), summary, 1.0, timed_out=False).ok


def test_recorded_wellformedness_warning_fails_the_lemma() -> None:
    summary = output.parse_summary(fixture("in-person-no-commit-derivcheck.recorded.txt"))
    assert summary is not None
    assert summary.wellformedness_failures == 1
    line = summary.result("commit_hides_initiator_random")
    assert line is not None
    assert line.status is Status.FALSIFIED_TRACE
    pin = replace(pin_of("commit_hides_initiator_random", expected="falsified"), model="x")
    result = runner.judge(pin, summary, 1.0, timed_out=False)
    assert not result.ok
    assert "wellformedness" in result.reason


def test_recorded_version() -> None:
    versions = output.parse_versions(fixture("version.recorded.txt"))
    assert (versions.tamarin, versions.maude) == ("1.10.0", "3.4")
    assert versions.git_revision is not None
    assert len(versions.git_revision) == 40
