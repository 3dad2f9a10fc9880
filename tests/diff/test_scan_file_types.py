"""A saved scan JSON given to `iamscope diff` is checked for the types of what the diff reads, not only
for its keys: a grant whose resource is null, or whose actions are a string, is one line naming the file
and the entry (exit 2), never an internal error (exit 70) nor a diff that lists single characters as
actions."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.k8s.helpers import run_cli

ROLE = "arn:aws:iam::111122223333:role/api"
DB = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf"


def document() -> dict[str, Any]:
    return {
        "schema": "iamscope.scan/v1",
        "complete": True,
        "incomplete": [],
        "findings": [],
        "access": [
            {
                "service_account": "prod/ServiceAccount/api",
                "workloads": ["prod/Deployment/api"],
                "role_arn": ROLE,
                "assumable_roles": [ROLE],
                "assumed_through": {ROLE: "irsa"},
                "needs": [DB],
                "unresolved_needs": [],
                "grants": [
                    {
                        "resource": DB,
                        "actions": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                        "via": ROLE,
                        "statements": ["role api: policy api, statement 0"],
                    }
                ],
            }
        ],
    }


@pytest.fixture(autouse=True)
def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # never pick up a .iamscope.yaml from wherever the tests run


def _grant(doc: dict[str, Any]) -> dict[str, Any]:
    grant: dict[str, Any] = doc["access"][0]["grants"][0]
    return grant


def _set(
    path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any
) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        path(doc)[key] = value

    return change


def _entry(doc: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = doc["access"][0]
    return entry


def test_a_well_typed_document_diffs(capsys: pytest.CaptureFixture[str]) -> None:
    Path("a.json").write_text(json.dumps(document()), encoding="utf-8")
    code, _, err = run_cli(["diff", "a.json", "a.json"], capsys)
    assert (code, err) == (0, "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(_grant, "resource", None), "access[0].grants[0].resource: `resource` must be an ARN string"),
        (_set(_grant, "resource", ["x"]), "access[0].grants[0].resource: `resource` must be an ARN string"),
        (
            _set(_grant, "actions", "secretsmanager:GetSecretValue"),
            "access[0].grants[0].actions: `actions` must be a list of strings",
        ),
        (_set(_grant, "actions", [None]), "access[0].grants[0].actions: `actions` must be a list of strings"),
        (_set(_grant, "via", 7), "access[0].grants[0].via: `via` must be a role ARN string"),
        (_set(_grant, "statements", "s"), "access[0].grants[0].statements: `statements` has the wrong type"),
        (_set(_grant, "conditions", []), "access[0].grants[0].conditions: `conditions` must be an object"),
        (_set(_entry, "grants", {"a": 1}), "access[0].grants: `grants` must be a list"),
        (
            _set(_entry, "workloads", "prod/Deployment/api"),
            "access[0].workloads: `workloads` must be a list of strings",
        ),
        (
            _set(_entry, "assumable_roles", [1]),
            "access[0].assumable_roles: `assumable_roles` must be a list of strings",
        ),
        (_set(_entry, "needs", DB), "access[0].needs: `needs` must be a list of strings"),
        (
            _set(_entry, "assumed_through", [ROLE]),
            "access[0].assumed_through: `assumed_through` must map role ARNs to strings",
        ),
        (_set(_entry, "location", "f.yaml"), "access[0].location: `location` must be an object"),
        (
            _set(_entry, "service_account", None),
            "access[0]: each access entry needs a service_account string",
        ),
        (_set(lambda d: d, "incomplete", "gap"), "incomplete: `incomplete` must be a list of strings"),
        (_set(lambda d: d, "findings", ["f"]), "findings: `findings` must be a list of objects"),
        (_set(lambda d: d, "complete", "yes"), "complete: `complete` must be true or false"),
    ],
)
@pytest.mark.parametrize("side", ["before", "after"])
def test_a_field_of_the_wrong_type_is_exit_2_naming_the_file_and_the_entry(
    capsys: pytest.CaptureFixture[str], change: Callable[[dict[str, Any]], None], message: str, side: str
) -> None:
    good, bad = document(), copy.deepcopy(document())
    change(bad)
    Path("good.json").write_text(json.dumps(good), encoding="utf-8")
    Path("bad.json").write_text(json.dumps(bad), encoding="utf-8")
    args = ["bad.json", "good.json"] if side == "before" else ["good.json", "bad.json"]
    code, out, err = run_cli(["diff", *args], capsys)
    assert (code, out) == (2, "")
    assert err == f"iamscope: error: bad.json: {message}\n"
