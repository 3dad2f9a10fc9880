"""What the roles grant compared with what the workloads declare: wildcard actions and resources,
grants reaching other workloads' secrets, grants beyond the need, grants the mounts lack, and node
roles that hand secrets to every pod on the node."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from itertools import chain, filterfalse
from typing import Generic, TypeVar

from iamscope.access import ASCP_ACTIONS, DECRYPT, DESCRIBE_SECRET, Grant, RoleAccess, WildcardStatement
from iamscope.arnlists import Concrete, concrete, is_pattern, merge_sorted
from iamscope.assess import Assessment, Need, ServiceAccountView
from iamscope.checks.common import declaration_path, location_of, role_path, subjects
from iamscope.edges import Edge, reads
from iamscope.findings import RANK, Finding, listing, listing_sorted, lower, rule
from iamscope.identity import TrustCheck
from iamscope.policy.arn import try_parse_arn
from iamscope.policy.wildcard import resource_matches

T = TypeVar("T")

IAM_DOCS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html"
ASCP_DOCS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/integrating_csi_driver.html"


def _scoped_roles(
    assessment: Assessment,
) -> dict[str, tuple[RoleAccess, list[tuple[ServiceAccountView, TrustCheck]]]]:
    """Every role some service account of the cluster can act as, with those service accounts."""
    roles: dict[str, tuple[RoleAccess, list[tuple[ServiceAccountView, TrustCheck]]]] = {}
    for view in assessment.service_accounts.values():
        for check, access in view.access:
            roles.setdefault(check.role_arn, (access, []))[1].append((view, check))
    return dict(sorted(roles.items()))


def _users(entries: list[tuple[ServiceAccountView, TrustCheck]]) -> tuple[str, ...]:
    return tuple(sorted({v.id for v, _ in entries}))


def _statement_list(wildcards: Iterable[WildcardStatement]) -> str:
    return "; ".join(str(w.statement) for w in wildcards)


def _probes(assessment: Assessment) -> tuple[str, ...]:
    """A made-up secret and parameter in every region of the snapshot: a pattern that matches one of
    them covers every secret (or parameter) of the account in that region."""
    account = assessment.inventory.aws.account or "123456789012"
    regions = sorted({s.region for s in assessment.inventory.aws.secrets} | {"us-east-1"})
    probes = [f"arn:aws:secretsmanager:{r}:{account}:secret:iamscope-probe/x-AbCdEf" for r in regions]
    return tuple(probes + [f"arn:aws:ssm:{r}:{account}:parameter/iamscope-probe/x" for r in regions])


@rule(
    "wildcard-action",
    title="Secret-reading actions granted through a wildcard action",
    severity="high",
    rationale="`secretsmanager:*`, `secretsmanager:Get*`, `ssm:GetParameter*` or `*` grant every present "
    "and future reading action, including BatchGetSecretValue and parameter history, where ASCP needs two.",
    remediation="Name the actions: secretsmanager:GetSecretValue and secretsmanager:DescribeSecret for "
    "secrets, ssm:GetParameters for parameters (`iamscope generate` writes the policy).",
    references=(IAM_DOCS,),
)
def wildcard_action(assessment: Assessment) -> Iterator[Finding]:
    for role_arn, (access, users) in _scoped_roles(assessment).items():
        hits = [w for w in access.wildcards if w.wildcard_actions]
        if not hits:
            continue
        actions = sorted({a for w in hits for a in w.wildcard_actions})
        yield Finding(
            rule="wildcard-action",
            severity="high",
            subject=role_arn,
            role_arn=role_arn,
            message=f"grants secret-reading actions through {', '.join(actions)} ({_statement_list(hits)}); "
            f"usable by {listing(_users(users))}",
            resources=tuple(sorted({a for w in hits for a in w.reached})),
            patterns=tuple(actions),
            objects=_users(users),
            evidence=tuple(e for v, c in users[:1] for e in role_path(assessment, v, None, c)),
            remediation="",
        )


@rule(
    "wildcard-resource",
    title="Secrets or parameters granted through a wildcard resource",
    severity="high",
    rationale="A Resource pattern with `*` (other than the exact `<name>-??????` suffix) grants every "
    "matching secret, including those created later and those other workloads declare.",
    remediation="List the exact ARNs the workload declares (`<name>-??????` when the suffix is unknown).",
    references=(IAM_DOCS,),
)
def wildcard_resource(assessment: Assessment) -> Iterator[Finding]:
    probes = _probes(assessment)
    for role_arn, (access, users) in _scoped_roles(assessment).items():
        needed = {n for v, _ in users for n in v.need_arns}
        # a wildcard that Deny statements, a boundary or conditions cut down to what the role's users
        # declare, and that reaches nothing created later, grants nothing beyond the need
        hits = [
            w
            for w in access.wildcards
            if w.wildcard_resources and (w.future or not needed.issuperset(w.reached))
        ]
        if not hits:
            continue
        patterns = sorted({p for w in hits for p in w.wildcard_resources})
        everything = any(
            w.future == "allowed"
            and any(p == "*" or any(resource_matches(p, x) for x in probes) for p in w.wildcard_resources)
            for w in hits
        )
        conditional = all(w.future != "allowed" for w in hits) and any(w.future for w in hits)
        # each `reached` is sorted and within what the role reads: a statement reaching all of that
        # (`*`, see AccessCalculator._wildcards) is the union
        runs = [w.reached for w in hits]
        whole = any(r is access.sorted_readable for r in runs)
        reached = access.readable_split[0] if whole else concrete(merge_sorted(runs))
        yield Finding(
            rule="wildcard-resource",
            severity="critical" if everything else "high",
            subject=role_arn,
            role_arn=role_arn,
            message=f"grants reading on {', '.join(patterns)} ({_statement_list(hits)}), reaching "
            f"{len(reached)} known secret(s)/parameter(s)"
            + ("; it covers every secret or parameter of the account in a region" if everything else "")
            + ("; what is created later is reached only under conditions" if conditional else "")
            + f"; usable by {listing(_users(users))}",
            resources=reached,
            patterns=tuple(patterns),
            objects=_users(users),
            evidence=tuple(e for v, c in users[:1] for e in role_path(assessment, v, None, c)),
        )


def _count_text(known: int, pending: int) -> str:
    return f"{known} secret(s)/parameter(s)" + (
        f" (and {pending} declared but not created yet)" if pending else ""
    )


class _DeclaredReads:
    """What one role (reached one way) can read that some mount declares, worked out once for every
    service account that reaches it: a role granting `*` reaches every declared ARN, and the service
    accounts sharing it differ only in their own few needs, which each takes out."""

    def __init__(self, access: RoleAccess, every: _Declarers) -> None:
        members = access.readable_resources & every.arns
        read = every.reading(members, access.readable_split)
        self.members = members
        self.count = read.count
        self.ordered = read.ordered
        self.declarations = read.declarations
        self.sorted_workloads = read.sorted_workloads
        self.namespaces = read.namespaces
        self.namespace_set = frozenset(read.namespaces)
        self.namespace_of = every.namespace_of
        self.workloads_of = every.workloads_of
        self.grants = access.grants
        # resources decided alike share one Grant: count by grant, then ask each grant once
        grants = list(map(self.grants.__getitem__, chain(*self.ordered)))
        by_grant = Counter(map(id, grants))
        grant_of = dict(zip(map(id, grants), grants, strict=True))
        self.allowed = sum(n for g, n in by_grant.items() if grant_of[g].readable == "allowed")

    def without(self, own: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The ARNs less `own`, sorted: those that are not patterns, and those that are (a finding's
        `resources` and `patterns`, split here once per role rather than once per finding)."""
        drop = own & self.members
        if not drop:
            return self.ordered
        return _less(self.ordered[0], drop), _less(self.ordered[1], drop)

    def declarers(self, own: set[str]) -> tuple[tuple[str, ...], AbstractSet[str]]:
        """The workloads declaring the ARNs that are not `own`, sorted, and their namespaces."""
        taken = Counter(chain.from_iterable(map(self.workloads_of.__getitem__, own & self.members)))
        gone = {w for w, count in taken.items() if count >= self.declarations(w)}
        if not gone:
            return self.sorted_workloads, self.namespace_set
        # a namespace is left while some of its declaring workloads are (a `*` role's run to thousands:
        # only the namespaces of the few gone are looked at)
        taken_in = Counter(self.namespace_of[w] for w in gone)
        emptied = {ns for ns, count in taken_in.items() if count >= self.namespaces[ns]}
        return _less(self.sorted_workloads, gone), self.namespace_set - emptied

    def any_allowed(self, own: set[str]) -> bool:
        mine = sum(1 for a in own & self.members if self.grants[a].readable == "allowed")
        return self.allowed > mine

    def first(
        self, own: set[str], here: set[str], namespaces_of: Mapping[str, frozenset[str]]
    ) -> tuple[str, Grant]:
        """The grant the evidence shows: the first ARN (not `own`) declared outside `here`, concrete ARNs
        before patterns; failing that, the first ARN."""
        for arns in self.ordered:
            fallback = None
            for arn in arns:
                if arn in own:
                    continue
                if not namespaces_of[arn] <= here:
                    return arn, self.grants[arn]
                fallback = fallback or arn
            if fallback is not None:
                return fallback, self.grants[fallback]
        raise ValueError("no ARN beyond the service account's own")  # callers check there is one


# A role reading more than this share of the declared ARNs counts their declarers by what it does not read.
_MOST = 0.5


class _Declarers:
    """Every declared ARN, the workloads declaring them, and what _DeclaredReads keeps of a set of them
    (worked out once per set: the roles that read `*` read the same declared ARNs)."""

    def __init__(self, declared_by: Mapping[str, tuple[Need, ...]]) -> None:
        self.arns = frozenset(declared_by)
        # the workloads declaring each ARN (once per declaration), so that counting them over many
        # ARNs is Counter's C loop over a chain of tuples
        self.workloads_of = {arn: tuple(n.workload for n in needs) for arn, needs in declared_by.items()}
        self.workloads = Counter(chain.from_iterable(self.workloads_of.values()))
        self.sorted_workloads = tuple(sorted(self.workloads))
        self.namespace_of = {w: w.split("/", 1)[0] for w in self.sorted_workloads}
        self.namespaces = Counter(self.namespace_of.values())
        self.read: dict[frozenset[str], _ReadSet] = {}

    def reading(self, members: frozenset[str], readable: tuple[Concrete, tuple[str, ...]]) -> _ReadSet:
        """What is kept of `members`, declared ARNs among `readable` (sorted, the ARNs and the patterns
        apart)."""
        found = self.read.get(members)
        if found is None:
            found = self.read[members] = _ReadSet(self, members, readable)
        return found


class _ReadSet:
    """Declared ARNs a role reads: sorted, split into concrete ones and patterns (the order in which
    `first` looks), how many ARNs of them each workload declares, the workloads declaring them,
    sorted, with their namespaces (how many of these workloads in each)."""

    def __init__(
        self, every: _Declarers, members: frozenset[str], readable: tuple[Concrete, tuple[str, ...]]
    ) -> None:
        arns, patterns = readable
        # cut per service account by _less, which keeps the Concrete type
        kept = members.__contains__
        self.ordered = (Concrete(filter(kept, arns)), tuple(filter(kept, patterns)))
        self.count = len(self.ordered[0]) + len(self.ordered[1])
        workloads_of = every.workloads_of
        if len(members) < len(every.arns) * _MOST:
            workloads = Counter(chain.from_iterable(map(workloads_of.__getitem__, chain(*self.ordered))))
            self.declarations: Callable[[str], int] = workloads.__getitem__
            ordered = tuple(sorted(workloads))
            namespaces = Counter(map(every.namespace_of.__getitem__, ordered))
        else:  # most of them (`*`): every declaration less those of what it does not read
            unread = Counter(chain.from_iterable(map(workloads_of.__getitem__, every.arns - members)))
            whole = every.workloads
            # looked up workload by workload (the service accounts' own few): not a Counter of all
            self.declarations = lambda workload: whole[workload] - unread[workload]
            gone = {w for w, count in unread.items() if count >= whole[w]}
            ordered = _less(every.sorted_workloads, gone)
            namespaces = every.namespaces - Counter(map(every.namespace_of.__getitem__, gone))
        self.sorted_workloads = ordered
        self.namespaces = namespaces


def _less(items: tuple[str, ...], drop: AbstractSet[str]) -> tuple[str, ...]:
    """The sorted `items` (ARNs, workloads) less those in `drop` (a few), found by bisection."""
    out: list[str] = []
    start = 0
    for item in sorted(drop):
        at = bisect_left(items, item, start)
        if at < len(items) and items[at] == item:
            out += items[start:at]
            start = at + 1
    if not start:
        return items
    out += items[start:]
    return type(items)(out)


class _NamespacesOf(dict[str, frozenset[str]]):
    """The namespaces of the mounts declaring an ARN, worked out for the ARNs asked about."""

    def __init__(self, declared_by: Mapping[str, tuple[Need, ...]]) -> None:
        super().__init__()
        self.declared_by = declared_by

    def __missing__(self, arn: str) -> frozenset[str]:
        found = self[arn] = frozenset(n.mount.namespace for n in self.declared_by[arn])
        return found


class _PerRoleAccess(Generic[T]):
    """What `make` works out of a RoleAccess, once per RoleAccess in a check run: the service accounts
    sharing a role (reached the same way) share its RoleAccess. The RoleAccess is kept with the
    answer, so its id stays its own."""

    def __init__(self, make: Callable[[RoleAccess], T]) -> None:
        self.make = make
        self.found: dict[int, tuple[RoleAccess, T]] = {}

    def get(self, access: RoleAccess) -> T:
        hit = self.found.get(id(access))
        if hit is None:
            hit = self.found[id(access)] = (access, self.make(access))
        return hit[1]


@rule(
    "cross-workload-grant",
    title="A role can read a secret another workload declares",
    severity="high",
    rationale="Any pod running as the service account can read the other workload's secret with the "
    "role's credentials; across namespaces this breaks the namespace boundary.",
    remediation="Scope the role to the ARNs its own workloads declare; give each workload its own role.",
    references=(ASCP_DOCS,),
)
def cross_workload(assessment: Assessment) -> Iterator[Finding]:
    declared_by = assessment.declared_by
    # per declared ARN, the namespaces of the mounts declaring it
    namespaces_of = _NamespacesOf(declared_by)
    every = _Declarers(declared_by)
    reads_of = _PerRoleAccess(lambda access: _DeclaredReads(access, every))
    for view in assessment.service_accounts.values():
        own = set(view.need_arns)
        # what each role can read that some mount declares: the service account's own needs aside,
        # another service account's mount declares every one of them
        by_role: dict[str, list[tuple[TrustCheck, _DeclaredReads]]] = {}
        for check, access in view.access:
            found = reads_of.get(access)
            if found.count > len(own & found.members):
                by_role.setdefault(check.role_arn, []).append((check, found))
        for role_arn, ways in sorted(by_role.items()):
            parts = [(check, found, found.without(own)) for check, found in ways]
            # a role reached two ways (IRSA and Pod Identity) reads the same ARNs twice: once each
            if len(parts) == 1:
                resources, pending = parts[0][2]
            else:
                resources = tuple(sorted({a for *_, (r, _) in parts for a in r}))
                pending = tuple(sorted({a for *_, (_, p) in parts for a in p}))
            counted = _count_text(len(resources), len(pending))
            if len(parts) == 1:
                declarers, namespaces = parts[0][1].declarers(own)
            else:
                declarers = tuple(sorted(set().union(*(found.declarers(own)[0] for _, found, _ in parts))))
                namespaces = {w.split("/", 1)[0] for w in declarers}
            cross_ns = bool(namespaces - {view.namespace})
            severity = "critical" if cross_ns else "high"
            conditional = all(
                check.outcome == "conditional" or not found.any_allowed(own) for check, found, _ in parts
            )
            if conditional:
                severity = lower(severity)
            # the evidence shows a known secret, and one from another namespace when there is one
            here = {view.namespace}
            first_check, (first_arn, first_grant) = min(
                ((check, found.first(own, here, namespaces_of)) for check, found, _ in parts),
                key=lambda h: (
                    is_pattern(h[1][0]),
                    namespaces_of[h[1][0]] <= here,  # every declaring mount is in this namespace
                    h[1][0],
                ),
            )
            need = next(n for n in assessment.declared_by[first_arn] if n.mount.service_account != view.id)
            for subject in subjects(view):
                evidence = [
                    *role_path(assessment, view, subject, first_check),
                    reads(first_arn, first_grant),
                    *declaration_path(need),
                ]
                yield Finding(
                    rule="cross-workload-grant",
                    severity=severity,
                    subject=subject,
                    service_account=view.id,
                    role_arn=role_arn,
                    message=f"can read {counted} that {len(declarers)} other "
                    f"workload(s) declare ({listing(declarers)})"
                    + (
                        f", across namespaces ({listing_sorted(namespaces - {view.namespace})})"
                        if cross_ns
                        else ""
                    )
                    + (" (only under conditions the scan cannot confirm)" if conditional else ""),
                    resources=resources,
                    patterns=pending,
                    objects=tuple(declarers),
                    evidence=tuple(evidence),
                    location=location_of(assessment, subject),
                )


@rule(
    "excess-grant",
    title="Grants beyond the declared need",
    severity="medium",
    rationale="Every secret a role can read beyond what its workloads mount is exposure with no use.",
    remediation="Remove the statements or narrow their resources to the declared ARNs.",
    references=(ASCP_DOCS,),
)
def excess(assessment: Assessment) -> Iterator[Finding]:
    declared = frozenset(assessment.declared_by)
    # what each role (reached one way) can read that no mount declares, sorted
    undeclared = _PerRoleAccess(
        lambda access: Concrete(filterfalse(declared.__contains__, access.readable_split[0]))
    )
    for view in assessment.service_accounts.values():
        by_role: dict[str, list[tuple[RoleAccess, tuple[str, ...]]]] = {}
        patterns: dict[str, set[str]] = {}
        checks: dict[str, TrustCheck] = {}
        for check, access in view.access:
            checks[check.role_arn] = check
            for w in access.wildcards:
                if w.wildcard_resources and w.future:
                    patterns.setdefault(check.role_arn, set()).update(w.wildcard_resources)
        # what no mount declares (what one does is needed, or another workload's: cross-workload-grant)
        for check, access in view.access:
            arns = undeclared.get(access)
            if arns:
                by_role.setdefault(check.role_arn, []).append((access, arns))
        for role_arn in sorted(set(by_role) | set(patterns)):
            ways = by_role.get(role_arn, [])
            pats = tuple(sorted(patterns.get(role_arn, ())))
            if not ways:
                continue  # a pattern alone is the role's wildcard-resource finding, said once there
            resources = ways[0][1] if len(ways) == 1 else tuple(sorted({a for _, arns in ways for a in arns}))
            shown = ways[0][1][0]  # the evidence shows the first resource of the first way
            what = f"{len(resources)} secret(s)/parameter(s) no workload declares"
            if pats:
                what += f", and every future match of {', '.join(pats)}"
            for subject in subjects(view):
                evidence = [
                    *role_path(assessment, view, subject, checks[role_arn]),
                    reads(shown, ways[0][0].grants[shown]),
                ]
                yield Finding(
                    rule="excess-grant",
                    severity="medium",
                    subject=subject,
                    service_account=view.id,
                    role_arn=role_arn,
                    message=f"can read {what}",
                    resources=resources,
                    patterns=pats,
                    evidence=tuple(evidence),
                    location=location_of(assessment, subject),
                )


@rule(
    "missing-grant",
    title="The mount will fail: the role lacks an action ASCP calls",
    severity="high",
    rationale="ASCP calls GetSecretValue (mount) and DescribeSecret (rotation) per secret, GetParameters "
    "per parameter batch, and needs kms:Decrypt on customer-managed keys, with the pod's role.",
    remediation="Grant exactly those actions on the declared ARNs (`iamscope generate`).",
    references=(ASCP_DOCS,),
)
def missing(assessment: Assessment) -> Iterator[Finding]:
    for view in assessment.service_accounts.values():
        if not view.mounts or view.ascp_role is None or view.ascp_trust is None or not view.ascp_trust.admits:
            continue
        if view.ascp_role not in assessment.roles:
            continue  # what it grants is unknown (no IAM data for it): the scan is incomplete instead
        access = next(
            (ra for c, ra in view.access if c.role_arn == view.ascp_role and c.via == view.ascp_trust.via),
            None,
        )
        if access is None:
            continue
        # workload → (arn, problem, severity): high breaks the mount, medium breaks rotation (only
        # DescribeSecret), low cannot be verified (another account's resource policy decides)
        by_workload: dict[str, list[tuple[str, str, str]]] = {}
        listed = assessment.inventory.aws.listed
        for need in view.needs:
            where = try_parse_arn(need.arn)
            if need.target.pattern and (
                where is None or (need.target.kind, where.account, where.region) not in listed
            ):
                continue  # the real ARN is unknown (no listing): a grant on it may well cover it
            if need.arn in assessment.catalogue.deleted:
                continue  # the mount fails on the deletion (unresolved-object), not on a grant
            grant = access.grants.get(need.arn)
            problems: list[tuple[str, str]] = []
            for action in ASCP_ACTIONS[need.target.kind]:
                a = grant.action(action) if grant else None
                level = "medium" if action == DESCRIBE_SECRET else "high"
                if a is None:
                    problems.append((f"missing {action}", level))
                elif a.unverified:
                    problems.append((f"{action} allowed only when {a.when}", "low"))
                elif a.outcome == "conditional":
                    problems.append((f"{action} allowed only when {a.when}", level))
            if grant is not None and grant.needs_key:
                if grant.decrypt is None:
                    problems.append((f"missing {DECRYPT} on {grant.needs_key}", "high"))
                elif grant.decrypt.outcome == "conditional":
                    problems.append(
                        (f"{DECRYPT} on {grant.needs_key} allowed only when {grant.decrypt.when}", "high")
                    )
            for text, level in problems:
                by_workload.setdefault(need.workload, []).append((need.arn, text, level))
        for workload, items in sorted(by_workload.items()):
            items = sorted(set(items))
            severity = min((lvl for _, _, lvl in items), key=RANK.__getitem__)
            lead = {
                "high": "the mount will fail: ",
                "medium": "rotation checks will fail: ",
                "low": "cannot be verified from the snapshot: ",
            }[severity]
            yield Finding(
                rule="missing-grant",
                severity=severity,
                subject=workload,
                service_account=view.id,
                role_arn=view.ascp_role,
                message=lead + "; ".join(f"{arn}: {text}" for arn, text, _ in items),
                resources=tuple(sorted({a for a, _, _ in items})),
                evidence=tuple(role_path(assessment, view, workload, view.ascp_trust)),
                location=location_of(assessment, workload),
            )


@rule(
    "node-role-secret-access",
    title="A node's instance-profile role can read secrets",
    severity="critical",
    rationale="Every pod that reaches the instance metadata service gets the node role's credentials; "
    "ASCP never uses the node role, so no mount needs this.",
    remediation="Remove secret-reading permissions from node roles; require IMDSv2 with hop limit 1.",
    references=(ASCP_DOCS,),
)
def node_role(assessment: Assessment) -> Iterator[Finding]:
    for role, access in assessment.node_roles:
        readable = access.readable_split[0]
        wild = sorted({p for w in access.wildcards if w.future for p in w.wildcard_resources})
        if not readable and not wild:
            continue
        evidence: list[Edge] = [
            Edge(source=p, target=role.arn, kind="instance-profile", reason="InstanceProfileList")
            for p in role.instance_profiles
        ] + [reads(a, access.grants[a]) for a in readable[:1]]
        yield Finding(
            rule="node-role-secret-access",
            severity="critical",
            subject=role.arn,
            role_arn=role.arn,
            message=f"instance-profile role can read {len(readable)} known secret(s)/parameter(s)"
            + (f" and everything matching {', '.join(wild)}" if wild else "")
            + "; any pod reaching IMDS on its nodes can too",
            resources=tuple(readable),
            patterns=tuple(wild),
            objects=role.instance_profiles,
            evidence=tuple(evidence),
        )
