"""What each service account needs, decided once for every output `generate` writes: the ARNs its
workloads' AWS mounts make ASCP read (as `resolve` finds them, in the account the new role lives
in), the customer-managed keys of those objects, whether ASCP reaches it through IRSA or Pod
Identity, and its role's name. Pure: the inventory in, frozen plans out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from iamscope.config import Config
from iamscope.errors import InputError, UsageError
from iamscope.generate.naming import template_fields, unique_names
from iamscope.identity import select_cluster
from iamscope.kms import SECRETSMANAGER
from iamscope.model import Inventory
from iamscope.policy.arn import try_parse_arn
from iamscope.resolve import Mount, partition_of, resolve_mounts


@dataclass(frozen=True, slots=True, kw_only=True)
class RolePlan:
    """The least-privilege role of one service account."""

    namespace: str
    service_account: str
    workloads: tuple[str, ...]
    role_name: str
    role_arn: str
    irsa: bool  # some mount reads through the eks.amazonaws.com/role-arn annotation
    pod_identity: bool  # some mount sets usePodIdentity
    secret_arns: tuple[str, ...]
    parameter_arns: tuple[str, ...]
    secret_key_arns: tuple[str, ...]  # customer-managed keys of the secrets
    parameter_key_arns: tuple[str, ...]  # ... of the SecureString parameters
    decrypted: tuple[str, ...] = ()  # the secrets and parameters whose key needs kms:Decrypt

    @property
    def key(self) -> str:
        """`<namespace>/<service-account>`: the key of the tfvars map and of the module's role_arns."""
        return f"{self.namespace}/{self.service_account}"

    @property
    def id(self) -> str:
        return f"{self.namespace}/ServiceAccount/{self.service_account}"


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratePlan:
    account: str
    partition: str
    region: str
    cluster_name: str | None
    cluster_arn: str | None
    oidc_provider_arn: str | None
    oidc_issuer: str | None
    config: Config
    roles: tuple[RolePlan, ...]  # the selected service accounts, sorted
    warnings: tuple[str, ...]


def _mount_warnings(mount: Mount) -> list[str]:
    """What keeps part of a mount out of the policy: the role would be too narrow for it until fixed."""
    where = f"{mount.workload} volume {mount.volume}"
    if mount.problems:
        return [f"{where}: nothing granted: the mount fails ({'; '.join(mount.problems)})"]
    warnings = []
    if "objects" in mount.inline:
        warnings.append(
            f"{where}: the pod sets objects in its volumeAttributes, which the driver copies over the "
            f"SecretProviderClass: granted as the pod declares them, but review them (whoever can create "
            f"pods in {mount.namespace} can name any secret this way)"
        )
    for ref in mount.objects:
        name = ref.object.name or f"object {ref.object.index}"
        if ref.rejected:
            warnings.append(f"{where}: {name!r} not granted: ASCP rejects it ({'; '.join(ref.problems)})")
            continue
        if not ref.targets:
            reason = "; ".join(ref.problems) or (
                "the mount's region is unknown"
                if mount.region is None
                else "the account is unknown"
                if mount.account is None
                else "it cannot be resolved"
            )
            warnings.append(f"{where}: {name!r} not granted: {reason}")
            continue
        for target in ref.targets:
            if not target.known and target.pattern:
                warnings.append(
                    f"{where}: secret {name!r} is not in the snapshot: granted as {target.arn}; if a "
                    "customer-managed KMS key encrypts it, the role also needs kms:Decrypt on that key"
                )
            elif not target.known and target.kind != SECRETSMANAGER:
                warnings.append(
                    f"{where}: parameter {target.arn} is not in the snapshot: granted as named; if it is a "
                    "SecureString under a customer-managed key, the role also needs kms:Decrypt on that key"
                )
            elif not target.known:
                warnings.append(f"{where}: {target.reason}")
    return warnings


def _is_key_arn(arn: str) -> bool:
    parsed = try_parse_arn(arn)
    return parsed is not None and parsed.resource.startswith("key/")


def _role_plan(
    ns: str, sa: str, name: str, mounts: Sequence[Mount], plan_account: str, partition: str, path: str
) -> tuple[RolePlan, list[str]]:
    secrets: set[str] = set()
    parameters: set[str] = set()
    secret_keys: set[str] = set()
    parameter_keys: set[str] = set()
    decrypted: set[str] = set()
    warnings: list[str] = []
    for mount in mounts:
        warnings += _mount_warnings(mount)
        for ref in mount.objects:
            if ref.rejected or mount.problems:
                continue
            for target in ref.targets:
                (secrets if target.kind == SECRETSMANAGER else parameters).add(target.arn)
                parsed = try_parse_arn(target.arn)
                if parsed is not None and parsed.account != plan_account:
                    warnings.append(
                        f"{mount.workload}: {target.arn} is in account {parsed.account}: its resource policy "
                        "(and its key's policy) must also grant the new role"
                    )
                if target.kms_key is None:
                    continue
                if not _is_key_arn(target.kms_key):
                    warnings.append(
                        f"{mount.workload}: {target.arn} is encrypted with {target.kms_key}, which the "
                        "snapshot names only by alias: kms:Decrypt not granted (add kms-keys.json so the key "
                        "ARN is known)"
                    )
                    continue
                (secret_keys if target.kind == SECRETSMANAGER else parameter_keys).add(target.kms_key)
                decrypted.add(target.arn)
    plan = RolePlan(
        namespace=ns,
        service_account=sa,
        workloads=tuple(sorted({m.workload for m in mounts})),
        role_name=name,
        role_arn=f"arn:{partition}:iam::{plan_account}:role{path}{name}",
        irsa=any(not m.use_pod_identity for m in mounts),
        pod_identity=any(m.use_pod_identity for m in mounts),
        secret_arns=tuple(sorted(secrets)),
        parameter_arns=tuple(sorted(parameters)),
        secret_key_arns=tuple(sorted(secret_keys)),
        parameter_key_arns=tuple(sorted(parameter_keys)),
        decrypted=tuple(sorted(decrypted)),
    )
    if plan.irsa and plan.pod_identity:
        warnings.append(
            f"{plan.id}: some of its mounts use IRSA and some usePodIdentity: the role trusts both, and "
            "both the annotation and a Pod Identity association are written"
        )
    return plan, warnings


def _selected(
    by_sa: dict[tuple[str, str], list[Mount]],
    workloads: Sequence[str],
    service_accounts: Sequence[str],
    known_workloads: Iterable[str],
) -> set[tuple[str, str]]:
    """The service accounts the filters name; every one must mount AWS objects."""
    if not workloads and not service_accounts:
        return set(by_sa)
    mounting = {m.workload.lower(): key for key, mounts in by_sa.items() for m in mounts}
    known = {w.lower() for w in known_workloads}
    selected: set[tuple[str, str]] = set()
    for wanted in workloads:
        key = mounting.get(wanted.lower())
        if key is None:
            why = "mounts no AWS SecretProviderClass" if wanted.lower() in known else "is not in the input"
            choices = ", ".join(sorted({m.workload for ms in by_sa.values() for m in ms})[:10]) or "none"
            raise UsageError(f"--workload {wanted}: the workload {why} (workloads that do: {choices})")
        selected.add(key)
    by_name = {f"{ns}/{sa}".lower(): (ns, sa) for ns, sa in by_sa}
    by_name |= {f"{ns}/serviceaccount/{sa}".lower(): (ns, sa) for ns, sa in by_sa}
    for wanted in service_accounts:
        found = by_name.get(wanted.lower())
        if found is None:
            choices = ", ".join(f"{ns}/{sa}" for ns, sa in sorted(by_sa)[:10]) or "none"
            raise UsageError(
                f"--service-account {wanted}: no workload running as it mounts AWS objects "
                f"(service accounts that do: {choices})"
            )
        selected.add(found)
    return selected


def _granted(mounts: Sequence[Mount]) -> set[str]:
    return {t.arn for m in mounts if not m.problems for r in m.objects if not r.rejected for t in r.targets}


def _sharing(roles: Sequence[RolePlan], by_sa: dict[tuple[str, str], list[Mount]]) -> list[str]:
    """Objects the roles of several service accounts will read (decided over the whole cluster, so a
    filtered run says the same): each workload declares them, so no scan rule sees a stolen grant."""
    holders: dict[str, set[tuple[str, str]]] = {}
    for key, mounts in by_sa.items():
        for arn in _granted(mounts):
            holders.setdefault(arn, set()).add(key)
    notes = []
    for role in roles:
        if role.service_account == "default":
            notes.append(
                f"{role.id}: the namespace's default service account mounts secrets: every pod in "
                f"{role.namespace} that names no service account of its own can read them"
            )
        for arn in (*role.secret_arns, *role.parameter_arns):
            others = sorted(holders.get(arn, set()) - {(role.namespace, role.service_account)})
            if not others:
                continue
            names = ", ".join(f"{ns}/{sa}" for ns, sa in others)
            across = " across namespaces" if any(ns != role.namespace for ns, _ in others) else ""
            notes.append(
                f"{role.id}: {arn} is also granted to {names}{across}: check that each should read it"
            )
    return notes


def _existing_associations(
    roles: Sequence[RolePlan], inventory: Inventory, cluster_name: str | None
) -> list[str]:
    """EKS allows one Pod Identity association per service account: creating a second one fails."""
    existing = {
        (a.namespace, a.service_account): a for a in inventory.aws.associations if a.cluster == cluster_name
    }
    notes = []
    for role in roles:
        found = existing.get((role.namespace, role.service_account))
        if role.pod_identity and found is not None:
            association_id = found.arn.rsplit("/", 1)[-1]
            notes.append(
                f"{role.id} already has the Pod Identity association {association_id} "
                f"(role {found.role_arn}): "
                f"import it (terraform import 'aws_eks_pod_identity_association.this[\"{role.key}\"]' "
                f"{cluster_name},{association_id}) so the module updates it, or set "
                "create_pod_identity_associations = false and point it at the new role yourself"
            )
    return notes


def _no_cluster(inventory: Inventory, config: Config) -> str:
    names = sorted(c.name for c in inventory.aws.clusters)
    if config.cluster_name:
        held = f"it holds {', '.join(names)}" if names else "no eks-describe-cluster*.json"
        return f"cluster.name {config.cluster_name!r} is not in the snapshot ({held})"
    if names:
        return f"the snapshot holds clusters {', '.join(names)}: set cluster.name to say which one"
    return "no EKS cluster in the snapshot: add eks-describe-cluster-<name>.json (aws eks describe-cluster)"


def plan_roles(
    inventory: Inventory,
    config: Config,
    *,
    workloads: Sequence[str] = (),
    service_accounts: Sequence[str] = (),
    config_source: str = "the configuration",
) -> GeneratePlan:
    """The least-privilege role of every service account whose workloads mount AWS objects (or of
    those the filters select). A service account's role covers all its workloads, whatever the
    filter, so a role generated alone is the same as generated with the whole cluster."""
    cluster = select_cluster(inventory, config)
    account = inventory.aws.account or (cluster.account if cluster else None)
    if account is None:
        raise InputError(
            "the AWS account is unknown: add sts-get-caller-identity.json (or the cluster's "
            "eks-describe-cluster*.json) to the snapshot",
            source="generate",
        )
    partition = partition_of(inventory)
    mounts = resolve_mounts(inventory, config, {})
    by_sa: dict[tuple[str, str], list[Mount]] = {}
    for mount in mounts:
        if mount.aws:
            by_sa.setdefault((mount.namespace, mount.service_account.rsplit("/", 1)[-1]), []).append(mount)
    selected = _selected(by_sa, workloads, service_accounts, (w.id for w in inventory.kube.workloads))

    cluster_name = cluster.name if cluster else config.cluster_name
    uses = template_fields(config.role_name, source=config_source)
    if "cluster" in uses and cluster_name is None:
        raise InputError(
            f"the role name template {config.role_name!r} uses {{cluster}}: {_no_cluster(inventory, config)}",
            source="generate",
        )
    names = unique_names(config.role_name, by_sa, cluster_name or "", source=config_source, selected=selected)

    roles: list[RolePlan] = []
    warnings: list[str] = []
    for ns, sa in sorted(selected):
        role, notes = _role_plan(
            ns, sa, names[(ns, sa)], by_sa[(ns, sa)], account, partition, config.role_path
        )
        warnings += notes
        if not role.secret_arns and not role.parameter_arns:
            warnings.append(f"{role.id}: none of its objects could be resolved: no role written for it")
            continue
        roles.append(role)
    warnings += _sharing(roles, by_sa)
    warnings += _existing_associations(roles, inventory, cluster_name)
    irsa = any(r.irsa for r in roles)
    pod_identity = any(r.pod_identity for r in roles)
    if irsa and (cluster is None or cluster.oidc_provider_arn is None):
        which = (
            _no_cluster(inventory, config)
            if cluster is None
            else f"cluster {cluster.name} has no OIDC issuer"
        )
        raise InputError(f"cannot write IRSA trust policies: {which}", source="generate")
    if pod_identity and cluster is None:
        raise InputError(
            f"cannot write Pod Identity trust policies (they name the cluster's ARN): "
            f"{_no_cluster(inventory, config)}",
            source="generate",
        )
    # the roles trust the provider for the cluster's issuer in their own account (cross-account IRSA)
    provider = None
    if cluster is not None and cluster.oidc_issuer:
        provider = f"arn:{partition}:iam::{account}:oidc-provider/{cluster.oidc_issuer}"
        if cluster.account != account and irsa:
            warnings.append(
                f"the roles are for account {account} and cluster {cluster.name} is in {cluster.account}: "
                f"IRSA needs the IAM OIDC provider {provider} in {account} (cross-account IRSA)"
            )
    region = (cluster.region if cluster else None) or config.region
    if region is None:
        raise InputError(
            "the region is unknown: add eks-describe-cluster*.json or set aws.region", source="generate"
        )
    return GeneratePlan(
        account=account,
        partition=partition,
        region=region,
        cluster_name=cluster_name,
        cluster_arn=cluster.arn if cluster else None,
        oidc_provider_arn=provider,
        oidc_issuer=cluster.oidc_issuer if cluster else None,
        config=config,
        roles=tuple(roles),
        warnings=tuple(dict.fromkeys(warnings)),
    )
