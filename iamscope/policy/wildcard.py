"""Pattern matching as IAM does it: actions, resources, `StringLike` values and `ArnLike` values.

- Actions: `*` and `?` anywhere, case-insensitive (`secretsmanager:get*` matches `GetSecretValue`).
- Resources: case-sensitive; `*` and `?` work within a colon-separated segment, and a `*` that is the
  last character of a segment may also expand across colons ("If the * wildcard is the last character
  of a resource ARN segment, it can expand to match beyond the colon boundaries", IAM User Guide,
  Resource element). `?` is exactly one character and never a colon.
- `StringLike` (Mode.PLAIN): case-sensitive, `*` and `?` anywhere, no notion of segments.
- `ArnLike`/`ArnEquals` (Mode.ARN): each of the six colon-delimited components is compared separately.

Patterns may carry literal `*`/`?`/`$` produced by the policy variables `${*}`, `${?}`, `${$}` or by
substituted values; those arrive as `Literal` pieces and never act as wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_WILDCARDS = frozenset("*?")


@dataclass(frozen=True, slots=True)
class Literal:
    """Text that must match exactly, even if it contains `*` or `?`."""

    text: str


Piece = str | Literal
"""A pattern piece: a `str` whose `*` and `?` are wildcards, or a `Literal`."""


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def literal_prefix(pattern: str) -> str:
    """The text before the first wildcard: every string the pattern matches starts with it."""
    for i, ch in enumerate(pattern):
        if ch in _WILDCARDS:
            return pattern[:i]
    return pattern


class Mode:
    """How wildcards behave; see the module docstring."""

    PLAIN = "plain"  # actions, StringLike: wildcards span anything
    RESOURCE = "resource"  # Resource element: segment-local, segment-final `*` spans colons
    ARN = "arn"  # ArnLike: segment-local in the first five components, free in the resource


def _glob_regex(pieces: Sequence[Piece], mode: str) -> str:
    # Flatten into (char, wildcard-capable) so the "last character of a segment" rule can look ahead.
    chars: list[tuple[str, bool]] = []
    for piece in pieces:
        if isinstance(piece, Literal):
            chars.extend((c, False) for c in piece.text)
        else:
            chars.extend((c, True) for c in piece)
    out: list[str] = []
    colons = 0
    for i, (ch, wild) in enumerate(chars):
        if ch == ":":
            colons += 1
        local = mode == Mode.RESOURCE or (mode == Mode.ARN and colons < 5)
        if wild and ch == "*":
            at_segment_end = i + 1 == len(chars) or chars[i + 1][0] == ":"
            spans = not local or (mode == Mode.RESOURCE and at_segment_end)
            out.append(".*" if spans else "[^:]*")
        elif wild and ch == "?":
            out.append("[^:]" if local else ".")
        else:
            out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=65536)
def _compile(pattern: str, mode: str, ignore_case: bool) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(_glob_regex((pattern,), mode), flags)


def compile_pattern(pieces: Sequence[Piece], mode: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """Compile a pattern that may mix wildcard text and literals (the result of variable substitution)."""
    if len(pieces) == 1 and isinstance(pieces[0], str):
        return _compile(pieces[0], mode, ignore_case)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(_glob_regex(pieces, mode), flags)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action match: wildcards anywhere, case-insensitive."""
    if pattern == "*":
        return True
    return _compile(pattern, Mode.PLAIN, True).fullmatch(action) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    """IAM Resource-element match: case-sensitive and segment-aware (see module docstring)."""
    if pattern == "*":
        return True
    return _compile(pattern, Mode.RESOURCE, False).fullmatch(resource) is not None


@dataclass(frozen=True, slots=True)
class PatternSet:
    """The patterns of one Action, Resource or NotResource element, compiled once into a single test:
    a set lookup for literal patterns and one alternation regex for the wildcard ones. Patterns that
    hold policy variables are kept apart, to be substituted per request."""

    everything: bool
    literals: frozenset[str]
    regex: re.Pattern[str] | None
    ignore_case: bool
    with_variables: tuple[str, ...]

    @staticmethod
    def build(patterns: Sequence[str], mode: str, *, ignore_case: bool, variables: bool) -> PatternSet:
        literals: set[str] = set()
        wild: list[str] = []
        held: list[str] = []
        for pattern in patterns:
            if variables and "${" in pattern:
                held.append(pattern)
            elif not has_wildcard(pattern):
                literals.add(pattern.lower() if ignore_case else pattern)
            else:
                wild.append(pattern)
        regex = None
        if wild:
            flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
            regex = re.compile("|".join(f"(?:{_glob_regex((p,), mode)})" for p in sorted(set(wild))), flags)
        return PatternSet(
            everything="*" in wild,
            literals=frozenset(literals),
            regex=regex,
            ignore_case=ignore_case,
            with_variables=tuple(held),
        )

    def matches(self, value: str) -> bool:
        """Whether a pattern without variables matches `value`."""
        if self.everything:
            return True
        if (value.lower() if self.ignore_case else value) in self.literals:
            return True
        return self.regex is not None and self.regex.fullmatch(value) is not None
