"""What ASCP rejects in a SecretProviderClass is a finding of the scan, not bad input: every problem of
the `objects` string, of one entry or of the mount's parameters is one `unresolved-object` finding
(medium) on the workload, the scan goes on, and it exits by --fail-on (never 2).

Each case: prod/Deployment/api (SA api, role api reading prod/db and prod/cache exactly, and the
eu-central-1 prod/cache when the SPC names it) mounts an SPC whose first object is a valid prod/db and
whose second is the case's. An entry that declares nothing
leaves the role's grant on prod/cache beyond the need (excess-grant).

References: ASCP provider/secret_descriptor.go (NewSecretDescriptorList, validateSecretDescriptor,
validateObjectName) and server/server.go (Mount, getAwsRegions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iamscope.cli import main
from tests.scan.builder import READ, REGION, State, allow, objects, run, secret_arn, triples

WORKLOAD = "prod/Deployment/api"
SPC = "prod/SecretProviderClass/api"
VALID = "- objectName: prod/db\n  objectType: secretsmanager\n"
CENTRAL = secret_arn("prod/cache", region="eu-central-1")
EXCESS = ("excess-grant", WORKLOAD, "medium")


def build(tmp_path: Path, objects_yaml: str, **parameters: str) -> State:
    state = State(tmp_path)
    db = state.secret("prod/db")
    cache = state.secret("prod/cache")
    central = state.secret("prod/cache", region="eu-central-1")
    readable = [db, cache, central] if central in objects_yaml else [db, cache]
    role = state.irsa_role("api", "prod", "api", [allow(READ, readable)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects_yaml, **parameters)
    state.workload("Deployment", "prod", "api", "api", "api")
    return state


def unresolved(result: Any) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((f.message, f.objects) for f in result.findings if f.rule == "unresolved-object")


# (second entry, its unresolved-object message and objects, the other findings)
ENTRY_CASES = [
    pytest.param(
        "- prod/cache\n",
        ("objects[1] '': objects[1] is not a mapping", (f"{SPC}#1:",)),
        {EXCESS},
        id="entry-not-a-mapping",
    ),
    # an entry without a name declares nothing: no ARN `…:secret:-??????` to grant or to miss
    pytest.param(
        "- objectType: secretsmanager\n  objectAlias: cache\n",
        ("objects[1] '': objectName is missing", (f"{SPC}#1:",)),
        {EXCESS},
        id="object-name-missing",
    ),
    pytest.param(
        "- objectName: prod/cache\n  objectType: SecretsManager\n",
        (
            "objects[1] 'prod/cache': Invalid objectType 'SecretsManager' (ASCP accepts secretsmanager or "
            "ssmparameter)",
            (f"{SPC}#1:prod/cache",),
        ),
        {EXCESS},
        id="object-type-case-sensitive",
    ),
    pytest.param(
        "- objectName: prod/cache\n  objectType: ssm\n",
        (
            "objects[1] 'prod/cache': Invalid objectType 'ssm' (ASCP accepts secretsmanager or ssmparameter)",
            (f"{SPC}#1:prod/cache",),
        ),
        {EXCESS},
        id="object-type-ssm",
    ),
    pytest.param(
        "- objectName: prod/cache\n  objectType: secretsmanager\n  jmesPath: [{path: user}]\n",
        (
            "objects[1] 'prod/cache': every jmesPath entry needs a path and an objectAlias",
            (f"{SPC}#1:prod/cache",),
        ),
        set(),
        id="jmespath-without-alias",
    ),
    pytest.param(
        "- objectName: prod/cache\n  objectType: secretsmanager\n  jmesPath: username\n",
        ("objects[1] 'prod/cache': jmesPath is not a list", (f"{SPC}#1:prod/cache",)),
        set(),
        id="jmespath-not-a-list",
    ),
    pytest.param(
        "- objectName: prod/cache\n  objectType: secretsmanager\n  failoverObject: prod/cache\n",
        ("objects[1] 'prod/cache': failoverObject is not a mapping", (f"{SPC}#1:prod/cache",)),
        set(),
        id="failover-object-not-a-mapping",
    ),
    pytest.param(
        "- objectName: prod/cache\n  objectType: secretsmanager\n  failoverObject: {objectName: prod/cache}\n",
        (
            "objects[1] 'prod/cache': an object with a failoverObject needs an objectAlias; "
            "a failoverObject needs the SPC's failoverRegion",
            (f"{SPC}#1:prod/cache",),
        ),
        set(),
        id="failover-object-without-alias-or-failover-region",
    ),
    pytest.param(
        "- objectName: prod/cache\n  objectType: ssmparameter\n  objectVersion: '3'\n  objectVersionLabel: L\n",
        (
            "objects[1] 'prod/cache': an SSM parameter cannot give both objectVersion and objectVersionLabel; "
            f"parameter 'prod/cache' is not in the snapshot for {REGION}",
            (f"{SPC}#1:prod/cache",),
        ),
        {EXCESS, ("missing-grant", WORKLOAD, "high")},
        id="ssm-version-and-label",
    ),
    pytest.param(
        VALID,
        (
            "objects[1] 'prod/db': objectName 'prod/db' is given twice with the same alias and version label",
            (f"{SPC}#1:prod/db",),
        ),
        {EXCESS},
        id="duplicate-object-name",
    ),
    pytest.param(
        "- objectName: prod/cache\n  objectType: secretsmanager\n  jmesPath: [{path: a, objectAlias: x}, {path: b, objectAlias: x}]\n",
        ("objects[1] 'prod/cache': objectAlias 'x' is used twice", (f"{SPC}#1:prod/cache",)),
        set(),
        id="jmespath-alias-twice",
    ),
    # validateObjectName: "ARN region must match region eu-west-1: arn:…:eu-central-1:…"
    pytest.param(
        f"- objectName: {CENTRAL}\n",
        (
            f"objects[1] '{CENTRAL}': ARN region must match the region {REGION}: {CENTRAL}",
            (f"{SPC}#1:{CENTRAL}",),
        ),
        {EXCESS},
        id="arn-in-another-region",
    ),
]


@pytest.mark.parametrize(("entry", "expected", "others"), ENTRY_CASES)
def test_entry_ascp_rejects_is_an_unresolved_object(
    tmp_path: Path, entry: str, expected: tuple[str, tuple[str, ...]], others: set[tuple[str, str, str]]
) -> None:
    result = run(build(tmp_path, VALID + entry))
    assert unresolved(result) == [expected]
    assert triples(result) == {("unresolved-object", WORKLOAD, "medium"), *others}
    assert result.complete is True


@pytest.mark.parametrize(
    ("objects_yaml", "message"),
    [
        pytest.param(
            VALID + "---\n" + VALID, "parameters.objects holds several YAML documents", id="two-documents"
        ),
        pytest.param(
            "objectName: prod/db\n", "parameters.objects is not a YAML list of objects", id="a-mapping"
        ),
        pytest.param(
            VALID + "- objectName: [x\n",
            "parameters.objects is not YAML ({location} prod/SecretProviderClass/api parameters.objects: "
            "line 4 column 1: invalid YAML: did not find expected ',' or ']')",
            id="not-yaml",
        ),
    ],
)
def test_objects_ascp_cannot_read_is_one_unresolved_object_on_the_mount(
    tmp_path: Path, objects_yaml: str, message: str
) -> None:
    # "Failed to load SecretProviderClass": ASCP mounts nothing, so nothing is declared and both grants
    # are beyond the need.
    result = run(build(tmp_path, objects_yaml))
    (spc,) = result.assessment.inventory.kube.spcs
    assert unresolved(result) == [(message.format(location=spc.location), (SPC,))]
    assert triples(result) == {("unresolved-object", WORKLOAD, "medium"), EXCESS}
    assert result.complete is True


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        # server.go Mount: strconv.ParseBool(usePodIdentity) fails: "failed to parse usePodIdentity value"
        pytest.param(
            {"usePodIdentity": "yes"},
            "usePodIdentity 'yes' is not a boolean ASCP reads",
            id="use-pod-identity-yes",
        ),
        # NewSecretDescriptorList: "pathTranslation must be either 'False' or a single character string"
        pytest.param(
            {"pathTranslation": "no"},
            "pathTranslation must be 'False' or a single character",
            id="path-translation",
        ),
        # getAwsRegions: "failover region cannot be the same as the primary region"
        pytest.param(
            {"failoverRegion": REGION},
            f"failoverRegion {REGION} is the region itself: ASCP rejects the mount",
            id="failover-region-is-the-region",
        ),
    ],
)
def test_mount_parameters_ascp_rejects_are_an_unresolved_object(
    tmp_path: Path, parameters: dict[str, str], message: str
) -> None:
    result = run(build(tmp_path, VALID, **parameters))
    assert unresolved(result) == [(message, (SPC,))]
    assert triples(result) == {("unresolved-object", WORKLOAD, "medium"), EXCESS}


def test_volume_without_a_secret_provider_class_is_an_unresolved_object(tmp_path: Path) -> None:
    # The driver needs volumeAttributes.secretProviderClass to find the SPC: the pod cannot start.
    state = State(tmp_path)
    role = state.irsa_role("api", "prod", "api", [])
    state.service_account("prod", "api", role)
    state.workload("Deployment", "prod", "api", "api", volume_attributes={"region": REGION})
    result = run(state)
    # the volume sets region inline, which the driver copies over the SPC: pod-inline-objects too
    assert triples(result) == {
        ("unresolved-object", WORKLOAD, "medium"),
        ("pod-inline-objects", WORKLOAD, "medium"),
    }
    (finding,) = [f for f in result.findings if f.rule == "unresolved-object"]
    assert (finding.message, finding.objects, [str(e) for e in finding.evidence]) == (
        "the volume names no secretProviderClass: the pod cannot start",
        (),
        [f"{WORKLOAD} -[mounts]-> {WORKLOAD}#secrets"],
    )


@pytest.mark.parametrize(("fail_on", "code"), [("high", 0), ("medium", 1), ("none", 0)])
def test_the_scan_exits_by_fail_on_never_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fail_on: str,
    code: int,
) -> None:
    root = build(tmp_path / "state", VALID + "- objectName: [x\n").write()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["scan", str(root), "--format", "json", "--fail-on", fail_on])
    out, err = capsys.readouterr()
    assert (done.value.code, err) == (code, "")
    assert {(f["rule"], f["severity"]) for f in json.loads(out)["findings"]} == {
        ("unresolved-object", "medium"),
        ("excess-grant", "medium"),
    }


# Secrets Manager names are [A-Za-z0-9/_+=.@-] and SSM parameter names [a-zA-Z0-9_.-/]: an objectName
# holding * or ? names nothing, GetSecretValue / GetParameters fail, and the mount with them.


@pytest.mark.parametrize(
    ("name", "type"),
    [("prod/*", "secretsmanager"), ("prod/d?", "secretsmanager"), ("/prod/*", "ssmparameter")],
    ids=["secret-star", "secret-question-mark", "parameter-star"],
)
def test_a_wildcard_object_name_is_unresolved(tmp_path: Path, name: str, type: str) -> None:
    state = State(tmp_path)
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects("prod/db") + objects(name, type=type))
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    finding = next(f for f in result.findings if f.rule == "unresolved-object")
    assert f"objectName {name!r} holds a wildcard: no secret or parameter has such a name" in finding.message
    assert result.assessment.service_accounts["prod/ServiceAccount/api"].need_arns == (db,)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "arn:aws:secretsmanager:eu-west-1:*:secret:prod/db",
            "objectName 'arn:aws:secretsmanager:eu-west-1:*:secret:prod/db' holds a wildcard",
        ),
        (
            "arn:aws:kms:eu-west-1:111122223333:key/abc",
            "objectName 'arn:aws:kms:eu-west-1:111122223333:key/abc' is not the ARN of a secret or an SSM parameter",
        ),
        (
            "arn:aws:secretsmanager:eu-west-1:111122223333:rotation:foo",
            "objectName 'arn:aws:secretsmanager:eu-west-1:111122223333:rotation:foo' is not the ARN of a secret",
        ),
    ],
    ids=["account-wildcard", "kms-key-arn", "not-a-secret-resource"],
)
def test_an_arn_that_names_no_secret_is_unresolved(tmp_path: Path, name: str, message: str) -> None:
    """GetSecretValue takes a secret's ARN or name: an ARN with a wildcard account, or of a KMS key,
    names no secret; a grant written from it would cover every account's secret or the wrong thing."""
    state = State(tmp_path)
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", "api", [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", [*objects("prod/db"), {"objectName": name, "objectType": "secretsmanager"}])
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    finding = next(f for f in result.findings if f.rule == "unresolved-object")
    assert message in finding.message
    assert result.assessment.service_accounts["prod/ServiceAccount/api"].need_arns == (db,)
