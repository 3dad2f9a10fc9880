"""Hardened Helm values for the driver chart (kubernetes-sigs/secrets-store-csi-driver) and the AWS
provider chart (aws/secrets-store-csi-driver-provider-aws, which installs the driver as its
`secrets-store-csi-driver` subchart). Only value names the charts define are set.

Both DaemonSets run on workers only: no toleration of control-plane taints (the chart's default
`operator: Exists` tolerates every taint), an affinity that refuses control-plane, virtual-kubelet and
Fargate nodes, and the worker taints of the cluster tolerated so that every pod can still mount. On a
cluster whose every node is a control plane (k3s, kind), they run there, tolerating those nodes' taints. The
driver container stays privileged (the chart has no setting for it: it must mount); the provider runs
without privilege escalation, read-only, with every capability dropped."""

from __future__ import annotations

from typing import Any

from iamscope.checks.driver import CONTROL_PLANE
from iamscope.harden.plan import HardenPlan, go_duration

PROVIDER_SECURITY_CONTEXT = {
    "privileged": False,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def _affinity(plan: HardenPlan) -> dict[str, Any]:
    expressions = [
        # the charts' own defaults, kept: no virtual-kubelet (driver) and no Fargate (provider) nodes
        {"key": "type", "operator": "NotIn", "values": ["virtual-kubelet"]},
        {"key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["fargate"]},
    ]
    if not plan.control_plane_only:
        # (on a cluster of control-plane nodes only, these would leave the DaemonSets no node at all)
        expressions += [{"key": key, "operator": "DoesNotExist"} for key in CONTROL_PLANE]
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": expressions}]
            }
        }
    }


def _tolerations(plan: HardenPlan) -> list[dict[str, Any]]:
    tolerations = []
    for t in plan.worker_tolerations:
        entry: dict[str, Any] = {"key": t.key, "effect": t.effect}
        if t.value is None:
            entry["operator"] = "Exists"
        else:
            entry |= {"operator": "Equal", "value": t.value}
        tolerations.append(entry)
    return tolerations


def _placement(plan: HardenPlan) -> dict[str, Any]:
    return {
        "tolerations": _tolerations(plan),
        "nodeSelector": dict(plan.worker_selector),
        "affinity": _affinity(plan),
    }


def _driver_settings(plan: HardenPlan) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "linux": _placement(plan),
        "syncSecret": {"enabled": bool(plan.sync_needed_by)},
    }
    if plan.rotation_enabled is not None:
        # left out when the input has no driver: `--reuse-values` then keeps the cluster's setting
        settings["enableSecretRotation"] = plan.rotation_enabled
    settings["rotationPollInterval"] = go_duration(plan.rotation_interval)
    return settings


def driver_values(plan: HardenPlan) -> dict[str, Any]:
    """Values of the driver chart installed on its own."""
    return _driver_settings(plan)


def provider_values(plan: HardenPlan) -> dict[str, Any]:
    """Values of the AWS provider chart; its `secrets-store-csi-driver` block applies when the chart
    installs the driver too (`secrets-store-csi-driver.install`, true by default)."""
    return {
        **_placement(plan),
        "securityContext": dict(PROVIDER_SECURITY_CONTEXT),
        "secrets-store-csi-driver": _driver_settings(plan),
    }
