"""The {state-diagram} directive: reading a transition table, its layout and SVG, the build."""

from __future__ import annotations

import enum
import importlib
import itertools
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ckv import contact_state, in_person

#: The `sphinx` fixture of tests/spec/conftest.py: (src, out, *options) -> process.
Sphinx = Callable[..., subprocess.CompletedProcess[str]]

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "docs" / "_ext"))
st: Any = importlib.import_module("ckvstates")

SVG = "{http://www.w3.org/2000/svg}"
CONTACT = "ckv.contact_state:TRANSITIONS"
IN_PERSON = "ckv.in_person:TRANSITIONS"


class S(enum.Enum):
    A = "a"
    B = "b"
    C = "c"
    D = "d"


class E(enum.Enum):
    GO = "go"
    BACK = "back"
    STAY = "stay"
    JUMP = "jump"
    BREAK = "break"


class Other(enum.Enum):
    X = "x"


def _real() -> list[Any]:
    return [
        st.load(CONTACT, initial="ckv.contact_state:INITIAL"),
        st.load(IN_PERSON, role="INITIATOR", initial="IDLE"),
        st.load(IN_PERSON, role="RESPONDER", initial="IDLE"),
    ]


def _texts(svg: str) -> list[str]:
    """Every <text> of the SVG, its lines joined by spaces."""
    root = ET.fromstring(svg)
    return [
        " ".join(t.text or "" for t in el.iter(f"{SVG}tspan")) for el in root.iter(f"{SVG}text")
    ]


# --- reading the table ----------------------------------------------------------------


def test_the_contact_table_is_read_whole() -> None:
    m = st.load(CONTACT, initial="ckv.contact_state:INITIAL")
    assert m.states == tuple(s.value for s in contact_state.CardState)
    assert m.events == tuple(e.value for e in contact_state.CardEvent)
    assert m.states[m.initial] == contact_state.INITIAL.value
    got = {(m.states[t.source], m.events[t.event], m.states[t.target]) for t in m.transitions}
    assert got == {(s.value, e.value, t.value) for (s, e), t in contact_state.TRANSITIONS.items()}
    assert len(m.transitions) == len(contact_state.TRANSITIONS)


@pytest.mark.parametrize("role", list(in_person.Role))
def test_a_role_selects_its_rows(role: in_person.Role) -> None:
    m = st.load(IN_PERSON, role=role.name, initial="IDLE")
    want = {
        (s.value, e.value, t.value) for (r, s, e), t in in_person.TRANSITIONS.items() if r is role
    }
    got = {(m.states[t.source], m.events[t.event], m.states[t.target]) for t in m.transitions}
    assert got == want
    assert m.states[m.initial] == in_person.State.IDLE.value
    # Only the states the role uses, in declaration order.
    unused = (
        in_person.State.AWAIT_REVEAL
        if role is in_person.Role.INITIATOR
        else in_person.State.COMMIT_SENT
    )
    assert unused.value not in m.states
    assert list(m.states) == [s.value for s in in_person.State if s.value in m.states]


def test_labels_are_enum_values_or_names() -> None:
    class N(enum.Enum):
        ONE = 1
        TWO = 2

    m = st.machine_from_table({(N.ONE, E.GO): N.TWO}, initial="ONE")
    assert m.states == ("ONE", "TWO")
    assert m.events == ("go",)
    assert m.initial == 0


@pytest.mark.parametrize(
    ("path", "options", "message"),
    [
        ("ckv.no_such_module:T", {}, "cannot import module 'ckv.no_such_module'"),
        ("ckv.contact_state:NOPE", {}, "module 'ckv.contact_state' has no attribute 'NOPE'"),
        ("ckv.contact_state", {}, "is not of the form 'package.module:NAME'"),
        ("ckv.contact_state:CardState", {}, "must be a non-empty Mapping"),
        ("ckv.contact_state:INITIAL", {}, "must be a non-empty Mapping"),
        (IN_PERSON, {}, "is keyed by role: choose one with :role: (INITIATOR, RESPONDER)"),
        (IN_PERSON, {"role": "BYSTANDER"}, "role 'BYSTANDER' is not a member of Role"),
        (CONTACT, {"role": "INITIATOR"}, "is keyed by (state, event): it has no roles"),
        (CONTACT, {"initial": "NOWHERE"}, "initial state 'NOWHERE' is not a member of CardState"),
        (CONTACT, {"initial": "ckv.in_person:Role.INITIATOR"}, "is not a CardState"),
        (CONTACT, {"initial": "ckv.contact_state:MISSING"}, "has no attribute 'MISSING'"),
    ],
)
def test_a_bad_path_or_option_raises_a_clear_error(
    path: str, options: dict[str, str], message: str
) -> None:
    with pytest.raises(st.StateTableError) as err:
        st.load(path, **options)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "must be a non-empty Mapping"),
        ([((S.A, E.GO), S.B)], "must be a non-empty Mapping"),
        ({(S.A,): S.B}, "every key must be a (state, event) or a (role, state, event) tuple"),
        ({S.A: S.B}, "every key must be a (state, event)"),
        ({(S.A, E.GO): S.B, (Other.X, S.A, E.GO): S.B}, "keys mix"),
        ({("a", E.GO): S.B}, "every state must be an enum member, found 'a'"),
        ({(S.A, E.GO): "b"}, "every state must be an enum member"),
        ({(S.A, E.GO): Other.X}, "the states must all come from one enum, found S, Other"),
        ({(S.A, E.GO): S.B, (S.A, Other.X): S.B}, "the events must all come from one enum"),
        (
            {(S.A, S.B, E.GO): S.C, (Other.X, S.B, E.GO): S.C},
            "the roles must all come from one enum, found S, Other",
        ),
    ],
)
def test_a_table_of_the_wrong_shape_is_refused(table: object, message: str) -> None:
    with pytest.raises(st.StateTableError) as err:
        st.machine_from_table(table, role="A" if "roles" in message else None)
    assert message in str(err.value)


def test_a_role_without_transitions_is_refused() -> None:
    table = {(Other.X, S.A, E.GO): S.B}

    class R(enum.Enum):
        X = "x"
        Y = "y"

    with pytest.raises(st.StateTableError, match="no transitions for role Y"):
        st.machine_from_table({(R.X, S.A, E.GO): S.B}, role="Y")
    assert st.machine_from_table(table, role="X").states == ("a", "b")


# --- layout ---------------------------------------------------------------------------


def _drawn(lay: Any, m: Any) -> set[tuple[str, str, str]]:
    """Every transition the drawing shows: on an arrow's label, or in a group marker."""
    out = set()
    for arrow in lay.arrows:
        text = " ".join(arrow.label.lines)
        for e in arrow.events:
            assert m.events[e] in text
            out.add((m.states[arrow.source], m.events[e], m.states[arrow.target]))
    for marker in lay.markers:
        if marker.label is None:
            continue
        lines = marker.label.lines
        assert lines[0] in {"from any state:", "from any other state:"}
        for target, events, loop in m.groups():
            if target != marker.state or lines[0] != (
                "from any state:" if loop else "from any other state:"
            ):
                continue
            for e in events:
                assert m.events[e] in " ".join(lines)
                for s in range(len(m.states)):
                    if s != target or loop:
                        out.add((m.states[s], m.events[e], m.states[target]))
    return out


@pytest.mark.parametrize("index", [0, 1, 2], ids=["contact", "initiator", "responder"])
def test_every_state_and_transition_appears(index: int) -> None:
    m = _real()[index]
    lay = st.lay_out(m)
    want = {(m.states[t.source], m.events[t.event], m.states[t.target]) for t in m.transitions}
    assert _drawn(lay, m) == want
    svg = st.render(m)
    texts = _texts(svg)
    for state in m.states:
        assert state in texts
    joined = " ".join(texts)
    for event in m.events:
        assert event in joined
    # ... and each state once, one box each.
    assert sum(1 for t in texts if t in m.states) == len(m.states)
    assert svg.count('class="ckv-seq-box"') == len(m.states)


def test_parallel_transitions_are_merged_into_one_arrow() -> None:
    m = st.machine_from_table(
        {(S.A, E.GO): S.B, (S.A, E.JUMP): S.B, (S.B, E.BACK): S.A, (S.B, E.STAY): S.B},
        initial="A",
    )
    lay = st.lay_out(m)
    pairs = [(a.source, a.target) for a in lay.arrows]
    assert sorted(pairs) == [(0, 1), (1, 0), (1, 1)]  # one each way, and a loop
    there = next(a for a in lay.arrows if (a.source, a.target) == (0, 1))
    assert there.label.lines == ("go,", "jump")
    loop = next(a for a in lay.arrows if a.source == a.target)
    assert loop.path.count("C") == 1  # a self-transition is a small cubic loop
    # An arrow and its reverse bow apart: their middles are not the same point.
    back = next(a for a in lay.arrows if (a.source, a.target) == (1, 0))
    mid = len(there.samples) // 2
    assert abs(there.samples[mid][1] - back.samples[mid][1]) > 20 or (
        abs(there.samples[mid][0] - back.samples[mid][0]) > 20
    )
    svg = st.render(m)
    assert svg.count('class="ckv-seq-arrow"') == 3 + 1  # three arrows and the initial stub
    assert svg.count("<circle") == 1


def test_an_event_from_every_state_is_one_marker() -> None:
    table = {(S.A, E.GO): S.B, (S.B, E.GO): S.C, (S.C, E.BACK): S.A}
    for s in S:
        table[s, E.BREAK] = S.D  # from every state, D included: "from any state"
        if s is not S.A:
            table[s, E.JUMP] = S.A  # from every other state
    m = st.machine_from_table(table, initial="A")
    assert m.groups() == [
        (0, (m.events.index("jump"),), False),
        (3, (m.events.index("break"),), True),
    ]
    lay = st.lay_out(m)
    assert {(m.states[a.source], m.states[a.target]) for a in lay.arrows} == {
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
    }
    labels = [mk.label.lines for mk in lay.markers if mk.label is not None]
    assert sorted(labels) == [("from any other state:", "jump"), ("from any state:", "break")]
    want = {(m.states[t.source], m.events[t.event], m.states[t.target]) for t in m.transitions}
    assert _drawn(lay, m) == want
    # Three states are too few for a marker to save anything.
    small = st.machine_from_table({(s, E.BREAK): S.C for s in (S.A, S.B, S.C)})
    assert small.groups() == []


def test_labels_do_not_overlap_and_fit_the_page() -> None:
    for m in _real():
        lay = st.lay_out(m)
        labels = [a.label.box for a in lay.arrows] + [
            mk.label.box for mk in lay.markers if mk.label is not None
        ]
        for x, y in itertools.combinations(labels, 2):
            assert x.overlap(y) == 0
        for label, box in itertools.product(labels, lay.boxes):
            assert label.overlap(box) == 0
        for x, y in itertools.combinations(lay.boxes, 2):
            assert x.overlap(y) == 0
        # Arrows do not run through states other than their own.
        for arrow in lay.arrows:
            for k, box in enumerate(lay.boxes):
                if k not in (arrow.source, arrow.target):
                    assert not any(box.contains(p) for p in arrow.samples)
        # Everything is inside the viewBox, which fits furo's 46 em column at 16 px.
        root = ET.fromstring(st.render(m))
        left, top, width, height = (float(v) for v in root.get("viewBox", "").split())
        assert width <= 736
        for box in [*labels, *lay.boxes]:
            lo_x, lo_y, hi_x, hi_y = box.bounds()
            assert left <= lo_x
            assert hi_x <= left + width
            assert top <= lo_y
            assert hi_y <= top + height


def test_render_is_deterministic() -> None:
    first = [st.render(m, title="T", id_prefix="x") for m in _real()]
    assert [st.render(m, title="T", id_prefix="x") for m in _real()] == first
    # ... and does not depend on hash seeds or on the process.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import ckvstates as s; "
        "sys.stdout.write(s.render(s.load(sys.argv[2], role=sys.argv[3] or None, "
        "initial=sys.argv[4]), title='T', id_prefix='x'))"
    )
    cases = [
        (CONTACT, "", "ckv.contact_state:INITIAL"),
        (IN_PERSON, "INITIATOR", "IDLE"),
    ]
    for seed, (path, role, initial) in itertools.product(("1", "2"), cases):
        out = subprocess.run(
            [sys.executable, "-c", code, str(REPO / "docs" / "_ext"), path, role, initial],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        assert out == first[0 if path == CONTACT else 1]


def test_svg_is_well_formed_and_accessible() -> None:
    m = st.load(IN_PERSON, role="INITIATOR", initial="IDLE")
    root = ET.fromstring(st.render(m, title="States & <more>", id_prefix="ckv-st-3"))
    assert root.get("role") == "img"
    assert root.get("class") == "ckv-seq ckv-states"
    assert root.get("aria-labelledby") == "ckv-st-3-title ckv-st-3-desc"
    title, desc = root[0], root[1]
    assert (title.get("id"), title.text) == ("ckv-st-3-title", "States & <more>")
    assert desc.get("id") == "ckv-st-3-desc"
    assert desc.text is not None
    assert desc.text.startswith("States: idle, commit sent, comparing codes, verified, failed. ")
    assert "Initial state: idle." in desc.text
    assert "From idle to commit sent on: send IpcCommit." in desc.text
    assert "From failed to itself on: send IpcAbort." in desc.text
    for el in root.iter():
        assert el.tag.removeprefix(SVG) not in {"script", "a", "image", "foreignObject", "use"}
        assert not [a for a in el.attrib if a.startswith("on") or "href" in a]
    _, _, w, h = root.get("viewBox", "").split()
    assert (root.get("width"), root.get("height")) == (w, h)
    out = st.render(m)
    assert set(re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]+)"', out)) <= {"#fff"}


def test_the_text_table_lists_every_transition() -> None:
    m = st.load(CONTACT, initial="ckv.contact_state:INITIAL")
    header, rows = st.table_rows(m)
    assert header[1:] == ["unverified (initial)", "verified", "changed", "ckv_off", "alert"]
    assert [r[0] for r in rows] == list(m.events)
    cells = {
        (contact_state.CardState(m.states[k]), contact_state.CardEvent(row[0])): cell
        for row in rows
        for k, cell in enumerate(row[1:])
    }
    for (s, e), t in contact_state.TRANSITIONS.items():
        assert cells.pop((s, e)) == t.value
    assert set(cells.values()) == {"\N{EM DASH}"}


# --- the build ------------------------------------------------------------------------


def _project(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text("# Test\n\n" + body + "\n")
    return src


def test_a_state_diagram_builds_into_a_figure_and_a_table(tmp_path: Path, sphinx: Sphinx) -> None:
    body = (
        "See {numref}`fig-contact`.\n\n"
        f"```{{state-diagram}} {CONTACT}\n:initial: ckv.contact_state:INITIAL\n"
        ":caption: The state of a `contact`\n:name: fig-contact\n```\n\n"
        f"```{{state-diagram}} {IN_PERSON}\n:role: RESPONDER\n:initial: IDLE\n```\n"
    )
    proc = sphinx(_project(tmp_path, body), tmp_path / "out", "-D", "ckv_check_listings=0")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    svgs = re.findall(
        r'<svg xmlns="http://www.w3.org/2000/svg" class="ckv-seq ckv-states".*?</svg>', html
    )
    assert len(svgs) == 2
    assert '<title id="ckv-st-0-title">The state of a contact</title>' in svgs[0]
    assert '<title id="ckv-st-1-title">State diagram: idle, awaiting reveal,' in svgs[1]
    assert '<span class="caption-number">Fig. 1 </span>' in html
    assert "Fig. 2" not in html
    assert 'href="#fig-contact"' in html
    # The tables are HTML text (searchable), one per diagram, right after it.
    assert html.count('class="ckv-state-table') == 2
    after = html.split("</figure>")[1]
    assert after.index("ckv-state-table") < after.index("<svg")
    table = after.split("</table>")[0]
    assert "<strong>verification_removed</strong>" in table
    assert "unverified (initial)" in table


def test_a_bad_table_fails_the_build(tmp_path: Path, sphinx: Sphinx) -> None:
    body = "Text.\n\n```{state-diagram} ckv.contact_state:NOPE\n:caption: Broken\n```"
    proc = sphinx(_project(tmp_path, body), tmp_path / "out", "-D", "ckv_check_listings=0")
    assert proc.returncode != 0
    assert (
        "index.md:5: ERROR: state-diagram ckv.contact_state:NOPE: "
        "module 'ckv.contact_state' has no attribute 'NOPE'"
    ) in proc.stderr
    # Without -W the page says so, where the diagram would be.
    out = tmp_path / "out2"
    subprocess.run(
        [
            *(sys.executable, "-m", "sphinx", "-q", "-b", "html", "-c", str(REPO / "docs")),
            *("-D", "ckv_check_listings=0", str(tmp_path / "src"), str(out)),
        ],
        capture_output=True,
        check=False,
    )
    page = (out / "index.html").read_text()
    assert 'class="admonition error"' in page
    assert "state-diagram ckv.contact_state:NOPE: module" in page.split("admonition error")[1]


def test_the_in_person_page_draws_both_roles(
    spec_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, proc = spec_build
    assert "in-person-code.md" not in proc.stderr
    assert "state-diagram" not in proc.stderr
    html = (out / "ckv" / "in-person-code.html").read_text()
    svgs = re.findall(
        r'<svg xmlns="http://www.w3.org/2000/svg" class="ckv-seq ckv-states".*?</svg>', html
    )
    assert len(svgs) == 2
    assert "States of the initiator" in svgs[0]
    assert "States of the responder" in svgs[1]
    for svg in svgs:
        assert float(ET.fromstring(svg).get("width", "0")) <= 736


def test_a_larger_machine_is_placed_by_local_search() -> None:
    big = enum.Enum("big", [f"S{i}" for i in range(7)])  # type: ignore[misc]
    states = list(big)
    table = {(s, E.GO): states[(k + 1) % 7] for k, s in enumerate(states)}
    table |= {(s, E.JUMP): states[(k + 3) % 7] for k, s in enumerate(states) if k % 2 == 0}
    m = st.machine_from_table(table, initial="S0")
    rows, cols = st._grid(len(m.states))
    assert st.math.perm(rows * cols, len(m.states)) > st.EXHAUSTIVE
    lay = st.lay_out(m)
    want = {(m.states[t.source], m.events[t.event], m.states[t.target]) for t in m.transitions}
    assert _drawn(lay, m) == want
    assert len({(b.cx, b.cy) for b in lay.boxes}) == 7
    labels = [a.label.box for a in lay.arrows]
    for x, y in itertools.combinations(labels, 2):
        assert x.overlap(y) == 0
    assert st.render(m) == st.render(m)
