"""The {sequence} directive: its language, its SVG, and its place in the build."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

#: The `sphinx` fixture of tests/spec/conftest.py: (src, out, *options) -> process.
Sphinx = Callable[..., subprocess.CompletedProcess[str]]

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "docs" / "_ext"))
d: Any = importlib.import_module("ckvdiagrams")

SVG = "{http://www.w3.org/2000/svg}"

EXAMPLE = """\
participant Client as "Alice's phone"
participant Log as "Key directory"
# a comment, then a blank line

Client -> Log: SearchRequest(label, last)
Log --> Client: SearchResponse(full_tree_head, binary_ladder, search)
note over Client: verify the CombinedTreeProof, then the tree head
Client -> Client: retain tree size, full subtrees, frontier
note over Log, Client: both sides agree
== later ==
Auditor -> Log: AuditorTreeHead(timestamp, tree_size, signature)
"""


# --- the language -------------------------------------------------------------------


def test_parser_accepts_the_language() -> None:
    seq = d.parse(EXAMPLE)
    assert [(p.key, p.label) for p in seq.participants] == [
        ("Client", "Alice's phone"),
        ("Log", "Key directory"),
        ("Auditor", "Auditor"),  # undeclared: named by its key, placed at first mention
    ]
    assert seq.steps == (
        d.Message(0, 1, "SearchRequest(label, last)", dashed=False),
        d.Message(1, 0, "SearchResponse(full_tree_head, binary_ladder, search)", dashed=True),
        d.Note(0, 0, "verify the CombinedTreeProof, then the tree head"),
        d.Message(0, 0, "retain tree size, full subtrees, frontier", dashed=False),
        d.Note(0, 1, "both sides agree"),  # given as "Log, Client": stored left to right
        d.Divider("later"),
        d.Message(2, 1, "AuditorTreeHead(timestamp, tree_size, signature)", dashed=False),
    )


def test_participants_are_ordered_by_first_mention() -> None:
    seq = d.parse("B -> A: x\nC --> B: y\nparticipant D\nnote over D: z")
    assert [p.key for p in seq.participants] == ["B", "A", "C", "D"]


def test_whitespace_is_free_around_the_syntax() -> None:
    seq = d.parse('  participant  A  as  "Alice"  \n\tA->B :  hello   world  \nnote over A ,B:n')
    assert seq.participants[0].label == "Alice"
    assert seq.steps == (d.Message(0, 1, "hello   world", dashed=False), d.Note(0, 1, "n"))


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("A => B: x", 1, "cannot parse 'A => B: x'"),
        ("A -> B: x\nA ->> B: y", 2, "cannot parse 'A ->> B: y'"),
        ("A -> B: x\n\n# comment\nA <- B: y", 4, "cannot parse"),
        ("A -> B:", 1, "a message needs a text"),
        ("A -> B", 1, "a message needs a text"),
        ("A -> B:   ", 1, "a message needs a text"),
        ("participant A\nparticipant A\nA -> A: x", 2, "already declared"),
        ('A -> B: x\nparticipant A as "Alice"', 2, "already declared or used above"),
        ('participant A as ""\nA -> A: x', 1, "empty display name"),
        ('participant A as "Alice\nA -> A: x', 1, "cannot parse"),
        ("participant 1A\nA -> A: x", 1, "cannot parse"),
        ("participant note\nA -> A: x", 1, "key word"),
        ("A -> over: x", 1, "key word"),
        ("note over A", 1, "a note needs a text"),
        ("note over A, A: x", 1, "names one twice"),
        ("note A: x", 1, "cannot parse"),
        ("note left of A: x", 1, "cannot parse"),
        ("A -> B: x\n== ==", 2, "a divider needs a text"),
        ("participant A\nparticipant B", 2, "no messages or notes"),
        ("# nothing", 1, "no messages or notes"),
        ("", 1, "no messages or notes"),
    ],
)
def test_parser_rejects_bad_lines_naming_the_line(source: str, line: int, message: str) -> None:
    with pytest.raises(d.SequenceSyntaxError) as err:
        d.parse(source)
    assert err.value.line == line
    assert str(err.value).startswith(f"line {line}: ")
    assert message in str(err.value)


# --- text measurement and wrapping --------------------------------------------------


def test_wrap_breaks_at_spaces_and_after_parentheses() -> None:
    by32 = d._by_chars(32)
    assert d.wrap("SearchRequest(last, label)", by32) == ["SearchRequest(last, label)"]
    assert d.wrap("DistinguishedResponse(full_tree_head, distinguished)", by32) == [
        "DistinguishedResponse(",
        "full_tree_head, distinguished)",
    ]
    assert d.wrap("one\\ntwo three", by32) == ["one", "two three"]
    assert d.wrap("averyveryverylongword x", d._by_chars(4)) == ["averyveryverylongword", "x"]


def test_text_width_is_generous_and_counts_wide_characters() -> None:
    assert d.text_width("abcd", 10, mono=True) == d.text_width("ABCD", 10, mono=True)
    assert d.text_width("鍵鍵", 10, mono=True) == d.text_width("abcd", 10, mono=True)
    assert d.text_width("WWWW", 10, mono=False) > d.text_width("iiii", 10, mono=False)
    assert d.text_width("Key", 14, mono=False, bold=True) > d.text_width("Key", 14, mono=False)
    # At least Arial's advance widths: 'a' 0.556 em, 'W' 0.944 em... within 5%.
    assert d.text_width("a" * 100, 10, mono=False) >= 556
    assert d.text_width("W" * 10, 10, mono=False) >= 0.95 * 94.4


# --- the SVG ------------------------------------------------------------------------


def _svg(source: str, **kw: Any) -> ET.Element:
    return ET.fromstring(d.render(d.parse(source), **kw))


def test_render_is_deterministic() -> None:
    seq = d.parse(EXAMPLE)
    first = d.render(seq, title="T", id_prefix="x")
    assert d.render(d.parse(EXAMPLE), title="T", id_prefix="x") == first
    # ... and does not depend on hash seeds or on the process.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import ckvdiagrams as d; "
        "sys.stdout.write(d.render(d.parse(sys.argv[2]), title='T', id_prefix='x'))"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code, str(REPO / "docs" / "_ext"), EXAMPLE],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        assert out == first


def test_svg_is_well_formed_and_accessible() -> None:
    root = _svg(EXAMPLE, title="Search & verify <fig>", id_prefix="ckv-seq-7")
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "ckv-seq-7-title ckv-seq-7-desc"
    title, desc = root[0], root[1]
    assert (title.tag, title.get("id"), title.text) == (
        f"{SVG}title",
        "ckv-seq-7-title",
        "Search & verify <fig>",
    )
    assert desc.tag == f"{SVG}desc"
    assert desc.get("id") == "ckv-seq-7-desc"
    assert desc.text is not None
    assert desc.text.startswith("Participants: Alice's phone, Key directory, Auditor. ")
    assert "2. Key directory to Alice's phone (reply): SearchResponse(" in desc.text
    assert "4. Alice's phone to itself (message): retain tree size" in desc.text
    assert "5. Note over Alice's phone and Key directory: both sides agree." in desc.text
    # No scripting, no event handlers, no links, no external references.
    for el in root.iter():
        assert el.tag.removeprefix(SVG) not in {"script", "a", "image", "foreignObject", "use"}
        assert not [a for a in el.attrib if a.startswith("on") or "href" in a]
    # The width and height are the viewBox's, so the browser can scale it down.
    _, _, w, h = root.get("viewBox", "").split()
    assert (root.get("width"), root.get("height")) == (w, h)


def test_all_text_is_svg_text() -> None:
    root = _svg(EXAMPLE)
    texts = [" ".join("".join(t.itertext()).split()) for t in root.iter(f"{SVG}text")]
    lines = [
        " ".join(t.text or "" for t in el.iter(f"{SVG}tspan")) or (el.text or "")
        for el in root.iter(f"{SVG}text")
    ]
    assert "Alice's phone" in texts
    assert "Key directory" in texts
    assert "SearchRequest(label, last)" in lines
    assert "verify the CombinedTreeProof, then the tree head" in lines
    assert "later" in lines


def test_markup_in_labels_is_escaped() -> None:
    root = _svg('participant A as "<A & B>"\nA -> B: x < y && "z" > w\nnote over B: </text>')
    texts = ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]
    assert "<A & B>" in texts
    assert 'x < y && "z" > w' in texts
    assert "</text>" in texts


def test_colours_come_from_the_theme() -> None:
    out = d.render(d.parse(EXAMPLE))
    # Ink is currentColor (the page's text colour); only fallback fills are fixed, and
    # the stylesheet overrides each of them by class.
    fixed = set(re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]+)"', out))
    css = (REPO / "docs" / "_static" / "ckv-diagrams.css").read_text()
    assert fixed <= {"#eef4ff", "#fff"}
    assert ".ckv-seq-note {" in css
    assert ".ckv-seq-divider-box {" in css
    assert 'fill="currentColor"' in out
    assert 'stroke="currentColor"' in out


names = st.sampled_from(["A", "Bob", "Log", "x_2"])
texts = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 _(),;:<>&'\"§鍵")), min_size=1, max_size=90
).map(lambda s: " ".join(s.split()))


@st.composite
def sequences(draw: st.DrawFn) -> Any:
    keys = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    label = texts.filter(lambda s: s and '"' not in s)
    labels = draw(st.lists(label, min_size=len(keys), max_size=len(keys)))
    participants = tuple(d.Participant(k, v) for k, v in zip(keys, labels, strict=True))
    n = len(keys)
    step = st.one_of(
        st.builds(
            d.Message,
            st.integers(0, n - 1),
            st.integers(0, n - 1),
            texts.filter(bool),
            st.booleans(),
        ),
        st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), texts.filter(bool)).map(
            lambda t: d.Note(min(t[0], t[1]), max(t[0], t[1]), t[2])
        ),
        st.builds(d.Divider, texts.filter(bool)),
    )
    steps = tuple(draw(st.lists(step, min_size=1, max_size=6)))
    return d.SequenceDiagram(participants, steps)


def _unparse(seq: Any) -> str:
    keys = [p.key for p in seq.participants]
    out = [f'participant {p.key} as "{p.label}"' for p in seq.participants]
    for s in seq.steps:
        if isinstance(s, d.Message):
            out.append(f"{keys[s.src]} {'-->' if s.dashed else '->'} {keys[s.dst]}: {s.text}")
        elif isinstance(s, d.Note):
            over = keys[s.first] if s.first == s.last else f"{keys[s.first]}, {keys[s.last]}"
            out.append(f"note over {over}: {s.text}")
        else:
            out.append(f"== {s.text} ==")
    return "\n".join(out)


@given(sequences())
def test_parse_reads_back_what_the_language_writes(seq: Any) -> None:
    assert d.parse(_unparse(seq)) == seq


@given(sequences())
def test_layout_keeps_labels_apart(seq: Any) -> None:
    check_layout(seq)


def check_layout(seq: Any) -> None:
    """Nothing overlaps what it must not, and the viewBox holds everything."""
    laid, xs, boxes, lo, hi = d._lay_out(seq)
    n = len(xs)
    for j in range(1, n):  # boxes do not touch
        assert xs[j] - xs[j - 1] >= (boxes[j - 1] + boxes[j]) / 2 + d.GAP
    assert lo <= xs[0] - boxes[0] / 2
    assert xs[-1] + boxes[-1] / 2 <= hi
    for s, geo in zip(seq.steps, laid, strict=True):
        for line in geo.lines:  # the stored width is the widest line's
            assert d.text_width(line, d.FONT, mono=geo.mono) <= geo.width
        if isinstance(s, d.Message) and s.src != s.dst:
            # The label fits between the two lifelines of its arrow.
            assert geo.width + 2 * d.LABEL_PAD <= abs(xs[s.dst] - xs[s.src])
        elif isinstance(s, d.Message):
            end = xs[s.src] + 8 + geo.width
            assert end <= hi
            if s.src + 1 < n:
                assert end < xs[s.src + 1]
        elif isinstance(s, d.Note):
            a, b = d._note_span(s, geo, xs, boxes)
            assert lo <= a
            assert b <= hi
            assert b - a >= geo.width + 2 * d.NOTE_PAD_X
            assert a < xs[s.first]
            assert xs[s.last] < b
            # ... and does not cover a lifeline it is not over.
            assert all(x < a or x > b for x in xs[: s.first] + xs[s.last + 1 :])
        else:
            assert geo.width + 16 <= hi - lo
    root = ET.fromstring(d.render(seq))
    left, _, width, _ = (float(v) for v in root.get("viewBox", "").split())
    assert left == pytest.approx(lo - d.MARGIN, abs=0.06)
    assert width == pytest.approx(hi - lo + 2 * d.MARGIN, abs=0.11)


@pytest.mark.parametrize(
    "source",
    [
        "A -> B: x\nnote over A: a long note that is much wider than the box of A",
        "A -> B: x\nnote over B: a long note that is much wider than the box of B",
        "A -> B: x\nB -> C: y\nnote over B: a long note that is much wider than the box of B",
        "A -> B: x\nB -> C: y\nnote over A, B: a note over two that is much wider than both",
        "A -> A: a self message that is rather long for the space\nB -> A: x",
        "A -> B: x\n== a divider text that is a good deal wider than the two boxes ==",
    ],
)
def test_layout_examples(source: str) -> None:
    check_layout(d.parse(source))


def test_edge_notes_are_pulled_in() -> None:
    seq = d.parse("A -> B: x\nnote over A: a long note that is much wider than the box of A")
    laid, xs, boxes, lo, _ = d._lay_out(seq)
    a, b = d._note_span(seq.steps[1], laid[1], xs, boxes)
    assert a == xs[0] - boxes[0] / 2 == lo
    assert b < xs[1]


# --- the build ----------------------------------------------------------------------


def _project(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text("# Test\n\n" + body + "\n")
    return src


def test_a_bad_diagram_fails_the_build(tmp_path: Path, sphinx: Sphinx) -> None:
    body = "Text.\n\n```{sequence}\n:caption: Broken\n\nA -> B: fine\nA => B: broken\n```"
    proc = sphinx(_project(tmp_path, body), tmp_path / "out", "-D", "ckv_check_listings=0")
    assert proc.returncode != 0
    # The diagram's own line number, and the file's (line 9 of index.md).
    assert "index.md:9: WARNING: sequence diagram line 2: cannot parse 'A => B: broken'" in (
        proc.stderr
    )


def test_a_good_diagram_is_a_numbered_figure(tmp_path: Path, sphinx: Sphinx) -> None:
    body = (
        "See {numref}`fig-x`.\n\n"
        "```{sequence}\n:caption: The `SearchRequest` flow\n:name: fig-x\n\n"
        "A -> B: SearchRequest(last, label)\nB --> A: SearchResponse(...)\n```\n\n"
        ":::{sequence}\nA -> A: no caption, no number\n:::\n"
    )
    proc = sphinx(_project(tmp_path, body), tmp_path / "out", "-D", "ckv_check_listings=0")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="ckv-seq"') == 2
    assert '<span class="caption-number">Fig. 1 </span>' in html
    assert "Fig. 2" not in html
    assert "<code" in html.split("caption-text")[1].split("</figcaption>")[0]
    assert '<title id="ckv-seq-0-title">The SearchRequest flow</title>' in html
    assert '<title id="ckv-seq-1-title">Sequence diagram: A</title>' in html
    assert 'href="#fig-x"' in html
    assert "ckv-diagrams.css" in html
    assert "<script" not in html.split('class="ckv-seq"')[1].split("</svg>")[0]


def test_the_flows_page_builds_cleanly(
    spec_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, proc = spec_build
    stderr = proc.stderr
    # Whether the whole spec builds is test_spec_build's business; this page and the
    # directive must not warn.
    assert "flows.md" not in stderr
    assert "sequence diagram" not in stderr
    html = (out / "kt" / "flows.html").read_text()
    svgs = re.findall(r"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ckv-seq\".*?</svg>", html)
    assert len(svgs) == 10
    for svg in svgs:
        root = ET.fromstring(svg)
        width = float(root.get("width", "0"))
        # Fits furo's 46 em content column at 16 px without being scaled down.
        assert width <= 736
    assert html.count('class="caption-number"') == 10
    for name in (
        "SearchRequest",
        "ContactMonitorRequest",
        "OwnerInitResponse",
        "OwnerMonitorRequest",
        "UpdateResponse",
        "ManagerUpdateRequest",
        "DistinguishedResponse",
        "AuditorUpdate",
        "AuditorTreeHead",
        "DistinguishedHead",
    ):
        assert f"{name}(" in html, name


def test_the_flows_use_the_wire_names() -> None:
    from ckv.wire.schema import load_schema

    schema = load_schema()
    known = {*schema.structs, *schema.enums, *schema.aliases}
    source = (REPO / "spec" / "kt" / "flows.md").read_text()
    blocks = re.findall(r"```\{sequence\}\n(.*?)```", source, flags=re.DOTALL)
    assert len(blocks) == 10
    used = set()
    for block in blocks:
        seq = d.parse([line for line in block.splitlines() if not line.startswith(":")])
        for step in seq.steps:
            if isinstance(step, d.Message) and step.src != step.dst:
                m = re.match(r"([A-Za-z]+)\(", step.text)
                assert m is not None, step.text
                used.add(m[1])
    assert used <= known
    assert used == {
        *("SearchRequest", "SearchResponse", "ContactMonitorRequest", "ContactMonitorResponse"),
        *("OwnerInitRequest", "OwnerInitResponse", "OwnerMonitorRequest", "OwnerMonitorResponse"),
        *("UpdateRequest", "UpdateResponse", "ManagerUpdateRequest", "AuditorUpdate"),
        *("AuditorTreeHead", "DistinguishedRequest", "DistinguishedResponse", "DistinguishedHead"),
    }
