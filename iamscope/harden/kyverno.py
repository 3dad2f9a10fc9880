"""The Kyverno ClusterPolicy (kyverno.io/v1, Kyverno 1.13 or later) that enforces who steers the
driver: only the platform principals and groups create or update SecretProviderClasses; secretObjects
only in approved namespaces; no pod sets the attributes the driver copies over its SPC.

Kyverno facts this relies on (DESIGN.md §4): rules that read request.userInfo need `background:
false`; a JMESPath over an absent field fails the request unless defaulted (`|| \\`[]\\``);
validate rules skip UPDATEs of objects that already violate unless `allowExistingViolations: false`.
Pod rules are extended by Kyverno's auto-generation to Deployments, StatefulSets, DaemonSets, Jobs
and CronJobs, so a bad template is refused before any pod is created."""

from __future__ import annotations

from typing import Any

from iamscope.checks.driver import STEERING
from iamscope.harden.plan import RULE_INLINE, RULE_SPC_WRITERS, RULE_SYNC_NAMESPACES, HardenPlan

POLICY_NAME = "iamscope-secrets-store-hardening"
SPC_KIND = "secrets-store.csi.x-k8s.io/*/SecretProviderClass"
DRIVER_NAME = "secrets-store.csi.k8s.io"
# every value a pod's CSI volumes set in volumeAttributes for the secrets-store driver, [] when none
INLINE_KEYS = (
    "{{ request.object.spec.volumes[?csi.driver == '" + DRIVER_NAME + "'].csi.volumeAttributes"
    " | [].keys(@)[] || `[]` }}"
)


def _match(kinds: list[str]) -> dict[str, Any]:
    return {"any": [{"resources": {"kinds": kinds, "operations": ["CREATE", "UPDATE"]}}]}


def _validate(plan: HardenPlan, message: str, conditions: dict[str, Any]) -> dict[str, Any]:
    return {
        "failureAction": plan.failure_action,
        "allowExistingViolations": False,
        "message": message,
        "deny": {"conditions": conditions},
    }


def _who(plan: HardenPlan) -> str:
    named = [*plan.principals, *(f"group {g}" for g in plan.groups)]
    return ", ".join(named) if named else "no one (platform.principals and platform.groups are empty)"


def spc_writers_rule(plan: HardenPlan) -> dict[str, Any]:
    return {
        "name": RULE_SPC_WRITERS,
        "match": _match([SPC_KIND]),
        "validate": _validate(
            plan,
            "SecretProviderClasses are created and changed only by the platform: " + _who(plan) + ".",
            {
                "all": [
                    {
                        "key": "{{ request.userInfo.username }}",
                        "operator": "AnyNotIn",
                        "value": list(plan.principals),
                    },
                    # AllNotIn: every user is also in system:authenticated, so AnyNotIn would always hold
                    {
                        "key": "{{ request.userInfo.groups || `[]` }}",
                        "operator": "AllNotIn",
                        "value": list(plan.groups),
                    },
                ]
            },
        ),
    }


def sync_namespaces_rule(plan: HardenPlan) -> dict[str, Any]:
    approved = ", ".join(plan.approved_namespaces) or "none"
    return {
        "name": RULE_SYNC_NAMESPACES,
        "match": _match([SPC_KIND]),
        "validate": _validate(
            plan,
            "secretObjects copies secrets into Kubernetes Secrets; it is allowed only in the approved "
            f"namespaces ({approved}). Mount the files instead.",
            {
                "all": [
                    {
                        "key": "{{ length(request.object.spec.secretObjects || `[]`) }}",
                        "operator": "GreaterThan",
                        "value": 0,
                    },
                    {
                        "key": "{{ request.namespace }}",
                        "operator": "AnyNotIn",
                        "value": list(plan.approved_namespaces),
                    },
                ]
            },
        ),
    }


def inline_rule(plan: HardenPlan) -> dict[str, Any]:
    return {
        "name": RULE_INLINE,
        "match": _match(["Pod"]),
        "validate": _validate(
            plan,
            f"A {DRIVER_NAME} volume may name only its SecretProviderClass: the driver copies "
            f"{', '.join(STEERING)} from volumeAttributes over the SPC's parameters. Declare them in the "
            "SecretProviderClass.",
            {"any": [{"key": INLINE_KEYS, "operator": "AnyIn", "value": list(STEERING)}]},
        ),
    }


def cluster_policy(plan: HardenPlan) -> dict[str, Any]:
    annotations = {
        "policies.kyverno.io/title": "Secrets Store CSI Driver hardening",
        "policies.kyverno.io/category": "Secrets Store CSI Driver",
        "policies.kyverno.io/severity": "high",
        "policies.kyverno.io/subject": "SecretProviderClass, Pod",
        "policies.kyverno.io/minversion": "1.13.0",
        "policies.kyverno.io/description": (
            "Only the platform principals create or change SecretProviderClasses; secretObjects only in "
            "the approved namespaces; pods may not override their SecretProviderClass inline."
        ),
    }
    metadata: dict[str, Any] = {
        "name": POLICY_NAME,
        "annotations": annotations,
        "labels": {"app.kubernetes.io/managed-by": "iamscope"},
    }
    if plan.cluster:
        annotations["iamscope.dev/cluster"] = plan.cluster
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": metadata,
        "spec": {
            # the SPC-writer rule reads request.userInfo, which exists only at admission
            "background": False,
            "rules": [spc_writers_rule(plan), sync_namespaces_rule(plan), inline_rule(plan)],
        },
    }
