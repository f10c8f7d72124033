"""The ``AuditorUpdate`` a log sends its Third-Party Auditor for each entry (KEYTRANS §15.2)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from ckv.errors import UsageError
from ckv.prefix_tree import MAX_RESULTS, PrefixTree
from ckv.wire.messages import AuditorUpdate, PrefixLeaf

__all__ = ["make_auditor_update"]

REQ_AUDITOR_UPDATE = "LOGOP-015"
REQ_AUDIT_BOUND = "LOGOP-016"


def _sorted_unique(leaves: Iterable[PrefixLeaf], name: str) -> tuple[PrefixLeaf, ...]:
    ordered = tuple(sorted(leaves, key=lambda leaf: leaf.vrf_output))
    for before, after in pairwise(ordered):
        # LOGOP-015: each list is sorted by vrf_output with no key twice (§15.2 step 2).
        if before.vrf_output == after.vrf_output:
            msg = f"key {after.vrf_output.hex()} is twice in {name}"
            raise UsageError(msg, requirement=REQ_AUDITOR_UPDATE)
    return ordered


def make_auditor_update(
    previous: PrefixTree,
    timestamp: int,
    added: Iterable[PrefixLeaf],
    removed: Iterable[PrefixLeaf] = (),
) -> AuditorUpdate:
    """The ``AuditorUpdate`` of an entry that changed ``previous`` by ``added`` and ``removed``.

    ``previous`` is the prefix tree of the previous log entry (the empty tree for
    the first entry). Both lists are sorted by ``vrf_output`` here; the proof is
    one batch proof in ``previous`` for the keys of ``added`` then ``removed``, in
    that order (§15.2). (A CKV log never sequences an entry that changes nothing,
    LOGOP-017; for one, the proof would be the previous root alone.)
    """
    added_sorted = _sorted_unique(added, "added")
    removed_sorted = _sorted_unique(removed, "removed")
    keys = [leaf.vrf_output for leaf in added_sorted] + [leaf.vrf_output for leaf in removed_sorted]
    # LOGOP-016: one PrefixProof answers at most 255 searches, so an audited entry
    # changes at most 255 keys.
    if len(keys) > MAX_RESULTS:
        msg = (
            f"an AuditorUpdate's proof answers at most {MAX_RESULTS} searches; "
            f"this entry changes {len(keys)} keys"
        )
        raise UsageError(msg, requirement=REQ_AUDIT_BOUND)
    return AuditorUpdate(
        timestamp=timestamp,
        added=added_sorted,
        removed=removed_sorted,
        proof=previous.prove(keys),
    )
