"""kube_client: the kubeconfig (or in-cluster config) and context a live collection uses, and every
way it can fail as a one-line UsageError, never a traceback."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from iamscope.collect.kube import collect_kube, kube_client
from iamscope.errors import UsageError
from tests.collect.kube_replay import ReplayCluster, write_kubeconfig


@pytest.fixture
def no_ambient_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME without ~/.kube/config, no KUBECONFIG, not in a pod."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    return home


def one_namespace() -> ReplayCluster:
    return ReplayCluster([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}])


def test_the_context_asked_for_is_used_not_the_current_one(tmp_path: Path) -> None:
    with one_namespace().running() as cluster:
        path = write_kubeconfig(tmp_path / "config", cluster.url, context="prod-eu")
        client = kube_client("prod-eu", str(path))
        assert client.configuration.host == cluster.url
        result = collect_kube(client)
    assert [i["metadata"]["name"] for i in result.files["k8s/namespaces.json"]["items"]] == ["prod"]
    assert result.gaps == ()


def test_kubeconfig_env_is_read_when_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_ambient_config: Path
) -> None:
    path = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:6443", context="from-env")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{path}")  # kubectl skips missing files
    assert kube_client("from-env").configuration.host == "http://127.0.0.1:6443"


def test_the_default_kubeconfig_is_home_kube_config(no_ambient_config: Path) -> None:
    (no_ambient_config / ".kube").mkdir()
    write_kubeconfig(no_ambient_config / ".kube" / "config", "http://127.0.0.1:6443", context="home")
    assert kube_client("home").configuration.host == "http://127.0.0.1:6443"
    # without --context: the current context of the file
    assert kube_client(None).configuration.host == "http://127.0.0.1:9"


def test_an_unknown_context_names_the_contexts_there_are(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:6443", context="prod-eu")
    with pytest.raises(UsageError) as raised:
        kube_client("prod-us", str(path))
    assert str(raised.value) == (
        f"kubeconfig --kubeconfig {path}: no context 'prod-us' (its contexts: elsewhere, prod-eu)"
    )


def test_a_missing_kubeconfig_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^--kubeconfig .*/nope: no such file$"):
        kube_client("prod", str(tmp_path / "nope"))


def test_no_kubeconfig_outside_a_cluster(no_ambient_config: Path) -> None:
    with pytest.raises(UsageError) as raised:
        kube_client(None)
    assert str(raised.value).startswith("no kubeconfig: ~/.kube/config does not exist and this is not a pod")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("clusters: [oops\n", "prod", r"^kubeconfig \S+/config: invalid YAML: while parsing a flow sequence"),
        ("just a string\n", None, r"^kubeconfig \S+/config: not a kubeconfig \(no mapping of clusters"),
        (
            "kind: Config\n",
            "prod",
            r"^kubeconfig --kubeconfig \S+/config: no context 'prod' \(its contexts: none\)$",
        ),
        (
            "kind: Config\n",
            None,
            r"^kubeconfig --kubeconfig \S+/config: Invalid kube-config file\. Expected key current-context",
        ),
        (
            "contexts: [{name: prod, context: {cluster: gone, user: u}}]\nclusters: []\nusers: []\n",
            "prod",
            r"^kubeconfig --kubeconfig \S+/config context 'prod': Invalid kube-config file\. "
            r"Expected object with name gone in \S+/config/clusters list$",
        ),
    ],
)
def test_a_broken_kubeconfig_is_a_usage_error(
    tmp_path: Path, text: str, context: str | None, expected: str
) -> None:
    path = tmp_path / "config"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=expected) as raised:
        kube_client(context, str(path))
    assert "\n" not in str(raised.value)


def test_in_cluster_config_without_a_kubeconfig(
    monkeypatch: pytest.MonkeyPatch, no_ambient_config: Path
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.100.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    # this machine is no pod: the service account token file is missing, said in one line
    with pytest.raises(UsageError, match=r"^in-cluster Kubernetes configuration: "):
        kube_client(None)
    with pytest.raises(UsageError, match=r"^--context prod: no kubeconfig to find it in \(~/.kube/config"):
        kube_client("prod")


def test_without_the_kubernetes_package_the_user_is_told_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:6443")
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    # the module itself imports without the package; only asking for a client needs it
    monkeypatch.delitem(sys.modules, "iamscope.collect.kube")
    fresh = importlib.import_module("iamscope.collect.kube")
    for client in (fresh.kube_client, kube_client):
        with pytest.raises(UsageError) as raised:
            client("replay", str(path))
        assert (
            str(raised.value)
            == "reading a live cluster needs the Kubernetes client: pip install 'iamscope[live]'"
        )
