"""The README states iamscope's own IAM policy and Kubernetes RBAC (issue 7's "done when"): they must
be exactly what the collectors use — every operation of iamscope.collect.aws.OPERATIONS and nothing
else, every kind of iamscope.collect.kube.RESOURCES with `list` and nothing else — and the IAM policy
must be a valid document that allows each operation and no value-reading one, judged by the policy
engine (iamscope.policy.evaluate)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from iamscope.collect.aws import OPERATIONS
from iamscope.collect.kube import RESOURCES
from iamscope.policy import evaluate
from tests.conftest import REPO

SECTION = "### iamscope's own permissions"


def _blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ")]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def _policy() -> dict[str, Any]:
    (block,) = _blocks("json")
    return dict(json.loads(block))


def test_the_readme_policy_lists_exactly_the_collector_operations() -> None:
    (statement,) = _policy()["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "*"
    assert statement["Action"] == sorted(statement["Action"])
    assert set(statement["Action"]) == set(OPERATIONS)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_the_readme_policy_allows_each_operation(operation: str) -> None:
    assert evaluate([_policy()], operation, "*").allowed


@pytest.mark.parametrize(
    "operation",
    [
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "kms:Decrypt",
    ],
)
def test_the_readme_policy_reads_no_value(operation: str) -> None:
    assert evaluate([_policy()], operation, "*").effect == "ImplicitDeny"


def test_the_readme_rbac_lists_exactly_the_collected_kinds() -> None:
    (block,) = _blocks("yaml")
    role = yaml.safe_load(block)
    assert role["kind"] == "ClusterRole"
    granted = {
        (group, resource)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert all(rule["verbs"] == ["list"] for rule in role["rules"])
    assert granted == {(r.group, r.plural) for r in RESOURCES}
