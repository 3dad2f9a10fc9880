"""The command line as a user meets it: exit codes, one-line errors, the policy subcommands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def test_scan_without_input_is_a_usage_error() -> None:
    result = iamscope("scan")
    assert result.returncode == 2
    assert (
        result.stderr == "iamscope: error: nothing to read: give a STATE directory, or --k8s and/or --aws\n"
    )


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
        (b"[" * 100_000, "JSON nested too deeply"),
        (b"[" + b"9" * 5000 + b"]", "invalid JSON: a number with too many digits"),
        (b"\xff\xfe\x00binary", "UTF-16 text (byte-order mark FF FE); iamscope reads UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data, not text (a NUL byte at byte 8)"),
        (b'{"Statement": "caf\xe9"}', "line 1 column 19: not UTF-8 text (byte 0xE9)"),
        (b"", "invalid JSON: Expecting value"),
        (b'["Statement"]', "a policy document must be a JSON object, got list"),
    ],
    ids=["deeply nested", "huge integer", "utf-16", "binary", "latin-1", "empty", "array at top level"],
)
def test_hostile_policy_files_get_one_line_and_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "policy.json"
    path.write_bytes(content)
    result = iamscope("policy", "evaluate", "--policy", str(path), "--action", "s3:GetObject")
    assert result.returncode == 2
    assert result.stderr.startswith(f"iamscope: error: {path}")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_bytes(b"\xef\xbb\xbf" + (DEMO / "payments-api.json").read_bytes())
    result = iamscope(
        "policy",
        "evaluate",
        "--policy",
        str(path),
        "--action",
        "secretsmanager:GetSecretValue",
        "--resource",
        DB,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Allow ")


def test_directory_and_fifo_are_refused_in_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, message in ((tmp_path, "is a directory, not a file"), (fifo, "not a regular file")):
        result = iamscope("policy", "evaluate", "--policy", str(path), "--action", "s3:GetObject")
        assert result.returncode == 2
        assert result.stderr == f"iamscope: error: {path}: {message}\n"


def test_stdin_is_strict_utf8_and_read_once() -> None:
    policy = (DEMO / "payments-api.json").read_text()
    ok = iamscope(
        "policy",
        "evaluate",
        "--policy",
        "-",
        "--action",
        "secretsmanager:GetSecretValue",
        "--resource",
        DB,
        stdin=policy,
    )
    assert ok.returncode == 0, ok.stderr
    twice = iamscope(
        "policy", "evaluate", "--policy", "-", "--boundary", "-", "--action", "s3:GetObject", stdin=policy
    )
    assert twice.returncode == 2
    assert twice.stderr == "iamscope: error: standard input (-) can be given only once\n"
    latin = subprocess.run(
        [sys.executable, "-m", "iamscope", "policy", "evaluate", "--policy", "-", "--action", "s3:GetObject"],
        input=b'{"Statement": {"Sid": "\xff", "Effect": "Allow", "Action": "*", "Resource": "*"}}',
        capture_output=True,
        cwd=REPO,
        check=False,
    )
    assert latin.returncode == 2
    assert latin.stderr == b"iamscope: error: -: line 1 column 24: not UTF-8 text (byte 0xFF)\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"aws:PrincipalTag/team": None}, "Allow"),  # null: the key is absent, so Null "true" holds
        ({"aws:PrincipalTag/team": "payments"}, "ImplicitDeny"),
    ],
)
def test_context_file_null_means_absent(tmp_path: Path, content: dict[str, Any], expected: str) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps(
            {
                "Statement": {
                    "Effect": "Allow",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"Null": {"aws:PrincipalTag/team": "true"}},
                }
            }
        )
    )
    context = tmp_path / "context.json"
    context.write_text(json.dumps(content))
    result = iamscope(
        "policy",
        "evaluate",
        "--policy",
        str(policy),
        "--action",
        "s3:GetObject",
        "--context-file",
        str(context),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == expected


def test_context_file_object_value_is_refused(tmp_path: Path) -> None:
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"aws:PrincipalTag/team": {"v": "payments"}}))
    result = iamscope(
        "policy",
        "evaluate",
        "--policy",
        str(DEMO / "payments-api.json"),
        "--action",
        "s3:GetObject",
        "--context-file",
        str(context),
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"iamscope: error: {context}: key 'aws:PrincipalTag/team': values must be strings, numbers, booleans or lists of those\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["policy", "actions", "nosuch:*"], "pattern 'nosuch:*' matches no known action"),
        (["policy", "actions", "foo"], "pattern 'foo' is not of the form service:action"),
        (
            ["policy", "evaluate", "--policy", str(DEMO / "payments-api.json"), "--action", "notanaction"],
            "--action 'notanaction' is not of the form service:action",
        ),
    ],
    ids=["unknown service", "no colon", "evaluate no colon"],
)
def test_unknown_actions_are_usage_errors(args: list[str], message: str) -> None:
    result = iamscope(*args)
    assert result.returncode == 2
    assert result.stderr == f"iamscope: error: {message}\n"


def test_click_usage_errors_are_one_line() -> None:
    result = iamscope("policy", "evaluate", "--frobnicate")
    assert result.returncode == 2
    assert result.stderr.startswith("iamscope: error: No such option '--frobnicate'.")
    assert result.stderr.endswith(" (see 'iamscope policy evaluate --help')\n")
    assert result.stderr.count("\n") == 1


def test_output_does_not_depend_on_argument_order() -> None:
    forward = iamscope("policy", "actions", "ssm:GetParameter?", "secretsmanager:GetS*")
    backward = iamscope("policy", "actions", "secretsmanager:GetS*", "ssm:GetParameter?")
    assert forward.stdout == backward.stdout
    assert forward.stdout.splitlines() == ["! secretsmanager:GetSecretValue", "! ssm:GetParameters"]
    args = [
        "--action",
        "secretsmanager:GetSecretValue",
        "--action",
        "secretsmanager:DescribeSecret",
        "--resource",
        DB,
        "--resource",
        "*",
    ]
    policies = ["--policy", str(DEMO / "payments-api.json"), "--policy", str(DEMO / "legacy-batch.json")]
    one = iamscope(
        "policy", "evaluate", *policies, *args, "--context", "aws:SourceIp=10.0.0.1", "--format", "json"
    )
    reversed_args = [*args[4:], *args[:4]]
    reversed_policies = [*policies[2:], *policies[:2]]
    two = iamscope(
        "policy",
        "evaluate",
        *reversed_policies,
        *reversed_args,
        "--context",
        "aws:SourceIp=10.0.0.1",
        "--format",
        "json",
    )
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout
