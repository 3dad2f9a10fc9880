"""bin/demo, the README's first command, runs and shows what it promises: the scan of the demo state
with its findings and paths, then every path to one secret."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO


def test_demo_runs_and_shows_findings_and_paths() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "bin" / "demo")], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "$ iamscope scan fixtures/demo --config fixtures/demo/iamscope.yaml\n" in out
    assert "  CRITICAL  cross-workload-grant: can read 9 secret(s)/parameter(s)" in out
    assert "Summary: 2 critical, 11 high, 8 medium, 1 low; 13 at or above --fail-on high\n" in out
    assert "(exit 1: findings at or above --fail-on high, as a pipeline gate would see them)\n" in out
    assert "is reached by: 7 path(s)\n" in out
    assert "$ iamscope generate fixtures/demo --config fixtures/demo/iamscope.yaml --out out/demo\n" in out
    assert "13 role(s) for account 111122223333:\n" in out
    assert '"Sid": "DecryptSecrets"' in out
    assert (
        "$ iamscope diff fixtures/demo fixtures/demo-pr --config fixtures/demo/iamscope.yaml --format markdown\n"
        in out
    )
    assert (
        "**iamscope diff** :x: 10 new access(es) (10 escalation(s)), 0 removed; 6 new high/critical finding(s); 1 value(s) unknown until apply\n"
        in out
    )
    assert "(exit 1: the change grants new access, as a pipeline gate would see it)\n" in out


def test_demo_apply_creates_the_generated_roles_in_moto() -> None:
    """The README's Terraform walk-through: generate, then terraform apply against moto."""
    result = subprocess.run(
        ["bash", str(REPO / "bin" / "demo-apply")], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "Apply complete! Resources: 26 added, 0 changed, 0 destroyed." in out
    assert '"arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/db-Xy12Ab"' in out
    assert out.rstrip().endswith("13 roles in moto's account 111122223333")
    assert not (REPO / "terraform" / "moto_override.tf").exists()
    assert not (REPO / "terraform" / "terraform.tfstate").exists()
