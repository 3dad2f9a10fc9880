"""Analysis with unknown request context: instead of guessing a value for a condition key nobody
knows (the caller's source IP, the time of day, a tag not in the snapshot), answer "allowed",
"denied", or "allowed only when" with the conditions that must hold.

Every statement becomes a boolean formula over the conditions its partial context cannot decide;
the formulas are combined with exactly the rules evaluate() applies (see evaluate.py), and simplified.
A formula that reduces to True or False is a definite answer; anything else is conditional.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from iamscope.policy.conditions import condition_holds
from iamscope.policy.context import ContextInput, RequestContext
from iamscope.policy.document import PolicyDocument, Statement
from iamscope.policy.evaluate import (
    PolicyInput,
    StatementRef,
    as_documents,
    evidence,
    names_everyone,
    ref,
    request,
    resource_account,
)
from iamscope.policy.matching import (
    PrincipalMatch,
    account_of,
    action_applies,
    is_account_entry,
    is_role_entry,
    resource_applies,
    statement_principal,
)
from iamscope.policy.variables import variable_keys


@dataclass(frozen=True, slots=True)
class Atom:
    """A condition the partial context cannot decide, and the statement it belongs to."""

    text: str
    keys: tuple[str, ...]
    statement: StatementRef

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Formula, ...]

    def __str__(self) -> str:
        return " and ".join(f"({i})" if isinstance(i, Or) else str(i) for i in self.items)


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Formula, ...]

    def __str__(self) -> str:
        return " or ".join(f"({i})" if isinstance(i, And) else str(i) for i in self.items)


@dataclass(frozen=True, slots=True)
class Not:
    item: Formula

    def __str__(self) -> str:
        return f"not ({self.item})"


Formula = bool | Atom | And | Or | Not


def _flatten(
    items: Iterable[Formula], kind: type[And] | type[Or], absorbing: bool
) -> Formula | list[Formula]:
    out: dict[Formula, None] = {}
    for item in items:
        if item is absorbing:
            return absorbing
        if item is (not absorbing):
            continue
        out.update(dict.fromkeys(item.items if isinstance(item, kind) else (item,)))
    return list(out)


def f_and(items: Iterable[Formula]) -> Formula:
    parts = _flatten(items, And, False)
    if not isinstance(parts, list):
        return parts
    return True if not parts else parts[0] if len(parts) == 1 else And(tuple(parts))


def f_or(items: Iterable[Formula]) -> Formula:
    parts = _flatten(items, Or, True)
    if not isinstance(parts, list):
        return parts
    return False if not parts else parts[0] if len(parts) == 1 else Or(tuple(parts))


def f_not(item: Formula) -> Formula:
    if isinstance(item, bool):
        return not item
    if isinstance(item, Not):
        return item.item
    return Not(item)


def atoms(formula: Formula) -> tuple[Atom, ...]:
    if isinstance(formula, Atom):
        return (formula,)
    if isinstance(formula, (And, Or)):
        return tuple(a for item in formula.items for a in atoms(item))
    if isinstance(formula, Not):
        return atoms(formula.item)
    return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    outcome: str  # "allowed", "denied" or "conditional"
    when: Formula  # True, False, or the condition under which the request is allowed
    assumptions: tuple[str, ...] = ()  # what the answer takes for granted, said in words

    @property
    def keys(self) -> tuple[str, ...]:
        """The condition keys (lower-cased) that decide a conditional answer."""
        return tuple(sorted({k for a in atoms(self.when) for k in a.keys}))

    @property
    def statements(self) -> tuple[StatementRef, ...]:
        return evidence(a.statement for a in atoms(self.when))

    def __str__(self) -> str:
        text = self.outcome if self.outcome != "conditional" else f"allowed only when {self.when}"
        return text + "".join(f" (assuming {a})" for a in self.assumptions)


def _statement_formula(
    document: PolicyDocument,
    statement: Statement,
    origin: str,
    action: str,
    resource: str,
    context: RequestContext,
) -> Formula:
    if not action_applies(statement, action):
        return False
    statement_ref = ref(document, statement, origin)
    parts: list[Formula] = []
    covered = resource_applies(statement, resource, context)
    if covered is None:
        patterns = statement.resources or statement.not_resources or ()
        keys = tuple(sorted({k for p in patterns for k in variable_keys(p)}))
        element = "Resource" if statement.resources is not None else "NotResource"
        parts.append(Atom(f"{element} {json.dumps(list(patterns))} covers {resource}", keys, statement_ref))
    else:
        parts.append(covered)
    for condition in statement.conditions:
        holds = condition_holds(condition, context, variables=document.variables_enabled)
        if holds is None:
            keys = tuple(
                sorted({condition.key.lower(), *(k for v in condition.values for k in variable_keys(v))})
            )
            parts.append(Atom(str(condition), keys, statement_ref))
        else:
            parts.append(holds)
    return f_and(parts)


def _unknown_caller_terms(
    document: PolicyDocument, statement: Statement
) -> list[tuple[PrincipalMatch, Atom]]:
    """With no caller given, each kind of principal a statement names becomes a condition on who calls,
    filed under the kind of match it would be (a role ARN's grant is limited by a boundary, a session's
    is not; an account only delegates)."""
    statement_ref = ref(document, statement, "resource")
    if statement.not_principals is not None:
        listed = json.dumps([v for _, v in statement.not_principals.entries])
        return [
            (
                PrincipalMatch.DIRECT,
                Atom(f"the caller is not one of {listed}", ("aws:principalarn",), statement_ref),
            )
        ]
    assert statement.principals is not None
    groups: dict[PrincipalMatch, list[str]] = {}
    for entry_type, entry in statement.principals.entries:
        if entry_type == "AWS" and is_account_entry(entry):
            kind = PrincipalMatch.ACCOUNT
        elif entry_type == "AWS" and is_role_entry(entry):
            kind = PrincipalMatch.ROLE
        else:
            kind = PrincipalMatch.DIRECT
        groups.setdefault(kind, []).append(entry if entry_type == "AWS" else f"{entry_type}:{entry}")
    return [
        (kind, Atom(f"the caller is one of {json.dumps(entries)}", ("aws:principalarn",), statement_ref))
        for kind, entries in groups.items()
    ]


def analyse(
    documents: Iterable[PolicyInput],
    action: str,
    resource: str,
    context: ContextInput | RequestContext | None = None,
    *,
    boundary: PolicyInput | None = None,
    resource_policy: PolicyInput | None = None,
    principal: str | None = None,
    role_trust: bool = False,
) -> Analysis:
    """Like evaluate(), but keys missing from `context` are unknown rather than absent.

    With `role_trust`, the resource policy is a role's trust policy, which must allow the request
    itself even within the account (IAM User Guide, "How IAM roles differ from resource-based
    policies"): the identity policies alone never suffice; a trust naming the account still needs them.

    The caller comes from `principal` or a known aws:PrincipalArn. With neither, the request is
    analysed as coming from the resource's own account (identity policies alone can grant), which the
    answer states in `assumptions`; resource-policy statements that name principals then become
    conditions on who the caller is."""
    ctx, who = request(context, principal, complete=False)
    denies: list[Formula] = []
    identity_allows: list[Formula] = []
    for document in as_documents(documents, "identity"):
        for statement in document.statements:
            formula = _statement_formula(document, statement, "identity", action, resource, ctx)
            (denies if statement.effect == "Deny" else identity_allows).append(formula)
    boundary_ok: Formula = True
    if boundary is not None:
        (bdoc,) = as_documents([boundary], "boundary")
        boundary_allows: list[Formula] = []
        for statement in bdoc.statements:
            formula = _statement_formula(bdoc, statement, "boundary", action, resource, ctx)
            (denies if statement.effect == "Deny" else boundary_allows).append(formula)
        boundary_ok = f_or(boundary_allows)
    by_match: dict[PrincipalMatch, list[Formula]] = {m: [] for m in PrincipalMatch}
    if resource_policy is not None:
        (rdoc,) = as_documents([resource_policy], "resource")
        for statement in rdoc.statements:
            formula = _statement_formula(rdoc, statement, "resource", action, resource, ctx)
            terms: Sequence[tuple[PrincipalMatch, Formula]]
            if who is None and not names_everyone(statement):
                terms = _unknown_caller_terms(rdoc, statement)
            else:
                match = statement_principal(statement, who, has_boundary=boundary is not None)
                terms = [(match, True)]
            for match, covers in terms:
                if match is PrincipalMatch.NONE:
                    continue
                term = f_and([covers, formula])
                (denies if statement.effect == "Deny" else by_match[match]).append(term)
    identity_ok = f_and([f_or(identity_allows), boundary_ok])
    caller_account, target_account = account_of(who), resource_account(resource, ctx)
    assumptions: tuple[str, ...] = ()
    if caller_account and target_account and caller_account != target_account:
        resource_ok = f_or(
            by_match[PrincipalMatch.ACCOUNT] + by_match[PrincipalMatch.ROLE] + by_match[PrincipalMatch.DIRECT]
        )
        allow = f_and([identity_ok, resource_ok])
    else:
        if who is None and target_account:
            assumptions = (f"the caller is in account {target_account}, the resource's",)
        own_account = (
            f_and([f_or(by_match[PrincipalMatch.ACCOUNT]), identity_ok]) if role_trust else identity_ok
        )
        allow = f_or(
            [
                own_account,
                f_or(by_match[PrincipalMatch.DIRECT]),
                f_and([f_or(by_match[PrincipalMatch.ROLE]), boundary_ok]),
            ]
        )
    when = f_and([allow, f_not(f_or(denies))])
    outcome = "allowed" if when is True else "denied" if when is False else "conditional"
    return Analysis(outcome=outcome, when=when, assumptions=assumptions)
