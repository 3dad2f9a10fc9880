"""Running the repository's Terraform module in tests: find the terraform binary and the local
provider mirror (never hard-coded: the folder holding registry.terraform.io/hashicorp/aws), copy the
module to a scratch directory, init it offline, and start moto in server mode to apply against."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

MODULE = REPO / "terraform"
MIRROR_ROOTS = (
    "/opt",
    "/usr/local/share/terraform",
    "/usr/share/terraform",
    "~/.terraform.d",
    "~/.local/share/terraform",
    "/usr/local/lib",
)
PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"


def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("TERRAFORM IS NOT INSTALLED: the Terraform module tests cannot run on this machine")
    return binary


def plugin_dir() -> Path:
    """The folder holding registry.terraform.io/hashicorp/aws (IAMSCOPE_TF_PLUGIN_DIR overrides)."""
    if os.environ.get("IAMSCOPE_TF_PLUGIN_DIR"):
        return Path(os.environ["IAMSCOPE_TF_PLUGIN_DIR"])
    for root in MIRROR_ROOTS:
        base = Path(root).expanduser()
        if not base.is_dir():
            continue
        for dirpath, dirnames, _ in os.walk(base):
            if (Path(dirpath) / PROVIDER).is_dir():
                return Path(dirpath)
            if len(Path(dirpath).relative_to(base).parts) >= 3:
                dirnames.clear()
    raise AssertionError(
        "terraform is installed but no provider mirror holding registry.terraform.io/hashicorp/aws was "
        f"found under {', '.join(MIRROR_ROOTS)}: set IAMSCOPE_TF_PLUGIN_DIR"
    )


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env |= {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"}
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    if not Path(env.get("TF_CLI_CONFIG_FILE", "/nonexistent")).is_file():
        env["TF_CLI_CONFIG_FILE"] = os.devnull  # no "cannot open CLI configuration" warning
    return env


def run(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [terraform_binary(), f"-chdir={workdir}", *args],
        capture_output=True,
        text=True,
        env=environment(),
        check=False,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"terraform {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def module_copy(target: Path, *, tests: bool = False) -> Path:
    """The module's .tf files (and its tests/ when asked) in a scratch directory, initialised offline."""
    target.mkdir(parents=True, exist_ok=True)
    for path in MODULE.glob("*.tf"):
        if not path.name.endswith("_override.tf"):  # bin/demo-apply's, if one was left behind
            shutil.copy(path, target / path.name)
    if tests:
        shutil.copytree(MODULE / "tests", target / "tests")
    run(target, "init", "-backend=false", f"-plugin-dir={plugin_dir()}", "-no-color")
    return target


def provider_override(workdir: Path, endpoint: str) -> None:
    """Point the module's aws provider at moto (DESIGN.md §6)."""
    (workdir / "aws_override.tf").write_text(
        f"""provider "aws" {{
  region                      = var.region
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
    iam = "{endpoint}"
    sts = "{endpoint}"
    eks = "{endpoint}"
  }}
}}
"""
    )


def plan_json(workdir: Path, *args: str) -> dict[str, Any]:
    run(workdir, "plan", "-out=tfplan", "-no-color", *args)
    shown = run(workdir, "show", "-json", "tfplan")
    return json.loads(shown.stdout)  # type: ignore[no-any-return]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def moto_server(account: str) -> Iterator[str]:
    """moto in server mode, in its own process, answering as `account`."""
    port = _free_port()
    env = dict(os.environ) | {"MOTO_ACCOUNT_ID": account}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("moto server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
