"""What the roles grant compared with what the workloads declare: wildcard actions and resources,
grants reaching other workloads' secrets, grants beyond the need, grants the mounts lack, and node
roles that hand secrets to every pod on the node."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from iamscope.access import ASCP_ACTIONS, DECRYPT, DESCRIBE_SECRET, Grant, RoleAccess, WildcardStatement
from iamscope.assess import Assessment, ServiceAccountView
from iamscope.checks.common import declaration_path, location_of, role_path, subjects
from iamscope.edges import Edge, reads
from iamscope.findings import RANK, Finding, is_pattern, listing, lower, rule
from iamscope.identity import TrustCheck
from iamscope.policy.arn import try_parse_arn
from iamscope.policy.wildcard import resource_matches

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
        hits = [w for w in access.wildcards if w.wildcard_resources and (w.future or set(w.reached) - needed)]
        if not hits:
            continue
        patterns = sorted({p for w in hits for p in w.wildcard_resources})
        everything = any(
            w.future == "allowed"
            and any(p == "*" or any(resource_matches(p, x) for x in probes) for p in w.wildcard_resources)
            for w in hits
        )
        conditional = all(w.future != "allowed" for w in hits) and any(w.future for w in hits)
        reached = tuple(sorted({a for w in hits for a in w.reached if not is_pattern(a)}))
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


def _readable(view: ServiceAccountView) -> Iterator[tuple[TrustCheck, Grant, str]]:
    """Every grant the service account can use to read a value, `conditional` when the grant or the
    way to the role holds only under conditions the scan cannot confirm."""
    for check, access in view.access:  # as view.grants(), without building its list
        for _, grant in access.sorted_grants:
            readable = grant.readable
            if readable is not None:
                yield check, grant, "conditional" if check.outcome == "conditional" else readable


def _count(resources: Iterable[str]) -> str:
    """ "3 secret(s)/parameter(s)", and how many more are declared but do not exist yet."""
    items = list(resources)
    known = sum(1 for r in items if not is_pattern(r))
    pending = len(items) - known
    return f"{known} secret(s)/parameter(s)" + (
        f" (and {pending} declared but not created yet)" if pending else ""
    )


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
    # per declared ARN, the service accounts and the namespaces of the mounts declaring it
    declaring = {
        arn: frozenset(n.mount.service_account for n in needs)
        for arn, needs in assessment.declared_by.items()
    }
    namespaces_of = {
        arn: frozenset(n.mount.namespace for n in needs) for arn, needs in assessment.declared_by.items()
    }
    nobody: frozenset[str] = frozenset()
    for view in assessment.service_accounts.values():
        own = set(view.need_arns)
        alone = {view.id}
        by_role: dict[str, list[tuple[TrustCheck, Grant, str]]] = {}
        for check, grant, readable in _readable(view):
            if grant.resource in own:
                continue
            # another service account's mount declares it
            if not declaring.get(grant.resource, nobody) <= alone:
                by_role.setdefault(check.role_arn, []).append((check, grant, readable))
        for role_arn, hits in sorted(by_role.items()):
            resources = tuple(sorted(g.resource for _, g, _ in hits))
            declarers = sorted(
                {
                    n.workload
                    for _, g, _ in hits
                    for n in assessment.declared_by[g.resource]
                    if n.mount.service_account != view.id
                }
            )
            namespaces = {w.split("/", 1)[0] for w in declarers}
            cross_ns = bool(namespaces - {view.namespace})
            severity = "critical" if cross_ns else "high"
            conditional = all(r == "conditional" for _, _, r in hits)
            if conditional:
                severity = lower(severity)
            # the evidence shows a known secret, and one from another namespace when there is one
            here = {view.namespace}
            first_check, first_grant, _ = min(
                hits,
                key=lambda h: (
                    is_pattern(h[1].resource),
                    namespaces_of[h[1].resource] <= here,  # every declaring mount is in this namespace
                    h[1].resource,
                ),
            )
            need = next(
                n for n in assessment.declared_by[first_grant.resource] if n.mount.service_account != view.id
            )
            for subject in subjects(view):
                evidence = [
                    *role_path(assessment, view, subject, first_check),
                    reads(first_grant),
                    *declaration_path(need),
                ]
                yield Finding(
                    rule="cross-workload-grant",
                    severity=severity,
                    subject=subject,
                    service_account=view.id,
                    role_arn=role_arn,
                    message=f"can read {_count(resources)} that {len(declarers)} other "
                    f"workload(s) declare ({listing(declarers)})"
                    + (
                        f", across namespaces ({listing(sorted(namespaces - {view.namespace}))})"
                        if cross_ns
                        else ""
                    )
                    + (" (only under conditions the scan cannot confirm)" if conditional else ""),
                    resources=resources,
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
    for view in assessment.service_accounts.values():
        own = set(view.need_arns)
        by_role: dict[str, list[Grant]] = {}
        patterns: dict[str, set[str]] = {}
        checks: dict[str, TrustCheck] = {}
        for check, access in view.access:
            checks[check.role_arn] = check
            for w in access.wildcards:
                if w.wildcard_resources and w.future:
                    patterns.setdefault(check.role_arn, set()).update(w.wildcard_resources)
        for check, grant, _ in _readable(view):
            if grant.resource in own or assessment.declared_by.get(grant.resource):
                continue  # needed, or another workload's (cross-workload-grant)
            by_role.setdefault(check.role_arn, []).append(grant)
        for role_arn in sorted(set(by_role) | set(patterns)):
            grants = by_role.get(role_arn, [])
            pats = tuple(sorted(patterns.get(role_arn, ())))
            if not grants:
                continue  # a pattern alone is the role's wildcard-resource finding, said once there
            resources = tuple(sorted(g.resource for g in grants))
            what = f"{len(resources)} secret(s)/parameter(s) no workload declares"
            if pats:
                what += f", and every future match of {', '.join(pats)}"
            for subject in subjects(view):
                evidence = role_path(assessment, view, subject, checks[role_arn]) + [
                    reads(g) for g in grants[:1]
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
        readable = sorted(a for a, g in access.grants.items() if g.readable and not is_pattern(a))
        wild = sorted({p for w in access.wildcards if w.future for p in w.wildcard_resources})
        if not readable and not wild:
            continue
        evidence: list[Edge] = [
            Edge(source=p, target=role.arn, kind="instance-profile", reason="InstanceProfileList")
            for p in role.instance_profiles
        ] + [reads(access.grants[a]) for a in readable[:1]]
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
