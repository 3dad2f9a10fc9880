"""Reading manifests: every input shape of DESIGN.md §3 (multi-document YAML, JSON, `kind: List`, typed
lists, Helm template output, directories, stdin), the line each YAML document starts on, and the
warnings for what is skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iamscope.errors import UsageError
from iamscope.files import InputReader
from iamscope.k8s.read import read_manifests
from iamscope.model import Container, Toleration, Warning
from tests.k8s.helpers import controller, pod, read_paths, run_cli, stdin_bytes, write

MULTI_DOC = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: prod
---
# the workload
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: prod
spec:
  replicas: 2
  template:
    spec:
      serviceAccountName: api
      containers: [{name: app, image: app:1}]
---

---
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers: [{name: sh, image: busybox}]
...
--- # a trailing comment document
"""

KUBECTL_LIST_JSON = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [
            pod("api-1", "prod"),
            controller("StatefulSet", "db", "prod"),
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "db", "namespace": "prod"}},
        ],
    },
    indent=4,
)

KUBECTL_LIST_YAML = """\
apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: api-1
    namespace: prod
  spec:
    containers: [{name: app, image: app:1}]
- apiVersion: apps/v1
  kind: DaemonSet
  metadata:
    name: agent
    namespace: kube-system
  spec:
    template:
      spec:
        containers: [{name: agent, image: agent:1}]
kind: List
metadata:
  resourceVersion: ""
"""

# The API's own list type: items carry no kind of their own.
POD_LIST_JSON = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "PodList",
        "metadata": {"resourceVersion": "123"},
        "items": [
            {"metadata": {"name": "a", "namespace": "prod"}, "spec": {"containers": []}},
            {"metadata": {"name": "b", "namespace": "dev"}, "spec": {"containers": []}},
        ],
    }
)

DEPLOYMENT_LIST_YAML = """\
apiVersion: apps/v1
kind: DeploymentList
items:
- metadata: {name: web, namespace: prod}
  spec: {template: {spec: {containers: []}}}
- metadata: {name: worker, namespace: prod}
  spec: {template: {spec: {containers: []}}}
"""

NESTED_LIST_YAML = """\
kind: List
items:
- kind: ServiceAccountList
  items:
  - metadata: {name: inner, namespace: prod}
- apiVersion: v1
  kind: Pod
  metadata: {name: outer, namespace: prod}
"""

JSON_OBJECT = json.dumps(controller("Deployment", "api", "prod", replicas=3), indent=2)


# (file name, content, expected [(kind, namespace or None, name, line)])
SHAPES = [
    pytest.param(
        "multi.yaml",
        MULTI_DOC,
        [("ServiceAccount", "prod", "api", 1), ("Deployment", "prod", "api", 8), ("Pod", None, "debug", 22)],
        id="multi-document-yaml",
    ),
    pytest.param("deploy.json", JSON_OBJECT, [("Deployment", "prod", "api", None)], id="json-object"),
    pytest.param(
        "all.json",
        KUBECTL_LIST_JSON,
        [
            ("Pod", "prod", "api-1", None),
            ("StatefulSet", "prod", "db", None),
            ("ServiceAccount", "prod", "db", None),
        ],
        id="kubectl-list-json",
    ),
    pytest.param(
        "all.yaml",
        KUBECTL_LIST_YAML,
        [("Pod", "prod", "api-1", 1), ("DaemonSet", "kube-system", "agent", 1)],
        id="kubectl-list-yaml",
    ),
    pytest.param(
        "pods.json",
        POD_LIST_JSON,
        [("Pod", "prod", "a", None), ("Pod", "dev", "b", None)],
        id="typed-podlist-json",
    ),
    pytest.param(
        "deployments.yml",
        DEPLOYMENT_LIST_YAML,
        [("Deployment", "prod", "web", 1), ("Deployment", "prod", "worker", 1)],
        id="typed-deploymentlist-yaml",
    ),
    pytest.param(
        "nested.yaml",
        NESTED_LIST_YAML,
        [("ServiceAccount", "prod", "inner", 1), ("Pod", "prod", "outer", 1)],
        id="list-in-list",
    ),
    pytest.param("empty.yaml", "", [], id="empty-file"),
    pytest.param(
        "comments.yaml", "# nothing here\n---\n---\n# still nothing\n", [], id="comment-only-documents"
    ),
    pytest.param(
        "bom.yaml",
        "\ufeffapiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: prod}\n",
        [("Pod", "prod", "p", 1)],
        id="utf8-bom",
    ),
    pytest.param(
        "upper.JSON", json.dumps(pod("p", "prod")), [("Pod", "prod", "p", None)], id="json-suffix-any-case"
    ),
]


@pytest.mark.parametrize(("name", "content", "expected"), SHAPES)
def test_input_shapes(tmp_path: Path, name: str, content: str, expected: list[tuple]) -> None:
    path = write(tmp_path, name, content)
    raws, warnings = read_manifests([str(path)], InputReader())
    got = [
        (r.data["kind"], r.data["metadata"].get("namespace"), r.data["metadata"]["name"], r.location.line)
        for r in raws
    ]
    assert got == expected
    assert {r.location.file for r in raws} <= {str(path)}
    assert warnings == []


def test_workload_location_is_the_line_its_document_starts_on(tmp_path: Path) -> None:
    path = write(tmp_path, "multi.yaml", MULTI_DOC)
    inv = read_paths(path)
    got = {w.id: (w.location.file, w.location.line) for w in inv.workloads}
    assert got == {"prod/Deployment/api": (str(path), 8), "default/Pod/debug": (str(path), 22)}
    assert [(s.id, s.location.line) for s in inv.service_accounts] == [("prod/ServiceAccount/api", 1)]


def test_json_workload_has_no_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deploy.json", JSON_OBJECT)
    (workload,) = read_paths(path).workloads
    assert (workload.id, workload.replicas, workload.location.file, workload.location.line) == (
        "prod/Deployment/api",
        3,
        str(path),
        None,
    )


def test_typed_list_items_take_the_list_kind_not_a_kind_they_do_not_have(tmp_path: Path) -> None:
    path = write(tmp_path, "pods.json", POD_LIST_JSON)
    inv = read_paths(path)
    assert [w.id for w in inv.workloads] == ["dev/Pod/b", "prod/Pod/a"]
    assert [w.kind for w in inv.workloads] == ["Pod", "Pod"]


def test_objects_without_namespace_go_to_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ns.yaml",
        "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: web}\nspec: {template: {spec: {containers: []}}}\n"
        "---\nkind: ServiceAccount\napiVersion: v1\nmetadata: {name: web}\n",
    )
    inv = read_paths(path)
    assert [w.id for w in inv.workloads] == ["default/Deployment/web"]
    assert [s.id for s in inv.service_accounts] == ["default/ServiceAccount/web"]


# --- standard input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            b"apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: prod}\n---\n"
            b"apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: prod}\n",
            [("a", "-", 1), ("b", "-", 5)],
            id="yaml",
        ),
        pytest.param(POD_LIST_JSON.encode(), [("a", "-", None), ("b", "-", None)], id="json"),
        pytest.param(
            b"  \n" + POD_LIST_JSON.encode(), [("a", "-", None), ("b", "-", None)], id="json-after-blank"
        ),
        pytest.param(
            b"\xef\xbb\xbf" + POD_LIST_JSON.encode(), [("a", "-", None), ("b", "-", None)], id="json-bom"
        ),
    ],
)
def test_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes, expected: list[tuple]) -> None:
    stdin_bytes(monkeypatch, data)
    raws, warnings = read_manifests(["-"], InputReader())
    assert [(r.data["metadata"]["name"], r.location.file, r.location.line) for r in raws] == expected
    assert warnings == []


def test_stdin_comes_first_and_files_follow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path, "b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: from-file, namespace: prod}\n"
    )
    stdin_bytes(monkeypatch, b"apiVersion: v1\nkind: Pod\nmetadata: {name: from-stdin, namespace: prod}\n")
    raws, _ = read_manifests([str(path), "-"], InputReader())
    assert [(r.data["metadata"]["name"], r.location.file) for r in raws] == [
        ("from-stdin", "-"),
        ("from-file", str(path)),
    ]


def test_stdin_twice_in_one_reader_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin_bytes(monkeypatch, b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    reader = InputReader()
    read_manifests(["-"], reader)
    with pytest.raises(UsageError, match=r"^standard input \(-\) can be given only once$"):
        read_manifests(["-"], reader)


def test_cli_reads_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    stdin_bytes(monkeypatch, KUBECTL_LIST_JSON.encode())
    code, out, err = run_cli(["scan", "--k8s", "-", "--format", "json"], capsys)
    assert (code, err) == (0, "")
    assert json.loads(out)["summary"]["workloads"] == 2


# --- directories -------------------------------------------------------------------------------------


def _tree(root: Path) -> None:
    write(root, "a.yaml", json.dumps(controller("Deployment", "api", "prod")))
    write(root, "sub/b.yml", "kind: ServiceAccount\napiVersion: v1\nmetadata: {name: api, namespace: prod}\n")
    write(root, "sub/deeper/c.json", json.dumps(pod("debug", "prod")))
    write(root, "sub/D.YAML", json.dumps(controller("StatefulSet", "db", "prod")))
    write(root, ".git/x.yaml", json.dumps(controller("Deployment", "hidden-dir", "prod")))
    write(root, ".cache/deep/y.yaml", json.dumps(controller("Deployment", "hidden-deep", "prod")))
    write(root, "sub/.hidden.yaml", json.dumps(controller("Deployment", "hidden-file", "prod")))
    write(root, "README.md", "not: [yaml")
    write(root, "notes.txt", "not: [yaml")
    write(root, "values.yaml.bak", "not: [yaml")


def test_directory_is_searched_recursively_skipping_hidden(tmp_path: Path) -> None:
    _tree(tmp_path / "k8s")
    raws, warnings = read_manifests([str(tmp_path / "k8s")], InputReader())
    root = tmp_path / "k8s"
    assert sorted(r.location.file for r in raws) == sorted(
        str(root / p) for p in ("a.yaml", "sub/b.yml", "sub/deeper/c.json", "sub/D.YAML")
    )
    assert warnings == []
    inv = read_paths(root)
    assert [w.id for w in inv.workloads] == ["prod/Deployment/api", "prod/Pod/debug", "prod/StatefulSet/db"]


def test_a_hidden_directory_given_explicitly_is_read(tmp_path: Path) -> None:
    root = tmp_path / ".state" / "k8s"
    _tree(root)
    inv = read_paths(root)
    assert [w.id for w in inv.workloads] == ["prod/Deployment/api", "prod/Pod/debug", "prod/StatefulSet/db"]


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    _tree(tmp_path)
    raws, _ = read_manifests([str(tmp_path), str(tmp_path / "a.yaml"), str(tmp_path)], InputReader())
    assert sorted(r.data["metadata"]["name"] for r in raws) == ["api", "api", "db", "debug"]


def test_directory_order_never_changes_the_result(tmp_path: Path) -> None:
    # The same Deployment in two places with different service accounts: the first by file wins,
    # whatever the order the paths are given in.
    write(tmp_path, "a/one.yaml", json.dumps(controller("Deployment", "api", "prod", sa="from-a")))
    write(tmp_path, "b/two.yaml", json.dumps(controller("Deployment", "api", "prod", sa="from-b")))
    write(tmp_path, "b/pods.yaml", json.dumps(pod("solo", "prod", node="n1")))
    forward = read_paths(tmp_path / "a", tmp_path / "b")
    backward = read_paths(tmp_path / "b", tmp_path / "a")
    whole = read_paths(tmp_path)
    assert forward == backward == whole
    api = next(w for w in forward.workloads if w.id == "prod/Deployment/api")
    assert (api.pod.service_account, api.location.file) == ("from-a", str(tmp_path / "a" / "one.yaml"))


def test_duplicate_in_one_file_first_line_wins(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: prod\n"
        "  annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::111122223333:role/first'}\n"
        "---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: prod\n"
        "  annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::111122223333:role/second'}\n"
    )
    (sa,) = read_paths(write(tmp_path, "dup.yaml", text)).service_accounts
    assert (sa.role_annotation, sa.location.line) == ("arn:aws:iam::111122223333:role/first", 1)


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    from iamscope.errors import InputError

    with pytest.raises(InputError, match=r"^.*/nope\.yaml: no such file or directory$"):
        read_manifests([str(tmp_path / "nope.yaml")], InputReader())


# --- warnings ----------------------------------------------------------------------------------------

SKIPPED = """\
apiVersion: v1
kind: Service
metadata: {name: a, namespace: prod}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: prod}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: prod}
---
just a string
---
- 1
- 2
---
apiVersion: v1
metadata: {name: kindless}
---
kind: List
items:
- metadata: {name: no-kind-item}
- apiVersion: v1
  kind: Pod
  metadata: {name: kept, namespace: prod}
---
apiVersion: example.com/v1
kind: SecretProviderClass
metadata: {name: not-the-driver, namespace: prod}
---
apiVersion: secrets-store.csi.x-k8s.io/v1alpha1
kind: SecretProviderClass
metadata: {name: old-api, namespace: prod}
spec: {provider: aws}
---
apiVersion: $API_VERSION
kind: SecretProviderClass
metadata: {name: templated-api, namespace: prod}
spec: {provider: vault}
"""


def test_warnings_for_unknown_kinds_and_non_objects(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.yaml", SKIPPED)
    inv = read_paths(path)
    assert inv.warnings == (
        Warning(source=f"{path}:13", message="not a Kubernetes object (not a mapping); skipped"),
        Warning(source=f"{path}:15", message="not a Kubernetes object (not a mapping); skipped"),
        Warning(source=f"{path}:15", message="not a Kubernetes object (not a mapping); skipped"),
        Warning(source=f"{path}:18", message="not a Kubernetes object (no kind); skipped"),
        Warning(source=f"{path}:21", message="not a Kubernetes object (no kind); skipped"),
        Warning(source="--k8s", message="skipped 1 object(s) of kind ConfigMap: not used by the analysis"),
        Warning(
            source="--k8s",
            message="skipped 1 object(s) of kind SecretProviderClass: not used by the analysis",
        ),
        Warning(source="--k8s", message="skipped 2 object(s) of kind Service: not used by the analysis"),
    )
    assert [w.id for w in inv.workloads] == ["prod/Pod/kept"]
    assert [s.id for s in inv.spcs] == [
        "prod/SecretProviderClass/old-api",
        "prod/SecretProviderClass/templated-api",
    ]


def test_one_warning_per_unknown_kind_across_files(tmp_path: Path) -> None:
    for i in range(3):
        write(tmp_path, f"svc{i}.yaml", f"apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\n")
    write(
        tmp_path,
        "ing.json",
        json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}}),
    )
    assert read_paths(tmp_path).warnings == (
        Warning(source="--k8s", message="skipped 1 object(s) of kind Ingress: not used by the analysis"),
        Warning(source="--k8s", message="skipped 3 object(s) of kind Service: not used by the analysis"),
    )


# --- Helm ----------------------------------------------------------------------------------------

# `helm template csi-secrets-store-provider-aws aws-secrets-manager/secrets-store-csi-driver-provider-aws
#  -n kube-system` plus an application chart's SecretProviderClass without a namespace; empty templates
# render as a `# Source:` comment and nothing else.
HELM = """\
---
# Source: secrets-store-csi-driver-provider-aws/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: csi-secrets-store-provider-aws
  namespace: kube-system
  labels:
    helm.sh/chart: secrets-store-csi-driver-provider-aws-0.3.9
    app.kubernetes.io/managed-by: Helm
---
# Source: secrets-store-csi-driver-provider-aws/templates/podsecuritypolicy.yaml
---
# Source: secrets-store-csi-driver-provider-aws/templates/clusterrole.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: csi-secrets-store-provider-aws-cluster-role
rules:
- apiGroups: [""]
  resources: ["serviceaccounts/token"]
  verbs: ["create"]
- apiGroups: [""]
  resources: ["serviceaccounts", "pods", "nodes"]
  verbs: ["get"]
---
# Source: secrets-store-csi-driver-provider-aws/templates/clusterrolebinding.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: csi-secrets-store-provider-aws-cluster-rolebinding
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: csi-secrets-store-provider-aws-cluster-role
subjects:
- kind: ServiceAccount
  name: csi-secrets-store-provider-aws
  namespace: kube-system
---
# Source: secrets-store-csi-driver-provider-aws/templates/daemonset.yaml
apiVersion: apps/v1
kind: DaemonSet
metadata:
  namespace: kube-system
  name: csi-secrets-store-provider-aws
  labels:
    app: csi-secrets-store-provider-aws
spec:
  updateStrategy:
    type: RollingUpdate
  selector:
    matchLabels:
      app: csi-secrets-store-provider-aws
  template:
    metadata:
      labels:
        app: csi-secrets-store-provider-aws
    spec:
      serviceAccountName: csi-secrets-store-provider-aws
      hostNetwork: false
      containers:
        - name: provider-aws-installer
          image: "public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:1.0.r2-72"
          imagePullPolicy: IfNotPresent
          args:
              - --provider-volume=/var/run/secrets-store-csi-providers
          securityContext:
            privileged: false
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop:
              - ALL
          volumeMounts:
            - mountPath: "/var/run/secrets-store-csi-providers"
              name: providervol
      volumes:
        - name: providervol
          hostPath:
            path: "/var/run/secrets-store-csi-providers"
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
        - operator: Exists
---
# Source: payments/templates/secretproviderclass.yaml
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: payments
spec:
  provider: aws
  parameters:
    objects: |
      - objectName: "payments/db"
        objectType: "secretsmanager"
---
# Source: payments/templates/tests/test-connection.yaml
"""


def test_helm_template_output(tmp_path: Path) -> None:
    path = write(tmp_path, "rendered.yaml", HELM)
    inv = read_paths(path)
    # the chart's SecretProviderClass names no namespace: said, as `kubectl apply -n` would place it
    assert [w.message for w in inv.warnings] == [
        "1 object(s) name no namespace and are taken to be in 'default', as `kubectl apply` without -n "
        "would put them: SecretProviderClass/payments"
    ]
    (ds,) = inv.workloads
    assert (ds.id, ds.kind, ds.replicas, ds.location.line, ds.pods) == (
        "kube-system/DaemonSet/csi-secrets-store-provider-aws",
        "DaemonSet",
        None,
        42,
        (),
    )
    assert ds.pod.service_account == "csi-secrets-store-provider-aws"
    assert ds.pod.node_selector == (("kubernetes.io/os", "linux"),)
    assert ds.pod.tolerations == (Toleration(key=None, operator="Exists", value=None, effect=None),)
    assert ds.pod.containers == (
        Container(
            name="provider-aws-installer",
            image="public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:1.0.r2-72",
            privileged=False,
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities_drop=("ALL",),
            args=("--provider-volume=/var/run/secrets-store-csi-providers",),
        ),
    )
    assert ds.pod.csi_volumes == ()
    assert [(s.id, s.location.line) for s in inv.service_accounts] == [
        ("kube-system/ServiceAccount/csi-secrets-store-provider-aws", 3)
    ]
    assert [(r.id, r.location.line) for r in inv.rbac_roles] == [
        ("ClusterRole/csi-secrets-store-provider-aws-cluster-role", 15)
    ]
    assert [(b.id, b.role_id, [s.id for s in b.subjects]) for b in inv.bindings] == [
        (
            "ClusterRoleBinding/csi-secrets-store-provider-aws-cluster-rolebinding",
            "ClusterRole/csi-secrets-store-provider-aws-cluster-role",
            ["kube-system/ServiceAccount/csi-secrets-store-provider-aws"],
        )
    ]
    assert [(s.id, s.provider, s.location.line) for s in inv.spcs] == [
        ("default/SecretProviderClass/payments", "aws", 88)
    ]


def test_unquoted_date_like_values_are_strings(tmp_path: Path) -> None:
    # YAML 1.1 (PyYAML) reads an unquoted 2024-01-01 as a date; Kubernetes (sigs.k8s.io/yaml, whose
    # go-yaml keeps timestamp-like values as strings when decoding into interface{}) stores the text.
    path = write(
        tmp_path,
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: prod\n"
        "  labels: {released: 2024-01-01, app: p}\n"
        "spec:\n  nodeSelector: {pool-date: 2024-05-06}\n  containers: [{name: c, image: i}]\n",
    )
    (workload,) = read_paths(path).workloads
    assert workload.labels == (("app", "p"), ("released", "2024-01-01"))
    assert workload.pod.node_selector == (("pool-date", "2024-05-06"),)
