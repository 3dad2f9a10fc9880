"""rotation-rate-limit: the load DESIGN.md §4 describes (per mounted pod volume and poll, one
DescribeSecret per Secrets Manager object and one GetParameters per ten SSM objects, per region)
against the configured quotas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iamscope.checks.rotation import duration
from iamscope.config import Config
from tests.scan.builder import ACCOUNT, REGION, State, objects, run

DRIVER_IMAGE = "registry.k8s.io/csi-secrets-store/driver:v1.4.7"


def driver(state: State, args: list[str]) -> None:
    labels = {"app": "secrets-store-csi-driver"}
    state.k8s.append(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "csi-secrets-store", "namespace": "kube-system", "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "secrets-store", "image": DRIVER_IMAGE, "args": args}]},
                },
            },
        }
    )


def fleet(state: State, replicas: int, secrets: int, parameters: int) -> None:
    names = [f"prod/s{i}" for i in range(secrets)]
    for name in names:
        state.secret(name)
    params = [f"/prod/p{i}" for i in range(parameters)]
    state.spc("prod", "api", objects(*names) + objects(*params, type="ssmparameter"))
    state.workload("Deployment", "prod", "api", "api", "api")
    for obj in state.k8s:
        if obj["kind"] == "Deployment":
            obj["spec"]["replicas"] = replicas


@pytest.mark.parametrize(
    ("args", "replicas", "secrets", "parameters", "config", "expected"),
    [
        # 600 pods x 11 parameters = 2 GetParameters each = 1,200 a poll / 120 s = 10/s: under 40 TPS
        (["--enable-secret-rotation=true"], 600, 0, 11, {}, []),
        # 3,000 pods x 2 calls / 120 s = 50/s: over SSM's 40 TPS; 6,000 calls / 40 = an interval of 150 s
        (["--enable-secret-rotation=true"], 3000, 0, 11, {}, [("ssm:eu-west-1:" + ACCOUNT, "150s")]),
        # the same with rotation off: no polling at all
        ([], 3000, 0, 11, {}, []),
        # 10 s polls: 1,000 pods x 5 DescribeSecret = 5,000 / 10 = 500/s, over a configured quota of 100
        (
            ["--enable-secret-rotation", "--rotation-poll-interval=10s"],
            1000,
            5,
            0,
            {"secretsmanager_rps": 100.0},
            [("secretsmanager:eu-west-1:" + ACCOUNT, "50s")],
        ),
        # the interval as a separate argument (Go's flag package takes `--flag value` for non-booleans)
        (
            ["--enable-secret-rotation=true", "--rotation-poll-interval", "10s"],
            1000,
            5,
            0,
            {"secretsmanager_rps": 100.0},
            [("secretsmanager:eu-west-1:" + ACCOUNT, "50s")],
        ),
    ],
    ids=[
        "under the SSM quota",
        "over the SSM quota",
        "rotation off",
        "a configured Secrets Manager quota",
        "the interval as its own argument",
    ],
)
def test_rotation_load_against_the_quota(
    tmp_path: Path,
    args: list[str],
    replicas: int,
    secrets: int,
    parameters: int,
    config: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    state = State(tmp_path)
    driver(state, args)
    fleet(state, replicas, secrets, parameters)
    result = run(state, Config(region=REGION, **config))
    found = [f for f in result.findings if f.rule == "rotation-rate-limit"]
    assert [(f.subject, f.message.split("at least ")[1].split(" would")[0]) for f in found] == expected
    if expected and expected[0][0].startswith("ssm"):
        assert found[0].message == (
            f"rotation polls every 120s make 6000 ssm calls a poll, 50.0/s against a quota of 40/s in {REGION} "
            f"(account {ACCOUNT}); an interval of at least 150s would fit; most calls come from prod/Deployment/api (6000)"
        )


@pytest.mark.parametrize(
    ("text", "seconds"), [("2m", 120.0), ("1m30s", 90.0), ("90s", 90.0), ("1h", 3600.0), ("2x", None)]
)
def test_go_durations(text: str, seconds: float | None) -> None:
    assert duration(text) == seconds
