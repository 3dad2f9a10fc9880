"""Fail closed (DESIGN.md §5): when the input lacks what a finding would rest on (the ServiceAccount, IAM
data, the cluster's OIDC issuer, the Pod Identity associations, the secret and parameter listings), the
result is incomplete (`complete: false`, the reason in `incomplete`, exit 3 when nothing reaches
--fail-on), and no definite finding is made from the absence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from iamscope.cli import main
from iamscope.config import Config
from tests.scan.builder import (
    CLUSTER,
    GET_PARAMETERS,
    READ,
    REGION,
    State,
    allow,
    objects,
    run,
    triples,
)

SA = "prod/ServiceAccount/api"
WORKLOAD = "prod/Deployment/api"
STAGING_ISSUER = f"oidc.eks.{REGION}.amazonaws.com/id/{'B' * 32}"

NO_IAM = "no iam-authorization-details.json: which roles exist and what they grant is unknown"
NO_CLUSTER = "no eks-describe-cluster*.json: IRSA trust policies cannot be verified"
TWO_CLUSTERS = f"the snapshot holds clusters staging, {CLUSTER}: set cluster.name to say which one to scan"
NO_ASSOCIATIONS = "no eks-pod-identity-associations*.json: Pod Identity roles are unknown"
NO_SECRETS = (
    "no secretsmanager-list-secrets-eu-west-1.json: declared objects in eu-west-1 cannot be confirmed"
)
NO_PARAMETERS = "no ssm-describe-parameters-eu-west-1.json: declared objects in eu-west-1 cannot be confirmed"


def irsa_app(state: State, *, trusted_sa: str = "api") -> str:
    """prod/Deployment/api (SA api) mounting prod/db through role api, which grants exactly READ on it
    and trusts system:serviceaccount:prod:<trusted_sa>."""
    db = state.secret("prod/db")
    role = state.irsa_role("api", "prod", trusted_sa, [allow(READ, db)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    return role


def pod_identity_app(state: State, *, association: bool = True) -> str:
    db = state.secret("prod/db")
    role = state.pod_identity_role("api", [allow(READ, db)])
    if association:
        state.association("prod", "api", role)
    state.service_account("prod", "api")
    state.spc("prod", "api", objects("prod/db"), usePodIdentity="true")
    state.workload("Deployment", "prod", "api", "api", "api")
    return role


def exit_code(state: State, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> int:
    root = state.write()
    monkeypatch.chdir(root)  # no ./.iamscope.yaml
    with pytest.raises(SystemExit) as done:
        main(["scan", str(root), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert document["complete"] is False
    code = done.value.code
    return code if isinstance(code, int) else 0


# --- the ServiceAccount ------------------------------------------------------------------------------


def test_service_account_missing_from_the_input_is_a_gap_for_each_workload(tmp_path: Path) -> None:
    # A pod names its ServiceAccount; whether that SA carries eks.amazonaws.com/role-arn is only known
    # from the SA itself (EKS IRSA: the pod identity webhook reads the SA's annotation).
    state = State(tmp_path)
    state.secret("prod/db")
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    state.workload("CronJob", "prod", "nightly", "api", "api")
    result = run(state)
    assert triples(result) == {("shared-service-account", SA, "medium")}  # two workloads run as it
    assert result.gaps == (
        f"ServiceAccount {SA} (used by prod/CronJob/nightly, {WORKLOAD}) is not in the input: "
        "its role annotation is unknown",
    )


def test_service_account_of_a_workload_without_aws_mounts_is_no_gap(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.workload("Deployment", "prod", "web", "web")
    result = run(state)
    assert (triples(result), result.complete) == (set(), True)


# --- IAM data ----------------------------------------------------------------------------------------


def test_without_iam_data_trust_is_unverified_not_broken(tmp_path: Path) -> None:
    # The annotated role would refuse the SA (it trusts prod:someone-else), but without
    # iam-authorization-details.json nothing says so: unverified, no broken-trust.
    state = State(tmp_path, iam=False)
    role = irsa_app(state, trusted_sa="someone-else")
    result = run(state)
    view = result.assessment.service_accounts[SA]
    assert (view.ascp_role, view.ascp_trust.outcome if view.ascp_trust else None) == (role, "unverified")
    assert "broken-trust" not in {rule for rule, _, _ in triples(result)}
    assert (result.complete, result.gaps) == (False, (NO_IAM,))


def test_without_iam_data_the_scan_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without IAM data what a role grants is unknown: no finding can say "the mount will fail" (a
    # definite missing-grant), and the scan ends as incomplete, exit 3 (DESIGN.md §3, §5).
    state = State(tmp_path, iam=False)
    irsa_app(state)
    assert triples(run(state)) == set()
    assert exit_code(state, monkeypatch, capsys) == 3


# --- the cluster -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cluster", "extra_cluster", "config", "gap"),
    [
        pytest.param(False, False, Config(), NO_CLUSTER, id="no-describe-cluster"),
        pytest.param(True, True, Config(), TWO_CLUSTERS, id="two-clusters-none-chosen"),
        pytest.param(
            True,
            False,
            Config(cluster_name="production"),
            f"cluster.name 'production' is not in the snapshot (it holds {CLUSTER})",
            id="cluster-name-not-in-the-snapshot",
        ),
    ],
)
def test_irsa_trust_without_the_clusters_issuer_is_a_gap(
    tmp_path: Path, cluster: bool, extra_cluster: bool, config: Config, gap: str
) -> None:
    # IRSA trust is decided on the cluster's OIDC issuer (`<issuer>:sub`, the provider ARN): without
    # knowing which cluster, the trust (here refusing the SA) cannot be checked.
    state = State(tmp_path, cluster=cluster)
    irsa_app(state, trusted_sa="someone-else")
    if extra_cluster:
        state.other_cluster("staging", STAGING_ISSUER)
    result = run(state, config)
    view = result.assessment.service_accounts[SA]
    assert view.ascp_trust is not None
    assert view.ascp_trust.outcome == "unverified"
    assert triples(result) == set()
    assert (result.complete, result.gaps) == (False, (gap,))


def test_chosen_cluster_among_several_is_complete(tmp_path: Path) -> None:
    state = State(tmp_path)
    irsa_app(state)
    state.other_cluster("staging", STAGING_ISSUER)
    result = run(state, Config(cluster_name=CLUSTER))
    assert (triples(result), result.complete) == (set(), True)


# --- Pod Identity ------------------------------------------------------------------------------------


def test_use_pod_identity_without_the_associations_file_is_a_gap(tmp_path: Path) -> None:
    state = State(tmp_path, association_listing=False)
    pod_identity_app(state)
    result = run(state)
    assert (result.complete, result.gaps) == (False, (NO_ASSOCIATIONS,))
    assert result.assessment.service_accounts[SA].ascp_role is None


def test_use_pod_identity_without_the_associations_file_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The association may well exist (EKS ListPodIdentityAssociations was not read): "no Pod Identity
    # association names the SA: the mount fails" (no-identity, high) would be a guess.
    state = State(tmp_path, association_listing=False)
    pod_identity_app(state)
    assert triples(run(state)) == set()
    assert exit_code(state, monkeypatch, capsys) == 3


def test_an_empty_associations_file_says_there_is_none(tmp_path: Path) -> None:
    state = State(tmp_path, association_listing=True)
    pod_identity_app(state, association=False)
    result = run(state)
    assert triples(result) == {("no-identity", WORKLOAD, "high")}
    assert (result.complete, result.gaps) == (True, ())


def test_several_clusters_none_chosen_no_association_is_used(tmp_path: Path) -> None:
    # An association belongs to one cluster (EKS CreatePodIdentityAssociation clusterName); with two
    # clusters in the snapshot and no cluster.name, none can be placed: none is used, and the result
    # says it cannot tell (fail closed) instead of "no association: the mount fails".
    state = State(tmp_path)
    pod_identity_app(state)
    state.other_cluster("staging", STAGING_ISSUER)
    result = run(state)
    assert result.assessment.service_accounts[SA].identity.association is None
    assert result.assessment.service_accounts[SA].ascp_role is None
    assert "no-identity" not in {rule for rule, _, _ in triples(result)}
    assert result.complete is False


def test_one_cluster_chosen_its_association_is_used(tmp_path: Path) -> None:
    state = State(tmp_path)
    role = pod_identity_app(state)
    state.other_cluster("staging", STAGING_ISSUER)
    result = run(state, Config(cluster_name=CLUSTER))
    assert result.assessment.service_accounts[SA].ascp_role == role
    assert (triples(result), result.complete) == (set(), True)


# --- listings ----------------------------------------------------------------------------------------


def test_declared_secrets_without_a_listing_are_a_gap(tmp_path: Path) -> None:
    state = State(tmp_path, secret_listing=False)
    irsa_app(state)
    result = run(state)
    assert (result.complete, result.gaps) == (False, (NO_SECRETS,))
    assert [n.arn for n in result.assessment.service_accounts[SA].needs] == [
        f"arn:aws:secretsmanager:{REGION}:111122223333:secret:prod/db-??????"
    ]


def test_declared_secrets_without_a_listing_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The role grants exactly the secret's ARN (…:secret:prod/db-<suffix>); without list-secrets the
    # suffix is unknown, so whether that grant covers what ASCP reads cannot be told. Secrets Manager
    # authorizes GetSecretValue("prod/db") against the secret's real ARN, which the grant names:
    # "the mount will fail" (missing-grant, high) would be wrong.
    state = State(tmp_path, secret_listing=False)
    irsa_app(state)
    assert exit_code(state, monkeypatch, capsys) == 3


def test_declared_parameters_without_a_listing_are_a_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = State(tmp_path, parameter_listing=False)
    flags = state.parameter("/prod/flags")
    role = state.irsa_role("api", "prod", "api", [allow(GET_PARAMETERS, flags)])
    state.service_account("prod", "api", role)
    state.spc("prod", "api", objects("/prod/flags", type="ssmparameter"))
    state.workload("Deployment", "prod", "api", "api", "api")
    result = run(state)
    assert triples(result) == set()
    assert (result.complete, result.gaps) == (False, (NO_PARAMETERS,))
    assert exit_code(state, monkeypatch, capsys) == 3


def test_listings_of_kinds_nobody_declares_are_not_needed(tmp_path: Path) -> None:
    state = State(tmp_path, parameter_listing=False)
    irsa_app(state)
    result = run(state)
    assert (triples(result), result.complete) == (set(), True)


@pytest.mark.parametrize(
    "drop",
    [
        pytest.param(lambda s: setattr(s, "iam", False), id="no-iam"),
        pytest.param(lambda s: setattr(s, "secret_listing", False), id="no-secret-listing"),
        pytest.param(lambda s: setattr(s, "cluster", False), id="no-cluster"),
    ],
)
def test_nothing_is_missing_when_nothing_mounts_aws(tmp_path: Path, drop: Callable[[State], None]) -> None:
    state = State(tmp_path)
    state.service_account("prod", "api")
    state.workload("Deployment", "prod", "api", "api")
    state.spc("prod", "vault", "- objectName: foo\n  secretPath: v1/secret/foo\n", provider="vault")
    state.workload("Pod", "prod", "vault-reader", "api", "vault")
    drop(state)
    result = run(state)
    assert (triples(result), result.complete) == (set(), True)


def test_incomplete_json_names_the_gap_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = State(tmp_path / "state")
    state.secret("prod/db")
    state.spc("prod", "api", objects("prod/db"))
    state.workload("Deployment", "prod", "api", "api", "api")
    root = state.write()
    monkeypatch.chdir(tmp_path)
    for fail_on, code in (("high", 3), ("low", 3), ("none", 3)):
        with pytest.raises(SystemExit) as done:
            main(["scan", str(root), "--format", "json", "--fail-on", fail_on])
        document = json.loads(capsys.readouterr().out)
        assert done.value.code == code
        assert (document["complete"], document["incomplete"], document["findings"]) == (
            False,
            [
                f"ServiceAccount {SA} (used by {WORKLOAD}) is not in the input: its role annotation is unknown",
            ],
            [],
        )
