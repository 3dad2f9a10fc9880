"""Ways a change could slip past the gate, or fail it for nothing, found in review: a loosened
condition, a node role, a trust for service accounts not in the manifests, a workload joining a
service account, a narrowed wildcard, action case, and an AFTER that is not whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.diff.test_diff import (
    API,
    BOTH,
    DB,
    PROD_ALL,
    SUB,
    app,
    build,
    diff,
    diff_json,
    pair,
    rows,
)
from tests.k8s.helpers import run_cli
from tests.scan.builder import READ, State, allow

VPCE = "aws:SourceVpce"


@pytest.fixture(autouse=True)
def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_a_loosened_condition_is_new_access(capsys: pytest.CaptureFixture[str]) -> None:
    """IAM: StringLike with `*` matches any value, so `aws:SourceVpce` = vpce-0123 becoming StringLike
    `*` lets the grant hold from anywhere, though both are "conditional" on an unknown key."""

    def fill(condition: dict[str, dict[str, str]]) -> object:
        def go(s: State) -> None:
            s.secret("prod/db")
            app(s, "prod", "api", [allow(READ, DB, condition=condition)], "prod/db")

        return go

    before, after = pair(fill({"StringEquals": {VPCE: "vpce-0123"}}), fill({"StringLike": {VPCE: "*"}}))  # type: ignore[arg-type]
    code, doc = diff_json(capsys, before, after)
    assert code == 1
    assert rows(doc) == (("added", API, DB, BOTH, False),)
    assert doc["changes"][0]["reasons"][0].startswith("its condition changed: was ")
    assert "vpce-0123" in doc["changes"][0]["reasons"][0]


def test_a_node_role_that_newly_reads_secrets_fails_the_gate(capsys: pytest.CaptureFixture[str]) -> None:
    """Threat 2 of DESIGN.md: any pod reaching IMDS has the node role's credentials; the access maps are
    per service account, so the gate reads the scan's node-role-secret-access finding."""

    def fill(grant: bool) -> object:
        def go(s: State) -> None:
            s.secret("prod/db")
            app(s, "prod", "api", [allow(READ, DB)], "prod/db")
            s.node_role("eks-node", [allow("secretsmanager:*", "*")] if grant else [])

        return go

    code, doc = diff_json(capsys, *pair(fill(False), fill(True)))  # type: ignore[arg-type]
    assert code == 1
    assert doc["new_access"] == 0
    assert [(f["rule"], f["severity"]) for f in doc["new_findings"]] == [
        ("node-role-secret-access", "critical")
    ]


def test_a_trust_for_service_accounts_not_yet_created_fails_the_gate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """IRSA: StringLike `system:serviceaccount:staging:*` admits any service account someone creates in
    staging, though none exists in the manifests yet (the scan's broad-trust decides it for a made-up one)."""

    def fill(subject: str) -> object:
        def go(s: State) -> None:
            s.secret("prod/db")
            conditions = {"StringLike": {SUB: subject}}
            app(s, "prod", "api", [allow(READ, DB)], "prod/db", trust_conditions=conditions)

        return go

    before, after = pair(fill("system:serviceaccount:prod:api"), fill("system:serviceaccount:staging:*"))  # type: ignore[arg-type]
    code, doc = diff_json(capsys, before, after)
    assert code == 1
    assert "broad-trust" in [f["rule"] for f in doc["new_findings"]]


def test_a_workload_joining_a_service_account_gets_its_access(capsys: pytest.CaptureFixture[str]) -> None:
    """Threat 4: a test pod run as the production service account mounts what that account can read."""

    def fill(debug: bool) -> object:
        def go(s: State) -> None:
            s.secret("prod/db")
            app(s, "prod", "api", [allow(READ, DB)], "prod/db")
            if debug:
                s.workload("Pod", "prod", "debug", "api")

        return go

    code, doc = diff_json(capsys, *pair(fill(False), fill(True)))  # type: ignore[arg-type]
    assert code == 1
    assert rows(doc) == (("added", API, DB, BOTH, True),)
    assert doc["changes"][0]["reasons"] == [
        "prod/Pod/debug newly runs as prod/ServiceAccount/api, which can read it"
    ]


def test_a_narrowed_wildcard_is_no_new_access(capsys: pytest.CaptureFixture[str]) -> None:
    """IAM: `prod/db*` matches a subset of what `prod/*` matches; narrowing a grant adds nothing."""

    def fill(pattern: str) -> object:
        def go(s: State) -> None:
            s.secret("prod/db")
            s.secret("prod/cache")
            app(s, "prod", "api", [allow(READ, pattern)], "prod/db")

        return go

    code, doc = diff_json(capsys, *pair(fill(PROD_ALL), fill(PROD_ALL.replace("prod/*", "prod/db*"))))  # type: ignore[arg-type]
    assert code == 0
    assert doc["new_access"] == 0
    assert doc["removed_access"] >= 1


def test_action_case_in_saved_scans_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """IAM: action names are case-insensitive."""

    def fill(s: State) -> None:
        s.secret("prod/db")
        app(s, "prod", "api", [allow(READ, DB)], "prod/db")

    state = build("state", fill)
    _, out, _ = run_cli(["scan", str(state), "--format", "json"], capsys)
    scan = json.loads(out)
    Path("before.json").write_text(out)
    for entry in scan["access"]:
        for grant in entry["grants"]:
            grant["actions"] = [a.lower() for a in grant["actions"]]
    Path("after.json").write_text(json.dumps(scan))
    code, doc = diff_json(capsys, "before.json", "after.json")
    assert (code, doc["changes"]) == (0, [])


def test_a_saved_scan_marked_incomplete_is_not_a_clean_after(capsys: pytest.CaptureFixture[str]) -> None:
    """Fail closed: `complete: false` is what the scan document says; the gate must not pass it."""

    def fill(s: State) -> None:
        s.secret("prod/db")
        app(s, "prod", "api", [allow(READ, DB)], "prod/db")

    state = build("state", fill)
    _, out, _ = run_cli(["scan", str(state), "--format", "json"], capsys)
    Path("before.json").write_text(out)
    scan = json.loads(out)
    scan["complete"] = False
    Path("after.json").write_text(json.dumps(scan))
    code, text, _ = diff(capsys, "before.json", "after.json")
    assert code == 3
    assert text.splitlines()[1] == "no change in access; AFTER is incomplete: new access cannot be ruled out"
    code, markdown, _ = diff(capsys, "before.json", "after.json", "--format", "markdown")
    assert markdown.startswith("**iamscope diff** :warning: ")
    code, sarif, _ = diff(capsys, "before.json", "after.json", "--format", "sarif")
    assert json.loads(sarif)["runs"][0]["invocations"][0]["executionSuccessful"] is False
