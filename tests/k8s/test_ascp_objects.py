"""ASCP's `objects` parameter as ASCP parses it (keys case-insensitive, unknown keys ignored), what ASCP
would reject (problems of the whole string or of one entry, never exceptions), the driver's
volumeAttributes overlay, placeholders and Go's strconv.ParseBool."""

from __future__ import annotations

from typing import Any

import pytest

from iamscope.ascp import (
    AscpObject,
    ParsedObjects,
    effective_parameters,
    is_true,
    parse_bool,
    parse_objects,
    placeholders,
)

SOURCE = "spc.yaml:3"
WHERE = "prod/SecretProviderClass/db"


def parse(text: str) -> ParsedObjects:
    return parse_objects(text, source=SOURCE, where=WHERE)


EVERY_FIELD = """
- objectName: "prod/db"
  objectType: "secretsmanager"
  objectAlias: "db.json"
  objectVersion: "v-1234"
  objectVersionLabel: "AWSCURRENT"
  filePermission: "0440"
  jmesPath:
    - path: username
      objectAlias: db-user
    - path: "credentials.password"
      objectAlias: db-pass
  failoverObject:
    objectName: "prod/db-replica"
    objectVersion: "v-1234"
    objectVersionLabel: "AWSPREVIOUS"
"""

UPPER_KEYS = """
- OBJECTNAME: "prod/db"
  ObjectType: "secretsmanager"
  OBJECTALIAS: "db.json"
  ObjectVersion: "v-1234"
  objectversionlabel: "AWSCURRENT"
  FilePermission: "0440"
  JmesPath:
    - Path: username
      ObjectAlias: db-user
    - PATH: "credentials.password"
      objectalias: db-pass
  FailoverObject:
    ObjectName: "prod/db-replica"
    OBJECTVERSION: "v-1234"
    ObjectVersionLabel: "AWSPREVIOUS"
"""

FULL = AscpObject(
    index=0,
    name="prod/db",
    type="secretsmanager",
    alias="db.json",
    version="v-1234",
    version_label="AWSCURRENT",
    file_permission="0440",
    jmes_paths=(("username", "db-user"), ("credentials.password", "db-pass")),
    failover_name="prod/db-replica",
    failover_version="v-1234",
    failover_version_label="AWSPREVIOUS",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(EVERY_FIELD, (FULL,), id="every-field"),
        pytest.param(UPPER_KEYS, (FULL,), id="keys-any-case"),
        pytest.param(
            EVERY_FIELD.replace(
                "  filePermission", "  objectTemplate: '{{ .x }}'\n  somethingNew: 1\n  filePermission"
            ),
            (FULL,),
            id="unknown-keys-ignored",
        ),
        pytest.param(
            "- objectName: MySecret\n  objectType: secretsmanager\n",
            (AscpObject(index=0, name="MySecret", type="secretsmanager"),),
            id="minimal-secret",
        ),
        pytest.param(
            "- objectName: /app/db/password\n  objectType: ssmparameter\n  objectVersion: 3\n",
            (AscpObject(index=0, name="/app/db/password", type="ssmparameter", version="3"),),
            id="ssm-parameter-numeric-version",
        ),
        pytest.param(
            "- objectName: arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf\n",
            (
                AscpObject(
                    index=0,
                    name="arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf",
                    type=None,
                ),
            ),
            id="arn-without-object-type",
        ),
        pytest.param(
            "- objectName: arn:aws:ssm:us-east-1:111122223333:parameter/app/key\n  objectType: null\n",
            (AscpObject(index=0, name="arn:aws:ssm:us-east-1:111122223333:parameter/app/key", type=None),),
            id="ssm-arn-null-object-type",
        ),
        pytest.param(
            "- {objectName: a, objectType: secretsmanager}\n- {objectName: b, objectType: ssmparameter, objectAlias: B}\n",
            (
                AscpObject(index=0, name="a", type="secretsmanager"),
                AscpObject(index=1, name="b", type="ssmparameter", alias="B"),
            ),
            id="flow-style-two-entries",
        ),
        pytest.param(
            '[{"objectName": "a", "objectType": "secretsmanager"}]',
            (AscpObject(index=0, name="a", type="secretsmanager"),),
            id="json-string",
        ),
        pytest.param(
            "- objectName: a\n  objectType: ssmparameter\n  jmesPath: []\n  failoverObject: {}\n",
            (AscpObject(index=0, name="a", type="ssmparameter"),),
            id="empty-jmespath-and-failover",
        ),
        pytest.param(
            "- objectName: '  padded  '\n  objectType: secretsmanager\n",
            (AscpObject(index=0, name="padded", type="secretsmanager"),),
            id="name-trimmed",
        ),
        pytest.param("", (), id="empty-string"),
        pytest.param("# nothing yet\n", (), id="comment-only"),
        pytest.param("[]", (), id="empty-list"),
    ],
)
def test_parse_objects(text: str, expected: tuple[AscpObject, ...]) -> None:
    assert parse(text) == ParsedObjects(objects=expected, problems=())


def test_label_names_index_and_name() -> None:
    (_, second) = parse(
        "- {objectName: a, objectType: secretsmanager}\n- {objectName: b, objectType: ssmparameter}\n"
    ).objects
    assert second.label == "objects[1] 'b'"


# --- what ASCP rejects: problems, never exceptions -------------------------------------------------------
# ASCP (provider/secret_descriptor.go NewSecretDescriptorList) fails the whole mount when the string
# cannot be unmarshalled into a list of descriptors; iamscope reports that as a problem of the string
# (ParsedObjects.problems) and goes on with the rest of the cluster.

NOT_YAML = f"parameters.objects is not YAML ({SOURCE} {WHERE} parameters.objects: "


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            '- objectName: "db\n  objectType: secretsmanager\n',
            NOT_YAML + "line 3 column 1: invalid YAML: found unexpected end of stream)",
            id="not-yaml-unterminated-quote",
        ),
        pytest.param(
            "- objectName: [a\n",
            NOT_YAML + "line 2 column 1: invalid YAML: did not find expected ',' or ']')",
            id="not-yaml-unclosed-flow",
        ),
        pytest.param(
            "\t- objectName: a\n",
            NOT_YAML + "line 1 column 1: invalid YAML: found character that cannot start any token)",
            id="not-yaml-tab",
        ),
        pytest.param(
            "objectName: a\nobjectType: secretsmanager\n",
            "parameters.objects is not a YAML list of objects",
            id="a-mapping-not-a-list",
        ),
        pytest.param(
            "just some text", "parameters.objects is not a YAML list of objects", id="a-scalar-not-a-list"
        ),
        pytest.param(
            "- objectName: a\n  objectType: ssmparameter\n---\n- objectName: b\n  objectType: ssmparameter\n",
            "parameters.objects holds several YAML documents",
            id="two-documents",
        ),
    ],
)
def test_a_string_ascp_cannot_read_is_a_problem_of_the_whole_string(text: str, problem: str) -> None:
    assert parse(text) == ParsedObjects(objects=(), problems=(problem,))


def entry(index: int, name: str, type: str | None, *problems: str, **fields: Any) -> AscpObject:
    return AscpObject(index=index, name=name, type=type, problems=problems, **fields)


INVALID_TYPE = "Invalid objectType {!r} (ASCP accepts secretsmanager or ssmparameter)"
JMES = "every jmesPath entry needs a path and an objectAlias"
SSM_ARN = "arn:aws:ssm:us-east-1:111122223333:parameter/app/key"


# One entry's problems (provider/secret_descriptor.go validateSecretDescriptor and validateObjectName),
# and the duplicate checks of NewSecretDescriptorList. The entry stays in the result with its problems.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "- a\n",
            (entry(0, "", None, "objects[0] is not a mapping"),),
            id="entry-not-a-mapping",
        ),
        pytest.param(
            "- objectName: a\n  objectType: ssmparameter\n- [x]\n- null\n",
            (
                entry(0, "a", "ssmparameter"),
                entry(1, "", None, "objects[1] is not a mapping"),
                entry(2, "", None, "objects[2] is not a mapping"),
            ),
            id="entries-not-mappings-keep-their-index",
        ),
        # validateSecretDescriptor: "Object name must be specified"
        pytest.param(
            "- objectName: a\n  objectType: ssmparameter\n- objectType: secretsmanager\n  objectAlias: x\n",
            (
                entry(0, "a", "ssmparameter"),
                entry(1, "", "secretsmanager", "objectName is missing", alias="x"),
            ),
            id="entry-without-object-name",
        ),
        pytest.param(
            "- objectName: ''\n  objectType: secretsmanager\n",
            (entry(0, "", "secretsmanager", "objectName is missing"),),
            id="empty-object-name",
        ),
        pytest.param(
            "- objectName: '   '\n  objectType: secretsmanager\n",
            (entry(0, "", "secretsmanager", "objectName is missing"),),
            id="blank-object-name",
        ),
        # validateObjectName: "Invalid objectType" — typeMap is looked up case-sensitively, and "ssm"
        # is accepted only as an ARN's service, never as an objectType
        pytest.param(
            "- objectName: a\n  objectType: s3\n",
            (entry(0, "a", None, INVALID_TYPE.format("s3")),),
            id="bad-object-type",
        ),
        pytest.param(
            "- objectName: a\n  objectType: ssm\n",
            (entry(0, "a", None, INVALID_TYPE.format("ssm")),),
            id="object-type-ssm-is-only-an-arn-service",
        ),
        pytest.param(
            "- objectName: a\n  objectType: SecretsManager\n",
            (entry(0, "a", None, INVALID_TYPE.format("SecretsManager")),),
            id="object-type-value-is-case-sensitive",
        ),
        pytest.param(
            "- objectName: ''\n  objectType: SSMParameter\n",
            (entry(0, "", None, "objectName is missing", INVALID_TYPE.format("SSMParameter")),),
            id="every-problem-of-one-entry",
        ),
        # the JMESPathEntry list: each entry needs a path and an objectAlias
        pytest.param(
            "- objectName: a\n  objectType: ssmparameter\n  jmesPath: {path: x, objectAlias: y}\n",
            (entry(0, "a", "ssmparameter", "jmesPath is not a list"),),
            id="jmespath-not-a-list",
        ),
        pytest.param(
            "- objectName: a\n  objectType: ssmparameter\n  JMESPATH: username\n",
            (entry(0, "a", "ssmparameter", "jmesPath is not a list"),),
            id="jmespath-any-case-not-a-list",
        ),
        pytest.param(
            "- objectName: a\n  objectType: ssmparameter\n  jmesPath: [username]\n",
            (entry(0, "a", "ssmparameter", JMES, jmes_paths=(("", ""),)),),
            id="jmespath-entry-not-a-mapping",
        ),
        pytest.param(
            "- objectName: a\n  objectType: secretsmanager\n  jmesPath: [{path: user}, {objectAlias: pass}]\n",
            (entry(0, "a", "secretsmanager", JMES, JMES, jmes_paths=(("user", ""), ("", "pass"))),),
            id="jmespath-entries-without-path-or-alias",
        ),
        # failoverObject: a mapping; "object alias must be specified for objects with failover entries";
        # "object versions must match between primary and failover regions"
        pytest.param(
            "- objectName: a\n  objectType: secretsmanager\n  failoverObject: b\n",
            (entry(0, "a", "secretsmanager", "failoverObject is not a mapping"),),
            id="failover-object-not-a-mapping",
        ),
        pytest.param(
            "- objectName: a\n  objectType: secretsmanager\n  failoverObject: {objectName: b}\n",
            (
                entry(
                    0,
                    "a",
                    "secretsmanager",
                    "an object with a failoverObject needs an objectAlias",
                    failover_name="b",
                ),
            ),
            id="failover-object-without-alias",
        ),
        pytest.param(
            "- objectName: a\n  objectType: secretsmanager\n  objectAlias: A\n  objectVersion: v1\n"
            "  failoverObject: {objectName: b, objectVersion: v2}\n",
            (
                entry(
                    0,
                    "a",
                    "secretsmanager",
                    "objectVersion must match between the object and its failoverObject",
                    alias="A",
                    version="v1",
                    failover_name="b",
                    failover_version="v2",
                ),
            ),
            id="failover-object-version-differs",
        ),
        pytest.param(
            "- objectName: a\n  objectType: secretsmanager\n  objectAlias: A\n  objectVersion: v1\n"
            "  failoverObject: {objectName: b}\n",
            (
                entry(
                    0,
                    "a",
                    "secretsmanager",
                    "objectVersion must match between the object and its failoverObject",
                    alias="A",
                    version="v1",
                    failover_name="b",
                ),
            ),
            id="failover-object-without-the-objects-version",
        ),
        # "ssm parameters can not specify both objectVersion and objectVersionLabel" (by objectType or by
        # the ARN's service); Secrets Manager objects may give both
        pytest.param(
            "- objectName: a\n  objectType: ssmparameter\n  objectVersion: 3\n  objectVersionLabel: L\n",
            (
                entry(
                    0,
                    "a",
                    "ssmparameter",
                    "an SSM parameter cannot give both objectVersion and objectVersionLabel",
                    version="3",
                    version_label="L",
                ),
            ),
            id="ssm-version-and-label",
        ),
        pytest.param(
            f"- objectName: {SSM_ARN}\n  objectVersion: 3\n  objectVersionLabel: L\n",
            (
                entry(
                    0,
                    SSM_ARN,
                    None,
                    "an SSM parameter cannot give both objectVersion and objectVersionLabel",
                    version="3",
                    version_label="L",
                ),
            ),
            id="ssm-arn-version-and-label",
        ),
        pytest.param(
            "- objectName: a\n  objectType: secretsmanager\n  objectVersion: v1\n  objectVersionLabel: AWSCURRENT\n",
            (entry(0, "a", "secretsmanager", version="v1", version_label="AWSCURRENT"),),
            id="secret-version-and-label-allowed",
        ),
    ],
)
def test_entry_problems(text: str, expected: tuple[AscpObject, ...]) -> None:
    assert parse(text) == ParsedObjects(objects=expected, problems=())


TWICE = "objectName 'a' is given twice with the same alias and version label"


# NewSecretDescriptorList: an objectName given again with the same objectAlias and objectVersionLabel
# (both empty, or both equal) is "found descriptor with duplicate object name"; an objectAlias (or a
# jmesPath objectAlias) used twice is "found duplicate object alias".
@pytest.mark.parametrize(
    ("text", "problems"),
    [
        pytest.param("- {objectName: a}\n- {objectName: a}\n", [(), (TWICE,)], id="same-name-twice"),
        pytest.param(
            "- {objectName: a, objectAlias: x}\n- {objectName: a, objectAlias: x}\n",
            [(), (TWICE, "objectAlias 'x' is used twice")],
            id="same-name-same-alias",
        ),
        pytest.param(
            "- {objectName: a, objectVersionLabel: L}\n- {objectName: a, objectVersionLabel: L}\n",
            [(), (TWICE,)],
            id="same-name-same-label",
        ),
        pytest.param(
            "- {objectName: a, objectAlias: x}\n- {objectName: a, objectAlias: y}\n",
            [(), ()],
            id="same-name-other-alias",
        ),
        pytest.param(
            "- {objectName: a, objectVersionLabel: AWSCURRENT}\n- {objectName: a, objectVersionLabel: AWSPREVIOUS}\n",
            [(), ()],
            id="same-name-other-label",
        ),
        pytest.param(
            "- {objectName: a, objectAlias: x}\n- {objectName: a}\n", [(), ()], id="same-name-one-alias"
        ),
        # ASCP compares each descriptor with the last one of that name it saw: the third entry repeats
        # the second, not the first
        pytest.param(
            "- {objectName: a, objectVersionLabel: L1}\n- {objectName: a, objectVersionLabel: L2}\n"
            "- {objectName: a, objectVersionLabel: L2}\n",
            [(), (), (TWICE,)],
            id="repeats-an-earlier-entry-not-the-first",
        ),
        pytest.param(
            "- {objectName: a, objectAlias: x}\n- {objectName: b, objectAlias: x}\n",
            [(), ("objectAlias 'x' is used twice",)],
            id="alias-twice",
        ),
        pytest.param(
            "- {objectName: a, objectAlias: x}\n- {objectName: b, jmesPath: [{path: p, objectAlias: x}]}\n",
            [(), ("objectAlias 'x' is used twice",)],
            id="jmespath-alias-repeats-an-object-alias",
        ),
        pytest.param(
            "- {objectName: a, jmesPath: [{path: p, objectAlias: u}, {path: q, objectAlias: u}]}\n",
            [("objectAlias 'u' is used twice",)],
            id="jmespath-alias-twice-in-one-entry",
        ),
    ],
)
def test_duplicates(text: str, problems: list[tuple[str, ...]]) -> None:
    typed = text.replace("objectName: a", "objectName: a, objectType: secretsmanager").replace(
        "objectName: b", "objectName: b, objectType: secretsmanager"
    )
    parsed = parse(typed)
    assert parsed.problems == ()
    assert [o.problems for o in parsed.objects] == problems


# --- the driver's overlay ----------------------------------------------------------------------------

SPC_PARAMS = (("objects", "- objectName: a"), ("region", "us-east-1"), ("usePodIdentity", "false"))


@pytest.mark.parametrize(
    ("attributes", "merged", "overridden"),
    [
        pytest.param((("secretProviderClass", "db"),), SPC_PARAMS, (), id="nothing-inline"),
        pytest.param(
            (("region", "eu-west-1"), ("secretProviderClass", "db")),
            (("objects", "- objectName: a"), ("region", "eu-west-1"), ("usePodIdentity", "false")),
            ("region",),
            id="region-inline",
        ),
        pytest.param(
            (
                ("failoverRegion", "us-west-2"),
                ("objects", "- objectName: b"),
                ("secretProviderClass", "db"),
                ("usePodIdentity", "true"),
            ),
            (
                ("failoverRegion", "us-west-2"),
                ("objects", "- objectName: b"),
                ("region", "us-east-1"),
                ("usePodIdentity", "true"),
            ),
            ("failoverRegion", "objects", "usePodIdentity"),
            id="objects-failover-identity-inline",
        ),
        pytest.param(
            (("pathTranslation", "False"), ("preferredAddressType", "ipv6"), ("secretProviderClass", "db")),
            (
                ("objects", "- objectName: a"),
                ("pathTranslation", "False"),
                ("preferredAddressType", "ipv6"),
                ("region", "us-east-1"),
                ("usePodIdentity", "false"),
            ),
            ("pathTranslation", "preferredAddressType"),
            id="other-ascp-parameters-inline",
        ),
        pytest.param(
            (("csi.storage.k8s.io/ephemeral", "true"), ("secretProviderClass", "db")),
            (("csi.storage.k8s.io/ephemeral", "true"), *SPC_PARAMS),
            (),
            id="non-ascp-attribute-copied-not-counted",
        ),
    ],
)
def test_effective_parameters(
    attributes: tuple[tuple[str, str], ...], merged: tuple[tuple[str, str], ...], overridden: tuple[str, ...]
) -> None:
    assert effective_parameters(SPC_PARAMS, attributes) == (merged, overridden)


def test_effective_parameters_without_an_spc() -> None:
    assert effective_parameters((), (("objects", "- objectName: x"), ("secretProviderClass", "gone"))) == (
        (("objects", "- objectName: x"),),
        ("objects",),
    )


# --- placeholders and booleans -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(("${REGION}",), ("${REGION}",), id="braced"),
        pytest.param(("$API_VERSION",), ("$API_VERSION",), id="bare"),
        pytest.param(("$(NAMESPACE)",), ("$(NAMESPACE)",), id="kubernetes-dependent-variable"),
        pytest.param(
            ("arn:aws:secretsmanager:${REGION}:${ACCOUNT_NUMBER}:secret:${SM_TEST_2_NAME}", "${REGION}"),
            ("${ACCOUNT_NUMBER}", "${REGION}", "${SM_TEST_2_NAME}"),
            id="several-deduplicated-sorted",
        ),
        pytest.param(("${region}",), ("${region}",), id="braced-lower-case"),
        pytest.param(
            ("us-east-1", None, "", "prod/db", "arn:aws:ssm:us-east-1:1:parameter/x"), (), id="none"
        ),
        # envsubst replaces `$Name` whole; the placeholder reported must be the whole name
        pytest.param(("$SecretName",), ("$SecretName",), id="bare-mixed-case-whole-name"),
    ],
)
def test_placeholders(values: tuple[str | None, ...], expected: tuple[str, ...]) -> None:
    assert placeholders(*values) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("1", True),
        ("t", True),
        ("T", True),
        ("false", False),
        ("yes", False),
        ("", False),
        (None, False),
    ],
)
def test_is_true_reads_like_go_parse_bool(value: str | None, expected: bool) -> None:
    assert is_true(value) is expected


# Go's strconv.ParseBool accepts exactly 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False; ASCP
# (server/server.go Mount) parses usePodIdentity with it and fails the mount on anything else.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(v, True) for v in ("1", "t", "T", "TRUE", "true", "True")],
        *[(v, False) for v in ("0", "f", "F", "FALSE", "false", "False")],
        (None, False),
        ("yes", None),
        ("on", None),
        ("tRUE", None),
        (" true", None),
        ("2", None),
    ],
)
def test_parse_bool_is_go_parse_bool(value: str | None, expected: bool | None) -> None:
    assert parse_bool(value) is expected
