"""Sorted lists of ARNs as the analysis hands them to findings: which of them are patterns, and a
tuple type saying a list holds none (so that a list of every secret of the account, which a role
reading `*` reaches, is not searched for patterns again by each finding that names it)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import chain


def is_pattern(arn: str) -> bool:
    """Secret and parameter names cannot hold `*` or `?`: an ARN with one is a pattern (the expected
    `<name>-??????` of a secret the snapshot lacks, or a policy's wildcard)."""
    return "*" in arn or "?" in arn


class Concrete(tuple[str, ...]):
    """ARNs known to hold no pattern: split_patterns hands them back at once. What is cut from or
    merged of such lists keeps this type."""

    __slots__ = ()


def merge_sorted(runs: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """Sorted lists (a role's readable ARNs, a statement's reach) as one sorted list without repeats:
    a single list as it is; several sorted one after another, which timsort merges in linear time (a
    role that reads `*` lists every secret of the account), the dict dropping repeats. Concrete when
    every list is."""
    if len(runs) == 1:
        return runs[0]
    merged = tuple(dict.fromkeys(sorted(chain.from_iterable(runs))))
    return Concrete(merged) if all(isinstance(run, Concrete) for run in runs) else merged


def merge_into(ordered: tuple[str, ...], extra: Iterable[str]) -> tuple[str, ...]:
    """The sorted `ordered` with the sorted `extra` (none of them in it) put in their places, found by
    bisection: a few ARNs added to a role's list of every secret of the account cost a copy of it, not
    a sort. Of the same type as `ordered` (the caller says whether `extra` holds a pattern)."""
    out: list[str] = []
    start = 0
    for item in extra:
        at = bisect_left(ordered, item, start)
        out += ordered[start:at]
        out.append(item)
        start = at
    if not out:
        return ordered
    out += ordered[start:]
    return type(ordered)(out)


def split_patterns(resources: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The resources that are not patterns and those that are, each in their order; the first is the
    tuple itself when it holds no pattern. Lists run to every secret of the account (a role reading
    `*`) with a pattern or two among them: they are searched as one text, at C speed."""
    if isinstance(resources, Concrete):
        return resources, ()
    text = "\n".join(resources)
    if "*" not in text and "?" not in text:
        return resources, ()
    if text.count("\n") != len(resources) - 1:  # a name with a line break: one by one
        return tuple(r for r in resources if not is_pattern(r)), tuple(r for r in resources if is_pattern(r))
    starts = set()
    for mark in "*?":  # the line around each mark, then on from the line's end (str.find is memchr)
        at = text.find(mark)
        while at >= 0:
            starts.add(text.rfind("\n", 0, at) + 1)
            end = text.find("\n", at)
            at = text.find(mark, end) if end >= 0 else -1
    # the index of each such line, counting line breaks from the one before (str.count is C too), and
    # the list cut around them: slices, not a test of each entry
    lines = []
    line = counted = 0
    for start in sorted(starts):
        line += text.count("\n", counted, start)
        counted = start
        lines.append(line)
    kept: list[str] = []
    begin = 0
    for line in lines:
        kept += resources[begin:line]
        begin = line + 1
    kept += resources[begin:]
    return tuple(kept), tuple(map(resources.__getitem__, lines))


def concrete(resources: tuple[str, ...]) -> tuple[str, ...]:
    """The resources that are not patterns, in their order (the tuple itself when it holds none)."""
    return split_patterns(resources)[0]
