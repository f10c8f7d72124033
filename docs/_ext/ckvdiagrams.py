r"""Sequence diagrams for the CKV specification, rendered to inline SVG at build time.

The ``{sequence}`` directive takes a small line-based description and emits an
SVG image into the HTML: no JavaScript, no network access, no external program.
One statement per line; blank lines and lines starting with ``#`` are ignored::

    participant Client as "Alice's phone"    (display name optional; order of
    participant Log as "Key directory"        declaration, else of first mention)
    Client -> Log: SearchRequest(label)       solid arrow: a request
    Log --> Client: SearchResponse(...)       dashed arrow: a response
    Client -> Client: retain the tree head    a message to oneself
    note over Client: verify the proof        a note over one participant ...
    note over Client, Log: text               ... or spanning two
    == about once a day ==                    a divider between phases

In any text, ``\n`` breaks the line; long texts are also wrapped at spaces.
Options: ``:caption:`` (makes the diagram a numbered figure) and ``:name:`` (a
label for ``{numref}``). A line that is not one of the statements above is a
build warning naming the line (and ``-W`` fails the build).

The same input always gives the same bytes. Text widths are estimated from
character counts, generously, so that labels do not overlap. Colours come from
the theme through ``ckv-diagrams.css`` (``currentColor`` and furo's CSS
variables), so the diagrams follow the light and dark themes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from xml.sax.saxutils import escape, quoteattr

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sphinx.application import Sphinx

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# The language
# ---------------------------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
RESERVED = frozenset({"participant", "note", "over", "as"})

_PARTICIPANT = re.compile(rf"participant\s+(?P<key>{_NAME})(?:\s+as\s+\"(?P<label>[^\"]*)\")?")
_MESSAGE = re.compile(
    rf"(?P<src>{_NAME})\s*(?P<arrow>-->|->)\s*(?P<dst>{_NAME})\s*(?::(?P<text>.*))?"
)
_NOTE = re.compile(rf"note\s+over\s+(?P<a>{_NAME})(?:\s*,\s*(?P<b>{_NAME}))?\s*(?::(?P<text>.*))?")
_DIVIDER = re.compile(r"==(?P<text>.*?)==")

SYNTAX = (
    'expected one of: participant NAME [as "Display name"] | A -> B: text | '
    "A --> B: text | note over A[, B]: text | == text =="
)


class SequenceSyntaxError(ValueError):
    """A line of a sequence description that is not a valid statement."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.reason = message


@dataclass(frozen=True, slots=True)
class Participant:
    """A lifeline: its key in the description and the name shown."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Message:
    """An arrow from ``src`` to ``dst`` (the same for a self message)."""

    src: int
    dst: int
    text: str
    dashed: bool


@dataclass(frozen=True, slots=True)
class Note:
    """A note over the participants ``first`` to ``last`` (indices, ``first <= last``)."""

    first: int
    last: int
    text: str


@dataclass(frozen=True, slots=True)
class Divider:
    """A horizontal rule across the diagram, with a text."""

    text: str


Step = Message | Note | Divider


@dataclass(frozen=True, slots=True)
class SequenceDiagram:
    """A parsed sequence diagram."""

    participants: tuple[Participant, ...]
    steps: tuple[Step, ...]


@dataclass(slots=True)
class _Parser:
    participants: list[Participant] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    def declare(self, lineno: int, key: str, label: str | None) -> None:
        if key in RESERVED:
            raise SequenceSyntaxError(lineno, f"{key!r} is a key word, not a participant name")
        if key in self.index:
            raise SequenceSyntaxError(
                lineno, f"participant {key!r} is already declared or used above"
            )
        if label is not None and not label.strip():
            raise SequenceSyntaxError(lineno, f"empty display name for participant {key!r}")
        self.index[key] = len(self.participants)
        self.participants.append(Participant(key, key if label is None else label.strip()))

    def use(self, lineno: int, key: str) -> int:
        if key in RESERVED:
            raise SequenceSyntaxError(lineno, f"{key!r} is a key word, not a participant name")
        if key not in self.index:
            self.declare(lineno, key, None)
        return self.index[key]


def _text(lineno: int, text: str | None, what: str) -> str:
    if text is None or not text.strip():
        raise SequenceSyntaxError(lineno, f"{what} needs a text after ':'")
    return text.strip()


def parse(source: str | Iterable[str]) -> SequenceDiagram:
    """Parse a sequence description; raise `SequenceSyntaxError` naming the first bad line."""
    lines = source.splitlines() if isinstance(source, str) else list(source)
    p = _Parser()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if m := _PARTICIPANT.fullmatch(line):
            p.declare(lineno, m["key"], m["label"])
        elif m := _MESSAGE.fullmatch(line):
            src, dst = p.use(lineno, m["src"]), p.use(lineno, m["dst"])
            text = _text(lineno, m["text"], "a message")
            p.steps.append(Message(src, dst, text, dashed=m["arrow"] == "-->"))
        elif m := _NOTE.fullmatch(line):
            a = p.use(lineno, m["a"])
            b = a if m["b"] is None else p.use(lineno, m["b"])
            if m["b"] is not None and a == b:
                raise SequenceSyntaxError(lineno, "a note over two participants names one twice")
            p.steps.append(Note(min(a, b), max(a, b), _text(lineno, m["text"], "a note")))
        elif m := _DIVIDER.fullmatch(line):
            p.steps.append(Divider(_text(lineno, m["text"], "a divider")))
        else:
            raise SequenceSyntaxError(lineno, f"cannot parse {line!r}; {SYNTAX}")
    if not p.steps:
        raise SequenceSyntaxError(max(len(lines), 1), "the diagram has no messages or notes")
    return SequenceDiagram(tuple(p.participants), tuple(p.steps))


# ---------------------------------------------------------------------------
# Layout and SVG
# ---------------------------------------------------------------------------

FONT = 13  # px, all texts but participant names
NAME_FONT = 14  # px, participant names (bold)
LINE = 17  # px between text baselines
MONO_EM = 0.61  # width of a monospace character, in em (fonts of furo's stack: 0.55-0.6)
WRAP_MESSAGE = (48, 32)  # characters per line of a message label: <= 2 participants, more
WRAP_NOTE = (300, 230)  # px per line of a note over one participant, or a self message: ditto
MARGIN = 12
BOX_H = 34  # participant box height
BOX_PAD = 14  # horizontal padding inside a participant box
BOX_MIN = 84  # minimum participant box width
GAP = 28  # minimum space between two participant boxes
LABEL_PAD = 14  # space left and right of a message label between two lifelines
NOTE_PAD_X = 10
NOTE_PAD_Y = 7
NOTE_SPAN = 20  # how far a note over two participants reaches past their lifelines
SELF_W = 30  # width of a self-message loop
SELF_H = 20  # height of a self-message loop
HEAD_L = 9  # arrowhead length
HEAD_W = 4.5  # arrowhead half-width
ROW_GAP = 14  # vertical space after each step


def _n(v: float) -> str:
    """Format a coordinate: at most one decimal, no ``-0``, same text for the same value."""
    r = round(v, 1)
    return f"{r:g}" if r != 0 else "0"


def _sans_em(c: str) -> float:
    """Width of a character in a Helvetica/Arial-like face, in em, rounded up."""
    if unicodedata.east_asian_width(c) in "WF":
        return 1.0
    if c in " ijlI.,;:!|'`":
        return 0.3
    if c in "frt()[]-/":
        return 0.38
    if c in "mwMW@%":
        return 0.9
    if c.isupper():
        return 0.74
    return 0.58


def text_width(text: str, size: float, *, mono: bool, bold: bool = False) -> float:
    """Estimated rendered width of ``text`` in pixels, erring on the wide side."""
    if mono:
        units = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
        return math.ceil(units * size * MONO_EM)
    return math.ceil(sum(map(_sans_em, text)) * size * (1.08 if bold else 1.0))


_PIECE = re.compile(r"[^\s(]+\((?=\S)|\S+")


def wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    r"""Split at ``\n``, then wrap each part into the longest lines that fit.

    Lines break at spaces and after an opening parenthesis; a piece that does not
    fit on its own stays on a line of its own.
    """
    out: list[str] = []
    for part in text.split("\\n"):
        line = ""
        for word in _PIECE.findall(part):
            sep = "" if not line or line.endswith("(") else " "
            candidate = f"{line}{sep}{word}"
            if line and not fits(candidate):
                out.append(line)
                line = word
            else:
                line = candidate
        out.append(line)
    return out


def _by_chars(limit: int) -> Callable[[str], bool]:
    return lambda s: len(s) <= limit


def _by_width(limit: float, *, mono: bool = False) -> Callable[[str], bool]:
    return lambda s: text_width(s, FONT, mono=mono) <= limit


@dataclass(frozen=True, slots=True)
class _Laid:
    """A step's text, wrapped, and the width of its widest line."""

    lines: list[str]
    width: float
    mono: bool

    @classmethod
    def of(cls, text: str, fits: Callable[[str], bool], *, mono: bool) -> _Laid:
        lines = wrap(text, fits)
        return cls(lines, max(text_width(s, FONT, mono=mono) for s in lines), mono)


def _layout_columns(seq: SequenceDiagram, laid: list[_Laid]) -> tuple[list[float], list[float]]:
    """The x of each lifeline (first at 0) and each participant box width."""
    count = len(seq.participants)
    boxes = [
        max(BOX_MIN, text_width(p.label, NAME_FONT, mono=False, bold=True) + 2 * BOX_PAD)
        for p in seq.participants
    ]
    # need[j] holds (i, d): lifeline j must be at least d to the right of lifeline i < j.
    need: list[list[tuple[int, float]]] = [[] for _ in range(count)]
    for step, geo in zip(seq.steps, laid, strict=True):
        if isinstance(step, Message) and step.src != step.dst:
            i, j = sorted((step.src, step.dst))
            need[j].append((i, geo.width + 2 * LABEL_PAD))
        elif isinstance(step, Message):
            if step.src + 1 < count:
                need[step.src + 1].append((step.src, geo.width + 12 + LABEL_PAD))
        elif isinstance(step, Note) and step.first == step.last:
            # Keep the neighbouring lifelines clear of the note (see _note_span for
            # the notes at either end, which are pulled in towards the middle).
            i, w = step.first, geo.width + 2 * NOTE_PAD_X
            reach = w / 2 if 0 < i < count - 1 else max(w / 2, w - boxes[i] / 2)
            if i + 1 < count:
                need[i + 1].append((i, reach + 8))
            if i > 0:
                need[i].append((i - 1, reach + 8))
        elif isinstance(step, Note):
            need[step.last].append((step.first, geo.width + 2 * NOTE_PAD_X - 2 * NOTE_SPAN))
    xs = [0.0] * count
    for j in range(1, count):
        x = xs[j - 1] + (boxes[j - 1] + boxes[j]) / 2 + GAP
        for i, d in need[j]:
            x = max(x, xs[i] + d)
        xs[j] = math.ceil(x)
    return xs, boxes


def _attrs(attrs: dict[str, str | float]) -> str:
    return "".join(
        f" {k.rstrip('_').replace('_', '-')}={quoteattr(v if isinstance(v, str) else _n(v))}"
        for k, v in attrs.items()
    )


class _Svg:
    """Collects SVG elements in drawing order."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, tag: str, **attrs: str | float) -> None:
        self.parts.append(f"<{tag}{_attrs(attrs)}/>")

    def text(
        self, lines: list[str], x: float, top: float, *, anchor: str, cls: str, mono: bool
    ) -> None:
        """Lines of text whose first line's box starts at ``top``."""
        spans = "".join(
            f"<tspan{_attrs({'x': x, 'y': top + (k + 1) * LINE - 4})}>{escape(line)}</tspan>"
            for k, line in enumerate(lines)
        )
        attrs: dict[str, str | float] = {
            "class": cls,
            "text_anchor": anchor,
            "font_family": "monospace" if mono else "sans-serif",
            "font_size": FONT,
            "fill": "currentColor",
        }
        self.parts.append(f"<text{_attrs(attrs)}>{spans}</text>")

    def arrow(self, pts: list[tuple[float, float]], sign: int, *, dashed: bool) -> None:
        """A polyline ending in a horizontal arrowhead pointing in direction ``sign``."""
        tx, ty = pts[-1]
        base = tx - sign * HEAD_L
        d = "M" + " L".join(f"{_n(x)} {_n(y)}" for x, y in [*pts[:-1], (base, ty)])
        extra: dict[str, str | float] = {"stroke_dasharray": "6 4"} if dashed else {}
        cls = "ckv-seq-arrow ckv-seq-reply" if dashed else "ckv-seq-arrow"
        self.add(
            "path", class_=cls, d=d, fill="none", stroke="currentColor", stroke_width=1.3, **extra
        )
        head = f"M{_n(tx)} {_n(ty)} L{_n(base)} {_n(ty - HEAD_W)} L{_n(base)} {_n(ty + HEAD_W)} Z"
        self.add("path", class_="ckv-seq-head", d=head, fill="currentColor")


def describe(seq: SequenceDiagram) -> str:
    """A plain-text account of the diagram, for its ``<desc>`` (screen readers)."""

    def flat(text: str) -> str:
        return " ".join(text.replace("\\n", " ").split())

    names = [p.label for p in seq.participants]
    parts = [f"Participants: {', '.join(names)}."]
    for k, step in enumerate(seq.steps, start=1):
        if isinstance(step, Message):
            kind = "reply" if step.dashed else "message"
            target = "itself" if step.src == step.dst else names[step.dst]
            parts.append(f"{k}. {names[step.src]} to {target} ({kind}): {flat(step.text)}.")
        elif isinstance(step, Note):
            over = names[step.first]
            if step.last != step.first:
                over = f"{over} and {names[step.last]}"
            parts.append(f"{k}. Note over {over}: {flat(step.text)}.")
        else:
            parts.append(f"{k}. {flat(step.text)}.")
    return " ".join(parts)


def _note_span(step: Note, geo: _Laid, xs: list[float], boxes: list[float]) -> tuple[float, float]:
    """Left and right edge of a note box.

    A note is centred on its participant(s); a note over the first or the last
    participant alone that would stick out past that participant's box is pulled
    in towards the middle instead, keeping the diagram narrow.
    """
    left, right = xs[step.first], xs[step.last]
    w = geo.width + 2 * NOTE_PAD_X
    if step.first != step.last:
        w = max(w, right - left + 2 * NOTE_SPAN)
    a = (left + right - w) / 2
    if step.first == step.last and len(xs) > 1:
        if step.first == 0:
            a = max(a, left - boxes[0] / 2)
        elif step.first == len(xs) - 1:
            a = min(a, left + boxes[-1] / 2 - w)
    return a, a + w


def _lay_out(seq: SequenceDiagram) -> tuple[list[_Laid], list[float], list[float], float, float]:
    """Wrapped texts, lifeline positions, box widths, and the horizontal extent."""
    laid: list[_Laid] = []
    few = len(seq.participants) <= 2
    chars, prose = (WRAP_MESSAGE[0], WRAP_NOTE[0]) if few else (WRAP_MESSAGE[1], WRAP_NOTE[1])
    for step in seq.steps:
        # Messages between participants name wire structs: monospace. Self messages,
        # notes and dividers are prose.
        if isinstance(step, Message) and step.src != step.dst:
            laid.append(_Laid.of(step.text, _by_chars(chars), mono=True))
        else:
            laid.append(_Laid.of(step.text, _by_width(prose), mono=False))
    xs, boxes = _layout_columns(seq, laid)
    lo, hi = xs[0] - boxes[0] / 2, xs[-1] + boxes[-1] / 2
    for k, step in enumerate(seq.steps):
        if isinstance(step, Note) and step.first != step.last:
            # The columns are fixed now: a note over two participants uses their span.
            room = xs[step.last] - xs[step.first] + 2 * NOTE_SPAN - 2 * NOTE_PAD_X
            laid[k] = _Laid.of(step.text, _by_width(max(room, prose)), mono=False)
        if isinstance(step, Message) and step.src == step.dst:
            hi = max(hi, xs[step.src] + 8 + laid[k].width + 4, xs[step.src] + SELF_W + 4)
        elif isinstance(step, Note):
            a, b = _note_span(step, laid[k], xs, boxes)
            lo, hi = min(lo, a), max(hi, b)
    for k, step in enumerate(seq.steps):
        if isinstance(step, Divider):
            laid[k] = _Laid.of(step.text, _by_width(max(hi - lo - 48, prose)), mono=False)
            grow = (laid[k].width + 48 - (hi - lo)) / 2
            if grow > 0:
                lo, hi = lo - grow, hi + grow
    return laid, xs, boxes, lo, hi


def render(seq: SequenceDiagram, *, title: str | None = None, id_prefix: str = "ckv-seq") -> str:
    """The diagram as an inline ``<svg>`` element; the same input gives the same bytes."""
    laid, xs, boxes, lo, hi = _lay_out(seq)

    steps = _Svg()
    top = MARGIN
    y: float = top + BOX_H + 18
    for step, geo in zip(seq.steps, laid, strict=True):
        text_h = len(geo.lines) * LINE
        if isinstance(step, Message) and step.src != step.dst:
            x1, x2 = xs[step.src], xs[step.dst]
            steps.text(geo.lines, (x1 + x2) / 2, y, anchor="middle", cls="ckv-seq-label", mono=True)
            ay = y + text_h + 5
            steps.arrow([(x1, ay), (x2, ay)], 1 if x2 > x1 else -1, dashed=step.dashed)
            y = ay + ROW_GAP + 4
        elif isinstance(step, Message):
            x = xs[step.src]
            steps.text(geo.lines, x + 8, y, anchor="start", cls="ckv-seq-action", mono=False)
            ay = y + text_h + 5
            loop = [(x, ay), (x + SELF_W, ay), (x + SELF_W, ay + SELF_H), (x, ay + SELF_H)]
            steps.arrow(loop, -1, dashed=step.dashed)
            y = ay + SELF_H + ROW_GAP + 4
        elif isinstance(step, Note):
            a, b = _note_span(step, geo, xs, boxes)
            h = text_h + 2 * NOTE_PAD_Y
            steps.add(
                "rect",
                class_="ckv-seq-note",
                x=a,
                y=y,
                width=b - a,
                height=h,
                rx=3,
                fill="#eef4ff",
                stroke="currentColor",
                stroke_width=0.8,
            )
            steps.text(
                geo.lines,
                (a + b) / 2,
                y + NOTE_PAD_Y,
                anchor="middle",
                cls="ckv-seq-note-text",
                mono=False,
            )
            y += h + ROW_GAP
        else:
            mid_y = y + 4 + text_h / 2
            steps.add(
                "line",
                class_="ckv-seq-divider",
                x1=lo,
                y1=mid_y,
                x2=hi,
                y2=mid_y,
                stroke="currentColor",
                stroke_width=0.8,
                stroke_dasharray="2 3",
            )
            w = geo.width + 16
            steps.add(
                "rect",
                class_="ckv-seq-divider-box",
                x=(lo + hi - w) / 2,
                y=y + 1,
                width=w,
                height=text_h + 6,
                fill="#fff",
            )
            steps.text(
                geo.lines,
                (lo + hi) / 2,
                y + 4,
                anchor="middle",
                cls="ckv-seq-divider-text",
                mono=False,
            )
            y += text_h + 8 + ROW_GAP
    bottom = y + 2

    heads = _Svg()
    for x in xs:
        heads.add(
            "line",
            class_="ckv-seq-lifeline",
            x1=x,
            y1=top + BOX_H,
            x2=x,
            y2=bottom,
            stroke="currentColor",
            stroke_width=1,
            stroke_dasharray="4 4",
            opacity=0.5,
        )
    for p, x, w in zip(seq.participants, xs, boxes, strict=True):
        heads.add(
            "rect",
            class_="ckv-seq-box",
            x=x - w / 2,
            y=top,
            width=w,
            height=BOX_H,
            rx=4,
            fill="none",
            stroke="currentColor",
            stroke_width=1.2,
        )
        attrs: dict[str, str | float] = {
            "class": "ckv-seq-name",
            "x": x,
            "y": top + BOX_H / 2 + NAME_FONT * 0.36,
            "text_anchor": "middle",
            "font_family": "sans-serif",
            "font_size": NAME_FONT,
            "font_weight": "600",
            "fill": "currentColor",
        }
        heads.parts.append(f"<text{_attrs(attrs)}>{escape(p.label)}</text>")

    width, height = hi - lo + 2 * MARGIN, bottom + MARGIN
    names = ", ".join(p.label for p in seq.participants)
    svg: dict[str, str | float] = {
        "xmlns": "http://www.w3.org/2000/svg",
        "class": "ckv-seq",
        "role": "img",
        "viewBox": f"{_n(lo - MARGIN)} 0 {_n(width)} {_n(height)}",
        "width": width,
        "height": height,
        "aria_labelledby": f"{id_prefix}-title {id_prefix}-desc",
    }
    return (
        f"<svg{_attrs(svg)}>"
        f"<title id={quoteattr(id_prefix + '-title')}>"
        f"{escape(title or f'Sequence diagram: {names}')}</title>"
        f"<desc id={quoteattr(id_prefix + '-desc')}>{escape(describe(seq))}</desc>"
        f"{''.join(heads.parts)}{''.join(steps.parts)}</svg>"
    )


# ---------------------------------------------------------------------------
# Sphinx
# ---------------------------------------------------------------------------


class SequenceDirective(SphinxDirective):
    """``{sequence}``: a sequence diagram from a text description, as inline SVG."""

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "caption": directives.unchanged,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        try:
            seq = parse(list(self.content))
        except SequenceSyntaxError as err:
            # In MyST, ``lineno`` is the fence's line and ``content_offset`` counts the
            # option lines between it and the body.
            logger.warning(
                "sequence diagram %s",
                err,
                location=(self.env.docname, self.lineno + self.content_offset + err.line),
                type="ckvdiagrams",
                subtype="syntax",
            )
            return []
        figure = nodes.figure("", classes=["ckv-sequence"])
        caption_text = self.options.get("caption", "").strip()
        title = None
        if caption_text:
            inline, messages = self.parse_inline(caption_text, lineno=self.lineno)
            caption = nodes.caption(caption_text, "", *inline)
            title = caption.astext()
        serial = self.env.new_serialno("ckv-sequence")
        svg = render(seq, title=title, id_prefix=f"ckv-seq-{serial}")
        figure += nodes.raw("", svg, format="html")
        if caption_text:
            figure += caption
            figure += messages
        self.add_name(figure)
        return [figure]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``sequence`` directive."""
    app.add_directive("sequence", SequenceDirective)
    return {
        "version": "1",
        "env_version": 1,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
