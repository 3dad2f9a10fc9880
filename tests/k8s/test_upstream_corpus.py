"""The upstream manifests (tests/data/upstream, a copy of ../shared/corpus/upstream: the driver's and the
AWS provider's own install
manifests and end-to-end test manifests) read without error through the CLI, give the expected workloads,
leave other providers' SPCs alone, report unsubstituted placeholders, and resolve the AWS examples once
a region and an account are known."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from iamscope.state import load_inventory, sources
from tests.conftest import REPO
from tests.k8s.helpers import ACCOUNT, run_cli, write

# The corpus is copied into the repository so that a clean clone tests it wherever it is checked out;
# test_copy_matches_the_shared_corpus catches drift from the shared original.
CORPUS = REPO / "tests" / "data" / "upstream"
SHARED = REPO.parent / "shared" / "corpus" / "upstream"

BATS = CORPUS / "secrets-store-csi-driver" / "test" / "bats" / "tests"


def _conflict(later: str, kind_name: str, first: str) -> str:
    return (
        f"{BATS / later}:1: {kind_name} in default is also declared at {first}:1 "
        "with different content; that one is used"
    )


# Names the upstream e2e suites reuse across providers: the first by path is read, the rest said.
CONFLICTS = [
    _conflict(
        "aws/BasicTestMount.yaml", "Pod/basic-test-mount", f"{CORPUS}/provider-aws/tests/BasicTestMount.yaml"
    ),
    _conflict(
        "aws/BasicTestMountSPC.yaml",
        "SecretProviderClass/basic-test-mount-spc",
        f"{CORPUS}/provider-aws/tests/BasicTestMountSPC.yaml",
    ),
    _conflict(
        "azure/azure_v1_secretproviderclass_ns.yaml",
        "SecretProviderClass/azure-sync",
        f"{BATS}/azure/azure_synck8s_v1_secretproviderclass.yaml",
    ),
    _conflict(
        "gcp/pod-secrets-store-inline-volume-crd.yaml",
        "Pod/secrets-store-inline-crd",
        f"{BATS}/azure/pod-secrets-store-inline-volume-crd.yaml",
    ),
    _conflict(
        "vault/deployment-synck8s.yaml",
        "Deployment/busybox-deployment",
        f"{BATS}/azure/deployment-synck8s-azure.yaml",
    ),
    _conflict(
        "vault/deployment-two-synck8s.yaml",
        "Deployment/busybox-deployment-two",
        f"{BATS}/azure/deployment-two-synck8s-azure.yaml",
    ),
    _conflict(
        "vault/pod-vault-inline-volume-multiple-spc.yaml",
        "Pod/secrets-store-inline-multiple-crd",
        f"{BATS}/azure/pod-azure-inline-volume-multiple-spc.yaml",
    ),
    _conflict(
        "vault/vault_v1_secretproviderclass_ns.yaml",
        "SecretProviderClass/vault-foo-sync",
        f"{BATS}/vault/vault_synck8s_v1_secretproviderclass.yaml",
    ),
]
PROVIDER_AWS = CORPUS / "provider-aws"
EXAMPLES = PROVIDER_AWS / "examples"
MANIFESTS = sorted(
    p.relative_to(CORPUS).as_posix()
    for p in (CORPUS.rglob("*") if CORPUS.is_dir() else ())
    if p.suffix.lower() in (".yaml", ".yml", ".json")
)

ALL_WORKLOADS = {
    "default/Deployment/busybox-deployment",
    "default/Deployment/busybox-deployment-two",
    "default/Deployment/nginx-irsa-deployment",
    "default/Deployment/nginx-pod-identity-deployment",
    "default/Pod/basic-test-mount",
    "default/Pod/secrets-store-inline",
    "default/Pod/secrets-store-inline-crd",
    "default/Pod/secrets-store-inline-multiple-crd",
    "default/Pod/secrets-store-rotation",
    "kube-system/DaemonSet/csi-secrets-store",
    "kube-system/DaemonSet/csi-secrets-store-provider-aws",
}


def expected_exit(doc: dict[str, Any]) -> int:
    """DESIGN.md §3: 1 when a finding is at or above --fail-on (high), else 3 when the input is
    incomplete, else 0."""
    if doc["summary"]["findings"]["critical"] + doc["summary"]["findings"]["high"]:
        return 1
    return 0 if doc["complete"] else 3


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], list[str]]:
    code, out, err = run_cli(["scan", *args, "--format", "json"], capsys)
    assert code in (0, 1, 3), err
    assert code == expected_exit(json.loads(out)), (code, out)
    lines = err.splitlines()
    assert all(line.startswith("iamscope: warning: ") for line in lines), err
    return code, json.loads(out), [line.removeprefix("iamscope: warning: ") for line in lines]


@pytest.fixture(autouse=True)
def _no_ambient_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # never pick up a .iamscope.yaml from wherever the tests run


def test_corpus_has_the_files_this_module_expects() -> None:
    assert len(MANIFESTS) >= 30
    for rel in (
        "provider-aws/tests/BasicTestMountSPC.yaml",
        "provider-aws/examples/ExampleSecretProviderClass-IRSA.yaml",
        "secrets-store-csi-driver/deploy/secrets-store-csi-driver.yaml",
        "secrets-store-csi-driver/test/bats/tests/gcp/gcp_v1_secretproviderclass.yaml",
    ):
        assert rel in MANIFESTS


def test_whole_corpus_through_the_cli_process(tmp_path: Path) -> None:
    """The real console entry point, as a separate process: no error, the expected workloads."""
    run = subprocess.run(
        [sys.executable, "-m", "iamscope", "scan", "--k8s", str(CORPUS), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert "Traceback" not in run.stderr
    assert all(line.startswith("iamscope: warning: ") for line in run.stderr.splitlines()), run.stderr
    doc = json.loads(run.stdout)
    assert doc["schema"] == "iamscope.scan/v1"
    assert doc["summary"]["workloads"] == len(ALL_WORKLOADS)
    # Manifests only: nothing AWS grants is known, so the result is incomplete (fail closed) and says
    # why. What reaches the default --fail-on high is the driver's own business: the e2e SPCs sync into
    # Kubernetes Secrets in namespaces no configuration approves (exit 1).
    assert (run.returncode, doc["complete"]) == (1, False)
    assert {f["rule"] for f in doc["findings"] if f["severity"] in ("high", "critical")} == {"sync-to-secret"}
    assert doc["incomplete"] == [
        *(
            f"ServiceAccount default/ServiceAccount/{sa} (used by default/{w}) is not in the input: "
            "its role annotation is unknown"
            for sa, w in (
                ("basic-test-mount-sa", "Pod/basic-test-mount"),
                ("nginx-irsa-deployment-sa", "Deployment/nginx-irsa-deployment"),
                ("nginx-pod-identity-deployment-sa", "Deployment/nginx-pod-identity-deployment"),
            )
        ),
        "no eks-pod-identity-associations*.json: Pod Identity roles are unknown",
        "no iam-authorization-details.json: which roles exist and what they grant is unknown",
        "the AWS account is unknown (no sts-get-caller-identity.json, role or cluster ARN): "
        "objects named without an ARN cannot be resolved",
    ]
    graph = subprocess.run(
        [sys.executable, "-m", "iamscope", "graph", "--k8s", str(CORPUS), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert graph.returncode == 0, graph.stderr
    nodes = json.loads(graph.stdout)["nodes"]
    assert {n["id"] for n in nodes if n["type"] == "workload"} == ALL_WORKLOADS


def test_whole_corpus_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, warnings = scan(capsys, "--k8s", str(CORPUS))
    values = CORPUS / "provider-aws" / "charts" / "secrets-store-csi-driver-provider-aws" / "values.yaml"
    assert warnings == [
        # the upstream e2e manifests leave the namespace to `kubectl apply -n`
        "--k8s: 22 object(s) name no namespace and are taken to be in 'default', as `kubectl apply` "
        "without -n would put them: Deployment/busybox-deployment, Deployment/busybox-deployment-two, "
        "Deployment/nginx-irsa-deployment, Deployment/nginx-pod-identity-deployment, Pod/basic-test-mount "
        "and 17 more",
        "--k8s: skipped 1 object(s) of kind CSIDriver: not used by the analysis",
        "--k8s: skipped 2 object(s) of kind CustomResourceDefinition: not used by the analysis",
        "--k8s: skipped 2 object(s) of kind Service: not used by the analysis",
        *sorted([f"{values}:1: not a Kubernetes object (no kind); skipped", *CONFLICTS]),
        "5 mount(s) use provider 'azure': AWS analysis skipped for them",
        "2 mount(s) use provider 'vault': AWS analysis skipped for them",
    ]


@pytest.mark.parametrize("rel", MANIFESTS)
def test_every_file_reads_without_error(rel: str, capsys: pytest.CaptureFixture[str]) -> None:
    scan(capsys, "--k8s", str(CORPUS / rel))


@pytest.mark.parametrize(
    ("rel", "workloads"),
    [
        pytest.param(
            "secrets-store-csi-driver/test/bats/tests/vault",
            {
                "default/Deployment/busybox-deployment",
                "default/Deployment/busybox-deployment-two",
                "default/Pod/secrets-store-inline",
                "default/Pod/secrets-store-inline-multiple-crd",
                "default/Pod/secrets-store-rotation",
            },
            id="vault",
        ),
        pytest.param(
            "secrets-store-csi-driver/test/bats/tests/azure",
            {
                "default/Deployment/busybox-deployment",
                "default/Deployment/busybox-deployment-two",
                "default/Pod/secrets-store-inline-crd",
                "default/Pod/secrets-store-inline-multiple-crd",
            },
            id="azure",
        ),
        pytest.param(
            "secrets-store-csi-driver/test/bats/tests/gcp", {"default/Pod/secrets-store-inline-crd"}, id="gcp"
        ),
        pytest.param(
            "secrets-store-csi-driver/test/bats/tests/aws", {"default/Pod/basic-test-mount"}, id="aws-e2e"
        ),
        pytest.param(
            "provider-aws",
            {
                "default/Deployment/nginx-irsa-deployment",
                "default/Deployment/nginx-pod-identity-deployment",
                "default/Pod/basic-test-mount",
                "kube-system/DaemonSet/csi-secrets-store-provider-aws",
            },
            id="provider-aws",
        ),
        pytest.param(
            "secrets-store-csi-driver/deploy", {"kube-system/DaemonSet/csi-secrets-store"}, id="driver-deploy"
        ),
    ],
)
def test_workload_ids(rel: str, workloads: set[str], capsys: pytest.CaptureFixture[str]) -> None:
    inv = load_inventory(sources(None, (str(CORPUS / rel),), None))
    assert {w.id for w in inv.kube.workloads} == workloads
    _, doc, _ = scan(capsys, "--k8s", str(CORPUS / rel))
    assert doc["summary"]["workloads"] == len(workloads)


@pytest.mark.parametrize(
    ("provider", "mounts"),
    [
        pytest.param("vault", 6, id="vault"),
        pytest.param("azure", 5, id="azure"),
        pytest.param("gcp", 1, id="gcp"),
    ],
)
def test_other_providers_skip_aws_analysis(
    provider: str, mounts: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc, warnings = scan(capsys, "--k8s", str(BATS / provider))
    assert f"{mounts} mount(s) use provider {provider!r}: AWS analysis skipped for them" in warnings
    assert [
        f for f in doc["findings"] if f["rule"] in ("unresolved-object", "no-identity", "missing-grant")
    ] == []
    assert doc["access"] == []
    # the vault and azure e2e SPCs sync to Secrets in unapproved namespaces (the driver rules apply to
    # every provider); the gcp one does not
    syncs = provider != "gcp"
    assert {f["rule"] for f in doc["findings"] if f["severity"] == "high"} == (
        {"sync-to-secret"} if syncs else set()
    )
    assert (code, doc["complete"]) == ((1 if syncs else 0), True)


def _unresolved(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((f["subject"], f["message"]) for f in doc["findings"] if f["rule"] == "unresolved-object")


def test_provider_aws_e2e_spc_reports_its_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    # DESIGN.md §6: an unsubstituted placeholder is reported as such, never guessed at. objects[5] has a
    # failoverObject and the SPC does set failoverRegion (to ${FAILOVERREGION}): the placeholder is the
    # whole story, not a missing failoverRegion.
    _, doc, _ = scan(capsys, "--k8s", str(PROVIDER_AWS / "tests"))
    found = _unresolved(doc)
    assert all(subject == "default/Pod/basic-test-mount" for subject, _ in found)
    messages = [m for _, m in found]
    assert any(
        m.startswith("region/failoverRegion hold unsubstituted placeholder ${FAILOVERREGION}, ${REGION}: ")
        for m in messages
    ), messages
    assert (
        "objects[5] 'arn:aws:secretsmanager:${REGION}:${ACCOUNT_NUMBER}:secret:SecretsManagerTest2': "
        "unsubstituted placeholder ${ACCOUNT_NUMBER}, ${FAILOVERREGION}, ${REGION}: the manifest is a template"
    ) in messages


def test_placeholder_region_is_not_guessed_from_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = _snapshot(tmp_path)
    config = write(tmp_path, "iamscope.yaml", "aws:\n  region: eu-west-1\n")
    _, doc, _ = scan(
        capsys, "--k8s", str(PROVIDER_AWS / "tests"), "--aws", str(snapshot), "--config", str(config)
    )
    assert (
        "default/Pod/basic-test-mount",
        "region/failoverRegion hold unsubstituted placeholder ${FAILOVERREGION}, ${REGION}: the manifest is a template",
    ) in _unresolved(doc)
    (view,) = doc["access"]
    assert (view["needs"], view["unresolved_needs"]) == ([], [])
    assert "eu-west-1" not in json.dumps(doc)


def test_driver_e2e_spc_reports_every_templated_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = _snapshot(tmp_path)
    config = write(tmp_path, "iamscope.yaml", "aws:\n  region: eu-west-1\n")
    _, doc, _ = scan(capsys, "--k8s", str(BATS / "aws"), "--aws", str(snapshot), "--config", str(config))
    # objects[5]'s ARN names the region ${REGION}: a placeholder, not a region that differs from the
    # mount's (DESIGN.md §6: report the placeholder, never guess)
    template = ": unsubstituted placeholder {}: the manifest is a template"
    assert [m for _, m in _unresolved(doc)] == sorted(
        [
            "objects[0] '$PM_TEST_1_NAME'" + template.format("$PM_TEST_1_NAME"),
            "objects[1] '$PM_TEST_LONG_NAME'" + template.format("$PM_TEST_LONG_NAME"),
            "objects[2] '$PM_ROTATION_TEST_NAME'" + template.format("$PM_ROTATION_TEST_NAME"),
            "objects[3] '$SM_ROT_TEST_NAME'" + template.format("$SM_ROT_TEST_NAME"),
            "objects[4] '$SM_TEST_1_NAME'" + template.format("$SM_TEST_1_NAME"),
            "objects[5] 'arn:aws:secretsmanager:${REGION}:${ACCOUNT_NUMBER}:secret:${SM_TEST_2_NAME}'"
            + template.format("${ACCOUNT_NUMBER}, ${REGION}, ${SM_TEST_2_NAME}"),
            "objects[6] '$SM_SYNC_NAME'" + template.format("$SM_SYNC_NAME"),
        ]
    )


def _snapshot(root: Path, secrets: list[dict[str, Any]] | None = None) -> Path:
    snapshot = root / "aws"
    write(
        snapshot,
        "sts-get-caller-identity.json",
        json.dumps({"UserId": "AIDAEXAMPLE", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci"}),
    )
    if secrets is not None:
        write(snapshot, "secretsmanager-list-secrets-eu-west-1.json", json.dumps({"SecretList": secrets}))
    return snapshot


MY_SECRET_PATTERN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:MySecret-??????"
MY_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:MySecret-a1B2c3"
EXAMPLE_SAS = [
    ("default/ServiceAccount/nginx-irsa-deployment-sa", ["default/Deployment/nginx-irsa-deployment"]),
    (
        "default/ServiceAccount/nginx-pod-identity-deployment-sa",
        ["default/Deployment/nginx-pod-identity-deployment"],
    ),
]


def test_examples_without_region_or_account_are_unresolved(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc, _ = scan(capsys, "--k8s", str(EXAMPLES))
    assert [(v["service_account"], v["needs"], v["unresolved_needs"]) for v in doc["access"]] == [
        (sa, [], []) for sa, _ in EXAMPLE_SAS
    ]
    assert [s for s, _ in _unresolved(doc)] == [w[0] for _, w in EXAMPLE_SAS]


def test_examples_resolve_my_secret_with_region_and_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a list-secrets file for the region that does not hold MySecret: it does not exist
    snapshot = _snapshot(tmp_path, secrets=[])
    config = write(tmp_path, "iamscope.yaml", "aws:\n  region: eu-west-1\n")
    _, doc, _ = scan(capsys, "--k8s", str(EXAMPLES), "--aws", str(snapshot), "--config", str(config))
    assert [
        (v["service_account"], v["workloads"], v["needs"], v["unresolved_needs"]) for v in doc["access"]
    ] == [(sa, w, [], [MY_SECRET_PATTERN]) for sa, w in EXAMPLE_SAS]
    unresolved = [f for f in doc["findings"] if f["rule"] == "unresolved-object"]
    assert sorted((f["subject"], tuple(f["patterns"]), tuple(f["objects"])) for f in unresolved) == [
        (
            "default/Deployment/nginx-irsa-deployment",
            (MY_SECRET_PATTERN,),
            ("default/SecretProviderClass/nginx-irsa-deployment-aws-secrets#0:MySecret",),
        ),
        (
            "default/Deployment/nginx-pod-identity-deployment",
            (MY_SECRET_PATTERN,),
            ("default/SecretProviderClass/nginx-pod-identity-deployment-aws-secrets#0:MySecret",),
        ),
    ]


def test_examples_resolve_my_secret_from_the_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = _snapshot(tmp_path, secrets=[{"ARN": MY_SECRET, "Name": "MySecret"}])
    config = write(tmp_path, "iamscope.yaml", "aws:\n  region: eu-west-1\n")
    _, doc, _ = scan(capsys, "--k8s", str(EXAMPLES), "--aws", str(snapshot), "--config", str(config))
    assert [(v["service_account"], v["needs"], v["unresolved_needs"]) for v in doc["access"]] == [
        (sa, [MY_SECRET], []) for sa, _ in EXAMPLE_SAS
    ]
    assert _unresolved(doc) == []


def test_examples_without_a_listing_are_not_reported_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No secretsmanager-list-secrets*.json: whether MySecret exists is unknown, not "not in the
    # snapshot"; the result is incomplete and says why.
    snapshot = _snapshot(tmp_path)
    config = write(tmp_path, "iamscope.yaml", "aws:\n  region: eu-west-1\n")
    code, doc, _ = scan(capsys, "--k8s", str(EXAMPLES), "--aws", str(snapshot), "--config", str(config))
    assert [(v["service_account"], v["unresolved_needs"]) for v in doc["access"]] == [
        (sa, [MY_SECRET_PATTERN]) for sa, _ in EXAMPLE_SAS
    ]
    assert _unresolved(doc) == []
    assert (code, doc["complete"]) == (3, False)
    assert (
        "no secretsmanager-list-secrets-eu-west-1.json: declared objects in eu-west-1 cannot be confirmed"
        in doc["incomplete"]
    )


def test_examples_take_the_region_from_node_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = _snapshot(tmp_path)
    nodes = write(
        tmp_path,
        "nodes.yaml",
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: ip-10-0-1-1.eu-west-1.compute.internal\n"
        "  labels: {topology.kubernetes.io/region: eu-west-1}\n",
    )
    _, doc, _ = scan(capsys, "--k8s", str(EXAMPLES), "--k8s", str(nodes), "--aws", str(snapshot))
    assert [v["unresolved_needs"] for v in doc["access"]] == [[MY_SECRET_PATTERN], [MY_SECRET_PATTERN]]


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared corpus {SHARED} is not on this machine")
def test_copy_matches_the_shared_corpus() -> None:
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert files(CORPUS) == files(SHARED)
