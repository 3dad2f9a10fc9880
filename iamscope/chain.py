"""Role chaining: the credentials of a role a pod can act as may call sts:AssumeRole on other roles,
when that role's identity policies allow it and the other role's trust policy names it (or its
account, which then delegates to its IAM policies). A pod reaches every role along such chains."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from iamscope.access import PRINCIPAL_TAGS, AccessCalculator
from iamscope.identity import TrustCheck, may_assume
from iamscope.model import Role
from iamscope.policy.context import RequestContext
from iamscope.policy.matching import account_of, action_applies, is_account_entry

ASSUME_ROLE = "sts:AssumeRole"


class RoleChains:
    def __init__(self, roles: Iterable[Role], calculator: AccessCalculator) -> None:
        self.calculator = calculator
        self.roles = {r.arn: r for r in roles}
        # who each trust policy names: a role ARN, an account (its root ARN or id), or "*"
        self.trusting: dict[str, list[Role]] = {}
        for role in self.roles.values():
            names: set[str] = set()
            for st in role.trust.statements if role.trust else ():
                if st.effect != "Allow" or st.principals is None:
                    continue
                if st.principals.any:
                    names.add("*")
                for entry in st.principals.values("AWS"):
                    names.add("*" if entry == "*" else _account(entry) if is_account_entry(entry) else entry)
            for name in names:
                self.trusting.setdefault(name, []).append(role)
        self._direct: dict[str, tuple[TrustCheck, ...]] = {}

    def direct(self, source_arn: str) -> tuple[TrustCheck, ...]:
        """The roles `source_arn`'s credentials can assume in one step."""
        if source_arn in self._direct:
            return self._direct[source_arn]
        source = self.roles.get(source_arn)
        found: list[TrustCheck] = []
        if source is not None:
            account = account_of(source.arn) or ""
            docs, boundary, _ = self.calculator.documents(source)
            # a trust naming the role itself can grant alone (same account); one naming the account or
            # everyone only delegates to the role's own policies, which must allow sts:AssumeRole
            keys = [source.arn]
            if any(
                st.effect == "Allow" and action_applies(st, ASSUME_ROLE) for d in docs for st in d.statements
            ):
                keys += [account, "*"]
            candidates = {r.arn: r for key in keys for r in self.trusting.get(key, ())}
            tags = {f"{PRINCIPAL_TAGS}{k}": v for k, v in source.tags}
            for arn in sorted(candidates):
                if arn == source.arn:
                    continue
                target = candidates[arn]
                context = RequestContext(tags, complete=False, known_prefixes=(PRINCIPAL_TAGS,))
                if target.trust is None:
                    continue
                result = may_assume(docs, boundary, ASSUME_ROLE, arn, target.trust, source.arn, context)
                if result.outcome == "denied":
                    continue
                when = f" only when {result.when}" if result.outcome == "conditional" else ""
                found.append(
                    TrustCheck(
                        role_arn=arn,
                        via="role-chain",
                        outcome=result.outcome,
                        reason=f"{source.arn} may call {ASSUME_ROLE} on it{when}: its policies allow it and "
                        "the trust policy admits it",
                        statements=result.statements,
                        source=source.arn,
                    )
                )
        self._direct[source_arn] = tuple(found)
        return self._direct[source_arn]

    def reachable(self, starts: Iterable[TrustCheck]) -> tuple[TrustCheck, ...]:
        """Every role reached by chaining from the roles in `starts`, each once (the shortest chain)."""
        seen = {c.role_arn for c in starts}
        frontier = [c for c in starts if c.outcome in ("allowed", "conditional")]
        chained: list[TrustCheck] = []
        while frontier:  # no depth limit in AWS; `seen` ends loops
            following: list[TrustCheck] = []
            for check in frontier:
                for nxt in self.direct(check.role_arn):
                    if nxt.role_arn in seen:
                        continue
                    seen.add(nxt.role_arn)
                    if check.outcome == "conditional" and nxt.outcome == "allowed":
                        nxt = TrustCheck(
                            role_arn=nxt.role_arn,
                            via=nxt.via,
                            outcome="conditional",
                            reason=nxt.reason + f" (reaching {check.role_arn} is conditional)",
                            statements=nxt.statements,
                            source=nxt.source,
                        )
                    following.append(nxt)
            chained += following
            frontier = following
        return tuple(chained)


def _account(entry: str) -> str:
    return entry if entry.isdigit() else entry.split(":")[4]


def chain_of(check: TrustCheck, checks: Mapping[str, TrustCheck]) -> list[TrustCheck]:
    """The checks from the service account's first role to `check`, following `source`."""
    path = [check]
    while path[0].source and path[0].source in checks and path[0].source not in {c.role_arn for c in path}:
        path.insert(0, checks[path[0].source])
    return path
