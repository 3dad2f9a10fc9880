"""Folding pods into their controllers: owner references (Pod → ReplicaSet → Deployment, Pod → Job →
CronJob), the pod-template-hash label when the ReplicaSet was not listed, CronJob job naming, and what a
folded workload keeps (replicas, live pod names, the node its pods run on)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from iamscope.k8s.read import RawObject
from iamscope.k8s.transform import build_kube_inventory
from iamscope.model import KubeInventory, Location
from tests.k8s.helpers import controller, kube, owner, pod

RS = "api-5d8f7c9b4"
HASH = {"app": "api", "pod-template-hash": "5d8f7c9b4"}
POD_A = f"{RS}-aaaaa"
POD_B = f"{RS}-bbbbb"


def _rs_pods(
    namespace: str | None = "prod",
    labels: Mapping[str, str] | None = HASH,
    sa: str = "api",
    nodes: tuple[str, str] = ("node-2", "node-2"),
) -> list[dict]:
    ref = owner("ReplicaSet", RS)
    return [
        pod(POD_B, namespace, sa=sa, owners=[ref], labels=labels, node=nodes[1]),
        pod(POD_A, namespace, sa=sa, owners=[ref], labels=labels, node=nodes[0]),
    ]


def _summary(inv: KubeInventory) -> list[tuple[Any, ...]]:
    return [(w.id, w.replicas, w.pods, w.pod.node_name, w.pod.service_account) for w in inv.workloads]


CRON_POD = "backup-28391040-x7k2p"
JOB = "backup-28391040"

CASES = [
    pytest.param(
        [
            controller("Deployment", "api", sa="api", replicas=3),
            controller(
                "ReplicaSet", RS, sa="api", replicas=3, labels=HASH, owners=[owner("Deployment", "api")]
            ),
            # a declared controller takes the node of its first pod (by name) that has one
            *_rs_pods(nodes=("node-2", "node-1")),
        ],
        [("prod/Deployment/api", 3, (POD_A, POD_B), "node-2", "api")],
        id="owner-references-pod-replicaset-deployment",
    ),
    pytest.param(
        _rs_pods(),
        [("prod/Deployment/api", 2, (POD_A, POD_B), "node-2", "api")],
        id="pods-only-pod-template-hash",
    ),
    pytest.param(
        [
            controller("ReplicaSet", RS, sa="api", replicas=2, owners=[owner("Deployment", "api")]),
            *_rs_pods(labels=None),
        ],
        [("prod/Deployment/api", 2, (POD_A, POD_B), "node-2", "api")],
        id="replicaset-listed-deployment-not",
    ),
    pytest.param(
        [controller("ReplicaSet", RS, sa="api", replicas=2, labels=HASH), *_rs_pods(labels={"app": "api"})],
        [("prod/Deployment/api", 2, (POD_A, POD_B), "node-2", "api")],
        id="replicaset-without-owner-reference-hash-label",
    ),
    pytest.param(
        _rs_pods(labels={"pod-template-hash": "0000000000"}),
        [(f"prod/ReplicaSet/{RS}", 2, (POD_A, POD_B), "node-2", "api")],
        id="hash-label-does-not-match-replicaset-name",
    ),
    pytest.param(
        _rs_pods(labels=None),
        [(f"prod/ReplicaSet/{RS}", 2, (POD_A, POD_B), "node-2", "api")],
        id="pods-only-no-hash-label",
    ),
    pytest.param(
        _rs_pods(namespace=None),
        [("default/Deployment/api", 2, (POD_A, POD_B), "node-2", "api")],
        id="pods-only-default-namespace",
    ),
    pytest.param(
        [controller("Deployment", "api", sa="api", replicas=5), *_rs_pods(namespace="dev")],
        [
            ("dev/Deployment/api", 2, (POD_A, POD_B), "node-2", "api"),
            ("prod/Deployment/api", 5, (), None, "api"),
        ],
        id="pods-never-fold-across-namespaces",
    ),
    pytest.param(
        [
            controller("CronJob", "backup", sa="backup"),
            controller("Job", JOB, sa="backup", owners=[owner("CronJob", "backup")]),
            pod(CRON_POD, sa="backup", owners=[owner("Job", JOB)], node="node-3"),
        ],
        [("prod/CronJob/backup", None, (CRON_POD,), "node-3", "backup")],
        id="owner-references-pod-job-cronjob",
    ),
    pytest.param(
        [
            controller("Job", JOB, sa="backup", owners=[owner("CronJob", "backup")]),
            pod(CRON_POD, sa="backup", owners=[owner("Job", JOB)], node="node-3"),
        ],
        [("prod/CronJob/backup", 1, (CRON_POD,), "node-3", "backup")],
        id="job-listed-cronjob-not",
    ),
    pytest.param(
        [
            controller("CronJob", "backup", sa="backup"),
            pod(CRON_POD, sa="backup", owners=[owner("Job", JOB)], node="node-3"),
        ],
        [("prod/CronJob/backup", None, (CRON_POD,), "node-3", "backup")],
        id="cronjob-naming-job-not-listed",
    ),
    # The CronJob controller names each Job <cronjob>-<scheduled time in minutes> (kubernetes
    # pkg/controller/cronjob getJobName): a Job so named folds into that CronJob, listed or not.
    pytest.param(
        [pod(CRON_POD, sa="backup", owners=[owner("Job", JOB)], node="node-3")],
        [("prod/CronJob/backup", 1, (CRON_POD,), "node-3", "backup")],
        id="cronjob-naming-cronjob-not-listed",
    ),
    pytest.param(
        [
            pod("backup-1234567-x7k2p", sa="backup", owners=[owner("Job", "backup-1234567")]),
            pod("backup-28391040a-x7k2p", sa="backup", owners=[owner("Job", "backup-28391040a")]),
        ],
        [
            ("prod/Job/backup-1234567", 1, ("backup-1234567-x7k2p",), None, "backup"),
            ("prod/Job/backup-28391040a", 1, ("backup-28391040a-x7k2p",), None, "backup"),
        ],
        id="fewer-than-8-digits-or-not-digits-stays-a-job",
    ),
    pytest.param(
        [
            pod(CRON_POD, sa="backup", owners=[owner("Job", JOB)], node="node-3"),
            pod(
                "backup-28391100-q2w3e", sa="backup", owners=[owner("Job", "backup-28391100")], node="node-1"
            ),
        ],
        [("prod/CronJob/backup", 2, ("backup-28391040-x7k2p", "backup-28391100-q2w3e"), "node-3", "backup")],
        id="jobs-of-one-cronjob-fold-together",
    ),
    pytest.param(
        [
            controller("CronJob", "backup", sa="backup"),
            pod("backup-manual-q8d2x", sa="backup", owners=[owner("Job", "backup-manual")], node="node-3"),
        ],
        [
            ("prod/CronJob/backup", None, (), None, "backup"),
            ("prod/Job/backup-manual", 1, ("backup-manual-q8d2x",), "node-3", "backup"),
        ],
        id="job-not-named-by-schedule-stays-a-job",
    ),
    pytest.param(
        [
            controller("CronJob", "backup", "ops", sa="backup"),
            pod(CRON_POD, sa="backup", owners=[owner("Job", JOB)], node="node-3"),
        ],
        [
            ("ops/CronJob/backup", None, (), None, "backup"),
            ("prod/CronJob/backup", 1, (CRON_POD,), "node-3", "backup"),
        ],
        id="cronjob-naming-stays-in-namespace",
    ),
    pytest.param(
        [
            controller("DaemonSet", "agent", "kube-system", sa="agent"),
            pod(
                "agent-zz9kq", "kube-system", sa="agent", owners=[owner("DaemonSet", "agent")], node="node-b"
            ),
            pod(
                "agent-4xk2m", "kube-system", sa="agent", owners=[owner("DaemonSet", "agent")], node="node-a"
            ),
        ],
        [("kube-system/DaemonSet/agent", None, ("agent-4xk2m", "agent-zz9kq"), "node-a", "agent")],
        id="daemonset-pods-fold",
    ),
    pytest.param(
        [
            pod(
                "agent-zz9kq", "kube-system", sa="agent", owners=[owner("DaemonSet", "agent")], node="node-a"
            ),
            pod(
                "agent-4xk2m", "kube-system", sa="agent", owners=[owner("DaemonSet", "agent")], node="node-a"
            ),
        ],
        [("kube-system/DaemonSet/agent", 2, ("agent-4xk2m", "agent-zz9kq"), "node-a", "agent")],
        id="daemonset-pods-only",
    ),
    pytest.param(
        [
            controller("StatefulSet", "db", sa="db", replicas=3),
            pod("db-1", sa="db", owners=[owner("StatefulSet", "db")], node="node-9"),
            pod("db-0", sa="db", owners=[owner("StatefulSet", "db")]),
        ],
        [("prod/StatefulSet/db", 3, ("db-0", "db-1"), "node-9", "db")],
        id="statefulset-node-from-first-pod-with-one",
    ),
    pytest.param(
        [
            controller("ReplicationController", "legacy", sa="legacy", replicas=1),
            pod(
                "legacy-abcde", sa="legacy", owners=[owner("ReplicationController", "legacy")], node="node-1"
            ),
        ],
        [("prod/ReplicationController/legacy", 1, ("legacy-abcde",), "node-1", "legacy")],
        id="replicationcontroller",
    ),
    pytest.param(
        [pod("web", sa="web", node="node-1")],
        [("prod/Pod/web", 1, ("web",), "node-1", "web")],
        id="bare-pod-stays-a-pod",
    ),
    pytest.param(
        [pod("kube-proxy-node-1", "kube-system", owners=[owner("Node", "node-1")], node="node-1")],
        [("kube-system/Pod/kube-proxy-node-1", 1, ("kube-proxy-node-1",), "node-1", "default")],
        id="mirror-pod-owned-by-a-node-stays-a-pod",
    ),
    pytest.param(
        [
            pod(
                "agent-1",
                "kube-system",
                owners=[owner("ReplicaSet", "other-1234", controller=False), owner("DaemonSet", "agent")],
                node="node-1",
            )
        ],
        [("kube-system/DaemonSet/agent", 1, ("agent-1",), "node-1", "default")],
        id="the-controller-reference-wins",
    ),
    pytest.param(
        [
            pod(
                "agent-1",
                "kube-system",
                owners=[
                    owner("DaemonSet", "first", controller=None),
                    owner("DaemonSet", "second", controller=None),
                ],
            )
        ],
        [("kube-system/DaemonSet/first", 1, ("agent-1",), None, "default")],
        id="no-controller-flag-first-reference",
    ),
    pytest.param(
        [
            controller("Deployment", "a"),
            controller("Deployment", "b", replicas=0),
            controller("Job", "j"),
            controller("StatefulSet", "s"),
        ],
        [
            ("prod/Deployment/a", 1, (), None, "default"),
            ("prod/Deployment/b", 0, (), None, "default"),
            ("prod/Job/j", None, (), None, "default"),
            ("prod/StatefulSet/s", 1, (), None, "default"),
        ],
        id="replicas-defaults",
    ),
]


@pytest.mark.parametrize(("objects", "expected"), CASES)
def test_fold(objects: Sequence[Mapping[str, Any]], expected: list[tuple[Any, ...]]) -> None:
    assert _summary(kube(*objects)) == expected


def test_declared_template_wins_over_pod_spec() -> None:
    # The live pods run an older template (another service account); the Deployment's template is what
    # the workload declares now.
    objects = [controller("Deployment", "api", sa="api-v2", replicas=2), *_rs_pods(sa="api-v1")]
    objects[0]["metadata"]["uid"] = "uid-Deployment-api"
    assert _summary(kube(*objects)) == [("prod/Deployment/api", 2, (POD_A, POD_B), "node-2", "api-v2")]


def test_pods_only_workload_takes_its_location_from_a_pod() -> None:
    inv = kube(*_rs_pods(), file="pods.yaml")
    (workload,) = inv.workloads
    # the pods are documents 1 (POD_B) and 2 (POD_A); the newest-looking (last by name) stands for them
    assert (workload.location.file, workload.location.line) == ("pods.yaml", 1)
    assert workload.kind == "Deployment"
    assert workload.name == "api"


def test_folded_workload_keeps_the_controllers_location() -> None:
    inv = kube(*_rs_pods(), controller("Deployment", "api", sa="api"), file="all.yaml")
    (workload,) = inv.workloads
    assert (workload.location.file, workload.location.line) == ("all.yaml", 21)


def test_csi_volumes_of_a_folded_workload_come_from_the_template() -> None:
    vol = {
        "name": "s",
        "csi": {"driver": "secrets-store.csi.k8s.io", "volumeAttributes": {"secretProviderClass": "db"}},
    }
    inv = kube(*_rs_pods())
    assert inv.workloads[0].pod.csi_volumes == ()
    objects = [dict(p) for p in _rs_pods()]
    for p in objects:
        p["spec"] = {**p["spec"], "volumes": [vol]}
    (workload,) = kube(*objects).workloads
    assert [(v.name, v.driver, v.spc_name, v.attributes) for v in workload.pod.csi_volumes] == [
        ("s", "secrets-store.csi.k8s.io", "db", (("secretProviderClass", "db"),))
    ]


FIXED = [
    (controller("Deployment", "api", sa="api", replicas=3), Location(file="a.yaml", line=1)),
    (
        controller("ReplicaSet", RS, sa="api", labels=HASH, owners=[owner("Deployment", "api")]),
        Location(file="b.json"),
    ),
    (_rs_pods()[0], Location(file="c.yaml", line=4)),
    (_rs_pods()[1], Location(file="c.yaml", line=40)),
    (controller("CronJob", "backup", sa="backup"), Location(file="d.yaml", line=7)),
    (pod(CRON_POD, sa="backup", owners=[owner("Job", JOB)], node="node-3"), Location(file="d.yaml", line=30)),
    (pod("web", sa="web", node="node-1"), Location(file="e.yaml", line=2)),
]


def test_input_order_never_changes_the_result() -> None:
    def build(order: Sequence[int]) -> KubeInventory:
        return build_kube_inventory([RawObject(FIXED[i][0], FIXED[i][1]) for i in order])

    reference = build(range(len(FIXED)))
    assert _summary(reference) == [
        ("prod/CronJob/backup", None, (CRON_POD,), "node-3", "backup"),
        ("prod/Deployment/api", 3, (POD_A, POD_B), "node-2", "api"),
        ("prod/Pod/web", 1, ("web",), "node-1", "web"),
    ]
    for order in itertools.islice(itertools.permutations(range(len(FIXED))), 0, None, 37):
        assert build(order) == reference, order
    assert build(list(reversed(range(len(FIXED))))) == reference


def test_same_pod_twice_first_by_file_and_line_wins() -> None:
    first = pod("web", sa="web", node="node-first")
    second = pod("web", sa="web", node="node-second")
    raws = [
        RawObject(second, Location(file="b.yaml", line=1)),
        RawObject(first, Location(file="a.yaml", line=9)),
    ]
    (workload,) = build_kube_inventory(raws).workloads
    assert (workload.pod.node_name, workload.location) == ("node-first", Location(file="a.yaml", line=9))
    raws = [
        RawObject(second, Location(file="a.yaml", line=12)),
        RawObject(first, Location(file="a.yaml", line=3)),
    ]
    (workload,) = build_kube_inventory(raws).workloads
    assert workload.pod.node_name == "node-first"


def test_pods_only_rollout_takes_the_template_of_the_replicaset_that_runs() -> None:
    # `kubectl get rs,pods` mid-rollout, Deployment not listed: the old ReplicaSet is scaled to 0 and its
    # template (service account api-old) runs nowhere; the live pods belong to the new one (api-new).
    old = controller(
        "ReplicaSet",
        "api-9f8e7d6c5",
        sa="api-old",
        replicas=0,
        labels={"pod-template-hash": "9f8e7d6c5"},
        owners=[owner("Deployment", "api")],
    )
    old["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    new = controller(
        "ReplicaSet",
        RS,
        sa="api-new",
        replicas=2,
        labels=HASH,
        owners=[owner("Deployment", "api")],
    )
    new["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    inv = kube(old, new, *_rs_pods(sa="api-new"))
    assert _summary(inv) == [("prod/Deployment/api", 2, (POD_A, POD_B), "node-2", "api-new")]


# --- a controller that was not listed takes the template of what runs ----------------------------------


def _created(obj: dict[str, Any], timestamp: str, revision: str | None = None) -> dict[str, Any]:
    obj["metadata"]["creationTimestamp"] = timestamp
    if revision is not None:
        obj["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": revision}
    return obj


def test_pods_only_the_newest_live_pod_gives_the_template() -> None:
    # metadata.creationTimestamp decides, not the pod name: pod "a" was created after pod "b" (a rollout
    # in progress, the new template runs as sa api-new). The node is that of the first pod by name.
    ref = owner("ReplicaSet", RS)
    newer = _created(
        pod(POD_A, sa="api-new", owners=[ref], labels=HASH, node="node-1"), "2025-03-02T10:00:00Z"
    )
    older = _created(
        pod(POD_B, sa="api-old", owners=[ref], labels=HASH, node="node-2"), "2025-03-01T10:00:00Z"
    )
    for objects in ([newer, older], [older, newer]):
        assert _summary(kube(*objects)) == [("prod/Deployment/api", 2, (POD_A, POD_B), "node-1", "api-new")]
    newer["metadata"]["creationTimestamp"] = "2025-02-28T10:00:00Z"
    assert _summary(kube(newer, older)) == [("prod/Deployment/api", 2, (POD_A, POD_B), "node-1", "api-old")]


def test_replicasets_only_the_highest_revision_gives_the_template() -> None:
    # No pods and no Deployment: the ReplicaSet with the highest deployment.kubernetes.io/revision is
    # the Deployment's current template, whatever its replicas or age (revision 10 sorts after 9).
    def rs(digest: str, sa: str, replicas: int, created: str, revision: str) -> dict[str, Any]:
        obj = controller(
            "ReplicaSet",
            f"api-{digest}",
            sa=sa,
            replicas=replicas,
            labels={"pod-template-hash": digest},
            owners=[owner("Deployment", "api")],
        )
        return _created(obj, created, revision)

    old = rs("9f8e7d6c5", "api-v9", 3, "2025-03-02T10:00:00Z", "9")
    new = rs("1a2b3c4d5", "api-v10", 0, "2025-03-01T10:00:00Z", "10")
    for objects in ([old, new], [new, old]):
        (workload,) = kube(*objects).workloads
        assert (workload.id, workload.pod.service_account, workload.pods, workload.pod.node_name) == (
            "prod/Deployment/api",
            "api-v10",
            (),
            None,
        )
