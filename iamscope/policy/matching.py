"""Whether a statement's Action, Resource and Principal elements cover a request. Conditions are
decided in conditions.py; combining statements into a decision is evaluate.py's job."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

from iamscope.policy.arn import try_parse_arn
from iamscope.policy.context import RequestContext
from iamscope.policy.document import Principals, Statement
from iamscope.policy.variables import UnknownVariable, substitute
from iamscope.policy.wildcard import Mode, pieces_matcher


def action_applies(statement: Statement, action: str) -> bool:
    hit = statement.action_set.matches(action)
    return hit if statement.actions is not None else not hit


def resource_applies(statement: Statement, resource: str, context: RequestContext) -> bool | None:
    """None when a partial context lacks a variable the Resource element needs."""
    patterns = statement.resource_set
    if patterns is None:
        return True  # resource-based policies may omit Resource: the policy's own resource
    hit = patterns.matches(resource)
    if not hit and patterns.with_variables:
        try:
            for pattern in patterns.with_variables:
                pieces = substitute(pattern, context)  # may raise UnknownVariable
                if pieces is not None and pieces_matcher(pieces, Mode.RESOURCE)(resource):
                    hit = True
                    break
        except UnknownVariable:
            return None
    return hit if statement.resources is not None else not hit


class PrincipalMatch(enum.Enum):
    """How a Principal element covers the caller. The kind decides how a resource-policy grant combines
    with the caller's permissions boundary (IAM User Guide, Policy evaluation logic)."""

    NONE = "none"
    # The caller's account (root ARN or bare id): it delegates to the account's IAM policies.
    ACCOUNT = "account"
    # The caller's role ARN, which covers every session of the role; an implicit deny in the role's
    # permissions boundary still limits such a grant.
    ROLE = "role"
    # The caller itself: its assumed-role session ARN, IAM user ARN, federated-user session, service or
    # identity provider, or "*". A boundary does not limit such a grant ("Permissions boundaries ... do
    # not limit permissions granted using the aws:PrincipalArn condition key with a wildcard (*) in the
    # Principal element").
    DIRECT = "direct"


@dataclass(frozen=True, slots=True)
class Caller:
    """What an ARN given as the caller says about the principal making the request."""

    arn: str
    account: str | None
    # "AssumedRole" (a session, or a role ARN standing for its sessions), "User", "FederatedUser", "Other"
    kind: str
    role_name: str | None  # for a session or a role ARN
    is_role_arn: bool

    @property
    def principal_arn(self) -> str:
        """The aws:PrincipalArn value: for a session, the role's ARN (its path is not in the session ARN)."""
        if self.kind == "AssumedRole" and not self.is_role_arn and self.account and self.role_name:
            partition = self.arn.split(":", 2)[1]
            return f"arn:{partition}:iam::{self.account}:role/{self.role_name}"
        return self.arn


@lru_cache(maxsize=1 << 14)
def parse_caller(principal: str) -> Caller:
    """What a caller ARN says (cached: a scan asks about the same few thousand role ARNs again and
    again, and a Caller is immutable)."""
    arn = try_parse_arn(principal)
    if arn is None:
        return Caller(arn=principal, account=None, kind="Other", role_name=None, is_role_arn=False)
    account = arn.account or None
    if arn.service == "sts" and arn.resource.startswith("assumed-role/"):
        parts = arn.resource.split("/")
        name = parts[1] if len(parts) >= 3 else None
        return Caller(arn=principal, account=account, kind="AssumedRole", role_name=name, is_role_arn=False)
    if arn.service == "iam" and arn.resource.startswith("role/"):
        name = arn.resource.rsplit("/", 1)[-1]
        return Caller(arn=principal, account=account, kind="AssumedRole", role_name=name, is_role_arn=True)
    if arn.service == "iam" and arn.resource.startswith("user/"):
        return Caller(arn=principal, account=account, kind="User", role_name=None, is_role_arn=False)
    if arn.service == "sts" and arn.resource.startswith("federated-user/"):
        return Caller(arn=principal, account=account, kind="FederatedUser", role_name=None, is_role_arn=False)
    return Caller(arn=principal, account=account, kind="Other", role_name=None, is_role_arn=False)


def account_of(principal: str | None) -> str | None:
    """The account of a caller ARN (None when there is no caller or the ARN names no account)."""
    return parse_caller(principal).account if principal else None


def is_account_entry(entry: str) -> bool:
    return entry.isdigit() or (entry.startswith("arn:") and entry.endswith(":root"))


def is_role_entry(entry: str) -> bool:
    return parse_caller(entry).is_role_arn


def _entry_kind(entry_type: str, entry: str, caller: Caller) -> PrincipalMatch:
    if entry_type != "AWS":
        return PrincipalMatch.DIRECT if entry == caller.arn else PrincipalMatch.NONE
    if entry == "*":
        return PrincipalMatch.DIRECT
    if entry == caller.arn:
        return PrincipalMatch.ROLE if caller.is_role_arn else PrincipalMatch.DIRECT
    if caller.account and is_account_entry(entry):
        entry_account = entry if entry.isdigit() else entry.split(":")[4]
        return PrincipalMatch.ACCOUNT if entry_account == caller.account else PrincipalMatch.NONE
    if caller.kind == "AssumedRole" and not caller.is_role_arn:
        # A role ARN in a policy covers every session of that role; the session ARN drops the role's path.
        named = parse_caller(entry)
        if named.is_role_arn and (named.account, named.role_name) == (caller.account, caller.role_name):
            return PrincipalMatch.ROLE
    return PrincipalMatch.NONE


_STRENGTH = {
    PrincipalMatch.NONE: 0,
    PrincipalMatch.ACCOUNT: 1,
    PrincipalMatch.ROLE: 2,
    PrincipalMatch.DIRECT: 3,
}


def principal_match(principals: Principals, principal: str | None) -> PrincipalMatch:
    if principals.any:
        return PrincipalMatch.DIRECT
    if principal is None:
        return PrincipalMatch.NONE
    caller = parse_caller(principal)
    best = PrincipalMatch.NONE
    for entry_type, entry in principals.entries:
        kind = _entry_kind(entry_type, entry, caller)
        if _STRENGTH[kind] > _STRENGTH[best]:
            best = kind
    return best


def statement_principal(statement: Statement, principal: str | None, *, has_boundary: bool) -> PrincipalMatch:
    """How the statement's Principal/NotPrincipal covers the caller (NONE: it does not apply)."""
    if statement.principals is not None:
        return principal_match(statement.principals, principal)
    if statement.not_principals is not None:
        # NotPrincipal (Deny only) "will always deny any IAM principal that has a permissions boundary
        # policy attached, regardless of the values specified in the NotPrincipal element".
        if has_boundary:
            return PrincipalMatch.DIRECT
        if principal is None:
            return PrincipalMatch.NONE
        # Otherwise it exempts exactly the ARNs it lists: AWS asks for the assumed-role session ARN to be
        # listed to exempt a session, so a role ARN alone does not exempt its sessions.
        listed = any(e in ("*", principal) for _, e in statement.not_principals.entries)
        return PrincipalMatch.NONE if listed or statement.not_principals.any else PrincipalMatch.DIRECT
    return PrincipalMatch.DIRECT  # identity-based statements have no principal: the attached identity


def principal_keys(principal: str) -> dict[str, str]:
    """The global condition keys AWS always puts in the request context for a signed request, as far
    as the caller's ARN tells them: aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType."""
    caller = parse_caller(principal)
    keys = {"aws:PrincipalArn": caller.principal_arn}
    if caller.account:
        keys["aws:PrincipalAccount"] = caller.account
    if caller.kind != "Other":
        keys["aws:PrincipalType"] = caller.kind
    return keys
