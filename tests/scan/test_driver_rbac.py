"""The RBAC-based driver rules, each case citing the Kubernetes RBAC behaviour it relies on
(RoleBinding scope, ClusterRoleBinding reach, aggregated ClusterRoles, built-in roles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iamscope.config import Config
from tests.scan.builder import ACCOUNT, READ, REGION, State, allow, deny, objects, run, secret_arn

PROVIDER_IMAGE = "public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:3.1.1"


def role(
    state: State, kind: str, name: str, rules: list[dict[str, Any]], namespace: str | None = None, **meta: Any
) -> None:
    metadata: dict[str, Any] = {"name": name, **meta}
    if namespace:
        metadata["namespace"] = namespace
    state.k8s.append(
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata, "rules": rules}
    )


def bind(
    state: State,
    kind: str,
    name: str,
    role_kind: str,
    role_name: str,
    subject: dict[str, Any],
    namespace: str | None = None,
) -> None:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    state.k8s.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": kind,
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": [subject],
        }
    )


GROUP = {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}
READ_SECRETS = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]


def syncing(state: State) -> None:
    state.k8s.append(
        {
            "apiVersion": "secrets-store.csi.x-k8s.io/v1",
            "kind": "SecretProviderClass",
            "metadata": {"name": "db", "namespace": "legacy"},
            "spec": {
                "provider": "aws",
                "parameters": {
                    "objects": "- objectName: prod/db\n  objectType: secretsmanager\n",
                    "region": REGION,
                },
                "secretObjects": [
                    {
                        "secretName": "db-env",
                        "type": "Opaque",
                        "data": [{"objectName": "prod/db", "key": "p"}],
                    }
                ],
            },
        }
    )


def found(state: State, rule: str, config: Config | None = None) -> list[tuple[str, str]]:
    result = run(state, config or Config(region=REGION))
    return [(f.subject, f.severity) for f in result.findings if f.rule == rule]


# --- synced-secret-readers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (
            lambda s: (
                role(s, "Role", "r", READ_SECRETS, "legacy"),
                bind(s, "RoleBinding", "b", "Role", "r", GROUP, "legacy"),
            ),
            [("Group/devs", "high")],
        ),
        (
            lambda s: (
                role(s, "Role", "r", READ_SECRETS, "other"),
                bind(s, "RoleBinding", "b", "Role", "r", GROUP, "other"),
            ),
            [],
        ),
        (
            lambda s: bind(s, "ClusterRoleBinding", "b", "ClusterRole", "cluster-admin", GROUP),
            [("Group/devs", "high")],
        ),
        (lambda s: bind(s, "ClusterRoleBinding", "b", "ClusterRole", "view", GROUP), []),
        (
            lambda s: (
                role(
                    s,
                    "ClusterRole",
                    "secret-reader",
                    READ_SECRETS,
                    labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"},
                ),
                bind(s, "RoleBinding", "b", "ClusterRole", "view", GROUP, "legacy"),
            ),
            [("Group/devs", "high")],
        ),
    ],
    ids=[
        "a RoleBinding in the sync namespace",
        "a RoleBinding elsewhere does not reach it",
        "cluster-admin through a ClusterRoleBinding",
        "view reads no secrets",
        "a role aggregated into view that reads secrets",
    ],
)
def test_synced_secret_readers(tmp_path: Path, setup: Any, expected: list[tuple[str, str]]) -> None:
    state = State(tmp_path)
    syncing(state)
    setup(state)
    assert (
        found(state, "synced-secret-readers", Config(region=REGION, approved_namespaces=("legacy",)))
        == expected
    )


def test_the_platform_group_reading_synced_secrets_is_low(tmp_path: Path) -> None:
    state = State(tmp_path)
    syncing(state)
    bind(state, "ClusterRoleBinding", "b", "ClusterRole", "cluster-admin", GROUP)
    config = Config(region=REGION, approved_namespaces=("legacy",), platform_groups=("devs",))
    assert found(state, "synced-secret-readers", config) == [("Group/devs", "low")]


# --- spc-write-access ---------------------------------------------------------------------------------

WRITE_SPC = {
    "apiGroups": ["secrets-store.csi.x-k8s.io"],
    "resources": ["secretproviderclasses"],
    "verbs": ["create", "update"],
}
RUN_DEPLOYMENTS = {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}


def team(state: State) -> tuple[str, str]:
    """prod/api mounts prod/db; prod/idle mounts nothing but its role reads prod/idle-secret."""
    db, idle = state.secret("prod/db"), state.secret("prod/idle-secret")
    state.service_account("prod", "api", state.irsa_role("api", "prod", "api", [allow(READ, db)]))
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    state.service_account("prod", "idle", state.irsa_role("idle", "prod", "idle", [allow(READ, idle)]))
    return db, idle


@pytest.mark.parametrize(
    ("rules", "reach"),
    [
        ([WRITE_SPC], ["prod/db"]),
        ([WRITE_SPC, RUN_DEPLOYMENTS], ["prod/db", "prod/idle-secret"]),
    ],
    ids=[
        "SPC writes steer the pods that mount SPCs",
        "with Deployments too: any service account of the namespace",
    ],
)
def test_spc_write_access_reach(tmp_path: Path, rules: list[dict[str, Any]], reach: list[str]) -> None:
    state = State(tmp_path)
    team(state)
    role(state, "Role", "dev", rules, "prod")
    bind(state, "RoleBinding", "devs", "Role", "dev", GROUP, "prod")
    result = run(state, Config(region=REGION))
    (finding,) = [f for f in result.findings if f.rule == "spc-write-access"]
    assert (finding.subject, finding.severity) == ("Group/devs", "high")
    assert list(finding.resources) == sorted(secret_arn(n) for n in reach)


@pytest.mark.parametrize(
    ("idle_denied", "reach"),
    [
        (False, ["prod/db", "prod/idle-secret", "prod/other"]),
        (True, ["prod/db", "prod/idle-secret", "prod/other"]),
    ],
    ids=[
        "a role reading `*` holds every other role's reach: its list is the namespace's",
        "a role reading `*` but one secret: the other role that reads it adds it",
    ],
)
def test_spc_write_access_reach_with_a_role_reading_everything(
    tmp_path: Path, idle_denied: bool, reach: list[str]
) -> None:
    state = State(tmp_path)
    _, idle = team(state)
    state.secret("prod/other")  # no role but legacy's reads it
    statements = [allow(READ, "*")] + ([deny(READ, idle)] if idle_denied else [])
    state.service_account("prod", "legacy", state.irsa_role("legacy", "prod", "legacy", statements))
    role(state, "Role", "dev", [WRITE_SPC, RUN_DEPLOYMENTS], "prod")
    bind(state, "RoleBinding", "devs", "Role", "dev", GROUP, "prod")
    result = run(state, Config(region=REGION))
    (finding,) = [f for f in result.findings if f.rule == "spc-write-access"]
    assert list(finding.resources) == sorted(secret_arn(n) for n in reach)
    assert finding.message.endswith(f"that reaches {len(reach)} secret(s)/parameter(s)")


def test_spc_write_access_reach_keeps_declared_patterns_apart(tmp_path: Path) -> None:
    # a mount declaring a secret the snapshot lacks needs `<name>-??????` (DESIGN.md §4), which a role
    # reading `*` covers: the finding names it in `patterns` (DESIGN.md §3: `resources` are concrete)
    # and counts it, and the ARN another role adds beyond the `*` role's Deny is put in its place
    state = State(tmp_path)
    _, idle = team(state)
    state.secret("prod/other")
    state.service_account("prod", "late", None)
    state.spc("prod", "late", objects("prod/late"))  # not in the snapshot
    state.workload("Deployment", "prod", "late", "late", "late")
    statements = [allow(READ, "*"), deny(READ, idle)]
    state.service_account("prod", "legacy", state.irsa_role("legacy", "prod", "legacy", statements))
    role(state, "Role", "dev", [WRITE_SPC, RUN_DEPLOYMENTS], "prod")
    bind(state, "RoleBinding", "devs", "Role", "dev", GROUP, "prod")
    result = run(state, Config(region=REGION))
    (finding,) = [f for f in result.findings if f.rule == "spc-write-access"]
    late = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/late-??????"
    assert list(finding.resources) == sorted(
        secret_arn(n) for n in ("prod/db", "prod/idle-secret", "prod/other")
    )
    assert list(finding.patterns) == [late]
    assert finding.message.endswith("that reaches 4 secret(s)/parameter(s)")


@pytest.mark.parametrize(
    ("pods_bound", "reach"),
    [
        (("RoleBinding", "staging"), ["prod/db"]),
        (("ClusterRoleBinding", None), ["prod/db", "prod/idle-secret"]),
    ],
    ids=[
        "creating Deployments in another namespace does not widen a prod SPC writer's reach",
        "creating Deployments cluster-wide does",
    ],
)
def test_spc_write_access_pod_rights_count_where_they_are_bound(
    tmp_path: Path, pods_bound: tuple[str, str | None], reach: list[str]
) -> None:
    state = State(tmp_path)
    team(state)
    role(state, "Role", "dev", [WRITE_SPC], "prod")
    bind(state, "RoleBinding", "devs", "Role", "dev", GROUP, "prod")
    role(state, "ClusterRole", "deployer", [RUN_DEPLOYMENTS])
    kind, namespace = pods_bound
    bind(state, kind, "deployers", "ClusterRole", "deployer", GROUP, namespace)
    result = run(state, Config(region=REGION))
    (finding,) = [f for f in result.findings if f.rule == "spc-write-access"]
    assert finding.subject == "Group/devs"
    assert list(finding.resources) == sorted(secret_arn(n) for n in reach)


@pytest.mark.parametrize(
    ("subject", "config"),
    [
        (
            {"kind": "Group", "name": "platform", "apiGroup": "rbac.authorization.k8s.io"},
            Config(region=REGION, platform_groups=("platform",)),
        ),
        (
            {"kind": "ServiceAccount", "name": "argocd-application-controller", "namespace": "argocd"},
            Config(
                region=REGION,
                platform_principals=("system:serviceaccount:argocd:argocd-application-controller",),
            ),
        ),
    ],
    ids=["a platform group", "a GitOps controller named as a platform principal"],
)
def test_platform_principals_may_write_spcs(tmp_path: Path, subject: dict[str, Any], config: Config) -> None:
    state = State(tmp_path)
    team(state)
    role(state, "ClusterRole", "spc-admin", [WRITE_SPC])
    bind(state, "ClusterRoleBinding", "platform", "ClusterRole", "spc-admin", subject)
    assert found(state, "spc-write-access", config) == []


# --- provider-token-rbac ------------------------------------------------------------------------------


def provider(state: State) -> None:
    labels = {"app": "csi-secrets-store-provider-aws"}
    state.k8s.append(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "provider", "namespace": "kube-system", "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "provider",
                        "containers": [{"name": "p", "image": PROVIDER_IMAGE}],
                    },
                },
            },
        }
    )


@pytest.mark.parametrize(
    ("verbs", "expected"),
    [(["create"], [("kube-system/ServiceAccount/provider", "critical")]), (["get"], [])],
    ids=["create serviceaccounts/token: every service account's role", "no create: no token"],
)
def test_provider_token_rbac(tmp_path: Path, verbs: list[str], expected: list[tuple[str, str]]) -> None:
    state = State(tmp_path)
    team(state)
    provider(state)
    role(
        state,
        "ClusterRole",
        "tokens",
        [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": verbs}],
    )
    bind(
        state,
        "ClusterRoleBinding",
        "provider-tokens",
        "ClusterRole",
        "tokens",
        {"kind": "ServiceAccount", "name": "provider", "namespace": "kube-system"},
    )
    assert found(state, "provider-token-rbac") == expected


def test_a_workload_elsewhere_reading_every_secret_is_a_reader(tmp_path: Path) -> None:
    """A ClusterRoleBinding reaches every namespace: a service account that mounts SPCs in another
    namespace is no consumer of legacy's synced Secret."""
    state = State(tmp_path)
    syncing(state)
    team(state)  # prod/api mounts an SPC in prod
    role(state, "ClusterRole", "reader", READ_SECRETS)
    bind(
        state,
        "ClusterRoleBinding",
        "b",
        "ClusterRole",
        "reader",
        {"kind": "ServiceAccount", "name": "api", "namespace": "prod"},
    )
    config = Config(region=REGION, approved_namespaces=("legacy",))
    assert found(state, "synced-secret-readers", config) == [("prod/ServiceAccount/api", "high")]
