"""The CKV-layer vector kinds: device records, account states, handle bindings, enrollment
and the alert sessions in which the harness plays the directory.

The committed vectors are judged in process (fast) and through the reference
adapter as a subprocess; each must-reject family is shown to catch its bug by
disabling the check it targets (in process), and the deliberately broken adapter
that ignores the opt-in flag is failed by the suite.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ckv.account
from ckv.account import decode_account_state, validate_account_state
from ckv.conformance import kinds_ckv
from ckv.conformance.harness import run
from ckv.conformance.kinds_ckv import AlertSession
from ckv.conformance.vectors import kinds, load_vector_files
from ckv.errors import CKVError, UsageError
from ckv.identity import account_label
from ckv.wire.messages import AlertCode, CipherSuite

JSON = Any
CKV_KINDS = (
    "ckv.device-record.verify",
    "ckv.account-state.validate",
    "ckv.handle-binding.validate",
    "ckv.enrollment",
    "ckv.alert.decide",
)


def _docs(vectors_dir: Path, kind: str) -> list[JSON]:
    return [doc for _, doc in load_vector_files(vectors_dir) if doc["kind"] == kind]


def _cases(vectors_dir: Path, kind: str) -> Iterator[JSON]:
    for doc in _docs(vectors_dir, kind):
        yield from doc["tests"]


def _outcome(fn: Callable[[], JSON]) -> tuple[str, JSON]:
    try:
        return "valid", fn()
    except CKVError as exc:
        return "invalid", exc


def failing(vectors_dir: Path, kind: str) -> set[str]:
    """The IDs of the cases of ``kind`` the reference handlers fail, judged in process."""
    k = kinds()[kind]
    bad: set[str] = set()
    for test in _cases(vectors_dir, kind):
        if k.session is not None:
            session = k.session(test["setup"])
            for step in test["steps"]:
                result, out = _outcome(functools.partial(session.step, step["input"]))
                want = step["expected"]
                if result != want["result"] or (
                    result == "valid" and out != want.get("output", out)
                ):
                    bad.add(test["id"])
                    break
            continue
        assert k.handler is not None
        result, out = _outcome(functools.partial(k.handler, test["input"]))
        want = test["expected"]
        if result != want["result"] or (result == "valid" and out != want.get("output", out)):
            bad.add(test["id"])
    return bad


def flagged(vectors_dir: Path, kind: str, *flags: str) -> set[str]:
    """The IDs of the cases of ``kind`` that carry one of ``flags``."""
    return {t["id"] for t in _cases(vectors_dir, kind) if set(flags) & set(t["flags"])}


# -- the vectors as committed -------------------------------------------------------------------


@pytest.mark.req("CONF-001", "CONF-005", "ACCT-001", "ENROLL-005", "VERIFY-007")
def test_every_ckv_kind_has_both_suites_and_must_reject_cases(vectors_dir: Path) -> None:
    for kind in CKV_KINDS:
        docs = _docs(vectors_dir, kind)
        suites = {doc["parameters"]["cipher_suite"] for doc in docs}
        assert suites == {s.name for s in kinds_ckv._SUITES}, kind
        flagged_cases = [t for doc in docs for t in doc["tests"] if t["flags"]]
        assert len(flagged_cases) >= 4, kind


@pytest.mark.req("CONF-013", "CONF-016", "ACCT-007", "IDENT-008", "ENROLL-005", "SELF-004")
def test_reference_handlers_pass_every_ckv_case_in_process(vectors_dir: Path) -> None:
    for kind in CKV_KINDS:
        assert failing(vectors_dir, kind) == set(), kind


@pytest.mark.req("ACCT-007", "ACCT-008", "ACCT-012", "ACCT-015", "ENROLL-006", "IDENT-010")
def test_each_rejection_names_the_requirement_its_case_cites(vectors_dir: Path) -> None:
    """The requirement an adapter reports with a rejection is one the case is about: an
    injected device is refused for ACCT-007, not for the outer signature."""
    for kind in CKV_KINDS[:4]:
        handler = kinds()[kind].handler
        assert handler is not None
        for test in _cases(vectors_dir, kind):
            if test["expected"]["result"] != "invalid":
                continue
            result, exc = _outcome(functools.partial(handler, test["input"]))
            assert result == "invalid", test["id"]
            assert exc.requirement in test["requirements"], (test["id"], exc.requirement)


@pytest.mark.req("ALERT-001", "VERIFY-007", "VERIFY-008", "VERIFY-009", "VERIFY-010")
@pytest.mark.req("SELF-004", "SELF-005", "VERIFY-005", "VERIFY-006", "VERIFY-011", "FORK-001")
def test_alert_sessions_cover_the_registry(vectors_dir: Path) -> None:
    """Every alert a contact's or the owner's check raises is expected somewhere; honest
    sessions expect none."""
    raised: set[str] = set()
    for test in _cases(vectors_dir, "ckv.alert.decide"):
        codes = [s["expected"]["output"]["alert"] for s in test["steps"]]
        raised.update(c for c in codes if c is not None)
        if "-honest-" in test["id"]:
            assert codes == [None] * len(codes)
            assert test["expected"]["result"] == "valid"
        else:
            assert test["expected"]["result"] == "invalid"
            assert test["flags"]
    assert raised == {c.name for c in AlertCode} - {"reserved"}


@pytest.mark.req("CONF-018", "ENROLL-002", "ENROLL-004", "ENROLL-007", "ENROLL-008", "ACCT-012")
def test_published_enrollment_states_validate_as_the_next_state(vectors_dir: Path) -> None:
    """Each state an enrollment case publishes is what a contact accepts after the input."""
    seen = 0
    for test in _cases(vectors_dir, "ckv.enrollment"):
        if test["expected"]["result"] == "invalid":
            continue  # malformed input: nothing signed
        out = test["expected"]["output"]
        if out["decision"] != "published":
            assert out["devices"]
            continue
        cs = CipherSuite[test["input"]["cipher_suite"]]
        before_value = bytes.fromhex(test["input"]["state"])
        before = decode_account_state(before_value).state
        if "value" not in out:
            assert cs is CipherSuite.KT_128_SHA256_P256  # ECDSA: the summary only
            continue
        value = bytes.fromhex(out["value"])
        after = validate_account_state(
            account_label(before.account_key.account_id), value, suite=cs, previous=before
        )
        assert after.epoch == before.epoch + 1
        assert kinds_ckv.state_summary(after) == out["state"]
        seen += 1
    assert seen >= 5


# -- each check is caught when it is disabled ----------------------------------------------------


@pytest.mark.req("ACCT-004", "ACCT-007", "ACCT-008", "IDENT-008")
def test_disabled_signature_checks_are_caught(
    vectors_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ckv.account, "_verify", lambda *_a, **_k: None)
    signature_flags = ("ModifiedSignature", "WrongKey", "WrongAccount", "WrongContext")
    for kind, flags in (
        ("ckv.device-record.verify", (*signature_flags, "ModifiedRecord")),
        ("ckv.account-state.validate", (*signature_flags, "InjectedDevice")),
        ("ckv.handle-binding.validate", signature_flags),
        ("ckv.alert.decide", ("InjectedDevice", "ForgedState")),
    ):
        # An owner still finds the device its journal does not know (SELF-004).
        expected = {i for i in flagged(vectors_dir, kind, *flags) if "/owner." not in i}
        assert expected
        assert expected <= failing(vectors_dir, kind), kind


@pytest.mark.req("ACCT-012", "ACCT-014", "ACCT-015")
def test_disabled_history_checks_are_caught(
    vectors_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ckv.account, "_check_history", lambda *_a, **_k: None)
    kind = "ckv.account-state.validate"
    expected = flagged(vectors_dir, kind, "Rollback", "KeyReplaced", "AccountChanged")
    assert expected
    assert failing(vectors_dir, kind) == expected
    alerts = flagged(vectors_dir, "ckv.alert.decide", "Rollback")
    assert alerts
    assert alerts <= failing(vectors_dir, "ckv.alert.decide")


@pytest.mark.req("VERIFY-007", "VERIFY-009", "VERIFY-010")
def test_an_implementation_that_raises_one_alert_for_everything_is_caught(
    vectors_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kinds_ckv, "alert_code_for", lambda _e: AlertCode.proof_invalid)
    bad = failing(vectors_dir, "ckv.alert.decide")
    assert bad <= flagged(
        vectors_dir,
        "ckv.alert.decide",
        "InjectedDevice",
        "Rollback",
        "KeyReplaced",
        "ForgedState",
        "HandleMismatch",
        "StaleHead",
        "LegacyWithOptIn",
    )
    for suite in ("ed25519", "p256"):
        for name in (
            "injected-device",
            "rollback",
            "key-replaced",
            "dropped-device",
            "handle-mismatch",
            "stale",
            "legacy-opt-in",
        ):
            assert f"ckv.alert.decide/contact.{suite}-{name}-1" in bad


# -- the session's protocol rules ----------------------------------------------------------------


def _first_contact_case(vectors_dir: Path) -> JSON:
    return next(t for t in _cases(vectors_dir, "ckv.alert.decide") if "contact." in t["id"])


@pytest.mark.req("CONF-014", "CONF-017", "VERIFY-002")
def test_a_session_refuses_a_script_that_does_not_fit_its_state(vectors_dir: Path) -> None:
    test = _first_contact_case(vectors_dir)
    session = AlertSession.open(test["setup"])
    first = test["steps"][0]["input"]
    session.step(first)
    with pytest.raises(UsageError, match="from tree size"):
        session.step(first)  # the same request again advertises the old size
    with pytest.raises(UsageError, match="operation"):
        session.step(first | {"operation": "self-check"})
    with pytest.raises(UsageError, match="role"):
        AlertSession.open(test["setup"] | {"role": "owner"})


@pytest.mark.req("CONF-016", "VERIFY-008", "VERIFY-002")
def test_no_answer_is_unreachable_and_keeps_the_state(vectors_dir: Path) -> None:
    test = _first_contact_case(vectors_dir)
    session = AlertSession.open(test["setup"])
    step = test["steps"][0]["input"]
    silent = step | {"handle": step["handle"] | {"response": None}}
    assert session.step(silent) == {
        "alert": "directory_unreachable",
        "device_id": "",
        "accepted_epoch": None,
    }
    assert session.step(step) == test["steps"][0]["expected"]["output"]


# -- through the harness, as subprocesses ---------------------------------------------------------


@pytest.mark.req("CONF-013", "CONF-014")
def test_reference_adapter_passes_the_ckv_kinds(
    vectors_dir: Path, reference_cmd: list[str]
) -> None:
    report = run(
        reference_cmd, vectors_dir, select=[f"{k}/*" for k in CKV_KINDS], strict_errors=True
    )
    assert [(r.id, r.detail) for r in report.results if r.outcome != "pass"] == []
    assert len(report.results) == sum(len(list(_cases(vectors_dir, k))) for k in CKV_KINDS)


@pytest.mark.req("CONF-010", "ENROLL-005", "ENROLL-006", "VERIFY-006")
def test_suite_fails_an_adapter_that_ignores_the_opt_in_flag(
    vectors_dir: Path, broken_cmd: Callable[[str], list[str]]
) -> None:
    report = run(broken_cmd("ignore_opt_in"), vectors_dir, select=[f"{k}/*" for k in CKV_KINDS])
    assert not report.ok
    failed = {r.id for r in report.results if r.outcome == "fail"}
    opt_in = set()
    for kind in CKV_KINDS:
        opt_in |= flagged(vectors_dir, kind, "OptOut", "LegacyWithOptIn", "LegacyDevices")
    # Exactly the opt-in cases fail: everything else the broken adapter still does right.
    assert failed == opt_in
    assert any(i.startswith("ckv.alert.decide/contact.") and "ckv-off" in i for i in failed)
    assert any(i.startswith("ckv.enrollment/") for i in failed)
    assert any(i.startswith("ckv.account-state.validate/") for i in failed)


def test_alert_vectors_are_json_lines_safe(vectors_dir: Path) -> None:
    """Every step input and output survives one JSON line (the protocol's framing)."""
    for test in _cases(vectors_dir, "ckv.alert.decide"):
        for step in test["steps"]:
            line = json.dumps(step["input"])
            assert "\n" not in line
            assert json.loads(line) == step["input"]
