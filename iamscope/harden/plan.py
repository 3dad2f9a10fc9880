"""What the hardening artefacts say, decided once from the Assessment and the configuration (pure):
who the platform is, where sync is approved and whether anything needs it, the rotation interval the
load allows, how to keep DaemonSets on workers (and which worker taints they must still tolerate),
and which objects in the input the admission policy would reject today."""

from __future__ import annotations

import math
from dataclasses import dataclass

from iamscope.assess import Assessment
from iamscope.checks.driver import CONTROL_PLANE, STEERING, is_driver, is_provider
from iamscope.checks.driver_rbac import spc_write_access
from iamscope.checks.rotation import DEFAULT_INTERVAL, quota, rotation, rotation_load
from iamscope.model import Node, Taint, lookup

# the share of an account's API quota rotation may use: the quota is shared with every other caller
# of GetSecretValue/DescribeSecret/GetParameters in the account and region (applications, CI, backups)
ROTATION_HEADROOM = 0.8
# taints the DaemonSet controller tolerates on its own (node lifecycle), and the ones that mark
# nodes a DaemonSet must not reach anyway
_AUTOMATIC_TAINTS = "node.kubernetes.io/"
_NEVER_TOLERATE = (*CONTROL_PLANE, "eks.amazonaws.com/compute-type", "virtual-kubelet.io/provider")
# taints a node carries for a while (being drained, scaled in or disrupted, not yet initialised by its
# cloud provider or CNI): a snapshot catches them on some node now and then, but a DaemonSet must not
# tolerate them (a node about to go, or one not ready for pods yet) and the values would change from
# run to run (ToBeDeletedByClusterAutoscaler's value is a timestamp)
_TRANSIENT_TAINTS = (
    # cluster-autoscaler: scale-in in progress, and soft scale-in candidates
    "ToBeDeletedByClusterAutoscaler",
    "DeletionCandidateOfClusterAutoscaler",
    # Karpenter: disruption (v1 `disrupted`, v1beta1 `disruption`) and nodes not yet registered
    "karpenter.sh/disrupted",
    "karpenter.sh/disruption",
    "karpenter.sh/unregistered",
    # the cloud controller manager: not initialised yet, and shut down
    "node.cloudprovider.kubernetes.io/uninitialized",
    "node.cloudprovider.kubernetes.io/shutdown",
    # Cilium: the agent is not ready on the node yet
    "node.cilium.io/agent-not-ready",
)

WORKER_ROLE_LABELS = ("node-role.kubernetes.io/worker",)
# Kyverno rule names: stable, referenced by tests, the summary and users' policy exceptions
RULE_SPC_WRITERS = "spc-writers-are-platform"
RULE_SYNC_NAMESPACES = "secret-objects-in-approved-namespaces"
RULE_INLINE = "no-inline-secrets-store-attributes"


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """What the admission policy refuses from now on: an object of the input when it is next written,
    or a subject whose RBAC lets it write SecretProviderClasses."""

    rule: str  # the Kyverno rule name
    subject: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerToleration:
    key: str
    value: str | None
    effect: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HardenPlan:
    cluster: str | None
    principals: tuple[str, ...]  # usernames that may write SPCs
    groups: tuple[str, ...]  # groups whose members may write SPCs
    approved_namespaces: tuple[str, ...]
    sync_needed_by: tuple[str, ...]  # SPC ids in approved namespaces with secretObjects
    rotation_enabled: bool | None  # as the driver in the input has it; None: no driver in the input
    rotation_interval: int  # seconds: the interval the hardened values set
    rotation_reason: str
    worker_tolerations: tuple[WorkerToleration, ...]
    worker_selector: tuple[tuple[str, str], ...]
    # every Node of the input is a control-plane node (k3s, kind, single-node clusters): workers-only
    # placement would leave the DaemonSets nowhere to run, so the values do not keep them off
    control_plane_only: bool
    has_driver: bool
    has_provider: bool
    violations: tuple[Violation, ...]
    warnings: tuple[str, ...]
    failure_action: str  # Enforce | Audit


def _control_plane(node: Node) -> bool:
    return any(lookup(node.labels, k) is not None for k in CONTROL_PLANE) or any(
        t.key in CONTROL_PLANE for t in node.taints
    )


def _tolerations(nodes: list[Node], *, control_plane: bool = False) -> tuple[WorkerToleration, ...]:
    """The taints of the nodes a DaemonSet must tolerate to reach every pod that may mount: the worker
    nodes' (control-plane taints never), or, with `control_plane`, those of a cluster whose every node
    is a control plane (its control-plane taints included: the pods that mount run there too)."""
    never = (
        _NEVER_TOLERATE if not control_plane else tuple(k for k in _NEVER_TOLERATE if k not in CONTROL_PLANE)
    )
    seen: dict[tuple[str, str | None, str], WorkerToleration] = {}
    for node in nodes:
        for taint in node.taints:
            if taint.key.startswith(_AUTOMATIC_TAINTS) or taint.key in never:
                continue
            if taint.key in _TRANSIENT_TAINTS:
                continue
            if taint.effect not in ("NoSchedule", "NoExecute"):
                continue  # PreferNoSchedule does not keep a DaemonSet pod away
            seen[(taint.key, taint.value, taint.effect)] = _toleration(taint)
    return tuple(seen[k] for k in sorted(seen, key=lambda k: (k[0], k[1] or "", k[2])))


def _toleration(taint: Taint) -> WorkerToleration:
    return WorkerToleration(key=taint.key, value=taint.value or None, effect=taint.effect)


def _selector(workers: list[Node], planes: list[Node]) -> tuple[tuple[str, str], ...]:
    """The worker role label, when every worker node carries it with one value and no control-plane
    node does. Node-group and node-pool labels are never used: pinning the DaemonSets to today's
    group would leave pods on a group added tomorrow unable to mount (the affinity alone keeps them
    off control planes)."""
    if not workers:
        return ()
    for key in WORKER_ROLE_LABELS:
        values = {lookup(n.labels, key) for n in workers}
        if len(values) != 1 or None in values:
            continue
        if any(lookup(n.labels, key) is not None for n in planes):
            continue
        (value,) = values
        return ((key, value or ""),)
    return ()


def _rotation(assessment: Assessment) -> tuple[bool | None, int, str]:
    settings = rotation(assessment)
    current = settings.interval if settings else DEFAULT_INTERVAL
    # unknown without the driver: the values then leave enableSecretRotation out, so that
    # `helm upgrade --reuse-values` keeps whatever the cluster has
    enabled = settings.enabled if settings else None
    needed = 0.0
    busiest = ""
    for load in rotation_load(assessment):
        seconds = load.per_poll / (quota(assessment, load.service) * ROTATION_HEADROOM)
        if seconds > needed:
            needed = seconds
            busiest = (
                f"{load.service} in {load.region} (account {load.account}): {load.per_poll:g} calls a poll"
            )
    interval = max(math.ceil(current), math.ceil(needed))
    if needed > current:
        reason = (
            f"the load needs at least {math.ceil(needed)}s to stay within {ROTATION_HEADROOM:.0%} of the "
            f"quota; busiest: {busiest}"
        )
    elif settings is None:
        reason = "the driver's default; the mounts in the input fit within the quotas at this interval"
    else:
        reason = (
            f"as {settings.source} has it; the mounts in the input fit within the quotas at this interval"
        )
    return enabled, interval, reason


def _violations(assessment: Assessment, approved: set[str], platform: bool) -> list[Violation]:
    found = []
    for spc in assessment.inventory.kube.spcs:
        if spc.secret_objects and spc.namespace not in approved:
            found.append(
                Violation(
                    rule=RULE_SYNC_NAMESPACES,
                    subject=spc.id,
                    reason=f"secretObjects in {spc.namespace}, not in sync.approved_namespaces",
                )
            )
    for mount in assessment.mounts:
        steering = [k for k in STEERING if k in mount.inline]
        if steering:
            found.append(
                Violation(
                    rule=RULE_INLINE,
                    subject=mount.workload,
                    reason=f"volume {mount.volume} sets {', '.join(steering)} in volumeAttributes",
                )
            )
    for finding in spc_write_access(assessment):
        # RBAC lets them write SPCs; the admission policy refuses them from now on
        found.append(Violation(rule=RULE_SPC_WRITERS, subject=finding.subject, reason=finding.message))
    if not platform and assessment.inventory.kube.spcs:
        found.append(
            Violation(
                rule=RULE_SPC_WRITERS,
                subject="SecretProviderClass/*",
                reason="no platform principal or group is configured, so every SPC write is rejected",
            )
        )
    return sorted(set(found), key=lambda v: (v.rule, v.subject, v.reason))


def harden_plan(assessment: Assessment, *, failure_action: str = "Enforce") -> HardenPlan:
    config = assessment.config
    approved = set(config.approved_namespaces)
    nodes = list(assessment.inventory.kube.nodes)
    planes = [n for n in nodes if _control_plane(n)]
    workers = [n for n in nodes if not _control_plane(n)]
    enabled, interval, reason = _rotation(assessment)
    workloads = list(assessment.workloads.values())
    platform = bool(config.platform_principals or config.platform_groups)
    warnings = []
    if not platform:
        warnings.append(
            "platform.principals and platform.groups are both empty in the configuration: the Kyverno "
            "policy rejects every SecretProviderClass create and update until they name who may write them"
        )
    if not config.cluster_name:
        warnings.append("cluster.name is not set in the configuration: the artefacts do not name the cluster")
    if not nodes:
        warnings.append(
            "the input holds no Node objects: the Helm values keep DaemonSets off control-plane nodes by "
            "affinity alone, and tolerate no worker taint (add `kubectl get nodes -o json` to the input)"
        )
    control_plane_only = bool(nodes) and not workers
    if control_plane_only:
        warnings.append(
            f"every one of the {len(nodes)} Node(s) in the input is a control-plane node: worker-only "
            "placement is impossible on this cluster, so the Helm values let the driver and provider run "
            "on control-plane nodes (tolerating their taints) rather than on no node at all"
        )
    sync_needed_by = tuple(
        sorted(
            spc.id
            for spc in assessment.inventory.kube.spcs
            if spc.secret_objects and spc.namespace in approved
        )
    )
    return HardenPlan(
        cluster=config.cluster_name,
        principals=config.platform_principals,
        groups=config.platform_groups,
        approved_namespaces=config.approved_namespaces,
        sync_needed_by=sync_needed_by,
        rotation_enabled=enabled,
        rotation_interval=interval,
        rotation_reason=reason,
        worker_tolerations=_tolerations(planes, control_plane=True)
        if control_plane_only
        else _tolerations(workers),
        worker_selector=_selector(workers, planes),
        control_plane_only=control_plane_only,
        has_driver=any(is_driver(w) for w in workloads),
        has_provider=any(is_provider(w) for w in workloads),
        violations=tuple(_violations(assessment, approved, platform)),
        warnings=tuple(warnings),
        failure_action=failure_action,
    )


def go_duration(seconds: int) -> str:
    """Seconds as a Go duration the driver's --rotation-poll-interval parses (2m, 1h30m, 95s)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0s"
