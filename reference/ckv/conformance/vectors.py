"""The vector model, the registry of vector kinds, and writing and checking vector files.

A *vector kind* (:class:`VectorKind`) is one operation an implementation performs,
for example ``wire.decode`` or ``kt.vrf.verify``. It brings three things: a
generator that builds its vector files from the reference implementation, the
JSON Schemas of a case's ``input`` and ``output``, and the reference adapter's
handler that performs the operation. Kinds register themselves with
:func:`register`; the modules listed in :data:`KIND_MODULES` are imported to fill
the registry, and a new family of kinds is added by writing a module and listing
it there.

Adding a kind (for example device-record validation)::

    def generate() -> list[VectorFile]:
        vf = VectorFile(path="ckv/device-record.ed25519.json", kind="ckv.device-record",
                        short="ed25519", description="...", parameters={...})
        vf.add(case_from_reference(handle, name="valid", description="...",
                                   requirements=["ACCT-001"], result="valid", input={...}))
        return [vf]

    def handle(request: JSON) -> JSON:   # the reference adapter's side
        ...                              # return the output, or raise a CKVError to reject

    register(VectorKind(name="ckv.device-record", description="...", generate=generate,
                        input_schema={...}, output_schema={...}, notes=NOTES,
                        handler=handle))

then list the module in :data:`KIND_MODULES` and run ``ckv vectors generate``. A
stateful kind gives ``session=`` (a factory taking the case's ``setup`` and
returning an object with ``step(input)``) and ``setup_schema=`` instead of
``handler=``. :func:`case_from_reference` fills in the output or
error class from the reference handler and refuses a must-reject case the
reference accepts.

Generation is deterministic: every random value comes from a seeded generator,
files hold no time of the run, JSON is written with sorted keys, and case IDs
(``<kind>/<file-short>-<case-name>-<n>``) depend only on the order the generator
emits cases in. Normative description: spec/conformance.md (``CONF-nnn``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ckv import __version__
from ckv.conformance._util import error_of
from ckv.errors import CKVError, UsageError

__all__ = [
    "KIND_MODULES",
    "REPO",
    "RESULTS",
    "SUITE_VERSION",
    "Case",
    "Note",
    "Session",
    "Step",
    "VectorFile",
    "VectorKind",
    "canonical_json",
    "case_from_reference",
    "default_schemas_dir",
    "default_vectors_dir",
    "kinds",
    "load_vector_files",
    "register",
    "render_files",
    "requirement_ids",
    "with_requirement",
]

JSON = Any

#: Version of the vector format and suite (semver; CONF-003). Bump the minor version
#: when cases are added, the major version when the meaning of a field changes.
SUITE_VERSION = "0.1.0"
#: The three results a case may expect (CONF-004).
RESULTS = ("valid", "invalid", "acceptable")
#: The repository checkout this module lives in (reference/ckv/conformance/ -> top).
REPO = Path(__file__).resolve().parents[3]

#: Modules whose import registers vector kinds, one per family.
KIND_MODULES = (
    "ckv.conformance.kinds_wire",
    "ckv.conformance.kinds_crypto",
    "ckv.conformance.kinds_trees",
    "ckv.conformance.kinds_ops",
    "ckv.conformance.kinds_audit",
    "ckv.conformance.kinds_codes",
    "ckv.conformance.kinds_ckv",
)

_ID_PART = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_REQ_ROLE = re.compile(r"\{req\}`([A-Z][A-Z0-9]*-[0-9A-Z]+)`")


def default_vectors_dir() -> Path:
    """``conformance/vectors`` of the checkout."""
    return REPO / "conformance" / "vectors"


def default_schemas_dir() -> Path:
    """``conformance/schemas`` of the checkout."""
    return REPO / "conformance" / "schemas"


@functools.cache
def requirement_ids(spec_dir: Path | None = None) -> frozenset[str]:
    """Every requirement ID the specification defines (``{req}`ID``` in spec/**/*.md)."""
    root = spec_dir or REPO / "spec"
    found: set[str] = set()
    for path in sorted(root.rglob("*.md")):
        found.update(_REQ_ROLE.findall(path.read_text(encoding="utf-8")))
    return frozenset(found)


# -- the model ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """What a flag means: the bug class a must-reject case is about (CONF-005)."""

    bug_type: str
    description: str

    def to_json(self) -> dict[str, str]:
        """The ``notes`` entry of a vector file."""
        return {"bug_type": self.bug_type, "description": self.description}


@dataclass(slots=True)
class Step:
    """One request of a session case, with the result it must give."""

    input: JSON
    result: str
    output: JSON = None
    error: str | None = None
    description: str = ""

    def to_json(self) -> dict[str, JSON]:
        """The JSON form of the step."""
        return {
            "description": self.description,
            "input": self.input,
            "expected": _expected(self.result, self.output, self.error),
        }


@dataclass(slots=True)
class Case:
    """One test case: a stateless request, or a session of steps (CONF-002)."""

    name: str
    description: str
    requirements: tuple[str, ...]
    result: str
    input: JSON = None
    output: JSON = None
    error: str | None = None
    flags: tuple[str, ...] = ()
    setup: JSON = None
    steps: list[Step] | None = None


def _expected(result: str, output: JSON, error: str | None) -> dict[str, JSON]:
    out: dict[str, JSON] = {"result": result}
    if output is not None:
        out["output"] = output
    if error is not None:
        out["error"] = error
    return out


@dataclass(slots=True)
class VectorFile:
    """One vector file: one operation and one parameter set (CONF-001)."""

    path: str
    kind: str
    short: str
    description: str
    parameters: dict[str, JSON]
    cases: list[Case] = field(default_factory=list)

    def add(self, case: Case) -> Case:
        """Append a case (in the order that fixes its ID)."""
        self.cases.append(case)
        return case

    def add_reference(  # the fields of case_from_reference, by keyword
        self,
        handler: Callable[[JSON], JSON],
        *,
        name: str,
        description: str,
        requirements: Sequence[str],
        result: str,
        input: JSON,  # noqa: A002 - the vector field's name
        flags: Sequence[str] = (),
    ) -> Case:
        """Append the case :func:`case_from_reference` builds (output from the reference)."""
        return self.add(
            case_from_reference(
                handler,
                name=name,
                description=description,
                requirements=requirements,
                result=result,
                input=input,
                flags=flags,
            )
        )


class Session(Protocol):
    """The reference adapter's state for one session case."""

    def step(self, request: JSON) -> JSON:
        """Perform one step; return the output, or raise a CKVError to reject."""


Handler = Callable[[JSON], JSON]
SessionFactory = Callable[[JSON], Session]


@dataclass(frozen=True, slots=True)
class VectorKind:
    """A registered operation: generator, schemas and reference handler."""

    name: str
    description: str
    generate: Callable[[], list[VectorFile]]
    input_schema: JSON
    output_schema: JSON
    notes: Mapping[str, Note]
    handler: Handler | None = None
    session: SessionFactory | None = None
    setup_schema: JSON = None

    @property
    def stateful(self) -> bool:
        """Whether cases of this kind are sessions of several steps."""
        return self.session is not None


_KINDS: dict[str, VectorKind] = {}


def register(kind: VectorKind) -> VectorKind:
    """Add a kind to the registry (each name once)."""
    if kind.name in _KINDS:
        msg = f"vector kind {kind.name!r} registered twice"
        raise RuntimeError(msg)
    if (kind.handler is None) == (kind.session is None):
        msg = f"vector kind {kind.name!r} needs exactly one of handler and session"
        raise RuntimeError(msg)
    _KINDS[kind.name] = kind
    return kind


def kinds() -> Mapping[str, VectorKind]:
    """Every registered kind, by name (imports :data:`KIND_MODULES` first)."""
    for module in KIND_MODULES:
        importlib.import_module(module)
    return dict(sorted(_KINDS.items()))


def case_from_reference(
    handler: Callable[[JSON], JSON],
    *,
    name: str,
    description: str,
    requirements: Sequence[str],
    result: str,
    input: JSON,  # noqa: A002 - the vector field's name
    flags: Sequence[str] = (),
) -> Case:
    """A case whose output (or error class) is what the reference handler gives.

    Raises RuntimeError when the reference does not give ``result``: a generator
    that builds a must-reject case the reference accepts is a bug in one of them.
    """
    try:
        output = handler(input)
    except CKVError as exc:
        if result not in {"invalid", "acceptable"}:
            msg = f"{name}: the reference rejects a case meant to be {result}: {exc}"
            raise RuntimeError(msg) from exc
        error, requirement = error_of(exc)
        requirements = with_requirement(requirements, requirement)
        return Case(
            name,
            description,
            tuple(requirements),
            result,
            input=input,
            error=error,
            flags=tuple(flags),
        )
    if result == "invalid":
        msg = f"{name}: the reference accepts a must-reject case: {description}"
        raise RuntimeError(msg)
    return Case(
        name,
        description,
        tuple(requirements),
        result,
        input=input,
        output=output if result == "valid" else None,
        flags=tuple(flags),
    )


def with_requirement(requirements: Sequence[str], extra: str | None) -> tuple[str, ...]:
    """``requirements`` plus the one the reference named when it rejected (if defined)."""
    out = list(dict.fromkeys(requirements))
    if extra is not None and extra not in out and extra in requirement_ids():
        out.append(extra)
    return tuple(out)


# -- rendering -----------------------------------------------------------------------------


def canonical_json(obj: JSON) -> str:
    """The one text form of vector files and schemas: sorted keys, one-space indent."""
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _render(vf: VectorFile, kind: VectorKind, known: frozenset[str]) -> tuple[JSON, list[str]]:
    if not _ID_PART.match(vf.short):
        msg = f"{vf.path}: short name {vf.short!r} is not of the form [a-z0-9.-]+"
        raise UsageError(msg)
    counters: dict[str, int] = {}
    tests: list[JSON] = []
    ids: list[str] = []
    used_flags: set[str] = set()
    for case in vf.cases:
        if case.result not in RESULTS:
            msg = f"{vf.path}: case {case.name}: result {case.result!r}"
            raise UsageError(msg)
        if not _ID_PART.match(case.name):
            msg = f"{vf.path}: case name {case.name!r} is not of the form [a-z0-9.-]+"
            raise UsageError(msg)
        unknown = [r for r in case.requirements if r not in known]
        if unknown or not case.requirements:
            msg = f"{vf.path}: case {case.name} cites unknown requirement(s) {unknown or '(none)'}"
            raise UsageError(msg)
        missing = [f for f in case.flags if f not in kind.notes]
        if missing:
            msg = f"{vf.path}: case {case.name}: flags without a note: {missing}"
            raise UsageError(msg)
        if case.result == "invalid" and not case.flags:
            msg = f"{vf.path}: must-reject case {case.name} names no bug class (flags)"
            raise UsageError(msg)
        used_flags.update(case.flags)
        n = counters[case.name] = counters.get(case.name, 0) + 1
        cid = f"{kind.name}/{vf.short}-{case.name}-{n}"
        ids.append(cid)
        test: dict[str, JSON] = {
            "id": cid,
            "description": case.description,
            "requirements": sorted(set(case.requirements)),
            "flags": list(case.flags),
            "expected": _expected(case.result, case.output, case.error),
        }
        if kind.stateful:
            test["setup"] = case.setup
            test["steps"] = [s.to_json() for s in case.steps or []]
        else:
            test["input"] = case.input
        tests.append(test)
    doc = {
        "schema": f"{kind.name}.schema.json",
        "kind": kind.name,
        "suite_version": SUITE_VERSION,
        "generator": {"name": "ckv vectors generate", "version": __version__},
        "description": vf.description,
        "parameters": vf.parameters,
        "notes": {flag: kind.notes[flag].to_json() for flag in sorted(used_flags)},
        "count": len(tests),
        "tests": tests,
    }
    return doc, ids


def render_files(selected: Iterable[str] | None = None) -> dict[str, str]:
    """Every vector file and the manifest, as ``relative path -> text`` (deterministic)."""
    known = requirement_ids()
    registry = kinds()
    names = list(selected) if selected is not None else list(registry)
    out: dict[str, str] = {}
    manifest_files: dict[str, JSON] = {}
    seen_ids: set[str] = set()
    for name in names:
        kind = registry[name]
        for vf in kind.generate():
            if vf.kind != name:
                msg = f"{vf.path}: generated by {name} but of kind {vf.kind}"
                raise UsageError(msg)
            doc, ids = _render(vf, kind, known)
            clash = seen_ids.intersection(ids)
            if clash or len(set(ids)) != len(ids):
                msg = f"{vf.path}: duplicate case IDs {sorted(clash)[:3]}"
                raise UsageError(msg)
            seen_ids.update(ids)
            text = canonical_json(doc)
            if vf.path in out:
                msg = f"two vector files at {vf.path}"
                raise UsageError(msg)
            out[vf.path] = text
            manifest_files[vf.path] = {
                "kind": name,
                "count": len(ids),
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
            }
    manifest = {
        "suite_version": SUITE_VERSION,
        "generator": {"name": "ckv vectors generate", "version": __version__},
        "files": dict(sorted(manifest_files.items())),
        "total": sum(f["count"] for f in manifest_files.values()),
    }
    out["MANIFEST.json"] = canonical_json(manifest)
    return out


def load_vector_files(vectors_dir: Path) -> list[tuple[str, JSON]]:
    """Every vector file of a directory (not the manifest), as (relative path, document)."""
    out = []
    for path in sorted(vectors_dir.rglob("*.json")):
        rel = path.relative_to(vectors_dir).as_posix()
        if rel in {"MANIFEST.json", "WIRE-DEFINITIONS.json"}:
            continue
        out.append((rel, json.loads(path.read_text(encoding="utf-8"))))
    return out
