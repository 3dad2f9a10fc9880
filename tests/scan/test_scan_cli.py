"""`iamscope scan` as pipelines meet it (DESIGN.md §3 Commands): exit codes for --fail-on, bad input (2,
one line naming the file, no traceback) and incomplete input (3), --output, and byte-identical JSON
whatever the order of input files and objects."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from iamscope.cli import main
from tests.conftest import REPO
from tests.scan.builder import GET, READ, State, allow, policy_arn, role_arn

DEMO = REPO / "fixtures" / "demo"

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def iamscope(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """Run the CLI in-process from tmp_path (so no ./.iamscope.yaml is picked up): (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        code = done.value.code
        return (code if isinstance(code, int) else 0), out, err

    return run


def _app(state: State, extra: tuple[dict[str, Any], ...] = (), *, managed: tuple[str, ...] = ()) -> str:
    """prod/Deployment/api reading its own prod/db exactly, plus the `extra` statements."""
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db), *extra], managed=managed)
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [{"objectName": "prod/db", "objectType": "secretsmanager"}])
    state.workload("Deployment", "prod", "api", "api", "api")
    return db


def medium_state(root: Path) -> Path:
    """One medium finding (excess-grant) and nothing else."""
    state = State(root)
    spare = state.secret("prod/spare")
    _app(state, (allow(GET, spare),))
    return state.write()


def critical_state(root: Path) -> Path:
    """One critical finding (node-role-secret-access) and nothing else."""
    state = State(root)
    _app(state)
    state.node_role("eks-node-group", [allow(GET, "*")])
    return state.write()


def clean_state(root: Path) -> Path:
    state = State(root)
    _app(state)
    return state.write()


def rules(stdout: str) -> set[tuple[str, str]]:
    return {(f["rule"], f["severity"]) for f in json.loads(stdout)["findings"]}


# --- exit codes for --fail-on -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [
        ("critical", 0),
        ("high", 0),
        ("medium", 1),
        ("low", 1),
        ("none", 0),
    ],
)
def test_fail_on_with_one_medium_finding(iamscope: Cli, tmp_path: Path, fail_on: str, code: int) -> None:
    state = medium_state(tmp_path / "state")
    got, out, err = iamscope("scan", state, "--format", "json", "--fail-on", fail_on)
    assert (got, err) == (code, "")
    assert rules(out) == {("excess-grant", "medium")}


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 1), ("high", 1), ("low", 1), ("none", 0)])
def test_fail_on_with_one_critical_finding(iamscope: Cli, tmp_path: Path, fail_on: str, code: int) -> None:
    state = critical_state(tmp_path / "state")
    got, out, _ = iamscope("scan", state, "--format", "json", "--fail-on", fail_on)
    assert got == code
    assert rules(out) == {("node-role-secret-access", "critical")}


def test_default_fail_on_is_high(iamscope: Cli, tmp_path: Path) -> None:
    assert iamscope("scan", medium_state(tmp_path / "m"))[0] == 0
    assert iamscope("scan", critical_state(tmp_path / "c"))[0] == 1


def test_clean_state_exits_0_in_every_format(iamscope: Cli, tmp_path: Path) -> None:
    state = clean_state(tmp_path / "state")
    for fmt in ("text", "json", "markdown"):
        code, out, err = iamscope("scan", state, "--format", fmt, "--fail-on", "low")
        assert (code, err) == (0, ""), fmt
        assert out
    document = json.loads(iamscope("scan", state, "--format", "json")[1])
    assert document["findings"] == []
    assert document["complete"] is True
    assert document["summary"]["findings"] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}


def test_text_and_markdown_name_the_finding(iamscope: Cli, tmp_path: Path) -> None:
    state = medium_state(tmp_path / "state")
    for fmt in ("text", "markdown"):
        code, out, _ = iamscope("scan", state, "--format", fmt, "--fail-on", "medium")
        assert code == 1
        assert "excess-grant" in out
        assert "prod/Deployment/api" in out


def test_k8s_and_aws_options_equal_the_state_argument(iamscope: Cli, tmp_path: Path) -> None:
    state = medium_state(tmp_path / "state")
    by_state = iamscope("scan", state, "--format", "json")
    by_options = iamscope("scan", "--k8s", state / "k8s", "--aws", state / "aws", "--format", "json")
    assert by_options == by_state


# --- bad input: exit 2, one line naming the file --------------------------------------------------------


def _corrupt_iam_json(state: Path) -> Path:
    path = state / "aws" / "iam-authorization-details.json"
    path.write_text(path.read_text()[:-20])
    return path


def _corrupt_k8s_yaml(state: Path) -> Path:
    path = state / "k8s" / "broken.yaml"
    path.write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x, namespace: [unclosed\n")
    return path


def _bad_policy_effect(state: Path) -> Path:
    path = state / "aws" / "iam-authorization-details.json"
    data = json.loads(path.read_text())
    data["RoleDetailList"][0]["RolePolicyList"][0]["PolicyDocument"]["Statement"][0]["Effect"] = "Perhaps"
    path.write_text(json.dumps(data))
    return path


def _spc_objects_not_a_list(state: Path) -> Path:
    path = state / "k8s" / "objects.yaml"
    docs = list(yaml.safe_load_all(path.read_text()))
    for doc in docs:
        if doc["kind"] == "SecretProviderClass":
            doc["spec"]["parameters"]["objects"] = "objectName: prod/db\n"
    path.write_text(yaml.safe_dump_all(docs))
    return path


def _secret_arn_not_an_arn(state: Path) -> Path:
    path = state / "aws" / "secretsmanager-list-secrets-eu-west-1.json"
    data = json.loads(path.read_text())
    data["SecretList"][0]["ARN"] = "prod/db"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "corrupt",
    [
        _corrupt_iam_json,
        _corrupt_k8s_yaml,
        _bad_policy_effect,
        _secret_arn_not_an_arn,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_malformed_input_exits_2_with_one_line(
    iamscope: Cli, tmp_path: Path, corrupt: Callable[[Path], Path]
) -> None:
    state = clean_state(tmp_path / "state")
    path = corrupt(state)
    code, out, err = iamscope("scan", state, "--format", "json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("iamscope: error: ")
    assert str(path) in err
    assert "Traceback" not in err


def test_spc_objects_ascp_rejects_are_a_finding_not_bad_input(iamscope: Cli, tmp_path: Path) -> None:
    # ASCP fails that one mount (provider/secret_descriptor.go NewSecretDescriptorList cannot unmarshal
    # a mapping into the descriptor list); the scan reports it and goes on, and exits by --fail-on.
    state = clean_state(tmp_path / "state")
    _spc_objects_not_a_list(state)
    code, out, err = iamscope("scan", state, "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["complete"] is True
    assert [(f["rule"], f["severity"], f["subject"], f["message"]) for f in document["findings"]] == [
        # nothing is declared any more, so the role's grant on prod/db is beyond the need
        (
            "excess-grant",
            "medium",
            "prod/Deployment/api",
            "can read 1 secret(s)/parameter(s) no workload declares",
        ),
        (
            "unresolved-object",
            "medium",
            "prod/Deployment/api",
            "parameters.objects is not a YAML list of objects",
        ),
    ]
    assert iamscope("scan", state, "--format", "json", "--fail-on", "medium")[0] == 1


def test_not_a_state_directory_exits_2(iamscope: Cli, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = iamscope("scan", tmp_path / "empty")
    assert (code, out) == (2, "")
    assert err.startswith("iamscope: error: ")
    assert err.count("\n") == 1


# --- incomplete input: exit 3 ---------------------------------------------------------------------------


def _incomplete_state(root: Path, *, with_finding: bool) -> tuple[Path, str]:
    state = State(root)
    missing = policy_arn("team-secrets")  # attached, but not in the snapshot's Policies
    if with_finding:
        state.node_role("eks-node-group", [allow(GET, "*")])
    _app(state, managed=(missing,))
    return state.write(), missing


def test_missing_managed_policy_is_incomplete_exit_3(iamscope: Cli, tmp_path: Path) -> None:
    state, missing = _incomplete_state(tmp_path / "state", with_finding=False)
    code, out, err = iamscope("scan", state, "--format", "json")
    assert code == 3
    document = json.loads(out)
    assert document["complete"] is False
    assert document["incomplete"] == [f"{missing} (attached to {role_arn('api')}) is not in the snapshot"]
    assert document["findings"] == []
    assert "Traceback" not in err
    # --fail-on none does not hide an incomplete input
    assert iamscope("scan", state, "--format", "json", "--fail-on", "none")[0] == 3


def test_missing_permissions_boundary_is_incomplete(iamscope: Cli, tmp_path: Path) -> None:
    state = State(tmp_path / "state")
    db = state.secret("prod/db")
    boundary = policy_arn("workload-boundary")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)], boundary=boundary)
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [{"objectName": "prod/db", "objectType": "secretsmanager"}])
    state.workload("Deployment", "prod", "api", "api", "api")
    code, out, _ = iamscope("scan", state.write(), "--format", "json")
    assert code == 3
    assert json.loads(out)["incomplete"] == [f"{boundary} (attached to {role}) is not in the snapshot"]


def test_failing_finding_wins_over_incomplete(iamscope: Cli, tmp_path: Path) -> None:
    state, _ = _incomplete_state(tmp_path / "state", with_finding=True)
    code, out, _ = iamscope("scan", state, "--format", "json")
    assert code == 1
    assert json.loads(out)["complete"] is False


def test_incomplete_text_report_says_so(iamscope: Cli, tmp_path: Path) -> None:
    state, missing = _incomplete_state(tmp_path / "state", with_finding=False)
    code, out, _ = iamscope("scan", state)
    assert code == 3
    assert missing in out
    assert "incomplete" in out.lower()


def test_missing_policy_of_a_role_nobody_uses_is_not_a_gap(iamscope: Cli, tmp_path: Path) -> None:
    state = State(tmp_path / "state")
    _app(state)
    state.role("unrelated", trust=[], managed=[policy_arn("somewhere-else")])
    code, out, _ = iamscope("scan", state.write(), "--format", "json")
    assert code == 0
    assert json.loads(out)["complete"] is True


# --- --output -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_output_file_holds_the_same_bytes_as_stdout(iamscope: Cli, tmp_path: Path, fmt: str) -> None:
    state = medium_state(tmp_path / "state")
    code, out, _ = iamscope("scan", state, "--format", fmt, "--fail-on", "medium")
    target = tmp_path / f"report.{fmt}"
    code2, out2, _ = iamscope("scan", state, "--format", fmt, "--fail-on", "medium", "--output", target)
    assert (code, code2) == (1, 1)
    assert out2 == ""
    assert target.read_bytes() == out.encode()


# --- deterministic output -------------------------------------------------------------------------------


def _reverse_lists(value: Any) -> Any:
    """Every list of objects reversed, recursively (statement lists excepted: their index is named in
    messages, so reordering them changes what a finding says)."""
    if isinstance(value, dict):
        return {k: (v if k == "Statement" else _reverse_lists(v)) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        items = [_reverse_lists(v) for v in value]
        return items[::-1] if all(isinstance(v, dict) for v in items) else items
    return value


def _shuffled_demo(target: Path) -> None:
    """The demo state with every AWS list reversed (and the eu-west-1 secrets split over two files),
    and the objects of the k8s files no finding or access entry points into reversed."""
    shutil.copytree(DEMO, target)
    aws = target / "aws"
    for path in sorted(aws.glob("*.json")):
        path.write_text(json.dumps(_reverse_lists(json.loads(path.read_text())), indent=1))
    west = aws / "secretsmanager-list-secrets-eu-west-1.json"
    secrets = json.loads(west.read_text())["SecretList"]
    west.write_text(json.dumps({"SecretList": secrets[::2]}))
    (aws / "secretsmanager-list-secrets-eu-west-1-page2.json").write_text(
        json.dumps({"SecretList": secrets[1::2]})
    )
    for name in ("pods.json", "replicasets.json", "nodes.json", "namespaces.json"):
        path = target / "k8s" / name
        data = json.loads(path.read_text())
        data["items"] = data["items"][::-1]
        path.write_text(json.dumps(data, indent=3))
    for name in ("tools.yaml",):
        path = target / "k8s" / name
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        path.write_text(yaml.safe_dump_all(docs[::-1]))


def test_json_is_byte_identical_whatever_the_order_of_files_and_objects(
    iamscope: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both runs see the state under the same relative path, so locations (file, line) compare equal
    # for the files whose objects keep their places.
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    shutil.copytree(DEMO, tmp_path / "one" / "demo")
    _shuffled_demo(tmp_path / "two" / "demo")
    config = DEMO / "iamscope.yaml"

    monkeypatch.chdir(tmp_path / "one")
    first = iamscope("scan", "demo", "--config", config, "--format", "json")
    monkeypatch.chdir(tmp_path / "two")
    second = iamscope("scan", "demo", "--config", config, "--format", "json")
    assert first[0] == second[0] == 1
    assert first[1] == second[1]
    assert len(json.loads(first[1])["findings"]) == 22


def test_json_is_identical_when_k8s_files_are_given_in_another_order(iamscope: Cli, tmp_path: Path) -> None:
    k8s = sorted(
        str(p.relative_to(REPO)) for p in (DEMO / "k8s").rglob("*") if p.suffix in (".yaml", ".json")
    )
    config = DEMO / "iamscope.yaml"
    aws = DEMO / "aws"

    def scan(files: list[str]) -> tuple[int, str, str]:
        args: list[str | Path] = ["scan", "--aws", aws, "--config", config, "--format", "json"]
        for f in files:
            args += ["--k8s", REPO / f]
        return iamscope(*args)

    forward = scan(k8s)
    backward = scan(k8s[::-1])
    assert forward[0] == 1
    assert forward[1] == backward[1]
