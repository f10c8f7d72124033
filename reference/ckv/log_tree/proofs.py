"""Verifying a batch inclusion and consistency proof (KEYTRANS §12.1).

The verifier walks the leaves ``[0, size)`` left to right. Proven leaves and retained
heads are the points it knows; every gap between them is cut into the fewest balanced
subtrees, exactly as :func:`ckv.log_tree.shape.tiling` cuts it, and each such piece
takes the next proof element. A stack of hashContent values, one per full subtree of
the prefix walked so far, merges sibling pairs as they complete, so each parent on the
way to the root is hashed once.
"""

from __future__ import annotations

import bisect
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

from ckv.errors import ErrorCode, UsageError, VerificationError
from ckv.log_tree.hashing import (
    LEAF_PREFIX,
    PARENT_PREFIX,
    HashFn,
    HashObject,
    digest_size,
    hash_object,
    sha256,
)
from ckv.log_tree.shape import MAX_TREE_SIZE, PieceKind, check_request, tiling
from ckv.log_tree.tree import FullSubtrees
from ckv.wire import messages

__all__ = ["BatchResult", "verify_batch"]

_LEAF = LEAF_PREFIX
_PARENT = PARENT_PREFIX
_ELEMENT = PieceKind.ELEMENT
#: hashContent -> value: drops the one-byte prefix.
_value_of = itemgetter(slice(1, None))


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a verified batch proof establishes."""

    #: The root value of the tree of ``full_subtrees.size`` leaves.
    root: bytes
    #: The heads the verifier retains from now on (LOG-011).
    full_subtrees: FullSubtrees
    #: The root value of the tree of ``cut`` leaves, when a cut point was asked for
    #: (LOG-015); None otherwise.
    cut_root: bytes | None = None


# Events of the verifier's walk: proven leaves, retained heads, and retained-head checks.
_EV_LEAF, _EV_RETAINED, _EV_CHECK, _EV_END, _EV_CUT = 0, 1, 2, 3, 4


def _events(
    size: int, order: Sequence[int], retained_size: int, cut: int | None = None
) -> list[tuple[int, int, int, int]]:
    """``(position, event, ref, width)`` in leaf order; the gaps between them are elements.

    This is :func:`tiling` with the gaps left implicit, so that the verifier can cut
    them into pieces in its own loop; tests check that the two agree. ``order`` is
    sorted and without repeats (the keys of a mapping, sorted). A ``cut`` becomes an
    event of its own: gaps are cut at it, and a retained head containing it is opened.
    """
    if (
        not 1 <= size <= MAX_TREE_SIZE
        or not 0 <= retained_size <= size
        or (order and (order[0] < 0 or order[-1] >= size))
        or (cut is not None and not 1 <= cut <= size)
    ):
        check_request(size, order, retained_size, cut)  # raises, with the reason
    events = _leaf_events(size, order, retained_size, cut or 0)
    if cut is not None:
        # Before every event at the cut position: the stack then holds [0, cut) exactly.
        events.insert(bisect.bisect_left(events, cut, key=itemgetter(0)), (cut, _EV_CUT, 0, 0))
    return events


def _leaf_events(
    size: int, order: Sequence[int], retained_size: int, cut: int
) -> list[tuple[int, int, int, int]]:
    """The events of :func:`_events` but the cut's own (``cut`` 0: none)."""
    if not retained_size:
        events = [(leaf, _EV_LEAF, 0, 1) for leaf in order]
        events.append((size, _EV_END, 0, 0))
        return events
    events = []
    j = 0
    count = len(order)
    ref = 0
    start = 0
    bits = retained_size
    while bits:  # the full subtrees of the retained size: its one bits, highest first
        width = 1 << (bits.bit_length() - 1)
        bits ^= width
        end = start + width
        if (j == count or order[j] >= end) and not start < cut < end:
            events.append((start, _EV_RETAINED, ref, width))
        else:
            while j < count and order[j] < end:
                events.append((order[j], _EV_LEAF, 0, 1))
                j += 1
            events.append((end, _EV_CHECK, ref, width))
        ref += 1
        start = end
    events.extend((order[i], _EV_LEAF, 0, 1) for i in range(j, count))
    events.append((size, _EV_END, 0, 0))
    return events


def _check_count(
    size: int, order: Sequence[int], retained_size: int, total: int, cut: int | None
) -> None:
    """Raise if the proof's length is not the one the tiling calls for (an error path)."""
    needed = sum(1 for p in tiling(size, order, retained_size, cut) if p[0] is _ELEMENT)
    if needed != total:
        # LOG-008: the proof must hold exactly the elements the tiling calls for.
        raise VerificationError(
            f"inclusion proof has {total} elements; a tree of size {size} with retained size "
            f"{retained_size} and {len(order)} proven leaves needs {needed}",
            requirement="LOG-008",
            code=ErrorCode.PROOF_INVALID,
            expected=needed,
            computed=total,
        )


def verify_batch(
    size: int,
    proof: messages.InclusionProof | Sequence[bytes],
    leaves: Mapping[int, bytes],
    retained: FullSubtrees | None = None,
    *,
    expected_root: bytes | None = None,
    hash_fn: HashFn = sha256,
    cut: int | None = None,
) -> BatchResult:
    """Verify a batch inclusion and consistency proof (KEYTRANS §12.1).

    ``leaves`` maps each proven leaf index to the leaf value the verifier computed;
    ``retained`` is what the verifier kept of the tree it saw last (``None`` for a
    first contact). Returns the root value of the tree of ``size`` leaves and the full
    subtrees to retain. The root is what the tree head signature must be verified
    over; when the caller already knows the root, it passes ``expected_root`` and a
    mismatch is a verification failure (LOG-009).

    With ``cut`` (1 to ``size``; KEYTRANS §12.3, an ``AuditorTreeHead.tree_size``), the
    proof must be one built with the same cut, and the result's ``cut_root`` is the
    root value of the tree of ``cut`` leaves it gives (LOG-014, LOG-015).

    Raises :class:`VerificationError` when the proof does not prove what is asked,
    and :class:`UsageError` when the request itself names no tree (LOG-012).
    """
    elements = proof.elements if isinstance(proof, messages.InclusionProof) else proof
    heads = retained.heads if retained is not None else ()
    retained_size = retained.size if retained is not None else 0
    nh = digest_size(hash_fn)
    order = sorted(leaves)
    # LOG-007: the verifier derives the proof's shape from the sizes and leaf indices alone.
    events = _events(size, order, retained_size, cut)
    total = len(elements)
    if total and set(map(len, elements)) - {nh}:
        bad = next(i for i, e in enumerate(elements) if len(e) != nh)
        # LOG-008: every element is one hash value of Hash.Nh bytes.
        raise VerificationError(
            f"inclusion proof element {bad} is {len(elements[bad])} bytes, not {nh}",
            requirement="LOG-008",
            code=ErrorCode.PROOF_INVALID,
            expected=nh,
            computed=len(elements[bad]),
        )
    new = hash_object(hash_fn)
    leaf, par = _LEAF, _PARENT  # locals: read on every node
    # ``contents`` holds the hashContent of the full subtrees of [0, pos): one per one bit
    # of ``pos``, so a piece [pos, pos + w) merges with the top while ``pos & w``.
    contents: list[bytes] = []
    push = contents.append
    pop = contents.pop
    remaining = iter(elements)
    take = remaining.__next__
    pos = 0
    at_cut: list[bytes] = []
    try:
        for stop, event, ref, width in events:
            # The gap [pos, stop) is supplied by the proof, cut as _gap cuts it: first
            # pieces as wide as pos is aligned to (each completes a sibling pair) ...
            # The top of the stack is always the left sibling of such a piece; only
            # the first can be a single leaf, as each doubles the alignment of ``pos``.
            w = pos & -pos
            if w and pos + w <= stop:
                top = pop()
                pfx = leaf if w == 1 else par
                while True:
                    nxt = pos + w
                    top = par + new(top + pfx + take()).digest()
                    w <<= 1
                    while pos & w:
                        top = par + new(pop() + top).digest()
                        w <<= 1
                    pos = nxt
                    w = nxt & -nxt
                    if pos + w > stop:
                        break
                    pfx = par
                push(top)
            # ... then pieces of decreasing width, none of which has a left sibling yet.
            rest = stop - pos
            while rest:
                w = 1 << (rest.bit_length() - 1)
                push((leaf if w == 1 else par) + take())
                rest -= w
            pos = stop
            if event == _EV_LEAF:
                value = leaves[stop]
                if len(value) != nh:
                    msg = f"the value of proven leaf {stop} is {len(value)} bytes, not {nh}"
                    raise UsageError(msg)
                content = leaf + value
                w = 1
                while pos & w:
                    content = par + new(pop() + content).digest()
                    w <<= 1
                push(content)
                pos = stop + 1
            elif event == _EV_RETAINED:
                value = heads[ref]
                if len(value) != nh:
                    msg = f"retained head {ref} is {len(value)} bytes, not {nh}"
                    raise UsageError(msg)
                push((leaf if width == 1 else par) + value)
                pos = stop + width
            elif event == _EV_CUT:
                # LOG-015: the stack now holds the full subtrees of [0, cut).
                at_cut = contents.copy()
            elif event == _EV_CHECK:
                if len(heads[ref]) != nh:
                    msg = f"retained head {ref} is {len(heads[ref])} bytes, not {nh}"
                    raise UsageError(msg)
                computed = contents[-1][1:]
                # LOG-010: a retained head holding a proven leaf must equal its recomputation.
                if not hmac.compare_digest(computed, heads[ref]):
                    _check_count(size, order, retained_size, total, cut)
                    raise VerificationError(
                        f"the retained head of leaves [{stop - width}, {stop}) does not match "
                        "the value recomputed from the proof and the proven leaves",
                        requirement="LOG-010",
                        code=ErrorCode.PROOF_INVALID,
                        expected=heads[ref].hex(),
                        computed=computed.hex(),
                    )
    except StopIteration:
        # Only ``take()`` can run past the end of the elements: the proof is short.
        exact = False
    else:
        exact = next(remaining, None) is None
    if not exact:
        _check_count(size, order, retained_size, total, cut)
        # Not reached: a walk that did not consume exactly ``total`` elements needs another count.
        raise VerificationError(
            f"inclusion proof has {total} elements and the walk did not consume them exactly",
            requirement="LOG-008",
            code=ErrorCode.PROOF_INVALID,
        )
    root = _fold(contents, new)
    cut_root = _fold(at_cut, new) if cut is not None else None
    # LOG-009: the computed root must be the root the caller holds, if it holds one.
    if expected_root is not None and not hmac.compare_digest(root, expected_root):
        raise VerificationError(
            f"the proof computes root {root.hex()} for a tree of size {size}, not "
            f"{expected_root.hex()}",
            requirement="LOG-009",
            code=ErrorCode.PROOF_INVALID,
            expected=expected_root.hex(),
            computed=root.hex(),
        )
    return BatchResult(root, FullSubtrees._trusted(size, tuple(map(_value_of, contents))), cut_root)


def _fold(contents: Sequence[bytes], new: Callable[[bytes], HashObject]) -> bytes:
    """The root value over the hashContents of full subtrees, left to right."""
    acc = contents[-1]
    par = _PARENT
    for content in reversed(contents[:-1]):
        acc = par + new(content + acc).digest()
    return acc[1:]
