"""Binary ladders: which versions of a label are looked up, and what the answers mean.

KEYTRANS §5 defines the base ladder, §6.2 the search ladder (which stops early
and may omit lookups already proven elsewhere in the same response), §8.1 the
monitoring ladder, and Appendix B gives reference code for all three. This
module computes the ladders (as the log does when it builds a proof) and reads
them back (as a user does when it verifies one).

Versions are ``uint32`` (§11.7). A lookup for a version above ``2^32 - 1`` is
not made; §5 says the ladder then continues as if that lookup had been a
non-inclusion, so the greatest version ``2^32 - 1`` is established by
inclusion proofs alone (CKV's reading of OR13/kt ``DRAFT-01``, see IOP-S03).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ckv.errors import UsageError, VerificationError

__all__ = [
    "MAX_VERSION",
    "LadderReading",
    "base_binary_ladder",
    "interpret_search_ladder",
    "monitoring_binary_ladder",
    "search_binary_ladder",
    "verify_monitoring_ladder",
]

#: The greatest version a label can have: versions are ``uint32`` (§5, §11.7).
MAX_VERSION = (1 << 32) - 1
#: The greatest version of a label that has no version at all.
NO_VERSION = -1
_EMPTY: frozenset[int] = frozenset()


def _check_version(value: int, what: str) -> None:
    # SEARCH-011: versions, targets and greatest versions are uint32 values.
    if not 0 <= value <= MAX_VERSION:
        raise UsageError(f"{what} {value} is outside 0..2^32-1", requirement="SEARCH-011")


def _check_versions(values: Iterable[int], what: str) -> frozenset[int]:
    if values == ():
        return _EMPTY
    out = frozenset(values)
    for value in out:
        _check_version(value, what)
    return out


def base_binary_ladder(greatest: int | None) -> tuple[int, ...]:
    """The versions §5 looks up to establish ``greatest`` as the greatest version.

    First ``0, 1, 3, 7, ...`` up to the first version above ``greatest``, then a
    binary search between the last two. Lookups above ``2^32 - 1`` are skipped
    and count as non-inclusions. ``None`` (a label with no versions) gives
    ``(0,)``: the first lookup already fails.
    """
    if greatest is None:
        return (0,)
    _check_version(greatest, "greatest version")
    return _ladder(greatest)


def _ladder(greatest: int) -> tuple[int, ...]:
    """The base ladder of a greatest version already known to be a uint32."""
    # SEARCH-011: powers of two minus one, 0, 1, 3, ..., up to and including the first
    # one above the greatest version, which is 2^k - 1 for k = bit length of greatest + 1.
    k = (greatest + 1).bit_length()
    out = [(1 << i) - 1 for i in range(k + 1)]
    lower = out[-2]
    upper = out[-1]
    if upper > MAX_VERSION:
        # Only for greatest = 2^32-1: the lookup of 2^33-1 and every midpoint of the
        # search above 2^32-1 are skipped, counting as non-inclusions.
        out.pop()
        return tuple(out)
    # SEARCH-011: then a binary search strictly between the two bounds.
    while lower + 1 < upper:
        mid = (lower + upper) >> 1
        out.append(mid)
        if mid <= greatest:
            lower = mid
        else:
            upper = mid
    return tuple(out)


def search_binary_ladder(
    target: int,
    greatest: int | None,
    left_inclusion: Iterable[int] = (),
    right_non_inclusion: Iterable[int] = (),
) -> tuple[int, ...]:
    """The lookups of a §6.2 search ladder, as the log builds it for one log entry.

    ``greatest`` is the greatest version that exists in that entry's prefix tree
    (None if the label has none there). The ladder stops after the first
    inclusion above ``target`` or the first non-inclusion at or below it;
    versions in ``left_inclusion`` (proven included for an entry to the left) or
    ``right_non_inclusion`` (proven absent for an entry to the right) are then
    omitted, when the calling algorithm says omission applies.
    """
    _check_version(target, "target version")
    left_set = _check_versions(left_inclusion, "left_inclusion version")
    right_set = _check_versions(right_non_inclusion, "right_non_inclusion version")
    have = NO_VERSION if greatest is None else greatest
    out: list[int] = []
    for version in base_binary_ladder(greatest):
        included = version <= have
        # SEARCH-013: omit only what was proven in the same direction.
        if version not in left_set and version not in right_set:
            out.append(version)
        # SEARCH-012: stop after an inclusion above the target or a non-inclusion at or
        # below it.
        if included != (version <= target):
            break
    return tuple(out)


def monitoring_binary_ladder(target: int) -> tuple[int, ...]:
    """The lookups of a §8.1 monitoring ladder: the base ladder of ``target`` up to it.

    No lookup is omitted for having been proven elsewhere: Appendix B's
    ``left_inclusion`` parameter is a leftover the draft's editor disowned
    (OR13/kt ``DRAFT-09``, IOP-S02).
    """
    _check_version(target, "target version")
    # SEARCH-016: the base ladder of the target without the lookups above the target.
    return tuple(v for v in base_binary_ladder(target) if v <= target)


class LadderReading(NamedTuple):
    """What a search ladder established about the greatest version ``g`` of a label.

    A named tuple rather than a frozen dataclass: it is built once per ladder on the
    verifier's hot path, where a frozen dataclass's initializer costs as much as the walk.
    """

    #: -1 if ``g`` is below the target, 0 if equal, 1 if above.
    verdict: int
    #: The versions whose outcomes were read from the proof, in order (omitted ones excluded).
    looked_up: tuple[int, ...]
    #: The least ``g`` consistent with everything known (-1: the label may have no version).
    lowest: int
    #: The greatest ``g`` consistent with everything known.
    highest: int


def interpret_search_ladder(
    target: int,
    outcomes: Sequence[bool],
    left_inclusion: Iterable[int] = (),
    right_non_inclusion: Iterable[int] = (),
) -> LadderReading:
    """Read a search ladder's outcomes (True = inclusion) against ``target``.

    The user does not know the entry's greatest version, so it walks the
    ladder of the target itself: a rung whose outcome agrees with the target
    leads to the same next rung the log used, and the first one that disagrees
    ends the ladder. The log's ladder for that entry is therefore a prefix of
    the target's (OR13/kt ``NOTE-04``). Versions in ``left_inclusion`` and
    ``right_non_inclusion`` are taken as proven and consume no outcome.

    Raises :class:`VerificationError` when the outcomes stop before the verdict
    is known, continue after it, or contradict every possible greatest version.
    """
    _check_version(target, "target version")
    left_set = _check_versions(left_inclusion, "left_inclusion version")
    right_set = _check_versions(right_non_inclusion, "right_non_inclusion version")
    lowest = NO_VERSION
    highest = MAX_VERSION
    for version in left_set:
        lowest = max(lowest, version)
    for version in right_set:
        highest = min(highest, version - 1)
    # SEARCH-015: the outcomes known from other entries must themselves fit one greatest
    # version (nothing proven included to the left is proven absent to the right).
    if lowest > highest:
        raise VerificationError(
            f"versions proven included to the left (up to {lowest}) are proven absent to "
            f"the right (from {highest + 1})",
            requirement="SEARCH-015",
            expected=f"greatest version in [{lowest}, ...]",
            computed=f"upper bound {highest}",
        )
    looked_up: list[int] = []
    available = len(outcomes)
    used = 0
    verdict = 0
    for version in _ladder(target):
        if left_set and version in left_set:
            included = True
        elif right_set and version in right_set:
            included = False
        else:
            # SEARCH-014: every lookup up to the verdict must be present.
            if used == available:
                raise VerificationError(
                    f"search ladder for target {target} ends after {used} lookups, before it "
                    f"decides the greatest version; the next lookup is version {version}",
                    requirement="SEARCH-014",
                    expected=f"an outcome for version {version}",
                    computed=f"{used} outcomes",
                )
            included = outcomes[used]
            used += 1
            looked_up.append(version)
        if included:
            if version > lowest:  # noqa: PLR1730 - avoids a call per rung (hot path)
                lowest = version
            if version > target:
                verdict = 1
                break
        else:
            if version <= highest:
                highest = version - 1
            if version <= target:
                verdict = -1
                break
    # SEARCH-012: nothing may follow the lookup that decided the verdict.
    if used != len(outcomes):
        raise VerificationError(
            f"search ladder for target {target} carries {len(outcomes)} lookups but the "
            f"verdict is decided after {used}",
            requirement="SEARCH-012",
            expected=used,
            computed=len(outcomes),
        )
    # SEARCH-015: the outcomes, with those known from other entries, must fit one
    # greatest version.
    if lowest > highest:
        raise VerificationError(
            f"search ladder for target {target} is inconsistent with every greatest version: "
            f"it needs at least version {lowest} and at most version {highest}",
            requirement="SEARCH-015",
            expected=f"greatest version in [{lowest}, ...]",
            computed=f"upper bound {highest}",
        )
    return LadderReading(verdict, tuple(looked_up), lowest, highest)


def verify_monitoring_ladder(target: int, outcomes: Sequence[bool]) -> tuple[int, ...]:
    """Check a §8.1 monitoring ladder: one inclusion for every lookup, no more, no less.

    Returns the versions looked up, in order.
    """
    ladder = monitoring_binary_ladder(target)
    # SEARCH-017: exactly one outcome per lookup of the monitoring ladder.
    if len(outcomes) != len(ladder):
        raise VerificationError(
            f"monitoring ladder for version {target} has {len(outcomes)} lookups, "
            f"expected {len(ladder)}",
            requirement="SEARCH-017",
            expected=len(ladder),
            computed=len(outcomes),
        )
    for version, included in zip(ladder, outcomes, strict=True):
        # SEARCH-017: every lookup proves inclusion (no downgrade below the target).
        if not included:
            raise VerificationError(
                f"monitoring ladder for version {target}: version {version} is proven absent",
                requirement="SEARCH-017",
                expected="inclusion",
                computed="non-inclusion",
            )
    return ladder
