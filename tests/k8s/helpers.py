"""Builders shared by the tests/k8s tests: manifests as dicts, inventories from them, the CLI in-process."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from iamscope.aws.snapshot import RawFile, build_aws_inventory
from iamscope.cli import main
from iamscope.files import InputReader
from iamscope.k8s.read import RawObject, read_manifests
from iamscope.k8s.transform import build_kube_inventory
from iamscope.model import AwsInventory, Inventory, KubeInventory, Location

ACCOUNT = "111122223333"
SPC_API = "secrets-store.csi.x-k8s.io/v1"
DRIVER = "secrets-store.csi.k8s.io"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_paths(*paths: str | Path) -> KubeInventory:
    raws, warnings = read_manifests([str(p) for p in paths], InputReader())
    return build_kube_inventory(raws, warnings)


def kube(*objects: Mapping[str, Any], file: str = "m.yaml") -> KubeInventory:
    """An inventory from objects as if each were one document of `file`, on lines 1, 11, 21, ..."""
    return build_kube_inventory(
        [RawObject(dict(o), Location(file=file, line=1 + 10 * i)) for i, o in enumerate(objects)]
    )


def meta(
    name: str, namespace: str | None, labels: Mapping[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, **extra}
    if namespace is not None:
        m["namespace"] = namespace
    if labels:
        m["labels"] = dict(labels)
    return m


def owner(kind: str, name: str, *, controller: bool | None = True) -> dict[str, Any]:
    api = {"ReplicaSet": "apps/v1", "Deployment": "apps/v1", "DaemonSet": "apps/v1", "StatefulSet": "apps/v1"}
    ref: dict[str, Any] = {
        "apiVersion": api.get(kind, "batch/v1" if kind in ("Job", "CronJob") else "v1"),
        "kind": kind,
        "name": name,
        "uid": f"uid-{kind}-{name}",
    }
    if controller is not None:
        ref["controller"] = controller
    return ref


def pod_spec(
    sa: str = "default", volumes: Sequence[Mapping[str, Any]] = (), node: str | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": sa,
        "containers": [{"name": "app", "image": "example/app:1"}],
    }
    if volumes:
        spec["volumes"] = [dict(v) for v in volumes]
    if node:
        spec["nodeName"] = node
    return spec


def pod(
    name: str,
    namespace: str | None = "prod",
    *,
    sa: str = "default",
    owners: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
    node: str | None = None,
    volumes: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    m = meta(name, namespace, labels)
    if owners:
        m["ownerReferences"] = [dict(o) for o in owners]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": m, "spec": pod_spec(sa, volumes, node)}


def controller(
    kind: str,
    name: str,
    namespace: str | None = "prod",
    *,
    sa: str = "default",
    replicas: int | None = None,
    owners: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
    volumes: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    m = meta(name, namespace, labels)
    if owners:
        m["ownerReferences"] = [dict(o) for o in owners]
    template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec(sa, volumes)}
    if kind == "CronJob":
        spec: dict[str, Any] = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
        api = "batch/v1"
    else:
        spec = {"template": template}
        api = "batch/v1" if kind == "Job" else "v1" if kind == "ReplicationController" else "apps/v1"
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": api, "kind": kind, "metadata": m, "spec": spec}


def service_account(name: str, namespace: str = "prod", role: str | None = None) -> dict[str, Any]:
    annotations = {"eks.amazonaws.com/role-arn": role} if role else {}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta(name, namespace, annotations=annotations),
    }


def node(name: str, region: str | None = None) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name}
    if region:
        labels["topology.kubernetes.io/region"] = region
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta(name, None, labels), "spec": {}}


def csi_volume(spc: str | None = "db", name: str = "secrets", **attributes: str) -> dict[str, Any]:
    attrs = dict(attributes)
    if spc is not None:
        attrs["secretProviderClass"] = spc
    return {"name": name, "csi": {"driver": DRIVER, "readOnly": True, "volumeAttributes": attrs}}


def spc(
    name: str = "db",
    namespace: str = "prod",
    *,
    provider: str = "aws",
    objects: str | None = None,
    api_version: str = SPC_API,
    **parameters: str,
) -> dict[str, Any]:
    params = dict(parameters)
    if objects is not None:
        params["objects"] = objects
    return {
        "apiVersion": api_version,
        "kind": "SecretProviderClass",
        "metadata": meta(name, namespace),
        "spec": {"provider": provider, "parameters": params},
    }


def secret_entry(
    name: str, region: str = "us-east-1", suffix: str = "AbCdEf", **extra: Any
) -> dict[str, Any]:
    return {"ARN": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{suffix}", "Name": name, **extra}


def aws_inventory(
    *,
    account: str | None = ACCOUNT,
    secrets: Iterable[Mapping[str, Any]] | None = None,
    parameters: Iterable[Mapping[str, Any]] | None = None,
    regions: Iterable[str] = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1"),
) -> AwsInventory:
    """A snapshot with the caller identity (when `account`) and, when not None, list-secrets and
    describe-parameters files, one per region as DESIGN.md names them (an empty list is a listing that
    holds nothing; None is no listing). A listing covers only its region."""
    covered = tuple(regions)

    def region_of(item: dict[str, Any]) -> str:
        return str(item["ARN"]).split(":")[3] if "ARN" in item else covered[0]

    raw: dict[str, list[RawFile]] = {}
    if account:
        raw["identity"] = [RawFile("sts-get-caller-identity.json", {"Account": account})]
    for key, prefix, field, items in (
        ("secrets", "secretsmanager-list-secrets", "SecretList", secrets),
        ("parameters", "ssm-describe-parameters", "Parameters", parameters),
    ):
        if items is None:
            continue
        listed = [dict(i) for i in items]
        raw[key] = [
            RawFile(f"{prefix}-{region}.json", {field: [i for i in listed if region_of(i) == region]})
            for region in covered
        ]
    return build_aws_inventory(raw)


def inventory(*objects: Mapping[str, Any], aws: AwsInventory | None = None) -> Inventory:
    return Inventory(kube=kube(*objects), aws=aws if aws is not None else AwsInventory())


def run_cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`iamscope ARGS` in this process, as the console script runs it: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 0), out, err


def stdin_bytes(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
