"""The request context: condition keys and their values, looked up case-insensitively.

A context is either complete (what evaluate() sees: a key that is not there is absent from the
request) or partial (what analyse() sees: a key that is not there is unknown and may hold anything).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

ContextValue = str | bool | int | Sequence[str]
ContextInput = Mapping[str, ContextValue]


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""What a partial context answers for a key it knows nothing about."""


def _normalise(value: ContextValue) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, (str, int)):
        return (str(value),)
    return tuple(str(v) for v in value)


class RequestContext:
    """Condition keys of one request. Keys are case-insensitive; values are case-sensitive."""

    __slots__ = ("_values", "complete", "known_prefixes")

    def __init__(
        self, values: ContextInput | None = None, *, complete: bool = True, known_prefixes: Sequence[str] = ()
    ) -> None:
        self._values: dict[str, tuple[str, ...]] = {
            key.lower(): _normalise(value) for key, value in (values or {}).items()
        }
        self.complete = complete
        # In a partial context, key families whose every member is known (a secret's tags, as
        # list-secrets returns all of them): a key of such a family that is not given is absent.
        self.known_prefixes = tuple(p.lower() for p in known_prefixes)

    def get(self, key: str) -> tuple[str, ...] | _Unknown | None:
        """The key's values; None if the request does not carry it (an empty list counts as absent);
        UNKNOWN if the context is partial and says nothing of the key."""
        lowered = key.lower()
        values = self._values.get(lowered)
        if values is None:
            return None if self.complete or lowered.startswith(self.known_prefixes) else UNKNOWN
        return values or None

    def single(self, key: str) -> str | None:
        values = self._values.get(key.lower())
        return values[0] if values and len(values) == 1 else None

    def with_defaults(self, values: ContextInput) -> RequestContext:
        """A copy with `values` added for the keys this context does not already hold."""
        merged = RequestContext(None, complete=self.complete, known_prefixes=self.known_prefixes)
        merged._values = {key.lower(): _normalise(value) for key, value in values.items()} | self._values
        return merged
