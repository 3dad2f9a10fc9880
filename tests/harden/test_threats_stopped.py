"""The six threats of DESIGN.md §1, as tests/scan/test_threats.py builds them (its THREATS rows and the
Config each builder returns), each hardened with `iamscope harden`'s artefacts: the Kyverno policy
refuses the request that carries the threat out (judged by tests/harden/kyverno_sim.py), and the Helm
values, applied to the fixture's own DaemonSets, make a re-scan clean of the threat's findings. Scans go
through tests/scan/builder.py `run`, as test_threats.py's do."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from iamscope.config import Config
from iamscope.harden.files import DRIVER_VALUES, FALCO, KYVERNO, PROVIDER_VALUES
from iamscope.harden.plan import RULE_INLINE, RULE_SPC_WRITERS, RULE_SYNC_NAMESPACES
from iamscope.scan import ScanResult
from tests.conftest import REPO
from tests.harden import kyverno_sim as sim
from tests.harden.common import ARGOCD, harden
from tests.scan.builder import State, run
from tests.scan.test_threats import (
    DRIVER,
    PROVIDER,
    THREATS,
    Threat,
    control_plane,
    inline_objects,
    provider_tokens,
    rotation_load,
    spc_writers,
    sync_to_secret,
)

AUTHENTICATED = "system:authenticated"
DEVELOPER = {"username": "dave@example.com", "groups": ["devs", AUTHENTICATED]}
PROVIDER_SA = f"system:serviceaccount:kube-system:{PROVIDER}"
# the provider chart's own default container securityContext (its values.yaml), what a plain install runs
CHART_SECURITY_CONTEXT = yaml.safe_load(
    (
        REPO / "tests/data/upstream/provider-aws/charts/secrets-store-csi-driver-provider-aws/values.yaml"
    ).read_text()
)["securityContext"]


def threat_of(build: Any) -> Threat:
    (threat,) = [p.values[0] for p in THREATS if p.values[0].build is build]
    return threat


def rules_of(result: ScanResult, rules: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(f.rule, f.subject) for f in result.findings if f.rule in rules}


def build(tmp_path: Path, builder: Any) -> tuple[State, Config, ScanResult]:
    """The threat fixture, scanned; its findings are exactly the THREATS row's."""
    state = State(tmp_path / "threat")
    config = builder(state, None)
    result = run(state, config)
    threat = threat_of(builder)
    assert {(r, s, sev) for r, s, sev in threat.expected} <= {
        (f.rule, f.subject, f.severity) for f in result.findings
    }
    return state, config, result


def objects(state: State, kind: str, name: str) -> dict[str, Any]:
    (obj,) = [o for o in state.k8s if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def rescan(state: State, root: Path, config: Config) -> ScanResult:
    state.root = root
    return run(state, config)


# --- threat 1 -----------------------------------------------------------------------------------------


def test_threat_1_a_developer_cannot_create_an_spc_naming_prods_secret(tmp_path: Path) -> None:
    state, config, result = build(tmp_path, spc_writers)
    plan, files = harden(result)
    assert ("spc-writers-are-platform", "Group/devs") in {(v.rule, v.subject) for v in plan.violations}
    # the SPC the threat needs: dev/reporting's, now naming prod/db (which dev/reporting's role reads)
    stolen = copy.deepcopy(objects(state, "SecretProviderClass", "reporting"))
    stolen["metadata"]["name"] = "prod-db"
    stolen["spec"]["parameters"]["objects"] = "- objectName: prod/db\n  objectType: secretsmanager\n"
    policy = files[KYVERNO]
    request = sim.admission_request(stolen, **DEVELOPER)
    assert sim.outcomes(policy, request) == {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "pass"}
    assert not sim.admits(policy, request)
    # nor retarget the SPC dev/reporting already has (an UPDATE that changes its spec)
    reporting = objects(state, "SecretProviderClass", "reporting")
    retargeted = copy.deepcopy(reporting)
    retargeted["spec"]["parameters"]["objects"] = stolen["spec"]["parameters"]["objects"]
    update = sim.admission_request(retargeted, operation="UPDATE", old=reporting, **DEVELOPER)
    assert sim.outcomes(policy, update) == {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "pass"}
    assert not sim.admits(policy, update)
    # the platform group the fixture's config names still may (it is who RBAC lets write SPCs)
    assert config.platform_groups == ("platform",)
    assert sim.admits(
        policy, sim.admission_request(stolen, username="pat@example.com", groups=["platform", AUTHENTICATED])
    )


# --- threat 2 -----------------------------------------------------------------------------------------


def apply_provider_values(state: State, values: dict[str, Any]) -> None:
    """The provider chart's values rendered onto the fixture's provider DaemonSet (its daemonset.yaml
    puts tolerations, nodeSelector and affinity on the pod, securityContext on the container)."""
    spec = objects(state, "DaemonSet", PROVIDER)["spec"]["template"]["spec"]
    spec["tolerations"] = copy.deepcopy(values["tolerations"])
    spec["nodeSelector"] = {**spec.get("nodeSelector", {}), **values["nodeSelector"]}
    spec["affinity"] = copy.deepcopy(values["affinity"])
    for container in spec["containers"]:
        container["securityContext"] = copy.deepcopy(values["securityContext"])


def apply_driver_values(state: State, values: dict[str, Any]) -> None:
    spec = objects(state, "DaemonSet", DRIVER)["spec"]["template"]["spec"]
    linux = values["linux"]
    spec["tolerations"] = copy.deepcopy(linux["tolerations"])
    spec["nodeSelector"] = {**spec.get("nodeSelector", {}), **linux["nodeSelector"]}
    spec["affinity"] = copy.deepcopy(linux["affinity"])


def as_chart_installs_it(state: State) -> None:
    """The fixture's provider container with the chart's default securityContext instead of the
    hardened one test_threats.py gives it."""
    for container in objects(state, "DaemonSet", PROVIDER)["spec"]["template"]["spec"]["containers"]:
        container["securityContext"] = copy.deepcopy(CHART_SECURITY_CONTEXT)


def test_threat_2_the_provider_is_locked_down_and_watched_but_its_rbac_is_not_hardens(tmp_path: Path) -> None:
    """What harden contributes against a compromised provider pod: a container it is harder to break
    out of (no privilege escalation, read-only root, no capabilities), placement on workers only, an
    audit alert and an admission denial when the provider's identity writes an SPC. The token-minting
    ClusterRole is the chart's RBAC, which harden does not write; the IAM half (no role of the
    provider or the node that reads secrets) is `iamscope generate`'s."""
    state, config, _ = build(tmp_path, provider_tokens)
    as_chart_installs_it(state)
    result = rescan(state, tmp_path / "as-installed", config)
    rules = ("provider-security-context", "provider-token-rbac")
    assert rules_of(result, rules) == {
        ("provider-security-context", f"kube-system/DaemonSet/{PROVIDER}"),
        ("provider-token-rbac", f"kube-system/ServiceAccount/{PROVIDER}"),
    }
    _, files = harden(result)
    apply_provider_values(state, files[PROVIDER_VALUES])
    hardened = rescan(state, tmp_path / "hardened", config)
    assert rules_of(hardened, rules) == {("provider-token-rbac", f"kube-system/ServiceAccount/{PROVIDER}")}
    # Falco: the provider's service account is not a platform principal, so its SPC writes alert
    lists = {i["list"]: i["items"] for i in files[FALCO] if "list" in i}
    assert PROVIDER_SA not in lists["iamscope_platform_principals"]
    # Kyverno: the provider's identity may not write an SPC, even where the platform is configured
    platform = dataclasses.replace(config, platform_principals=(ARGOCD,))
    policy = harden(run(state, platform))[1][KYVERNO]
    spc = {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "everything", "namespace": "prod"},
        "spec": {
            "provider": "aws",
            "parameters": {"objects": "- objectName: prod/db\n  objectType: secretsmanager\n"},
        },
    }
    request = sim.admission_request(
        spc, username=PROVIDER_SA, groups=["system:serviceaccounts", AUTHENTICATED]
    )
    assert sim.outcomes(policy, request)[RULE_SPC_WRITERS] == "fail"
    assert sim.admits(policy, sim.admission_request(spc, username=ARGOCD))


# --- threat 3 -----------------------------------------------------------------------------------------


def test_threat_3_secret_objects_outside_approved_namespaces_are_refused_and_sync_is_off(
    tmp_path: Path,
) -> None:
    state, config, result = build(tmp_path, sync_to_secret)
    assert config.approved_namespaces == ()
    plan, files = harden(result)
    assert files[DRIVER_VALUES]["syncSecret"] == {"enabled": False}
    assert files[PROVIDER_VALUES]["secrets-store-csi-driver"]["syncSecret"] == {"enabled": False}
    assert (RULE_SYNC_NAMESPACES, "legacy/SecretProviderClass/db") in {
        (v.rule, v.subject) for v in plan.violations
    }
    syncing = objects(state, "SecretProviderClass", "db")
    assert syncing["spec"]["secretObjects"]
    # with a platform principal configured, the platform itself is refused the sync in legacy
    platform = dataclasses.replace(config, platform_principals=(ARGOCD,))
    policy = harden(run(state, platform))[1][KYVERNO]
    request = sim.admission_request(syncing, username=ARGOCD)
    assert sim.outcomes(policy, request) == {RULE_SPC_WRITERS: "pass", RULE_SYNC_NAMESPACES: "fail"}
    assert not sim.admits(policy, request)
    # the same SPC without secretObjects (the twin's) is admitted
    mounted = copy.deepcopy(syncing)
    del mounted["spec"]["secretObjects"]
    assert sim.admits(policy, sim.admission_request(mounted, username=ARGOCD))
    # approving legacy is what turns sync back on, and admits the SPC
    approved = dataclasses.replace(platform, approved_namespaces=("legacy",))
    _, files = harden(run(state, approved))
    assert files[DRIVER_VALUES]["syncSecret"] == {"enabled": True}
    assert sim.admits(files[KYVERNO], request)


# --- threat 4 -----------------------------------------------------------------------------------------


def test_threat_4_the_test_pod_naming_prod_db_inline_is_refused(tmp_path: Path) -> None:
    state, _, result = build(tmp_path, inline_objects)
    plan, files = harden(result)
    assert (RULE_INLINE, "shared/Pod/smoke-test") in {(v.rule, v.subject) for v in plan.violations}
    smoke_test = objects(state, "Pod", "smoke-test")
    assert "objects" in smoke_test["spec"]["volumes"][0]["csi"]["volumeAttributes"]
    request = sim.admission_request(smoke_test, **DEVELOPER)
    assert sim.outcomes(files[KYVERNO], request) == {RULE_INLINE: "fail"}
    assert not sim.admits(files[KYVERNO], request)
    # the twin's pod (the SPC's objects only) is admitted by the same policy
    twin = State(tmp_path / "twin")
    inline_objects(twin, result)
    assert sim.admits(files[KYVERNO], sim.admission_request(objects(twin, "Pod", "smoke-test"), **DEVELOPER))
    # so is the fixture's Deployment that mounts its SPC the ordinary way (autogen rule passes)
    deployment = objects(state, "Deployment", "ci")
    assert sim.outcomes(files[KYVERNO], sim.admission_request(deployment, **DEVELOPER)) == {
        f"autogen-{RULE_INLINE}": "pass"
    }


# --- threat 5 -----------------------------------------------------------------------------------------


def test_threat_5_the_generated_poll_interval_clears_the_rate_limit(tmp_path: Path) -> None:
    state, config, result = build(tmp_path, rotation_load)
    _, files = harden(result)
    values = files[DRIVER_VALUES]
    assert values["enableSecretRotation"] is True
    # 2,000 replicas x ceil(11 / 10) GetParameters = 4,000 calls a poll, at 80% of 40 TPS: 125s
    assert values["rotationPollInterval"] == "2m5s"
    container = objects(state, "DaemonSet", DRIVER)["spec"]["template"]["spec"]["containers"][0]
    assert "--rotation-poll-interval=10s" in container["args"]
    container["args"] = [
        f"--rotation-poll-interval={values['rotationPollInterval']}"
        if a.startswith("--rotation-poll-interval=")
        else a
        for a in container["args"]
    ]
    hardened = rescan(state, tmp_path / "hardened", config)
    assert rules_of(hardened, ("rotation-rate-limit",)) == set()
    assert rules_of(result, ("rotation-rate-limit",)) != set()


# --- threat 6 -----------------------------------------------------------------------------------------


def test_threat_6_the_generated_values_keep_both_daemonsets_off_the_control_plane(tmp_path: Path) -> None:
    state, config, _ = build(tmp_path, control_plane)
    as_chart_installs_it(state)
    result = rescan(state, tmp_path / "as-installed", config)
    rules = ("provider-on-control-plane", "provider-security-context")
    assert rules_of(result, rules) == {
        ("provider-on-control-plane", f"kube-system/DaemonSet/{DRIVER}"),
        ("provider-on-control-plane", f"kube-system/DaemonSet/{PROVIDER}"),
        ("provider-security-context", f"kube-system/DaemonSet/{PROVIDER}"),
    }
    _, files = harden(result)
    apply_driver_values(state, files[DRIVER_VALUES])
    apply_provider_values(state, files[PROVIDER_VALUES])
    hardened = rescan(state, tmp_path / "hardened", config)
    assert rules_of(hardened, rules) == set()
    # the provider chart's subchart block places the driver the same way as the driver chart's values
    assert files[PROVIDER_VALUES]["secrets-store-csi-driver"]["linux"] == files[DRIVER_VALUES]["linux"]


@pytest.mark.parametrize(
    "builder",
    [spc_writers, provider_tokens, sync_to_secret, inline_objects, rotation_load, control_plane],
    ids=["threat 1", "threat 2", "threat 3", "threat 4", "threat 5", "threat 6"],
)
def test_every_threat_fixture_hardens_without_error(tmp_path: Path, builder: Any) -> None:
    """Each THREATS row is covered above; and harden runs on each fixture as it stands."""
    _, _, result = build(tmp_path, builder)
    plan, files = harden(result)
    assert sorted(files) == sorted([DRIVER_VALUES, FALCO, KYVERNO, PROVIDER_VALUES])
    assert plan.failure_action == "Enforce"
    assert len(THREATS) == 6
