"""The Kyverno ClusterPolicy (kyverno.io/v1, Kyverno 1.13 or later) that enforces who steers the
driver: only the platform principals and groups create or update SecretProviderClasses; secretObjects
only in approved namespaces; no pod sets the attributes the driver copies over its SPC.

Kyverno facts this relies on (DESIGN.md §4): rules that read request.userInfo need `background:
false`; a JMESPath over an absent field fails the request unless defaulted (`|| \\`[]\\``);
validate rules skip UPDATEs of objects that already violate unless `allowExistingViolations: false`.
And since Kyverno 1.10 (kyverno/kyverno#6878) UPDATEs of an object being deleted are validated too:
the garbage collector removing the `foregroundDeletion` finalizer of an SPC (foreground cascading
deletion, as Argo CD's resources-finalizer does it) is an UPDATE by a user who is not the platform.
So the SPC rules run only on CREATE, or on an UPDATE that changes `spec` (preconditions): metadata
writes (finalizers, labels, annotations, owner references) do not steer a mount and pass; a spec
change is checked even on an SPC that is being deleted (a finalizer its writer added could hold it
there). The pod rule matches CREATE only: a pod's volumes cannot change after it is created, and on
UPDATE it would block the Job controller removing its tracking finalizer from a pod that was created
before the policy (kyverno/kyverno#8815).

Pod rules are extended by Kyverno's auto-generation to Deployments, StatefulSets, DaemonSets, Jobs,
CronJobs, ReplicaSets and ReplicationControllers, on CREATE as the pod rule: a controller created with
a bad template is refused; one updated to a bad template is admitted, and what it creates next (a
Deployment's new ReplicaSet, a StatefulSet's or DaemonSet's pods, a CronJob's Job) is refused, so the
rollout stalls instead."""

from __future__ import annotations

import copy
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


# the SPC rules run on a CREATE, or on an UPDATE whose spec differs from the old object's (Kyverno's
# Equals on maps is reflect.DeepEqual); both sides defaulted, though in preconditions a variable that
# does not resolve becomes "" rather than an error (pkg/engine/variables newPreconditionsVariableResolver)
SPEC_WRITTEN: dict[str, Any] = {
    "any": [
        {"key": "{{ request.operation }}", "operator": "Equals", "value": "CREATE"},
        {
            "key": "{{ request.object.spec || `{}` }}",
            "operator": "NotEquals",
            "value": "{{ request.oldObject.spec || `{}` }}",
        },
    ]
}


def _match(kinds: list[str], operations: list[str]) -> dict[str, Any]:
    return {"any": [{"resources": {"kinds": kinds, "operations": operations}}]}


def _validate(
    plan: HardenPlan, message: str, conditions: dict[str, Any], *, updates: bool = True
) -> dict[str, Any]:
    validate: dict[str, Any] = {"failureAction": plan.failure_action}
    if updates:
        # an UPDATE that changes the spec of an SPC that already violates is refused too
        validate["allowExistingViolations"] = False
    return validate | {"message": message, "deny": {"conditions": conditions}}


def _spc_rule(name: str, validate: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "match": _match([SPC_KIND], ["CREATE", "UPDATE"]),
        "preconditions": copy.deepcopy(SPEC_WRITTEN),  # a shared object would be a YAML alias
        "validate": validate,
    }


def _who(plan: HardenPlan) -> str:
    named = [*plan.principals, *(f"group {g}" for g in plan.groups)]
    return ", ".join(named) if named else "no one (platform.principals and platform.groups are empty)"


def spc_writers_rule(plan: HardenPlan) -> dict[str, Any]:
    return _spc_rule(
        RULE_SPC_WRITERS,
        _validate(
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
    )


def sync_namespaces_rule(plan: HardenPlan) -> dict[str, Any]:
    approved = ", ".join(plan.approved_namespaces) or "none"
    return _spc_rule(
        RULE_SYNC_NAMESPACES,
        _validate(
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
    )


def inline_rule(plan: HardenPlan) -> dict[str, Any]:
    return {
        "name": RULE_INLINE,
        # CREATE only: a pod's volumes are immutable (autogen carries the operations over)
        "match": _match(["Pod"], ["CREATE"]),
        "validate": _validate(
            plan,
            f"A {DRIVER_NAME} volume may name only its SecretProviderClass: the driver copies "
            f"{', '.join(STEERING)} from volumeAttributes over the SPC's parameters. Declare them in the "
            "SecretProviderClass.",
            {"any": [{"key": INLINE_KEYS, "operator": "AnyIn", "value": list(STEERING)}]},
            updates=False,
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
