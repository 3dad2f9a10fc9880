"""What generate says about limits a role cannot get around: IAM's size quota on a role's inline
policies, and the account the roles are created in when the cluster lives in another one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from iamscope.config import Config
from iamscope.files import InputReader
from iamscope.generate import verified_plan
from iamscope.state import load_inventory, sources
from tests.conftest import REPO
from tests.k8s.helpers import run_cli
from tests.scan.builder import State, objects

DEMO = REPO / "fixtures" / "demo"


@pytest.mark.parametrize(("count", "warned"), [(40, False), (120, True)])
def test_a_policy_over_the_inline_quota_is_reported(tmp_path: Path, count: int, warned: bool) -> None:
    """IAM quotas: a role's inline policies may hold at most 10,240 characters (whitespace aside)."""
    state = State(tmp_path)
    names = [f"prod/service-with-a-long-name/credential-{i:03d}" for i in range(count)]
    for name in names:
        state.secret(name)
    state.service_account("prod", "api")
    state.spc("prod", "api", objects(*names))
    state.workload("Deployment", "prod", "api", "api", "api")
    state.write()
    plan = verified_plan(
        load_inventory(sources(tmp_path, (), None), InputReader()), Config(region="eu-west-1")
    )
    over = [w for w in plan.warnings if "over the 10,240 IAM allows" in w]
    assert len(plan.roles[0].secret_arns) == count
    assert bool(over) == warned
    if warned:
        assert over[0].startswith("prod/ServiceAccount/api: its policy is ")


def test_roles_in_another_account_than_the_cluster_trust_that_accounts_provider(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cross-account IRSA: a role trusts an IAM OIDC provider of its own account, created there for
    the cluster's issuer (EKS: authenticate to another account with IRSA)."""
    state = tmp_path / "state"
    shutil.copytree(DEMO, state)
    (state / "aws" / "sts-get-caller-identity.json").write_text(
        json.dumps(
            {"UserId": "AIDAEXAMPLE", "Account": "444455556666", "Arn": "arn:aws:iam::444455556666:user/ci"}
        )
    )
    out = tmp_path / "out"
    code, _, err = run_cli(
        ["generate", str(state), "--config", str(DEMO / "iamscope.yaml"), "--out", str(out), "-q"], capsys
    )
    assert code == 0, err
    provider = "arn:aws:iam::444455556666:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/B7E3F1A9C2D4E6F8A0B1C3D5E7F9A1B3"
    assert json.loads((out / "iamscope.auto.tfvars.json").read_text())["oidc_provider_arn"] == provider
    trust = json.loads((out / "trust" / "payments" / "refunds.json").read_text())
    assert trust["Statement"][0]["Principal"] == {"Federated": provider}
    assert (
        "iamscope: warning: the roles are for account 444455556666 and cluster prod-eu is in 111122223333: "
        f"IRSA needs the IAM OIDC provider {provider} in 444455556666 (cross-account IRSA)\n"
    ) in err
