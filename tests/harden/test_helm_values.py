"""The hardened Helm values `iamscope harden` writes for the driver chart (kubernetes-sigs) and the AWS
provider chart (aws): only value names the charts define, and what they set: DaemonSets on workers only
(tolerating the workers' own taints), a locked-down provider container, sync only when needed, and a
rotation interval that fits the API quota."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from iamscope.config import Config
from iamscope.harden import HardenPlan, harden_files, harden_plan
from iamscope.harden.files import DRIVER_VALUES, PROVIDER_VALUES
from tests.conftest import REPO
from tests.harden.common import DEMO, demo, demo_config, harden, scan_state
from tests.k8s.helpers import run_cli
from tests.scan.builder import REGION, State, run
from tests.scan.test_threats import control_plane, rotation_load

CHARTS = REPO / "tests" / "data" / "charts"
# charts/secrets-store-csi-driver/README.md parameter table (see tests/data/charts/SOURCES.md)
DRIVER_PARAMETERS = set((CHARTS / "secrets-store-csi-driver.parameters.txt").read_text().split())
# SOURCES.md: "A parameter whose value is a map or list (linux.affinity, linux.tolerations,
# linux.nodeSelector) takes any content below its name" (and their windows twins)
MAP_PARAMETERS = {
    f"{os}.{p}" for os in ("linux", "windows") for p in ("affinity", "tolerations", "nodeSelector")
}
PROVIDER_CHART = yaml.safe_load(
    (
        REPO / "tests/data/upstream/provider-aws/charts/secrets-store-csi-driver-provider-aws/values.yaml"
    ).read_text()
)
# maps in the provider chart's values.yaml whose content is free-form Kubernetes objects
PROVIDER_MAPS = {"affinity", "securityContext", "nodeSelector", "tolerations"}
SUBCHART = "secrets-store-csi-driver"
CONTROL_PLANE = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
WORKER = "node-role.kubernetes.io/worker"


def leaves(value: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the scalars, empty maps and lists (a list is a leaf: Helm replaces lists whole)."""
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in leaves(v, f"{prefix}.{k}" if prefix else str(k))]
    return [prefix]


def driver_parameter(path: str) -> bool:
    return path in DRIVER_PARAMETERS or any(path.startswith(f"{m}.") for m in MAP_PARAMETERS)


def placements(files: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The three placements harden writes: the driver chart's linux block, the provider chart's own,
    and the provider chart's driver subchart block."""
    provider = files[PROVIDER_VALUES]
    return {
        "driver chart": files[DRIVER_VALUES]["linux"],
        "provider chart": {k: provider[k] for k in ("tolerations", "nodeSelector", "affinity")},
        "provider chart, driver subchart": provider[SUBCHART]["linux"],
    }


def terms(placement: dict[str, Any]) -> list[list[dict[str, Any]]]:
    selector = placement["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    return [t["matchExpressions"] for t in selector["nodeSelectorTerms"]]


# --- value names --------------------------------------------------------------------------------------


def test_every_driver_value_is_a_chart_parameter() -> None:
    values = demo()[1][DRIVER_VALUES]
    paths = leaves(values)
    assert sorted(p for p in paths if not driver_parameter(p)) == []
    assert {p for p in paths if p in DRIVER_PARAMETERS} == {
        "linux.tolerations",
        "linux.nodeSelector",
        "syncSecret.enabled",
        "enableSecretRotation",
        "rotationPollInterval",
    }
    assert any(p.startswith("linux.affinity.") for p in paths)


def test_the_parameter_check_can_fail() -> None:
    assert not driver_parameter("linux.tolerationz")
    assert not driver_parameter("syncSecret.enable")
    assert not driver_parameter("linux.image.repository.extra")


def test_every_provider_value_is_a_chart_value() -> None:
    values = demo()[1][PROVIDER_VALUES]
    assert set(values) <= set(PROVIDER_CHART)
    assert set(values) == {*PROVIDER_MAPS, SUBCHART}
    # the subchart block goes to the driver chart: its names are the driver's parameters, or the
    # subchart settings the provider chart itself defines there (install, fullnameOverride, ...)
    # (`install` is the provider chart's condition on the subchart, not a driver parameter)
    subchart = leaves(values[SUBCHART])
    assert [p for p in subchart if not (driver_parameter(p) or p == "install")] == []


def test_both_files_set_the_same_driver_settings() -> None:
    files = demo()[1]
    assert files[PROVIDER_VALUES][SUBCHART] == files[DRIVER_VALUES]


# --- placement ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["driver chart", "provider chart", "provider chart, driver subchart"])
def test_daemonsets_stay_off_control_planes(which: str) -> None:
    placement = placements(demo()[1])[which]
    for toleration in placement["tolerations"]:
        assert toleration.get("key") not in CONTROL_PLANE
        assert toleration.get("key"), "operator: Exists without a key tolerates every taint"
    (expressions,) = terms(placement)
    for key in CONTROL_PLANE:
        assert {"key": key, "operator": "DoesNotExist"} in expressions
    # the charts' own exclusions are kept: virtual-kubelet nodes (driver) and Fargate (provider)
    chart_defaults = [
        *terms(PROVIDER_CHART[SUBCHART]["linux"])[0],
        *terms({"affinity": PROVIDER_CHART["affinity"]})[0],
    ]
    assert {e["key"] for e in chart_defaults} == {"type", "eks.amazonaws.com/compute-type"}
    for expression in chart_defaults:
        assert expression in expressions


def test_the_provider_container_is_locked_down() -> None:
    context = demo()[1][PROVIDER_VALUES]["securityContext"]
    assert context == {
        "privileged": False,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _cluster(tmp_path: Path, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    state = State(tmp_path)
    state.k8s.extend(nodes)
    return harden(run(state, Config(region=REGION)))[1]


def node(
    name: str, labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels or {}},
    }
    if taints:
        obj["spec"] = {"taints": taints}
    return obj


CONTROL_PLANE_NODE = node(
    "cp-1",
    {"node-role.kubernetes.io/control-plane": ""},
    [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
)
GPU = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("taints", "tolerations"),
    [
        ([GPU], [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]),
        (
            [{"key": "spot", "effect": "NoExecute"}],
            [{"key": "spot", "operator": "Exists", "effect": "NoExecute"}],
        ),
        ([{"key": "dedicated", "value": "batch", "effect": "PreferNoSchedule"}], []),
        ([{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}], []),
        ([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}], []),
        ([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}], []),
        ([{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}], []),
        ([], []),
        # taints a node carries for a while: scale-in, disruption, initialisation
        ([{"key": "ToBeDeletedByClusterAutoscaler", "value": "1735689600", "effect": "NoSchedule"}], []),
        (
            [
                {
                    "key": "DeletionCandidateOfClusterAutoscaler",
                    "value": "1735689600",
                    "effect": "PreferNoSchedule",
                }
            ],
            [],
        ),
        ([{"key": "karpenter.sh/disrupted", "effect": "NoSchedule"}], []),
        ([{"key": "karpenter.sh/disruption", "value": "disrupting", "effect": "NoSchedule"}], []),
        ([{"key": "karpenter.sh/unregistered", "effect": "NoExecute"}], []),
        (
            [
                {
                    "key": "node.cloudprovider.kubernetes.io/uninitialized",
                    "value": "true",
                    "effect": "NoSchedule",
                }
            ],
            [],
        ),
        ([{"key": "node.cloudprovider.kubernetes.io/shutdown", "effect": "NoSchedule"}], []),
        ([{"key": "node.cilium.io/agent-not-ready", "value": "true", "effect": "NoExecute"}], []),
        (
            [GPU, {"key": "ToBeDeletedByClusterAutoscaler", "value": "1735689600", "effect": "NoSchedule"}],
            [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
        ),
    ],
    ids=[
        "gpu",
        "no-value",
        "prefer",
        "unreachable",
        "not-ready",
        "control-plane",
        "master",
        "none",
        "autoscaler-scale-in",
        "autoscaler-candidate",
        "karpenter-disrupted",
        "karpenter-disruption",
        "karpenter-unregistered",
        "cloud-uninitialized",
        "cloud-shutdown",
        "cilium-not-ready",
        "gpu-node-being-scaled-in",
    ],
)
def test_worker_taints_are_tolerated_and_nothing_else(
    tmp_path: Path, taints: list[dict[str, str]], tolerations: list[dict[str, str]]
) -> None:
    files = _cluster(tmp_path, [CONTROL_PLANE_NODE, node("worker-1", {}, taints), node("worker-2")])
    for which, placement in placements(files).items():
        assert placement["tolerations"] == tolerations, which


@pytest.mark.parametrize(
    ("workers", "selector"),
    [
        ([{WORKER: ""}, {WORKER: ""}], {WORKER: ""}),
        ([{WORKER: "true"}, {WORKER: "true"}], {WORKER: "true"}),
        ([{WORKER: ""}, {}], {}),
        ([{WORKER: "a"}, {WORKER: "b"}], {}),
        ([{"eks.amazonaws.com/nodegroup": "general"}, {"eks.amazonaws.com/nodegroup": "general"}], {}),
    ],
    ids=["role-label", "role-label-valued", "not-on-every-worker", "two-values", "nodegroup-never"],
)
def test_the_worker_selector(tmp_path: Path, workers: list[dict[str, str]], selector: dict[str, str]) -> None:
    nodes = [CONTROL_PLANE_NODE, *(node(f"worker-{i}", labels) for i, labels in enumerate(workers))]
    for which, placement in placements(_cluster(tmp_path, nodes)).items():
        assert placement["nodeSelector"] == selector, which


def _header(tmp_path: Path, nodes: list[dict[str, Any]], name: str = DRIVER_VALUES) -> tuple[HardenPlan, str]:
    state = State(tmp_path)
    state.k8s.extend(nodes)
    plan = harden_plan(run(state, Config(region=REGION)).assessment)
    text = harden_files(plan)[name]
    return plan, "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))


def test_the_header_names_each_tolerated_taint_once(tmp_path: Path) -> None:
    """Two values of one key and effect are two tolerations, and two entries of the header, each
    written as kubectl writes a taint; the same taint on two nodes is one."""
    batch = {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}
    spot = {"key": "spot", "effect": "NoExecute"}
    nodes = [
        CONTROL_PLANE_NODE,
        node("w-1", {}, [GPU, spot]),
        node("w-2", {}, [batch, spot]),
        node("w-3", {}, [GPU]),
    ]
    plan, header = _header(tmp_path, nodes)
    assert len(plan.worker_tolerations) == 3
    assert (
        "#   worker taints tolerated: dedicated=batch:NoSchedule, dedicated=gpu:NoSchedule, spot:NoExecute\n"
        in header
    )


def test_rotation_is_left_out_when_the_input_has_no_driver(tmp_path: Path) -> None:
    """`helm upgrade --reuse-values -f` with enableSecretRotation: false would switch rotation off on a
    cluster that has it on: without the driver in the input its state is unknown, so it is not set."""
    plan, header = _header(tmp_path, [])
    assert plan.has_driver is False
    assert plan.rotation_enabled is None
    files = harden(run(State(tmp_path / "again"), Config(region=REGION)))[1]
    for values in (files[DRIVER_VALUES], files[PROVIDER_VALUES][SUBCHART]):
        assert "enableSecretRotation" not in values
        assert values["rotationPollInterval"] == "2m"
    assert (
        "#   rotation: unknown (no driver DaemonSet in the input): enableSecretRotation is left out" in header
    )


@pytest.mark.parametrize("builder", [control_plane, rotation_load], ids=["rotation-off", "rotation-on"])
def test_rotation_is_kept_as_the_driver_has_it(tmp_path: Path, builder: Any) -> None:
    state = State(tmp_path)
    config = builder(state, None)
    result = run(state, config)
    plan, files = harden(result)
    expected = builder is rotation_load
    assert plan.rotation_enabled is expected
    assert files[DRIVER_VALUES]["enableSecretRotation"] is expected
    assert files[PROVIDER_VALUES][SUBCHART]["enableSecretRotation"] is expected


K3S_SERVER = node(
    "k3s-1", {"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true"}
)


@pytest.mark.parametrize(
    ("nodes", "tolerations"),
    [
        ([K3S_SERVER], []),
        (
            [CONTROL_PLANE_NODE, K3S_SERVER],
            [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}],
        ),
    ],
    ids=["k3s-untainted", "kind-tainted"],
)
def test_a_cluster_of_control_plane_nodes_only_keeps_the_daemonsets_somewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nodes: list[dict[str, Any]], tolerations: list[Any]
) -> None:
    """k3s and kind clusters whose every node is a control plane: the control-plane DoesNotExist terms
    would leave the driver on no node at all, so they are left out, the nodes' own taints are
    tolerated, and harden says worker-only placement is impossible."""
    state = State(tmp_path / "state")
    state.k8s.extend(nodes)
    root = state.write()
    plan = harden_plan(run(root, Config(region=REGION)).assessment)
    assert plan.control_plane_only is True
    files = {name: yaml.safe_load(text) for name, text in harden_files(plan).items()}
    for which, placement in placements(files).items():
        (expressions,) = terms(placement)
        assert [e for e in expressions if e["key"] in CONTROL_PLANE] == [], which
        assert placement["tolerations"] == tolerations, which
        assert placement["nodeSelector"] == {}, which
    code, _, err = run_cli(["harden", str(root), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 0, err
    assert (
        f"iamscope: warning: every one of the {len(nodes)} Node(s) in the input is a control-plane node: "
        "worker-only placement is impossible on this cluster"
    ) in err
    header = (tmp_path / "out" / DRIVER_VALUES).read_text()
    assert (
        "#   placement: every node in the input is a control-plane node, so worker-only placement is\n"
        in header
    )


def test_a_cluster_with_workers_keeps_the_daemonsets_off_its_control_planes(tmp_path: Path) -> None:
    plan, _ = _header(tmp_path, [CONTROL_PLANE_NODE, node("worker-1")])
    assert plan.control_plane_only is False
    assert not [w for w in plan.warnings if "control-plane node" in w]


def test_a_worker_label_on_a_control_plane_is_not_a_worker_selector(tmp_path: Path) -> None:
    plane = node("cp-1", {"node-role.kubernetes.io/control-plane": "", WORKER: ""})
    files = _cluster(tmp_path, [plane, node("worker-1", {WORKER: ""})])
    assert placements(files)["driver chart"]["nodeSelector"] == {}


# --- sync and rotation ---------------------------------------------------------------------------------


def test_sync_is_on_for_the_demo_because_legacy_needs_it() -> None:
    plan, files = demo()
    assert plan.sync_needed_by == ("legacy/SecretProviderClass/erp-connector-secrets",)
    assert files[DRIVER_VALUES]["syncSecret"] == {"enabled": True}
    assert files[PROVIDER_VALUES][SUBCHART]["syncSecret"] == {"enabled": True}


def test_sync_is_off_when_no_namespace_is_approved(tmp_path: Path) -> None:
    config = demo_config(tmp_path, sync={"approved_namespaces": []})
    plan, files = harden(scan_state(DEMO, config))
    assert plan.sync_needed_by == ()
    assert files[DRIVER_VALUES]["syncSecret"] == {"enabled": False}
    assert files[PROVIDER_VALUES][SUBCHART]["syncSecret"] == {"enabled": False}


def seconds(duration: str) -> int:
    total, number = 0, ""
    for c in duration:
        if c.isdigit():
            number += c
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[c]
            number = ""
    assert number == "", duration
    return total


@pytest.mark.parametrize("replicas", [2000, 2001, 50])
def test_rotation_interval_fits_within_80_percent_of_the_ssm_quota(tmp_path: Path, replicas: int) -> None:
    """tests/scan/test_threats.py threat 5: every replica mounts 11 SSM parameters, that is
    ceil(11 / 10) = 2 GetParameters a poll (DESIGN.md §4), against SSM's 40 TPS, polled every 10s."""
    state = State(tmp_path)
    config = rotation_load(state, None)
    state.k8s[-1]["spec"]["replicas"] = replicas
    result = run(state, config)
    per_poll = replicas * math.ceil(11 / 10)
    needed = max(10, math.ceil(per_poll / (40 * 0.8)))
    files = harden(result)[1]
    interval = seconds(files[DRIVER_VALUES]["rotationPollInterval"])
    assert interval == needed
    assert per_poll / interval <= 0.8 * 40
    assert files[DRIVER_VALUES]["enableSecretRotation"] is True
    findings = [f for f in result.findings if f.rule == "rotation-rate-limit"]
    if per_poll / 10 > 40:
        (finding,) = findings
        assert f"an interval of at least {math.ceil(per_poll / 40)}s would fit" in finding.message
        assert interval >= math.ceil(per_poll / 40)
    else:
        assert findings == []


def test_the_rotation_interval_is_a_go_duration() -> None:
    values = demo()[1][DRIVER_VALUES]
    assert values["rotationPollInterval"] == "2m"
    assert values["enableSecretRotation"] is True
