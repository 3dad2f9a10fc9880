"""Deciding one condition of a statement against a request context, with AWS's rules for several
values, set operators, IfExists, negated operators and missing keys (IAM User Guide, Condition
operators and Single-valued vs. multivalued context keys):

- Values listed under one key are ORed; a negated operator holds when the request value matches none.
- A key absent from the request: `ForAnyValue:` does not hold, even with IfExists (IfExists is
  applied to each value inside the set loop); `ForAllValues:` holds vacuously; otherwise
  `...IfExists` holds, a negated operator holds and a positive one does not. `Null` tests presence.
- `ForAnyValue:` holds when some request value satisfies the operator, `ForAllValues:` when every one
  does; without a set operator a multivalued key behaves as `ForAnyValue:` for positive operators and
  as "no request value matches" for negated ones.

The answer is True or False against a complete context, and None when a partial context does not
know a key the condition needs (analysis mode).
"""

from __future__ import annotations

from iamscope.policy.context import UNKNOWN, RequestContext
from iamscope.policy.document import Condition
from iamscope.policy.variables import UnknownVariable, has_variables, substitute
from iamscope.policy.wildcard import Piece


def _policy_values(condition: Condition, context: RequestContext, variables: bool) -> list[tuple[Piece, ...]]:
    """The condition's values as pattern pieces, variables substituted. A value whose variable has no
    value is effectively null: nothing equals it, so it is left out; a negated operator then still
    holds ("Inverted condition operators like StringNotEquals ... do match against a null value",
    IAM User Guide, Policy variables with no value)."""
    out: list[tuple[Piece, ...]] = []
    for value in condition.values:
        if variables and condition.operator.variables and has_variables(value):
            pieces = substitute(value, context)  # may raise UnknownVariable
            if pieces is not None:
                out.append(pieces)
        else:
            out.append((value,))
    return out


def condition_holds(condition: Condition, context: RequestContext, *, variables: bool) -> bool | None:
    """Whether `condition` holds for the request; None when a partial context cannot tell."""
    operator = condition.operator
    request = context.get(condition.key)
    if request is UNKNOWN:
        return None
    if operator.family == "null":
        absent = request is None
        return any((value.lower() == "true") == absent for value in condition.values)
    if request is None:
        # A set operator decides first: IfExists applies to each request value inside the set loop,
        # so ForAnyValue over no values is false even with IfExists, ForAllValues vacuously true.
        if condition.qualifier == "ForAnyValue":
            return False
        if condition.if_exists or condition.qualifier == "ForAllValues":
            return True
        return operator.negated
    assert isinstance(request, tuple)
    try:
        policy = _policy_values(condition, context, variables)
    except UnknownVariable:
        return None

    def matches(value: str) -> bool:
        return any(operator.compare(value, pieces) for pieces in policy)

    if condition.qualifier == "ForAllValues":
        return all(matches(v) != operator.negated for v in request)
    if condition.qualifier == "ForAnyValue":
        return any(matches(v) != operator.negated for v in request)
    hit = any(matches(v) for v in request)
    return hit != operator.negated
