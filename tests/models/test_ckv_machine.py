"""Run the CKV state machine of models/statemachines (spec: "Automatic verification and alerts")."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

from statemachines.ckv_machine import CKVMachine

SETTINGS = settings(
    max_examples=15,
    stateful_step_count=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.req("VERIFY-011", "VERIFY-002", "SELF-004", "SELF-005", "VERIFY-007", "VERIFY-008")
@pytest.mark.req("VERIFY-005", "ACCT-007", "ACCT-012", "ACCT-015", "VERIFY-006")
def test_ckv_state_machine() -> None:
    """Honest runs stay silent; each misbehaviour raises the alerts the spec assigns."""
    run_state_machine_as_test(CKVMachine, settings=SETTINGS)
