"""Role names `iamscope generate` writes (iamscope.generate.naming): always a valid IAM role name
(IAM: at most 64 characters of [\\w+=,.@-]), shortened with a hash of the full name, never the same
name (ignoring case, as IAM compares them) for two service accounts, and a bad template is an
error naming what is wrong."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from iamscope.config import DEFAULT_ROLE_NAME, Config
from iamscope.errors import InputError
from iamscope.files import InputReader
from iamscope.generate import plan_roles
from iamscope.generate.naming import role_name, template_fields, unique_names
from iamscope.state import load_inventory, sources
from tests.scan.builder import ACCOUNT, CLUSTER, REGION, State, objects

SOURCE = ".iamscope.yaml"
WHERE = f"{SOURCE}: generate.role_name"
# IAM: RoleName pattern [\w+=,.@-]+, length 1-64 (\w is ASCII letters, digits and _)
IAM_ROLE_NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")


def values(namespace: str, service_account: str, cluster: str = "prod-eks") -> dict[str, str]:
    return {"cluster": cluster, "namespace": namespace, "service_account": service_account}


def shortened(full: str) -> str:
    """IAM's 64-character limit, as generate meets it: the first 55 characters, `-`, then 8 hex
    digits of the SHA-256 of the full name."""
    return f"{full[:55]}-{hashlib.sha256(full.encode()).hexdigest()[:8]}"


# --- role_name ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "fields", "expected"),
    [
        pytest.param(
            DEFAULT_ROLE_NAME,
            values("payments", "api"),
            "prod-eks-payments-api",
            id="default: {cluster}-{namespace}-{service_account}",
        ),
        pytest.param(
            "{namespace}-{service_account}",
            values("payments", "api.v2"),
            "payments-api.v2",
            id="IAM: . is allowed (service account names may hold dots)",
        ),
        pytest.param(
            "{namespace}/{service_account}",
            values("payments", "api"),
            "payments-api",
            id="IAM: / is not allowed in a role name (it is a path separator)",
        ),
        pytest.param(
            "{namespace}:{service_account}",
            values("payments", "api"),
            "payments-api",
            id="IAM: : is not allowed",
        ),
        pytest.param(
            "{namespace} {service_account}",
            values("payments", "api"),
            "payments-api",
            id="IAM: a space is not allowed",
        ),
        pytest.param(
            "{namespace}::/ {service_account}",
            values("payments", "api"),
            "payments-api",
            id="a run of forbidden characters becomes one -",
        ),
        pytest.param(
            "{namespace}é{service_account}",
            values("payments", "api"),
            "payments-api",
            id="IAM: \\w is ASCII only, é is not allowed",
        ),
        pytest.param(
            "+=,.@_{namespace}-{service_account}",
            values("payments", "api"),
            "+=,.@_payments-api",
            id="IAM: + = , . @ _ - are all allowed and kept",
        ),
        pytest.param(
            "/{service_account}/",
            values("payments", "api"),
            "api",
            id="no leading or trailing - from a replaced character",
        ),
        pytest.param(
            "{cluster}_{namespace}_{service_account}",
            values("a", "b", "c"),
            "c_a_b",
            id="fields in any order and separator",
        ),
    ],
)
def test_role_name(template: str, fields: dict[str, str], expected: str) -> None:
    name = role_name(template, fields)
    assert name == expected
    assert IAM_ROLE_NAME.match(name)


LONG = values("payments-settlement-batch", "ledger-reconciliation-worker", cluster="production-eu-west-1")
LONG_FULL = "production-eu-west-1-payments-settlement-batch-ledger-reconciliation-worker"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            values("n" * 20, "s" * 34, cluster="c" * 8),
            f"{'c' * 8}-{'n' * 20}-{'s' * 34}",
            id="IAM: exactly 64 characters is allowed, kept as is",
        ),
        pytest.param(
            values("n" * 20, "s" * 35, cluster="c" * 8),
            shortened(f"{'c' * 8}-{'n' * 20}-{'s' * 35}"),
            id="IAM: 65 characters is one too many: shortened",
        ),
        pytest.param(
            LONG,
            "production-eu-west-1-payments-settlement-batch-ledger-r-bdc5e3e8",
            id="75 characters: first 55, -, sha256[:8] of the full name",
        ),
        pytest.param(
            values("n" * 63, "s" * 253, cluster="c" * 100),
            shortened(f"{'c' * 100}-{'n' * 63}-{'s' * 253}"),
            id="Kubernetes maxima (63-char namespace, 253-char SA) still fit",
        ),
    ],
)
def test_long_name_is_shortened_to_exactly_64(fields: dict[str, str], expected: str) -> None:
    name = role_name(DEFAULT_ROLE_NAME, fields)
    assert name == expected
    assert len(name) == 64
    assert IAM_ROLE_NAME.match(name)


def test_pinned_hash_is_the_sha256_of_the_full_name() -> None:
    assert shortened(LONG_FULL) == "production-eu-west-1-payments-settlement-batch-ledger-r-bdc5e3e8"


def test_long_names_differing_only_at_the_end_stay_different() -> None:
    """Two service accounts whose names differ after the 55th character keep different role names
    (IAM role names are unique per account: the same name would make them share one role)."""
    pairs = [
        ("payments-settlement-batch", "ledger-reconciliation-worker"),
        ("payments-settlement-batch", "ledger-reconciliation-writer"),
    ]
    names = unique_names(DEFAULT_ROLE_NAME, pairs, "production-eu-west-1", source=SOURCE)
    first, second = names[pairs[0]], names[pairs[1]]
    assert first == "production-eu-west-1-payments-settlement-batch-ledger-r-bdc5e3e8"
    assert second == shortened("production-eu-west-1-payments-settlement-batch-ledger-reconciliation-writer")
    assert first[:55] == second[:55]
    assert first.lower() != second.lower()
    assert len(first) == len(second) == 64


# --- template_fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "used"),
    [
        pytest.param(DEFAULT_ROLE_NAME, ("cluster", "namespace", "service_account"), id="default template"),
        pytest.param(
            "{service_account}", ("service_account",), id="service account alone is a valid template"
        ),
        pytest.param(
            "eks-{namespace}-{service_account}",
            ("namespace", "service_account"),
            id="literal text around fields",
        ),
        pytest.param(
            "{{literal}}-{service_account}", ("service_account",), id="doubled braces are literal text"
        ),
    ],
)
def test_template_fields(template: str, used: tuple[str, ...]) -> None:
    assert template_fields(template, source=SOURCE) == used


KNOWN = "(known: {cluster}, {namespace}, {service_account})"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        pytest.param(
            "{team}-{service_account}",
            f"{WHERE}: '{{team}}-{{service_account}}': unknown field {{team}} {KNOWN}",
            id="unknown field {team} is named",
        ),
        pytest.param(
            "{Namespace}-{service_account}",
            f"{WHERE}: '{{Namespace}}-{{service_account}}': unknown field {{Namespace}} {KNOWN}",
            id="fields are case-sensitive",
        ),
        pytest.param(
            "{0}-{service_account}",
            f"{WHERE}: '{{0}}-{{service_account}}': unknown field {{0}} {KNOWN}",
            id="positional field",
        ),
        pytest.param(
            "{service_account!r}",
            f"{WHERE}: '{{service_account!r}}': unknown field {{service_account}} {KNOWN}",
            id="conversion is refused",
        ),
        pytest.param(
            "{service_account:>70}",
            f"{WHERE}: '{{service_account:>70}}': unknown field {{service_account}} {KNOWN}",
            id="format spec is refused",
        ),
        pytest.param(
            "{service_account",
            f"{WHERE}: '{{service_account': expected '}}' before end of string",
            id="broken brace",
        ),
        pytest.param(
            "{cluster}-{namespace}",
            f"{WHERE}: '{{cluster}}-{{namespace}}' must contain {{service_account}}: one role per service account",
            id="without {service_account}: one role per service account is impossible",
        ),
        pytest.param(
            "static-role",
            f"{WHERE}: 'static-role' must contain {{service_account}}: one role per service account",
            id="no field at all",
        ),
    ],
)
def test_bad_template_is_an_input_error(template: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        template_fields(template, source=SOURCE)
    assert str(raised.value) == message
    with pytest.raises(InputError) as again:
        unique_names(template, [("prod", "api")], "c", source=SOURCE)
    assert str(again.value) == message


# --- unique_names ---------------------------------------------------------------------------------------


def test_unique_names_maps_every_service_account() -> None:
    pairs = [("prod", "api"), ("staging", "api"), ("prod", "worker")]
    assert unique_names(DEFAULT_ROLE_NAME, pairs, "eks", source=SOURCE) == {
        ("prod", "api"): "eks-prod-api",
        ("prod", "worker"): "eks-prod-worker",
        ("staging", "api"): "eks-staging-api",
    }


ADVICE = (
    "the template must tell them apart (with {namespace}, and {cluster} when clusters share the account, "
    "separated by a character names do not hold, such as .)"
)


@pytest.mark.parametrize(
    ("template", "pairs", "message"),
    [
        pytest.param(
            "{service_account}",
            [("staging", "api"), ("prod", "api")],
            f"{WHERE}: '{{service_account}}' gives prod/api and staging/api the same role name 'api': {ADVICE}",
            id="same SA name in two namespaces: template without {namespace}",
        ),
        pytest.param(
            "{namespace}-{service_account}",
            [("prod", "api"), ("prod", "API")],
            f"{WHERE}: '{{namespace}}-{{service_account}}' gives prod/API and prod/api the same role name 'prod-api': {ADVICE}",
            id="IAM: role names are unique regardless of case, so prod-API and prod-api collide",
        ),
        pytest.param(
            "{namespace}.{service_account}",
            [("prod", "a/b"), ("prod", "a:b")],
            f"{WHERE}: '{{namespace}}.{{service_account}}' gives prod/a/b and prod/a:b the same role name 'prod.a-b': {ADVICE}",
            id="IAM: names equal once forbidden characters are replaced collide",
        ),
    ],
)
def test_two_service_accounts_with_one_name_is_an_input_error(
    template: str, pairs: Sequence[tuple[str, str]], message: str
) -> None:
    with pytest.raises(InputError) as raised:
        unique_names(template, pairs, "eks", source=SOURCE)
    assert str(raised.value) == message


def test_default_template_collision_names_both_service_accounts() -> None:
    """`-` may appear in Kubernetes names, so prod/a-b and prod-a/b both give eks-prod-a-b: refused,
    not silently renamed (a rename would make Terraform replace a role a workload uses)."""
    with pytest.raises(InputError) as raised:
        unique_names(DEFAULT_ROLE_NAME, [("prod-a", "b"), ("prod", "a-b")], "eks", source=SOURCE)
    assert str(raised.value).startswith(
        f"{WHERE}: '{DEFAULT_ROLE_NAME}' gives prod/a-b and prod-a/b the same role name 'eks-prod-a-b': "
    )


# --- through the plan -----------------------------------------------------------------------------------


def _plan_state(root: Path, service_accounts: Sequence[tuple[str, str]]) -> State:
    state = State(root)
    state.secret("db")
    for namespace, sa in service_accounts:
        state.spc(namespace, sa, objects("db"))
        state.workload("Deployment", namespace, sa, sa, sa)
    state.write()
    return state


@pytest.mark.parametrize(
    ("config", "service_accounts", "arns"),
    [
        pytest.param(
            Config(cluster_name=CLUSTER),
            [("prod", "api")],
            {"prod/api": f"arn:aws:iam::{ACCOUNT}:role/test-cluster-prod-api"},
            id="default template with the snapshot's cluster name",
        ),
        pytest.param(
            Config(cluster_name=CLUSTER, role_path="/eks/secrets/"),
            [("prod", "api")],
            {"prod/api": f"arn:aws:iam::{ACCOUNT}:role/eks/secrets/test-cluster-prod-api"},
            id="IAM: a role path sits between role/ and the name in the ARN",
        ),
        pytest.param(
            Config(cluster_name=CLUSTER, role_name="{namespace}.{service_account}"),
            [("prod", "api"), ("staging", "api")],
            {
                "prod/api": f"arn:aws:iam::{ACCOUNT}:role/prod.api",
                "staging/api": f"arn:aws:iam::{ACCOUNT}:role/staging.api",
            },
            id="configured template",
        ),
        pytest.param(
            Config(cluster_name=CLUSTER),
            [("payments-settlement-batch", "ledger-reconciliation-worker-with-a-long-name")],
            {
                "payments-settlement-batch/ledger-reconciliation-worker-with-a-long-name": f"arn:aws:iam::{ACCOUNT}:role/"
                + shortened(
                    "test-cluster-payments-settlement-batch-ledger-reconciliation-worker-with-a-long-name"
                )
            },
            id="IAM: a long name is shortened in the role ARN too",
        ),
    ],
)
def test_plan_role_names(
    tmp_path: Path, config: Config, service_accounts: Sequence[tuple[str, str]], arns: dict[str, str]
) -> None:
    state = _plan_state(tmp_path, service_accounts)
    plan = plan_roles(load_inventory(sources(state.root, (), None), InputReader()), config)
    assert {r.key: r.role_arn for r in plan.roles} == arns
    assert all(r.role_arn.endswith("/" + r.role_name) for r in plan.roles)


def test_plan_refuses_a_template_that_merges_two_service_accounts(tmp_path: Path) -> None:
    state = _plan_state(tmp_path, [("prod", "api"), ("staging", "api")])
    inventory = load_inventory(sources(state.root, (), None), InputReader())
    config = Config(cluster_name=CLUSTER, region=REGION, role_name="{cluster}-{service_account}")
    with pytest.raises(InputError) as raised:
        plan_roles(inventory, config, service_accounts=["prod/api"], config_source=SOURCE)
    # every service account counts, even one the filter leaves out: its role would share the name
    assert str(raised.value) == (
        f"{WHERE}: '{{cluster}}-{{service_account}}' gives prod/api and staging/api the same role name "
        f"'test-cluster-api': {ADVICE}"
    )
