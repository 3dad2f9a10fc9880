"""SARIF 2.1.0 from `scan` and `diff`, validated against the official OASIS schema committed under
tests/data/sarif: one rule descriptor per registered rule, stable partialFingerprints, and results
located at the manifest file and line where their subject is declared (so code scanning annotates
the pull request there)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import iamscope.checks  # noqa: F401  (registers every rule)
from iamscope.findings import RULES
from tests.conftest import REPO
from tests.k8s.helpers import run_cli

SCHEMA = json.loads((REPO / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
DEMO = REPO / "fixtures" / "demo"
CONFIG = DEMO / "iamscope.yaml"


def validate(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def scan_sarif(capsys: pytest.CaptureFixture[str], state: Path = DEMO) -> tuple[int, dict[str, Any]]:
    code, out, _ = run_cli(["scan", str(state), "--config", str(CONFIG), "--format", "sarif"], capsys)
    return code, json.loads(out)


def test_the_schema_itself_rejects_what_it_must() -> None:
    """Guard: the committed schema is the real one (a log without a version is refused)."""
    with pytest.raises(jsonschema.ValidationError):
        validate({"runs": []})
    with pytest.raises(jsonschema.ValidationError):
        validate({"version": "2.0.0", "runs": []})


def test_scan_sarif_validates_and_describes_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, log = scan_sarif(capsys)
    assert code == 1  # the same gate as the other formats
    validate(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(RULES)
    assert run["tool"]["driver"]["name"] == "iamscope"
    assert len(run["results"]) == 22
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert set(result["partialFingerprints"]) == {"iamscope/v1"}
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_scan_results_point_at_the_manifest_line_or_the_snapshot_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, log = scan_sarif(capsys)
    by_subject = {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r for r in log["runs"][0]["results"]
    }
    shared = by_subject[("shared-service-account", "batch/ServiceAccount/batch-shared")]
    assert shared["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": f"{DEMO.as_uri()}/k8s/batch.yaml"},
                "region": {"startLine": 24},
            },
            "logicalLocations": [{"name": "batch/ServiceAccount/batch-shared", "kind": "resource"}],
        }
    ]
    assert shared["level"] == "warning"
    node = by_subject[("node-role-secret-access", "arn:aws:iam::111122223333:role/eks-prod-eu-node-group")]
    assert node["level"] == "error"
    assert node["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": f"{DEMO.as_uri()}/aws/iam-authorization-details.json"}
    }


def test_relative_paths_stay_relative_uris(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    _, log = scan_sarif(capsys, Path("fixtures/demo"))
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
        for loc in r["locations"]
    }
    assert "fixtures/demo/k8s/batch.yaml" in uris
    assert all(not u.startswith("/") for u in uris)


def test_fingerprints_are_the_findings_and_stable(capsys: pytest.CaptureFixture[str]) -> None:
    _, first = scan_sarif(capsys)
    _, second = scan_sarif(capsys)
    assert first == second
    _, out, _ = run_cli(["scan", str(DEMO), "--config", str(CONFIG), "--format", "json"], capsys)
    fingerprints = sorted(f["fingerprint"] for f in json.loads(out)["findings"])
    assert (
        sorted(r["partialFingerprints"]["iamscope/v1"] for r in first["runs"][0]["results"]) == fingerprints
    )


def test_an_incomplete_scan_says_so_in_its_invocation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    shutil.copytree(DEMO, state)
    (state / "aws" / "iam-authorization-details.json").unlink()
    _, log = scan_sarif(capsys, state)
    validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert (
        "incomplete input: no iam-authorization-details.json: which roles exist and what they grant is unknown"
        in texts
    )


def test_diff_sarif_has_one_result_per_added_escalation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    after = tmp_path / "after"
    shutil.copytree(DEMO, after)
    details = after / "aws" / "iam-authorization-details.json"
    data = json.loads(details.read_text())
    role = next(r for r in data["RoleDetailList"] if r["RoleName"] == "prod-eu-refunds")
    role["RolePolicyList"].append(
        {
            "PolicyName": "wide",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/ledger-*",
                    }
                ],
            },
        }
    )
    details.write_text(json.dumps(data))
    code, out, _ = run_cli(
        ["diff", str(DEMO), str(after), "--config", str(CONFIG), "--format", "sarif"], capsys
    )
    assert code == 1
    log = json.loads(out)
    validate(log)
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["new-access-escalation"]
    results = sorted(run["results"], key=lambda r: r["message"]["text"])
    assert [r["message"]["text"].split(":")[0] for r in results] == [
        "payments/ServiceAccount/refunds newly gains secretsmanager",
        "payments/ServiceAccount/refunds newly gains secretsmanager",
    ]
    resources = sorted(r["properties"]["resource"] for r in results)
    assert resources == [
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/ledger-*",
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/ledger-Lg7Rt2",
    ]
    for result in results:
        (location,) = result["locations"]
        assert (
            location["physicalLocation"]["artifactLocation"]["uri"] == f"{after.as_uri()}/k8s/payments.json"
        )
    code, again, _ = run_cli(
        ["diff", str(DEMO), str(after), "--config", str(CONFIG), "--format", "sarif"], capsys
    )
    assert again == out
