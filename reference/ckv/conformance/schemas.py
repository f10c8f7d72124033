"""JSON Schemas (draft 2020-12) of the vector files, one per kind (CONF-006).

Each schema is self-contained: the envelope every vector file shares, with the
kind's own ``input``, ``output`` and (for sessions) ``setup`` schemas in place.
They are generated from the registry and written to ``conformance/schemas/``;
``ckv vectors check`` validates every vector file against its committed schema
and checks that the committed schemas are what the registry gives.
"""

from __future__ import annotations

from typing import Any

from ckv.conformance.vectors import RESULTS, VectorKind, canonical_json, kinds

__all__ = ["DRAFT", "HEX", "REQUIREMENT", "kind_schema", "render_schemas"]

JSON = Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: Bytes are lowercase hex strings.
HEX: JSON = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
REQUIREMENT: JSON = {"type": "string", "pattern": "^[A-Z][A-Z0-9]*-[0-9A-Z]+$"}
_ERROR: JSON = {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"}


def _expected(output: JSON) -> JSON:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["result"],
        "properties": {
            "result": {"enum": list(RESULTS)},
            "output": output,
            "error": _ERROR,
        },
    }


def kind_schema(kind: VectorKind) -> JSON:
    """The schema of a vector file of ``kind``."""
    test: JSON = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "id": {
                "type": "string",
                "pattern": f"^{kind.name.replace('.', '[.]')}/[a-z0-9][a-z0-9.-]*-[0-9]+$",
            },
            "description": {"type": "string", "minLength": 1},
            "requirements": {"type": "array", "minItems": 1, "items": REQUIREMENT},
            "flags": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9]+$"}},
            "expected": {"$ref": "#/$defs/expected"},
        },
    }
    if kind.stateful:
        test["properties"]["setup"] = kind.setup_schema
        test["properties"]["steps"] = {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["description", "input", "expected"],
                "properties": {
                    "description": {"type": "string"},
                    "input": kind.input_schema,
                    "expected": {"$ref": "#/$defs/expected"},
                },
            },
        }
        test["required"] = ["id", "description", "requirements", "flags", "expected", "setup"]
        test["required"].append("steps")
    else:
        test["properties"]["input"] = kind.input_schema
        test["required"] = ["id", "description", "requirements", "flags", "expected", "input"]
    return {
        "$schema": DRAFT,
        "title": f"CKV conformance vectors: {kind.name}",
        "description": kind.description,
        "type": "object",
        "additionalProperties": False,
        "required": [
            "schema",
            "kind",
            "suite_version",
            "generator",
            "description",
            "parameters",
            "notes",
            "count",
            "tests",
        ],
        "properties": {
            "schema": {"const": f"{kind.name}.schema.json"},
            "kind": {"const": kind.name},
            "suite_version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
            "generator": {
                "type": "object",
                "required": ["name", "version"],
                "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
            },
            "description": {"type": "string"},
            "parameters": {"type": "object"},
            "notes": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["bug_type", "description"],
                    "properties": {
                        "bug_type": {"type": "string", "pattern": "^[A-Z][A-Z_]*$"},
                        "description": {"type": "string", "minLength": 1},
                    },
                },
            },
            "count": {"type": "integer", "minimum": 0},
            "tests": {"type": "array", "items": test},
        },
        "$defs": {"expected": _expected(kind.output_schema)},
    }


def render_schemas() -> dict[str, str]:
    """Every kind's schema, as ``file name -> text``."""
    return {
        f"{name}.schema.json": canonical_json(kind_schema(kind)) for name, kind in kinds().items()
    }
