"""A collection that cannot work as set up is a usage error (exit 2, one line, nothing written), found
before anything is asked of anyone, not a row of "incomplete" gaps (exit 3): a region name AWS does
not have, no AWS credentials at all, a cluster name EKS would refuse or one given without AWS
collection, a kubeconfig whose exec credential plugin is missing. And the Kubernetes client's own log
lines (its exec errors on the root logger, urllib3's retry warnings) never reach the terminal."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import botocore.loaders
import pytest
import yaml

from iamscope.collect.aws import check_region, collect_aws
from iamscope.collect.kube import kube_client
from iamscope.errors import UsageError
from tests.collect.conftest import session
from tests.conftest import REPO


def iamscope(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamscope", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A shell with dummy AWS keys and an AWS endpoint nobody answers on (nothing may be asked), and no
    kubeconfig."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBECONFIG"))}
    return base | {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
    }


# --- regions -----------------------------------------------------------------------------------------


def _botocore_regions() -> list[str]:
    partitions = botocore.loaders.create_loader().load_data("partitions")["partitions"]
    return sorted(r for p in partitions for r in p["regions"] if not r.endswith("-global"))


@pytest.mark.parametrize("region", _botocore_regions())
def test_every_region_botocore_knows_is_accepted(region: str) -> None:
    assert check_region(region) == region


def test_the_region_shapes_of_every_partition_are_among_them() -> None:
    assert {"us-gov-west-1", "cn-north-1", "eu-isoe-west-1", "us-isob-east-1"} <= set(_botocore_regions())


@pytest.mark.parametrize(
    "region", ["eu west 1", "eu-west", "EU-WEST-1", "eu-west-1 ", "", "../x-1", "aws-global"]
)
def test_a_region_that_is_no_region_name_is_a_usage_error_before_any_call(
    region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    aws = session()
    sent: list[str] = []
    aws.events.register("before-send", lambda **kwargs: sent.append("x"))
    with pytest.raises(UsageError, match="is not an AWS region name"):
        collect_aws(aws, regions=["eu-west-1", region], cluster=None)
    assert sent == []


def test_collect_with_a_bad_region_is_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "state"
    result = iamscope(env, "collect", "--out", str(out), "--no-k8s", "--region", "eu west 1")
    assert result.returncode == 2
    assert result.stderr == (
        "iamscope: error: 'eu west 1' is not an AWS region name (like eu-west-1, us-gov-west-1 or "
        "cn-north-1)\n"
    )
    assert not out.exists()


# --- credentials -------------------------------------------------------------------------------------


def test_collect_without_any_aws_credentials_is_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    out = tmp_path / "state"
    result = iamscope(env, "collect", "--out", str(out), "--no-k8s", "--region", "eu-west-1")
    assert result.returncode == 2
    assert result.stderr.startswith("iamscope: error: no AWS credentials found (")
    assert len(result.stderr.splitlines()) == 1
    assert not out.exists()


# --- the cluster name --------------------------------------------------------------------------------


def test_a_cluster_without_aws_collection_is_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    result = iamscope(env, "collect", "--out", str(tmp_path / "s"), "--no-aws", "--cluster", "bad name")
    assert result.returncode == 2
    assert result.stderr == "iamscope: error: --cluster needs AWS collection: drop --no-aws\n"


def test_a_cluster_name_eks_would_refuse_is_exit_2_before_any_call(
    env: dict[str, str], tmp_path: Path
) -> None:
    args = ("--no-k8s", "--region", "eu-west-1", "--cluster", "bad name")
    result = iamscope(env, "collect", "--out", str(tmp_path / "s"), *args)
    assert result.returncode == 2
    assert result.stderr == (
        "iamscope: error: 'bad name' is not an EKS cluster name (1 to 100 letters, digits, hyphens and "
        "underscores, starting with a letter or digit)\n"
    )


# --- a kubeconfig whose exec plugin is missing -------------------------------------------------------


def _exec_kubeconfig(path: Path) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "prod", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [
            {
                "name": "eks",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "iamscope-test-no-such-authenticator",
                        "args": ["token", "-i", "prod"],
                    }
                },
            }
        ],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "eks"}}],
        "current-context": "prod",
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_a_missing_exec_plugin_is_exit_2_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    kubeconfig = _exec_kubeconfig(tmp_path / "kubeconfig")
    out = tmp_path / "state"
    result = iamscope(env, "collect", "--out", str(out), "--no-aws", "--kubeconfig", str(kubeconfig))
    assert result.returncode == 2
    # no "ERROR:root:..." from the client, no urllib3 "Retrying" warnings
    assert result.stderr == (
        f"iamscope: error: kubeconfig --kubeconfig {kubeconfig}: the exec credential plugin failed: "
        "[Errno 2] No such file or directory: 'iamscope-test-no-such-authenticator'\n"
    )
    assert not out.exists()


def test_the_client_logs_are_kept_from_the_terminal_and_the_logging_setup_is_left_alone(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), list(root.filters), logging.getLogger("urllib3").propagate)
    with pytest.raises(UsageError, match="the exec credential plugin failed"):
        kube_client(None, str(_exec_kubeconfig(tmp_path / "kubeconfig")))
    assert (list(root.handlers), list(root.filters), logging.getLogger("urllib3").propagate) == before
    assert capfd.readouterr().err == ""


def test_an_unreachable_api_server_is_one_line_and_no_log_noise(env: dict[str, str], tmp_path: Path) -> None:
    """urllib3 logs a warning for each connection retry; with no logging configured Python would print
    them bare on stderr."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config), encoding="utf-8")
    out = tmp_path / "state"
    result = iamscope(env, "collect", "--out", str(out), "--no-aws", "--kubeconfig", str(kubeconfig), "-q")
    assert result.returncode == 3
    assert result.stderr == (
        "iamscope: incomplete: list namespaces (v1): cannot connect to the API server: "
        "HTTPConnection(host='127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] "
        "Connection refused; so no kind was listed\n"
    )
