"""The command line as a user meets it: exit codes, one-line errors, the policy subcommands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DEMO = REPO / "fixtures" / "demo" / "policies"
DB = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/db-Xy12Ab"


def iamscope(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iamscope", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=REPO,
        check=False,
    )


def test_version() -> None:
    result = iamscope("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("iamscope, version ")


@pytest.mark.parametrize("command", ["scan", "graph", "audit"])
def test_pending_commands_exit_2_with_one_line(command: str) -> None:
    result = iamscope(command)
    assert result.returncode == 2
    assert result.stderr == f"iamscope: error: `iamscope {command}` is not implemented yet " + (
        "(the driver hardening issue)\n" if command == "audit" else "(the graph and scan issue)\n"
    )
    assert "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = iamscope("frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_evaluate_json_exact(tmp_path: Path) -> None:
    result = iamscope(
        "policy",
        "evaluate",
        "--policy",
        str(DEMO / "payments-api.json"),
        "--action",
        "secretsmanager:GetSecretValue",
        "--resource",
        DB,
        "--resource",
        DB.replace("db-Xy12Ab", "db-replica-Qw34Er"),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body == {
        "schema": "iamscope.evaluate/v1",
        "results": [
            {
                "action": "secretsmanager:GetSecretValue",
                "resource": DB,
                "decision": "Allow",
                "reason": "allowed by the identity policies",
                "statements": [
                    f"identity policy {DEMO / 'payments-api.json'}: "
                    "statement 0 (Sid 'ReadOwnSecrets') (Allow)"
                ],
                "reads_secret_material": True,
            },
            {
                "action": "secretsmanager:GetSecretValue",
                "resource": DB.replace("db-Xy12Ab", "db-replica-Qw34Er"),
                "decision": "ImplicitDeny",
                "reason": "no statement allows it",
                "statements": [],
                "reads_secret_material": True,
            },
        ],
    }


def test_evaluate_unknown_context_names_the_deciding_keys() -> None:
    result = iamscope(
        "policy",
        "evaluate",
        "--policy",
        str(DEMO / "legacy-batch.json"),
        "--unknown-context",
        "--action",
        "secretsmanager:GetSecretValue",
        "--resource",
        DB,
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["results"]
    assert row["decision"] == "conditional"
    assert row["keys"] == ["aws:sourceip", "aws:viaawsservice"]


def test_evaluate_expands_action_patterns() -> None:
    result = iamscope(
        "policy",
        "evaluate",
        "--policy",
        str(DEMO / "payments-api.json"),
        "--action",
        "secretsmanager:*Secret",
        "--resource",
        DB,
        "--format",
        "json",
    )
    decisions = {r["action"]: r["decision"] for r in json.loads(result.stdout)["results"]}
    assert decisions["secretsmanager:DescribeSecret"] == "Allow"
    assert decisions["secretsmanager:DeleteSecret"] == "ImplicitDeny"
    assert decisions["secretsmanager:CreateSecret"] == "ImplicitDeny"


def test_evaluate_reads_aws_cli_wrapped_documents(tmp_path: Path) -> None:
    document = json.loads((DEMO / "payments-api.json").read_text())
    wrapped = tmp_path / "get-policy-version.json"
    wrapped.write_text(
        json.dumps({"PolicyVersion": {"Document": document, "VersionId": "v3", "IsDefaultVersion": True}})
    )
    result = iamscope(
        "policy",
        "evaluate",
        "--policy",
        str(wrapped),
        "--action",
        "secretsmanager:GetSecretValue",
        "--resource",
        DB,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Allow ")


def test_bad_json_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{\n  "Version": "2012-10-17",\n  "Statement": [\n}\n')
    result = iamscope("policy", "evaluate", "--policy", str(bad), "--action", "s3:GetObject")
    assert result.returncode == 2
    assert result.stderr.startswith(f"iamscope: error: {bad}: line 4 column 1: invalid JSON")
    assert result.stderr.count("\n") == 1


def test_malformed_statement_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "policy.json"
    bad.write_text(
        json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Sid": "Oops", "Effect": "Permit", "Action": "*", "Resource": "*"},
                ]
            }
        )
    )
    result = iamscope("policy", "evaluate", "--policy", str(bad), "--action", "s3:GetObject")
    assert result.returncode == 2
    assert result.stderr == (
        f"iamscope: error: {bad}: statement 1 (Sid 'Oops'): "
        'Effect must be "Allow" or "Deny", got \'Permit\'\n'
    )


def test_missing_policy_file_is_a_usage_error(tmp_path: Path) -> None:
    result = iamscope(
        "policy", "evaluate", "--policy", str(tmp_path / "nope.json"), "--action", "s3:GetObject"
    )
    assert result.returncode == 2
    assert "nope.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_context_pair() -> None:
    result = iamscope(
        "policy",
        "evaluate",
        "--policy",
        str(DEMO / "payments-api.json"),
        "--action",
        "s3:GetObject",
        "--context",
        "novalue",
    )
    assert result.returncode == 2
    assert result.stderr == "iamscope: error: --context wants KEY=VALUE, got 'novalue'\n"


def test_actions_marks_secret_reading() -> None:
    result = iamscope("policy", "actions", "ssm:GetParameter*")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "! ssm:GetParameter",
        "! ssm:GetParameterHistory",
        "! ssm:GetParameters",
        "! ssm:GetParametersByPath",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000, "JSON nested too deeply to be a policy"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
        (b"", "invalid JSON: Expecting value"),
        (b'["Statement"]', "a policy document must be a JSON object, got list"),
    ],
    ids=["deeply nested", "binary", "empty", "array at top level"],
)
def test_hostile_policy_files_get_one_line_and_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "policy.json"
    path.write_bytes(content)
    result = iamscope("policy", "evaluate", "--policy", str(path), "--action", "s3:GetObject")
    assert result.returncode == 2
    assert result.stderr.startswith(f"iamscope: error: {path}")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
