"""The six threats of DESIGN.md §1, one table row each: a small cluster that embodies the threat, and
its hardened twin (the same cluster with the guide's remedy applied). The threat must yield exactly
the findings of the driver and IAM rules that stand for it, as (rule, subject, severity); the twin
none of those rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from iamscope.config import Config
from iamscope.scan import ScanResult
from tests.scan.builder import ACCOUNT, READ, REGION, State, allow, objects, run, secret_arn

DRIVER_IMAGE = "registry.k8s.io/csi-secrets-store/driver:v1.4.7"
PROVIDER_IMAGE = "public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:3.1.1"
DRIVER = "csi-secrets-store"
PROVIDER = "csi-secrets-store-provider-aws"
HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
WORKERS = {"eks.amazonaws.com/nodegroup": "workers"}
RBAC = "rbac.authorization.k8s.io"
DEVS = {"kind": "Group", "name": "devs", "apiGroup": RBAC}
PLATFORM = {"kind": "Group", "name": "platform", "apiGroup": RBAC}
SPC_VERBS = {"apiGroups": ["secrets-store.csi.x-k8s.io"], "resources": ["secretproviderclasses"]}
WRITE_SPC = {**SPC_VERBS, "verbs": ["create", "update", "patch"]}
READ_SPC = {**SPC_VERBS, "verbs": ["get", "list", "watch"]}
APPLY_WORKLOADS = {
    "apiGroups": ["apps"],
    "resources": ["deployments"],
    "verbs": ["create", "update", "patch"],
}
APPLY_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "update", "patch", "delete"]}
READ_SECRETS = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}
MINT_TOKENS = {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}

# the fixture's scan result when building the hardened twin, None when building the threat itself
Twin = ScanResult | None
Triple = tuple[str, str, str]


# --- raw Kubernetes objects ---------------------------------------------------------------------------


def rbac_role(
    state: State, kind: str, name: str, rules: Sequence[dict[str, Any]], namespace: str = ""
) -> None:
    metadata: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    state.k8s.append({"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": metadata, "rules": list(rules)})


def bind(
    state: State, kind: str, name: str, role: tuple[str, str], subject: dict[str, Any], namespace: str = ""
) -> None:
    metadata: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    state.k8s.append(
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": kind,
            "metadata": metadata,
            "roleRef": {"apiGroup": RBAC, "kind": role[0], "name": role[1]},
            "subjects": [subject],
        }
    )


def daemonset(state: State, name: str, image: str, args: Sequence[str] = (), **pod: Any) -> str:
    """A driver or provider DaemonSet in kube-system running as the service account of its name."""
    labels = {"app": name}
    container: dict[str, Any] = {"name": "main", "image": image, "args": list(args)}
    if image == PROVIDER_IMAGE:
        container["securityContext"] = HARDENED
    state.service_account("kube-system", name)
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


def node(state: State, name: str, labels: dict[str, str], control_plane: bool = False) -> None:
    spec = {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}
    state.k8s.append(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            **({"spec": spec} if control_plane else {}),
        }
    )


def sync_to(state: State, spc: str, secret_name: str, object_name: str) -> None:
    """Make the SPC `spc` (<namespace>/<name>) sync `object_name` into the Kubernetes Secret `secret_name`."""
    namespace, name = spc.split("/")
    (obj,) = [
        o
        for o in state.k8s
        if o["kind"] == "SecretProviderClass" and o["metadata"] == {"name": name, "namespace": namespace}
    ]
    obj["spec"]["secretObjects"] = [
        {
            "secretName": secret_name,
            "type": "Opaque",
            "data": [{"objectName": object_name, "key": "password"}],
        }
    ]


def app(state: State, namespace: str, name: str, secret: str, *extra: str) -> str:
    """A service account with its own IRSA role reading `secret` (and `extra`), an SPC declaring
    `secret` and a Deployment mounting it."""
    arns = [secret_arn(secret), *(secret_arn(e) for e in extra)]
    state.service_account(
        namespace, name, state.irsa_role(f"{namespace}-{name}", namespace, name, [allow(READ, arns)])
    )
    state.spc(namespace, name, objects(secret))
    return state.workload("Deployment", namespace, name, name, name)


def production(state: State) -> None:
    """prod/api mounts its own prod/db: the secret the other namespaces are after."""
    state.secret("prod/db")
    app(state, "prod", "api", "prod/db")


# --- the six threats ----------------------------------------------------------------------------------


def spc_writers(state: State, twin: Twin) -> Config:
    """§1 threat 1: `devs` may create SPCs and Deployments in dev, and dev/reporting's role also reads
    prod/db, so an SPC there naming prod/db mounts it. Remedy: SPC writes only by the platform group,
    one role per workload reading its own secrets."""
    production(state)
    state.secret("dev/report")
    app(state, "dev", "reporting", "dev/report", *(() if twin is not None else ("prod/db",)))
    rbac_role(
        state,
        "Role",
        "developer",
        [READ_SPC, APPLY_WORKLOADS, *(() if twin is not None else (WRITE_SPC,))],
        "dev",
    )
    bind(state, "RoleBinding", "developers", ("Role", "developer"), DEVS, "dev")
    rbac_role(state, "ClusterRole", "spc-admin", [WRITE_SPC])
    bind(state, "ClusterRoleBinding", "platform-spc-admin", ("ClusterRole", "spc-admin"), PLATFORM)
    return Config(region=REGION, platform_groups=("platform",))


def provider_tokens(state: State, twin: Twin) -> Config:
    """§1 threat 2: the provider's service account can create serviceaccounts/token cluster-wide, so a
    compromised provider pod mints every service account's token and assumes its role. Remedy: no
    token verbs (the driver hands pods' tokens to the provider)."""
    production(state)
    daemonset(state, PROVIDER, PROVIDER_IMAGE)
    rules = [{"apiGroups": [""], "resources": ["serviceaccounts", "pods", "nodes"], "verbs": ["get"]}]
    rbac_role(
        state, "ClusterRole", f"{PROVIDER}-cluster-role", rules + ([] if twin is not None else [MINT_TOKENS])
    )
    subject = {"kind": "ServiceAccount", "name": PROVIDER, "namespace": "kube-system"}
    bind(
        state,
        "ClusterRoleBinding",
        f"{PROVIDER}-cluster-rolebinding",
        ("ClusterRole", f"{PROVIDER}-cluster-role"),
        subject,
    )
    return Config(region=REGION)


def sync_to_secret(state: State, twin: Twin) -> Config:
    """§1 threat 3: legacy/db syncs legacy/db into the Secret db-env in legacy, an unapproved
    namespace where `devs` may get secrets, and the driver's Secret-writing ClusterRole is installed.
    Remedy: mount the files, no secretObjects, and the sync controller disabled."""
    state.secret("legacy/db")
    app(state, "legacy", "db", "legacy/db")
    if twin is None:
        sync_to(state, "legacy/db", "db-env", "legacy/db")
        rbac_role(
            state,
            "ClusterRole",
            "secretprovidersyncing-role",
            [{**READ_SECRETS, "verbs": ["create", "delete", "update"]}],
        )
    rbac_role(state, "Role", "support", [READ_SECRETS], "legacy")
    bind(state, "RoleBinding", "support", ("Role", "support"), DEVS, "legacy")
    return Config(region=REGION)


def inline_objects(state: State, twin: Twin) -> Config:
    """§1 threat 4: `devs` may apply pods in the shared namespace, whose CI role still reads prod/db;
    a test pod names prod/db inline in its CSI volumeAttributes. Remedy: objects only in the SPC."""
    production(state)
    state.secret("shared/test-db")
    app(state, "shared", "ci", "shared/test-db", "prod/db")
    rbac_role(state, "Role", "apply", [APPLY_PODS, APPLY_WORKLOADS, READ_SPC], "shared")
    bind(state, "RoleBinding", "apply", ("Role", "apply"), DEVS, "shared")
    inline = {} if twin is not None else {"objects": "- objectName: prod/db\n  objectType: secretsmanager\n"}
    state.workload("Pod", "shared", "smoke-test", "ci", "ci", volume_attributes=inline)
    return Config(region=REGION)


def fitting_interval(twin: ScanResult) -> str:
    """The interval the fixture's rotation-rate-limit finding says would fit."""
    (finding,) = [f for f in twin.findings if f.rule == "rotation-rate-limit"]
    match = re.search(r"an interval of at least (\d+)s would fit", finding.message)
    assert match, finding.message
    return f"{match[1]}s"


def rotation_load(state: State, twin: Twin) -> Config:
    """§1 threat 5: rotation polls every 10s, and 2,000 replicas mount 11 SSM parameters each (two
    GetParameters a poll): 400/s against SSM's 40 TPS. Remedy: the interval the finding recommends."""
    interval = fitting_interval(twin) if twin is not None else "10s"
    daemonset(
        state, DRIVER, DRIVER_IMAGE, ["--enable-secret-rotation=true", f"--rotation-poll-interval={interval}"]
    )
    names = [f"/prod/feed/p{i}" for i in range(11)]
    arns = [state.parameter(n) for n in names]
    state.service_account(
        "prod", "feed", state.irsa_role("prod-feed", "prod", "feed", [allow("ssm:GetParameters", arns)])
    )
    state.spc("prod", "feed", objects(*names, type="ssmparameter"))
    state.workload("Deployment", "prod", "feed", "feed", "feed")
    state.k8s[-1]["spec"]["replicas"] = 2000
    return Config(region=REGION)


def control_plane(state: State, twin: Twin) -> Config:
    """§1 threat 6: the chart's default toleration (operator: Exists) on the driver and the provider
    DaemonSets, in a cluster with a control-plane node. Remedy: a worker nodeSelector."""
    node(state, "cp-1", {"node-role.kubernetes.io/control-plane": ""}, control_plane=True)
    node(state, "worker-1", dict(WORKERS))
    pod: dict[str, Any] = {"tolerations": [{"operator": "Exists"}]}
    if twin is not None:
        pod["nodeSelector"] = dict(WORKERS)
    daemonset(state, DRIVER, DRIVER_IMAGE, **pod)
    daemonset(state, PROVIDER, PROVIDER_IMAGE, **pod)
    return Config(region=REGION)


@dataclass(frozen=True, slots=True)
class Threat:
    build: Callable[[State, Twin], Config]
    rules: tuple[str, ...]  # the rules that stand for the threat
    expected: frozenset[Triple]  # what the threat yields of them


THREATS = [
    pytest.param(
        Threat(
            spc_writers,
            ("spc-write-access", "cross-workload-grant"),
            frozenset(
                {
                    ("spc-write-access", "Group/devs", "high"),
                    ("cross-workload-grant", "dev/Deployment/reporting", "critical"),
                }
            ),
        ),
        id="threat 1: a namespace-scoped account creates an SPC naming another workload's secret",
    ),
    pytest.param(
        Threat(
            provider_tokens,
            ("provider-token-rbac",),
            frozenset({("provider-token-rbac", f"kube-system/ServiceAccount/{PROVIDER}", "critical")}),
        ),
        id="threat 2: a compromised provider pod uses the identities it can reach",
    ),
    pytest.param(
        Threat(
            sync_to_secret,
            ("sync-to-secret", "synced-secret-readers", "driver-sync-enabled"),
            frozenset(
                {
                    ("sync-to-secret", "legacy/SecretProviderClass/db", "high"),
                    ("synced-secret-readers", "Group/devs", "high"),
                    ("driver-sync-enabled", "ClusterRole/secretprovidersyncing-role", "medium"),
                }
            ),
        ),
        id="threat 3: secretObjects copies an external secret into etcd where get secrets reads it",
    ),
    pytest.param(
        Threat(
            inline_objects,
            ("pod-inline-objects",),
            frozenset({("pod-inline-objects", "shared/Pod/smoke-test", "high")}),
        ),
        id="threat 4: apply rights in a shared namespace mount production credentials into a test pod",
    ),
    pytest.param(
        Threat(
            rotation_load,
            ("rotation-rate-limit",),
            frozenset({("rotation-rate-limit", f"ssm:{REGION}:{ACCOUNT}", "high")}),
        ),
        id="threat 5: rotation polling under high pod density is throttled by AWS quotas",
    ),
    pytest.param(
        Threat(
            control_plane,
            ("provider-on-control-plane",),
            frozenset(
                {
                    ("provider-on-control-plane", f"kube-system/DaemonSet/{DRIVER}", "high"),
                    ("provider-on-control-plane", f"kube-system/DaemonSet/{PROVIDER}", "high"),
                }
            ),
        ),
        id="threat 6: provider/driver DaemonSets scheduled onto control-plane nodes",
    ),
]


def relevant(result: ScanResult, rules: tuple[str, ...]) -> set[Triple]:
    return {(f.rule, f.subject, f.severity) for f in result.findings if f.rule in rules}


@pytest.mark.parametrize("threat", THREATS)
def test_threat_is_found_and_its_hardened_twin_is_clean(tmp_path: Path, threat: Threat) -> None:
    assert {rule for rule, _, _ in threat.expected} == set(threat.rules)
    state = State(tmp_path / "threat")
    found = run(state, threat.build(state, None))
    assert relevant(found, threat.rules) == threat.expected
    hardened = State(tmp_path / "hardened")
    assert relevant(run(hardened, threat.build(hardened, found)), threat.rules) == set()
