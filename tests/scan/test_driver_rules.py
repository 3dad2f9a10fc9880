"""The CSI driver hardening rules of this slice, table-driven, each case citing the driver or chart
behaviour it relies on: sync-to-secret, pod-inline-objects, provider-on-control-plane,
provider-security-context, driver-sync-enabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iamscope.config import Config
from tests.scan.builder import REGION, State, objects, only, run

PROVIDER_IMAGE = "public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:3.1.1"
DRIVER_IMAGE = "registry.k8s.io/csi-secrets-store/driver:v1.4.7"
HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def spc_syncing(state: State, namespace: str, secret: str = "db-creds") -> None:
    state.k8s.append(
        {
            "apiVersion": "secrets-store.csi.x-k8s.io/v1",
            "kind": "SecretProviderClass",
            "metadata": {"name": "db", "namespace": namespace},
            "spec": {
                "provider": "aws",
                "parameters": {
                    "objects": "- objectName: prod/db\n  objectType: secretsmanager\n",
                    "region": REGION,
                },
                "secretObjects": [
                    {"secretName": secret, "type": "Opaque", "data": [{"objectName": "prod/db", "key": "p"}]}
                ],
            },
        }
    )


def daemonset(state: State, name: str, image: str, **pod: Any) -> str:
    labels = {"app": name}
    container: dict[str, Any] = {"name": "main", "image": image}
    if "securityContext" in pod:
        container["securityContext"] = pod.pop("securityContext")
    state.k8s.append(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"serviceAccountName": name, "containers": [container], **pod},
                },
            },
        }
    )
    return f"kube-system/DaemonSet/{name}"


# --- sync-to-secret -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approved", "expected"),
    [
        ((), {("sync-to-secret", "prod/SecretProviderClass/db", "high")}),
        (("prod",), set()),
    ],
    ids=["unapproved namespace: etcd holds a copy every Secret reader gets", "approved namespace"],
)
def test_sync_to_secret_outside_approved_namespaces(
    tmp_path: Path, approved: tuple[str, ...], expected: set[tuple[str, str, str]]
) -> None:
    state = State(tmp_path)
    spc_syncing(state, "prod")
    result = run(state, Config(approved_namespaces=approved, region=REGION))
    assert {
        (f.rule, f.subject, f.severity) for f in result.findings if f.rule == "sync-to-secret"
    } == expected


def test_sync_to_secret_says_whether_the_secret_exists_and_carries_the_managed_label(tmp_path: Path) -> None:
    """The driver labels the Secrets it creates secrets-store.csi.k8s.io/managed=true."""
    state = State(tmp_path)
    spc_syncing(state, "prod")
    state.k8s.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db-creds", "namespace": "prod"},
            "type": "Opaque",
        }
    )
    finding = only(run(state, Config(region=REGION)), "sync-to-secret")
    assert finding.message == (
        "syncs into Kubernetes Secrets in prod, which is not an approved namespace: db-creds (exists, not labelled "
        "secrets-store.csi.k8s.io/managed=true)"
    )
    assert [str(e) for e in finding.evidence] == [
        "prod/SecretProviderClass/db -[syncs-to]-> prod/Secret/db-creds"
    ]


# --- pod-inline-objects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "severity", "message"),
    [
        (
            {"objects": "- objectName: prod/other\n  objectType: secretsmanager\n"},
            "high",
            "volume secrets sets objects in volumeAttributes, over prod/SecretProviderClass/api",
        ),
        (
            {"region": "us-east-1", "usePodIdentity": "true"},
            "medium",
            "volume secrets sets region, usePodIdentity in volumeAttributes, over prod/SecretProviderClass/api",
        ),
    ],
    ids=["objects: any secret the role can read", "region and identity switched"],
)
def test_pod_inline_attributes_override_the_spc(
    tmp_path: Path, attributes: dict[str, str], severity: str, message: str
) -> None:
    """The driver copies volumeAttributes over the SPC's parameters (DESIGN.md §4)."""
    state = State(tmp_path)
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api", volume_attributes=attributes)
    finding = only(run(state, Config(region=REGION)), "pod-inline-objects")
    assert (finding.subject, finding.severity, finding.message) == ("prod/Deployment/api", severity, message)


def test_a_pod_that_only_names_its_spc_is_not_reported(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    assert [f for f in run(state, Config(region=REGION)).findings if f.rule == "pod-inline-objects"] == []


# --- provider-on-control-plane --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod", "control_plane_node", "expected"),
    [
        ({"tolerations": [{"operator": "Exists"}]}, False, "medium"),
        ({"tolerations": [{"operator": "Exists"}]}, True, "high"),
        (
            {
                "tolerations": [
                    {
                        "key": "node-role.kubernetes.io/control-plane",
                        "operator": "Exists",
                        "effect": "NoSchedule",
                    }
                ]
            },
            False,
            "medium",
        ),
        (
            {
                "tolerations": [{"operator": "Exists"}],
                "nodeSelector": {"eks.amazonaws.com/nodegroup": "workers"},
            },
            True,
            None,
        ),
        (
            {
                "tolerations": [{"operator": "Exists"}],
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": "node-role.kubernetes.io/control-plane",
                                            "operator": "DoesNotExist",
                                        }
                                    ]
                                }
                            ]
                        }
                    }
                },
            },
            True,
            None,
        ),
        (
            {"tolerations": [{"operator": "Exists"}], "nodeSelector": {"kubernetes.io/os": "linux"}},
            False,
            "medium",
        ),
        ({}, True, None),
    ],
    ids=[
        "chart default toleration (Exists): medium without control-plane nodes",
        "...high when the cluster has control-plane nodes (a DaemonSet runs on every node it tolerates)",
        "a control-plane toleration",
        "worker nodeSelector keeps it off",
        "affinity control-plane DoesNotExist keeps it off",
        "kubernetes.io/os is no worker selector",
        "no toleration: the NoSchedule taint keeps it off",
    ],
)
def test_provider_on_control_plane(
    tmp_path: Path, pod: dict[str, Any], control_plane_node: bool, expected: str | None
) -> None:
    state = State(tmp_path)
    subject = daemonset(
        state, "csi-secrets-store-provider-aws", PROVIDER_IMAGE, securityContext=HARDENED, **pod
    )
    if control_plane_node:
        state.k8s.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "cp-1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
                "spec": {
                    "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
                },
            }
        )
    found = [
        (f.subject, f.severity)
        for f in run(state, Config(region=REGION)).findings
        if f.rule == "provider-on-control-plane"
    ]
    assert found == ([(subject, expected)] if expected else [])


def test_the_driver_is_recognised_by_its_image(tmp_path: Path) -> None:
    state = State(tmp_path)
    subject = daemonset(state, "csi-driver-renamed", DRIVER_IMAGE, tolerations=[{"operator": "Exists"}])
    finding = only(run(state, Config(region=REGION)), "provider-on-control-plane")
    assert (finding.subject, finding.message.split(" tolerates")[0]) == (subject, "the driver DaemonSet")


# --- provider-security-context ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (HARDENED, None),
        (
            {"allowPrivilegeEscalation": False},
            "container main lacks readOnlyRootFilesystem: true, capabilities.drop: [ALL]",
        ),
        (
            {},
            "container main lacks allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities.drop: [ALL]",
        ),
        ({**HARDENED, "privileged": True}, "container main lacks privileged: false"),
    ],
    ids=["hardened", "the chart's provider defaults", "nothing set", "privileged"],
)
def test_provider_security_context(tmp_path: Path, context: dict[str, Any], message: str | None) -> None:
    state = State(tmp_path)
    daemonset(state, "csi-secrets-store-provider-aws", PROVIDER_IMAGE, securityContext=context)
    found = [
        f.message for f in run(state, Config(region=REGION)).findings if f.rule == "provider-security-context"
    ]
    assert found == ([message] if message else [])


def test_the_driver_container_may_stay_privileged(tmp_path: Path) -> None:
    """The driver mounts into pods' volumes: it must be privileged; the rule is about providers."""
    state = State(tmp_path)
    daemonset(state, "secrets-store-csi-driver", DRIVER_IMAGE, securityContext={"privileged": True})
    assert [
        f for f in run(state, Config(region=REGION)).findings if f.rule == "provider-security-context"
    ] == []


# --- driver-sync-enabled ------------------------------------------------------------------------------


def sync_role(state: State) -> None:
    state.k8s.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "secretprovidersyncing-role"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "delete", "update"]}],
        }
    )


@pytest.mark.parametrize(
    ("approved", "expected"),
    [((), True), (("prod",), False)],
    ids=["nothing approved syncs: the ClusterRole only widens the driver", "an approved SPC needs it"],
)
def test_driver_sync_enabled(tmp_path: Path, approved: tuple[str, ...], expected: bool) -> None:
    state = State(tmp_path)
    sync_role(state)
    spc_syncing(state, "prod")
    found = [
        f
        for f in run(state, Config(approved_namespaces=approved, region=REGION)).findings
        if f.rule == "driver-sync-enabled"
    ]
    assert [(f.subject, f.message) for f in found] == (
        [
            (
                "ClusterRole/secretprovidersyncing-role",
                "grants create, delete, update on secrets cluster-wide, and no SPC in an approved namespace syncs to a Secret",
            )
        ]
        if expected
        else []
    )
