"""How the Secrets Store CSI Driver and its providers are deployed and steered: SPCs that copy secrets
into Kubernetes Secrets outside the approved namespaces, pods that override an SPC inline, driver and
provider DaemonSets that may run on control-plane nodes, provider containers without a hardened
security context, and the driver's cluster-wide Secret-writing role installed for nothing."""

from __future__ import annotations

from collections.abc import Iterator

from iamscope.assess import Assessment
from iamscope.checks.common import location_of
from iamscope.edges import Edge, mounts
from iamscope.findings import Finding, rule
from iamscope.model import Container, Node, SecretProviderClass, Toleration, Workload, lookup

DRIVER_DOCS = "https://secrets-store-csi-driver.sigs.k8s.io/topics/sync-as-kubernetes-secret"
HARDENING = "https://secrets-store-csi-driver.sigs.k8s.io/topics/best-practices"
ASCP_DOCS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/integrating_csi_driver.html"
MANAGED_LABEL = "secrets-store.csi.k8s.io/managed"
SYNCS_TO = "syncs-to"
RUNS_CONTAINER = "runs-container"
GRANTS = "grants"
# what the driver copies from a pod's volumeAttributes over the SPC's parameters (DESIGN.md §4)
STEERING = ("objects", "region", "failoverRegion", "usePodIdentity")
CONTROL_PLANE = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
# node labels that only workers carry: a nodeSelector on one keeps a DaemonSet off control planes
WORKER_LABELS = (
    "node-role.kubernetes.io/worker",
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
    "karpenter.sh/provisioner-name",
    "alpha.eksctl.io/nodegroup-name",
    "cloud.google.com/gke-nodepool",
    "kubernetes.azure.com/agentpool",
)
SYNC_ROLE = "secretprovidersyncing-role"


def _names(workload: Workload) -> set[str]:
    labels = {v for k, v in workload.labels if k in ("app", "app.kubernetes.io/name")}
    return labels | {c.image.rsplit("/", 1)[-1].split(":", 1)[0] for c in workload.pod.containers}


def is_driver(workload: Workload) -> bool:
    """The driver DaemonSet, by its chart labels or its image (registry.k8s.io/csi-secrets-store/driver)."""
    if workload.kind != "DaemonSet":
        return False
    images = [c.image for c in workload.pod.containers]
    return "secrets-store-csi-driver" in _names(workload) or any(
        "csi-secrets-store/driver" in i for i in images
    )


def is_provider(workload: Workload) -> bool:
    """A provider DaemonSet (AWS, or another provider's), by chart labels or image name."""
    if workload.kind != "DaemonSet" or is_driver(workload):
        return False
    return any(
        "secrets-store-csi-driver-provider" in n
        or "csi-secrets-store-provider" in n
        or n == "vault-csi-provider"
        for n in _names(workload)
    )


@rule(
    "sync-to-secret",
    title="A SecretProviderClass copies secrets into Kubernetes Secrets outside the approved namespaces",
    severity="high",
    family="driver",
    rationale="secretObjects makes the driver write the external secret into a Kubernetes Secret, stored in "
    "etcd and readable by anyone with get/list/watch on secrets in the namespace, not only by the pod.",
    remediation="Mount the files instead of syncing; keep secretObjects to the namespaces in "
    "sync.approved_namespaces, whose Secret readers are bound explicitly.",
    references=(DRIVER_DOCS,),
)
def sync_to_secret(assessment: Assessment) -> Iterator[Finding]:
    approved = set(assessment.config.approved_namespaces)
    labelled = {s.id: s.labels for s in assessment.inventory.kube.secrets}
    for spc in assessment.inventory.kube.spcs:
        if not spc.secret_objects or spc.namespace in approved:
            continue
        described, edges = [], []
        for i, synced in enumerate(spc.secret_objects):
            secret_id = f"{spc.namespace}/Secret/{synced.secret_name}"
            if secret_id in labelled:
                managed = lookup(labelled[secret_id], MANAGED_LABEL) == "true"
                state = f"exists, {'' if managed else 'not '}labelled {MANAGED_LABEL}=true"
            else:
                state = f"created on first mount, labelled {MANAGED_LABEL}=true by the driver"
            described.append(f"{synced.secret_name} ({state})")
            edges.append(
                Edge(
                    source=spc.id,
                    target=secret_id,
                    kind=SYNCS_TO,
                    reason=f"spec.secretObjects[{i}].secretName",
                )
            )
        yield Finding(
            rule="sync-to-secret",
            severity="high",
            subject=spc.id,
            message=f"syncs into Kubernetes Secrets in {spc.namespace}, which is not an approved namespace: "
            + ", ".join(described),
            objects=tuple(e.target for e in edges),
            evidence=tuple(edges),
            location=spc.location,
        )


@rule(
    "pod-inline-objects",
    title="A pod sets what its secrets-store volume reads, bypassing the SecretProviderClass",
    severity="high",
    family="driver",
    rationale="The driver copies the volume's volumeAttributes over the SPC's parameters: a pod can name "
    "any secret its role can read (objects), or switch region or identity, whatever controls guard SPCs.",
    remediation="Declare objects in a SecretProviderClass only, and reject pods whose CSI volumes set "
    "objects, region, failoverRegion or usePodIdentity (`iamscope harden` writes the admission policy).",
    references=(ASCP_DOCS,),
)
def pod_inline_objects(assessment: Assessment) -> Iterator[Finding]:
    for mount in assessment.mounts:
        steering = [k for k in STEERING if k in mount.inline]
        if not steering:
            continue
        yield Finding(
            rule="pod-inline-objects",
            severity="high" if "objects" in steering else "medium",
            subject=mount.workload,
            service_account=mount.service_account,
            message=f"volume {mount.volume} sets {', '.join(steering)} in volumeAttributes, over "
            f"{mount.spc or 'its SecretProviderClass'}",
            objects=tuple(x for x in (mount.spc,) if x),
            evidence=(mounts(mount),),
            location=location_of(assessment, mount.workload),
            key=f"volume {mount.volume}",
        )


def _tolerates_control_plane(tolerations: tuple[Toleration, ...]) -> str | None:
    for t in tolerations:
        if t.effect not in (None, "", "NoSchedule"):
            continue
        if t.operator == "Exists" and not t.key:
            return "tolerates every taint (operator: Exists without a key)"
        if t.key in CONTROL_PLANE:
            return f"tolerates {t.key}"
    return None


def _kept_on_workers(workload: Workload) -> bool:
    if any(key in WORKER_LABELS for key, _ in workload.pod.node_selector):
        return True
    terms = workload.pod.node_affinity
    return bool(terms) and all(
        any(key in CONTROL_PLANE and op == "DoesNotExist" for key, op, _ in term)
        or any(key in WORKER_LABELS and op in ("In", "Exists") for key, op, _ in term)
        for term in terms
    )


def _control_plane(node: Node) -> bool:
    return any(lookup(node.labels, k) is not None for k in CONTROL_PLANE) or any(
        t.key in CONTROL_PLANE for t in node.taints
    )


@rule(
    "provider-on-control-plane",
    title="The driver or a provider may run on control-plane nodes",
    severity="medium",
    family="driver",
    rationale="The driver and providers can act with every identity their pods' volumes use; on a control-"
    "plane node a compromise of them reaches the cluster's own credentials. The chart's default toleration "
    "(operator: Exists) schedules them there.",
    remediation="Drop the control-plane tolerations and set a worker nodeSelector or node affinity "
    "(`iamscope harden` writes the Helm values).",
    references=(HARDENING,),
)
def provider_on_control_plane(assessment: Assessment) -> Iterator[Finding]:
    planes = sorted(n.name for n in assessment.inventory.kube.nodes if _control_plane(n))
    for workload in sorted(assessment.workloads.values(), key=lambda w: w.id):
        if not (is_driver(workload) or is_provider(workload)):
            continue
        why = _tolerates_control_plane(workload.pod.tolerations)
        if why is None or _kept_on_workers(workload):
            continue
        what = "driver" if is_driver(workload) else "provider"
        message = (
            f"the {what} DaemonSet {why} and no worker nodeSelector or affinity keeps it off control planes"
        )
        if planes:
            # a DaemonSet runs on every node it tolerates
            message += f"; so it runs on the control-plane node(s) {', '.join(planes)}"
        yield Finding(
            rule="provider-on-control-plane",
            severity="high" if planes else "medium",
            subject=workload.id,
            service_account=f"{workload.namespace}/ServiceAccount/{workload.pod.service_account}",
            message=message,
            location=workload.location,
        )


def _missing(container: Container) -> list[str]:
    missing = []
    if container.allow_privilege_escalation is not False:
        missing.append("allowPrivilegeEscalation: false")
    if container.read_only_root_filesystem is not True:
        missing.append("readOnlyRootFilesystem: true")
    if "ALL" not in {c.upper() for c in container.capabilities_drop}:
        missing.append("capabilities.drop: [ALL]")
    if container.privileged:
        missing.append("privileged: false")
    return missing


@rule(
    "provider-security-context",
    title="A provider container runs without the hardened security context",
    severity="medium",
    family="driver",
    rationale="Providers talk to the cloud with the pods' identities and need no privilege: without "
    "allowPrivilegeEscalation: false, a read-only root filesystem and all capabilities dropped, a flaw in "
    "them is easier to turn into a node compromise. (The driver container must stay privileged to mount.)",
    remediation="Set allowPrivilegeEscalation: false, readOnlyRootFilesystem: true and capabilities.drop: "
    "[ALL] on every provider container (`iamscope harden` writes the Helm values).",
    references=(HARDENING,),
)
def provider_security_context(assessment: Assessment) -> Iterator[Finding]:
    for workload in sorted(assessment.workloads.values(), key=lambda w: w.id):
        if not is_provider(workload):
            continue
        for container in workload.pod.containers:
            missing = _missing(container)
            if not missing:
                continue
            yield Finding(
                rule="provider-security-context",
                severity="medium",
                subject=workload.id,
                message=f"container {container.name} lacks " + ", ".join(missing),
                evidence=(
                    Edge(
                        source=workload.id,
                        target=f"{workload.id}/container/{container.name}",
                        kind=RUNS_CONTAINER,
                        reason=f"image {container.image}",
                    ),
                ),
                location=workload.location,
                key=f"container {container.name}",
            )


def _syncs(spc: SecretProviderClass, approved: set[str]) -> bool:
    return bool(spc.secret_objects) and spc.namespace in approved


@rule(
    "driver-sync-enabled",
    title="The driver's Secret-writing ClusterRole is installed while nothing needs it",
    severity="medium",
    family="driver",
    rationale="With syncSecret.enabled the chart installs a ClusterRole that lets the driver create, update "
    "and delete Secrets in every namespace; whoever controls the driver then writes any Secret.",
    remediation="Set syncSecret.enabled=false in the driver's Helm values while no SPC in an approved "
    "namespace uses secretObjects.",
    references=(DRIVER_DOCS,),
)
def driver_sync_enabled(assessment: Assessment) -> Iterator[Finding]:
    approved = set(assessment.config.approved_namespaces)
    if any(_syncs(spc, approved) for spc in assessment.inventory.kube.spcs):
        return
    for role in assessment.inventory.kube.rbac_roles:
        if role.kind != "ClusterRole" or role.name != SYNC_ROLE:
            continue
        writes = [
            r
            for r in role.rules
            if "secrets" in r.resources and {"create", "update", "patch", "delete", "*"} & set(r.verbs)
        ]
        if not writes:
            continue
        verbs = sorted({v for r in writes for v in r.verbs})
        yield Finding(
            rule="driver-sync-enabled",
            severity="medium",
            subject=role.id,
            message=f"grants {', '.join(verbs)} on secrets cluster-wide, and no SPC in an approved namespace "
            "syncs to a Secret",
            evidence=(
                Edge(
                    source=role.id,
                    target="secrets",
                    kind=GRANTS,
                    reason=f"rules: {', '.join(verbs)} on secrets",
                ),
            ),
            location=role.location,
        )
