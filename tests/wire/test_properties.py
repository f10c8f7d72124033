"""Property tests over every struct, with strategies derived from the schema.

* round trip: decode(encode(v)) == v, under a drawn cipher suite and context;
* canonicality: any single-byte substitution, truncation or extension of a
  valid encoding either fails with DecodeError or decodes to a value that
  re-encodes to exactly the mutated bytes;
* robustness: arbitrary bytes raise DecodeError and nothing else.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ckv import wire
from ckv.errors import DecodeError
from ckv.wire import messages, strategies
from ckv.wire.constants import SUITES
from ckv.wire.schema import load_schema

SCHEMA = load_schema()
STRUCTS = sorted(SCHEMA.structs)
SUITE_LIST = sorted(SUITES)


@st.composite
def encoded(
    draw: st.DrawFn, struct: str
) -> tuple[messages.CipherSuite, dict[str, object], object, bytes]:
    suite = draw(st.sampled_from(SUITE_LIST))
    context = draw(strategies.contexts())
    value = draw(strategies.values(struct, context, suite=suite))
    return suite, context, value, wire.encode(value, suite=suite, context=context)


@pytest.mark.req("WIRE-001", "WIRE-010")
@pytest.mark.parametrize("struct", STRUCTS)
@given(data=st.data())
def test_round_trip(struct: str, data: st.DataObject) -> None:
    suite, context, value, encoding = data.draw(encoded(struct))
    decoded = wire.decode(struct, encoding, suite=suite, context=context)
    assert decoded == value
    assert wire.encode(decoded, suite=suite, context=context) == encoding


@st.composite
def mutation(draw: st.DrawFn, encoding: bytes) -> bytes:
    choice = draw(st.sampled_from(["substitute", "truncate", "extend"]))
    if choice == "substitute" and encoding:
        i = draw(st.integers(0, len(encoding) - 1))
        b = draw(st.integers(0, 255).filter(lambda v: v != encoding[i]))
        return encoding[:i] + bytes([b]) + encoding[i + 1 :]
    if choice == "truncate" and encoding:
        return encoding[: draw(st.integers(0, len(encoding) - 1))]
    return encoding + draw(st.binary(min_size=1, max_size=8))


@pytest.mark.req("WIRE-004", "WIRE-005", "WIRE-006", "WIRE-007", "WIRE-008", "WIRE-012", "WIRE-013")
@pytest.mark.parametrize("struct", STRUCTS)
@given(data=st.data())
def test_canonical(struct: str, data: st.DataObject) -> None:
    suite, context, _value, encoding = data.draw(encoded(struct))
    mutated = data.draw(mutation(encoding))
    assume(mutated != encoding)
    try:
        decoded = wire.decode(struct, mutated, suite=suite, context=context)
    except DecodeError:
        return
    assert wire.encode(decoded, suite=suite, context=context) == mutated


@pytest.mark.req("WIRE-004")
@pytest.mark.parametrize("struct", STRUCTS)
@given(
    blob=st.binary(max_size=256), suite=st.sampled_from(SUITE_LIST), context=strategies.contexts()
)
def test_arbitrary_bytes_raise_only_decode_error(
    struct: str, blob: bytes, suite: messages.CipherSuite, context: dict[str, object]
) -> None:
    try:
        decoded = wire.decode(struct, blob, suite=suite, context=context)
    except DecodeError as exc:
        error = exc
    else:
        assert wire.encode(decoded, suite=suite, context=context) == blob
        return
    assert error.path.startswith(struct)
    assert error.requirement is not None
