"""What a platform engineer meets on real inputs (the third review): files saved from the wrong AWS
command, no Kubernetes input, controllers iamscope does not name, hand-made Jobs, Markdown that must
fit a PR comment and keep its wildcards, explain as kubectl users type it, and config values."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from iamscope.config import parse_config
from iamscope.errors import InputError
from iamscope.findings import Finding
from tests.conftest import REPO
from tests.k8s.helpers import controller, kube, owner, pod

DEMO = REPO / "fixtures" / "demo"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamscope", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "iam-authorization-details.json",
            {"Roles": []},
            "no 'RoleDetailList' at the top: expected `aws iam get-account-authorization-details` output; "
            "it looks like `aws iam list-roles` output",
        ),
        (
            "secretsmanager-list-secrets-eu-west-1.json",
            {"ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbCdEf", "Name": "x"},
            "no 'SecretList' at the top: expected `aws secretsmanager list-secrets` output; "
            "it looks like `aws secretsmanager describe-secret` output",
        ),
        (
            "ssm-describe-parameters-eu-west-1.json",
            {},
            "no 'Parameters' at the top: expected `aws ssm describe-parameters` output",
        ),
    ],
    ids=["list-roles", "describe-secret", "empty-object"],
)
def test_file_from_the_wrong_command_is_refused(
    tmp_path: Path, file: str, content: Any, message: str
) -> None:
    # read as empty, such a file would make a scan look clean: refuse it, naming the command it looks like
    state = tmp_path / "state"
    shutil.copytree(DEMO, state)
    (state / "aws" / file).write_text(json.dumps(content))
    result = run("scan", str(state))
    assert result.returncode == 2
    assert result.stderr == f"iamscope: error: {state / 'aws' / file}: {message}\n"


def test_no_kubernetes_objects_is_incomplete_with_a_hint() -> None:
    result = run("scan", "--k8s", "fixtures/demo/aws", "--format", "json", "--fail-on", "none")
    assert result.returncode == 3
    document = json.loads(result.stdout)
    assert document["incomplete"] == [
        "no Kubernetes input (--k8s, or k8s/ in the state directory): no workload was read"
    ]
    assert (
        "iamscope: warning: fixtures/demo/aws: no Kubernetes objects found (those files look like an AWS "
        "snapshot: give them with --aws)" in result.stderr
    )


def test_state_without_k8s_is_incomplete(tmp_path: Path) -> None:
    state = tmp_path / "state"
    shutil.copytree(DEMO / "aws", state / "aws")
    result = run("scan", str(state), "--format", "json", "--fail-on", "none")
    assert result.returncode == 3
    assert json.loads(result.stdout)["complete"] is False


def rollout(name: str, sa: str) -> dict[str, Any]:
    obj = controller("Deployment", name, sa=sa, replicas=3)
    return {**obj, "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"}


def test_controllers_iamscope_does_not_name_are_workloads_and_own_their_replicasets() -> None:
    # Argo Rollouts: ReplicaSets (one per revision, old ones scaled to 0) are controlled by the Rollout
    inv = kube(
        rollout("api", "api"),
        controller("ReplicaSet", "api-6f7d9c", sa="api", replicas=0, owners=[owner("Rollout", "api")]),
        controller("ReplicaSet", "api-8b2e4a", sa="api", replicas=3, owners=[owner("Rollout", "api")]),
    )
    assert [(w.id, w.pod.service_account) for w in inv.workloads] == [("prod/Rollout/api", "api")]
    assert inv.warnings == ()


def test_a_mirror_pod_stays_a_pod() -> None:
    inv = kube(pod("kube-proxy-n1", "kube-system", owners=[owner("Node", "n1")]))
    assert [w.id for w in inv.workloads] == ["kube-system/Pod/kube-proxy-n1"]


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ("report-28901230", "prod/CronJob/report"),  # minutes since the epoch: late 2024
        ("report-20240101", "prod/Job/report-20240101"),  # a date, not a scheduled minute
        ("report-1700000000", "prod/Job/report-1700000000"),  # seconds since the epoch
    ],
)
def test_only_scheduled_minutes_make_a_cronjob(job: str, expected: str) -> None:
    # the CronJob controller names its Jobs <cronjob>-<scheduled time in minutes since the epoch>
    inv = kube(pod(f"{job}-x7k2p", sa="reporter", owners=[owner("Job", job)]))
    assert [w.id for w in inv.workloads] == [expected]


def test_markdown_keeps_wildcards_and_fits_a_comment() -> None:
    from iamscope.report.scan_markdown import cell, render_markdown

    assert cell("grants reading on *, arn:aws:secretsmanager:*:*:secret:team_a/*") == (
        "grants reading on \\*, arn:aws:secretsmanager:\\*:\\*:secret:team\\_a/\\*"
    )
    result = run("scan", str(DEMO), "--format", "markdown")
    assert len(result.stdout) < 65_536
    assert "\\*" in result.stdout  # the wildcard-resource pattern survives rendering

    class Big:  # a scan with many long findings
        complete = True
        gaps: tuple[str, ...] = ()
        findings = tuple(
            Finding(rule="excess-grant", severity="medium", subject=f"ns/Deployment/w{i}", message="x" * 900)
            for i in range(200)
        )

        def at_or_above(self, _: str) -> tuple[Finding, ...]:
            return ()

    text = render_markdown(Big(), "high")  # type: ignore[arg-type]
    assert len(text) < 65_536
    assert text.rstrip().endswith("or `--format json`._")
    assert "finding(s) left out of the table" in text


def test_explain_as_users_type_it() -> None:
    lower = run("explain", str(DEMO), "payments/deployment/payments-api")
    assert lower.returncode == 0, lower.stderr
    assert lower.stdout.startswith("payments/Deployment/payments-api (workload)\n")
    assert "what it mounts is readable by: 2 grant(s)\n" in lower.stdout
    unsuffixed = run(
        "explain", str(DEMO), "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/batch/backfill-db"
    )
    assert unsuffixed.stdout.startswith(
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/batch/backfill-db-Bf1Db8 (secret)\n"
    )


def test_config_region_must_be_a_region() -> None:
    with pytest.raises(InputError) as raised:
        parse_config({"aws": {"region": "eu-west-l"}}, source="c.yaml")
    assert str(raised.value) == "c.yaml: aws.region: 'eu-west-l' is not an AWS region name (like eu-west-1)"
    assert parse_config({"aws": {"region": "us-gov-west-1"}}, source="c.yaml").region == "us-gov-west-1"
