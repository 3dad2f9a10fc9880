"""`iamscope collect` and `iamscope scan --live` as a user runs them: the real command in a
subprocess, AWS through AWS_ENDPOINT_URL at moto (server mode) and the EKS stand-in, Kubernetes
through a kubeconfig context at the replay server, both holding the demo cluster and account. The
state directory collect writes scans exactly like the demo's own fixtures (moto's secret suffixes and
key ids substituted, locations aside: the collected manifests are JSON lists without line numbers);
a fault makes collect exit 3 with the gap on stderr and in STATE/incomplete.json, and every later
scan of that state incomplete."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.collect.aws_seed import CLUSTER, DEMO, replace_all, seed_demo
from tests.collect.conftest import REGIONS, reset, session
from tests.collect.eks_standin import EksStandIn
from tests.collect.kube_replay import ReplayCluster, demo_objects, demo_secrets, write_kubeconfig
from tests.collect.silent import Silent

CSIDRIVER_SKIP = "--k8s: skipped 1 object(s) of kind CSIDriver: not used by the analysis"


@dataclass(frozen=True)
class Live:
    env: dict[str, str]  # the environment a user's shell would have: AWS and KUBECONFIG
    cluster: ReplayCluster
    replacements: dict[str, str]  # fixture string → moto string
    config: Path  # the demo's .iamscope.yaml
    expected: Path  # the demo state with moto's ARNs and key ids


def _copy(source: Path, target: Path, replacements: dict[str, str]) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file():
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(replace_all(path.read_text(encoding="utf-8"), replacements), encoding="utf-8")


@pytest.fixture(scope="module")
def live(moto_managed_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    reset(moto_managed_server)
    root = tmp_path_factory.mktemp("live")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBECONFIG"))}
    aws = {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_CONFIG_FILE": str(root / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(root / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": moto_managed_server,
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in aws.items():
            patch.setenv(key, value)
        for key in [k for k in os.environ if k.startswith("AWS_") and k not in aws]:
            patch.delenv(key)
        standin = EksStandIn()
        replacements = seed_demo(session(), standin)
    objects = [json.loads(replace_all(json.dumps(o), replacements)) for o in demo_objects() + demo_secrets()]
    cluster = ReplayCluster(objects)
    expected = root / "expected"
    _copy(DEMO / "aws", expected / "aws", replacements)
    _copy(DEMO / "k8s", expected / "k8s", replacements)
    config = root / "iamscope.yaml"
    shutil.copyfile(DEMO / "iamscope.yaml", config)
    with standin.running(), cluster.running():
        kubeconfig = write_kubeconfig(root / "kubeconfig", cluster.url, context="demo")
        env = base | aws | {"AWS_ENDPOINT_URL_EKS": standin.url, "KUBECONFIG": str(kubeconfig)}
        yield Live(env=env, cluster=cluster, replacements=replacements, config=config, expected=expected)


def iamscope(live: Live, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamscope", *args],
        env=live.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def collect_args(live: Live, out: Path) -> list[str]:
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    return ["collect", "--out", str(out), *regions, "--context", "demo", "--config", str(live.config)]


def scan_json(live: Live, *args: str) -> tuple[int, dict[str, Any], str]:
    result = iamscope(live, "scan", *args, "--config", str(live.config), "--format", "json")
    return result.returncode, json.loads(result.stdout), result.stderr


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The scan document without what differs only because collected manifests are JSON lists: the
    manifest locations (file, no line), and the skipped CSIDriver (a kind collect never lists)."""
    document = json.loads(json.dumps(document))
    for entry in (*document["findings"], *document["access"]):
        entry.pop("location", None)
    document["warnings"] = [w for w in document.get("warnings", []) if w != CSIDRIVER_SKIP]
    return document


def test_collect_writes_a_state_that_scans_like_the_demo(live: Live, tmp_path: Path) -> None:
    out = tmp_path / "state"
    result = iamscope(live, *collect_args(live, out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not a terminal: no progress line; nothing missing
    assert result.stdout == f"Wrote {len(list_state(out))} file(s) to {out}/ (complete). Scan it with:\n" + (
        f"  iamscope scan {out}\n"
    )
    assert not (out / "incomplete.json").exists()
    code, document, _ = scan_json(live, str(out))
    expected_code, expected, _ = scan_json(live, str(live.expected))
    assert (code, expected_code) == (1, 1)  # the demo has findings at high and above
    assert document["complete"] is True
    assert document["findings"]  # the comparison compares something
    assert comparable(document) == comparable(expected)


def list_state(out: Path) -> list[str]:
    return sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != ".iamscope-collect"
    )


def test_collect_writes_exactly_the_input_formats(live: Live, tmp_path: Path) -> None:
    out = tmp_path / "state"
    assert iamscope(live, *collect_args(live, out)).returncode == 0
    assert list_state(out) == sorted(
        [
            "aws/eks-describe-cluster-prod-eu.json",
            "aws/eks-pod-identity-associations-prod-eu.json",
            "aws/iam-authorization-details.json",
            "aws/sts-get-caller-identity.json",
            # the demo's customer managed keys are all in eu-west-1; a region whose secrets and
            # parameters name no key gets no kms-keys file
            "aws/kms-keys-eu-west-1.json",
            *(
                f"aws/{kind}-{region}.json"
                for region in REGIONS
                for kind in (
                    "secretsmanager-list-secrets",
                    "secretsmanager-resource-policies",
                    "ssm-describe-parameters",
                )
            ),
            *(
                f"k8s/{plural}.json"
                for plural in (
                    "clusterrolebindings",
                    "clusterroles",
                    "cronjobs",
                    "daemonsets",
                    "deployments",
                    "jobs",
                    "namespaces",
                    "nodes",
                    "pods",
                    "replicasets",
                    "replicationcontrollers",
                    "rolebindings",
                    "roles",
                    "secretproviderclasses",
                    "secrets",
                    "serviceaccounts",
                    "statefulsets",
                )
            ),
        ]
    )
    assert CLUSTER == "prod-eu"


def test_a_second_collection_is_byte_identical_and_keeps_no_stale_file(live: Live, tmp_path: Path) -> None:
    out = tmp_path / "state"
    assert iamscope(live, *collect_args(live, out)).returncode == 0
    first = {p: (out / p).read_bytes() for p in list_state(out)}
    # a region dropped: its files must go, not linger to be read as current
    again = iamscope(live, "collect", "--out", str(out), "--region", REGIONS[0], "--context", "demo",
                     "--config", str(live.config))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert not any(REGIONS[1] in p for p in list_state(out))
    assert iamscope(live, *collect_args(live, out)).returncode == 0
    assert {p: (out / p).read_bytes() for p in list_state(out)} == first


def test_collect_refuses_a_directory_it_did_not_write(live: Live, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = iamscope(live, *collect_args(live, out))
    assert result.returncode == 2
    assert result.stderr == (
        f"iamscope: error: --out {out}: the directory is not empty and was not written by iamscope "
        "collect; give a new or empty directory\n"
    )
    assert (out / "notes.txt").read_text() == "keep me"


def test_scan_live_reads_the_account_and_cluster_itself(live: Live) -> None:
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    code, document, stderr = scan_json(live, "--live", *regions, "--context", "demo")
    _, expected, _ = scan_json(live, str(live.expected))
    assert code == 1
    assert "Traceback" not in stderr
    assert comparable(document) == comparable(expected)


def test_a_forbidden_kind_makes_collect_and_every_later_scan_incomplete(live: Live, tmp_path: Path) -> None:
    out = tmp_path / "state"
    live.cluster.forbidden["/api/v1/secrets"] = "system:serviceaccount:audit:iamscope"
    try:
        result = iamscope(live, *collect_args(live, out))
    finally:
        live.cluster.forbidden.clear()
    assert result.returncode == 3
    gaps = [line for line in result.stderr.splitlines() if line.startswith("iamscope: incomplete: ")]
    assert len(gaps) == 1
    assert gaps[0].startswith("iamscope: incomplete: list secrets (v1): 403 Forbidden: ")
    assert "(incomplete)" in result.stdout
    recorded = json.loads((out / "incomplete.json").read_text())
    assert recorded["schema"] == "iamscope.incomplete/v1"
    assert [f"iamscope: incomplete: {g}" for g in recorded["gaps"]] == gaps
    assert not (out / "k8s/secrets.json").exists()  # an empty list would claim there are none
    # the scan says so, whatever the findings: complete false, the gap listed
    code, document, _ = scan_json(live, str(out), "--fail-on", "none")
    assert code == 3
    assert document["complete"] is False
    assert any(g.endswith(recorded["gaps"][0]) for g in document["incomplete"])
    # and so does a scan given the state's two halves one by one
    halves = ("--k8s", str(out / "k8s"), "--aws", str(out / "aws"))
    code, document, _ = scan_json(live, *halves, "--fail-on", "none")
    assert code == 3
    assert document["complete"] is False
    assert any(g.endswith(recorded["gaps"][0]) for g in document["incomplete"])
    # and the commands without an "incomplete" exit code warn, one line per gap
    for command in (
        ["audit"],
        ["generate", "--out", str(tmp_path / "gen")],
        ["harden", "--out", str(tmp_path / "h")],
    ):
        result = iamscope(live, *command, str(out), "--config", str(live.config))
        assert result.returncode == 0, result.stderr
        warned = [
            line.removeprefix("iamscope: warning: the input is incomplete: ")
            for line in result.stderr.splitlines()
            if line.startswith("iamscope: warning: the input is incomplete: ")
        ]
        assert [w for w in warned if w.endswith(recorded["gaps"][0])], (command, result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--region", REGIONS[0]), "--region needs --live"),
        (("--quiet",), "--quiet needs --live"),
        (("--no-k8s", "--read-timeout", "5"), "--no-k8s, --read-timeout need --live"),
    ],
)
def test_the_live_options_need_live(live: Live, args: tuple[str, ...], message: str) -> None:
    result = iamscope(live, "scan", str(live.expected), *args)
    assert result.returncode == 2
    assert result.stderr == f"iamscope: error: {message}\n"


def test_scan_live_takes_quiet_like_collect(live: Live) -> None:
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    code, document, stderr = scan_json(live, "--live", "--quiet", *regions, "--context", "demo")
    assert code == 1
    assert stderr == "iamscope: warning: 1 mount(s) use provider 'vault': AWS analysis skipped for them\n"
    assert document["complete"] is True


def test_collect_without_a_cluster_name_is_incomplete_like_its_scan(live: Live, tmp_path: Path) -> None:
    config = tmp_path / "no-cluster.yaml"
    config.write_text("sync:\n  approved_namespaces: [legacy]\n", encoding="utf-8")
    out = tmp_path / "state"
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    result = iamscope(
        live, "collect", "--out", str(out), *regions, "--context", "demo", "--config", str(config)
    )
    assert result.returncode == 3
    gap = (
        "eks: no cluster named (--cluster or cluster.name in the configuration): the cluster's OIDC "
        "issuer and Pod Identity associations were not collected"
    )
    assert result.stderr == f"iamscope: incomplete: {gap}\n"
    assert "(incomplete)" in result.stdout
    code, document, _ = scan_json(live, str(out), "--fail-on", "none")
    assert code == 3
    assert document["complete"] is False


def test_collect_against_a_silent_aws_endpoint_ends_within_the_timeouts(live: Live, tmp_path: Path) -> None:
    out = tmp_path / "state"
    with Silent().running() as silent:
        env = live.env | {"AWS_ENDPOINT_URL": silent.url}
        args = ["collect", "--out", str(out), "--region", REGIONS[0], "--no-k8s", "--cluster", CLUSTER]
        result = subprocess.run(
            [sys.executable, "-m", "iamscope", *args, "--connect-timeout", "0.3", "--read-timeout", "0.3"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 3
    assert result.stderr == (
        f'iamscope: incomplete: sts GetCallerIdentity (global): ReadTimeoutError: Read timeout on endpoint URL: "{silent.url}/"; '
        "the endpoint does not answer (no answer within 0.3s), so nothing more was asked of AWS\n"
    )
    assert silent.connections == 2


def test_an_unknown_profile_is_a_usage_error(live: Live, tmp_path: Path) -> None:
    result = iamscope(live, "collect", "--out", str(tmp_path / "s"), "--profile", "nope", "--no-k8s")
    assert result.returncode == 2
    assert result.stderr == "iamscope: error: --profile nope: no such profile in the AWS configuration\n"
