"""`iamscope audit`: the inventory table of the demo state (fixtures/demo/EXPECTED.md §1 and §8), exact
rows in JSON and text, byte-identical re-runs, edge cases built with the scan test builder, and bad
input exiting 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from iamscope.audit import AuditReport, audit
from iamscope.config import Config
from iamscope.report.audit_json import audit_document
from iamscope.report.audit_text import render_text
from tests.conftest import REPO
from tests.scan.builder import State, objects, role_arn, run

DEMO = REPO / "fixtures" / "demo"
CONFIG = "fixtures/demo/iamscope.yaml"
HELM = "fixtures/demo/k8s/kube-system/secrets-provider-aws.helm.yaml"
DRIVER_ID = "kube-system/DaemonSet/secrets-store-csi-driver"
PROVIDER_NAME = "secrets-provider-aws-secrets-store-csi-driver-provider-aws"
PROVIDER_ID = f"kube-system/DaemonSet/{PROVIDER_NAME}"
MANAGED = "secrets-store.csi.k8s.io/managed"


def iamscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamscope", *args], capture_output=True, text=True, cwd=REPO, check=False
    )


@pytest.fixture(scope="module")
def demo_json() -> dict[str, Any]:
    result = iamscope("audit", "fixtures/demo", "--config", CONFIG, "--format", "json")
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="module")
def demo_text() -> str:
    result = iamscope("audit", "fixtures/demo", "--config", CONFIG)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- the demo state ----------------------------------------------------------------------------------


def test_demo_spc_rows(demo_json: dict[str, Any]) -> None:
    rows = {
        r["id"]: (r["provider"], r["syncs"], r["objects"], tuple(r["mounted_by"])) for r in demo_json["spcs"]
    }
    assert rows == {
        "analytics/SecretProviderClass/dashboards-secrets": (
            "aws",
            False,
            1,
            ("analytics/Deployment/dashboards",),
        ),
        "analytics/SecretProviderClass/reporting-secrets": (
            "aws",
            False,
            2,
            ("analytics/Deployment/reporting",),
        ),
        "batch/SecretProviderClass/backfill-secrets": ("aws", False, 1, ("batch/Job/backfill",)),
        "batch/SecretProviderClass/nightly-export-secrets": (
            "aws",
            False,
            1,
            ("batch/CronJob/nightly-export",),
        ),
        "batch/SecretProviderClass/scheduler-config": ("aws", False, 1, ("batch/Deployment/scheduler",)),
        "batch/SecretProviderClass/worker-secrets": ("aws", False, 1, ("batch/Deployment/worker",)),
        "checkout/SecretProviderClass/cart-cleanup-secrets": (
            "aws",
            False,
            1,
            ("checkout/CronJob/cart-cleanup",),
        ),
        "checkout/SecretProviderClass/checkout-web-secrets": (
            "aws",
            False,
            1,
            ("checkout/Deployment/checkout-web",),
        ),
        "checkout/SecretProviderClass/notifier-secrets": ("aws", False, 1, ("checkout/Deployment/notifier",)),
        "legacy/SecretProviderClass/erp-connector-secrets": (
            "aws",
            True,
            1,
            ("legacy/Deployment/erp-connector",),
        ),
        "payments/SecretProviderClass/ledger-secrets": ("aws", False, 1, ("payments/StatefulSet/ledger",)),
        "payments/SecretProviderClass/notifier-secrets": ("aws", False, 1, ("payments/Deployment/notifier",)),
        "payments/SecretProviderClass/payments-api-secrets": (
            "aws",
            False,
            2,
            ("payments/Deployment/payments-api",),
        ),
        "payments/SecretProviderClass/refunds-secrets": ("aws", False, 1, ("payments/Deployment/refunds",)),
        # the Vault SPC: mounted all the same, its objects counted as listed
        "tools/SecretProviderClass/vault-foo": ("vault", False, 2, ("tools/Pod/vault-debug",)),
    }
    assert [r["id"] for r in demo_json["spcs"]] == sorted(rows)
    assert all(not r["inline_overrides"] and not r["notes"] for r in demo_json["spcs"])
    assert demo_json["missing_spcs"] == []


def test_demo_syncing_spc_exact(demo_json: dict[str, Any]) -> None:
    (row,) = [r for r in demo_json["spcs"] if r["syncs"]]
    assert row == {
        "api_version": "secrets-store.csi.x-k8s.io/v1alpha1",
        "id": "legacy/SecretProviderClass/erp-connector-secrets",
        "inline_overrides": [],
        "location": {"file": "fixtures/demo/k8s/legacy.yaml", "line": 11},
        "mounted_by": ["legacy/Deployment/erp-connector"],
        "name": "erp-connector-secrets",
        "namespace": "legacy",
        "notes": [],
        "objects": 1,
        "provider": "aws",
        "synced_secrets": ["erp-connector-env"],
        "syncs": True,
    }


def test_demo_synced_secret_exact(demo_json: dict[str, Any]) -> None:
    assert demo_json["synced_secrets"] == [
        {
            "approved_namespace": True,
            "exists": False,
            "id": "legacy/Secret/erp-connector-env",
            "keys": ["ERP_PASSWORD", "ERP_USERNAME"],
            "labelled_managed": None,
            "name": "erp-connector-env",
            "namespace": "legacy",
            "notes": ["not in the input: the driver creates it when a pod first mounts the SPC"],
            "synced_by": ["legacy/SecretProviderClass/erp-connector-secrets"],
            "types": ["Opaque"],
        }
    ]


def test_demo_driver_and_provider_exact(demo_json: dict[str, Any]) -> None:
    assert demo_json["daemonsets"] == [
        {
            "id": DRIVER_ID,
            "images": [
                "registry.k8s.io/csi-secrets-store/driver:v1.6.0",
                "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.16.0",
                "registry.k8s.io/sig-storage/livenessprobe:v2.18.0",
            ],
            "kind": "driver",
            "location": {"file": HELM, "line": 285},
            "name": "secrets-store-csi-driver",
            "namespace": "kube-system",
            "node_selector": ["kubernetes.io/os=linux"],
            "pod_identity_role": None,
            "role_arn": None,
            "service_account": "kube-system/ServiceAccount/secrets-store-csi-driver",
            "tolerations": ["every taint"],
        },
        {
            "id": PROVIDER_ID,
            "images": ["public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:3.1.1"],
            "kind": "provider",
            "location": {"file": HELM, "line": 451},
            "name": PROVIDER_NAME,
            "namespace": "kube-system",
            "node_selector": ["kubernetes.io/os=linux"],
            "pod_identity_role": None,
            "role_arn": None,
            "service_account": f"kube-system/ServiceAccount/{PROVIDER_NAME}",
            "tolerations": ["every taint"],
        },
    ]


def test_demo_sync_role_and_summary(demo_json: dict[str, Any]) -> None:
    assert demo_json["schema"] == "iamscope.audit/v1"
    assert demo_json["cluster"] == "prod-eu"
    assert demo_json["approved_namespaces"] == ["legacy"]
    assert demo_json["summary"] == {
        "daemonsets": 2,
        "mounting_workloads": 15,
        "spcs": 15,
        "synced_secrets": 1,
        "syncing_spcs": 1,
    }
    assert demo_json["sync_role"] == {
        "id": "ClusterRole/secretprovidersyncing-role",
        "location": {"file": HELM, "line": 108},
        "present": True,
        "secret_verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
        "subjects": ["kube-system/ServiceAccount/secrets-store-csi-driver"],
        "writes_secrets": True,
    }


def test_demo_text(demo_text: str) -> None:
    lines = demo_text.splitlines()
    assert lines[:4] == [
        "iamscope audit: cluster prod-eu: 15 SecretProviderClasses (1 syncing), mounted by 15 workloads, "
        "1 synced Secret, 2 driver/provider DaemonSets",
        "",
        "SecretProviderClasses",
        "  namespace  name                    provider  syncs                    objects  mounted by",
    ]
    assert (
        "  legacy     erp-connector-secrets   aws       yes (erp-connector-env)        1  Deployment/erp-connector"
        in lines
    )
    assert (
        "  tools      vault-foo               vault     no                             2  Pod/vault-debug"
        in lines
    )
    synced = lines.index("Synced Secrets")
    assert lines[synced : synced + 4] == [
        "Synced Secrets",
        "  namespace  name               in input  labelled  approved  synced by",
        "  legacy     erp-connector-env  no        -         yes       SecretProviderClass/erp-connector-secrets",
        "             note: not in the input: the driver creates it when a pod first mounts the SPC",
    ]
    drivers = lines.index("Driver and providers")
    assert lines[drivers : drivers + 3] == [
        "Driver and providers",
        "  kind      namespace    name                                                        identity  tolerations",
        "  driver    kube-system  secrets-store-csi-driver                                    none      every taint",
    ]
    assert (
        "  provider  kube-system  secrets-provider-aws-secrets-store-csi-driver-provider-aws  none      every taint"
        in lines
    )
    assert (
        "  Sync ClusterRole/secretprovidersyncing-role: present; grants create, delete, get, list, patch, update, watch"
        in lines
    )
    assert lines[-1] == "Approved namespaces for sync (sync.approved_namespaces): legacy"
    assert all(len(line) <= 110 for line in lines[1:])


def test_demo_warnings_print_as_scan_does() -> None:
    audited = iamscope("audit", "fixtures/demo", "--config", CONFIG)
    scanned = iamscope("scan", "fixtures/demo", "--config", CONFIG)
    assert audited.stderr == scanned.stderr
    assert (
        "iamscope: warning: 1 mount(s) use provider 'vault': AWS analysis skipped for them\n"
        in audited.stderr
    )


def test_reruns_are_byte_identical_whatever_the_input_order() -> None:
    files = sorted(str(p.relative_to(REPO)) for p in (DEMO / "k8s").rglob("*") if p.is_file())
    for fmt in ("json", "text"):
        first = iamscope("audit", "fixtures/demo", "--config", CONFIG, "--format", fmt)
        again = iamscope("audit", "fixtures/demo", "--config", CONFIG, "--format", fmt)
        reordered = iamscope(
            "audit",
            *(a for f in reversed(files) for a in ("--k8s", f)),
            "--aws",
            "fixtures/demo/aws",
            "--config",
            CONFIG,
            "--format",
            fmt,
        )
        assert first.returncode == again.returncode == reordered.returncode == 0
        assert first.stdout == again.stdout == reordered.stdout


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    written = iamscope("audit", "fixtures/demo", "--config", CONFIG, "--format", "json", "--output", str(out))
    printed = iamscope("audit", "fixtures/demo", "--config", CONFIG, "--format", "json")
    assert written.returncode == 0
    assert written.stdout == ""
    assert out.read_text() == printed.stdout


def test_json_is_sorted_and_indented(demo_json: dict[str, Any]) -> None:
    text = iamscope("audit", "fixtures/demo", "--config", CONFIG, "--format", "json").stdout
    assert text == json.dumps(demo_json, sort_keys=True, indent=2) + "\n"


# --- edge cases ----------------------------------------------------------------------------------------


def _audit(state: State, config: Config | None = None) -> AuditReport:
    return audit(run(state, config).assessment)


def _daemonset(
    namespace: str, name: str, sa: str, image: str, tolerations: list[dict[str, str]]
) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": sa,
                    "tolerations": tolerations,
                    "containers": [{"name": "main", "image": image}],
                },
            },
        },
    }


@pytest.fixture
def edge(tmp_path: Path) -> State:
    state = State(tmp_path)
    state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api")
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    # nobody mounts it
    state.spc("prod", "orphan", objects("prod/db", "prod/other"))
    # objects ASCP cannot read: the string is not a YAML list
    state.spc("prod", "broken", "objectName: prod/db\n  : [")
    state.workload("Deployment", "prod", "broken", "api", "broken")
    # an entry ASCP rejects (and with it the mount)
    state.spc("prod", "bad-entry", [{"objectName": "prod/db", "objectType": "ssm"}])
    # a pod overriding the SPC inline
    state.workload(
        "Pod",
        "prod",
        "steer",
        "api",
        "api",
        volume_attributes={"objects": "- objectName: prod/x", "region": "us-east-1"},
    )
    # a pod naming an SPC that does not exist
    state.workload("Deployment", "prod", "ghost", "api", "ghost")
    # syncing SPCs: one Secret already synced (labelled), one present without the label, one not yet created
    state.spc("apps", "sync", objects("prod/db"))
    state.k8s[-1]["spec"]["secretObjects"] = [
        {"secretName": "synced", "type": "Opaque", "data": [{"objectName": "prod/db", "key": "PASSWORD"}]},
        {
            "secretName": "unlabelled",
            "type": "kubernetes.io/basic-auth",
            "data": [{"objectName": "prod/db", "key": "password"}],
        },
        {"secretName": "later", "data": [{"objectName": "prod/db", "key": "DB"}]},
    ]
    for name, labels in (
        ("synced", {MANAGED: "true"}),
        ("unlabelled", {}),
        ("stray", {MANAGED: "true"}),  # labelled managed, and no SPC syncs it
        ("plain", {}),  # an ordinary Secret: not in the audit
    ):
        state.k8s.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": "apps", "labels": labels},
                "data": {"password": "aHVudGVyMg=="},
            }
        )
    # an azure SPC: its objects are not in ASCP's format
    state.spc("apps", "azure", "array:\n  - |\n    objectName: x\n", provider="azure", region=None)
    # a provider DaemonSet whose service account has an IRSA role and a Pod Identity association
    provider_role = state.irsa_role("provider", "csi", "provider")
    pod_role = state.pod_identity_role("provider-pi")
    state.service_account("csi", "provider", provider_role)
    state.association("csi", "provider", pod_role)
    state.k8s.append(
        _daemonset(
            "csi",
            "csi-secrets-store-provider-aws",
            "provider",
            "public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:3.1.1",
            [
                {
                    "key": "node-role.kubernetes.io/control-plane",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                },
                {"key": "dedicated", "operator": "Equal", "value": "secrets", "effect": "NoExecute"},
            ],
        )
    )
    return state


def _spc(report: AuditReport, spc_id: str) -> dict[str, Any]:
    (row,) = [r for r in audit_document(report)["spcs"] if r["id"] == spc_id]
    return row


def test_spc_nobody_mounts(edge: State) -> None:
    report = _audit(edge)
    row = _spc(report, "prod/SecretProviderClass/orphan")
    assert (row["objects"], row["mounted_by"], row["notes"]) == (2, [], [])
    lines = [line.split() for line in render_text(report).splitlines()]
    assert ["prod", "orphan", "aws", "no", "2", "(nobody)"] in lines


def test_spc_with_unparseable_objects(edge: State) -> None:
    report = _audit(edge)
    row = _spc(report, "prod/SecretProviderClass/broken")
    assert row["objects"] == 0
    assert row["mounted_by"] == ["prod/Deployment/broken"]
    (note,) = row["notes"]
    assert note.startswith("parameters.objects is not YAML (")
    assert note.endswith(": objects not counted")
    row = _spc(report, "prod/SecretProviderClass/bad-entry")
    assert row["objects"] == 1
    assert row["notes"] == [
        "objects[0] 'prod/db': Invalid objectType 'ssm' (ASCP accepts secretsmanager or ssmparameter) "
        "(ASCP fails the mount)"
    ]
    row = _spc(report, "apps/SecretProviderClass/azure")
    assert (row["provider"], row["objects"]) == ("azure", 0)
    assert row["notes"] == ["parameters.objects is not in ASCP's format (provider 'azure'): not counted"]


def test_inline_overrides_and_missing_spcs(edge: State) -> None:
    report = _audit(edge)
    row = _spc(report, "prod/SecretProviderClass/api")
    assert row["mounted_by"] == ["prod/Deployment/api", "prod/Pod/steer"]
    assert row["inline_overrides"] == [
        {"workload": "prod/Pod/steer", "volume": "secrets", "parameters": ["objects", "region"]}
    ]
    assert audit_document(report)["missing_spcs"] == [
        {"id": "prod/SecretProviderClass/ghost", "mounted_by": ["prod/Deployment/ghost"]}
    ]
    lines = render_text(report).splitlines()
    assert "             inline: Pod/steer volume secrets sets objects, region" in lines
    assert "  not in the input: prod/SecretProviderClass/ghost, mounted by prod/Deployment/ghost" in lines


def test_synced_secrets(edge: State) -> None:
    report = _audit(edge, Config(approved_namespaces=("apps",)))
    rows = {
        r["id"]: (
            r["exists"],
            r["labelled_managed"],
            r["synced_by"],
            r["types"],
            r["keys"],
            r["approved_namespace"],
        )
        for r in audit_document(report)["synced_secrets"]
    }
    sync = ["apps/SecretProviderClass/sync"]
    assert rows == {
        "apps/Secret/later": (False, None, sync, ["Opaque"], ["DB"], True),
        "apps/Secret/stray": (True, True, [], [], [], True),
        "apps/Secret/synced": (True, True, sync, ["Opaque"], ["PASSWORD"], True),
        "apps/Secret/unlabelled": (True, False, sync, ["kubernetes.io/basic-auth"], ["password"], True),
    }
    notes = {r.id: r.notes for r in report.synced_secrets}
    assert notes["apps/Secret/stray"] == (
        f"labelled {MANAGED}=true, but no SecretProviderClass in the input syncs it "
        "(left behind, or its SPC was not read)",
    )
    assert notes["apps/Secret/synced"] == ()
    assert notes["apps/Secret/unlabelled"] == (
        f"exists without the {MANAGED}=true label the driver sets on Secrets it creates",
    )
    assert _spc(report, "apps/SecretProviderClass/sync")["synced_secrets"] == [
        "later",
        "synced",
        "unlabelled",
    ]
    text = render_text(report)
    assert (
        "  apps       stray       yes       yes       yes       (no SecretProviderClass)" in text.splitlines()
    )
    # a Secret's data never reaches the report
    assert "aHVudGVyMg" not in text
    assert "aHVudGVyMg" not in json.dumps(audit_document(report))
    # outside the approved namespaces
    (later,) = [r for r in _audit(edge).synced_secrets if r.id == "apps/Secret/later"]
    assert later.approved is False


def test_provider_identities_and_tolerations(edge: State) -> None:
    report = _audit(edge)
    (row,) = audit_document(report)["daemonsets"]
    assert row == {
        "id": "csi/DaemonSet/csi-secrets-store-provider-aws",
        "images": ["public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:3.1.1"],
        "kind": "provider",
        "location": row["location"],
        "name": "csi-secrets-store-provider-aws",
        "namespace": "csi",
        "node_selector": [],
        "pod_identity_role": role_arn("provider-pi"),
        "role_arn": role_arn("provider"),
        "service_account": "csi/ServiceAccount/provider",
        "tolerations": ["dedicated=secrets:NoExecute", "node-role.kubernetes.io/control-plane:NoSchedule"],
    }
    text = render_text(report)
    lines = text.splitlines()
    (line,) = [line for line in lines if line.startswith("  provider")]
    assert line.split() == [
        "provider",
        "csi",
        "csi-secrets-store-provider-aws",
        "IRSA",
        "+",
        "Pod",
        "Identity",
        "dedicated=secrets:NoExecute,",
    ]
    at = lines.index(line)
    # the last column wraps under itself
    assert lines[at + 1] == " " * line.index("dedicated") + "node-role.kubernetes.io/control-plane:NoSchedule"
    assert lines[at + 2 : at + 6] == [
        "            service account: provider",
        f"            IRSA role (eks.amazonaws.com/role-arn): {role_arn('provider')}",
        f"            Pod Identity role (association): {role_arn('provider-pi')}",
        "            images: public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:3.1.1",
    ]
    # no sync role in this cluster
    assert audit_document(report)["sync_role"] == {
        "id": "ClusterRole/secretprovidersyncing-role",
        "location": None,
        "present": False,
        "secret_verbs": [],
        "subjects": [],
        "writes_secrets": False,
    }
    assert (
        "  Sync ClusterRole/secretprovidersyncing-role: absent (syncSecret.enabled=false: the driver writes no "
        "Secrets)" in lines
    )


def test_empty_cluster_sections(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.service_account("prod", "api")
    text = render_text(_audit(state))
    lines = text.splitlines()
    assert lines[0] == (
        "iamscope audit: cluster test-cluster: 0 SecretProviderClasses (0 syncing), mounted by 0 workloads, "
        "0 synced Secrets, 0 driver/provider DaemonSets"
    )
    assert lines[2:4] == ["SecretProviderClasses", "  (none)"]
    assert "  (no driver or provider DaemonSet in the input)" in lines


def test_edge_cli_json_and_reruns(edge: State) -> None:
    root = edge.write()
    first = iamscope("audit", str(root), "--format", "json")
    again = iamscope("audit", str(root), "--format", "json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    assert json.loads(first.stdout)["summary"]["synced_secrets"] == 4


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "iamscope: error: nothing to read: give a STATE directory, or --k8s and/or --aws\n"),
        (["fixtures/demo", "--format", "markdown"], None),
        (["fixtures"], "iamscope: error: fixtures: not a state directory (it holds neither k8s/ nor aws/)\n"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str | None) -> None:
    result = iamscope("audit", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    if message is not None:
        assert result.stderr == message


def test_unreadable_manifest_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [\n")
    result = iamscope("audit", "--k8s", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"iamscope: error: {bad}: ")
    assert result.stderr.count("\n") == 1


def test_bad_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "iamscope.yaml"
    config.write_text("sync: [\n")
    result = iamscope("audit", "fixtures/demo", "--config", str(config))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("iamscope: error: ")
