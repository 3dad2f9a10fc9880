"""The joined view every check, the graph and the reports read: for each service account, the
workloads running as it, what they declare (resolved to ARNs), the roles it can act as, and what
those roles can read. Built once per scan from the inventory; pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from iamscope.access import AccessCalculator, Catalogue, RoleAccess
from iamscope.chain import RoleChains
from iamscope.config import Config
from iamscope.gcpause import paused_gc
from iamscope.identity import Identity, TrustCheck, resolve_identities, role_accounts, select_cluster
from iamscope.model import Cluster, Inventory, Role, Workload
from iamscope.policy.arn import try_parse_arn
from iamscope.resolve import Mount, ObjectRef, Target, resolve_mounts


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """An ARN (or pattern) a workload's mount makes ASCP read."""

    arn: str
    workload: str
    mount: Mount
    ref: ObjectRef
    target: Target


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAccountView:
    id: str
    namespace: str
    name: str
    declared: bool
    workloads: tuple[str, ...]  # every workload running as it
    mounts: tuple[Mount, ...]  # its workloads' AWS mounts
    identity: Identity
    ascp_role: str | None  # the role ASCP uses for its mounts
    ascp_trust: TrustCheck | None
    needs: tuple[Need, ...]
    access: tuple[tuple[TrustCheck, RoleAccess], ...]  # per assumable role
    # derived once from `needs` when the view is built: checks and reports ask often
    _need_arns: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_need_arns", tuple(sorted({n.arn for n in self.needs})))

    @property
    def need_arns(self) -> tuple[str, ...]:
        return self._need_arns


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    inventory: Inventory
    config: Config
    cluster: Cluster | None
    workloads: Mapping[str, Workload]
    mounts: tuple[Mount, ...]
    service_accounts: Mapping[str, ServiceAccountView]
    roles: Mapping[str, Role]
    node_roles: tuple[tuple[Role, RoleAccess], ...]
    declared_by: Mapping[str, tuple[Need, ...]]  # ARN → every need declaring it
    catalogue: Catalogue
    gaps: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())


def _session_tags(identity: Identity, cluster: Cluster | None) -> dict[str, str]:
    """The session tags EKS Pod Identity attaches to the role session (aws:PrincipalTag/...)."""
    a = identity.association
    if a is None or a.disable_session_tags:
        return {}
    tags = {
        "kubernetes-namespace": a.namespace,
        "kubernetes-service-account": a.service_account,
        "eks-cluster-name": a.cluster,
    }
    if cluster is not None:
        tags["eks-cluster-arn"] = cluster.arn
    return tags


NODE_POLICY = ":policy/AmazonEKSWorkerNodePolicy"
NODE_TAGS = ("eks:nodegroup-name", "alpha.eksctl.io/nodegroup-name", "karpenter.sh/discovery")


def is_node_role(role: Role) -> bool:
    """An instance-profile role that EKS nodes use: it carries the worker-node policy every node needs,
    a node-group tag, or an instance profile named as EKS names its node groups' (`eks-<uuid>`). Other
    EC2 roles of the account are not the cluster's."""
    if not role.instance_profiles:
        return False
    return (
        any(arn.endswith(NODE_POLICY) for arn in role.attached)
        or any(key in NODE_TAGS for key, _ in role.tags)
        or any(p.rsplit("/", 1)[-1].startswith("eks-") for p in role.instance_profiles)
    )


def _snapshot_gaps(
    inventory: Inventory,
    config: Config,
    cluster: Cluster | None,
    mounts: tuple[Mount, ...],
    views: Mapping[str, ServiceAccountView],
) -> list[str]:
    """What the AWS snapshot lacks for the mounts the cluster declares: without it, no finding can be
    trusted to be complete (DESIGN.md §5, fail closed)."""
    aws_mounts = [m for m in mounts if m.aws]
    if not aws_mounts:
        return []
    present = inventory.aws.present
    gaps = [
        f"ServiceAccount {v.id} (used by {', '.join(sorted({m.workload for m in v.mounts}))}) is not in the "
        "input: its role annotation is unknown"
        for v in views.values()
        if v.mounts and not v.declared and v.name != "default"
    ]
    if "authorization" not in present:
        gaps.append("no iam-authorization-details.json: which roles exist and what they grant is unknown")
    if any(m.account is None and m.objects for m in aws_mounts):
        gaps.append(
            "the AWS account is unknown (no sts-get-caller-identity.json, role or cluster ARN): "
            "objects named without an ARN cannot be resolved"
        )
    irsa = any(v.identity.annotation for v in views.values() if v.mounts)
    pod_identity = any(m.use_pod_identity for m in aws_mounts)
    names = sorted(c.name for c in inventory.aws.clusters)
    if cluster is None and (irsa or pod_identity) and config.cluster_name:
        held = ", ".join(names) or "none"
        gaps.append(f"cluster.name {config.cluster_name!r} is not in the snapshot (it holds {held})")
    elif cluster is None and (irsa or pod_identity) and len(names) > 1:
        gaps.append(
            f"the snapshot holds clusters {', '.join(names)}: set cluster.name to say which one to scan"
        )
    elif cluster is None and irsa:
        gaps.append("no eks-describe-cluster*.json: IRSA trust policies cannot be verified")
    elif cluster is not None and cluster.oidc_issuer is None:
        gaps.append(
            f"cluster {cluster.name} has no OIDC issuer in the snapshot: IRSA trust cannot be verified"
        )
    if any(m.use_pod_identity for m in aws_mounts) and "associations" not in present:
        gaps.append("no eks-pod-identity-associations*.json: Pod Identity roles are unknown")
    # every (kind, region) of this account the mounts read from needs its listing, or what is missing
    # there cannot be told from what does not exist
    unlisted: set[tuple[str, str]] = set()
    for m in aws_mounts:
        for ref in m.objects:
            for t in ref.targets if not ref.rejected else ():
                arn = try_parse_arn(t.arn)
                account = arn.account if arn else None
                if (
                    arn
                    and account == inventory.aws.account
                    and (t.kind, account, arn.region) not in inventory.aws.listed
                ):
                    unlisted.add((t.kind, arn.region))
    files = {
        "secretsmanager": "secretsmanager-list-secrets-<region>.json",
        "ssmparameter": "ssm-describe-parameters-<region>.json",
    }
    gaps += [
        f"no {files[kind].replace('<region>', region)}: declared objects in {region} cannot be confirmed"
        for kind, region in sorted(unlisted)
    ]
    return gaps


def assess(inventory: Inventory, config: Config) -> Assessment:
    with paused_gc():
        return _assess(inventory, config)


def _assess(inventory: Inventory, config: Config) -> Assessment:
    cluster = select_cluster(inventory, config)
    workloads = {w.id: w for w in inventory.kube.workloads}
    pairs = {(s.namespace, s.name) for s in inventory.kube.service_accounts}
    pairs |= {(w.namespace, w.pod.service_account) for w in workloads.values()}
    service_accounts = sorted(pairs)
    identities = resolve_identities(inventory, config, service_accounts)
    mounts = resolve_mounts(inventory, config, role_accounts(identities))

    declared_by: dict[str, list[Need]] = {}
    needs_by_sa: dict[str, list[Need]] = {}
    mounts_by_sa: dict[str, list[Mount]] = {}
    for mount in mounts:
        if not mount.aws:
            continue
        mounts_by_sa.setdefault(mount.service_account, []).append(mount)
        for ref in mount.objects:
            for target in ref.targets:
                need = Need(arn=target.arn, workload=mount.workload, mount=mount, ref=ref, target=target)
                declared_by.setdefault(target.arn, []).append(need)
                needs_by_sa.setdefault(mount.service_account, []).append(need)
    catalogue = Catalogue(inventory, declared_by)
    calculator = AccessCalculator(inventory, catalogue)
    chains = RoleChains(inventory.aws.roles, calculator)

    workloads_by_sa: dict[str, list[str]] = {}
    for w in workloads.values():
        workloads_by_sa.setdefault(f"{w.namespace}/ServiceAccount/{w.pod.service_account}", []).append(w.id)
    declared_sas = {s.id for s in inventory.kube.service_accounts}
    views: dict[str, ServiceAccountView] = {}
    for ns, name in service_accounts:
        sa_id = f"{ns}/ServiceAccount/{name}"
        identity = identities[sa_id]
        sa_mounts = tuple(mounts_by_sa.get(sa_id, ()))
        uses_pod_identity = any(m.use_pod_identity for m in sa_mounts)
        if uses_pod_identity:
            ascp_role = identity.association.pod_role if identity.association else None
            ascp_trust = identity.association_trust
        else:
            ascp_role, ascp_trust = identity.annotation, identity.annotation_trust
        tags = _session_tags(identity, cluster)
        reached = identity.assumable + chains.reachable(identity.assumable)
        access = tuple(
            (
                check,
                calculator.access(check.role_arn, tags if check.via == "pod-identity" else None),
            )
            for check in reached
        )
        views[sa_id] = ServiceAccountView(
            id=sa_id,
            namespace=ns,
            name=name,
            declared=sa_id in declared_sas,
            workloads=tuple(sorted(workloads_by_sa.get(sa_id, ()))),
            mounts=sa_mounts,
            identity=identity,
            ascp_role=ascp_role,
            ascp_trust=ascp_trust,
            needs=tuple(sorted(needs_by_sa.get(sa_id, ()), key=lambda n: (n.arn, n.workload, n.ref.id))),
            access=access,
        )
    roles = {r.arn: r for r in inventory.aws.roles}
    node_roles = tuple((r, calculator.access(r.arn)) for r in inventory.aws.roles if is_node_role(r))
    used = [ra for v in views.values() for _, ra in v.access] + [ra for _, ra in node_roles]
    gaps = sorted(
        {
            f"{arn} (attached to {ra.role_arn}) is not in the snapshot"
            for ra in used
            for arn in ra.missing_policies
        }
    )
    gaps += [*inventory.gaps, *inventory.aws.gaps, *_snapshot_gaps(inventory, config, cluster, mounts, views)]
    gaps += [f"{inventory.aws.plan}: {line}" for line in inventory.aws.unknown]
    if not inventory.kube.read:
        gaps.append("no Kubernetes input (--k8s, or k8s/ in the state directory): no workload was read")
    others = sorted({m.provider for m in mounts if m.provider and not m.aws})
    notes = tuple(
        f"{sum(1 for m in mounts if m.provider == p)} mount(s) use provider {p!r}: "
        "AWS analysis skipped for them"
        for p in others
    )
    return Assessment(
        inventory=inventory,
        config=config,
        cluster=cluster,
        workloads=workloads,
        mounts=mounts,
        service_accounts=views,
        roles=roles,
        node_roles=node_roles,
        declared_by={k: tuple(v) for k, v in declared_by.items()},
        catalogue=catalogue,
        gaps=tuple(gaps),
        notes=notes,
    )
