"""Evaluation of one request against identity policies, a permissions boundary and a resource policy,
with AWS's combination rules (IAM User Guide, Policy evaluation logic):

1. An applicable Deny in any of them is an explicit deny.
2. Same account: allowed when the identity policies allow and the boundary (if any) allows, or when
   the resource policy allows the caller itself. A resource-policy grant to the role ARN is still
   limited by the role's boundary; a grant to the caller itself (its session ARN, user ARN, or "*")
   is not. A grant to the account only delegates to the account's IAM policies.
3. Cross account (the caller's account differs from the resource's): both the identity side (with
   the boundary) and the resource policy must allow; a grant to the caller's account counts there.
4. Otherwise: implicit deny.

Organizations SCPs/RCPs and session policies are outside what iamscope reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iamscope.errors import UsageError
from iamscope.policy.arn import try_parse_arn
from iamscope.policy.conditions import condition_holds
from iamscope.policy.context import ContextInput, RequestContext
from iamscope.policy.document import PolicyDocument, PolicyKind, Statement, parse_policy
from iamscope.policy.matching import (
    PrincipalMatch,
    account_of,
    action_applies,
    principal_keys,
    resource_applies,
    statement_principal,
)

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"

PolicyInput = Mapping[str, Any] | str | PolicyDocument


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementRef:
    """Which statement of which policy took part in a decision: the evidence a finding shows."""

    policy: str
    origin: str  # "identity", "boundary" or "resource"
    index: int
    sid: str | None
    effect: str

    def __str__(self) -> str:
        sid = f" (Sid {self.sid!r})" if self.sid else ""
        return f"{self.origin} policy {self.policy}: statement {self.index}{sid} ({self.effect})"


_ORIGIN_ORDER = {"identity": 0, "boundary": 1, "resource": 2}


def evidence(refs: Iterable[StatementRef]) -> tuple[StatementRef, ...]:
    """Statement references in a stable order, whatever order the policies were given in."""
    return tuple(sorted(set(refs), key=lambda r: (_ORIGIN_ORDER.get(r.origin, 9), r.policy, r.index)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    effect: str  # "Allow", "ExplicitDeny" or "ImplicitDeny"
    reason: str
    statements: tuple[StatementRef, ...] = ()  # the denying statements, or the ones that grant

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW


def as_documents(documents: Iterable[PolicyInput], kind: PolicyKind) -> tuple[PolicyDocument, ...]:
    return tuple(
        d if isinstance(d, PolicyDocument) else parse_policy(d, name=f"{kind} policy {i}", kind=kind)
        for i, d in enumerate(documents)
    )


def as_context(context: ContextInput | RequestContext | None, *, complete: bool) -> RequestContext:
    if isinstance(context, RequestContext):
        return context
    return RequestContext(context, complete=complete)


def ref(document: PolicyDocument, statement: Statement, origin: str) -> StatementRef:
    return StatementRef(
        policy=document.name, origin=origin, index=statement.index, sid=statement.sid, effect=statement.effect
    )


def _applies(
    document: PolicyDocument, statement: Statement, action: str, resource: str, context: RequestContext
) -> bool:
    if not action_applies(statement, action):
        return False
    if not resource_applies(statement, resource, context):
        return False
    variables = document.variables_enabled
    return all(condition_holds(c, context, variables=variables) for c in statement.conditions)


def _scan(
    documents: Sequence[PolicyDocument], origin: str, action: str, resource: str, context: RequestContext
) -> tuple[list[StatementRef], list[StatementRef]]:
    allows: list[StatementRef] = []
    denies: list[StatementRef] = []
    for document in documents:
        for statement in document.statements:
            if _applies(document, statement, action, resource, context):
                (denies if statement.effect == "Deny" else allows).append(ref(document, statement, origin))
    return allows, denies


def names_everyone(statement: Statement) -> bool:
    return statement.principals is not None and statement.principals.any


def resource_account(resource: str, context: RequestContext) -> str | None:
    arn = try_parse_arn(resource)
    if arn and arn.account:
        return arn.account
    return context.single("aws:ResourceAccount")


def request(
    context: ContextInput | RequestContext | None, principal: str | None, *, complete: bool
) -> tuple[RequestContext, str | None]:
    """The request context and the caller's ARN (given, or the context's aws:PrincipalArn), with the
    principal keys AWS always sets filled in from the caller where the context does not state them."""
    ctx = as_context(context, complete=complete)
    who = principal if principal is not None else ctx.single("aws:PrincipalArn")
    return (ctx.with_defaults(principal_keys(who)) if who is not None else ctx), who


def evaluate(
    documents: Iterable[PolicyInput],
    action: str,
    resource: str,
    context: ContextInput | RequestContext | None = None,
    *,
    boundary: PolicyInput | None = None,
    resource_policy: PolicyInput | None = None,
    principal: str | None = None,
) -> Decision:
    """Decide `action` on `resource` ("*" for requests without one) as AWS would. `principal` is the
    caller's ARN, needed to apply a resource policy that names principals; it defaults to the
    context's aws:PrincipalArn. Policies given as dicts or JSON are parsed on every call: pass
    parsed PolicyDocuments (parse_policy) when deciding many requests."""
    ctx, who = request(context, principal, complete=True)
    identity = as_documents(documents, "identity")
    allows, denies = _scan(identity, "identity", action, resource, ctx)
    boundary_allows: list[StatementRef] = []
    if boundary is not None:
        (bdoc,) = as_documents([boundary], "boundary")
        boundary_allows, boundary_denies = _scan([bdoc], "boundary", action, resource, ctx)
        denies += boundary_denies
    resource_allows: list[tuple[StatementRef, PrincipalMatch]] = []
    if resource_policy is not None:
        (rdoc,) = as_documents([resource_policy], "resource")
        if who is None and any(not names_everyone(s) for s in rdoc.statements):
            # Guessing who calls could drop a Deny aimed at them: ask instead (analyse() can reason
            # about an unknown caller).
            raise UsageError(
                f"{rdoc.name} names principals: give the caller's ARN (principal=, or aws:PrincipalArn "
                "in the context) to apply it"
            )
        for statement in rdoc.statements:
            match = statement_principal(statement, who, has_boundary=boundary is not None)
            if match is PrincipalMatch.NONE or not _applies(rdoc, statement, action, resource, ctx):
                continue
            if statement.effect == "Deny":
                denies.append(ref(rdoc, statement, "resource"))
            else:
                resource_allows.append((ref(rdoc, statement, "resource"), match))
    if denies:
        return Decision(effect=EXPLICIT_DENY, reason="an explicit Deny applies", statements=evidence(denies))

    boundary_ok = boundary is None or bool(boundary_allows)
    identity_grant = tuple(allows + boundary_allows) if allows and boundary_ok else ()
    caller_account, target_account = account_of(who), resource_account(resource, ctx)
    if caller_account and target_account and caller_account != target_account:
        resource_grant = tuple(r for r, m in resource_allows if m is not PrincipalMatch.NONE)
        if identity_grant and resource_grant:
            return Decision(
                effect=ALLOW,
                reason="cross-account: the identity side and the resource policy both allow",
                statements=evidence(identity_grant + resource_grant),
            )
        missing = "the caller's policies" if not identity_grant else "the resource policy"
        return Decision(effect=IMPLICIT_DENY, reason=f"cross-account request not allowed by {missing}")
    if identity_grant:
        return Decision(
            effect=ALLOW, reason="allowed by the identity policies", statements=evidence(identity_grant)
        )
    direct = tuple(
        r
        for r, m in resource_allows
        if m is PrincipalMatch.DIRECT or (m is PrincipalMatch.ROLE and boundary_ok)
    )
    if direct:
        return Decision(effect=ALLOW, reason="allowed by the resource policy", statements=evidence(direct))
    if allows and not boundary_ok:
        return Decision(effect=IMPLICIT_DENY, reason="the permissions boundary does not allow it")
    if any(m is PrincipalMatch.ROLE for _, m in resource_allows):
        return Decision(
            effect=IMPLICIT_DENY, reason="the permissions boundary limits the resource policy's grant"
        )
    return Decision(effect=IMPLICIT_DENY, reason="no statement allows it")
