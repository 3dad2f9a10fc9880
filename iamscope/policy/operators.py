"""The condition operators of the IAM policy grammar and how each compares one request value with one
policy value. Set logic (several values, ForAnyValue/ForAllValues, IfExists, missing keys, negation)
lives in conditions.py; this room only knows how two values compare.

Negated operators (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...) carry the comparison of their
positive counterpart and `negated=True`: "not equal to any of the policy values" is the negation of
"equal to one of them", and that is decided where the values are combined.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from iamscope.policy.wildcard import Literal, Mode, Piece, compile_pattern

Compare = Callable[[str, Sequence[Piece]], bool]
"""compare(request_value, policy_value_pieces) for the positive form of an operator."""


@dataclass(frozen=True, slots=True)
class Operator:
    name: str  # canonical spelling, e.g. "StringNotLike"
    family: str  # string, numeric, date, bool, binary, ip, arn, null
    negated: bool
    compare: Compare
    variables: bool  # policy variables are substituted in its values (string and ARN operators)


def pieces_text(pieces: Sequence[Piece]) -> str:
    return "".join(p.text if isinstance(p, Literal) else p for p in pieces)


def parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")


def parse_date(text: str) -> datetime | None:
    """ISO 8601 (`2026-01-01`, `2026-01-01T00:00:00Z`, with offsets) or epoch seconds."""
    text = text.strip()
    if _EPOCH.match(text):
        try:
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _string_equals(value: str, policy: Sequence[Piece]) -> bool:
    return value == pieces_text(policy)


def _string_equals_ignore_case(value: str, policy: Sequence[Piece]) -> bool:
    return value.lower() == pieces_text(policy).lower()


def _string_like(value: str, policy: Sequence[Piece]) -> bool:
    return compile_pattern(policy, Mode.PLAIN).fullmatch(value) is not None


def _arn_like(value: str, policy: Sequence[Piece]) -> bool:
    if len(policy) == 1 and policy[0] == "*":
        return True
    return compile_pattern(policy, Mode.ARN).fullmatch(value) is not None


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(value: str, policy: Sequence[Piece]) -> bool:
        left, right = parse_number(value), parse_number(pieces_text(policy))
        return left is not None and right is not None and test(left, right)

    return compare


def _date(test: Callable[[datetime, datetime], bool]) -> Compare:
    def compare(value: str, policy: Sequence[Piece]) -> bool:
        left, right = parse_date(value), parse_date(pieces_text(policy))
        return left is not None and right is not None and test(left, right)

    return compare


def _bool(value: str, policy: Sequence[Piece]) -> bool:
    return value.lower() == pieces_text(policy).lower()


def _binary(value: str, policy: Sequence[Piece]) -> bool:
    try:
        return base64.b64decode(value, validate=True) == base64.b64decode(pieces_text(policy), validate=True)
    except (binascii.Error, ValueError):
        return value == pieces_text(policy)


def _ip(value: str, policy: Sequence[Piece]) -> bool:
    try:
        address = ipaddress.ip_address(value.strip())
        network = ipaddress.ip_network(pieces_text(policy).strip(), strict=False)
    except ValueError:
        return False
    return address.version == network.version and address in network


def _null(value: str, policy: Sequence[Piece]) -> bool:  # decided in conditions.py by presence
    raise AssertionError("Null is decided by key presence")


def _operators() -> dict[str, Operator]:
    table: list[tuple[str, str, bool, Compare, bool]] = [
        ("StringEquals", "string", False, _string_equals, True),
        ("StringNotEquals", "string", True, _string_equals, True),
        ("StringEqualsIgnoreCase", "string", False, _string_equals_ignore_case, True),
        ("StringNotEqualsIgnoreCase", "string", True, _string_equals_ignore_case, True),
        ("StringLike", "string", False, _string_like, True),
        ("StringNotLike", "string", True, _string_like, True),
        ("NumericEquals", "numeric", False, _numeric(lambda a, b: a == b), False),
        ("NumericNotEquals", "numeric", True, _numeric(lambda a, b: a == b), False),
        ("NumericLessThan", "numeric", False, _numeric(lambda a, b: a < b), False),
        ("NumericLessThanEquals", "numeric", False, _numeric(lambda a, b: a <= b), False),
        ("NumericGreaterThan", "numeric", False, _numeric(lambda a, b: a > b), False),
        ("NumericGreaterThanEquals", "numeric", False, _numeric(lambda a, b: a >= b), False),
        ("DateEquals", "date", False, _date(lambda a, b: a == b), False),
        ("DateNotEquals", "date", True, _date(lambda a, b: a == b), False),
        ("DateLessThan", "date", False, _date(lambda a, b: a < b), False),
        ("DateLessThanEquals", "date", False, _date(lambda a, b: a <= b), False),
        ("DateGreaterThan", "date", False, _date(lambda a, b: a > b), False),
        ("DateGreaterThanEquals", "date", False, _date(lambda a, b: a >= b), False),
        ("Bool", "bool", False, _bool, False),
        ("BinaryEquals", "binary", False, _binary, False),
        ("IpAddress", "ip", False, _ip, False),
        ("NotIpAddress", "ip", True, _ip, False),
        ("ArnEquals", "arn", False, _arn_like, True),
        ("ArnLike", "arn", False, _arn_like, True),
        ("ArnNotEquals", "arn", True, _arn_like, True),
        ("ArnNotLike", "arn", True, _arn_like, True),
        ("Null", "null", False, _null, False),
    ]
    return {
        name.lower(): Operator(
            name=name, family=family, negated=negated, compare=compare, variables=variables
        )
        for name, family, negated, compare, variables in table
    }


OPERATORS: dict[str, Operator] = _operators()
"""Every condition operator, keyed by its lower-cased name (without IfExists or a set qualifier)."""
