"""Policy variables: `${aws:PrincipalTag/team}`, `${aws:username, 'default'}`, and the escapes
`${*}`, `${?}`, `${$}` for a literal `*`, `?` and `$`.

Variables are substituted only in documents of Version 2012-10-17 (older documents treat `${...}` as
text), in Resource/NotResource and in values of string and ARN condition operators. A substituted value
is literal text: its `*` or `?` never act as wildcards. A default applies when the key is absent or
cannot be substituted. A variable that cannot be resolved and has no default makes the value it
appears in effectively null: it matches nothing, so a Resource entry with it covers nothing and a
negated condition operator against it holds (IAM User Guide, Policy variables with no value). A key
with several values cannot be used as a variable and counts as unresolvable.
"""

from __future__ import annotations

import re

from iamscope.policy.context import UNKNOWN, RequestContext
from iamscope.policy.wildcard import Literal, Piece

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KEY_AND_DEFAULT = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?")
_ESCAPES = {"*", "?", "$"}


class UnknownVariable(Exception):
    """Raised while substituting against a partial context whose value for the key is unknown."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def has_variables(text: str) -> bool:
    return "${" in text


def variable_keys(text: str) -> tuple[str, ...]:
    keys = []
    for match in _VARIABLE.finditer(text):
        parsed = _KEY_AND_DEFAULT.fullmatch(match.group(1))
        if match.group(1).strip() not in _ESCAPES and parsed:
            keys.append(parsed.group(1).lower())
    return tuple(keys)


def substitute(text: str, context: RequestContext) -> tuple[Piece, ...] | None:
    """The pattern pieces of `text` with its variables replaced; None if one cannot be resolved.
    Raises UnknownVariable when the context is partial and the key is unknown."""
    pieces: list[Piece] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > position:
            pieces.append(text[position : match.start()])
        position = match.end()
        inner = match.group(1)
        if inner.strip() in _ESCAPES:
            pieces.append(Literal(inner.strip()))
            continue
        parsed = _KEY_AND_DEFAULT.fullmatch(inner)
        if parsed is None:
            return None
        key, default = parsed.group(1), parsed.group(2)
        values = context.get(key)
        if values is UNKNOWN:
            raise UnknownVariable(key.lower())
        if isinstance(values, tuple) and len(values) == 1:
            pieces.append(Literal(values[0]))
        elif default is not None:
            pieces.append(Literal(default.replace("''", "'")))
        else:
            return None
    if position < len(text):
        pieces.append(text[position:])
    return tuple(pieces)
