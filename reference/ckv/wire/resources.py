"""Locate the normative files the reference implementation reads at run time.

The grammar and the `.tls` wire definitions live once, under ``spec/`` at the
top of the repository. An installed wheel carries a copy in ``ckv/_spec``
(see ``pyproject.toml``); an editable install or a source checkout reads them
from the repository itself.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["grammar_text", "spec_root", "wire_files"]

_PACKAGED = Path(__file__).resolve().parent.parent / "_spec"
_CHECKOUT = Path(__file__).resolve().parents[3] / "spec"


def spec_root() -> Path:
    """The directory holding ``grammar/`` and ``wire/``."""
    for candidate in (_PACKAGED, _CHECKOUT):
        if (candidate / "grammar" / "tlspl.lark").is_file():
            return candidate
    msg = f"CKV spec files not found (looked in {_PACKAGED} and {_CHECKOUT})"
    raise FileNotFoundError(msg)


def grammar_text() -> str:
    """The text of the CKV-PL grammar, ``spec/grammar/tlspl.lark``."""
    return (spec_root() / "grammar" / "tlspl.lark").read_text(encoding="utf-8")


def wire_files() -> list[Path]:
    """The `.tls` wire definition files, ``spec/wire/*.tls``."""
    return sorted((spec_root() / "wire").glob("*.tls"))
