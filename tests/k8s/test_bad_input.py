"""Bad input through the CLI: exit 2 and exactly one line on stderr, `iamscope: error: ` then the file
(and the line and column for a syntax error, the object and field otherwise), never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from iamscope.aws.snapshot import RawFile, build_aws_inventory
from iamscope.errors import InputError
from tests.k8s.helpers import ACCOUNT, run_cli, stdin_bytes, write

POD_WITH_VOLUME = """\
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: prod
spec:
  serviceAccountName: api
  volumes:
  - name: s
    csi:
      driver: secrets-store.csi.k8s.io
      readOnly: true
      volumeAttributes:
        secretProviderClass: db
"""

SPC_BAD_OBJECTS = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: db
  namespace: prod
spec:
  provider: aws
  parameters:
    region: us-east-1
    objects: |
      - objectName: "prod/db
        objectType: secretsmanager
---
"""

ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _policy(effect: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": effect, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
        ],
    }


def _auth_details(document: Any) -> str:
    return json.dumps(
        {
            "UserDetailList": [],
            "GroupDetailList": [],
            "RoleDetailList": [
                {
                    "Path": "/",
                    "RoleName": "app",
                    "Arn": ROLE,
                    "AssumeRolePolicyDocument": TRUST,
                    "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": document}],
                    "AttachedManagedPolicies": [],
                    "InstanceProfileList": [],
                    "Tags": [],
                }
            ],
            "Policies": [],
        },
        indent=2,
    )


def _quoted(document: dict[str, Any]) -> str:
    return urllib.parse.quote(json.dumps(document), safe="")


# (files to write {relative path: text}, CLI arguments, stderr pattern after "iamscope: error: ").
# Where the pattern holds {d} the k8s/aws paths are given absolute and {d} stands for the temporary
# directory; otherwise they are given relative to it (the working directory).
CASES = [
    pytest.param(
        {
            "k8s/bad.yaml": "---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: [b}\nspec: {}\n"
        },
        ["--k8s", "k8s/bad.yaml"],
        r"k8s/bad\.yaml: line 7 column 20: invalid YAML: did not find expected ',' or '\]'",
        id="malformed-yaml-flow",
    ),
    pytest.param(
        {"k8s/indent.yml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n   bad: indent\n"},
        ["--k8s", "k8s"],
        r"{d}/k8s/indent\.yml: line 5 column 7: invalid YAML: mapping values are not allowed in this context",
        id="malformed-yaml-in-directory",
    ),
    pytest.param(
        {
            "k8s/pods.json": '{"apiVersion": "v1", "kind": "List",\n  "items": [\n    {"kind": "Pod",}\n  ]\n}\n'
        },
        ["--k8s", "k8s/pods.json"],
        r"k8s/pods\.json: line 3 column 20: invalid JSON: Expecting property name enclosed in double quotes",
        id="malformed-json",
    ),
    pytest.param(
        {
            "k8s/m.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Pod\nmetadata: hello\n"
        },
        ["--k8s", "k8s/m.yaml"],
        r"k8s/m\.yaml:5: Pod: metadata must be a mapping",
        id="metadata-not-a-mapping",
    ),
    pytest.param(
        {
            "k8s/m.json": json.dumps(
                {"apiVersion": "v1", "kind": "List", "items": [{"kind": "Pod", "metadata": ["x"]}]}
            )
        },
        ["--k8s", "k8s/m.json"],
        r"k8s/m\.json: Pod: metadata must be a mapping",
        id="metadata-not-a-mapping-json-list",
    ),
    pytest.param(
        {"k8s/tag.yaml": "apiVersion: v1\nkind: Pod\nmetadata: !!python/object/apply:os.getcwd []\n"},
        ["--k8s", "k8s/tag.yaml"],
        r"k8s/tag\.yaml: line 3 column 11: invalid YAML: could not determine a constructor for the tag .+",
        id="unsafe-yaml-tag",
    ),
    pytest.param(
        {"k8s/noname.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {namespace: prod}\n"},
        ["--k8s", "k8s/noname.yaml"],
        r"k8s/noname\.yaml:1: ServiceAccount: metadata\.name is missing",
        id="metadata-name-missing",
    ),
    pytest.param(
        {"k8s/v.yaml": "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  volumes: {a: 1}\n"},
        ["--k8s", "k8s/v.yaml"],
        r"k8s/v\.yaml:2: Pod/p spec\.volumes: must be a list",
        id="pod-volumes-not-a-list",
    ),
    pytest.param(
        {
            "k8s/d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: prod}\n"
            "spec:\n  template:\n    spec:\n      volumes: secrets\n"
        },
        ["--k8s", "k8s/d.yaml"],
        r"k8s/d\.yaml:1: Deployment/api spec\.template\.spec\.volumes: must be a list",
        id="deployment-volumes-not-a-list",
    ),
    pytest.param(
        {"aws/iam-authorization-details.json": _auth_details(_policy("Maybe"))},
        ["--aws", "aws"],
        r"aws/iam-authorization-details\.json: RoleDetailList\[0\] \(RoleName app\)\.RolePolicyList\[0\]: "
        + re.escape(ROLE)
        + r"#read: statement 0 \(Sid 'Read'\): Effect must be \"Allow\" or \"Deny\", got 'Maybe'",
        id="invalid-effect-in-inline-policy",
    ),
    pytest.param(
        {"aws/iam-authorization-details.json": _auth_details(_quoted(_policy("allow")))},
        ["--aws", "aws"],
        r"aws/iam-authorization-details\.json: RoleDetailList\[0\] \(RoleName app\)\.RolePolicyList\[0\]: .*Effect.*'allow'",
        id="invalid-effect-url-encoded",
    ),
    pytest.param(
        {"aws/iam-authorization-details.json": _auth_details(json.dumps(_policy("Permit")))},
        ["--aws", "aws"],
        r"aws/iam-authorization-details\.json: RoleDetailList\[0\] \(RoleName app\)\.RolePolicyList\[0\]: .*Effect.*'Permit'",
        id="invalid-effect-json-string",
    ),
    pytest.param(
        {"aws/iam-authorization-details.json": '{"RoleDetailList": [\n  {"RoleName": "app",\n}\n'},
        ["--aws", "aws"],
        r"{d}/aws/iam-authorization-details\.json: line 3 column 1: invalid JSON: .+",
        id="snapshot-json-syntax",
    ),
    pytest.param(
        {"aws/README.md": "snapshot goes here\n", "aws/secrets.json": "{}"},
        ["--aws", "aws"],
        r"aws: no AWS snapshot files found \(expected some of: .*iam-authorization-details\*\.json.*\)",
        id="snapshot-without-known-files",
    ),
    pytest.param(
        {
            "k8s/pod.yaml": POD_WITH_VOLUME,
            "cfg.yaml": "sync:\n  approved_namespaces: [payments]\n  approved_namespace: [oops]\n",
        },
        ["--k8s", "k8s", "--config", "cfg.yaml"],
        r"cfg\.yaml: sync: unknown key 'approved_namespace' \(known: approved_namespaces\)",
        id="config-unknown-key",
    ),
    pytest.param(
        {"k8s/pod.yaml": POD_WITH_VOLUME, "cfg.yaml": "cluster:\n  name: prod\nclusters:\n  name: x\n"},
        ["--k8s", "k8s", "--config", "cfg.yaml"],
        r"cfg\.yaml: unknown section 'clusters' \(known: aws, cluster, generate, platform, quotas, sync\)",
        id="config-unknown-section",
    ),
    pytest.param(
        {"k8s/pod.yaml": POD_WITH_VOLUME, ".iamscope.yaml": "aws:\n  regoin: us-east-1\n"},
        ["--k8s", "k8s"],
        r"\.iamscope\.yaml: aws: unknown key 'regoin' \(known: region\)",
        id="default-config-unknown-key",
    ),
]


@pytest.mark.parametrize(("files", "args", "pattern"), CASES)
def test_bad_input_exits_2_with_one_line(
    files: dict[str, str],
    args: list[str],
    pattern: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for rel, text in files.items():
        write(tmp_path, rel, text)
    monkeypatch.chdir(tmp_path)
    args = [str(tmp_path / a) if a.startswith(("k8s", "aws")) and "{d}" in pattern else a for a in args]
    code, out, err = run_cli(["scan", *args, "--format", "json"], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1, err
    assert err.endswith("\n"), err
    expected = "iamscope: error: " + pattern.replace("{d}", re.escape(str(tmp_path))) + "\n"
    assert re.fullmatch(expected, err), err


# --- what ASCP rejects in `objects` is a finding, not bad input ----------------------------------------
# ASCP fails only the mount whose `objects` it cannot read (provider/secret_descriptor.go
# NewSecretDescriptorList: "Failed to load SecretProviderClass", validateObjectName: "Invalid
# objectType"); the rest of the cluster is still worth a scan. So the scan goes on: one unresolved-object
# finding (medium) on the workload, exit by --fail-on, never exit 2.

OBJECTS_CASES = [
    pytest.param(
        {"k8s/spc.yaml": SPC_BAD_OBJECTS, "k8s/pod.yaml": POD_WITH_VOLUME},
        "parameters.objects is not YAML (k8s/spc.yaml:1 prod/SecretProviderClass/db parameters.objects: "
        "line 3 column 1: invalid YAML: found unexpected end of stream)",
        "prod/SecretProviderClass/db",
        id="spc-objects-not-yaml",
    ),
    pytest.param(
        {
            "k8s/pod.yaml": POD_WITH_VOLUME.replace(
                "secretProviderClass: db", "secretProviderClass: db\n        objects: '- {objectName: [x'"
            ),
            "k8s/spc.yaml": SPC_BAD_OBJECTS.replace('"prod/db\n', '"prod/db"\n'),
        },
        "parameters.objects is not YAML (k8s/pod.yaml:1 prod/Pod/api volume s parameters.objects: "
        "line 2 column 1: invalid YAML: did not find expected ',' or ']')",
        "prod/SecretProviderClass/db",
        id="inline-objects-not-yaml",
    ),
    pytest.param(
        {
            "k8s/spc.yaml": SPC_BAD_OBJECTS.replace('"prod/db\n', '"prod/db"\n').replace(
                "secretsmanager", "s3"
            ),
            "k8s/pod.yaml": POD_WITH_VOLUME,
        },
        "objects[0] 'prod/db': Invalid objectType 's3' (ASCP accepts secretsmanager or ssmparameter)",
        "prod/SecretProviderClass/db#0:prod/db",
        id="spc-objects-bad-type",
    ),
]


SERVICE_ACCOUNT = f"""\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: prod
  annotations: {{eks.amazonaws.com/role-arn: "{ROLE}"}}
"""


@pytest.mark.parametrize(("files", "message", "object_id"), OBJECTS_CASES)
def test_objects_ascp_rejects_are_findings_not_input_errors(
    files: dict[str, str],
    message: str,
    object_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for rel, text in files.items():
        write(tmp_path, rel, text)
    write(tmp_path, "k8s/sa.yaml", SERVICE_ACCOUNT)
    write(tmp_path, "aws/sts-get-caller-identity.json", json.dumps({"Account": ACCOUNT}))
    monkeypatch.chdir(tmp_path)
    args = ["scan", "--k8s", "k8s", "--aws", "aws", "--format", "json"]
    code, out, err = run_cli(args, capsys)
    document = json.loads(out)
    # medium is below the default --fail-on high; the snapshot lacks IAM data. A pod that sets objects
    # in its volumeAttributes is a high pod-inline-objects finding of its own (the driver copies them).
    sets_objects = "objects:" in files.get("k8s/pod.yaml", "")  # only the inline-objects case does
    inline = [f["severity"] for f in document["findings"] if f["rule"] == "pod-inline-objects"]
    assert inline == (["high"] if sets_objects else [])
    assert (code, err) == ((1 if sets_objects else 3), "")
    assert (document["complete"], document["incomplete"]) == (
        False,
        [
            "no eks-describe-cluster*.json: IRSA trust policies cannot be verified",
            "no iam-authorization-details.json: which roles exist and what they grant is unknown",
        ],
    )
    assert [
        (f["rule"], f["severity"], f["subject"], f["service_account"], f["message"], f["objects"])
        for f in document["findings"]
        if f["rule"] != "pod-inline-objects"
    ] == [
        ("unresolved-object", "medium", "prod/Pod/api", "prod/ServiceAccount/api", message, [object_id]),
    ]
    assert run_cli([*args, "--fail-on", "medium"], capsys)[0] == 1


def test_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9}\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["scan", "--k8s", "k8s"], capsys)
    assert (code, out, err) == (
        2,
        "",
        "iamscope: error: k8s/latin1.yaml: line 3 column 21: not UTF-8 text (byte 0xE9)\n",
    )


def test_malformed_json_on_stdin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    stdin_bytes(monkeypatch, b'{"kind": "PodList",\n "items": [}\n')
    code, out, err = run_cli(["scan", "--k8s", "-"], capsys)
    assert (code, out, err) == (
        2,
        "",
        "iamscope: error: -: line 2 column 12: invalid JSON: Expecting value\n",
    )


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    write(tmp_path, "k8s/v.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {volumes: 3}\n")
    run = subprocess.run(
        [sys.executable, "-m", "iamscope", "scan", "--k8s", "k8s/v.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert (run.returncode, run.stdout, run.stderr) == (
        2,
        "",
        "iamscope: error: k8s/v.yaml:1: Pod/p spec.volumes: must be a list\n",
    )


# --- policy documents in the snapshot: the three accepted forms ------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda d: d, id="dict"),
        pytest.param(json.dumps, id="json-string"),
        pytest.param(_quoted, id="url-encoded-json-string"),
    ],
)
def test_policy_document_forms_are_equivalent(form: Any) -> None:
    def role(document: Any) -> Any:
        raw = json.loads(_auth_details(document))
        raw["RoleDetailList"][0]["AssumeRolePolicyDocument"] = form(TRUST)
        (r,) = build_aws_inventory({"authorization": [RawFile("iam-authorization-details.json", raw)]}).roles
        return r

    reference = role(_policy("Allow"))
    got = role(form(_policy("Allow")))
    assert got == reference
    assert [(s.effect, s.actions) for s in got.inline[0].document.statements] == [
        (s.effect, s.actions) for s in reference.inline[0].document.statements
    ]


def test_policy_document_not_json_is_one_line() -> None:
    raw = json.loads(_auth_details("%7B%22Version%22"))
    with pytest.raises(InputError) as raised:
        build_aws_inventory({"authorization": [RawFile("iam-authorization-details.json", raw)]})
    assert str(raised.value).startswith(
        "iam-authorization-details.json: RoleDetailList[0] (RoleName app).RolePolicyList[0]: policy document is not JSON: "
    )
    assert "\n" not in str(raised.value)
