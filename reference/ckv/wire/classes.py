"""The Python classes of a schema's structs and enums.

For CKV's own schema these are the generated, committed :mod:`ckv.wire.messages`.
Any other schema (a test's, say) gets the same generated source executed into
a fresh namespace, so every schema is handled by exactly the same code.
"""

from __future__ import annotations

import enum
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ckv.wire import messages
from ckv.wire.codegen import messages_source
from ckv.wire.schema import Schema, load_schema

__all__ = ["MessageClasses", "message_classes"]


@dataclass(frozen=True, slots=True)
class MessageClasses:
    """Struct classes and enum classes, by declared name."""

    structs: Mapping[str, type[Any]]
    enums: Mapping[str, type[enum.IntEnum]]


_CACHE: dict[int, tuple[Schema, MessageClasses]] = {}


def message_classes(schema: Schema | None = None) -> MessageClasses:
    """The classes values of ``schema`` are made of (CKV's schema by default)."""
    if schema is None or schema is load_schema():
        return MessageClasses(messages.STRUCTS, messages.ENUMS)
    cached = _CACHE.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    # dataclasses looks the defining module up in sys.modules, so give it one.
    module = types.ModuleType(f"ckv.wire._generated_{len(_CACHE)}")
    sys.modules[module.__name__] = module
    code = compile(messages_source(schema), f"<{module.__name__}>", "exec")
    exec(code, module.__dict__)  # noqa: S102
    result = MessageClasses(module.STRUCTS, module.ENUMS)
    _CACHE[id(schema)] = (schema, result)
    return result
