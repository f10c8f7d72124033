r"""State diagrams for the CKV specification, drawn at build time from a transition table.

The ``{state-diagram}`` directive imports a declarative transition table from the
reference code and emits an inline SVG (no JavaScript, no network access, no
external program) followed by the same table as text::

    ```{state-diagram} ckv.contact_state:TRANSITIONS
    :initial: ckv.contact_state:INITIAL
    :caption: The verification state of a contact.
    :name: fig-contact-states
    ```

The table is a ``Mapping[(State, Event), State]`` of enum members, or a
``Mapping[(Role, State, Event), State]`` from which ``:role: NAME`` selects one
role. ``:initial:`` names the initial state, either as ``module:attribute`` or as
the name of a member of the state enum (``:initial: IDLE``). States and events are
shown by their enum value when it is a string, else by their name.

Layout: the states go on a small grid, the placement chosen by an exhaustive (or,
for larger machines, a hill-climbing) search that minimises crossings, edges
running through states and total edge length; each ``(from, to)`` pair is one
arrow labelled with all its events (one per line), an arrow and its reverse bend
apart, a self-transition is a small loop, and each label sits on its own arrow
where it covers the fewest other things. In a machine of four or more states, an
event that leads to one state from every other state is drawn once, as a marker
"from any (other) state: event" at that state, not as an arrow from each state.
Under the diagram, a table (one row per event, one column per state, the next
state in each cell) gives the same transitions as searchable text.

Everything is deterministic: the same table gives the same bytes. A table that
cannot be imported or has the wrong shape is an error at the directive's line
(so ``-W`` fails the build) and an error box on the page, never an empty diagram.
Colours and fonts come from ``ckv-diagrams.css`` through the sequence diagrams'
classes (``ckv-seq``, ``ckv-seq-box``, ...), so both follow the theme alike.
"""

from __future__ import annotations

import enum
import importlib
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from xml.sax.saxutils import escape, quoteattr

from ckvdiagrams import FONT, HEAD_L, HEAD_W, LINE, NAME_FONT, text_width, wrap
from ckvdiagrams import _attrs as attrs_text
from ckvdiagrams import _n as num
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sphinx.application import Sphinx

Point = tuple[float, float]

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


class StateTableError(ValueError):
    """A transition table that cannot be found, or does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class Transition:
    """``source --event--> target``, as indices into the machine's states and events."""

    source: int
    event: int
    target: int


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A transition table reduced to what the diagram shows, in enum declaration order."""

    states: tuple[str, ...]
    events: tuple[str, ...]
    transitions: tuple[Transition, ...]
    initial: int | None = None

    def edges(self, *, drawn: bool = False) -> dict[tuple[int, int], list[int]]:
        """``(source, target) -> events``, each pair once, in a fixed order.

        With ``drawn``, without the transitions that :meth:`groups` draws as one marker.
        """
        grouped = {(e, t) for t, events, _ in self.groups() for e in events} if drawn else set()
        out: dict[tuple[int, int], list[int]] = {}
        for t in self.transitions:
            if (t.event, t.target) not in grouped:
                out.setdefault((t.source, t.target), []).append(t.event)
        return out

    def groups(self) -> list[tuple[int, tuple[int, ...], bool]]:
        """Events that lead to one state from every other state: ``(target, events, self)``.

        ``self`` says whether the event leads from the target to itself too. The
        diagram draws each group as one marker at the target ("from any state")
        instead of an arrow from every state; only for machines of four or more
        states, where that saves at least three arrows.
        """
        n = len(self.states)
        if n < GROUP_MIN_STATES:
            return []
        sources: dict[tuple[int, int], set[int]] = {}
        for t in self.transitions:
            sources.setdefault((t.event, t.target), set()).add(t.source)
        by_target: dict[tuple[int, bool], list[int]] = {}
        for (event, target), froms in sorted(sources.items(), key=lambda kv: kv[0][::-1]):
            if froms | {target} == set(range(n)):
                by_target.setdefault((target, target in froms), []).append(event)
        return [(t, tuple(events), loop) for (t, loop), events in sorted(by_target.items())]


def resolve(path: str) -> Any:
    """The object named by ``package.module:attribute[.attribute...]``."""
    module_name, sep, attr_path = path.strip().partition(":")
    if not sep or not module_name or not attr_path:
        raise StateTableError(f"{path!r} is not of the form 'package.module:NAME'")
    try:
        obj: Any = importlib.import_module(module_name)
    except (ImportError, SyntaxError) as err:
        raise StateTableError(f"cannot import module {module_name!r}: {err}") from err
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise StateTableError(
                f"module {module_name!r} has no attribute {attr_path!r}"
            ) from None
    return obj


def _label(member: enum.Enum) -> str:
    value = member.value
    return value if isinstance(value, str) and value.strip() else member.name


def _member(cls: type[enum.Enum], name: str, what: str) -> enum.Enum:
    try:
        return cls[name.strip()]
    except KeyError:
        names = ", ".join(m.name for m in cls)
        raise StateTableError(
            f"{what} {name.strip()!r} is not a member of {cls.__name__} ({names})"
        ) from None


def _one_class(values: Iterable[Any], what: str) -> type[enum.Enum]:
    classes: list[type[enum.Enum]] = []
    for v in values:
        if not isinstance(v, enum.Enum):
            raise StateTableError(f"every {what} must be an enum member, found {v!r}")
        if type(v) not in classes:
            classes.append(type(v))
    if len(classes) != 1:
        names = ", ".join(c.__name__ for c in classes)
        raise StateTableError(f"the {what}s must all come from one enum, found {names}")
    return classes[0]


def machine_from_table(
    table: object, *, role: str | None = None, initial: object = None, name: str = "the table"
) -> StateMachine:
    """Check and reduce a transition table.

    ``initial`` is a member of the state enum, or the name of one, or ``None``.
    """
    if not isinstance(table, Mapping) or not table:
        raise StateTableError(
            f"{name} must be a non-empty Mapping[(state, event), state], got {type(table).__name__}"
        )
    keys = list(table)
    sizes = {len(k) if isinstance(k, tuple) else -1 for k in keys}
    if sizes == {2, 3}:
        raise StateTableError(f"{name}: keys mix (state, event) and (role, state, event) tuples")
    if sizes not in ({2}, {3}):
        bad = next(k for k in keys if not isinstance(k, tuple) or len(k) not in (2, 3))
        raise StateTableError(
            f"{name}: every key must be a (state, event) or a (role, state, event) tuple, "
            f"found {bad!r}"
        )
    rows: list[tuple[Any, Any, Any]]
    if sizes == {3}:
        role_cls = _one_class((k[0] for k in keys), "role")
        if role is None:
            names = ", ".join(m.name for m in role_cls)
            raise StateTableError(f"{name} is keyed by role: choose one with :role: ({names})")
        chosen = _member(role_cls, role, "role")
        rows = [(k[1], k[2], v) for k, v in table.items() if k[0] is chosen]
        if not rows:
            raise StateTableError(f"{name} has no transitions for role {chosen.name}")
    else:
        if role is not None:
            raise StateTableError(f"{name} is keyed by (state, event): it has no roles")
        rows = [(k[0], k[1], v) for k, v in table.items()]
    state_cls = _one_class([s for s, _, _ in rows] + [t for _, _, t in rows], "state")
    event_cls = _one_class((e for _, e, _ in rows), "event")
    if isinstance(initial, str):
        initial = _member(state_cls, initial, "initial state")
    elif initial is not None and not isinstance(initial, state_cls):
        raise StateTableError(f"the initial state {initial!r} is not a {state_cls.__name__}")
    used = {s for s, _, _ in rows} | {t for _, _, t in rows} | ({initial} - {None})
    states = [m for m in state_cls if m in used]
    events = [m for m in event_cls if any(e is m for _, e, _ in rows)]
    s_index = {m: i for i, m in enumerate(states)}
    e_index = {m: i for i, m in enumerate(events)}
    transitions = sorted(
        (Transition(s_index[s], e_index[e], s_index[t]) for s, e, t in rows),
        key=lambda t: (t.source, t.event),
    )
    s_labels = [_label(m) for m in states]
    e_labels = [_label(m) for m in events]
    if len(set(s_labels)) < len(s_labels):
        s_labels = [m.name for m in states]
    if len(set(e_labels)) < len(e_labels):
        e_labels = [m.name for m in events]
    return StateMachine(
        tuple(s_labels),
        tuple(e_labels),
        tuple(transitions),
        None if initial is None else s_index[initial],
    )


def load(path: str, *, role: str | None = None, initial: str | None = None) -> StateMachine:
    """The machine of the table at ``module:NAME``; ``initial`` is ``module:NAME`` or a name."""
    init: object = None
    if initial is not None and initial.strip():
        init = resolve(initial) if ":" in initial else initial
    return machine_from_table(resolve(path), role=role, initial=init, name=path.strip())


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------

BOX_H = 34
BOX_PAD = 14
BOX_MIN = 80
GAP_X = 90  # at least, between the boxes of two neighbouring columns
GAP_Y = 70  # at least, between two rows
ARROW_ROOM = 16  # arrow visible on either side of a label
MARGIN = 10
LABEL_WIDTH = 140  # px, where an event's name wraps
BEND = 26  # how far an arrow and its reverse bow apart, at their middle
LOOP = 30  # how far a self-loop reaches out of its box
INIT_STUB = 28  # length of the arrow from the initial dot
GROUP_MIN_STATES = 4  # smallest machine whose "from any state" events become one marker
EXHAUSTIVE = 20000  # largest number of placements tried one by one


def _bfs(machine: StateMachine, edges: Iterable[tuple[int, int]]) -> list[int]:
    """Distance of each state from the initial one (unreachable states come last)."""
    n = len(machine.states)
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        if b not in adj[a]:
            adj[a].append(b)
    depth = [-1] * n
    roots = [machine.initial] if machine.initial is not None else []
    roots += [i for i in range(n) if i not in roots]
    for root in roots:
        if depth[root] >= 0:
            continue
        depth[root] = 0 if root == roots[0] else max(depth) + 1
        queue = [root]
        for u in queue:
            for v in adj[u]:
                if depth[v] < 0:
                    depth[v] = depth[u] + 1
                    queue.append(v)
    return depth


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    def orient(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = orient(c, d, a), orient(c, d, b)
    d3, d4 = orient(a, b, c), orient(a, b, d)
    return d1 * d2 < 0 and d3 * d4 < 0


def _dist_to_segment(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == dy == 0:
        return math.dist(p, a)
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    rows = math.ceil(n / cols) + (1 if n >= 3 else 0)
    return rows, cols


def place(machine: StateMachine) -> list[tuple[int, int]]:
    """A ``(row, col)`` for each state, minimising crossings, blocked and long edges."""
    n = len(machine.states)
    rows, cols = _grid(n)
    # Cell centres in units roughly proportional to the drawing (columns are wider).
    cells = [(c * 2.2, r * 1.0) for r in range(rows) for c in range(cols)]
    slots = len(cells)
    pairs = sorted({(min(a, b), max(a, b)) for a, b in machine.edges(drawn=True) if a != b})
    directed = [(a, b) for a, b in machine.edges(drawn=True) if a != b]
    weights = [sum(1 for e in directed if set(e) == set(p)) for p in pairs]
    depth = _bfs(machine, directed)
    # Precomputed per pair of cells: length, cells the segment runs through, crossings.
    length = [[math.dist(p, q) for q in cells] for p in cells]
    blockers = [
        [
            [k for k in range(slots) if k not in (i, j) and _dist_to_segment(cells[k], p, q) < 0.45]
            for j, q in enumerate(cells)
        ]
        for i, p in enumerate(cells)
    ]
    slanted = [
        [i % cols != j % cols and i // cols != j // cols for j in range(slots)]
        for i in range(slots)
    ]
    crossing = [
        [[[_segments_cross(p, q, u, v) for v in cells] for u in cells] for q in cells]
        for p in cells
    ]
    angle = [[math.atan2(q[1] - p[1], q[0] - p[0]) for q in cells] for p in cells]
    close = [
        [
            [min(d := abs(angle[c][u] - angle[c][v]), 2 * math.pi - d) < 0.45 for v in range(slots)]
            for u in range(slots)
        ]
        for c in range(slots)
    ]
    incident = [[(a if a != s else b) for a, b in pairs if s in (a, b)] for s in range(n)]
    fans = [(s, u, v) for s in range(n) for u, v in itertools.combinations(incident[s], 2)]
    apart = [
        (*pairs[e], *pairs[f])
        for e, f in itertools.combinations(range(len(pairs)), 2)
        if not set(pairs[e]) & set(pairs[f])
    ]
    forward = [(a, b) for a, b in directed if depth[b] > depth[a]]

    def score(pos: Sequence[int]) -> float:
        used = set(pos)
        total = 0.0
        for (a, b), weight in zip(pairs, weights, strict=True):
            i, j = pos[a], pos[b]
            total += 3 * weight * length[i][j]
            # A slanted pair of arrows (there and back) is hard to label.
            if weight > 1 and slanted[i][j]:
                total += 12
            total += 150 * sum(1 for k in blockers[i][j] if k in used)
        total += 100 * sum(1 for a, b, c, d in apart if crossing[pos[a]][pos[b]][pos[c]][pos[d]])
        # Arrows leaving a state at nearly the same angle are hard to tell apart.
        total += 30 * sum(1 for c, u, v in fans if close[pos[c]][pos[u]][pos[v]])
        # Forward arrows (away from the initial state) read left to right, top down.
        total += 2 * sum(1 for a, b in forward if pos[b] < pos[a])
        if machine.initial is not None:
            r, c = divmod(pos[machine.initial], cols)
            total += 4 * (r + c)
        return total

    count = math.perm(slots, n)
    if count <= EXHAUSTIVE:
        best = min(itertools.permutations(range(slots), n), key=score)
    else:
        # Hill climbing from the states in BFS order, row by row.
        order = sorted(range(n), key=lambda s: (depth[s], s))
        cur = [0] * n
        for k, s in enumerate(order):
            cur[s] = k
        cur_score = score(cur)
        improved = True
        while improved:
            improved = False
            for s, cell in itertools.product(range(n), range(slots)):
                trial = list(cur)
                if cell in trial:
                    trial[trial.index(cell)] = cur[s]
                trial[s] = cell
                if (new := score(trial)) < cur_score - 1e-9:
                    cur, cur_score, improved = trial, new, True
        best = tuple(cur)
    # Drop empty rows and columns.
    rc = [divmod(p, cols) for p in best]
    row_ids = sorted({r for r, _ in rc})
    col_ids = sorted({c for _, c in rc})
    return [(row_ids.index(r), col_ids.index(c)) for r, c in rc]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle by its centre and half sizes."""

    cx: float
    cy: float
    hw: float
    hh: float

    def contains(self, p: Point, pad: float = 0) -> bool:
        """Whether ``p`` lies in the box grown by ``pad``."""
        return abs(p[0] - self.cx) <= self.hw + pad and abs(p[1] - self.cy) <= self.hh + pad

    def overlap(self, other: Box) -> float:
        """The area shared with ``other``."""
        w = min(self.cx + self.hw, other.cx + other.hw) - max(
            self.cx - self.hw, other.cx - other.hw
        )
        h = min(self.cy + self.hh, other.cy + other.hh) - max(
            self.cy - self.hh, other.cy - other.hh
        )
        return max(w, 0) * max(h, 0)

    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, top, right, bottom)``."""
        return self.cx - self.hw, self.cy - self.hh, self.cx + self.hw, self.cy + self.hh


@dataclass(frozen=True, slots=True)
class Label:
    """A text block: its lines and its box (the text is centred in it)."""

    lines: tuple[str, ...]
    box: Box


@dataclass(frozen=True, slots=True)
class Arrow:
    """One drawn arrow: an SVG path, its arrowhead, the states and events it stands for."""

    source: int
    target: int
    events: tuple[int, ...]
    path: str
    head: str
    samples: tuple[Point, ...]
    label: Label


@dataclass(frozen=True, slots=True)
class Marker:
    """A short arrow into a state, from a dot (the initial state) or from a label."""

    state: int
    start: Point
    stub: str
    head: str
    dot: Point | None
    label: Label | None


@dataclass(frozen=True, slots=True)
class Layout:
    """Everything :func:`render` draws, in drawing coordinates."""

    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    markers: tuple[Marker, ...]
    bounds: tuple[float, float, float, float]


def _quad(p0: Point, c: Point, p1: Point, t: float) -> Point:
    u = 1 - t
    return (
        u * u * p0[0] + 2 * u * t * c[0] + t * t * p1[0],
        u * u * p0[1] + 2 * u * t * c[1] + t * t * p1[1],
    )


def _cubic(p0: Point, c0: Point, c1: Point, p1: Point, t: float) -> Point:
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (
        a * p0[0] + b * c0[0] + c * c1[0] + d * p1[0],
        a * p0[1] + b * c0[1] + c * c1[1] + d * p1[1],
    )


def _head(tip: Point, towards: Point) -> tuple[str, Point]:
    """An arrowhead at ``tip`` pointing away from ``towards``; also its base centre."""
    dx, dy = tip[0] - towards[0], tip[1] - towards[1]
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    bx, by = tip[0] - ux * HEAD_L, tip[1] - uy * HEAD_L
    left = (bx - uy * HEAD_W, by + ux * HEAD_W)
    right = (bx + uy * HEAD_W, by - ux * HEAD_W)
    d = f"M{num(tip[0])} {num(tip[1])} L{num(left[0])} {num(left[1])} "
    d += f"L{num(right[0])} {num(right[1])} Z"
    return d, (bx, by)


def _label_lines(machine: StateMachine, events: Iterable[int]) -> tuple[str, ...]:
    """One event per line (wrapped if long), a comma after each but the last."""
    names = [machine.events[e] for e in events]
    out: list[str] = []
    for k, name in enumerate(names):
        text = name if k == len(names) - 1 else f"{name},"
        out += wrap(text, lambda s: text_width(s, FONT, mono=False) <= LABEL_WIDTH)
    return tuple(out)


def _label_size(lines: Sequence[str]) -> tuple[float, float]:
    width = max(text_width(s, FONT, mono=False) for s in lines)
    return width / 2 + 3, len(lines) * LINE / 2 + 1


def _free_side(centre: Point, box: Box, away: Sequence[Point]) -> Point:
    """Of up, right, down, left: the side of ``box`` with the fewest lines leaving it."""
    best: tuple[float, int] | None = None
    sides: list[Point] = [(0, -1), (1, 0), (0, 1), (-1, 0)]
    for k, (sx, sy) in enumerate(sides):
        crowd = 0.0
        for px, py in away:
            dx, dy = px - centre[0], py - centre[1]
            norm = math.hypot(dx, dy) or 1.0
            crowd += max(0.0, (dx * sx + dy * sy) / norm - 0.3)
        # Up and down are shorter (a box is wider than tall): slight preference.
        crowd += 0.05 * abs(sx) * (box.hw / (box.hh + box.hw))
        if best is None or crowd < best[0] - 1e-9:
            best = (crowd, k)
    assert best is not None
    return sides[best[1]]


def lay_out(machine: StateMachine) -> Layout:
    """Positions of states, arrows and labels; deterministic."""
    cells = place(machine)
    n = len(machine.states)
    half_w = [
        max(BOX_MIN, text_width(s, NAME_FONT, mono=False, bold=True) + 2 * BOX_PAD) / 2
        for s in machine.states
    ]
    ncols = max(c for _, c in cells) + 1
    nrows = max(r for r, _ in cells) + 1
    edges = machine.edges(drawn=True)
    # Room between columns and rows for the labels of the arrows that cross them.
    gap_x = [float(GAP_X)] * ncols
    gap_y = [float(GAP_Y)] * nrows
    for (a, b), events in edges.items():
        hw, hh = _label_size(_label_lines(machine, events))
        (ra, ca), (rb, cb) = cells[a], cells[b]
        for c in range(min(ca, cb), max(ca, cb)):
            gap_x[c] = max(gap_x[c], 2 * hw + 2 * ARROW_ROOM)
        for r in range(min(ra, rb), max(ra, rb)):
            gap_y[r] = max(gap_y[r], 2 * hh + 2 * ARROW_ROOM)
    col_hw = [max([half_w[i] for i in range(n) if cells[i][1] == c]) for c in range(ncols)]
    xs = [0.0] * ncols
    for c in range(1, ncols):
        xs[c] = xs[c - 1] + col_hw[c - 1] + gap_x[c - 1] + col_hw[c]
    ys = [BOX_H / 2] * nrows
    for r in range(1, nrows):
        ys[r] = ys[r - 1] + BOX_H + gap_y[r - 1]
    boxes = [Box(xs[c], ys[r], half_w[i], BOX_H / 2) for i, (r, c) in enumerate(cells)]
    centres = [(b.cx, b.cy) for b in boxes]

    # Curves first (labels avoid all of them), then labels.
    curves: list[tuple[int, int, tuple[Point, ...], str, str]] = []
    for a, b in edges:
        if a == b:
            continue
        p0, p1 = centres[a], centres[b]
        dx, dy = p1[0] - p0[0], p1[1] - p0[1]
        dist = math.hypot(dx, dy)
        nx, ny = dy / dist, -dx / dist  # the left of the direction of travel (y down)
        base = BEND if (b, a) in edges else 0.0
        tries = [base + k * 28 for k in (0, 1, 2, 3, 4)] + [base - k * 28 for k in (1, 2, 3, 4)]
        best: tuple[int, Point] | None = None
        for bend in tries:
            ctrl = ((p0[0] + p1[0]) / 2 + 2 * bend * nx, (p0[1] + p1[1]) / 2 + 2 * bend * ny)
            trace = [_quad(p0, ctrl, p1, k / 40) for k in range(41)]
            hits = sum(
                1
                for k, box in enumerate(boxes)
                if k not in (a, b) and any(box.contains(p, 8) for p in trace)
            )
            if best is None or hits < best[0]:
                best = (hits, ctrl)
            if hits == 0:
                break
        assert best is not None
        ctrl = best[1]
        # Clip to the boxes: the last t inside the source, the first inside the target.
        t0, t1 = 0.0, 1.0
        for k in range(401):
            if not boxes[a].contains(_quad(p0, ctrl, p1, k / 400), 2):
                t0 = k / 400
                break
        for k in range(400, -1, -1):
            if not boxes[b].contains(_quad(p0, ctrl, p1, k / 400), 2):
                t1 = k / 400
                break
        tip = _quad(p0, ctrl, p1, t1)
        head, base_pt = _head(tip, _quad(p0, ctrl, p1, max(t0, t1 - 0.05)))
        # The sub-curve from t0 to the arrowhead's base (blossom of the quadratic).
        u0 = t0
        u1 = t1 - (t1 - t0) * HEAD_L / max(math.dist(_quad(p0, ctrl, p1, t0), tip), HEAD_L)
        start = _quad(p0, ctrl, p1, u0)
        mid = (
            (1 - u0) * (1 - u1) * p0[0]
            + ((1 - u0) * u1 + u0 * (1 - u1)) * ctrl[0]
            + u0 * u1 * p1[0],
            (1 - u0) * (1 - u1) * p0[1]
            + ((1 - u0) * u1 + u0 * (1 - u1)) * ctrl[1]
            + u0 * u1 * p1[1],
        )
        end = _quad(p0, ctrl, p1, u1)
        path = (
            f"M{num(start[0])} {num(start[1])} Q{num(mid[0])} {num(mid[1])} "
            f"{num(end[0])} {num(end[1])}"
        )
        samples = tuple(_quad(start, mid, base_pt, k / 48) for k in range(49))
        curves.append((a, b, samples, path, head))

    loops: list[tuple[int, tuple[Point, ...], str, str, Point]] = []
    for a, b in edges:
        if a != b:
            continue
        box = boxes[a]
        away = [c[2][len(c[2]) // 2] for c in curves if a in (c[0], c[1])]
        sx, sy = _free_side(centres[a], box, away)
        tx, ty = -sy, sx  # along the side
        edge_pt = (box.cx + sx * box.hw, box.cy + sy * box.hh)
        spread = 12.0
        q0 = (edge_pt[0] - tx * spread, edge_pt[1] - ty * spread)
        q1 = (edge_pt[0] + tx * spread, edge_pt[1] + ty * spread)
        c0 = (q0[0] + sx * LOOP * 1.3 - tx * spread, q0[1] + sy * LOOP * 1.3 - ty * spread)
        c1 = (q1[0] + sx * LOOP * 1.3 + tx * spread, q1[1] + sy * LOOP * 1.3 + ty * spread)
        head, base_pt = _head(q1, _cubic(q0, c0, c1, q1, 0.9))
        c1b = (c1[0] - sx * 4, c1[1] - sy * 4)
        path = (
            f"M{num(q0[0])} {num(q0[1])} C{num(c0[0])} {num(c0[1])} "
            f"{num(c1b[0])} {num(c1b[1])} {num(base_pt[0])} {num(base_pt[1])}"
        )
        samples = tuple(_cubic(q0, c0, c1b, base_pt, k / 16) for k in range(17))
        loops.append((a, samples, path, head, (sx, sy)))
        curves.append((a, a, samples, path, head))

    # Markers: the initial state's dot, and "from any state" groups, each a short
    # arrow into the state from the side where it covers the least.
    wanted: list[tuple[int, tuple[str, ...] | None]] = []
    if machine.initial is not None:
        wanted.append((machine.initial, None))
    for target, group, loop in machine.groups():
        head_line = "from any state:" if loop else "from any other state:"
        wanted.append((target, (head_line, *_label_lines(machine, group))))
    markers: list[Marker] = []
    obstacles: list[Point] = []
    drawn_x = [p[0] for c in curves for p in c[2]] + [x for b in boxes for x in b.bounds()[::2]]
    lo_x, hi_x = min(drawn_x), max(drawn_x)
    for i, lines in wanted:
        box = boxes[i]
        away = [c[2][len(c[2]) // 2] for c in curves if i in (c[0], c[1])]
        away += [m.start for m in markers if m.state == i]
        best_marker: tuple[float, Marker] | None = None
        for rank, (sx, sy) in enumerate([(0, -1), (-1, 0), (0, 1), (1, 0)]):
            edge_pt = (box.cx + sx * box.hw, box.cy + sy * box.hh)
            start = (edge_pt[0] + sx * INIT_STUB, edge_pt[1] + sy * INIT_STUB)
            head, base_pt = _head(edge_pt, start)
            stub = f"M{num(start[0])} {num(start[1])} L{num(base_pt[0])} {num(base_pt[1])}"
            label = None
            cost = rank * 2.0
            stub_pts = [_lerp(start, edge_pt, k / 6) for k in range(7)]
            for px, py in away:
                dx, dy = px - box.cx, py - box.cy
                norm = math.hypot(dx, dy) or 1.0
                cost += 300 * max(0.0, (dx * sx + dy * sy) / norm - 0.3)
            if lines is not None:
                hw, hh = _label_size(lines)
                lb = Box(start[0] + sx * (hw + 2), start[1] + sy * (hh + 2), hw, hh)
                label = Label(lines, lb)
                # Growing the diagram sideways makes it smaller on the page.
                left, _, right, _ = lb.bounds()
                cost += 4 * (max(0.0, lo_x - left) + max(0.0, right - hi_x))
                cost += sum(lb.overlap(Box(x.cx, x.cy, x.hw + 6, x.hh + 6)) for x in boxes) * 5
                cost += sum(lb.overlap(m.label.box) for m in markers if m.label) * 5
                cost += 150 * sum(1 for c in curves for p in c[2] if lb.contains(p, 3))
            cost += 150 * sum(
                1 for c in curves for p in c[2] for q in stub_pts if math.dist(p, q) < 4
            )
            marker = Marker(i, start, stub, head, None if lines else start, label)
            if best_marker is None or cost < best_marker[0] - 1e-9:
                best_marker = (cost, marker)
        assert best_marker is not None
        markers.append(best_marker[1])
        obstacles += [_lerp(best_marker[1].start, (box.cx, box.cy), k / 10) for k in range(6)]

    # Labels: biggest first, each where it covers the least.
    all_samples = [(c[0], c[1], c[2]) for c in curves]
    placed: list[Box] = [m.label.box for m in markers if m.label]
    labels: dict[tuple[int, int], Label] = {}
    order = sorted(
        edges.items(), key=lambda kv: (-math.prod(_label_size(_label_lines(machine, kv[1]))), kv[0])
    )
    loop_side = {a: side for a, _, _, _, side in loops}
    for (a, b), events in order:
        lines = _label_lines(machine, events)
        hw, hh = _label_size(lines)
        own = next(c[2] for c in curves if (c[0], c[1]) == (a, b))
        candidates: list[Point] = []
        if a == b:
            sx, sy = loop_side[a]
            box = boxes[a]
            reach = LOOP + 6
            ax, ay = box.cx + sx * (box.hw + reach), box.cy + sy * (box.hh + reach)
            candidates.append((ax + sx * hw, ay + sy * hh))
            candidates.extend(
                (ax + sx * hw + sy * shift * hw, ay + sy * hh + sx * shift * hh)
                for shift in (1, -1)
            )
        else:
            # On the arrow itself (its background hides the line there), so that
            # no label can be read as belonging to a neighbouring arrow; nearest
            # the middle first.
            ts = (0.5, 0.44, 0.56, 0.38, 0.62, 0.32, 0.68, 0.26, 0.74, 0.2, 0.8)
            candidates.extend(own[round(t * (len(own) - 1))] for t in ts)
        best_box: Box | None = None
        best_cost = math.inf
        for rank, (cx, cy) in enumerate(candidates):
            lb = Box(cx, cy, hw, hh)
            cost = rank * 4.0
            cost += sum(lb.overlap(Box(x.cx, x.cy, x.hw + 6, x.hh + 6)) for x in boxes) * 5
            cost += sum(lb.overlap(Box(x.cx, x.cy, x.hw + 3, x.hh + 3)) for x in placed) * 5
            for s, t, line in all_samples:
                if (s, t) != (a, b):
                    cost += 150 * sum(1 for p in line if lb.contains(p, 3))
            cost += 400 * sum(1 for p in obstacles if lb.contains(p, 3))
            if cost < best_cost - 1e-9:
                best_box, best_cost = lb, cost
        assert best_box is not None
        placed.append(best_box)
        labels[a, b] = Label(lines, best_box)

    arrows = tuple(
        Arrow(a, b, tuple(edges[a, b]), path, head, samples, labels[a, b])
        for a, b, samples, path, head in curves
    )
    pts: list[Point] = [p for arrow in arrows for p in arrow.samples]
    for box in [*boxes, *(arrow.label.box for arrow in arrows)]:
        left, top, right, bottom = box.bounds()
        pts += [(left, top), (right, bottom)]
    for m in markers:
        pts += [(m.start[0] - 6, m.start[1] - 6), (m.start[0] + 6, m.start[1] + 6)]
        if m.label is not None:
            left, top, right, bottom = m.label.box.bounds()
            pts += [(left, top), (right, bottom)]
    lo_x, lo_y = min(p[0] for p in pts), min(p[1] for p in pts)
    hi_x, hi_y = max(p[0] for p in pts), max(p[1] for p in pts)
    return Layout(tuple(boxes), arrows, tuple(markers), (lo_x, lo_y, hi_x, hi_y))


def _lerp(p: Point, q: Point, t: float) -> Point:
    return p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t


# ---------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------


def describe(machine: StateMachine) -> str:
    """A plain-text account of the diagram, for its ``<desc>`` (screen readers)."""
    parts = [f"States: {', '.join(machine.states)}."]
    if machine.initial is not None:
        parts.append(f"Initial state: {machine.states[machine.initial]}.")
    for (a, b), events in machine.edges().items():
        on = ", ".join(machine.events[e] for e in events)
        target = "itself" if a == b else machine.states[b]
        parts.append(f"From {machine.states[a]} to {target} on: {on}.")
    return " ".join(parts)


def _text(lines: Sequence[str], cx: float, top: float, cls: str, size: int, **extra: str) -> str:
    spans = "".join(
        f"<tspan{attrs_text({'x': cx, 'y': top + (k + 1) * LINE - 4})}>{escape(s)}</tspan>"
        for k, s in enumerate(lines)
    )
    attrs: dict[str, str | float] = {
        "class": cls,
        "text_anchor": "middle",
        "font_family": "sans-serif",
        "font_size": size,
        "fill": "currentColor",
        **extra,
    }
    return f"<text{attrs_text(attrs)}>{spans}</text>"


def render(machine: StateMachine, *, title: str | None = None, id_prefix: str = "ckv-st") -> str:
    """The diagram as an inline ``<svg>`` element; the same input gives the same bytes."""
    lay = lay_out(machine)
    parts: list[str] = []

    def add(tag: str, **attrs: str | float) -> None:
        parts.append(f"<{tag}{attrs_text(attrs)}/>")

    for arrow in lay.arrows:
        add(
            "path",
            class_="ckv-seq-arrow",
            d=arrow.path,
            fill="none",
            stroke="currentColor",
            stroke_width=1.3,
        )
        add("path", class_="ckv-seq-head", d=arrow.head, fill="currentColor")
    for m in lay.markers:
        if m.dot is not None:
            add("circle", class_="ckv-seq-head", cx=m.dot[0], cy=m.dot[1], r=5, fill="currentColor")
        add(
            "path",
            class_="ckv-seq-arrow",
            d=m.stub,
            fill="none",
            stroke="currentColor",
            stroke_width=1.3,
        )
        add("path", class_="ckv-seq-head", d=m.head, fill="currentColor")
    for k, (box, name) in enumerate(zip(lay.boxes, machine.states, strict=True)):
        left, top, right, bottom = box.bounds()
        add(
            "rect",
            class_="ckv-seq-box",
            x=left,
            y=top,
            width=right - left,
            height=bottom - top,
            rx=9,
            fill="none",
            stroke="currentColor",
            stroke_width=2 if k == machine.initial else 1.2,
        )
        parts.append(
            _text(
                [name], box.cx, box.cy - LINE / 2 + 1, "ckv-seq-name", NAME_FONT, font_weight="600"
            )
        )
    for label in [a.label for a in lay.arrows] + [m.label for m in lay.markers if m.label]:
        left, top, right, bottom = label.box.bounds()
        add(
            "rect",
            class_="ckv-seq-divider-box",
            x=left,
            y=top,
            width=right - left,
            height=bottom - top,
            fill="#fff",
        )
        parts.append(_text(label.lines, label.box.cx, top + 1, "ckv-seq-action", FONT))

    lo_x, lo_y, hi_x, hi_y = lay.bounds
    width, height = hi_x - lo_x + 2 * MARGIN, hi_y - lo_y + 2 * MARGIN
    svg: dict[str, str | float] = {
        "xmlns": "http://www.w3.org/2000/svg",
        "class": "ckv-seq ckv-states",
        "role": "img",
        "viewBox": f"{num(lo_x - MARGIN)} {num(lo_y - MARGIN)} {num(width)} {num(height)}",
        "width": width,
        "height": height,
        "aria_labelledby": f"{id_prefix}-title {id_prefix}-desc",
    }
    default_title = f"State diagram: {', '.join(machine.states)}"
    return (
        f"<svg{attrs_text(svg)}>"
        f"<title id={quoteattr(id_prefix + '-title')}>{escape(title or default_title)}</title>"
        f"<desc id={quoteattr(id_prefix + '-desc')}>{escape(describe(machine))}</desc>"
        f"{''.join(parts)}</svg>"
    )


def table_rows(machine: StateMachine) -> tuple[list[str], list[list[str]]]:
    """The table as text: a header (event, then one column per state) and one row per event.

    A cell holds the next state, or an em dash where the table has no entry.
    """
    header = ["Event \N{RIGHTWARDS ARROW} next state, in state:"]
    for k, s in enumerate(machine.states):
        header.append(f"{s} (initial)" if k == machine.initial else s)
    nxt = {(t.source, t.event): t.target for t in machine.transitions}
    rows = [
        [event]
        + [
            machine.states[nxt[s, e]] if (s, e) in nxt else "\N{EM DASH}"
            for s in range(len(machine.states))
        ]
        for e, event in enumerate(machine.events)
    ]
    return header, rows


# ---------------------------------------------------------------------------
# Sphinx
# ---------------------------------------------------------------------------


def _table_node(machine: StateMachine) -> nodes.table:
    header, rows = table_rows(machine)
    table = nodes.table("", classes=["ckv-state-table"])
    group = nodes.tgroup("", cols=len(header))
    table += group
    for k in range(len(header)):
        group += nodes.colspec(colwidth=3 if k == 0 else 2)

    def row(cells: list[str], *, head: bool) -> nodes.row:
        out = nodes.row()
        for k, text in enumerate(cells):
            para = nodes.paragraph(
                "", "", nodes.strong(text, text) if head or k == 0 else nodes.Text(text)
            )
            out += nodes.entry("", para)
        return out

    thead = nodes.thead()
    thead += row(header, head=True)
    tbody = nodes.tbody()
    for cells in rows:
        tbody += row(cells, head=False)
    group += thead
    group += tbody
    return table


class StateDiagramDirective(SphinxDirective):
    """``{state-diagram} module:TABLE``: a state diagram and its table, from the reference code."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "initial": directives.unchanged,
        "role": directives.unchanged,
        "caption": directives.unchanged,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        path = self.arguments[0]
        failure: str | None = None
        try:
            machine = load(path, role=self.options.get("role"), initial=self.options.get("initial"))
        except StateTableError as err:
            failure = f"state-diagram {path}: {err}"
        if failure is not None:
            # Never a silent empty diagram: an error at the directive's place (the
            # build fails: the spec is built with -W), and an error box on the page.
            logger.error(
                failure, location=(self.env.docname, self.lineno), type="ckvstates", subtype="table"
            )
            return [nodes.error("", nodes.paragraph(failure, failure))]
        for spec in (path, self.options.get("initial") or ""):
            module = importlib.import_module(spec.partition(":")[0]) if ":" in spec else None
            if module is not None and getattr(module, "__file__", None):
                self.env.note_dependency(str(module.__file__))
        figure = nodes.figure("", classes=["ckv-sequence", "ckv-state-diagram"])
        caption_text = self.options.get("caption", "").strip()
        title = None
        messages: list[nodes.system_message] = []
        caption: nodes.caption | None = None
        if caption_text:
            inline, messages = self.parse_inline(caption_text, lineno=self.lineno)
            caption = nodes.caption(caption_text, "", *inline)
            title = caption.astext()
        serial = self.env.new_serialno("ckv-state-diagram")
        figure += nodes.raw(
            "", render(machine, title=title, id_prefix=f"ckv-st-{serial}"), format="html"
        )
        if caption is not None:
            figure += caption
            figure += messages
        self.add_name(figure)
        return [figure, _table_node(machine)]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``state-diagram`` directive."""
    app.add_directive("state-diagram", StateDiagramDirective)
    return {
        "version": "1",
        "env_version": 1,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
