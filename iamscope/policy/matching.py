"""Whether a statement's Action, Resource and Principal elements cover a request. Conditions are
decided in conditions.py; combining statements into a decision is evaluate.py's job."""

from __future__ import annotations

import enum

from iamscope.policy.arn import try_parse_arn
from iamscope.policy.context import RequestContext
from iamscope.policy.document import Principals, Statement
from iamscope.policy.variables import UnknownVariable, has_variables, substitute
from iamscope.policy.wildcard import Mode, action_matches, compile_pattern, resource_matches


def action_applies(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return any(action_matches(p, action) for p in statement.actions)
    assert statement.not_actions is not None
    return not any(action_matches(p, action) for p in statement.not_actions)


def _resource_pattern_matches(pattern: str, resource: str, context: RequestContext, variables: bool) -> bool:
    if variables and has_variables(pattern):
        pieces = substitute(pattern, context)  # may raise UnknownVariable
        return pieces is not None and compile_pattern(pieces, Mode.RESOURCE).fullmatch(resource) is not None
    return resource_matches(pattern, resource)


def resource_applies(
    statement: Statement, resource: str, context: RequestContext, *, variables: bool
) -> bool | None:
    """None when a partial context lacks a variable the Resource element needs."""
    patterns = statement.resources if statement.resources is not None else statement.not_resources
    if patterns is None:
        return True  # resource-based policies may omit Resource: the policy's own resource
    try:
        hit = any(_resource_pattern_matches(p, resource, context, variables) for p in patterns)
    except UnknownVariable:
        return None
    return hit if statement.resources is not None else not hit


class PrincipalMatch(enum.Enum):
    """How a Principal element covers the caller; the kind matters for AWS's combination rules."""

    NONE = "none"
    ACCOUNT = "account"  # the caller's account (root or bare id): delegates to the account's IAM policies
    IDENTITY = "identity"  # the caller's role or user ARN, a service, or a federated provider
    # The calling session itself: its exact assumed-role session ARN, or "*". A wildcard principal
    # reaches whoever calls, so the role's boundary does not limit it ("Permissions boundaries ... do
    # not limit permissions granted using the aws:PrincipalArn condition key with a wildcard (*) in
    # the Principal element", IAM User Guide, Policy evaluation logic).
    SESSION = "session"


def _role_of_session(principal: str) -> tuple[str, str] | None:
    """(account, role name) of `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`."""
    arn = try_parse_arn(principal)
    if arn is None or arn.service != "sts" or not arn.resource.startswith("assumed-role/"):
        return None
    parts = arn.resource.split("/")
    return (arn.account, parts[1]) if len(parts) >= 3 else None


def account_of(principal: str | None) -> str | None:
    """The account of a caller ARN (None when there is no caller or the ARN names no account)."""
    arn = try_parse_arn(principal) if principal else None
    return arn.account if arn and arn.account else None


def _entry_kind(entry_type: str, entry: str, principal: str) -> PrincipalMatch:
    if entry_type != "AWS":
        return PrincipalMatch.IDENTITY if entry == principal else PrincipalMatch.NONE
    if entry == "*":
        return PrincipalMatch.SESSION
    if entry == principal:
        session = _role_of_session(principal)
        return PrincipalMatch.SESSION if session else PrincipalMatch.IDENTITY
    account = account_of(principal)
    if account and (entry == account or (entry.endswith(f"::{account}:root") and entry.startswith("arn:"))):
        return PrincipalMatch.ACCOUNT
    session = _role_of_session(principal)
    if session:
        role = try_parse_arn(entry)
        # A role ARN in a policy covers every session of that role; the session ARN drops the role's path.
        if (
            role
            and role.service == "iam"
            and role.account == session[0]
            and role.resource.startswith("role/")
            and role.resource.rsplit("/", 1)[-1] == session[1]
        ):
            return PrincipalMatch.IDENTITY
    return PrincipalMatch.NONE


_STRENGTH = {
    PrincipalMatch.NONE: 0,
    PrincipalMatch.ACCOUNT: 1,
    PrincipalMatch.IDENTITY: 2,
    PrincipalMatch.SESSION: 3,
}


def principal_match(principals: Principals, principal: str | None) -> PrincipalMatch:
    if principals.any:
        return PrincipalMatch.SESSION
    if principal is None:
        return PrincipalMatch.NONE
    best = PrincipalMatch.NONE
    for entry_type, entry in principals.entries:
        kind = _entry_kind(entry_type, entry, principal)
        if _STRENGTH[kind] > _STRENGTH[best]:
            best = kind
    return best


def statement_principal(statement: Statement, principal: str | None) -> PrincipalMatch:
    """How the statement's Principal/NotPrincipal covers the caller (NONE: it does not apply)."""
    if statement.principals is not None:
        return principal_match(statement.principals, principal)
    if statement.not_principals is not None:
        if principal is None:
            return PrincipalMatch.NONE
        # NotPrincipal exempts exactly the ARNs it lists: AWS asks for the assumed-role session ARN to be
        # listed to exempt a session, so a role ARN alone does not exempt its sessions.
        listed = any(e in ("*", principal) for _, e in statement.not_principals.entries)
        return PrincipalMatch.NONE if listed or statement.not_principals.any else PrincipalMatch.IDENTITY
    return PrincipalMatch.IDENTITY  # identity-based statements have no principal: the attached identity
