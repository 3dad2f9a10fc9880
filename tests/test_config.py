"""`.iamscope.yaml` values that would void or subvert the artefacts `harden` writes from them are refused
(InputError: exit 2, one line naming the file and the key): names the Kyverno policy would read as
variables, references or wildcards, groups that hold everyone, namespace names that are not names, a
cluster name EKS would refuse (it is written into the Falco output), and quotas that are no number."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from iamscope.config import Config, parse_config
from iamscope.errors import InputError
from tests.harden.common import DEMO
from tests.k8s.helpers import run_cli


def refused(raw: dict[str, Any]) -> str:
    with pytest.raises(InputError) as raised:
        parse_config(raw, source="c.yaml")
    assert raised.value.exit_code == 2
    return str(raised.value)


ARGOCD = "system:serviceaccount:argocd:argocd-application-controller"


@pytest.mark.parametrize(
    ("section", "key", "item"),
    [
        (section, key, item)
        for section, key in (
            ("platform", "principals"),
            ("platform", "groups"),
            ("sync", "approved_namespaces"),
        )
        for item in (
            "",
            "   ",
            "{{ request.userInfo.username }}",
            "team}}",
            "ops$(x)",
            "*",
            "system:serviceaccount:argocd:*",
            "team-?",
        )
    ],
)
def test_names_the_policy_would_not_read_literally_are_refused(section: str, key: str, item: str) -> None:
    message = refused({section: {key: ["legit", item]}})
    assert message.startswith(f"c.yaml: {section}.{key}: {item!r}: "), message


@pytest.mark.parametrize(
    "group",
    [
        "system:authenticated",
        "system:unauthenticated",
        "system:serviceaccounts",
        "system:nodes",
        "system:serviceaccounts:argocd",
        "system:serviceaccounts:kube-system",
    ],
)
def test_groups_that_hold_everyone_are_refused(group: str) -> None:
    message = refused({"platform": {"groups": ["platform-admins", group]}})
    assert message.startswith(f"c.yaml: platform.groups: {group!r} holds every "), message


def test_a_namespace_group_says_what_to_name_instead() -> None:
    assert refused({"platform": {"groups": ["system:serviceaccounts:argocd"]}}).endswith(
        "name the service accounts in platform.principals instead"
    )


def test_the_anonymous_user_is_no_principal() -> None:
    assert refused({"platform": {"principals": ["system:anonymous"]}}).startswith(
        "c.yaml: platform.principals: 'system:anonymous' is every unauthenticated request"
    )


def test_ordinary_names_are_kept() -> None:
    config = parse_config(
        {
            "platform": {
                "principals": [
                    ARGOCD,
                    "alice smith",
                    "arn:aws:sts::111122223333:assumed-role/Admin/alice=ops",
                ],
                "groups": ["platform-admins", "system:masters", "oidc:Platform Team"],
            },
            "sync": {"approved_namespaces": ["legacy", "a", "x" * 63, "team-1"]},
            "cluster": {"name": "Prod_EU-1"},
        },
        source="c.yaml",
    )
    assert config.platform_groups == ("oidc:Platform Team", "platform-admins", "system:masters")
    assert config.approved_namespaces == ("a", "legacy", "team-1", "x" * 63)
    assert config.cluster_name == "Prod_EU-1"


@pytest.mark.parametrize(
    "namespace", ["Legacy", "legacy_ns", "-legacy", "legacy-", "legacy.eu", "x" * 64, "prod/eu", "legacy\n"]
)
def test_approved_namespaces_are_dns_1123_labels(namespace: str) -> None:
    message = refused({"sync": {"approved_namespaces": [namespace]}})
    assert message == (
        f"c.yaml: sync.approved_namespaces: {namespace!r} is not a namespace name (a DNS-1123 label: up to 63 "
        "lowercase letters, digits and '-', starting and ending with a letter or digit)"
    )


@pytest.mark.parametrize(
    "name",
    [
        "prod%ka.user.name",
        "prod eu",
        "-prod",
        "_prod",
        "prod.eu",
        "x" * 101,
        "prod\n",
        "prod(eu)",
        "prod{{x}}",
    ],
)
def test_the_cluster_name_is_an_eks_cluster_name(name: str) -> None:
    """botocore eks 2017-11-01 CreateCluster name (shape ClusterName): 1-100 characters,
    ^[0-9A-Za-z][A-Za-z0-9\\-_]*."""
    message = refused({"cluster": {"name": name}})
    assert message.startswith(f"c.yaml: cluster.name: {name!r} is not an EKS cluster name"), message


def test_the_eks_pattern_admits_what_eks_does() -> None:
    for name in ("p", "0prod", "x" * 100, "prod_eu-1"):
        assert parse_config({"cluster": {"name": name}}, source="c.yaml").cluster_name == name


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**400, 0, -1, True, "100"])
@pytest.mark.parametrize("key", ["secretsmanager_rps", "ssm_tps"])
def test_quotas_are_positive_finite_numbers(key: str, value: Any) -> None:
    assert refused({"quotas": {key: value}}) == (
        f"c.yaml: quotas.{key}: must be a positive, finite number of requests per second"
    )


def test_a_finite_quota_is_kept() -> None:
    config = parse_config({"quotas": {"secretsmanager_rps": 2, "ssm_tps": 1e3}}, source="c.yaml")
    assert (config.secretsmanager_rps, config.ssm_tps) == (2.0, 1000.0)
    assert parse_config({}, source="c.yaml") == Config()


@pytest.mark.parametrize("command", ["scan", "harden"])
@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("quotas:\n  ssm_tps: .nan\n", "quotas.ssm_tps"),
        ("quotas:\n  secretsmanager_rps: .inf\n", "quotas.secretsmanager_rps"),
        ("platform:\n  groups: [system:authenticated]\n", "platform.groups"),
        ("platform:\n  principals: ['*']\n", "platform.principals"),
        ("cluster:\n  name: 'prod %ka.user.name'\n", "cluster.name"),
        ("sync:\n  approved_namespaces: ['']\n", "sync.approved_namespaces"),
    ],
    ids=["nan", "inf", "authenticated", "wildcard", "percent", "empty"],
)
def test_the_commands_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, text: str, where: str
) -> None:
    """`.nan`/`.inf` used to crash scan and harden (exit 70) when the rotation interval was computed."""
    config = tmp_path / "c.yaml"
    config.write_text(text)
    args = [command, str(DEMO), "--config", str(config)]
    if command == "harden":
        args += ["--out", str(tmp_path / "out")]
    code, out, err = run_cli(args, capsys)
    assert code == 2, err
    assert out == ""
    assert err.startswith(f"iamscope: error: {config}: {where}: "), err
    assert err.count("\n") == 1
