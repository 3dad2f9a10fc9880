"""Issue 7: random manifests and policies through the whole scan never crash it.

Hypothesis builds Kubernetes manifests (every kind the scan reads, plus junk kinds, `kind: List`,
values of the wrong type where strings, lists or mappings belong, SecretProviderClasses whose
`objects` string is anything from a valid ASCP list to random text, pods with random CSI volumes) and
IAM policy documents (random Effect, Action/NotAction, Resource/NotResource and Condition shapes and
types, wildcards, policy variables) carried by the roles of an AWS snapshot. Each example is written to
a fresh state directory and run through `iamscope scan STATE --format json` and `iamscope generate`
in-process, through the console script's entry point; the documents also go to
`iamscope.policy.evaluate` directly. Whatever the input:

- the exit code is one the contract names (never 70, the internal-error code, nor a traceback);
- exit 2 prints exactly one line, `iamscope: error: ...`, and nothing on stdout;
- otherwise the scan's stdout is its JSON (schema iamscope.scan/v1), every stderr line is a warning,
  and the JSON files `generate` writes parse;
- `evaluate` answers one of its three effects, or refuses the document with a one-line PolicyError.

Each example draws how much junk it holds (none, a little, a lot), so that some examples are entirely
well-formed and reach the analysis, and others probe the readers. Derandomized when the CI
environment variable is set, so CI runs the same examples every time; IAMSCOPE_FUZZ_SCALE=N runs N
times as many examples to hunt longer."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from iamscope.cli import main
from iamscope.errors import IamscopeError
from iamscope.policy import evaluate

ACCOUNT = "111122223333"
REGION = "eu-west-1"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
EFFECTS = {"Allow", "ExplicitDeny", "ImplicitDeny"}
DRIVER = "secrets-store.csi.k8s.io"
CLI_RECURSION_LIMIT = 1000  # Python's default, which the console script runs with


def fuzz(examples: int) -> settings:
    ci = bool(os.environ.get("CI"))
    return settings(
        max_examples=examples * int(os.environ.get("IAMSCOPE_FUZZ_SCALE", "1")),
        deadline=None,
        derandomize=ci,
        # in CI only the derandomized examples, not ones a local example database remembers
        **({"database": None} if ci else {}),
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# --- junk ---------------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
JUNK: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
# how much junk this example holds: 0 none (everything well-formed), 1 one value in 16, 2 one in 3
LEVEL = st.shared(st.sampled_from([0, 0, 1, 2]), key="junk-level")


def nested(depth: int, inner: Any = "x") -> Any:
    """`inner` inside `depth` lists: deeper than any real object, shallower than the parsers' limit
    (and than json.dumps's, from inside hypothesis's own stack)."""
    for _ in range(depth):
        inner = [inner]
    return inner


DEEP = st.integers(100, 600).map(nested)


def yaml_text(value: Any) -> str:
    try:
        return yaml.safe_dump(value, sort_keys=False)
    except RecursionError:  # PyYAML's emitter recurses; JSON is YAML too
        return json.dumps(value)


def maybe(valid: st.SearchStrategy[Any], *invalid: Any) -> st.SearchStrategy[Any]:
    """`valid`, or, as often as this example's junk level says, junk: any JSON-like value (the wrong
    type where a string belongs) or one of the `invalid` values of the right type."""
    bad = st.one_of(JUNK, DEEP, *([st.sampled_from(invalid)] if invalid else []))
    odds = {0: None, 1: 16, 2: 3}
    return LEVEL.flatmap(
        lambda level: (
            valid
            if odds[level] is None
            else st.integers(1, odds[level]).flatmap(lambda n: bad if n == 1 else valid)
        )
    )


def one_of_values(valid: Sequence[Any], *invalid: Any) -> st.SearchStrategy[Any]:
    return maybe(st.sampled_from(list(valid)), *invalid)


def fields(
    required: dict[str, Any], optional: dict[str, Any] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {k: maybe(v) for k, v in required.items()},
        optional={k: maybe(v) for k, v in (optional or {}).items()},
    )


# --- Kubernetes ---------------------------------------------------------------------------------------

NAMES = st.sampled_from(["api", "db", "worker", "default"])
NAMESPACES = st.sampled_from(["prod", "dev", "kube-system"])
ROLE_NAMES = ("prod-api", "prod-worker", "shared")
ROLE_ARNS = [f"arn:aws:iam::{ACCOUNT}:role/{name}" for name in ROLE_NAMES]
SECRETS = ["prod/db", "prod/api-key", "dev/db"]
SECRET_ARNS = [f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf" for name in SECRETS]
PARAMETERS = ["/prod/config", "/dev/config"]
PARAMETER_ARNS = [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}" for name in PARAMETERS]


def metadata(namespaced: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, Any] = {
        "labels": st.dictionaries(
            st.sampled_from(["app", "pod-template-hash", "team"]), maybe(NAMES), max_size=2
        ),
        "annotations": st.dictionaries(
            st.sampled_from(["eks.amazonaws.com/role-arn", "note"]),
            one_of_values(ROLE_ARNS, "not-an-arn", f"arn:aws:iam::{ACCOUNT}:role/missing"),
            max_size=2,
        ),
        "ownerReferences": st.lists(
            fields(
                {
                    "kind": st.sampled_from(["ReplicaSet", "Deployment", "Job", "CronJob", "Rollout"]),
                    "name": NAMES,
                },
                {"controller": st.booleans()},
            ),
            max_size=2,
        ),
    }
    if namespaced:
        optional["namespace"] = NAMESPACES
    return fields({"name": NAMES}, optional)


OBJECT_ENTRY = fields(
    {"objectName": one_of_values([*SECRETS, *PARAMETERS, SECRET_ARNS[0], PARAMETER_ARNS[0]], "${NAME}", "")},
    {
        "objectType": one_of_values(["secretsmanager", "ssmparameter"], "ssm", "s3"),
        "objectAlias": NAMES,
        "objectVersionLabel": st.sampled_from(["AWSCURRENT", "AWSPREVIOUS"]),
        "jmesPath": st.lists(
            fields({"path": st.sampled_from(["username", "password"]), "objectAlias": NAMES}), max_size=2
        ),
        "failoverObject": fields({"objectName": st.sampled_from(SECRETS)}),
    },
)
# an SPC's `objects`: a YAML list of entries as ASCP reads them, or YAML of anything, or any text
OBJECTS = maybe(
    st.lists(OBJECT_ENTRY, max_size=3).map(yaml_text),
    "- objectName: [unclosed",
    "objectName: prod/db",
    "",
)
DEEP_OBJECTS = st.integers(100, 990).map(lambda n: "- objectName: " + "[" * n + "]" * n + "\n")
OBJECTS = LEVEL.flatmap(
    lambda level: (
        OBJECTS if level == 0 else OBJECTS | JUNK.map(yaml.safe_dump) | st.text(max_size=40) | DEEP_OBJECTS
    )
)
CSI_VOLUME = fields(
    {
        "name": NAMES,
        "csi": fields(
            {"driver": one_of_values([DRIVER], "ebs.csi.aws.com")},
            {
                "readOnly": st.booleans(),
                "volumeAttributes": fields(
                    {"secretProviderClass": NAMES},
                    {"objects": OBJECTS, "usePodIdentity": one_of_values(["true", "false"], "maybe")},
                ),
            },
        ),
    }
)
AFFINITY = fields(
    {
        "nodeAffinity": fields(
            {
                "requiredDuringSchedulingIgnoredDuringExecution": fields(
                    {
                        "nodeSelectorTerms": st.lists(
                            fields(
                                {
                                    "matchExpressions": st.lists(
                                        fields(
                                            {
                                                "key": st.just("node-role.kubernetes.io/control-plane"),
                                                "operator": st.sampled_from(["DoesNotExist", "Exists", "In"]),
                                            },
                                            {"values": st.lists(NAMES, max_size=2)},
                                        ),
                                        max_size=2,
                                    )
                                }
                            ),
                            max_size=2,
                        )
                    }
                )
            }
        )
    }
)
POD_SPEC = fields(
    {
        "containers": st.lists(
            fields({"name": NAMES}, {"image": st.sampled_from(["app:1", "provider:2"])}), max_size=2
        )
    },
    {
        "serviceAccountName": NAMES,
        "volumes": st.lists(CSI_VOLUME, max_size=2),
        "nodeName": NAMES,
        "nodeSelector": st.dictionaries(
            st.sampled_from(["node-role.kubernetes.io/worker", "kubernetes.io/os"]), NAMES, max_size=1
        ),
        "tolerations": st.lists(
            fields({}, {"operator": st.sampled_from(["Exists", "Equal"]), "key": NAMES}), max_size=1
        ),
        "affinity": AFFINITY,
    },
)


def workload(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    template = fields({"spec": POD_SPEC}, {"metadata": st.just({"labels": {"app": "x"}})})
    if kind == "Pod":
        spec: st.SearchStrategy[Any] = POD_SPEC
    elif kind == "CronJob":
        spec = fields({"jobTemplate": fields({"spec": fields({"template": template})})})
    else:
        spec = fields({"template": template}, {"replicas": st.integers(0, 3)})
    return fields(
        {"apiVersion": st.just("v1"), "kind": st.just(kind), "metadata": metadata()}, {"spec": spec}
    )


SPC = fields(
    {
        "apiVersion": one_of_values(["secrets-store.csi.x-k8s.io/v1"], "example.com/v1"),
        "kind": st.just("SecretProviderClass"),
        "metadata": metadata(),
    },
    {
        "spec": fields(
            {"provider": one_of_values(["aws"], "vault")},
            {
                "parameters": fields(
                    {},
                    {
                        "objects": OBJECTS,
                        "region": one_of_values([REGION], "us-east-1", "${REGION}"),
                        "failoverRegion": st.just("us-west-2"),
                        "usePodIdentity": one_of_values(["true", "false"], "maybe"),
                    },
                ),
                "secretObjects": st.lists(
                    fields(
                        {"secretName": NAMES},
                        {"data": st.lists(fields({"objectName": NAMES, "key": NAMES}), max_size=1)},
                    ),
                    max_size=1,
                ),
            },
        )
    },
)
RBAC_RULE = fields(
    {"verbs": st.lists(st.sampled_from(["get", "create", "update", "*"]), max_size=2)},
    {
        "apiGroups": st.lists(st.sampled_from(["", "secrets-store.csi.x-k8s.io", "*"]), max_size=2),
        "resources": st.lists(
            st.sampled_from(["secrets", "secretproviderclasses", "serviceaccounts/token", "*"]), max_size=2
        ),
    },
)
KNOWN = st.one_of(
    *(
        workload(k)
        for k in ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Rollout")
    ),
    fields({"apiVersion": st.just("v1"), "kind": st.just("ServiceAccount"), "metadata": metadata()}),
    SPC,
    fields(
        {"kind": st.sampled_from(["Namespace", "Node"]), "metadata": metadata(namespaced=False)},
        {
            "spec": fields(
                {}, {"taints": st.lists(fields({"key": NAMES, "effect": st.just("NoSchedule")}), max_size=1)}
            )
        },
    ),
    fields(
        {"kind": st.sampled_from(["Role", "ClusterRole"]), "metadata": metadata()},
        {"rules": st.lists(RBAC_RULE, max_size=2)},
    ),
    fields(
        {"kind": st.sampled_from(["RoleBinding", "ClusterRoleBinding"]), "metadata": metadata()},
        {
            "roleRef": fields({"kind": st.sampled_from(["Role", "ClusterRole"]), "name": NAMES}),
            "subjects": st.lists(
                fields(
                    {"kind": st.sampled_from(["ServiceAccount", "User", "Group"]), "name": NAMES},
                    {"namespace": NAMESPACES},
                ),
                max_size=2,
            ),
        },
    ),
    fields(
        {"apiVersion": st.just("v1"), "kind": st.just("Secret"), "metadata": metadata()},
        {"data": st.just({"password": "aHVudGVyMg=="})},
    ),
    fields({"kind": st.sampled_from(["Gizmo", "ConfigMap"]), "metadata": metadata()}, {"spec": JUNK}),
)
MANIFEST = LEVEL.flatmap(lambda level: KNOWN if level == 0 else KNOWN | JUNK)
# files of manifests: multi-document YAML, one JSON object, or a JSON `kind: List`
MANIFEST_FILES = st.lists(
    st.tuples(st.sampled_from(["yaml", "json", "list"]), st.lists(MANIFEST, min_size=1, max_size=4)),
    min_size=1,
    max_size=3,
)

# --- IAM policy documents -----------------------------------------------------------------------------

ACTIONS = st.sampled_from(
    [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:*",
        "*",
        "ssm:GetParameter?",
        "ssm:GetParameters",
        "kms:Decrypt",
        "SecretsManager:get*",
        "s3:GetObject",
    ]
)
RESOURCES = st.sampled_from(
    [
        "*",
        *SECRET_ARNS,
        *PARAMETER_ARNS,
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*",
        "arn:aws:secretsmanager:*:*:secret:prod/db-??????",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:${{aws:PrincipalTag/team}}/*",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/*",
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*",
        "not-an-arn",
    ]
)
# (operator, key, value) that parse: every operator family, IfExists, set qualifiers
GOOD_CONDITIONS = [
    ("StringEquals", "aws:ResourceTag/team", "payments"),
    ("StringLike", f"{ISSUER}:sub", "system:serviceaccount:prod:*"),
    ("StringEquals", f"{ISSUER}:aud", "sts.amazonaws.com"),
    ("StringNotEquals", "aws:PrincipalTag/team", ["ops", "dev"]),
    ("StringEqualsIfExists", "secretsmanager:ResourceTag/env", "prod"),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["team"]),
    ("ForAllValues:StringLike", "aws:TagKeys", "t*"),
    ("ArnLike", "aws:SourceArn", f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/*"),
    ("Null", "aws:PrincipalTag/team", "false"),
    ("Bool", "aws:SecureTransport", True),
    ("NumericLessThan", "aws:MultiFactorAuthAge", 3600),
    ("DateGreaterThan", "aws:CurrentTime", "2024-01-01T00:00:00Z"),
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
    ("StringEquals", "kms:ViaService", f"secretsmanager.{REGION}.amazonaws.com"),
]
BAD_CONDITIONS = [
    ("Bogus", "aws:SourceIp", "x"),
    ("Maybe:StringEquals", "aws:SourceIp", "x"),
    ("Bool", "aws:SecureTransport", "5"),
    ("IpAddress", "aws:SourceIp", "true"),
    ("NullIfExists", "aws:SourceIp", "true"),
    ("StringEquals", "aws:SourceIp", {"nested": 1}),
]


def _condition(entries: list[tuple[str, str, Any]]) -> dict[str, dict[str, Any]]:
    block: dict[str, dict[str, Any]] = {}
    for operator, key, value in entries:
        block.setdefault(operator, {})[key] = value
    return block


CONDITION = maybe(
    st.lists(st.sampled_from(GOOD_CONDITIONS), max_size=3).map(_condition),
    *[_condition([c]) for c in BAD_CONDITIONS],
    [_condition([GOOD_CONDITIONS[0]])],  # a list where an object belongs
)
STATEMENT = maybe(
    st.one_of(
        fields(
            {
                "Effect": one_of_values(["Allow", "Deny"], "Maybe", "allow"),
                "Action": ACTIONS | st.lists(ACTIONS, max_size=3),
                "Resource": RESOURCES | st.lists(RESOURCES, max_size=3),
            },
            {"Sid": st.sampled_from(["Read", "s1"]), "Condition": CONDITION},
        ),
        fields(
            {
                "Effect": one_of_values(["Allow", "Deny"], "Maybe"),
                "NotAction": ACTIONS | st.lists(ACTIONS, max_size=2),
                "NotResource": RESOURCES,
            },
            {"Condition": CONDITION},
        ),
    ),
    {"Effect": "Allow", "Action": "*"},  # no Resource
    {"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"},
    {"Effect": "Allow", "Action": "GetSecretValue", "Resource": "*"},  # no service prefix
    {
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
        "Principal": "*",
    },  # a principal in an identity policy
    {"Effect": "Allow", "Action": "*", "Resource": "*", "Bogus": 1},
)
TRUST_STATEMENT = fields(
    {
        "Effect": one_of_values(["Allow", "Deny"]),
        "Principal": one_of_values(
            [{"Federated": OIDC_ARN}, {"Service": "pods.eks.amazonaws.com"}, "*", {"AWS": ROLE_ARNS[0]}],
            {"Robot": "x"},
        ),
        "Action": one_of_values(
            ["sts:AssumeRoleWithWebIdentity", ["sts:AssumeRole", "sts:TagSession"], "sts:*"]
        ),
    },
    {"Condition": CONDITION},
)


def document(statement: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return maybe(
        st.fixed_dictionaries(
            {"Statement": maybe(statement | st.lists(statement, max_size=3), 42)},
            optional={"Version": one_of_values(["2012-10-17", "2008-10-17"], "2012")},
        )
    )


POLICY = document(STATEMENT)
TRUST = document(TRUST_STATEMENT)
# the three ways a snapshot carries a policy: an object, a JSON string, a URL-encoded JSON string
ENCODED = st.tuples(st.sampled_from(["object", "json", "url"]), POLICY)
ROLE = st.tuples(
    st.sampled_from(ROLE_NAMES),
    st.one_of(st.none(), TRUST),
    st.lists(st.tuples(one_of_values(["read", "all"]), ENCODED), max_size=2),
)


def encode(form: str, doc: Any) -> Any:
    if form == "object":
        return doc
    text = json.dumps(doc)
    return text if form == "json" else urllib.parse.quote(text, safe="")


# --- running ------------------------------------------------------------------------------------------


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def cli_stack() -> Iterator[None]:
    """The room on the stack the command has when run by itself: hypothesis raises the recursion
    limit for its own needs, which would hide an input nested deep enough to overflow the CLI's."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + CLI_RECURSION_LIMIT)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def iamscope(*args: str) -> tuple[int, str, str]:
    """`iamscope ARGS` through the console script's entry point, in this process."""
    with cli_stack(), CliRunner().isolation() as (out, err, _):
        try:
            main(list(args))
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 0
        else:  # pragma: no cover - main always exits
            code = 0
    return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def assert_answered(code: int, out: str, err: str, codes: set[int]) -> None:
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert code in codes, (code, err)
    if code == 2:
        assert out == ""
        assert err.count("\n") == 1, err
        assert err.startswith("iamscope: error: "), err
    else:
        assert all(line.startswith("iamscope: warning: ") for line in err.splitlines()), err


def write_state(root: Path, files: list[tuple[str, list[Any]]], roles: list[Any]) -> Path:
    state = root / "state"
    (state / "k8s").mkdir(parents=True)
    (state / "aws").mkdir()
    for i, (form, objects) in enumerate(files):
        if form == "yaml":
            try:
                text = yaml.safe_dump_all(objects, sort_keys=False)
            except RecursionError:  # PyYAML's emitter recurses; deep values go as JSON instead
                form = "list"
            else:
                (state / "k8s" / f"m{i}.yaml").write_text(text, encoding="utf-8")
        if form != "yaml":
            data = {"apiVersion": "v1", "kind": "List", "items": objects} if form == "list" else objects[0]
            (state / "k8s" / f"m{i}.json").write_text(json.dumps(data), encoding="utf-8")
    details = []
    for name, trust, inline in roles:
        entry: dict[str, Any] = {"RoleName": name, "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "Path": "/"}
        if trust is not None:
            entry["AssumeRolePolicyDocument"] = trust
        entry["RolePolicyList"] = [{"PolicyName": p, "PolicyDocument": encode(*d)} for p, d in inline]
        details.append(entry)
    cluster = {
        "name": "prod",
        "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/prod",
        "identity": {"oidc": {"issuer": f"https://{ISSUER}"}},
    }
    aws = {
        "iam-authorization-details.json": {
            "RoleDetailList": details,
            "Policies": [],
            "UserDetailList": [],
            "GroupDetailList": [],
        },
        "sts-get-caller-identity.json": {"Account": ACCOUNT},
        "eks-describe-cluster.json": {"cluster": cluster},
        f"secretsmanager-list-secrets-{REGION}.json": {
            "SecretList": [{"ARN": a, "Name": n} for a, n in zip(SECRET_ARNS, SECRETS, strict=True)]
        },
        f"ssm-describe-parameters-{REGION}.json": {
            "Parameters": [
                {"Name": n, "ARN": a, "Type": "SecureString"}
                for a, n in zip(PARAMETER_ARNS, PARAMETERS, strict=True)
            ]
        },
    }
    for name, data in aws.items():
        (state / "aws" / name).write_text(json.dumps(data), encoding="utf-8")
    return state


# --- the properties -----------------------------------------------------------------------------------


# found by hand, kept as examples: objects whose objectName is a list nested 990 deep (str() of it
# overflowed Python's stack in iamscope.ascp)
SPC_DEEP_OBJECTS = {
    "apiVersion": "secrets-store.csi.x-k8s.io/v1",
    "kind": "SecretProviderClass",
    "metadata": {"name": "db", "namespace": "prod"},
    "spec": {"provider": "aws", "parameters": {"objects": "- objectName: " + "[" * 990 + "]" * 990}},
}
POD_MOUNTING_DB = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "api", "namespace": "prod"},
    "spec": {
        "containers": [{"name": "app"}],
        "volumes": [
            {"name": "s", "csi": {"driver": DRIVER, "volumeAttributes": {"secretProviderClass": "db"}}}
        ],
    },
}


@fuzz(150)
@given(files=MANIFEST_FILES, roles=st.lists(ROLE, max_size=3))
@example(files=[("yaml", [SPC_DEEP_OBJECTS, POD_MOUNTING_DB])], roles=[])
def test_scan_and_generate_answer_every_input(files: list[tuple[str, list[Any]]], roles: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp, working_directory(Path(tmp)):
        state = write_state(Path(tmp), files, roles)
        code, out, err = iamscope("scan", str(state), "--format", "json")
        event(f"scan exit {code}")
        assert_answered(code, out, err, {0, 1, 2, 3})
        if code != 2:
            report = json.loads(out)
            assert report["schema"] == "iamscope.scan/v1"
            event(f"scan found {min(len(report['findings']), 3)}+ findings")
        code, out, err = iamscope("generate", str(state), "--out", str(Path(tmp) / "out"), "--quiet")
        event(f"generate exit {code}")
        assert_answered(code, out, err, {0, 2})
        if code == 0:
            for path in (Path(tmp) / "out").rglob("*.json"):
                json.loads(path.read_text(encoding="utf-8"))


@fuzz(600)
@given(
    documents=st.lists(POLICY, min_size=1, max_size=3),
    action=st.sampled_from(
        ["secretsmanager:GetSecretValue", "ssm:GetParameters", "kms:Decrypt", "s3:GetObject"]
    ),
    resource=st.sampled_from([*SECRET_ARNS, *PARAMETER_ARNS, "*"]),
    context=st.dictionaries(
        st.sampled_from([key for _, key, _ in GOOD_CONDITIONS]),
        st.sampled_from(["payments", ["payments", "ops"], "true", "10.1.2.3", "2025-06-01T00:00:00Z", "12"]),
        max_size=3,
    ),
)
def test_evaluate_answers_or_refuses_every_document(
    documents: list[Any], action: str, resource: str, context: dict[str, Any]
) -> None:
    refusal: IamscopeError | None = None
    try:
        with cli_stack():
            decision = evaluate(documents, action, resource, context)
    except IamscopeError as error:
        refusal = error
    if refusal is not None:
        event("refused")
        assert refusal.exit_code == 2
        assert "\n" not in str(refusal)
    else:
        event(decision.effect)
        assert decision.effect in EFFECTS


@fuzz(60)
@given(document=POLICY)
def test_policy_evaluate_command_answers_every_document(document: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp, working_directory(Path(tmp)):
        Path("policy.json").write_text(json.dumps(document), encoding="utf-8")
        args = ["--action", "secretsmanager:GetSecretValue", "--resource", SECRET_ARNS[0], "--format", "json"]
        code, out, err = iamscope("policy", "evaluate", "--policy", "policy.json", *args)
        assert_answered(code, out, err, {0, 2})
        if code == 0:
            assert {r["decision"] for r in json.loads(out)["results"]} <= EFFECTS
