"""Fixtures of the collector tests: moto in server mode (DESIGN.md §6) in its own process on a free
port, answering as the demo's account; a clean AWS environment that points boto3 at it through
AWS_ENDPOINT_URL (honoured by botocore itself) with dummy credentials; and a boto3 session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.retries.bucket import TokenBucket
from botocore.retries.standard import ExponentialBackoff

ACCOUNT = "111122223333"
REGIONS = ("eu-west-1", "eu-central-1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _moto(extra_env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"MOTO_ACCOUNT_ID": ACCOUNT, **extra_env}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError("moto server exited at start") from None
                time.sleep(0.05)
        else:
            raise AssertionError("moto server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto without AWS managed policies (they cost a second per authorization-details call)."""
    yield from _moto({})


@pytest.fixture(scope="session")
def moto_managed_server() -> Iterator[str]:
    """moto that knows the AWS managed policies, for the demo round trip (its roles attach some)."""
    yield from _moto({"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})


def clean_aws_environment(env: pytest.MonkeyPatch, endpoint: str, nowhere: Path) -> None:
    """No profile, config or credentials of the machine leak in: dummy keys only, every AWS API at
    `endpoint` (AWS_ENDPOINT_URL, which botocore honours by itself)."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            env.delenv(key)
    env.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    env.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    env.setenv("AWS_CONFIG_FILE", str(nowhere / "no-aws-config"))
    env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere / "no-aws-credentials"))
    env.setenv("AWS_EC2_METADATA_DISABLED", "true")
    env.setenv("AWS_ENDPOINT_URL", endpoint)


@contextmanager
def module_environment(endpoint: str, nowhere: Path) -> Iterator[pytest.MonkeyPatch]:
    """The same, for a module-scoped fixture (pytest's monkeypatch is function-scoped)."""
    with pytest.MonkeyPatch.context() as env:
        clean_aws_environment(env, endpoint, nowhere)
        yield env


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries still happen, as many as configured, but without botocore's jittered backoff sleeps
    and without the adaptive mode's client-side rate limiting after a throttle (seconds each)."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    monkeypatch.setattr(TokenBucket, "acquire", lambda self, amount=1, block=True: True)


@pytest.fixture
def moto(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A clean moto account, reached through AWS_ENDPOINT_URL."""
    reset(moto_server)
    clean_aws_environment(monkeypatch, moto_server, tmp_path)
    return moto_server


_LOADER = botocore.loaders.create_loader()


def session(region: str = REGIONS[0]) -> Any:
    """A fresh boto3 session (tests register event handlers on it), sharing one loader of botocore's
    service models so that each new session does not parse them again."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=core, region_name=region)
