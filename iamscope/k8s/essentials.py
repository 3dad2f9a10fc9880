"""What of a Kubernetes object the analysis reads, and nothing more: applied to every object as it is
read, so that a 150,000-pod listing is kept as a few hundred bytes a pod instead of the tens of
kilobytes a live pod lists as (status, managed fields, environment, probes, resources, mounts).

The fields kept are exactly those transform.py reads (and compares when one object is declared
twice); a field of the wrong type is kept as it is, so the transform still reports it. A Secret keeps
no `data` or `stringData`: iamscope never holds a Secret's value."""

from __future__ import annotations

from typing import Any

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"  # the whole object again, values too

_POD_KINDS = frozenset({"Pod"})
_TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}
)
_DROPPED = frozenset({"status"})
_SECRET_VALUES = frozenset({"data", "stringData"})
_METADATA = (
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "ownerReferences",
    "creationTimestamp",
)
_OWNER = ("kind", "name", "controller")
_POD_SPEC = (
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "nodeName",
    "nodeSelector",
    "tolerations",
    "hostNetwork",
)
_CONTAINER = ("name", "image", "securityContext", "args", "command")


class Essentials(dict[str, Any]):
    """An object already reduced (reducing it again would give the same)."""


class Shared:
    """Parts that many objects hold identically (the pod spec of one controller's replicas but for
    the node, their labels, their owner) kept once. What is read is never changed afterwards, so one
    dict may stand in many objects."""

    def __init__(self) -> None:
        self._parts: dict[str, Any] = {}

    def part(self, value: Any) -> Any:
        if not isinstance(value, (dict, list)) or not value:
            return value
        try:
            key = repr(value)
        except RecursionError:
            return value
        return self._parts.setdefault(key, value)


def essentials(data: dict[str, Any], shared: Shared | None = None) -> dict[str, Any]:
    """The object `data` as far as the analysis reads it (a new dict; `data` is not changed)."""
    if type(data) is Essentials:
        return data
    shared = shared or Shared()
    kind = data.get("kind")
    dropped = _DROPPED | _SECRET_VALUES if kind == "Secret" else _DROPPED
    out = Essentials((k, v) for k, v in data.items() if k not in dropped)
    meta = data.get("metadata")
    if isinstance(meta, dict):
        out["metadata"] = _metadata(meta, shared)
    spec = data.get("spec")
    if isinstance(spec, dict):
        if kind in _POD_KINDS:
            out["spec"] = _pod_spec(spec, shared)
        elif kind in _TEMPLATE_KINDS:
            out["spec"] = _controller_spec(spec, shared)
        elif kind == "CronJob":
            out["spec"] = _cronjob_spec(spec, shared)
    return out


def _metadata(meta: dict[str, Any], shared: Shared) -> dict[str, Any]:
    out = {k: meta[k] for k in _METADATA if k in meta}
    annotations = out.get("annotations")
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        out["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    owners = out.get("ownerReferences")
    if isinstance(owners, list):
        out["ownerReferences"] = [
            {k: ref[k] for k in _OWNER if k in ref} if isinstance(ref, dict) else ref for ref in owners
        ]
    for key in ("labels", "annotations", "ownerReferences"):
        if key in out:
            out[key] = shared.part(out[key])
    return out


def _pod_spec(spec: dict[str, Any], shared: Shared) -> dict[str, Any]:
    out = {k: spec[k] for k in _POD_SPEC if k in spec and k != "nodeName"}
    volumes = spec.get("volumes")
    if isinstance(volumes, list):
        out["volumes"] = [v for v in volumes if not isinstance(v, dict) or "csi" in v]
    elif "volumes" in spec:
        out["volumes"] = volumes
    for group in ("initContainers", "containers"):
        containers = spec.get(group)
        if isinstance(containers, list):
            out[group] = [
                {k: c[k] for k in _CONTAINER if k in c} if isinstance(c, dict) else c for c in containers
            ]
        elif group in spec:
            out[group] = containers
    affinity = spec.get("affinity")
    if isinstance(affinity, dict):
        out["affinity"] = {"nodeAffinity": affinity["nodeAffinity"]} if "nodeAffinity" in affinity else {}
    elif "affinity" in spec:
        out["affinity"] = affinity
    common: dict[str, Any] = shared.part(out)
    # the node is what differs between the replicas of one template
    return {**common, "nodeName": spec["nodeName"]} if "nodeName" in spec else common


def _template(template: Any, shared: Shared) -> Any:
    if not isinstance(template, dict):
        return template
    spec = template.get("spec")
    return {"spec": _pod_spec(spec, shared) if isinstance(spec, dict) else spec} if "spec" in template else {}


def _controller_spec(spec: dict[str, Any], shared: Shared) -> dict[str, Any]:
    out = {k: spec[k] for k in ("replicas",) if k in spec}
    if "template" in spec:
        out["template"] = _template(spec["template"], shared)
    return out


def _cronjob_spec(spec: dict[str, Any], shared: Shared) -> dict[str, Any]:
    job = spec.get("jobTemplate")
    if not isinstance(job, dict):
        return {"jobTemplate": job} if "jobTemplate" in spec else {}
    job_spec = job.get("spec")
    if not isinstance(job_spec, dict):
        return {"jobTemplate": {"spec": job_spec} if "spec" in job else {}}
    return {"jobTemplate": {"spec": _controller_spec(job_spec, shared)}}
