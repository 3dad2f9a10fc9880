"""Which IAM roles each service account can act as, decided by the roles' trust policies rather than
assumed: IRSA (a web-identity token from the cluster's OIDC issuer with `sub` =
system:serviceaccount:<ns>:<sa> and `aud` = sts.amazonaws.com) and EKS Pod Identity (the association
names the SA; the role must trust pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession).

Any pod can request a projected token for audience sts.amazonaws.com and call
AssumeRoleWithWebIdentity itself, so every role whose trust admits the SA's token is assumable,
whatever the annotation says."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from iamscope.config import Config
from iamscope.model import Cluster, Inventory, PodIdentityAssociation, Role, role_policies
from iamscope.policy.analysis import Analysis, analyse
from iamscope.policy.arn import try_parse_arn
from iamscope.policy.context import RequestContext
from iamscope.policy.document import PolicyDocument
from iamscope.policy.evaluate import StatementRef, evaluate
from iamscope.policy.matching import account_of
from iamscope.policy.variables import has_variables
from iamscope.policy.wildcard import Mode, literal_prefix, matcher

WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustCheck:
    """Whether `role_arn` admits the SA through `via` ("irsa", "pod-identity", or "role-chain": the
    credentials of role `source` may call sts:AssumeRole on it), and why."""

    role_arn: str
    via: str
    outcome: str  # allowed | denied | conditional | missing (role not in the snapshot) | unverified
    reason: str
    statements: tuple[StatementRef, ...] = ()
    source: str | None = None  # for a role chain: the role whose credentials assume this one

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


def provider_for(cluster: Cluster, role_arn: str) -> str | None:
    """The IAM OIDC provider a role's trust must name for the cluster's tokens: the one for the
    cluster's issuer in the role's own account (a role in another account trusts a provider created
    there for the same issuer, as cross-account IRSA does)."""
    if not cluster.oidc_issuer:
        return None
    parsed = try_parse_arn(role_arn)
    account = parsed.account if parsed else cluster.account
    partition = parsed.partition if parsed else "aws"
    return f"arn:{partition}:iam::{account}:oidc-provider/{cluster.oidc_issuer}"


def trusts_provider(document: PolicyDocument, provider_arn: str) -> bool:
    return any(
        s.effect == "Allow" and s.principals is not None and provider_arn in s.principals.values("Federated")
        for s in document.statements
    )


def _sub_filter(
    document: PolicyDocument, issuer: str, provider_arn: str
) -> tuple[set[str], tuple[str, ...]] | None:
    """Which `sub` values a trust can admit at most, when every allowing statement pins `sub` with a
    positive StringEquals or StringLike (so a full evaluation is needed only for those SAs): the exact
    values and the StringLike patterns, any one of which admits. None when some statement admits more
    (no sub condition, a negated operator, IfExists, a policy variable...)."""
    key = f"{issuer}:sub".lower()
    exact: set[str] = set()
    patterns: list[str] = []
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
            and c.operator.name in ("StringEquals", "StringLike")
            and not c.operator.negated
            and not c.if_exists
            and c.qualifier is None
        ]
        if not pinned:
            return None
        for c in pinned:
            if any(map(has_variables, c.values)):
                return None  # what the variable stands for is known only per request
            if c.operator.name == "StringLike":
                patterns.extend(c.values)
            else:
                exact.update(c.values)
    return exact, tuple(sorted(set(patterns)))


class _Subjects:
    """The `sub` values of the cluster's service accounts, sorted, so a StringLike pattern tries only
    those that start with its literal prefix (`system:serviceaccount:<ns>:`) rather than every one."""

    def __init__(self, by_subject: Mapping[str, str]) -> None:
        self.by_subject = by_subject
        self.sorted = sorted(by_subject)

    def matching(self, pattern: str) -> Iterator[str]:
        """The service accounts whose `sub` the StringLike pattern matches (case-sensitive)."""
        prefix = literal_prefix(pattern)
        test = matcher(pattern, Mode.PLAIN, False)
        start = bisect_left(self.sorted, prefix)
        for value in islice(self.sorted, start, None):
            if not value.startswith(prefix):
                break
            if test(value):
                yield self.by_subject[value]


def check_irsa(
    role: Role | None,
    role_arn: str,
    cluster: Cluster | None,
    namespace: str,
    name: str,
    *,
    iam_read: bool = True,
) -> TrustCheck:
    if role is None and not iam_read:
        return TrustCheck(
            role_arn=role_arn,
            via="irsa",
            outcome="unverified",
            reason="no IAM data in the snapshot: trust not verified",
        )
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
    provider = provider_for(cluster, role.arn) or ""
    result, statements = web_identity(role.trust, role.arn, cluster, subject(namespace, name), AUDIENCE)
    if result.outcome == "allowed":
        where = ", ".join(f"statement {r.index}" + (f" (Sid {r.sid!r})" if r.sid else "") for r in statements)
        reason = f"trust policy admits {subject(namespace, name)}" + (f" ({where})" if where else "")
    elif result.outcome == "conditional":
        reason = f"trust policy admits {subject(namespace, name)} only when {result.when}"
    elif not trusts_provider(role.trust, provider):
        reason = f"trust policy does not name the cluster's OIDC provider {provider}"
    else:
        reason = f"trust policy does not admit sub {subject(namespace, name)} with aud {AUDIENCE}"
    return TrustCheck(
        role_arn=role.arn, via="irsa", outcome=result.outcome, reason=reason, statements=statements
    )


def _other_issuers(trust: PolicyDocument, issuer: str) -> tuple[str, ...]:
    """Key prefixes of other OIDC providers a trust's conditions name (`<host>/id/<X>:sub`). A
    web-identity request carries only its own provider's keys, so those are absent, not unknown."""
    prefixes = set()
    for statement in trust.statements:
        for condition in statement.conditions:
            head, _, _ = condition.key.rpartition(":")
            if "/" in head and head.lower() != issuer.lower():
                prefixes.add(head + ":")
    return tuple(sorted(prefixes))


def web_identity(
    trust: PolicyDocument, role_arn: str, cluster: Cluster, sub: str, aud: str
) -> tuple[Analysis, tuple[StatementRef, ...]]:
    """Whether the trust admits a token of the cluster's issuer with this `sub` and `aud`, and the
    statements that decide it. Keys iamscope cannot know (a source IP) stay unknown."""
    issuer, provider = cluster.oidc_issuer or "", provider_for(cluster, role_arn) or ""
    values = {f"{issuer}:sub": sub, f"{issuer}:aud": aud}
    context = RequestContext(values, complete=False, known_prefixes=_other_issuers(trust, issuer))
    result = analyse([], WEB_IDENTITY, role_arn, context, resource_policy=trust, principal=provider)
    statements = result.statements
    if result.outcome == "allowed":
        decided = evaluate([], WEB_IDENTITY, role_arn, values, resource_policy=trust, principal=provider)
        statements = decided.statements
    return result, statements


def check_pod_identity(
    role: Role | None, association: PodIdentityAssociation, cluster: Cluster | None, *, iam_read: bool = True
) -> TrustCheck:
    arn = association.role_arn
    if role is None and not iam_read:
        return TrustCheck(
            role_arn=arn,
            via="pod-identity",
            outcome="unverified",
            reason="no IAM data in the snapshot: trust not verified",
        )
    if role is None:
        return TrustCheck(
            role_arn=arn, via="pod-identity", outcome="missing", reason="the role is not in the snapshot"
        )
    if role.trust is None:
        return TrustCheck(
            role_arn=arn, via="pod-identity", outcome="denied", reason="the role has no trust policy"
        )
    # with disableSessionTags EKS passes no session tags, so conditions on aws:RequestTag/* see none
    tags = not association.disable_session_tags
    context: dict[str, str] = {}
    if tags:
        context |= {
            "aws:RequestTag/kubernetes-namespace": association.namespace,
            "aws:RequestTag/kubernetes-service-account": association.service_account,
            "aws:RequestTag/eks-cluster-name": association.cluster,
        }
    if cluster is not None:
        context |= {"aws:SourceAccount": cluster.account, "aws:SourceArn": cluster.arn}
        if tags:
            context["aws:RequestTag/eks-cluster-arn"] = cluster.arn
    request = RequestContext(context, complete=False, known_prefixes=() if tags else ("aws:RequestTag/",))
    outcomes = []
    for action in ("sts:AssumeRole", "sts:TagSession"):
        result = analyse(
            [], action, role.arn, request, resource_policy=role.trust, principal=POD_IDENTITY_SERVICE
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


def may_assume(
    documents: Sequence[PolicyDocument],
    boundary: PolicyDocument | None,
    action: str,
    role_arn: str,
    trust: PolicyDocument,
    principal: str,
    context: RequestContext | Mapping[str, str] | None = None,
) -> Analysis:
    """Whether `principal` (a role, with its policies) may call `action` (sts:AssumeRole,
    sts:TagSession) on a role. A role's trust policy must allow the call in every case, even in the
    same account where an identity policy alone would do for other resources (IAM User Guide, "How
    IAM roles differ from resource-based policies"); where the trust names only the account, the
    principal's own policies must allow it too."""
    return analyse(
        documents,
        action,
        role_arn,
        context,
        boundary=boundary,
        resource_policy=trust,
        principal=principal,
        role_trust=True,
    )


def check_target_role(
    target: Role | None,
    association: PodIdentityAssociation,
    hop: TrustCheck,
    hop_policies: tuple[Sequence[PolicyDocument], PolicyDocument | None],
    *,
    iam_read: bool,
) -> TrustCheck:
    """An association with a targetRoleArn: EKS assumes the target role with the association role's
    credentials (sts:AssumeRole and sts:TagSession) and hands the pod the target's."""
    arn = association.target_role_arn or ""
    via = f"Pod Identity association {association.arn} (target role, through {association.role_arn})"
    if target is None:
        outcome = (
            "missing" if iam_read and account_of(arn) == account_of(association.role_arn) else "unverified"
        )
        return TrustCheck(
            role_arn=arn,
            via="pod-identity",
            outcome=outcome,
            reason=f"{via}: the target role is not in the snapshot",
        )
    if target.trust is None:
        return TrustCheck(
            role_arn=arn, via="pod-identity", outcome="denied", reason=f"{via}: it has no trust policy"
        )
    # the association role's own policies count: across accounts both sides must allow
    documents, boundary = hop_policies
    results = [
        may_assume(documents, boundary, action, arn, target.trust, association.role_arn)
        for action in ("sts:AssumeRole", "sts:TagSession")
    ]
    if any(r.outcome == "denied" for r in results):
        return TrustCheck(
            role_arn=arn,
            via="pod-identity",
            outcome="denied",
            reason=f"{via}: its trust policy does not let {association.role_arn} assume and tag it",
        )
    conditional = any(r.outcome == "conditional" for r in results) or hop.outcome == "conditional"
    return TrustCheck(
        role_arn=arn,
        via="pod-identity",
        outcome="conditional" if conditional else hop.outcome,
        reason=f"{via}; {hop.reason}",
        statements=hop.statements,
    )


def _hop_policies(
    role: Role | None, managed: Mapping[str, PolicyDocument]
) -> tuple[list[PolicyDocument], PolicyDocument | None]:
    if role is None:
        return [], None
    documents, boundary, _ = role_policies(role, managed)
    return documents, boundary


def resolve_identities(
    inventory: Inventory, config: Config, service_accounts: Sequence[tuple[str, str]]
) -> dict[str, Identity]:
    """`service_accounts` are (namespace, name) pairs: every SA declared or used by a workload."""
    cluster = select_cluster(inventory, config)
    roles = {r.arn: r for r in inventory.aws.roles}
    managed = {p.arn: p.document for p in inventory.aws.managed_policies}
    iam_read = "authorization" in inventory.aws.present
    declared = {s.id: s for s in inventory.kube.service_accounts}
    cluster_name = cluster.name if cluster else config.cluster_name
    associations: dict[tuple[str, str], PodIdentityAssociation] = {}
    for a in inventory.aws.associations:
        # with several clusters and none chosen, an association cannot be placed (a gap, in assess)
        if a.cluster == cluster_name or (cluster_name is None and len(inventory.aws.clusters) <= 1):
            associations.setdefault((a.namespace, a.service_account), a)

    # Roles whose trust names this cluster's provider, and the SAs each can admit at most: the SAs its
    # StringEquals `sub` values name, or every SA when a statement admits more.
    candidates: dict[str, list[str]] = {}
    by_subject = {subject(ns, name): f"{ns}/ServiceAccount/{name}" for ns, name in service_accounts}
    subjects = _Subjects(by_subject)
    if cluster is not None and cluster.oidc_issuer is not None:
        for role in inventory.aws.roles:
            provider = provider_for(cluster, role.arn)
            if role.trust is None or provider is None or not trusts_provider(role.trust, provider):
                continue
            admits = _sub_filter(role.trust, cluster.oidc_issuer, provider)
            if admits is None:
                admitted = set(by_subject.values())
            else:
                exact, patterns = admits
                admitted = {by_subject[v] for v in exact if v in by_subject}
                for pattern in patterns:
                    admitted.update(subjects.matching(pattern))
            for sa_id in sorted(admitted):
                candidates.setdefault(sa_id, []).append(role.arn)

    identities: dict[str, Identity] = {}
    for ns, name in service_accounts:
        sa_id = f"{ns}/ServiceAccount/{name}"
        sa = declared.get(sa_id)
        annotation = sa.role_annotation if sa else None
        checks: dict[tuple[str, str], TrustCheck] = {}
        for role_arn in candidates.get(sa_id, ()):
            check = check_irsa(roles.get(role_arn), role_arn, cluster, ns, name, iam_read=iam_read)
            checks[(role_arn, "irsa")] = check
        annotation_trust = None
        if annotation:
            annotation_trust = checks.get((annotation, "irsa")) or check_irsa(
                roles.get(annotation), annotation, cluster, ns, name, iam_read=iam_read
            )
            checks[(annotation, "irsa")] = annotation_trust
        association = associations.get((ns, name))
        association_trust = None
        if association is not None:
            association_trust = check_pod_identity(
                roles.get(association.role_arn), association, cluster, iam_read=iam_read
            )
            if association.target_role_arn and association_trust.admits:
                association_trust = check_target_role(
                    roles.get(association.target_role_arn),
                    association,
                    association_trust,
                    _hop_policies(roles.get(association.role_arn), managed),
                    iam_read=iam_read,
                )
            checks[(association_trust.role_arn, "pod-identity")] = association_trust
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
    return {
        sa: account_of(i.annotation or (i.association.pod_role if i.association else None))
        for sa, i in identities.items()
    }
