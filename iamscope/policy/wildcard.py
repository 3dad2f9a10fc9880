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

`_glob_regex` states these rules once, as a regex. A large account holds tens of thousands of distinct
patterns and compiling a regex costs about a millisecond, so patterns are compiled when first tested,
not when a policy is parsed, and cached by their text; the shapes nearly every policy uses (`text`,
`prefix*`, `*suffix`, `*`, `name-??????`) are tested with string operations that decide exactly as
their regex would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

_WILDCARDS = frozenset("*?")
_CACHE_SIZE = 1 << 17
"""Compiled patterns kept: a 5,000-role account holds about 50,000 distinct ones."""

Matcher = Callable[[str], bool]
"""The test of a compiled pattern: whether it matches the whole value."""


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


def _flags(ignore_case: bool) -> int:
    return re.DOTALL | (re.IGNORECASE if ignore_case else 0)


@lru_cache(maxsize=_CACHE_SIZE)
def _compile(pattern: str, mode: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(_glob_regex((pattern,), mode), _flags(ignore_case))


@lru_cache(maxsize=_CACHE_SIZE)
def _compile_pieces(pieces: tuple[Piece, ...], mode: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(_glob_regex(pieces, mode), _flags(ignore_case))


def compile_pattern(pieces: Sequence[Piece], mode: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """Compile a pattern that may mix wildcard text and literals (the result of variable substitution).
    Cached by the pieces' text: the same pattern is compiled once."""
    if len(pieces) == 1 and isinstance(pieces[0], str):
        return _compile(pieces[0], mode, ignore_case)
    return _compile_pieces(tuple(pieces), mode, ignore_case)


def _regex_test(pattern: str, mode: str, ignore_case: bool) -> Matcher:
    regex = _compile(pattern, mode, ignore_case)

    def test(value: str) -> bool:
        return regex.fullmatch(value) is not None

    return test


def _shape_test(pattern: str, mode: str) -> Matcher | None:
    """A regex-free, case-sensitive test for the common shapes of a wildcard pattern in PLAIN or
    RESOURCE mode: `text`, `head*tail` (`*`, `prefix*`, `*suffix`) and `head??????tail` (one run of
    `?`). It decides exactly as the pattern's regex (`_glob_regex`) does; None for any other shape."""
    if mode != Mode.PLAIN and mode != Mode.RESOURCE:
        return None
    stars, marks = pattern.count("*"), pattern.count("?")
    if not stars and not marks:

        def equal(value: str) -> bool:
            return value == pattern

        return equal
    if stars == 1 and not marks:
        head, tail = pattern.split("*")
        # A `*` spans colons in PLAIN mode, and in RESOURCE mode when it ends its segment.
        spans = mode == Mode.PLAIN or not tail or tail[0] == ":"
        start, size = len(head), len(head) + len(tail)
        if not tail:
            if not head:
                return _everything

            def prefix(value: str) -> bool:
                return value.startswith(head)

            return prefix
        if spans:

            def around(value: str) -> bool:
                return len(value) >= size and value.startswith(head) and value.endswith(tail)

            return around

        def around_segment(value: str) -> bool:
            end = len(value) - len(tail)
            return (
                end >= start
                and value.startswith(head)
                and value.endswith(tail)
                and value.find(":", start, end) < 0
            )

        return around_segment
    if not stars:
        start = pattern.index("?")
        end = start + marks
        if pattern[start:end] != "?" * marks:
            return None  # `?` in several runs
        head, tail, size = pattern[:start], pattern[end:], len(pattern)
        if mode == Mode.PLAIN:

            def fixed(value: str) -> bool:
                return len(value) == size and value.startswith(head) and value.endswith(tail)

            return fixed

        def fixed_segment(value: str) -> bool:
            return (
                len(value) == size
                and value.startswith(head)
                and value.endswith(tail)
                and value.find(":", start, end) < 0
            )

        return fixed_segment
    return None


def _everything(value: str) -> bool:
    return True


@lru_cache(maxsize=_CACHE_SIZE)
def matcher(pattern: str, mode: str, ignore_case: bool = False) -> Matcher:
    """The test of one pattern (every `*` and `?` in it a wildcard), made on first use and cached by
    the pattern's text: the common shapes are string operations, the others a regex. With
    `ignore_case`, an ASCII value is lowered and compared with the lowered pattern, which for ASCII
    text is what re.IGNORECASE does; anything else goes to the regex."""
    if not ignore_case:
        return _shape_test(pattern, mode) or _regex_test(pattern, mode, False)
    shaped = _shape_test(pattern.lower(), mode) if pattern.isascii() else None
    if shaped is None:
        return _regex_test(pattern, mode, True)
    test = shaped

    def folded(value: str) -> bool:
        if value.isascii():
            return test(value.lower())
        return _compile(pattern, mode, True).fullmatch(value) is not None

    return folded


def pieces_matcher(pieces: Sequence[Piece], mode: str, *, ignore_case: bool = False) -> Matcher:
    """`matcher` for a pattern made of pieces: text pieces alone read as their concatenation; a
    pattern with `Literal` pieces is compiled as a regex (cached)."""
    if all(isinstance(p, str) for p in pieces):
        return matcher("".join(p for p in pieces if isinstance(p, str)), mode, ignore_case)
    regex = compile_pattern(pieces, mode, ignore_case=ignore_case)

    def test(value: str) -> bool:
        return regex.fullmatch(value) is not None

    return test


def action_matches(pattern: str, action: str) -> bool:
    """IAM action match: wildcards anywhere, case-insensitive."""
    if pattern == "*":
        return True
    return matcher(pattern, Mode.PLAIN, True)(action)


def resource_matches(pattern: str, resource: str) -> bool:
    """IAM Resource-element match: case-sensitive and segment-aware (see module docstring)."""
    if pattern == "*":
        return True
    return matcher(pattern, Mode.RESOURCE, False)(resource)


class _AnyOf:
    """Whether any of several wildcard patterns matches: `prefix*` patterns are looked up by the
    value's prefix of each length they have, `prefix??????` patterns by the value's head before the
    run of `?`, and the rest are tried one by one (see `matcher`)."""

    __slots__ = ("_fixed", "_fold", "_mode", "_others", "_patterns", "_starts")

    def __init__(self, patterns: tuple[str, ...], mode: str, ignore_case: bool) -> None:
        self._patterns = patterns
        self._mode = mode
        self._fold = ignore_case
        starts: dict[int, set[str]] = {}
        fixed: dict[int, set[str]] = {}
        others: list[Matcher] = []
        simple = mode == Mode.PLAIN or mode == Mode.RESOURCE
        for pattern in patterns:
            if ignore_case and not pattern.isascii():
                # compared with the lowered ASCII value, as re.IGNORECASE compares it with the value
                others.append(_regex_test(pattern, mode, True))
                continue
            text = pattern.lower() if ignore_case else pattern
            body = text.rstrip("*?")
            run = text[len(body) :]
            if simple and "*" not in body and "?" not in body and run == "*":
                starts.setdefault(len(body), set()).add(body)  # a final `*` ends its segment: spans
            elif simple and run and "*" not in body and "?" not in body and run == "?" * len(run):
                fixed.setdefault(len(run), set()).add(body)
            else:
                others.append(matcher(text, mode, False))
        self._starts = tuple((size, frozenset(heads)) for size, heads in sorted(starts.items()))
        self._fixed = tuple((size, frozenset(heads)) for size, heads in sorted(fixed.items()))
        self._others = tuple(others)

    def __call__(self, value: str) -> bool:
        if self._fold:
            if not value.isascii():
                return any(_compile(p, self._mode, True).fullmatch(value) for p in self._patterns)
            value = value.lower()
        for size, heads in self._starts:
            if value[:size] in heads:
                return True
        length = len(value)
        local = self._mode == Mode.RESOURCE  # `?` never matches a colon
        for size, heads in self._fixed:
            end = length - size
            if end >= 0 and value[:end] in heads and not (local and value.find(":", end) >= 0):
                return True
        return any(test(value) for test in self._others)


@lru_cache(maxsize=_CACHE_SIZE)
def _any_of(patterns: tuple[str, ...], mode: str, ignore_case: bool) -> Matcher:
    if len(patterns) == 1:
        return matcher(patterns[0], mode, ignore_case)
    return _AnyOf(patterns, mode, ignore_case)


@dataclass(frozen=True, slots=True)
class PatternSet:
    """The patterns of one Action, Resource or NotResource element as a single test: a set lookup for
    literal patterns, and for the wildcard ones a test made on the first `matches` call (not when the
    policy is parsed: most statements of a large account are never tested against a value) and shared
    by every set with the same patterns. Patterns that hold policy variables are kept apart, to be
    substituted per request."""

    everything: bool
    literals: frozenset[str]
    wildcards: tuple[str, ...]  # sorted, distinct
    mode: str
    ignore_case: bool
    with_variables: tuple[str, ...]
    _test: Matcher | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def build(patterns: Sequence[str], mode: str, *, ignore_case: bool, variables: bool) -> PatternSet:
        """The set of an element's patterns. Equal elements share one set (a large account repeats
        a few Action lists thousands of times), and with it the compiled test."""
        key = tuple(patterns)
        shared = _SETS.setdefault((mode, ignore_case, variables), {})
        found = shared.get(key)
        if found is None:
            if len(shared) >= _SETS_SIZE:
                shared.clear()
            found = shared[key] = _build(key, mode, ignore_case, variables)
        return found

    def matches(self, value: str) -> bool:
        """Whether a pattern without variables matches `value`."""
        if self.everything:
            return True
        if (value.lower() if self.ignore_case else value) in self.literals:
            return True
        if not self.wildcards:
            return False
        test = self._test
        if test is None:
            test = _any_of(self.wildcards, self.mode, self.ignore_case)
            object.__setattr__(self, "_test", test)
        return test(value)


_NO_LITERALS: frozenset[str] = frozenset()
_SETS: dict[tuple[str, bool, bool], dict[tuple[str, ...], PatternSet]] = {}
_SETS_SIZE = 1 << 14


def _build(patterns: tuple[str, ...], mode: str, ignore_case: bool, variables: bool) -> PatternSet:
    literals: set[str] = set()
    wild: set[str] = set()
    held: list[str] = []
    for pattern in patterns:
        if variables and "${" in pattern:
            held.append(pattern)
        elif "*" not in pattern and "?" not in pattern:
            literals.add(pattern.lower() if ignore_case else pattern)
        else:
            wild.add(pattern)
    return PatternSet(
        everything="*" in wild,
        literals=frozenset(literals) if literals else _NO_LITERALS,
        wildcards=tuple(sorted(wild)),
        mode=mode,
        ignore_case=ignore_case,
        with_variables=tuple(held),
    )
