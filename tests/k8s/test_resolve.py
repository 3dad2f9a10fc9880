"""Resolving each pod volume's SPC objects to the ARNs ASCP reads: the region (SPC, configured, node label),
the failover region, names vs partial vs full ARNs, SSM names, placeholders, missing SPCs and other
providers. Each case asserts the exact targets and the problems reported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from iamscope.config import Config
from iamscope.model import AwsInventory
from iamscope.resolve import Mount, ObjectRef, resolve_mounts
from tests.k8s.helpers import (
    ACCOUNT,
    aws_inventory,
    controller,
    csi_volume,
    inventory,
    node,
    owner,
    pod,
    secret_entry,
    spc,
)

E1, W2 = "us-east-1", "us-west-2"
SM = f"arn:aws:secretsmanager:{E1}:{ACCOUNT}:secret"
SM_W2 = f"arn:aws:secretsmanager:{W2}:{ACCOUNT}:secret"
SSM = f"arn:aws:ssm:{E1}:{ACCOUNT}:parameter"
SA = "prod/ServiceAccount/api"
NO_REGION = (
    "no region: the SPC names none, no provider region is configured (aws.region), no node label tells"
)


def resolve(
    *objects: Mapping[str, Any],
    aws: AwsInventory | None = None,
    config: Config | None = None,
    role_accounts: Mapping[str, str | None] | None = None,
) -> tuple[Mount, ...]:
    return resolve_mounts(inventory(*objects, aws=aws), config or Config(), role_accounts or {})


def one(
    objects_yaml: str,
    *,
    aws: AwsInventory | None = None,
    config: Config | None = None,
    extra: Sequence[Mapping[str, Any]] = (),
    **params: str,
) -> tuple[Mount, ObjectRef]:
    mounts = resolve(
        spc(objects=objects_yaml, **params),
        pod("api", sa="api", volumes=[csi_volume("db")]),
        *extra,
        aws=aws if aws is not None else aws_inventory(),
        config=config,
    )
    (mount,) = mounts
    (ref,) = mount.objects
    return mount, ref


def targets(ref: ObjectRef) -> list[tuple[Any, ...]]:
    return [(t.arn, t.kind, t.region, t.known, t.pattern, t.failover) for t in ref.targets]


SNAPSHOT = aws_inventory(
    secrets=[
        secret_entry("prod/db", E1),
        secret_entry("prod/db", W2, suffix="Wx9Yz8"),
        secret_entry("db-passwd", E1, suffix="Qq1Rr2"),
    ],
    parameters=[
        {"Name": "/app/db/password", "ARN": f"{SSM}/app/db/password", "Type": "SecureString"},
        {"Name": "plain", "ARN": f"{SSM}/plain", "Type": "String"},
    ],
)


def sm(name: str) -> str:
    return f"- objectName: {name!r}\n  objectType: secretsmanager\n"


def ssm(name: str) -> str:
    return f"- objectName: {name!r}\n  objectType: ssmparameter\n"


def arn(value: str) -> str:
    return f"- objectName: {value!r}\n"


# (objects, spc parameters, snapshot, expected targets, expected problems)
CASES = [
    pytest.param(
        sm("prod/db"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SM}:prod/db-AbCdEf", "secretsmanager", E1, True, False, False)],
        [],
        id="secret-name-in-snapshot",
    ),
    pytest.param(
        sm("prod/api-key"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SM}:prod/api-key-??????", "secretsmanager", E1, False, True, False)],
        [f"secret 'prod/api-key' is not in the snapshot for {E1}; expected ARN {SM}:prod/api-key-??????"],
        id="secret-name-not-in-snapshot-pattern",
    ),
    pytest.param(
        sm("prod/db"),
        {"region": "eu-west-1"},
        SNAPSHOT,
        [
            (
                f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db-??????",
                "secretsmanager",
                "eu-west-1",
                False,
                True,
                False,
            )
        ],
        ["secret 'prod/db' is not in the snapshot for eu-west-1"],
        id="secret-name-only-in-other-regions",
    ),
    pytest.param(
        arn(f"{SM}:prod/db"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SM}:prod/db-AbCdEf", "secretsmanager", E1, True, False, False)],
        [],
        id="partial-arn-resolves-by-name",
    ),
    pytest.param(
        arn(f"{SM}:SecretsManagerTest2"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SM}:SecretsManagerTest2-??????", "secretsmanager", E1, False, True, False)],
        [f"expected ARN {SM}:SecretsManagerTest2-??????"],
        id="partial-arn-not-in-snapshot-pattern",
    ),
    pytest.param(
        arn(f"{SM}:db-passwd"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SM}:db-passwd-Qq1Rr2", "secretsmanager", E1, True, False, False)],
        [],
        id="partial-arn-whose-name-looks-suffixed-found-by-name",
    ),
    pytest.param(
        f"- objectName: '{SM}:prod/db'\n  objectType: secretsmanager\n",
        {"region": E1},
        SNAPSHOT,
        [(f"{SM}:prod/db-AbCdEf", "secretsmanager", E1, True, False, False)],
        [],
        id="partial-arn-with-object-type",
    ),
    pytest.param(
        arn(f"{SM}:prod/db-AbCdEf"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SM}:prod/db-AbCdEf", "secretsmanager", E1, True, False, False)],
        [],
        id="full-arn-in-snapshot",
    ),
    pytest.param(
        arn(f"{SM}:prod/other-Zz9Yx8"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SM}:prod/other-Zz9Yx8", "secretsmanager", E1, False, False, False)],
        [f"objectName is the secret ARN {SM}:prod/other-Zz9Yx8, not in the snapshot"],
        id="full-arn-not-in-snapshot-stays",
    ),
    pytest.param(
        ssm("/app/db/password"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SSM}/app/db/password", "ssmparameter", E1, True, False, False)],
        [],
        id="ssm-leading-slash-in-snapshot",
    ),
    pytest.param(
        ssm("app/db/password"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SSM}/app/db/password", "ssmparameter", E1, True, False, False)],
        [],
        id="ssm-without-leading-slash-same-arn",
    ),
    pytest.param(
        ssm("/team/token"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SSM}/team/token", "ssmparameter", E1, False, False, False)],
        [f"parameter '/team/token' is not in the snapshot for {E1}"],
        id="ssm-leading-slash-not-in-snapshot",
    ),
    pytest.param(
        ssm("ParameterStoreTest1"),
        {"region": E1},
        aws_inventory(parameters=[]),
        [(f"{SSM}/ParameterStoreTest1", "ssmparameter", E1, False, False, False)],
        [f"parameter 'ParameterStoreTest1' is not in the snapshot for {E1}"],
        id="ssm-plain-name",
    ),
    # Only a listing that was read can say an object does not exist: without
    # ssm-describe-parameters*.json / secretsmanager-list-secrets*.json nothing is "not in the snapshot"
    # (the scan reports the missing listing as a gap instead).
    pytest.param(
        ssm("ParameterStoreTest1"),
        {"region": E1},
        aws_inventory(),
        [(f"{SSM}/ParameterStoreTest1", "ssmparameter", E1, False, False, False)],
        [],
        id="ssm-name-without-a-parameter-listing",
    ),
    pytest.param(
        sm("prod/api-key") + arn(f"{SM}:prod/other-Zz9Yx8"),
        {"region": E1},
        aws_inventory(parameters=[{"Name": "plain", "ARN": f"{SSM}/plain", "Type": "String"}]),
        None,
        [],
        id="secrets-without-a-secret-listing",
    ),
    pytest.param(
        sm("prod/api-key"),
        {"region": E1},
        aws_inventory(secrets=[]),
        [(f"{SM}:prod/api-key-??????", "secretsmanager", E1, False, True, False)],
        [f"secret 'prod/api-key' is not in the snapshot for {E1}; expected ARN {SM}:prod/api-key-??????"],
        id="secret-name-with-an-empty-listing",
    ),
    pytest.param(
        arn(f"{SSM}/plain"),
        {"region": E1},
        SNAPSHOT,
        [(f"{SSM}/plain", "ssmparameter", E1, True, False, False)],
        [],
        id="ssm-arn-without-object-type",
    ),
    pytest.param(
        "- objectName: prod/db\n",
        {"region": E1},
        SNAPSHOT,
        [],
        ["objectType is missing and objectName is not an ARN"],
        id="object-type-missing-for-a-name",
    ),
    pytest.param(
        sm("${SECRET_NAME}"),
        {"region": E1},
        SNAPSHOT,
        [],
        ["unsubstituted placeholder ${SECRET_NAME}: the manifest is a template"],
        id="placeholder-in-name",
    ),
    pytest.param(
        ssm("$PM_TEST_1_NAME"),
        {"region": E1},
        SNAPSHOT,
        [],
        ["unsubstituted placeholder $PM_TEST_1_NAME: the manifest is a template"],
        id="bare-placeholder-in-name",
    ),
    # DESIGN.md §6: an unsubstituted placeholder is reported as such, never guessed at: `${REGION}` is no
    # region to compare with the mount's (after envsubst it is usually the same one).
    pytest.param(
        arn("arn:aws:secretsmanager:${REGION}:${ACCOUNT_NUMBER}:secret:SecretsManagerTest2"),
        {"region": E1},
        SNAPSHOT,
        [],
        ["unsubstituted placeholder ${ACCOUNT_NUMBER}, ${REGION}: the manifest is a template"],
        id="placeholders-in-arn",
    ),
    pytest.param(
        sm("prod/db"),
        {"region": E1, "failoverRegion": W2},
        SNAPSHOT,
        [
            (f"{SM}:prod/db-AbCdEf", "secretsmanager", E1, True, False, False),
            (f"{SM_W2}:prod/db-Wx9Yz8", "secretsmanager", W2, True, False, True),
        ],
        [],
        id="failover-region-reads-both",
    ),
    pytest.param(
        sm("prod/cache"),
        {"region": E1, "failoverRegion": W2},
        SNAPSHOT,
        [
            (f"{SM}:prod/cache-??????", "secretsmanager", E1, False, True, False),
            (f"{SM_W2}:prod/cache-??????", "secretsmanager", W2, False, True, True),
        ],
        [f"expected ARN {SM}:prod/cache-??????", f"expected ARN {SM_W2}:prod/cache-??????"],
        id="failover-region-patterns-in-both",
    ),
    pytest.param(
        "- objectName: prod/db\n  objectType: secretsmanager\n  objectAlias: db\n"
        "  failoverObject: {objectName: prod/db-dr}\n",
        {"region": E1, "failoverRegion": W2},
        SNAPSHOT,
        [
            (f"{SM}:prod/db-AbCdEf", "secretsmanager", E1, True, False, False),
            (f"{SM_W2}:prod/db-dr-??????", "secretsmanager", W2, False, True, True),
        ],
        [f"secret 'prod/db-dr' is not in the snapshot for {W2}"],
        id="failover-object-names-the-failover-secret",
    ),
    pytest.param(
        f"- objectName: '{SM}:prod/db'\n  objectAlias: db\n  failoverObject:\n    objectName: '{SM_W2}:prod/db'\n",
        {"region": E1, "failoverRegion": W2},
        SNAPSHOT,
        [
            (f"{SM}:prod/db-AbCdEf", "secretsmanager", E1, True, False, False),
            (f"{SM_W2}:prod/db-Wx9Yz8", "secretsmanager", W2, True, False, True),
        ],
        [],
        id="failover-object-partial-arns",
    ),
    pytest.param(
        ssm("/app/db/password"),
        {"region": E1, "failoverRegion": W2},
        SNAPSHOT,
        [
            (f"{SSM}/app/db/password", "ssmparameter", E1, True, False, False),
            (f"arn:aws:ssm:{W2}:{ACCOUNT}:parameter/app/db/password", "ssmparameter", W2, False, False, True),
        ],
        [f"parameter '/app/db/password' is not in the snapshot for {W2}"],
        id="failover-region-ssm",
    ),
]


@pytest.mark.parametrize(("objects", "params", "aws", "expected", "problems"), CASES)
def test_object_resolution(
    objects: str,
    params: dict[str, str],
    aws: AwsInventory,
    expected: list[tuple[Any, ...]] | None,
    problems: list[str],
) -> None:
    if expected is None:  # several objects, none with a problem
        (mount,) = resolve(
            spc(objects=objects, **params), pod("api", sa="api", volumes=[csi_volume("db")]), aws=aws
        )
        assert [(mount.problems, r.problems) for r in mount.objects] == [((), ())] * len(mount.objects)
        return
    mount, ref = one(objects, aws=aws, **params)
    assert mount.problems == ()
    assert targets(ref) == expected
    assert len(ref.problems) == len(problems), ref.problems
    for fragment in problems:
        assert sum(fragment in p for p in ref.problems) == 1, (fragment, ref.problems)


def test_object_ref_ids_and_kinds() -> None:
    mount, ref = one(sm("prod/db"), aws=SNAPSHOT, region=E1)
    assert (ref.id, ref.kind, ref.object.index, ref.object.name) == (
        "prod/SecretProviderClass/db#0:prod/db",
        "secretsmanager",
        0,
        "prod/db",
    )
    assert (
        mount.workload,
        mount.namespace,
        mount.service_account,
        mount.volume,
        mount.spc,
        mount.provider,
    ) == (
        "prod/Pod/api",
        "prod",
        SA,
        "secrets",
        "prod/SecretProviderClass/db",
        "aws",
    )


# --- region ------------------------------------------------------------------------------------------

REGIONAL_NODES = [node("node-1", W2), node("node-2", "eu-central-1")]


@pytest.mark.parametrize(
    ("spc_params", "config_region", "workload", "nodes", "region", "source"),
    [
        pytest.param(
            {"region": E1},
            "eu-west-1",
            pod("api", sa="api", volumes=[csi_volume()], node="node-1"),
            REGIONAL_NODES,
            E1,
            "SPC parameter region",
            id="spc-region-first",
        ),
        pytest.param(
            {},
            "eu-west-1",
            pod("api", sa="api", volumes=[csi_volume()], node="node-1"),
            REGIONAL_NODES,
            "eu-west-1",
            "the provider's configured region (config aws.region)",
            id="configured-region-before-node-label",
        ),
        pytest.param(
            {},
            None,
            pod("api", sa="api", volumes=[csi_volume()], node="node-1"),
            REGIONAL_NODES,
            W2,
            "label topology.kubernetes.io/region of node node-1",
            id="label-of-the-pods-node",
        ),
        pytest.param(
            {},
            None,
            pod(
                "api-7d9f8c6b5-xk2p9",
                sa="api",
                volumes=[csi_volume()],
                node="node-2",
                owners=[owner("ReplicaSet", "api-7d9f8c6b5")],
                labels={"pod-template-hash": "7d9f8c6b5"},
            ),
            REGIONAL_NODES,
            "eu-central-1",
            "label topology.kubernetes.io/region of node node-2",
            id="label-of-the-node-a-live-pod-runs-on",
        ),
        pytest.param(
            {},
            None,
            controller("Deployment", "api", sa="api", volumes=[csi_volume()]),
            [node("node-1", W2), node("node-2", W2)],
            W2,
            "the region label every node carries",
            id="label-every-node-carries",
        ),
        pytest.param(
            {"region": ""},
            None,
            pod("api", sa="api", volumes=[csi_volume()], node="node-1"),
            REGIONAL_NODES,
            W2,
            "label topology.kubernetes.io/region of node node-1",
            id="empty-spc-region-is-no-region",
        ),
        pytest.param(
            {"region": E1},
            None,
            pod("api", sa="api", volumes=[csi_volume(region="ap-south-1")]),
            [],
            "ap-south-1",
            "volumeAttributes region",
            id="pod-overrides-region-inline",
        ),
    ],
)
def test_region(
    spc_params: dict[str, str],
    config_region: str | None,
    workload: dict[str, Any],
    nodes: list[dict[str, Any]],
    region: str,
    source: str,
) -> None:
    (mount,) = resolve(
        spc(objects=sm("prod/db"), **spc_params),
        workload,
        *nodes,
        aws=aws_inventory(),
        config=Config(region=config_region),
    )
    assert (mount.region, mount.region_source, mount.problems) == (region, source, ())
    (ref,) = mount.objects
    assert targets(ref) == [
        (
            f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:prod/db-??????",
            "secretsmanager",
            region,
            False,
            True,
            False,
        )
    ]


def test_no_region_is_a_mount_problem_and_arns_still_resolve() -> None:
    objects = sm("prod/db") + arn(f"{SM_W2}:prod/db-Wx9Yz8")
    (mount,) = resolve(
        spc(objects=objects),
        pod("api", sa="api", volumes=[csi_volume()]),
        *REGIONAL_NODES,  # nodes disagree and the pod has no node
        aws=SNAPSHOT,
    )
    assert (mount.region, mount.region_source, mount.problems) == (None, "unknown", (NO_REGION,))
    by_name, by_arn = mount.objects
    assert (targets(by_name), by_name.problems) == ([], ())
    assert targets(by_arn) == [(f"{SM_W2}:prod/db-Wx9Yz8", "secretsmanager", W2, True, False, False)]


def test_placeholder_region_is_reported_never_guessed() -> None:
    (mount,) = resolve(
        spc(objects=sm("prod/db"), region="${REGION}", failoverRegion="${FAILOVERREGION}"),
        pod("api", sa="api", volumes=[csi_volume()], node="node-1"),
        *REGIONAL_NODES,
        aws=SNAPSHOT,
        config=Config(region=E1),
    )
    assert (mount.region, mount.failover_region) == (None, None)
    assert mount.problems == (
        "region/failoverRegion hold unsubstituted placeholder ${FAILOVERREGION}, ${REGION}: the manifest is a template",
    )
    (ref,) = mount.objects
    assert ref.targets == ()


def test_placeholder_failover_region_alone_is_reported() -> None:
    (mount,) = resolve(
        spc(objects=sm("prod/db"), region=E1, failoverRegion="$FAILOVER"),
        pod("api", sa="api", volumes=[csi_volume()]),
        aws=SNAPSHOT,
    )
    assert mount.problems == (
        "region/failoverRegion hold unsubstituted placeholder $FAILOVER: the manifest is a template",
    )
    assert [t.arn for ref in mount.objects for t in ref.targets] == []


# --- account -----------------------------------------------------------------------------------------


def test_the_roles_account_names_the_secret() -> None:
    (mount,) = resolve(
        spc(objects=sm("prod/db") + ssm("/app/key"), region=E1),
        pod("api", sa="api", volumes=[csi_volume()]),
        aws=aws_inventory(),
        role_accounts={SA: "444455556666"},
    )
    assert [t.arn for ref in mount.objects for t in ref.targets] == [
        f"arn:aws:secretsmanager:{E1}:444455556666:secret:prod/db-??????",
        f"arn:aws:ssm:{E1}:444455556666:parameter/app/key",
    ]


def test_unknown_account_names_cannot_resolve() -> None:
    (mount,) = resolve(
        spc(objects=sm("prod/db"), region=E1),
        pod("api", sa="api", volumes=[csi_volume()]),
        aws=aws_inventory(account=None),
    )
    # not the mount's fault: the scan reports the unknown account as a gap (tests/scan/test_fail_closed.py)
    assert (mount.problems, mount.account) == ((), None)
    (ref,) = mount.objects
    assert (ref.targets, ref.problems) == ((), ())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(f"{SM}:prod/db-AbCdEf", (f"{SM}:prod/db-AbCdEf", False), id="full-arn"),
        pytest.param(f"{SM}:prod/db", (f"{SM}:prod/db-??????", True), id="partial-arn"),
        pytest.param(f"{SSM}/app/key", (f"{SSM}/app/key", False), id="parameter-arn"),
    ],
)
def test_unknown_account_arns_still_resolve(name: str, expected: tuple[str, bool]) -> None:
    # An ARN names its account: objects named by full or partial ARN resolve without knowing the
    # caller's account.
    (mount,) = resolve(
        spc(objects=arn(name), region=E1),
        pod("api", sa="api", volumes=[csi_volume()]),
        aws=aws_inventory(account=None),
    )
    assert (mount.problems, mount.account) == ((), None)
    (ref,) = mount.objects
    assert [(t.arn, t.pattern) for t in ref.targets] == [expected]


# --- what ASCP itself rejects (provider/secret_descriptor.go, server/server.go) ------------------------


def test_arn_in_another_region_than_the_mount_is_a_problem() -> None:
    # ASCP validateObjectName: "ARN region must match region us-east-1: arn:..." — the mount fails.
    _, ref = one(arn(f"{SM_W2}:prod/db-Wx9Yz8"), aws=SNAPSHOT, region=E1)
    assert ref.problems == (f"ARN region must match the region {E1}: {SM_W2}:prod/db-Wx9Yz8",)
    assert targets(ref) == [(f"{SM_W2}:prod/db-Wx9Yz8", "secretsmanager", W2, True, False, False)]


def test_failover_arn_in_another_region_than_the_failover_region_is_a_problem() -> None:
    # ASCP validateSecretDescriptor checks the failoverObject's name against regions[1] (failoverRegion).
    objects = f"- objectName: '{SM}:prod/db'\n  objectAlias: db\n  failoverObject:\n    objectName: '{SM}:prod/db'\n"
    mount, ref = one(objects, aws=SNAPSHOT, region=E1, failoverRegion=W2)
    assert mount.problems == ()
    assert ref.problems == (f"ARN region must match the failover region {W2}: {SM}:prod/db",)
    assert {t.arn for t in ref.targets} == {f"{SM}:prod/db-AbCdEf"}


@pytest.mark.parametrize(
    ("objects", "problem"),
    [
        pytest.param(
            f"- objectName: '{SM}:prod/db-AbCdEf'\n  objectType: ssmparameter\n",
            "objectType ssmparameter does not match the ARN's service (secretsmanager)",
            id="ssmparameter-naming-a-secret-arn",
        ),
        pytest.param(
            f"- objectName: '{SSM}/plain'\n  objectType: secretsmanager\n",
            "objectType secretsmanager does not match the ARN's service (ssm)",
            id="secretsmanager-naming-a-parameter-arn",
        ),
    ],
)
def test_object_type_disagreeing_with_the_arn_is_one_problem(objects: str, problem: str) -> None:
    # ASCP validateObjectName: "objectType does not match ARN". That is the one thing wrong: the ARN names
    # an object the snapshot holds, so nothing is "not in the snapshot" (the object is not read as a
    # parameter named after a secret ARN, or as a secret named after a parameter).
    _, ref = one(objects, aws=SNAPSHOT, region=E1)
    assert ref.problems == (problem,)


def test_failover_object_without_failover_region_is_a_problem() -> None:
    # ASCP validateSecretDescriptor: "failover object allowed only when failover region is defined".
    objects = "- objectName: prod/db\n  objectType: secretsmanager\n  objectAlias: db\n  failoverObject: {objectName: prod/db-dr}\n"
    mount, ref = one(objects, aws=SNAPSHOT, region=E1)
    assert (mount.problems, ref.problems) == ((), ("a failoverObject needs the SPC's failoverRegion",))
    assert targets(ref) == [(f"{SM}:prod/db-AbCdEf", "secretsmanager", E1, True, False, False)]


def test_failover_region_equal_to_the_region_is_a_problem() -> None:
    # ASCP getAwsRegions: "us-east-1: failover region cannot be the same as the primary region".
    mount, ref = one(sm("prod/db"), aws=SNAPSHOT, region=E1, failoverRegion=E1)
    assert mount.problems == (f"failoverRegion {E1} is the region itself: ASCP rejects the mount",)
    assert ref.problems == ()


@pytest.mark.parametrize(
    ("value", "use_pod_identity", "problems"),
    [
        pytest.param("true", True, (), id="true"),
        pytest.param("TRUE", True, (), id="TRUE"),
        pytest.param("1", True, (), id="one"),
        pytest.param("False", False, (), id="False"),
        pytest.param("yes", False, ("usePodIdentity 'yes' is not a boolean ASCP reads",), id="yes"),
        pytest.param("on", False, ("usePodIdentity 'on' is not a boolean ASCP reads",), id="on"),
        # ASCP server.go Mount: `if usePodIdentityStr != ""` — an empty value is IRSA, not a parse error
        pytest.param("", False, (), id="empty-is-unset"),
    ],
)
def test_use_pod_identity_is_read_with_go_parse_bool(
    value: str, use_pod_identity: bool, problems: tuple[str, ...]
) -> None:
    # ASCP server.go Mount: strconv.ParseBool(usePodIdentity), "failed to parse usePodIdentity value".
    mount, ref = one(sm("prod/db"), aws=SNAPSHOT, region=E1, usePodIdentity=value)
    assert (mount.use_pod_identity, mount.problems, ref.problems) == (use_pod_identity, problems, ())


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        pytest.param("False", (), id="False"),
        pytest.param("false", (), id="false-any-case"),
        pytest.param("FALSE", (), id="FALSE"),
        pytest.param("-", (), id="one-character"),
        pytest.param("", (), id="empty-is-the-default"),
        pytest.param("no", ("pathTranslation must be 'False' or a single character",), id="two-characters"),
        pytest.param("True", ("pathTranslation must be 'False' or a single character",), id="True"),
    ],
)
def test_path_translation(value: str, problems: tuple[str, ...]) -> None:
    # ASCP NewSecretDescriptorList: "" is the default "_", strings.ToLower(v) == "false" turns it off,
    # anything else longer than one character is "pathTranslation must be either 'False' or a single
    # character string".
    mount, _ = one(sm("prod/db"), aws=SNAPSHOT, region=E1, pathTranslation=value)
    assert mount.problems == problems


@pytest.mark.parametrize(
    ("name", "placeholder"),
    [
        pytest.param("$(SECRET_NAME)", "$(SECRET_NAME)", id="kubernetes-dependent-variable"),
        pytest.param("${secret_name}", "${secret_name}", id="braced-lower-case"),
        pytest.param("$secretName", "$secretName", id="bare-mixed-case"),
        pytest.param("prod/$ENV/db", "$ENV", id="inside-a-name"),
    ],
)
def test_placeholders_of_every_form_are_reported(name: str, placeholder: str) -> None:
    _, ref = one(sm(name), aws=SNAPSHOT, region=E1)
    assert (ref.targets, ref.problems) == (
        (),
        (f"unsubstituted placeholder {placeholder}: the manifest is a template",),
    )


def test_placeholder_region_of_the_kubernetes_form_is_reported() -> None:
    (mount,) = resolve(
        spc(objects=sm("prod/db"), region="$(AWS_REGION)"),
        pod("api", sa="api", volumes=[csi_volume()]),
        aws=SNAPSHOT,
    )
    assert (mount.region, mount.problems) == (
        None,
        ("region/failoverRegion hold unsubstituted placeholder $(AWS_REGION): the manifest is a template",),
    )


# --- SPC lookup, providers, inline parameters ----------------------------------------------------------


def test_spc_missing_from_the_pods_namespace() -> None:
    (mount,) = resolve(
        spc("db", "other", objects=sm("prod/db"), region=E1),
        pod("api", sa="api", volumes=[csi_volume("db")]),
        aws=SNAPSHOT,
    )
    assert (mount.spc, mount.provider, mount.objects) == ("prod/SecretProviderClass/db", None, ())
    assert mount.problems == ("SecretProviderClass 'db' not found in namespace prod: the pod cannot start",)


def test_volume_without_spc_attribute() -> None:
    # the driver cannot mount a volume that names no SecretProviderClass (secretProviderClass attribute)
    (mount,) = resolve(pod("api", sa="api", volumes=[csi_volume(None)]), aws=SNAPSHOT)
    assert (mount.spc, mount.provider, mount.objects) == (None, None, ())
    assert mount.problems == ("the volume names no secretProviderClass: the pod cannot start",)


def test_volumes_of_other_csi_drivers_are_not_mounts() -> None:
    other = {
        "name": "ebs",
        "csi": {"driver": "ebs.csi.aws.com", "volumeAttributes": {"secretProviderClass": "db"}},
    }
    assert resolve(spc(objects=sm("prod/db"), region=E1), pod("api", volumes=[other]), aws=SNAPSHOT) == ()


AZURE_OBJECTS = """\
array:
  - |
    objectName: secret1
    objectType: secret
    objectVersion: ""
"""
VAULT_OBJECTS = """\
- objectName: "bar"
  secretPath: "secret/data/foo"
  secretKey: "bar"
"""


@pytest.mark.parametrize(
    ("provider", "objects"),
    [
        pytest.param("azure", AZURE_OBJECTS, id="azure"),
        pytest.param("vault", VAULT_OBJECTS, id="vault"),
        pytest.param(
            "gcp", "- resourceName: projects/p/secrets/s/versions/latest\n  path: s.txt\n", id="gcp"
        ),
        pytest.param("invalidprovider", "not: [yaml", id="unknown-provider-malformed-objects"),
    ],
)
def test_other_providers_are_not_resolved(provider: str, objects: str) -> None:
    (mount,) = resolve(
        spc(provider=provider, objects=objects, api_version="$API_VERSION"),
        pod("api", sa="api", volumes=[csi_volume()]),
        aws=aws_inventory(account=None),
    )
    assert (mount.provider, mount.aws, mount.objects, mount.problems, mount.region) == (
        provider,
        False,
        (),
        (),
        None,
    )


def test_templated_api_version_spc_is_resolved() -> None:
    # the driver's e2e manifests say `apiVersion: $API_VERSION`; they are SPCs all the same
    (mount,) = resolve(
        spc(objects=sm("prod/db"), region=E1, api_version="$API_VERSION"),
        pod("api", sa="api", volumes=[csi_volume()]),
        aws=SNAPSHOT,
    )
    assert (mount.spc, mount.provider) == ("prod/SecretProviderClass/db", "aws")
    assert [t.arn for r in mount.objects for t in r.targets] == [f"{SM}:prod/db-AbCdEf"]


def test_inline_objects_and_identity_override_the_spc() -> None:
    volume = csi_volume(objects=sm("inline/one"), usePodIdentity="true", failoverRegion=W2)
    (mount,) = resolve(
        spc(objects=sm("prod/db"), region=E1, usePodIdentity="false"),
        pod("api", sa="api", volumes=[volume]),
        aws=SNAPSHOT,
    )
    assert (mount.inline, mount.use_pod_identity, mount.failover_region, mount.region) == (
        ("failoverRegion", "objects", "usePodIdentity"),
        True,
        W2,
        E1,
    )
    (ref,) = mount.objects
    assert ref.id == "prod/Pod/api#secrets#0:inline/one"
    assert [(t.arn, t.failover) for t in ref.targets] == [
        (f"{SM}:inline/one-??????", False),
        (f"{SM_W2}:inline/one-??????", True),
    ]


def test_use_pod_identity_from_the_spc() -> None:
    mount, _ = one(sm("prod/db"), aws=SNAPSHOT, region=E1, usePodIdentity="true")
    assert (mount.use_pod_identity, mount.inline) == (True, ())


def test_mounts_sorted_by_workload_and_volume() -> None:
    mounts = resolve(
        spc(objects=sm("prod/db"), region=E1),
        pod("zeta", sa="api", volumes=[csi_volume(name="b"), csi_volume(name="a")]),
        controller("Deployment", "alpha", sa="api", volumes=[csi_volume(name="s")]),
        aws=SNAPSHOT,
    )
    assert [(m.workload, m.volume) for m in mounts] == [
        ("prod/Deployment/alpha", "s"),
        ("prod/Pod/zeta", "a"),
        ("prod/Pod/zeta", "b"),
    ]


def test_kms_key_of_a_secret_with_a_customer_key() -> None:
    key = f"arn:aws:kms:{E1}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    snapshot = aws_inventory(
        secrets=[
            secret_entry("cmk", E1, KmsKeyId=key),
            secret_entry("managed", E1, KmsKeyId="alias/aws/secretsmanager"),
            secret_entry("bare-id", E1, KmsKeyId="1234abcd-12ab-34cd-56ef-1234567890ab"),
        ]
    )
    mounts = resolve(
        spc(objects=sm("cmk") + sm("managed") + sm("bare-id"), region=E1),
        pod("api", sa="api", volumes=[csi_volume()]),
        aws=snapshot,
    )
    assert [(t.arn, t.kms_key) for ref in mounts[0].objects for t in ref.targets] == [
        (f"{SM}:cmk-AbCdEf", key),
        (f"{SM}:managed-AbCdEf", None),
        (f"{SM}:bare-id-AbCdEf", key),
    ]
