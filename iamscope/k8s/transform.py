"""Raw Kubernetes objects to the inventory model (pure). Pods owned by a controller fold into it, even
when only the pods were listed (a ReplicaSet's Deployment is found through its owner reference, or
through the pod-template-hash naming when the ReplicaSet is not in the input). Objects are taken in a
stable order so input order never changes the result."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from iamscope.errors import InputError
from iamscope.k8s.read import RawObject
from iamscope.model import (
    Container,
    CsiVolume,
    KubeInventory,
    KubeSecret,
    Location,
    Namespace,
    Node,
    Pairs,
    PodTemplate,
    PolicyRule,
    RbacRole,
    RoleBinding,
    SecretProviderClass,
    ServiceAccount,
    Subject,
    SyncedSecret,
    Taint,
    Toleration,
    Warning,
    Workload,
)

WORKLOAD_KINDS = (
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "ReplicationController",
)
SPC_GROUP = "secrets-store.csi.x-k8s.io"
DEFAULT_NAMESPACE = "default"

Fail = Callable[[str], InputError]


@dataclass(frozen=True, slots=True)
class _Obj:
    """A raw object with accessors that fail with one line naming the file, the object and the field."""

    data: Mapping[str, Any]
    location: Location
    kind: str
    name: str
    namespace: str

    @property
    def id_text(self) -> str:
        return f"{self.kind}/{self.name}"

    def fail(self, field: str, message: str) -> InputError:
        return InputError(message, source=str(self.location), where=f"{self.kind}/{self.name} {field}")

    def map(self, value: Any, field: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(field, "must be a mapping")
        return value

    def list(self, value: Any, field: str) -> Sequence[Any]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(field, "must be a list")
        return value

    def text(self, value: Any, field: str, *, default: str | None = None) -> str | None:
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, (datetime.date, datetime.datetime)):
            # YAML 1.1 reads an unquoted 2024-01-01 as a date; Kubernetes keeps it as a string
            return value.isoformat()
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if not isinstance(value, str):
            raise self.fail(field, "must be a string")
        return value

    def pairs(self, value: Any, field: str) -> Pairs:
        mapping = self.map(value, field)
        return tuple(
            sorted((str(k), self.text(v, f"{field}.{k}", default="") or "") for k, v in mapping.items())
        )

    def strings(self, value: Any, field: str) -> tuple[str, ...]:
        return tuple(self.text(v, f"{field}[{i}]") or "" for i, v in enumerate(self.list(value, field)))


def _wrap(raw: RawObject) -> _Obj:
    data = raw.data
    kind = data["kind"]
    meta = data.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise InputError("metadata must be a mapping", source=str(raw.location), where=kind)
    meta = meta or {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        generate = meta.get("generateName")
        if isinstance(generate, str) and generate:
            name = generate
        else:
            raise InputError("metadata.name is missing", source=str(raw.location), where=kind)
    namespace = meta.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise InputError(
            "metadata.namespace must be a string", source=str(raw.location), where=f"{kind}/{name}"
        )
    return _Obj(data, raw.location, kind, name, namespace or DEFAULT_NAMESPACE)


def _meta(obj: _Obj) -> Mapping[str, Any]:
    return obj.map(obj.data.get("metadata"), "metadata")


def _labels(obj: _Obj) -> Pairs:
    return obj.pairs(_meta(obj).get("labels"), "metadata.labels")


# --- pods --------------------------------------------------------------------------------------------


def _container(obj: _Obj, raw: Any, field: str) -> Container:
    c = obj.map(raw, field)
    sc = obj.map(c.get("securityContext"), f"{field}.securityContext")
    caps = obj.map(sc.get("capabilities"), f"{field}.securityContext.capabilities")

    def flag(key: str) -> bool | None:
        value = sc.get(key)
        return value if isinstance(value, bool) else None

    return Container(
        name=obj.text(c.get("name"), f"{field}.name", default="") or "",
        image=obj.text(c.get("image"), f"{field}.image", default="") or "",
        privileged=flag("privileged"),
        allow_privilege_escalation=flag("allowPrivilegeEscalation"),
        read_only_root_filesystem=flag("readOnlyRootFilesystem"),
        capabilities_drop=obj.strings(caps.get("drop"), f"{field}.securityContext.capabilities.drop"),
        args=obj.strings(c.get("args"), f"{field}.args") + obj.strings(c.get("command"), f"{field}.command"),
    )


def _node_affinity(
    obj: _Obj, raw: Any, field: str
) -> tuple[tuple[tuple[str, str, tuple[str, ...]], ...], ...]:
    """requiredDuringSchedulingIgnoredDuringExecution's nodeSelectorTerms (what decides placement)."""
    node = obj.map(obj.map(raw, field).get("nodeAffinity"), f"{field}.nodeAffinity")
    where = f"{field}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    required = obj.map(node.get("requiredDuringSchedulingIgnoredDuringExecution"), where)
    terms = []
    for i, term_raw in enumerate(obj.list(required.get("nodeSelectorTerms"), f"{where}.nodeSelectorTerms")):
        term = obj.map(term_raw, f"{where}.nodeSelectorTerms[{i}]")
        expressions = []
        for j, e_raw in enumerate(
            obj.list(term.get("matchExpressions"), f"{where}.nodeSelectorTerms[{i}].matchExpressions")
        ):
            f = f"{where}.nodeSelectorTerms[{i}].matchExpressions[{j}]"
            e = obj.map(e_raw, f)
            values = tuple(
                obj.text(v, f"{f}.values[{k}]") or ""
                for k, v in enumerate(obj.list(e.get("values"), f"{f}.values"))
                if v is not None
            )
            key = obj.text(e.get("key"), f"{f}.key", default="") or ""
            expressions.append((key, obj.text(e.get("operator"), f"{f}.operator", default="") or "", values))
        terms.append(tuple(expressions))
    return tuple(terms)


def _pod_template(obj: _Obj, spec_raw: Any, field: str) -> PodTemplate:
    spec = obj.map(spec_raw, field)
    volumes: list[CsiVolume] = []
    for i, volume_raw in enumerate(obj.list(spec.get("volumes"), f"{field}.volumes")):
        volume = obj.map(volume_raw, f"{field}.volumes[{i}]")
        if "csi" not in volume:
            continue
        csi = obj.map(volume.get("csi"), f"{field}.volumes[{i}].csi")
        ro = csi.get("readOnly")
        volumes.append(
            CsiVolume(
                name=obj.text(volume.get("name"), f"{field}.volumes[{i}].name", default="") or "",
                driver=obj.text(csi.get("driver"), f"{field}.volumes[{i}].csi.driver", default="") or "",
                attributes=obj.pairs(
                    csi.get("volumeAttributes"), f"{field}.volumes[{i}].csi.volumeAttributes"
                ),
                read_only=ro if isinstance(ro, bool) else None,
            )
        )
    tolerations: list[Toleration] = []
    for i, t_raw in enumerate(obj.list(spec.get("tolerations"), f"{field}.tolerations")):
        t = obj.map(t_raw, f"{field}.tolerations[{i}]")
        f = f"{field}.tolerations[{i}]"
        tolerations.append(
            Toleration(
                key=obj.text(t.get("key"), f + ".key"),
                operator=obj.text(t.get("operator"), f + ".operator", default="Equal") or "Equal",
                value=obj.text(t.get("value"), f + ".value"),
                effect=obj.text(t.get("effect"), f + ".effect"),
            )
        )
    containers = [
        _container(obj, c, f"{field}.{group}[{i}]")
        for group in ("initContainers", "containers")
        for i, c in enumerate(obj.list(spec.get(group), f"{field}.{group}"))
    ]
    affinity = _node_affinity(obj, spec.get("affinity"), f"{field}.affinity")
    service_account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    automount = spec.get("automountServiceAccountToken")
    return PodTemplate(
        service_account=obj.text(service_account, f"{field}.serviceAccountName") or "default",
        csi_volumes=tuple(volumes),
        node_name=obj.text(spec.get("nodeName"), f"{field}.nodeName"),
        node_selector=obj.pairs(spec.get("nodeSelector"), f"{field}.nodeSelector"),
        tolerations=tuple(tolerations),
        containers=tuple(containers),
        node_affinity=affinity,
        host_network=spec.get("hostNetwork") is True,
        automount_token=automount if isinstance(automount, bool) else None,
    )


def _template_spec(obj: _Obj) -> tuple[Any, str]:
    spec = obj.map(obj.data.get("spec"), "spec")
    if obj.kind == "Pod":
        return spec, "spec"
    if obj.kind == "CronJob":
        job = obj.map(spec.get("jobTemplate"), "spec.jobTemplate")
        job_spec = obj.map(job.get("spec"), "spec.jobTemplate.spec")
        template = obj.map(job_spec.get("template"), "spec.jobTemplate.spec.template")
        return template.get("spec"), "spec.jobTemplate.spec.template.spec"
    template = obj.map(spec.get("template"), "spec.template")
    return template.get("spec"), "spec.template.spec"


def _replicas(obj: _Obj) -> int | None:
    if obj.kind == "Pod":
        return 1
    value = obj.map(obj.data.get("spec"), "spec").get("replicas")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return 1 if obj.kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController") else None


def _owner(obj: _Obj) -> tuple[str, str] | None:
    """The controlling owner (kind, name), or the first owner when none is marked as controller."""
    refs = [
        r
        for r in obj.list(_meta(obj).get("ownerReferences"), "metadata.ownerReferences")
        if isinstance(r, dict)
    ]
    chosen = next((r for r in refs if r.get("controller") is True), refs[0] if refs else None)
    if chosen is None:
        return None
    kind, name = chosen.get("kind"), chosen.get("name")
    # any controller (an Argo Rollout, an operator's kind) owns what it created; other owners only
    # when they are workload kinds
    controls = chosen.get("controller") is True and kind != "Node"  # a mirror pod stays a pod
    if isinstance(kind, str) and isinstance(name, str) and (kind in WORKLOAD_KINDS or controls):
        return kind, name
    return None


def _has_pod_template(data: Mapping[str, Any]) -> bool:
    """A controller kind iamscope does not name (Argo Rollouts, operators) that carries a pod template."""
    spec = data.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    pod = template.get("spec") if isinstance(template, dict) else None
    return isinstance(pod, dict) and isinstance(pod.get("containers"), list)


def _workload_id(namespace: str, kind: str, name: str) -> str:
    return f"{namespace}/{kind}/{name}"


def _fold_workloads(objs: Sequence[_Obj]) -> list[Workload]:
    """Controllers stand for their pods (and ReplicaSets/Jobs for their Deployment/CronJob)."""
    declared = {(o.namespace, o.kind, o.name): o for o in objs}
    owners: dict[tuple[str, str, str], tuple[str, str, str] | None] = {}

    def top(key: tuple[str, str, str], labels: Pairs = (), depth: int = 0) -> tuple[str, str, str]:
        obj = declared.get(key)
        if depth > 8:
            return key
        if obj is None:
            owner = _undeclared_owner(key, labels)
        else:
            owner = _owner(obj) or (_hash_owner(obj.name, _labels(obj)) if key[1] == "ReplicaSet" else None)
            labels = _labels(obj)
        if owner is None:
            return key
        return top((key[0], owner[0], owner[1]), labels, depth + 1)

    for key in declared:
        owners[key] = top(key)
    groups: dict[tuple[str, str, str], list[_Obj]] = {}
    for key, obj in declared.items():
        groups.setdefault(owners.get(key) or key, []).append(obj)
    workloads: list[Workload] = []
    for (namespace, kind, name), members in sorted(groups.items()):
        own = declared.get((namespace, kind, name))
        source = own if own is not None else _newest(members)
        pods = tuple(sorted(o.name for o in members if o.kind == "Pod"))
        spec, field = _template_spec(source)
        template = _pod_template(source, spec, field)
        if own is None or own.kind != "Pod":
            # where it runs: the node of its first live pod (by name), whatever the template says
            node = next((_pod_node(o) for o in sorted(members, key=lambda o: o.name) if _pod_node(o)), None)
            template = replace(template, node_name=node)
        replicas = _replicas(own) if own is not None else len(pods) or None
        workloads.append(
            Workload(
                id=_workload_id(namespace, kind, name),
                kind=kind,
                namespace=namespace,
                name=name,
                labels=_labels(source),
                pod=template,
                replicas=replicas,
                location=source.location,
                pods=pods,
            )
        )
    return workloads


def _newest(members: Sequence[_Obj]) -> _Obj:
    """The member whose template stands for a controller that was not listed: a live pod (what runs),
    the most recently created first; else the ReplicaSet or Job of the highest revision, then the
    most replicas, then the most recently created."""

    def created(o: _Obj) -> str:
        value = _meta(o).get("creationTimestamp")
        return value if isinstance(value, str) else ""

    def revision(o: _Obj) -> int:
        annotations = _meta(o).get("annotations")
        value = (
            annotations.get("deployment.kubernetes.io/revision") if isinstance(annotations, dict) else None
        )
        return int(value) if isinstance(value, str) and value.isdigit() else -1

    pods = [o for o in members if o.kind == "Pod"]
    if pods:
        return sorted(pods, key=lambda o: (created(o), o.name))[-1]
    return sorted(members, key=lambda o: (revision(o), _replicas(o) or 0, created(o), o.name))[-1]


def _pod_node(obj: _Obj) -> str | None:
    if obj.kind != "Pod":
        return None
    spec = obj.map(obj.data.get("spec"), "spec")
    node = spec.get("nodeName")
    return node if isinstance(node, str) and node else None


def _hash_owner(name: str, labels: Pairs) -> tuple[str, str] | None:
    """A ReplicaSet `<deployment>-<pod-template-hash>` whose owner reference is not in the input."""
    digest = dict(labels).get("pod-template-hash")
    if digest and name.endswith("-" + digest):
        return "Deployment", name[: -len(digest) - 1]
    return None


_JOB_SUFFIX = re.compile(r"^(?P<cronjob>.+)-(?P<minutes>[0-9]{8,})$")
# minutes since the epoch from 2015 to 2100: a date-like suffix (20240101) or seconds (1700000000) is not
_CRON_MINUTES = range(23_667_840, 68_374_080)


def _undeclared_owner(key: tuple[str, str, str], labels: Pairs) -> tuple[str, str] | None:
    """The owner of a controller that was not listed, from the pod's labels (ReplicaSet to Deployment)
    or from the CronJob controller's naming of its Jobs (`<cronjob>-<scheduled time in minutes>`)."""
    _, kind, name = key
    if kind == "ReplicaSet":
        return _hash_owner(name, labels)
    if kind == "Job":
        # the CronJob controller names its Jobs <cronjob>-<scheduled time in minutes>
        match = _JOB_SUFFIX.match(name)
        if match and int(match["minutes"]) in _CRON_MINUTES:
            return "CronJob", match["cronjob"]
    return None


# --- other kinds -------------------------------------------------------------------------------------


def _service_account(obj: _Obj) -> ServiceAccount:
    return ServiceAccount(
        id=f"{obj.namespace}/ServiceAccount/{obj.name}",
        namespace=obj.namespace,
        name=obj.name,
        annotations=obj.pairs(_meta(obj).get("annotations"), "metadata.annotations"),
        labels=_labels(obj),
        location=obj.location,
    )


def _spc(obj: _Obj) -> SecretProviderClass:
    spec = obj.map(obj.data.get("spec"), "spec")
    synced: list[SyncedSecret] = []
    for i, raw in enumerate(obj.list(spec.get("secretObjects"), "spec.secretObjects")):
        f = f"spec.secretObjects[{i}]"
        entry = obj.map(raw, f)
        keys = []
        for j, d_raw in enumerate(obj.list(entry.get("data"), f + ".data")):
            d = obj.map(d_raw, f"{f}.data[{j}]")
            keys.append(
                (
                    obj.text(d.get("objectName"), f"{f}.data[{j}].objectName", default="") or "",
                    obj.text(d.get("key"), f"{f}.data[{j}].key", default="") or "",
                )
            )
        synced.append(
            SyncedSecret(
                secret_name=obj.text(entry.get("secretName"), f + ".secretName", default="") or "",
                type=obj.text(entry.get("type"), f + ".type", default="Opaque") or "Opaque",
                labels=obj.pairs(entry.get("labels"), f + ".labels"),
                keys=tuple(keys),
            )
        )
    return SecretProviderClass(
        id=f"{obj.namespace}/SecretProviderClass/{obj.name}",
        namespace=obj.namespace,
        name=obj.name,
        api_version=obj.text(obj.data.get("apiVersion"), "apiVersion", default="") or "",
        provider=obj.text(spec.get("provider"), "spec.provider", default="") or "",
        parameters=obj.pairs(spec.get("parameters"), "spec.parameters"),
        secret_objects=tuple(synced),
        location=obj.location,
    )


def _node(obj: _Obj) -> Node:
    spec = obj.map(obj.data.get("spec"), "spec")
    taints = []
    for i, raw in enumerate(obj.list(spec.get("taints"), "spec.taints")):
        t = obj.map(raw, f"spec.taints[{i}]")
        taints.append(
            Taint(
                key=obj.text(t.get("key"), f"spec.taints[{i}].key", default="") or "",
                value=obj.text(t.get("value"), f"spec.taints[{i}].value"),
                effect=obj.text(t.get("effect"), f"spec.taints[{i}].effect", default="") or "",
            )
        )
    return Node(
        id=f"Node/{obj.name}",
        name=obj.name,
        labels=_labels(obj),
        taints=tuple(taints),
        provider_id=obj.text(spec.get("providerID"), "spec.providerID"),
        location=obj.location,
    )


def _rbac_role(obj: _Obj) -> RbacRole:
    rules = []
    for i, raw in enumerate(obj.list(obj.data.get("rules"), "rules")):
        r = obj.map(raw, f"rules[{i}]")
        rules.append(
            PolicyRule(
                verbs=obj.strings(r.get("verbs"), f"rules[{i}].verbs"),
                api_groups=obj.strings(r.get("apiGroups"), f"rules[{i}].apiGroups"),
                resources=obj.strings(r.get("resources"), f"rules[{i}].resources"),
                resource_names=obj.strings(r.get("resourceNames"), f"rules[{i}].resourceNames"),
                non_resource_urls=obj.strings(r.get("nonResourceURLs"), f"rules[{i}].nonResourceURLs"),
            )
        )
    aggregation = obj.map(obj.data.get("aggregationRule"), "aggregationRule")
    selectors = tuple(
        obj.pairs(obj.map(s, f"aggregationRule.clusterRoleSelectors[{i}]").get("matchLabels"), "matchLabels")
        for i, s in enumerate(
            obj.list(aggregation.get("clusterRoleSelectors"), "aggregationRule.clusterRoleSelectors")
        )
    )
    cluster = obj.kind == "ClusterRole"
    return RbacRole(
        id=f"ClusterRole/{obj.name}" if cluster else f"{obj.namespace}/Role/{obj.name}",
        kind=obj.kind,
        namespace=None if cluster else obj.namespace,
        name=obj.name,
        labels=_labels(obj),
        rules=tuple(rules),
        aggregation=selectors,
        location=obj.location,
    )


def _binding(obj: _Obj) -> RoleBinding:
    cluster = obj.kind == "ClusterRoleBinding"
    ref = obj.map(obj.data.get("roleRef"), "roleRef")
    subjects = []
    for i, raw in enumerate(obj.list(obj.data.get("subjects"), "subjects")):
        s = obj.map(raw, f"subjects[{i}]")
        kind = obj.text(s.get("kind"), f"subjects[{i}].kind", default="") or ""
        namespace = obj.text(s.get("namespace"), f"subjects[{i}].namespace")
        if kind == "ServiceAccount" and not namespace:
            namespace = None if cluster else obj.namespace
        subjects.append(
            Subject(
                kind=kind,
                name=obj.text(s.get("name"), f"subjects[{i}].name", default="") or "",
                namespace=namespace if kind == "ServiceAccount" else None,
            )
        )
    return RoleBinding(
        id=f"ClusterRoleBinding/{obj.name}" if cluster else f"{obj.namespace}/RoleBinding/{obj.name}",
        kind=obj.kind,
        namespace=None if cluster else obj.namespace,
        name=obj.name,
        role_kind=obj.text(ref.get("kind"), "roleRef.kind", default="ClusterRole") or "ClusterRole",
        role_name=obj.text(ref.get("name"), "roleRef.name", default="") or "",
        subjects=tuple(subjects),
        location=obj.location,
    )


def _is_spc(obj: _Obj) -> bool:
    api = obj.data.get("apiVersion")
    # `$API_VERSION`: the driver's own e2e manifests are templates that envsubst fills in
    return obj.kind == "SecretProviderClass" and (
        not isinstance(api, str) or api.startswith(SPC_GROUP + "/") or api.startswith("$")
    )


def _meaning(obj: _Obj) -> tuple[object, ...]:
    """What the analysis reads of an object (not status, resource versions or timestamps)."""
    meta = _meta(obj)
    return tuple(
        repr(x)
        for x in (
            meta.get("annotations"),
            meta.get("labels"),
            obj.data.get("spec"),
            obj.data.get("rules"),
            obj.data.get("roleRef"),
            obj.data.get("subjects"),
            obj.data.get("aggregationRule"),
        )
    )


def _same_meaning(a: _Obj, b: _Obj) -> bool:
    try:
        return _meaning(a) == _meaning(b)
    except RecursionError:  # nested deeper than Python's repr goes: no real object is; say they differ
        return False


def _dedupe(
    objs: Iterable[_Obj], key: Callable[[_Obj], tuple[str, ...]], conflicts: list[Warning] | None = None
) -> list[_Obj]:
    """One object per identity: the first by file and line, so input order never matters. The same
    object given twice with different content is said, since only one of the two is used."""
    chosen: dict[tuple[str, ...], _Obj] = {}
    for obj in sorted(objs, key=lambda o: (o.location.file, o.location.line or 0)):
        first = chosen.setdefault(key(obj), obj)
        if first is not obj and conflicts is not None and not _same_meaning(first, obj):
            conflicts.append(
                Warning(
                    source=str(obj.location),
                    message=f"{obj.kind}/{obj.name} in {obj.namespace} is also declared at {first.location} "
                    "with different content; that one is used",
                )
            )
    return [chosen[k] for k in sorted(chosen)]


def build_kube_inventory(raws: Iterable[RawObject], warnings: Iterable[Warning] = ()) -> KubeInventory:
    conflicts: list[Warning] = []

    def dedupe(objs: Iterable[_Obj], key: Callable[[_Obj], tuple[str, ...]]) -> list[_Obj]:
        return _dedupe(objs, key, conflicts)

    by_kind: dict[str, list[_Obj]] = {}
    skipped: Counter[str] = Counter()
    for raw in raws:
        obj = _wrap(raw)
        if obj.kind == "SecretProviderClass" and not _is_spc(obj):
            skipped[obj.kind] += 1
            continue
        by_kind.setdefault(obj.kind, []).append(obj)

    def ns_key(o: _Obj) -> tuple[str, ...]:
        return (o.namespace, o.kind, o.name)

    def cluster_key(o: _Obj) -> tuple[str, ...]:
        return (o.kind, o.name)

    controllers = sorted(
        k for k, objs in by_kind.items() if k not in _READ and all(_has_pod_template(o.data) for o in objs)
    )
    workload_objs = dedupe((o for k in (*WORKLOAD_KINDS, *controllers) for o in by_kind.get(k, ())), ns_key)
    for kind, objs in by_kind.items():
        if kind not in _READ and kind not in controllers:
            skipped[kind] += len(objs)
    unplaced = sorted(
        {
            o.id_text
            for k in (*_NAMESPACED, *controllers)
            for o in by_kind.get(k, ())
            if not isinstance(_meta(o).get("namespace"), str)
        }
    )
    notes = list(warnings) + [
        Warning(source="--k8s", message=f"skipped {n} object(s) of kind {kind}: not used by the analysis")
        for kind, n in sorted(skipped.items())
    ]
    if unplaced:
        # `helm template` and kustomize output often leave the namespace to `kubectl apply -n`
        shown = ", ".join(unplaced[:5]) + (f" and {len(unplaced) - 5} more" if len(unplaced) > 5 else "")
        notes.append(
            Warning(
                source="--k8s",
                message=f"{len(unplaced)} object(s) name no namespace and are taken to be in "
                f"{DEFAULT_NAMESPACE!r}, "
                f"as `kubectl apply` without -n would put them: {shown}",
            )
        )
    spcs = [_spc(o) for o in dedupe(by_kind.get("SecretProviderClass", ()), ns_key)]
    return KubeInventory(
        workloads=tuple(_fold_workloads(workload_objs)),
        service_accounts=tuple(
            _service_account(o) for o in dedupe(by_kind.get("ServiceAccount", ()), ns_key)
        ),
        spcs=tuple(spcs),
        namespaces=tuple(
            Namespace(id=f"Namespace/{o.name}", name=o.name, labels=_labels(o), location=o.location)
            for o in dedupe(by_kind.get("Namespace", ()), cluster_key)
        ),
        nodes=tuple(_node(o) for o in dedupe(by_kind.get("Node", ()), cluster_key)),
        rbac_roles=tuple(
            sorted(
                (_rbac_role(o) for o in dedupe(by_kind.get("Role", ()), ns_key)),
                key=lambda r: r.id,
            )
        )
        + tuple(_rbac_role(o) for o in dedupe(by_kind.get("ClusterRole", ()), cluster_key)),
        bindings=tuple(_binding(o) for o in dedupe(by_kind.get("RoleBinding", ()), ns_key))
        + tuple(_binding(o) for o in dedupe(by_kind.get("ClusterRoleBinding", ()), cluster_key)),
        secrets=tuple(
            KubeSecret(
                id=f"{o.namespace}/Secret/{o.name}",
                namespace=o.namespace,
                name=o.name,
                labels=_labels(o),
                location=o.location,
            )
            for o in dedupe(by_kind.get("Secret", ()), ns_key)
        ),
        warnings=tuple(notes + conflicts),
        read=True,
    )


_NAMESPACED = (*WORKLOAD_KINDS, "ServiceAccount", "SecretProviderClass", "Role", "RoleBinding", "Secret")

_READ = frozenset(
    {
        *WORKLOAD_KINDS,
        "ServiceAccount",
        "SecretProviderClass",
        "Namespace",
        "Node",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "Secret",
    }
)
