"""What a reviewer of generate's output must be told, and how its files behave on disk: objects a pod
overrides inline, objects several service accounts read, the default service account, an existing
Pod Identity association, mounts ASCP fails, flavor quotas, name collisions outside the selection,
all-or-nothing writes and pruning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from iamscope.config import Config
from iamscope.files import InputReader
from iamscope.generate import verified_plan
from iamscope.generate.plan import GeneratePlan
from iamscope.state import load_inventory, sources
from tests.conftest import REPO
from tests.k8s.helpers import run_cli
from tests.scan.builder import State, objects

DEMO = REPO / "fixtures" / "demo"
CONFIG = DEMO / "iamscope.yaml"


def plan_of(state: State) -> GeneratePlan:
    state.write()
    inventory = load_inventory(sources(state.root, (), None), InputReader())
    return verified_plan(inventory, Config(region="eu-west-1"))


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_objects_a_pod_names_inline_are_granted_with_a_warning_and_sharing_is_named(tmp_path: Path) -> None:
    """The driver copies a pod volume's volumeAttributes over the SPC's parameters (DESIGN.md §4): a
    pod in dev can name prod's secret without touching any SPC. Each workload declares it, so no scan
    rule sees a stolen grant: generate must say so."""
    state = State(tmp_path)
    db = state.secret("prod/db")
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    state.spc("dev", "tester", objects("dev/own"))
    inline = yaml.safe_dump(objects("prod/db"))
    state.workload("Pod", "dev", "tester", "tester", "tester", volume_attributes={"objects": inline})
    plan = plan_of(state)
    assert {r.key: r.secret_arns for r in plan.roles} == {"dev/tester": (db,), "prod/api": (db,)}
    assert (
        "dev/Pod/tester volume secrets: the pod sets objects in its volumeAttributes, which the driver copies "
        "over the SecretProviderClass: granted as the pod declares them, but review them (whoever can create "
        "pods in dev can name any secret this way)"
    ) in plan.warnings
    assert (
        f"dev/ServiceAccount/tester: {db} is also granted to prod/api across namespaces: check that each should read it"
    ) in plan.warnings
    assert (
        f"prod/ServiceAccount/api: {db} is also granted to dev/tester across namespaces: check that each should read it"
    ) in plan.warnings


def test_the_default_service_account_is_named(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.secret("prod/db")
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "default", "api")
    plan = plan_of(state)
    assert (
        "prod/ServiceAccount/default: the namespace's default service account mounts secrets: every pod in "
        "prod that names no service account of its own can read them"
    ) in plan.warnings


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"usePodIdentity": "yes"}, "usePodIdentity 'yes' is not a boolean ASCP reads"),
        (
            {"failoverRegion": "eu-west-1"},
            "failoverRegion eu-west-1 is the region itself: ASCP rejects the mount",
        ),
    ],
    ids=["usePodIdentity-yes (Go's ParseBool refuses it)", "failover-equals-region"],
)
def test_a_mount_ascp_fails_grants_nothing(tmp_path: Path, parameters: dict[str, str], problem: str) -> None:
    """A mount ASCP refuses never reads anything: writing a role for it would be a guess."""
    state = State(tmp_path)
    state.secret("prod/db")
    state.spc("prod", "api", objects("prod/db"), **parameters)
    state.workload("Deployment", "prod", "api", "api", "api")
    plan = plan_of(state)
    assert plan.roles == ()
    assert plan.warnings == (
        f"prod/Deployment/api volume secrets: nothing granted: the mount fails ({problem})",
        "prod/ServiceAccount/api: none of its objects could be resolved: no role written for it",
    )


def test_an_existing_pod_identity_association_is_named_with_the_import_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """EKS allows one association per service account: a second CreatePodIdentityAssociation fails."""
    code, _, err = run_cli(
        ["generate", str(DEMO), "--config", str(CONFIG), "--out", str(tmp_path), "-q"], capsys
    )
    assert code == 0
    assert (
        "iamscope: warning: analytics/ServiceAccount/reporting already has the Pod Identity association "
        "a-k7xq2mfbw9rzd3hvp (role arn:aws:iam::111122223333:role/eks/prod-eu-reporting): import it (terraform "
        "import 'aws_eks_pod_identity_association.this[\"analytics/reporting\"]' prod-eu,a-k7xq2mfbw9rzd3hvp) so "
        "the module updates it, or set create_pod_identity_associations = false and point it at the new role "
        "yourself\n"
    ) in err


def test_a_flavor_policy_over_the_managed_policy_quota_is_named(tmp_path: Path) -> None:
    """IAM quotas: a managed policy holds at most 6,144 characters (the inline quota is 10,240)."""
    from iamscope.generate.flavors import flavor_warnings

    state = State(tmp_path)
    names = [f"prod/service-with-a-long-name/credential-{i:03d}" for i in range(60)]
    for name in names:
        state.secret(name)
    state.spc("prod", "api", objects(*names))
    state.workload("Deployment", "prod", "api", "api", "api")
    plan = plan_of(state)
    assert not any("over the" in w for w in plan.warnings)  # within the inline quota of terraform/
    (warning,) = flavor_warnings(plan, ["irsa-v5", "irsa-v6"])
    assert warning.startswith("prod/ServiceAccount/api: its policy is ")
    assert warning.endswith(
        " over the 6,144 IAM allows for the managed policy the irsa-v5 flavor creates: apply will fail"
    )


def _template_config(tmp_path: Path, template: str) -> Path:
    config = yaml.safe_load(CONFIG.read_text()) | {"generate": {"role_name": template}}
    path = tmp_path / "iamscope.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_name_collision_stops_only_runs_that_select_a_colliding_service_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _template_config(tmp_path, "{service_account}")
    args = ["generate", str(DEMO), "--config", str(config)]
    code, _, err = run_cli(
        [*args, "--out", str(tmp_path / "a"), "--service-account", "payments/refunds"], capsys
    )
    assert code == 0, err
    assert (
        json.loads((tmp_path / "a" / "iamscope.auto.tfvars.json").read_text())["service_accounts"][
            "payments/refunds"
        ]["role_name"]
        == "refunds"
    )
    code, _, err = run_cli(
        [*args, "--out", str(tmp_path / "b"), "--service-account", "payments/notifier"], capsys
    )
    assert code == 2
    assert "gives checkout/notifier and payments/notifier the same role name 'notifier'" in err


def test_a_failed_write_leaves_every_earlier_output_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    run_cli(["generate", str(DEMO), "--config", str(CONFIG), "--out", str(out), "-q"], capsys)
    blocker = out / "trust" / "payments" / "refunds.json"
    blocker.unlink()
    blocker.mkdir()  # the file cannot be replaced now
    before = files(out)
    config = yaml.safe_load(CONFIG.read_text()) | {"generate": {"role_path": "/new/"}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    code, _, err = run_cli(
        ["generate", str(DEMO), "--config", str(tmp_path / "c.yaml"), "--out", str(out)], capsys
    )
    assert code == 2
    assert err.splitlines()[-1].startswith(f"iamscope: error: {blocker}: cannot write: ")
    assert files(out) == before
    assert not list(out.rglob(".iamscope-*.tmp"))


def test_a_whole_cluster_run_prunes_service_accounts_that_are_gone_a_filtered_run_does_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    shutil.copytree(DEMO, state)
    out = tmp_path / "out"
    run_cli(["generate", str(state), "--config", str(CONFIG), "--out", str(out), "-q"], capsys)
    assert (out / "policies" / "legacy" / "erp-connector.json").exists()
    (state / "k8s" / "legacy.yaml").unlink()  # the legacy namespace is gone
    run_cli(
        [
            "generate",
            str(state),
            "--config",
            str(CONFIG),
            "--out",
            str(out),
            "-q",
            "--service-account",
            "payments/refunds",
        ],
        capsys,
    )
    assert (out / "policies" / "legacy" / "erp-connector.json").exists()
    run_cli(["generate", str(state), "--config", str(CONFIG), "--out", str(out), "-q"], capsys)
    assert not (out / "policies" / "legacy").exists()
    assert not (out / "trust" / "legacy").exists()
    tfvars = json.loads((out / "iamscope.auto.tfvars.json").read_text())
    assert sorted(
        p.relative_to(out / "policies").as_posix() for p in (out / "policies").rglob("*.json")
    ) == sorted(f"{key}.json" for key in tfvars["service_accounts"])


def test_a_service_account_name_too_long_for_a_file_name_is_refused_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kubernetes allows 253-character service account names; `<name>.json` then exceeds 255 bytes."""
    state = State(tmp_path / "state")
    state.secret("prod/db")
    long = "a" * 252
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", long, "api")
    state.write()
    out = tmp_path / "out"
    code, _, err = run_cli(["generate", str(state.root), "--out", str(out)], capsys)
    assert code == 2
    assert err.splitlines()[-1] == (
        f"iamscope: error: {out}/policies/prod/{long}.json: the file name is longer than the 255 bytes a file "
        "system allows"
    )
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))
