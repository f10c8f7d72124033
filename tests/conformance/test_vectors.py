"""The committed vectors: schemas, IDs, counts, requirement IDs, reproducibility."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from ckv.conformance.check import check, write_all
from ckv.conformance.schemas import render_schemas
from ckv.conformance.vectors import (
    Case,
    Note,
    VectorFile,
    VectorKind,
    default_schemas_dir,
    kinds,
    load_vector_files,
    render_files,
)
from ckv.errors import UsageError


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One generation into a fresh directory: (its root, the vectors tree it wrote)."""
    root = tmp_path_factory.mktemp("generated")
    files, _ = write_all(root / "vectors", root / "schemas")
    return root, files


def _read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.json")}


@pytest.mark.req("CONF-006", "CONF-007", "CONF-005", "CONF-002")
def test_committed_vectors_pass_the_check(
    vectors_dir: Path, generated: tuple[Path, dict[str, str]]
) -> None:
    """`ckv vectors check` finds nothing: valid files, known IDs, byte-identical regeneration."""
    assert check(vectors_dir, default_schemas_dir(), expected=generated[1]) == []


@pytest.mark.req("CONF-007")
def test_generation_is_deterministic(
    tmp_path: Path, generated: tuple[Path, dict[str, str]]
) -> None:
    """A generation in another process, with other hash seeds, is byte-identical."""
    code = (
        "import sys; from pathlib import Path; from ckv.conformance.check import write_all; "
        "write_all(Path(sys.argv[1]) / 'vectors', Path(sys.argv[1]) / 'schemas')"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env)
    first = _read_tree(generated[0])
    assert _read_tree(tmp_path) == first
    assert len(first) > 50


@pytest.mark.req("CONF-006")
def test_every_schema_is_valid_2020_12() -> None:
    for name, text in render_schemas().items():
        assert name.endswith(".schema.json")
        jsonschema.Draft202012Validator.check_schema(json.loads(text))


@pytest.mark.req("CONF-001", "CONF-003", "CONF-008")
def test_one_kind_per_file_and_every_kind_has_files(vectors_dir: Path) -> None:
    seen = set()
    for rel, doc in load_vector_files(vectors_dir):
        seen.add(doc["kind"])
        assert all(t["id"].startswith(doc["kind"] + "/") for t in doc["tests"]), rel
        assert doc["suite_version"].count(".") == 2
    assert seen == set(kinds())


@pytest.mark.req("CONF-004", "CONF-005")
def test_every_kind_has_must_reject_cases(vectors_dir: Path) -> None:
    """Each kind has valid and invalid cases; every invalid one names its bug class."""
    results: dict[str, set[str]] = {}
    for _, doc in load_vector_files(vectors_dir):
        for t in doc["tests"]:
            results.setdefault(doc["kind"], set()).add(t["expected"]["result"])
            if t["expected"]["result"] == "invalid":
                assert t["flags"]
                assert all(f in doc["notes"] for f in t["flags"])
    for kind, seen in results.items():
        assert "valid" in seen, kind
        assert "invalid" in seen, kind


@pytest.mark.req("CONF-006", "CONF-005")
def test_check_reports_broken_files(
    tmp_path: Path, vectors_dir: Path, generated: tuple[Path, dict[str, str]]
) -> None:
    """A schema violation, a wrong count, an unknown requirement and a changed file are found."""
    vdir = tmp_path / "vectors"
    shutil.copytree(vectors_dir, vdir)
    target = vdir / "kt" / "vrf.ed25519.json"
    doc = json.loads(target.read_text(encoding="utf-8"))
    doc["tests"][0]["expected"]["result"] = "maybe"
    doc["tests"][1]["requirements"] = ["NOPE-001"]
    doc["tests"][2]["flags"] = ["Undefined"]
    doc["count"] += 1
    target.write_text(json.dumps(doc), encoding="utf-8")
    problems = check(vdir, default_schemas_dir(), regenerate=False)
    text = "\n".join(problems)
    assert "schema" in text
    assert "NOPE-001" in text
    assert "Undefined" in text
    assert "count" in text
    assert "MANIFEST" in text
    (vdir / "kt" / "stale.json").write_text(target.read_text(encoding="utf-8"), encoding="utf-8")
    problems = check(vdir, default_schemas_dir(), expected=generated[1])
    assert any("stale" in p for p in problems)
    assert any("regeneration differs" in p for p in problems)


def _kind(cases: list[Case]) -> VectorKind:
    def gen() -> list[VectorFile]:
        return [VectorFile("x/y.json", "test.kind", "y", "d", {}, cases)]

    return VectorKind(
        name="test.kind",
        description="test",
        generate=gen,
        input_schema={},
        output_schema={},
        notes={"Bad": Note("BASIC", "bad")},
        handler=lambda _: None,
    )


@pytest.mark.req("CONF-005", "CONF-006")
@pytest.mark.parametrize(
    ("case", "message"),
    [
        (Case("a", "d", ("NOPE-001",), "valid", input={}), "unknown requirement"),
        (Case("a", "d", ("WIRE-004",), "invalid", input={}), "names no bug class"),
        (Case("a", "d", ("WIRE-004",), "invalid", input={}, flags=("Other",)), "without a note"),
        (Case("a", "d", ("WIRE-004",), "maybe", input={}), "result"),
        (Case("A B", "d", ("WIRE-004",), "valid", input={}), "case name"),
    ],
)
def test_generator_refuses_bad_cases(
    monkeypatch: pytest.MonkeyPatch, case: Case, message: str
) -> None:
    from ckv.conformance import vectors

    monkeypatch.setattr(vectors, "_KINDS", {"test.kind": _kind([case])})
    monkeypatch.setattr(vectors, "KIND_MODULES", ())
    with pytest.raises(UsageError, match=message):
        render_files()


def test_ids_are_numbered_per_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from ckv.conformance import vectors

    cases = [Case("a", "d", ("WIRE-004",), "valid", input={}) for _ in range(3)]
    monkeypatch.setattr(vectors, "_KINDS", {"test.kind": _kind(cases)})
    monkeypatch.setattr(vectors, "KIND_MODULES", ())
    doc = json.loads(render_files()["x/y.json"])
    assert [t["id"] for t in doc["tests"]] == [
        "test.kind/y-a-1",
        "test.kind/y-a-2",
        "test.kind/y-a-3",
    ]
