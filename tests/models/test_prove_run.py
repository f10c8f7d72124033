"""Real tamarin-prover runs (skipped when the prover is not on PATH).

CI time is limited, so this runs a quick subset: the executability lemmas and the
main security lemma of the public-code model, with and without its weakening flag.
`ckv prove` runs everything (about the sum of the budgets in expected.toml at most).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ckv.prove import pins, runner

MODELS = Path(__file__).resolve().parents[2] / "models" / "tamarin"

pytestmark = pytest.mark.skipif(
    shutil.which(runner.PROVER) is None,
    reason="tamarin-prover is not on PATH (build it locally to run the models; "
    "the linter and the output-parser tests run without it)",
)

QUICK = {
    ((), "exec_code_matches_directory_key"),
    ((), "public_code_binds_account_key"),
    (("WEAK_PUBLIC_CODE",), "public_code_binds_account_key"),
    (("WEAK_PUBLIC_CODE",), "attack_short_public_code"),
}


@pytest.mark.slow
@pytest.mark.req("FORMAL-005", "FORMAL-006", "PVC-012")
def test_public_code_model_as_pinned() -> None:
    pinset = pins.load(MODELS / "expected.toml")
    chosen = [p for p in pinset.pins if p.model == "public_code" and (p.flags, p.lemma) in QUICK]
    assert len(chosen) == len(QUICK)
    results = runner.prove(pinset, chosen, prover=runner.find_prover())
    failures = [f"{r.pin.flags} {r.pin.lemma}: {r.reason}" for r in results if not r.ok]
    assert not failures, failures
    versions = runner.versions(runner.find_prover())
    assert versions.tamarin is not None
