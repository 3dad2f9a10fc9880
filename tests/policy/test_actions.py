"""The action catalogue: expanding IAM action patterns against botocore's service models, and which
actions read secret material.

The oracle for expansions is botocore itself, loaded here, never a hand-typed list of operations: IAM
matches `*` and `?` in an action case-insensitively (IAM User Guide, "IAM JSON policy elements: Action":
"`?` matches any single character, `*` any combination of characters"; action names are not
case-sensitive).
"""

from __future__ import annotations

import re

import botocore.session
import pytest

from iamscope.policy import expand_actions, reads_secret_material


def botocore_actions(service: str) -> tuple[str, ...]:
    model = botocore.session.get_session().get_service_model(service)
    return tuple(sorted(f"{service}:{op}" for op in model.operation_names))


def oracle(pattern: str, service: str) -> tuple[str, ...]:
    """The actions of `service` that `pattern` matches, IAM-style, computed from botocore."""
    regex = re.compile(
        "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern), re.IGNORECASE
    )
    return tuple(a for a in botocore_actions(service) if regex.fullmatch(a))


def test_secretsmanager_get_star() -> None:
    got = expand_actions("secretsmanager:Get*")
    assert {
        "secretsmanager:GetSecretValue",
        "secretsmanager:GetRandomPassword",
        "secretsmanager:GetResourcePolicy",
    } <= set(got)
    assert not [a for a in got if a.lower().startswith("secretsmanager:describe")]
    # Get* is anchored at the start of the action name: BatchGetSecretValue does not start with Get.
    assert "secretsmanager:BatchGetSecretValue" not in got
    assert all(a.startswith("secretsmanager:Get") for a in got)
    assert got == oracle("secretsmanager:Get*", "secretsmanager")


def test_question_mark_is_exactly_one_character() -> None:
    assert expand_actions("ssm:GetParameter?") == ("ssm:GetParameters",)
    # GetParameter itself has no character where the ? stands. Seven ? match the seven characters of
    # both "sByPath" and "History", and nothing shorter or longer.
    assert "ssm:GetParameter" not in expand_actions("ssm:GetParameter?")
    assert expand_actions("ssm:GetParameter???????") == ("ssm:GetParameterHistory", "ssm:GetParametersByPath")
    assert expand_actions("ssm:GetParameter??????") == ()


def test_star_matches_zero_or_more_characters() -> None:
    got = expand_actions("ssm:GetParameter*")
    assert {
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
    } <= set(got)
    assert got == oracle("ssm:GetParameter*", "ssm")


def test_exact_action_expands_to_itself() -> None:
    assert expand_actions("secretsmanager:GetSecretValue") == ("secretsmanager:GetSecretValue",)
    assert expand_actions("ssm:GetParameter") == ("ssm:GetParameter",)


@pytest.mark.parametrize(
    "pattern",
    ["SecretsManager:get*", "SECRETSMANAGER:GET*", "secretsmanager:gEt*", "secretsManager:Get*"],
)
def test_patterns_are_case_insensitive(pattern: str) -> None:
    expected = expand_actions("secretsmanager:Get*")
    assert expected  # not vacuous
    assert expand_actions(pattern) == expected


def test_lower_case_exact_action_gives_the_canonical_name() -> None:
    assert expand_actions("secretsmanager:getsecretvalue") == ("secretsmanager:GetSecretValue",)
    assert expand_actions("SSM:GETPARAMETERS") == ("ssm:GetParameters",)


def test_service_star_is_every_operation_of_the_botocore_model() -> None:
    every = botocore_actions("secretsmanager")
    assert len(every) > 20
    assert expand_actions("secretsmanager:*") == every


@pytest.mark.parametrize(
    "pattern",
    [
        "secretsmanager:*Secret*",
        "secretsmanager:*Secret",
        "secretsmanager:List*",
        "secretsmanager:?etSecretValue",
        "secretsmanager:*Value",
        "secretsmanager:Put*",
        "secretsmanager:*Resource*",
        "secretsmanager:*Rotat*",
        "ssm:Describe*",
        "ssm:*Parameter*",
        "ssm:Get*",
        "ssm:List*",
    ],
)
def test_expansion_agrees_with_botocore(pattern: str) -> None:
    service = pattern.split(":", 1)[0]
    expected = oracle(pattern, service)
    assert expected  # every pattern here matches something
    assert expand_actions(pattern) == expected


@pytest.mark.parametrize("pattern", ["secretsmanager:Get*", "ssm:*Parameter*", "secretsmanager:*"])
def test_expansion_is_sorted_and_unique(pattern: str) -> None:
    got = expand_actions(pattern)
    assert isinstance(got, tuple)
    assert list(got) == sorted(set(got))


def test_pattern_that_matches_nothing_is_empty() -> None:
    assert expand_actions("secretsmanager:Frobnicate*") == ()
    assert expand_actions("secretsmanager:GetSecretValue?") == ()


@pytest.mark.parametrize(
    ("action", "reads"),
    [
        ("secretsmanager:GetSecretValue", True),
        ("secretsmanager:BatchGetSecretValue", True),
        ("ssm:GetParameter", True),
        ("ssm:GetParameters", True),
        ("ssm:GetParametersByPath", True),
        ("ssm:GetParameterHistory", True),
        ("secretsmanager:DescribeSecret", False),
        ("secretsmanager:ListSecrets", False),
        ("ssm:DescribeParameters", False),
    ],
)
def test_reads_secret_material(action: str, reads: bool) -> None:
    assert reads_secret_material(action) is reads


def test_every_secret_reading_action_exists_in_botocore() -> None:
    readers = [
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
    ]
    known = set(botocore_actions("secretsmanager")) | set(botocore_actions("ssm"))
    assert set(readers) <= known
