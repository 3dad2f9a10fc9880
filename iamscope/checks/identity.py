"""Who the workloads are to AWS: objects that resolve to nothing, mounts with no identity, trust
policies that refuse the service account or admit too many, and roles or service accounts shared
between workloads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from iamscope.assess import Assessment
from iamscope.checks.common import location_of, role_path, subjects
from iamscope.edges import declares, mounts
from iamscope.findings import Finding, listing, rule
from iamscope.identity import AUDIENCE, provider_for, subject, trusts_provider, web_identity
from iamscope.model import Cluster, Role
from iamscope.policy.arn import try_parse_arn
from iamscope.policy.document import Statement

IRSA_DOCS = "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html"
POD_IDENTITY_DOCS = "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html"
ASCP_DOCS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/integrating_csi_driver.html"


@rule(
    "unresolved-object",
    title="An SPC object that resolves to nothing in the snapshot",
    severity="medium",
    rationale="ASCP fails the mount when a declared object does not exist or cannot be resolved; the "
    "expected ARN pattern is still used for the rest of the analysis.",
    remediation="Create the secret/parameter, correct the name or region, or substitute the template.",
    references=(ASCP_DOCS,),
)
def unresolved(assessment: Assessment) -> Iterator[Finding]:
    for mount in assessment.mounts:
        if mount.problems:
            yield Finding(
                rule="unresolved-object",
                severity="medium",
                subject=mount.workload,
                service_account=mount.service_account,
                message="; ".join(mount.problems),
                objects=tuple(x for x in (mount.spc,) if x),
                evidence=(mounts(mount),),
                location=location_of(assessment, mount.workload),
                key=f"volume {mount.volume}",
            )
        if not mount.aws:
            continue
        for ref in mount.objects:
            if not ref.problems:
                continue
            yield Finding(
                rule="unresolved-object",
                severity="medium",
                subject=mount.workload,
                service_account=mount.service_account,
                message=f"{ref.object.label}: " + "; ".join(ref.problems),
                resources=tuple(t.arn for t in ref.targets if not t.pattern),
                patterns=tuple(t.arn for t in ref.targets if t.pattern),
                objects=(ref.id,),
                evidence=(mounts(mount), declares(mount, ref)),
                location=location_of(assessment, mount.workload),
                key=ref.id,
            )


@rule(
    "no-identity",
    title="A workload mounts AWS secrets but has no identity for ASCP",
    severity="high",
    rationale="ASCP uses the pod's IRSA role (eks.amazonaws.com/role-arn) or, with usePodIdentity, its "
    "Pod Identity association; it never falls back to the node or provider role, so the mount fails.",
    remediation="Annotate the service account with its role, or create the Pod Identity association.",
    references=(IRSA_DOCS, POD_IDENTITY_DOCS),
)
def no_identity(assessment: Assessment) -> Iterator[Finding]:
    for view in assessment.service_accounts.values():
        if not view.mounts or view.ascp_role is not None:
            continue
        if not view.declared and view.name != "default":
            continue  # unknown, not absent: the scan says the input is incomplete (assess.py)
        pod_identity = any(m.use_pod_identity for m in view.mounts)
        aws = assessment.inventory.aws
        if pod_identity and (
            "associations" not in aws.present or (assessment.cluster is None and len(aws.clusters) > 1)
        ):
            continue  # which association applies is unknown: the scan is incomplete instead (assess.py)
        if pod_identity:
            why = "the SPC sets usePodIdentity but no Pod Identity association names " + view.id
            if view.identity.annotation:
                why += f" (its IRSA annotation {view.identity.annotation} is not used with usePodIdentity)"
        else:
            why = f"{view.id} has no eks.amazonaws.com/role-arn annotation"
            if view.identity.association is not None:
                why += " (a Pod Identity association exists, but the SPC does not set usePodIdentity)"
        for workload in subjects(view, mounting=True):
            yield Finding(
                rule="no-identity",
                severity="high",
                subject=workload,
                service_account=view.id,
                message=f"mounts AWS objects but {why}: the mount fails",
                resources=tuple(sorted({n.arn for n in view.needs if n.workload == workload})),
                location=location_of(assessment, workload),
            )


@rule(
    "broken-trust",
    title="The role ASCP uses does not trust the service account",
    severity="high",
    rationale="The role's trust policy is evaluated for this service account's token (issuer, sub, aud) "
    "or Pod Identity session; if it refuses, AssumeRole fails and so does the mount.",
    remediation="Fix the trust policy (`iamscope generate` writes it) or the annotation.",
    references=(IRSA_DOCS, POD_IDENTITY_DOCS),
)
def broken_trust(assessment: Assessment) -> Iterator[Finding]:
    account = assessment.inventory.aws.account
    for view in assessment.service_accounts.values():
        check = view.ascp_trust
        if check is None or view.ascp_role is None or check.outcome in ("allowed", "unverified"):
            continue
        if not view.mounts and check.via != "irsa":
            continue
        severity = "high"
        reason = check.reason
        if check.outcome == "missing":
            parsed = try_parse_arn(check.role_arn)
            if parsed is None:
                reason = f"{check.role_arn!r} is not a role ARN"
            elif account and parsed.account != account:
                severity, reason = (
                    "low",
                    f"the role is in account {parsed.account}, outside the snapshot: trust not verified",
                )
            else:
                reason = "the role does not exist in the snapshot"
        elif check.outcome == "conditional":
            severity = "medium"
        for workload in subjects(view, mounting=True):
            yield Finding(
                rule="broken-trust",
                severity=severity,
                subject=workload,
                service_account=view.id,
                role_arn=check.role_arn,
                message=f"cannot assume {check.role_arn} ({check.via}): {reason}",
                evidence=tuple(role_path(assessment, view, workload, check)),
                location=location_of(assessment, workload),
            )


PROBE_SUB = "system:serviceaccount:iamscope-probe:iamscope-probe"
PROBE_AUD = "iamscope-probe-audience"


def _admitted_by(assessment: Assessment) -> dict[str, list[str]]:
    """Role ARN → the cluster's service accounts whose token its trust admits (decided in identity.py)."""
    admitted: dict[str, list[str]] = {}
    for view in sorted(assessment.service_accounts.values(), key=lambda v: v.id):
        for check in view.identity.assumable:
            if check.via == "irsa":
                admitted.setdefault(check.role_arn, []).append(view.id)
    return admitted


def _literal_subs(statements: Iterable[Statement], issuer: str) -> list[str]:
    key = f"{issuer}:sub".lower()
    found: set[str] = set()
    for st in statements:
        for c in st.conditions:
            if c.key.lower() == key and not c.operator.negated:
                found.update(v for v in c.values if "*" not in v and "?" not in v)
    return sorted(found)


def _trust_problems(
    assessment: Assessment, role: Role, cluster: Cluster, admitted: list[str]
) -> list[tuple[str, str]]:
    """What a trust on the cluster's provider admits beyond what it names, decided by evaluating the
    trust for tokens no one should hold (a made-up service account, a made-up audience), so Deny
    statements, negated operators and conditions count as AWS would count them."""
    if role.trust is None or cluster.oidc_issuer is None:
        return []
    issuer = cluster.oidc_issuer
    problems: list[tuple[str, str]] = []
    probe, _ = web_identity(role.trust, role.arn, cluster, PROBE_SUB, AUDIENCE)
    shown = listing(admitted) or "none yet"
    if probe.outcome == "allowed":
        problems.append(
            ("critical", f"admits every service account of the cluster (in this cluster: {shown})")
        )
    elif probe.outcome == "conditional":
        problems.append(("high", f"admits every service account of the cluster when {probe.when}"))
    else:
        key = f"{issuer}:sub".lower()
        for st in role.trust.statements:
            for c in st.conditions:
                wild = [v for v in c.values if "*" in v or "?" in v]
                if c.key.lower() != key or not wild or st.effect != "Allow":
                    continue
                if c.operator.name == "StringEquals" and not c.operator.negated:
                    problems.append(
                        (
                            "medium",
                            f"{st.label} uses StringEquals with {', '.join(wild)}: `*` is literal there, "
                            "so it never matches (StringLike would admit every matching SA)",
                        )
                    )
                elif c.operator.name == "StringLike" and not c.operator.negated:
                    problems.append(
                        (
                            "high",
                            f"{st.label} uses {c.operator_text} {', '.join(wild)}, admitting every "
                            f"matching service account ({len(admitted)} in this cluster: {shown})",
                        )
                    )
    named = _literal_subs(role.trust.statements, issuer)
    sample = ([subject(*a.split("/ServiceAccount/")) for a in admitted] or named or [PROBE_SUB])[0]
    any_audience, _ = web_identity(role.trust, role.arn, cluster, sample, PROBE_AUD)
    if any_audience.outcome == "allowed":
        problems.append(("medium", f"accepts tokens for any audience (no {issuer}:aud condition)"))
    sharing = sorted(c.name for c in assessment.inventory.aws.clusters if c.oidc_issuer == issuer)
    if len(sharing) > 1:
        problems.append(
            (
                "high",
                f"the OIDC provider is shared by clusters {', '.join(sharing)}: "
                "the same sub admits a service account of that name in each",
            )
        )
    return problems


@rule(
    "broad-trust",
    title="A role's trust admits more service accounts than it names",
    severity="high",
    rationale="Without a `sub` condition (or with a negated one) every service account of the cluster "
    "(of every cluster sharing the provider) can assume the role; `StringLike` wildcards admit every "
    "matching one; without `aud`, tokens minted for other audiences work too.",
    remediation="Use StringEquals on `<issuer>:sub` = system:serviceaccount:<ns>:<sa> and on "
    "`<issuer>:aud` = sts.amazonaws.com.",
    references=(IRSA_DOCS,),
)
def broad_trust(assessment: Assessment) -> Iterator[Finding]:
    cluster = assessment.cluster
    if cluster is None or cluster.oidc_issuer is None:
        return
    admitted = _admitted_by(assessment)
    for role in assessment.inventory.aws.roles:
        provider = provider_for(cluster, role.arn)
        if role.trust is None or provider is None or not trusts_provider(role.trust, provider):
            continue
        problems = _trust_problems(assessment, role, cluster, admitted.get(role.arn, []))
        if not problems:
            continue
        rank = {"critical": 0, "high": 1, "medium": 2}
        severity = min((p[0] for p in problems), key=rank.__getitem__)
        yield Finding(
            rule="broad-trust",
            severity=severity,
            subject=role.arn,
            role_arn=role.arn,
            message="; ".join(p[1] for p in problems),
            objects=tuple(admitted.get(role.arn, ())),
        )


@rule(
    "shared-role",
    title="Several service accounts mount through one role",
    severity="medium",
    rationale="A role shared by service accounts grants each of them the union of their secrets.",
    remediation="Give each service account its own role with only its own ARNs.",
    references=(IRSA_DOCS,),
)
def shared_role(assessment: Assessment) -> Iterator[Finding]:
    users: dict[str, list[str]] = {}
    for view in assessment.service_accounts.values():
        trusted = view.ascp_trust is not None and view.ascp_trust.admits
        if view.ascp_role and view.mounts and trusted:
            users.setdefault(view.ascp_role, []).append(view.id)
    for role_arn, sas in sorted(users.items()):
        if len(sas) < 2:
            continue
        needs = sorted({n for sa in sas for n in assessment.service_accounts[sa].need_arns})
        # what each can read of the others' needs through the role (Pod Identity session tags and
        # ABAC conditions may keep each to its own)
        crossing, apart = [], False
        for sa in sorted(sas):
            view = assessment.service_accounts[sa]
            access = next((ra for c, ra in view.access if c.role_arn == role_arn), None)
            own = set(view.need_arns)
            others = {n for o in sas if o != sa for n in assessment.service_accounts[o].need_arns} - own
            readable = sorted(
                a for a in others if access and a in access.grants and access.grants[a].readable
            )
            apart = apart or bool(others)
            if readable:
                crossing.append(f"{sa} can read {len(readable)} of the others'")
        namespaces = sorted({assessment.service_accounts[sa].namespace for sa in sas})
        message = f"used by {len(sas)} service accounts for their mounts: {listing(sorted(sas))}"
        if len(namespaces) > 1:
            message += f" (namespaces {', '.join(namespaces)})"
        if crossing:
            message += (
                "; "
                + "; ".join(crossing[:3])
                + (f"; and {len(crossing) - 3} more" if len(crossing) > 3 else "")
            )
        elif apart:
            message += "; its conditions keep each to its own secrets"
        else:
            message += "; they declare the same secrets, so whatever is granted for one reaches all"
        severity = "low" if apart and not crossing else "medium"
        yield Finding(
            rule="shared-role",
            severity=severity,
            subject=role_arn,
            role_arn=role_arn,
            message=message,
            resources=tuple(needs),
            objects=tuple(sorted(sas)),
        )


@rule(
    "shared-service-account",
    title="Several workloads run as one service account",
    severity="medium",
    rationale="Every workload running as the service account gets its role, so each can read the "
    "secrets all the others declare.",
    remediation="Give each workload its own service account and role.",
    references=(IRSA_DOCS,),
)
def shared_service_account(assessment: Assessment) -> Iterator[Finding]:
    for view in assessment.service_accounts.values():
        if len(view.workloads) < 2 or not view.mounts:
            continue
        own: dict[str, set[str]] = {w: set() for w in view.workloads}
        for need in view.needs:
            own.setdefault(need.workload, set()).add(need.arn)
        union = set().union(*own.values())
        extra = [
            f"{w} can read {len(union - arns)} secret(s)/parameter(s) it does not declare"
            for w, arns in sorted(own.items())
            if union - arns
        ]
        yield Finding(
            rule="shared-service-account",
            severity="medium",
            subject=view.id,
            service_account=view.id,
            role_arn=view.ascp_role,
            message=f"{len(view.workloads)} workloads run as it: {listing(view.workloads)}"
            + (
                f"; {'; '.join(extra[:3])}" + (f"; and {len(extra) - 3} more" if len(extra) > 3 else "")
                if extra
                else ""
            ),
            resources=tuple(sorted(union)),
            objects=view.workloads,
            location=location_of(assessment, view.id),
        )
