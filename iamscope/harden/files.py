"""Every file `harden` writes, by its path under `--out`, rendered in memory first and then written
all-or-nothing (no consumer ever reads half a file); byte-identical on re-run. YAML carries a header
saying what it is for, how to apply it, and what in the cluster decided it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from iamscope.errors import UsageError
from iamscope.harden.falco import falco_rules
from iamscope.harden.helm import driver_values, provider_values
from iamscope.harden.kyverno import POLICY_NAME, cluster_policy
from iamscope.harden.plan import HardenPlan, go_duration
from iamscope.output import write_tree

KYVERNO = "kyverno/secrets-store-hardening.yaml"
DRIVER_VALUES = "helm/secrets-store-csi-driver.values.yaml"
PROVIDER_VALUES = "helm/secrets-store-csi-driver-provider-aws.values.yaml"
FALCO = "falco/secrets-store-rules.yaml"


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key (as kubectl and Helm print them)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _yaml(value: Any) -> str:
    return yaml.dump(
        value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100, allow_unicode=True
    )


def _comment(lines: list[str]) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def _decisions(plan: HardenPlan) -> list[str]:
    sync = (
        "on: needed by " + ", ".join(plan.sync_needed_by)
        if plan.sync_needed_by
        else "off: no SecretProviderClass in an approved namespace uses secretObjects"
    )
    selector = ", ".join(f"{k}={v}" for k, v in plan.worker_selector) or "none (affinity alone)"
    if plan.rotation_enabled is None:
        rotation = [
            "  rotation: unknown (no driver DaemonSet in the input): enableSecretRotation is left out, so",
            "    --reuse-values keeps the cluster's setting (a fresh install gets the chart's default, off);",
            f"    poll interval {go_duration(plan.rotation_interval)}: {plan.rotation_reason}",
        ]
    else:
        state = "on" if plan.rotation_enabled else "off (as installed; the interval applies when turned on)"
        rotation = [
            f"  rotation: {state}; poll interval {go_duration(plan.rotation_interval)}:",
            f"    {plan.rotation_reason}",
        ]
    placement = [
        f"  worker nodeSelector: {selector}",
        f"  worker taints tolerated: {_taints(plan)}",
    ]
    if plan.control_plane_only:
        placement = [
            "  placement: every node in the input is a control-plane node, so worker-only placement is",
            "    impossible: the DaemonSets may run on control-plane nodes (add worker nodes, then re-run)",
            f"  taints tolerated: {_taints(plan)}",
        ]
    return [f"  syncSecret: {sync}", *rotation, *placement]


def _taints(plan: HardenPlan) -> str:
    """The tolerated taints as `kubectl taint` writes them (key[=value]:effect), each once."""
    texts = [
        f"{t.key}{'=' + t.value if t.value is not None else ''}:{t.effect}" for t in plan.worker_tolerations
    ]
    return ", ".join(dict.fromkeys(texts)) or "none"


def _kyverno_header(plan: HardenPlan) -> list[str]:
    lines = [
        "Written by `iamscope harden`: the admission policy that enforces who steers the Secrets Store",
        "CSI Driver. Needs Kyverno 1.13 or later (failureAction, allowExistingViolations). Apply with",
        f"  kubectl apply -f {KYVERNO.rsplit('/', 1)[-1]}",
        "Kyverno's default resourceFilters skip kube-system (and its own namespace): SPCs and pods there are",
        "not checked unless that filter is removed.",
        f"Rules (failureAction {plan.failure_action}):",
        "  spc-writers-are-platform: SPC create/update only by "
        + (", ".join([*plan.principals, *(f"group {g}" for g in plan.groups)]) or "no one"),
        "  secret-objects-in-approved-namespaces: secretObjects only in "
        + (", ".join(plan.approved_namespaces) or "no namespace"),
        "  no-inline-secrets-store-attributes: no pod volume sets objects, region, failoverRegion or",
        "    usePodIdentity in volumeAttributes",
        "The SPC rules check a CREATE, and an UPDATE that changes spec (an SPC that already violates",
        "included); an UPDATE of metadata only (finalizers, labels, annotations) passes, so the garbage",
        "collector can finish a foreground deletion. The pod rule checks pod CREATE only (a pod's volumes",
        "cannot change), and Kyverno extends it to the creation of Deployments, StatefulSets, DaemonSets,",
        "Jobs, CronJobs and ReplicaSets: a controller updated to a template that sets these attributes is",
        "admitted, and what it creates next (a Deployment's new ReplicaSet, a StatefulSet's or DaemonSet's",
        "pods, a CronJob's Job) is refused, so its rollout stalls.",
    ]
    if plan.violations:
        lines.append("What this policy refuses from now on (objects of the input on their next write, and")
        lines.append("subjects whose RBAC lets them write SecretProviderClasses):")
        lines += [f"  {v.rule}: {v.subject}: {v.reason}" for v in plan.violations]
    return lines


def harden_files(plan: HardenPlan) -> dict[str, str]:
    cluster = f" for cluster {plan.cluster}" if plan.cluster else ""
    files = {
        KYVERNO: _comment(_kyverno_header(plan)) + _yaml(cluster_policy(plan)),
        DRIVER_VALUES: _comment(
            [
                f"Written by `iamscope harden`{cluster}: hardened values for the",
                "secrets-store-csi-driver chart (kubernetes-sigs). Apply with",
                "  helm upgrade csi-secrets-store secrets-store-csi-driver/secrets-store-csi-driver \\",
                "    -n kube-system --reuse-values -f secrets-store-csi-driver.values.yaml",
                "Decided from the cluster:",
                *_decisions(plan),
            ]
        )
        + _yaml(driver_values(plan)),
        PROVIDER_VALUES: _comment(
            [
                f"Written by `iamscope harden`{cluster}: hardened values for the",
                "secrets-store-csi-driver-provider-aws chart (aws). The secrets-store-csi-driver block",
                "applies when this chart installs the driver (secrets-store-csi-driver.install, true by",
                "default).",
                "Apply with",
                "  helm upgrade secrets-provider-aws \\",
                "    aws-secrets-manager/secrets-store-csi-driver-provider-aws \\",
                "    -n kube-system --reuse-values -f secrets-store-csi-driver-provider-aws.values.yaml",
                "Decided from the cluster:",
                *_decisions(plan),
            ]
        )
        + _yaml(provider_values(plan)),
        FALCO: _comment(
            [
                f"Written by `iamscope harden`{cluster}: Falco rules for the Kubernetes audit log (k8saudit,",
                "or k8saudit-eks on EKS). Load with falco -r secrets-store-rules.yaml, or add it to the",
                f"chart's customRules. They alert on SecretProviderClass and {POLICY_NAME} changes",
                "by anyone outside platform.principals and platform.groups. Writes to a subresource (Kyverno",
                "updating the policy's status) and the cleanup of the garbage collector and the namespace",
                "controller (finalizers, cascading and namespace deletes) do not alert.",
            ]
        )
        + _yaml(falco_rules(plan)),
    }
    return dict(sorted(files.items()))


def write_harden(out: Path, files: Mapping[str, str]) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    write_tree(out, files)
