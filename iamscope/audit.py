"""`iamscope audit`: the inventory the hardening guide starts with, before any judgement. Every
SecretProviderClass with its provider, whether it syncs to Kubernetes Secrets and how many objects it
names, the workloads that mount it and those that override it inline; every synced Secret (labelled
`secrets-store.csi.k8s.io/managed=true`, or one an SPC's `secretObjects` will create); the driver and
provider DaemonSets with their service accounts and identities; the driver's Secret-writing ClusterRole.
Pure: reads an Assessment, returns frozen rows, sorted."""

from __future__ import annotations

from dataclasses import dataclass

from iamscope.ascp import parse_objects
from iamscope.assess import Assessment
from iamscope.checks.driver import MANAGED_LABEL, SYNC_ROLE, is_driver, is_provider
from iamscope.model import Location, SecretProviderClass, Toleration, Workload, lookup
from iamscope.resolve import Mount

SECRETS_WRITE = ("create", "update", "patch", "delete", "*")


@dataclass(frozen=True, slots=True, kw_only=True)
class InlineOverride:
    """A pod volume that sets ASCP parameters in its volumeAttributes, over the SPC's."""

    workload: str
    volume: str
    parameters: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpcRow:
    id: str
    namespace: str
    name: str
    api_version: str
    provider: str
    syncs: bool  # spec.secretObjects is present
    synced_secrets: tuple[str, ...]  # the Secret names its secretObjects create
    objects: int  # entries of parameters.objects as ASCP parses them (0 when unreadable)
    mounted_by: tuple[str, ...]  # workload ids whose CSI volumes name it, whatever the provider
    inline: tuple[InlineOverride, ...]
    notes: tuple[str, ...]
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingSpc:
    """An SPC a pod volume names that the input does not hold (the pod cannot start)."""

    id: str
    mounted_by: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncedSecretRow:
    id: str
    namespace: str
    name: str
    exists: bool  # the Secret is in the input
    labelled: bool | None  # it carries the managed=true label (None: not in the input)
    synced_by: tuple[str, ...]  # SPC ids whose secretObjects create it
    types: tuple[str, ...]  # the Secret types those SPCs declare
    keys: tuple[str, ...]  # the data keys they write (names only, never values)
    approved: bool  # its namespace is in sync.approved_namespaces
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonSetRow:
    id: str
    namespace: str
    name: str
    kind: str  # driver | provider
    images: tuple[str, ...]
    service_account: str
    role_arn: str | None  # the service account's eks.amazonaws.com/role-arn annotation
    pod_identity_role: str | None  # the role its EKS Pod Identity association gives the pods
    tolerations: tuple[str, ...]
    node_selector: tuple[str, ...]
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncRole:
    id: str
    present: bool
    secret_verbs: tuple[str, ...]  # verbs its rules grant on secrets
    writes_secrets: bool
    subjects: tuple[str, ...]  # who the bindings to it name
    location: Location | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    cluster: str | None
    approved_namespaces: tuple[str, ...]
    spcs: tuple[SpcRow, ...]
    missing_spcs: tuple[MissingSpc, ...]
    synced_secrets: tuple[SyncedSecretRow, ...]
    daemonsets: tuple[DaemonSetRow, ...]
    sync_role: SyncRole


def _object_count(spc: SecretProviderClass) -> tuple[int, list[str]]:
    """How many objects ASCP reads from the SPC's `objects` parameter, and what it would reject."""
    text = lookup(spc.parameters, "objects")
    ascp = spc.provider == "aws"
    if text is None or not text.strip():
        return 0, ["no parameters.objects: the SPC names no object"] if ascp else []
    parsed = parse_objects(text, source=str(spc.location), where=spc.id)
    if parsed.problems:
        if ascp:
            return 0, [f"{p}: objects not counted" for p in parsed.problems]
        return 0, [f"parameters.objects is not in ASCP's format (provider {spc.provider!r}): not counted"]
    notes = []
    if ascp:
        notes = [
            f"{obj.label}: {problem} (ASCP fails the mount)"
            for obj in parsed.objects
            for problem in obj.problems
        ]
    return len(parsed.objects), notes


def _spc_rows(assessment: Assessment) -> tuple[list[SpcRow], list[MissingSpc]]:
    by_spc: dict[str, list[Mount]] = {}
    for mount in assessment.mounts:
        if mount.spc is not None:
            by_spc.setdefault(mount.spc, []).append(mount)
    rows = []
    for spc in assessment.inventory.kube.spcs:
        mounts = by_spc.pop(spc.id, [])
        count, notes = _object_count(spc)
        notes += [
            f"spec.secretObjects[{i}] has no secretName: the driver cannot sync it"
            for i, synced in enumerate(spc.secret_objects)
            if not synced.secret_name
        ]
        inline = sorted(
            (
                InlineOverride(workload=m.workload, volume=m.volume, parameters=m.inline)
                for m in mounts
                if m.inline
            ),
            key=lambda o: (o.workload, o.volume),
        )
        rows.append(
            SpcRow(
                id=spc.id,
                namespace=spc.namespace,
                name=spc.name,
                api_version=spc.api_version,
                provider=spc.provider,
                syncs=bool(spc.secret_objects),
                synced_secrets=tuple(sorted({s.secret_name for s in spc.secret_objects if s.secret_name})),
                objects=count,
                mounted_by=tuple(sorted({m.workload for m in mounts})),
                inline=tuple(inline),
                notes=tuple(notes),
                location=spc.location,
            )
        )
    missing = [
        MissingSpc(id=spc_id, mounted_by=tuple(sorted({m.workload for m in mounts})))
        for spc_id, mounts in by_spc.items()
    ]
    return sorted(rows, key=lambda r: r.id), sorted(missing, key=lambda m: m.id)


def _synced_secrets(assessment: Assessment) -> list[SyncedSecretRow]:
    kube = assessment.inventory.kube
    approved = set(assessment.config.approved_namespaces)
    present = {s.id: s for s in kube.secrets}
    names = {s.id: (s.namespace, s.name) for s in kube.secrets if lookup(s.labels, MANAGED_LABEL) == "true"}
    declared: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}  # id → (spc, type, keys)
    for spc in kube.spcs:
        for synced in spc.secret_objects:
            if not synced.secret_name:
                continue
            secret_id = f"{spc.namespace}/Secret/{synced.secret_name}"
            names[secret_id] = (spc.namespace, synced.secret_name)
            keys = tuple(key for _, key in synced.keys)
            declared.setdefault(secret_id, []).append((spc.id, synced.type, keys))
    rows = []
    for secret_id, (namespace, name) in sorted(names.items()):
        secret = present.get(secret_id)
        labelled = None if secret is None else lookup(secret.labels, MANAGED_LABEL) == "true"
        by = declared.get(secret_id, [])
        notes = []
        if not by:
            notes.append(
                f"labelled {MANAGED_LABEL}=true, but no SecretProviderClass in the input syncs it "
                "(left behind, or its SPC was not read)"
            )
        elif secret is None:
            notes.append("not in the input: the driver creates it when a pod first mounts the SPC")
        elif not labelled:
            notes.append(
                f"exists without the {MANAGED_LABEL}=true label the driver sets on Secrets it creates"
            )
        rows.append(
            SyncedSecretRow(
                id=secret_id,
                namespace=namespace,
                name=name,
                exists=secret is not None,
                labelled=labelled,
                synced_by=tuple(sorted({spc for spc, _, _ in by})),
                types=tuple(sorted({t for _, t, _ in by if t})),
                keys=tuple(sorted({k for _, _, keys in by for k in keys})),
                approved=namespace in approved,
                notes=tuple(notes),
            )
        )
    return rows


def toleration_text(t: Toleration) -> str:
    """A toleration as `kubectl describe` shows one: `key=value:effect`, `key:effect` (Exists)."""
    if not t.key:
        what = "every taint" if t.operator == "Exists" else "?"
    elif t.operator == "Exists":
        what = t.key
    else:
        what = f"{t.key}={t.value or ''}"
    return f"{what}:{t.effect}" if t.effect else what


def _daemonset(assessment: Assessment, workload: Workload) -> DaemonSetRow:
    sa_id = f"{workload.namespace}/ServiceAccount/{workload.pod.service_account}"
    view = assessment.service_accounts.get(sa_id)
    identity = view.identity if view is not None else None
    association = identity.association if identity is not None else None
    return DaemonSetRow(
        id=workload.id,
        namespace=workload.namespace,
        name=workload.name,
        kind="driver" if is_driver(workload) else "provider",
        images=tuple(sorted({c.image for c in workload.pod.containers})),
        service_account=sa_id,
        role_arn=identity.annotation if identity is not None else None,
        pod_identity_role=association.pod_role if association is not None else None,
        tolerations=tuple(sorted({toleration_text(t) for t in workload.pod.tolerations})),
        node_selector=tuple(sorted(f"{k}={v}" for k, v in workload.pod.node_selector)),
        location=workload.location,
    )


def _sync_role(assessment: Assessment) -> SyncRole:
    kube = assessment.inventory.kube
    role_id = f"ClusterRole/{SYNC_ROLE}"
    role = next((r for r in kube.rbac_roles if r.id == role_id), None)
    verbs = sorted({v for r in role.rules if "secrets" in r.resources for v in r.verbs}) if role else []
    subjects = sorted({s.id for b in kube.bindings if b.role_id == role_id for s in b.subjects})
    return SyncRole(
        id=role_id,
        present=role is not None,
        secret_verbs=tuple(verbs),
        writes_secrets=bool(set(verbs) & set(SECRETS_WRITE)),
        subjects=tuple(subjects),
        location=role.location if role is not None else None,
    )


def audit(assessment: Assessment) -> AuditReport:
    """The inventory table of the cluster the assessment read."""
    spcs, missing = _spc_rows(assessment)
    daemonsets = sorted(
        (_daemonset(assessment, w) for w in assessment.workloads.values() if is_driver(w) or is_provider(w)),
        key=lambda d: (d.kind, d.id),
    )
    return AuditReport(
        cluster=assessment.cluster.name if assessment.cluster is not None else None,
        approved_namespaces=tuple(sorted(set(assessment.config.approved_namespaces))),
        spcs=tuple(spcs),
        missing_spcs=tuple(missing),
        synced_secrets=tuple(_synced_secrets(assessment)),
        daemonsets=tuple(daemonsets),
        sync_role=_sync_role(assessment),
    )
