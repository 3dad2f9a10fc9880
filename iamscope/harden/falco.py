"""Falco rules (source k8s_audit, the k8saudit plugin or k8saudit-eks for EKS's CloudWatch audit logs)
that raise an alert when a SecretProviderClass is created, changed or deleted by anyone outside the
platform principals and groups, or when the admission policy that guards them is changed or removed.
Self-contained: the lists and macros they use are defined here, with names of their own, so the file
loads beside or without the plugin's k8s_audit_rules.yaml.

Normal cluster activity does not alert: writes to a subresource (Kyverno updating its ClusterPolicy's
`status`) are not changes of the object (`not ka.target.subresource exists`, as the plugin's own
`pod` macro has it); and the garbage collector and the namespace controller are left out entirely:
they never create or change an SPC, they remove finalizers and delete objects as a consequence of
someone else's delete (of an owner, of a namespace), and the deletes that can steer a mount, or
unguard the policy, are someone's own request, alerted as theirs (the ownerReference the garbage
collector would follow to the policy is itself a patch of the policy)."""

from __future__ import annotations

import re
from typing import Any

from iamscope.harden.kyverno import POLICY_NAME
from iamscope.harden.plan import HardenPlan

PRINCIPALS = "iamscope_platform_principals"
GROUPS = "iamscope_platform_groups"
CONTROLLERS = "iamscope_cluster_controllers"
# kube-controller-manager's controllers as they authenticate with --use-service-account-credentials
# (kubeadm, EKS): the garbage collector (finalizer removal, cascading deletes) and the namespace
# controller (deleting what a deleted namespace holds)
CLUSTER_CONTROLLERS = (
    "system:serviceaccount:kube-system:generic-garbage-collector",
    "system:serviceaccount:kube-system:namespace-controller",
)
# a list must hold at least one item to load; this name is never a Kubernetes username or group
_NONE = "iamscope:nobody"
# Falco's condition parser ends a bare value at whitespace, quotes, parentheses, `=` and `,`
# (falcosecurity/libs parser.cpp RGX_BARESTR); anything else is quoted
_BARE = re.compile(r"^[A-Za-z0-9_.:@/+-]+$")


def _quoted(items: tuple[str, ...]) -> list[str]:
    """List items as Falco expands them into conditions: a bare word, or double-quoted when it holds
    characters that would end one (spaces, commas, parentheses, quotes)."""
    return [item if _BARE.match(item) else '"' + item.replace('"', '\\"') + '"' for item in items] or [_NONE]


def falco_rules(plan: HardenPlan) -> list[dict[str, Any]]:
    cluster = f" cluster={plan.cluster}" if plan.cluster else ""
    by_platform = f"(ka.user.name in ({PRINCIPALS}) or ka.user.groups intersects ({GROUPS}))"
    return [
        {
            "required_plugin_versions": [
                {
                    "name": "k8saudit",
                    "version": "0.6.0",
                    "alternatives": [{"name": "k8saudit-eks", "version": "0.2.0"}],
                }
            ]
        },
        {"list": PRINCIPALS, "items": _quoted(plan.principals)},
        {"list": GROUPS, "items": _quoted(plan.groups)},
        {"list": CONTROLLERS, "items": _quoted(CLUSTER_CONTROLLERS)},
        {
            # a completed change of the object itself: a subresource (status) is not one
            "macro": "iamscope_completed_change",
            "condition": "(ka.stage=ResponseComplete "
            "and ka.verb in (create, update, patch, delete, deletecollection) "
            "and not ka.target.subresource exists and ka.response.code startswith 2)",
        },
        {
            "macro": "iamscope_by_platform",
            "condition": by_platform,
        },
        {
            "macro": "iamscope_by_cluster_controller",
            "condition": f"(ka.user.name in ({CONTROLLERS}))",
        },
        {
            "rule": "SecretProviderClass changed outside the platform",
            "desc": "A SecretProviderClass was created, changed or deleted by a user who is neither a "
            "platform principal nor in a platform group: it decides which external secrets a namespace's "
            "pods mount.",
            "condition": "iamscope_completed_change and ka.target.resource=secretproviderclasses "
            "and not iamscope_by_platform and not iamscope_by_cluster_controller",
            "output": "SecretProviderClass %ka.verb by unexpected principal (user=%ka.user.name "
            "groups=%ka.user.groups spc=%ka.target.namespace/%ka.target.name resp=%ka.response.code"
            f"{cluster})",
            "priority": "WARNING",
            "source": "k8s_audit",
            "tags": ["k8s", "secrets-store-csi-driver", "iamscope"],
        },
        {
            "rule": "Secrets Store admission policy changed outside the platform",
            "desc": f"The Kyverno ClusterPolicy {POLICY_NAME}, which guards SecretProviderClasses, was "
            "changed or deleted by a user who is neither a platform principal nor in a platform group.",
            # a deletecollection names no object: it may take the policy with it
            "condition": "iamscope_completed_change and ka.target.resource=clusterpolicies "
            f"and (ka.target.name={POLICY_NAME} or ka.verb=deletecollection) and not iamscope_by_platform "
            "and not iamscope_by_cluster_controller",
            "output": "Kyverno policy %ka.target.name %ka.verb by unexpected principal (user=%ka.user.name "
            f"groups=%ka.user.groups resp=%ka.response.code{cluster})",
            "priority": "CRITICAL",
            "source": "k8s_audit",
            "tags": ["k8s", "secrets-store-csi-driver", "iamscope"],
        },
    ]
