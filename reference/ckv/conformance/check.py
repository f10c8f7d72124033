"""``ckv vectors check``: the committed vectors are valid, complete and reproducible.

Checks, each reported as one problem line (CONF-007):

* every schema in ``conformance/schemas`` is a valid draft 2020-12 schema and is
  exactly what the registry generates; every kind has one;
* every vector file validates against the schema of its kind, its ``count``
  equals its number of cases, every flag it uses has a note, every requirement
  ID it cites is defined by the specification, and case IDs are unique across
  the suite;
* ``MANIFEST.json`` lists every file with its count and SHA-256;
* regenerating gives byte-identical files (and no file more or less).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ckv.conformance.kinds_wire import definitions_json
from ckv.conformance.schemas import render_schemas
from ckv.conformance.vectors import kinds, render_files, requirement_ids
from ckv.errors import UsageError

if TYPE_CHECKING:
    import jsonschema.protocols

__all__ = ["DEFINITIONS", "check", "expected_tree", "write_all"]

JSON = Any
#: The wire definitions in JSON, written beside the vector files.
DEFINITIONS = "WIRE-DEFINITIONS.json"


def expected_tree() -> dict[str, str]:
    """Every file ``ckv vectors generate`` writes into the vectors directory."""
    files = render_files()
    files[DEFINITIONS] = definitions_json()
    return files


def write_all(vectors_dir: Path, schemas_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Write the vectors (removing stale ones) and the schemas; return what was written."""
    files = expected_tree()
    schemas = render_schemas()
    for out_dir, tree in ((vectors_dir, files), (schemas_dir, schemas)):
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.rglob("*.json"):
            if old.relative_to(out_dir).as_posix() not in tree:
                old.unlink()
        for rel, text in tree.items():
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
    return files, schemas


def _tree(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*.json"))
    }


def check(
    vectors_dir: Path,
    schemas_dir: Path,
    *,
    regenerate: bool = True,
    expected: Mapping[str, str] | None = None,
) -> list[str]:
    """Every problem found (an empty list means the suite is in order).

    ``expected`` is a tree :func:`expected_tree` already rendered in this process,
    used instead of rendering it again for the regeneration check.
    """
    try:
        import jsonschema  # noqa: PLC0415 - only `ckv vectors check` needs it
    except ImportError:  # pragma: no cover - a dependency of the package
        msg = "`ckv vectors check` needs the jsonschema package (pip install jsonschema)"
        raise UsageError(msg) from None
    problems: list[str] = []
    have = _tree(vectors_dir)
    schemas_have = _tree(schemas_dir)
    validators: dict[str, jsonschema.protocols.Validator] = {}
    for name in kinds():
        fname = f"{name}.schema.json"
        if fname not in schemas_have:
            problems.append(f"schemas: no schema for kind {name} ({fname})")
            continue
        schema = json.loads(schemas_have[fname])
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            problems.append(f"schemas/{fname}: not a valid 2020-12 schema: {exc.message}")
            continue
        validators[name] = jsonschema.Draft202012Validator(schema)
    known = requirement_ids()
    seen: dict[str, str] = {}
    manifest = json.loads(have.get("MANIFEST.json", "{}") or "{}")
    listed = manifest.get("files", {})
    for rel, text in have.items():
        if rel in {"MANIFEST.json", DEFINITIONS}:
            continue
        doc = json.loads(text)
        kind = doc.get("kind")
        validator = validators.get(str(kind))
        if validator is None:
            problems.append(f"{rel}: unknown kind {kind!r}")
            continue
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.path))[:5]:
            where = "/".join(str(p) for p in error.path)
            problems.append(f"{rel}: schema: at {where or '(top)'}: {error.message[:200]}")
        tests = doc.get("tests", [])
        if doc.get("count") != len(tests):
            problems.append(f"{rel}: count {doc.get('count')} but {len(tests)} cases")
        for test in tests:
            cid = test.get("id", "?")
            if cid in seen:
                problems.append(f"{rel}: case ID {cid} also in {seen[cid]}")
            seen[cid] = rel
            notes = doc.get("notes", {})
            problems.extend(
                f"{rel}: {cid}: flag {flag} has no note"
                for flag in test.get("flags", [])
                if flag not in notes
            )
            problems.extend(
                f"{rel}: {cid}: requirement {rid} is not in the spec"
                for rid in test.get("requirements", [])
                if rid not in known
            )
            if test.get("expected", {}).get("result") == "invalid" and not test.get("flags"):
                problems.append(f"{rel}: {cid}: a must-reject case names no bug class")
        entry = listed.get(rel)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if entry is None:
            problems.append(f"{rel}: not listed in MANIFEST.json")
        elif entry.get("sha256") != digest or entry.get("count") != len(tests):
            problems.append(f"{rel}: MANIFEST.json lists another count or SHA-256")
    problems.extend(
        f"MANIFEST.json lists {rel}, which does not exist" for rel in listed if rel not in have
    )
    if regenerate:
        want = dict(expected) if expected is not None else expected_tree()
        for rel in sorted(set(want) | set(have)):
            if rel not in have:
                problems.append(f"{rel}: missing (regeneration writes it)")
            elif rel not in want:
                problems.append(f"{rel}: not written by regeneration (stale file)")
            elif want[rel] != have[rel]:
                problems.append(f"{rel}: regeneration differs (run `ckv vectors generate`)")
        want_schemas = render_schemas()
        problems.extend(
            f"schemas/{rel}: differs from what `ckv vectors generate` writes"
            for rel in sorted(set(want_schemas) | set(schemas_have))
            if want_schemas.get(rel) != schemas_have.get(rel)
        )
    return problems
