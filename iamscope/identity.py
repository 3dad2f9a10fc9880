"""Which IAM roles each service account can act as, decided by the roles' trust policies rather than
assumed: IRSA (a web-identity token from the cluster's OIDC issuer with `sub` =
system:serviceaccount:<ns>:<sa> and `aud` = sts.amazonaws.com) and EKS Pod Identity (the association
names the SA; the role must trust pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession).

Any pod can request a projected token for audience sts.amazonaws.com and call
AssumeRoleWithWebIdentity itself, so every role whose trust admits the SA's token is assumable,
whatever the annotation says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from iamscope.config import Config
from iamscope.model import Cluster, Inventory, PodIdentityAssociation, Role
from iamscope.policy.analysis import analyse
from iamscope.policy.document import PolicyDocument
from iamscope.policy.evaluate import StatementRef, evaluate

WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustCheck:
    """Whether `role_arn` admits the SA through `via` ("irsa" or "pod-identity"), and why."""

    role_arn: str
    via: str
    outcome: str  # allowed | denied | conditional | missing (role not in the snapshot) | unverified
    reason: str
    statements: tuple[StatementRef, ...] = ()

    @property
    def admits(self) -> bool:
        return self.outcome in ("allowed", "conditional", "unverified")


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    service_account: str
    namespace: str
    name: str
    annotation: str | None  # eks.amazonaws.com/role-arn
    association: PodIdentityAssociation | None
    annotation_trust: TrustCheck | None
    association_trust: TrustCheck | None
    assumable: tuple[TrustCheck, ...]  # every role whose trust admits this SA (allowed or conditional)


def subject(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def select_cluster(inventory: Inventory, config: Config) -> Cluster | None:
    clusters = inventory.aws.clusters
    if config.cluster_name:
        return next((c for c in clusters if c.name == config.cluster_name), None)
    return clusters[0] if len(clusters) == 1 else None


def trusts_provider(document: PolicyDocument, provider_arn: str) -> bool:
    return any(
        s.effect == "Allow" and s.principals is not None and provider_arn in s.principals.values("Federated")
        for s in document.statements
    )


def _sub_values(document: PolicyDocument, issuer: str, provider_arn: str) -> set[str] | None:
    """The exact `sub` values a trust admits when every allowing statement pins them with
    StringEquals; None when some statement admits more (StringLike, no sub condition...)."""
    key = f"{issuer}:sub".lower()
    values: set[str] = set()
    for s in document.statements:
        if (
            s.effect != "Allow"
            or s.principals is None
            or provider_arn not in s.principals.values("Federated")
        ):
            continue
        pinned = [
            c
            for c in s.conditions
            if c.key.lower() == key
            and c.operator.name == "StringEquals"
            and not c.if_exists
            and c.qualifier is None
        ]
        if not pinned:
            return None
        values.update(pinned[0].values)
    return values


def check_irsa(
    role: Role | None, role_arn: str, cluster: Cluster | None, namespace: str, name: str
) -> TrustCheck:
    if role is None:
        return TrustCheck(
            role_arn=role_arn, via="irsa", outcome="missing", reason="the role is not in the snapshot"
        )
    if cluster is None or cluster.oidc_issuer is None or cluster.oidc_provider_arn is None:
        return TrustCheck(
            role_arn=role_arn,
            via="irsa",
            outcome="unverified",
            reason="no EKS cluster with an OIDC issuer in the snapshot: trust not verified",
        )
    if role.trust is None:
        return TrustCheck(
            role_arn=role_arn, via="irsa", outcome="denied", reason="the role has no trust policy"
        )
    issuer = cluster.oidc_issuer
    context = {f"{issuer}:sub": subject(namespace, name), f"{issuer}:aud": AUDIENCE}
    provider = cluster.oidc_provider_arn
    result = analyse([], WEB_IDENTITY, role.arn, context, resource_policy=role.trust, principal=provider)
    statements = result.statements
    if result.outcome == "allowed":
        statements = evaluate(
            [], WEB_IDENTITY, role.arn, context, resource_policy=role.trust, principal=provider
        ).statements
        where = ", ".join(f"statement {r.index}" + (f" (Sid {r.sid!r})" if r.sid else "") for r in statements)
        reason = f"trust policy admits {subject(namespace, name)}" + (f" ({where})" if where else "")
    elif result.outcome == "conditional":
        reason = f"trust policy admits {subject(namespace, name)} only when {result.when}"
    elif not trusts_provider(role.trust, cluster.oidc_provider_arn):
        reason = f"trust policy does not name the cluster's OIDC provider {cluster.oidc_provider_arn}"
    else:
        reason = f"trust policy does not admit sub {subject(namespace, name)} with aud {AUDIENCE}"
    return TrustCheck(
        role_arn=role.arn, via="irsa", outcome=result.outcome, reason=reason, statements=statements
    )


def check_pod_identity(
    role: Role | None, association: PodIdentityAssociation, cluster: Cluster | None
) -> TrustCheck:
    arn = association.role_arn
    if role is None:
        return TrustCheck(
            role_arn=arn, via="pod-identity", outcome="missing", reason="the role is not in the snapshot"
        )
    if role.trust is None:
        return TrustCheck(
            role_arn=arn, via="pod-identity", outcome="denied", reason="the role has no trust policy"
        )
    context: dict[str, str] = {
        "aws:RequestTag/kubernetes-namespace": association.namespace,
        "aws:RequestTag/kubernetes-service-account": association.service_account,
        "aws:RequestTag/eks-cluster-name": association.cluster,
    }
    if cluster is not None:
        context |= {
            "aws:SourceAccount": cluster.account,
            "aws:SourceArn": cluster.arn,
            "aws:RequestTag/eks-cluster-arn": cluster.arn,
        }
    outcomes = []
    for action in ("sts:AssumeRole", "sts:TagSession"):
        result = analyse(
            [], action, role.arn, context, resource_policy=role.trust, principal=POD_IDENTITY_SERVICE
        )
        outcomes.append((action, result))
    denied = [a for a, r in outcomes if r.outcome == "denied"]
    if denied:
        return TrustCheck(
            role_arn=arn,
            via="pod-identity",
            outcome="denied",
            reason=f"trust policy does not allow {POD_IDENTITY_SERVICE} {' and '.join(denied)}",
        )
    conditional = [f"{a} only when {r.when}" for a, r in outcomes if r.outcome == "conditional"]
    statements = tuple(sorted({s for _, r in outcomes for s in r.statements}, key=str))
    if conditional:
        return TrustCheck(
            role_arn=arn,
            via="pod-identity",
            outcome="conditional",
            reason="; ".join(conditional),
            statements=statements,
        )
    return TrustCheck(
        role_arn=arn,
        via="pod-identity",
        outcome="allowed",
        reason=f"Pod Identity association {association.arn}; trust allows {POD_IDENTITY_SERVICE}",
        statements=statements,
    )


def resolve_identities(
    inventory: Inventory, config: Config, service_accounts: Sequence[tuple[str, str]]
) -> dict[str, Identity]:
    """`service_accounts` are (namespace, name) pairs: every SA declared or used by a workload."""
    cluster = select_cluster(inventory, config)
    roles = {r.arn: r for r in inventory.aws.roles}
    declared = {s.id: s for s in inventory.kube.service_accounts}
    cluster_name = cluster.name if cluster else config.cluster_name
    associations: dict[tuple[str, str], PodIdentityAssociation] = {}
    for a in inventory.aws.associations:
        if cluster_name is None or a.cluster == cluster_name:
            associations.setdefault((a.namespace, a.service_account), a)

    # Roles whose trust names this cluster's provider, and the SAs each can admit at most: the SAs its
    # StringEquals `sub` values name, or every SA when a statement admits more.
    candidates: dict[str, list[str]] = {}
    provider = cluster.oidc_provider_arn if cluster else None
    by_subject = {subject(ns, name): f"{ns}/ServiceAccount/{name}" for ns, name in service_accounts}
    if cluster is not None and provider is not None and cluster.oidc_issuer is not None:
        for role in inventory.aws.roles:
            if role.trust is None or not trusts_provider(role.trust, provider):
                continue
            pinned = _sub_values(role.trust, cluster.oidc_issuer, provider)
            admitted = (
                by_subject.values() if pinned is None else (by_subject[v] for v in pinned if v in by_subject)
            )
            for sa_id in admitted:
                candidates.setdefault(sa_id, []).append(role.arn)

    identities: dict[str, Identity] = {}
    for ns, name in service_accounts:
        sa_id = f"{ns}/ServiceAccount/{name}"
        sa = declared.get(sa_id)
        annotation = sa.role_annotation if sa else None
        checks: dict[tuple[str, str], TrustCheck] = {}
        for role_arn in candidates.get(sa_id, ()):
            check = check_irsa(roles.get(role_arn), role_arn, cluster, ns, name)
            checks[(role_arn, "irsa")] = check
        annotation_trust = None
        if annotation:
            annotation_trust = checks.get((annotation, "irsa")) or check_irsa(
                roles.get(annotation), annotation, cluster, ns, name
            )
            checks[(annotation, "irsa")] = annotation_trust
        association = associations.get((ns, name))
        association_trust = None
        if association is not None:
            association_trust = check_pod_identity(roles.get(association.role_arn), association, cluster)
            checks[(association.role_arn, "pod-identity")] = association_trust
        identities[sa_id] = Identity(
            service_account=sa_id,
            namespace=ns,
            name=name,
            annotation=annotation,
            association=association,
            annotation_trust=annotation_trust,
            association_trust=association_trust,
            assumable=tuple(checks[k] for k in sorted(checks) if checks[k].admits),
        )
    return identities


def role_accounts(identities: Mapping[str, Identity]) -> dict[str, str | None]:
    from iamscope.policy.matching import account_of

    return {
        sa: account_of(i.annotation or (i.association.role_arn if i.association else None))
        for sa, i in identities.items()
    }
