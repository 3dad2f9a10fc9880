"""Which of N known ARNs an IAM Resource pattern matches, without testing every ARN against every
pattern: later scans hold 100,000 secrets and 5,000 roles with several patterns each.

The pattern's test (wildcard.py: its regex, or string operations that decide alike) stays the only
judge of a match; the index only narrows the candidates, and never drops one the test would accept:

- ARNs are bucketed by how many colons they contain. A pattern's literal colons each need one in the
  ARN, so an ARN with fewer colons than the pattern cannot match. An ARN with as many colons as the
  pattern must align segment by segment (a segment-final `*` then has no colon to swallow).
- Aligned case: ARNs are grouped by their first five segments (partition, service, region, account);
  a group is a candidate when each of the pattern's first five segments matches it on its own, and
  within a group the ARNs are sorted, so the literal prefix of the pattern's resource part is a
  binary search.
- ARNs with more colons than the pattern (only matchable through a colon-spanning `*`) are found by
  a binary search on the pattern's whole literal prefix.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from iamscope.policy.wildcard import Mode, literal_prefix, matcher, resource_matches

_HEAD = 5  # arn, partition, service, region, account


def _prefix_range(items: list[str], prefix: str) -> list[str]:
    start = bisect_left(items, prefix)
    end = bisect_left(items, prefix + "\U0010ffff") if prefix else len(items)
    return items[start:end]


@dataclass(slots=True)
class _Bucket:
    arns: list[str] = field(default_factory=list)
    groups: dict[tuple[str, ...], list[str]] = field(default_factory=dict)


class ArnIndex:
    """An immutable set of ARNs answering `match(pattern)` with IAM Resource semantics."""

    __slots__ = ("_all", "_buckets", "_members")

    def __init__(self, arns: Iterable[str]) -> None:
        self._all: tuple[str, ...] = tuple(sorted(set(arns)))
        self._members = frozenset(self._all)
        self._buckets: dict[int, _Bucket] = {}
        for arn in self._all:
            bucket = self._buckets.setdefault(arn.count(":"), _Bucket())
            bucket.arns.append(arn)
            head = tuple(arn.split(":", _HEAD)[:_HEAD])
            bucket.groups.setdefault(head, []).append(arn)

    def __len__(self) -> int:
        return len(self._all)

    def __contains__(self, arn: object) -> bool:
        return arn in self._members

    @property
    def arns(self) -> tuple[str, ...]:
        return self._all

    def match(self, pattern: str) -> tuple[str, ...]:
        """The indexed ARNs the Resource-element pattern matches, sorted."""
        if pattern == "*":
            return self._all
        test = matcher(pattern, Mode.RESOURCE, False)
        colons = pattern.count(":")
        found: list[str] = []
        for count, bucket in self._buckets.items():
            if count < colons:
                continue
            if count == colons and colons >= _HEAD:
                segments = pattern.split(":", _HEAD)
                head, rest = segments[:_HEAD], segments[_HEAD]
                for key, group in bucket.groups.items():
                    if all(p == k or resource_matches(p, k) for p, k in zip(head, key, strict=True)):
                        prefix = ":".join(key) + ":" + literal_prefix(rest)
                        found.extend(a for a in _prefix_range(group, prefix) if test(a))
            else:
                found.extend(a for a in _prefix_range(bucket.arns, literal_prefix(pattern)) if test(a))
        found.sort()
        return tuple(found)

    def match_any(self, patterns: Iterable[str]) -> tuple[str, ...]:
        """The indexed ARNs that at least one of the patterns matches, sorted."""
        hits: set[str] = set()
        for pattern in patterns:
            hits.update(self.match(pattern))
        return tuple(sorted(hits))
