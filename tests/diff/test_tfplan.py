"""The Terraform plan overlay (iamscope.aws.tfplan): real `terraform show -json` plans under
tests/data/tfplans/<case>/ (each made offline against moto, as its main.tf says), overlaid on small AWS
snapshots built in the AWS CLI's shape, plus hand-made plans for the corners Terraform rarely prints."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from iamscope.aws.snapshot import RawFile, build_aws_inventory
from iamscope.aws.tfplan import overlay_plan
from iamscope.errors import InputError
from iamscope.model import AwsInventory, Role

PLANS = Path(__file__).resolve().parent.parent / "data" / "tfplans"
ACCOUNT = "111122223333"
GET = "secretsmanager:GetSecretValue"
DESCRIBE = "secretsmanager:DescribeSecret"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
EMPTY = AwsInventory(account=ACCOUNT)


def plan(case: str) -> Any:
    return json.loads((PLANS / case / "plan.json").read_text())


def role_arn(name: str, path: str = "/", account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"


def policy_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"


def secret(name: str) -> str:
    return f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:{name}"


def document(*statements: tuple[str | list[str], str | list[str]]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in statements],
    }


def trust_document(sa: str = "prod:api") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": PROVIDER},
                "Condition": {"StringEquals": {f"{ISSUER}:sub": f"system:serviceaccount:{sa}"}},
            }
        ],
    }


def snapshot(roles: Sequence[dict[str, Any]], policies: Sequence[dict[str, Any]] = ()) -> AwsInventory:
    """An AWS inventory from `aws iam get-account-authorization-details` output."""
    data = {"RoleDetailList": roles, "Policies": list(policies), "UserDetailList": [], "GroupDetailList": []}
    return build_aws_inventory({"authorization": [RawFile("aws/iam-authorization-details.json", data)]})


def snapshot_role(
    name: str,
    *,
    path: str = "/",
    inline: dict[str, dict[str, Any]] | None = None,
    attached: Sequence[str] = (),
    profiles: Sequence[str] = (),
    account: str = ACCOUNT,
    partition: str = "aws",
) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Path": path,
        "Arn": f"arn:{partition}:iam::{account}:role{path}{name}",
        "AssumeRolePolicyDocument": trust_document(),
        "RolePolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyArn": a, "PolicyName": a.rsplit("/", 1)[-1]} for a in attached],
        "InstanceProfileList": [{"Arn": p} for p in profiles],
        "Tags": [],
    }


def snapshot_policy(arn: str, doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "Arn": arn,
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": doc}],
    }


def statements(doc: Any) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    return [(s.actions or (), s.resources or ()) for s in doc.statements]


def summary(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "path": role.path,
        "inline": {p.name: statements(p.document) for p in role.inline},
        "attached": list(role.attached),
        "boundary": role.boundary,
        "tags": dict(role.tags),
        "trusts": None if role.trust is None else [s.actions for s in role.trust.statements],
    }


def roles(aws: AwsInventory) -> dict[str, dict[str, Any]]:
    return {r.arn: summary(r) for r in aws.roles}


def managed(aws: AwsInventory) -> dict[str, Any]:
    return {p.arn: statements(p.document) for p in aws.managed_policies}


# --- (1) a root-module IRSA role, an inline policy from a policy document data source -----------------


def test_irsa_role_with_inline_policy_from_a_data_source() -> None:
    result = overlay_plan(plan("irsa-inline"), EMPTY, source="state/terraform-plan.json")
    assert roles(result) == {
        role_arn("prod-api", "/irsa/"): {
            "name": "prod-api",
            "path": "/irsa/",
            "inline": {
                "read-secrets": [((GET, DESCRIBE), (secret("prod/api/db-??????"),))],
            },
            "attached": [],
            "boundary": policy_arn("boundary"),
            "tags": {"team": "payments"},
            "trusts": [("sts:AssumeRoleWithWebIdentity",)],
        },
        role_arn("legacy"): {
            "name": "legacy",
            "path": "/",
            "inline": {"legacy-read": [((GET,), (secret("legacy/*"),))]},
            "attached": ["arn:aws:iam::aws:policy/SecretsManagerReadWrite"],
            "boundary": None,
            "tags": {},
            "trusts": [("sts:AssumeRole",)],
        },
    }
    assert result.plan == "state/terraform-plan.json"
    # an AWS managed policy the snapshot lacks: what it grants is unknown, never taken as nothing
    assert result.unknown == (
        "legacy: the plan attaches arn:aws:iam::aws:policy/SecretsManagerReadWrite, which the snapshot does not hold: what it grants is unknown",
    )
    assert result.managed_policies == ()
    api = next(r for r in result.roles if r.name == "prod-api")
    assert api.inline[0].id == f"{role_arn('prod-api', '/irsa/')}#read-secrets"
    assert api.source == "state/terraform-plan.json"
    assert api.trust is not None
    (statement,) = api.trust.statements
    assert statement.principals is not None
    assert statement.principals.values("Federated") == (PROVIDER,)
    assert sorted((c.key, c.values) for c in statement.conditions) == [
        (f"{ISSUER}:aud", ("sts.amazonaws.com",)),
        (f"{ISSUER}:sub", ("system:serviceaccount:prod:api",)),
    ]


def test_a_planned_role_keeps_what_the_plan_does_not_manage() -> None:
    """prod-api exists with a console-added inline policy, an attachment and an instance profile: the plan
    manages neither (no inline_policy/managed_policy_arns in its configuration), so they stay; legacy
    configures both, which makes them exclusive."""
    aws = snapshot(
        [
            snapshot_role(
                "prod-api",
                path="/irsa/",
                inline={"console": document((GET, "*"))},
                attached=[policy_arn("extra")],
                profiles=["arn:aws:iam::111122223333:instance-profile/api"],
            ),
            snapshot_role("legacy", inline={"old": document((GET, "*"))}, attached=[policy_arn("extra")]),
            snapshot_role("untouched"),
        ],
        [snapshot_policy(policy_arn("extra"), document((DESCRIBE, "*")))],
    )
    result = overlay_plan(plan("irsa-inline"), aws, source="plan.json")
    got = roles(result)
    assert list(got) == [role_arn("prod-api", "/irsa/"), role_arn("legacy"), role_arn("untouched")]
    assert got[role_arn("prod-api", "/irsa/")]["inline"] == {
        "console": [((GET,), ("*",))],
        "read-secrets": [((GET, DESCRIBE), (secret("prod/api/db-??????"),))],
    }
    assert got[role_arn("prod-api", "/irsa/")]["attached"] == [policy_arn("extra")]
    assert got[role_arn("prod-api", "/irsa/")]["tags"] == {"team": "payments"}
    api = next(r for r in result.roles if r.name == "prod-api")
    assert api.instance_profiles == ("arn:aws:iam::111122223333:instance-profile/api",)
    assert got[role_arn("legacy")]["inline"] == {"legacy-read": [((GET,), (secret("legacy/*"),))]}
    assert got[role_arn("legacy")]["attached"] == ["arn:aws:iam::aws:policy/SecretsManagerReadWrite"]
    untouched = next(r for r in result.roles if r.name == "untouched")
    assert untouched == next(r for r in aws.roles if r.name == "untouched")
    assert managed(result) == {policy_arn("extra"): [((DESCRIBE,), ("*",))]}


# --- (2) a child module with for_each: managed policies attached by an ARN known only after apply -------


def test_module_for_each_policies_attached_by_reference() -> None:
    result = overlay_plan(plan("module-for-each"), EMPTY, source="plan.json")
    assert {arn: (r["inline"], r["attached"]) for arn, r in roles(result).items()} == {
        role_arn("jobs-worker"): ({}, [policy_arn("jobs-worker-read", "/irsa/")]),
        role_arn("prod-api"): ({}, [policy_arn("prod-api-read", "/irsa/")]),
    }
    assert managed(result) == {
        policy_arn("jobs-worker-read", "/irsa/"): [
            ((GET, DESCRIBE), (secret("prod/worker/queue-??????"), secret("prod/shared/smtp-??????")))
        ],
        policy_arn("prod-api-read", "/irsa/"): [((GET, DESCRIBE), (secret("prod/api/db-??????"),))],
    }
    assert result.unknown == ()
    worker = next(r for r in result.roles if r.name == "jobs-worker")
    assert worker.trust is not None
    assert [c.values for c in worker.trust.statements[0].conditions if c.key.endswith(":sub")] == [
        ("system:serviceaccount:jobs:worker",)
    ]


def test_partition_comes_from_the_snapshot_roles() -> None:
    aws = snapshot([snapshot_role("old", partition="aws-cn")])
    result = overlay_plan(plan("module-for-each"), aws, source="plan.json")
    assert [r.arn for r in result.roles] == [
        f"arn:aws-cn:iam::{ACCOUNT}:role/jobs-worker",
        f"arn:aws-cn:iam::{ACCOUNT}:role/old",
        f"arn:aws-cn:iam::{ACCOUNT}:role/prod-api",
    ]
    assert [p.arn for p in result.managed_policies] == [
        f"arn:aws-cn:iam::{ACCOUNT}:policy/irsa/jobs-worker-read",
        f"arn:aws-cn:iam::{ACCOUNT}:policy/irsa/prod-api-read",
    ]


def test_without_an_account_nothing_is_made_up() -> None:
    result = overlay_plan(plan("module-for-each"), AwsInventory(), source="plan.json")
    assert result.roles == ()
    assert result.managed_policies == ()
    assert result.unknown == tuple(
        f'module.app["{key}"].{line} is known only after apply'
        for key in ("api", "worker")
        for line in (
            "aws_iam_policy.read: arn",
            "aws_iam_role.this: arn",
            "aws_iam_role_policy_attachment.read: policy_arn",
            "aws_iam_role_policy_attachment.read: role",
        )
    )
    assert result.warnings == ()


def test_a_role_in_neither_the_snapshot_nor_the_plan_is_a_warning() -> None:
    raw = handmade(
        change(
            "aws_iam_role_policy.x",
            ["create"],
            None,
            {"role": "ghost", "name": "p", "policy": json.dumps(document((GET, "*")))},
        )
    )
    result = overlay_plan(raw, EMPTY, source="p.json")
    assert result.roles == ()
    assert result.unknown == ()
    assert [(w.source, w.message) for w in result.warnings] == [
        ("p.json", "aws_iam_role_policy.x: role ghost is in neither the snapshot nor the plan")
    ]


# --- (3) known only after apply -----------------------------------------------------------------------


def test_values_known_only_after_apply_are_named_not_guessed() -> None:
    result = overlay_plan(plan("unknown-after-apply"), EMPTY, source="plan.json")
    assert roles(result) == {
        role_arn("prod-billing"): {
            "name": "prod-billing",
            "path": "/",
            "inline": {"list-secrets": [(("secretsmanager:ListSecrets",), ("*",))]},
            "attached": [],
            "boundary": None,
            "tags": {},
            "trusts": [("sts:TagSession", "sts:AssumeRole")],
        }
    }
    assert result.unknown == (
        "aws_iam_role.generated: name is known only after apply",
        "aws_iam_role_policy.generated: role is known only after apply",
        "aws_iam_role_policy.read_db: policy is known only after apply",
    )


def test_an_unknown_policy_drops_the_old_version_of_that_policy() -> None:
    aws = snapshot([snapshot_role("prod-billing", inline={"read-db": document((GET, "*"))})])
    result = overlay_plan(plan("unknown-after-apply"), aws, source="plan.json")
    assert list(roles(result)[role_arn("prod-billing")]["inline"]) == ["list-secrets"]
    assert "aws_iam_role_policy.read_db: policy is known only after apply" in result.unknown


# --- (4) an update and deletions planned against existing state ----------------------------------------


UPDATED_READ = [(("secretsmanager:*",), (secret("prod/reports/*"),))]


def test_update_and_delete_against_an_empty_snapshot() -> None:
    """No snapshot: the no-op and updated roles come from the plan's refreshed values."""
    result = overlay_plan(plan("update-delete"), EMPTY, source="plan.json")
    got = roles(result)
    assert {arn: (r["inline"], r["attached"], r["tags"]) for arn, r in got.items()} == {
        role_arn("prod-reports"): ({"read-reports": UPDATED_READ}, [], {"team": "analytics"}),
        role_arn("prod-unchanged"): (
            {"read-own": [((GET,), (secret("prod/unchanged-??????"),))]},
            [],
            {},
        ),
    }
    assert got[role_arn("prod-reports")]["trusts"] == [("sts:AssumeRoleWithWebIdentity",)]
    assert result.managed_policies == ()
    assert result.unknown == ()


def applied_snapshot(**extra: Any) -> AwsInventory:
    """The account as update-delete/applied/main.tf left it, with whatever else `extra` adds."""
    audit = policy_arn("audit-read")
    return snapshot(
        [
            snapshot_role(
                "prod-reports",
                inline={
                    "legacy": document((GET, secret("legacy/*"))),
                    "read-reports": document(([GET, DESCRIBE], secret("prod/reports/*"))),
                    **extra.get("inline", {}),
                },
                attached=[audit, *extra.get("attached", [])],
            ),
            snapshot_role(
                "prod-unchanged", inline={"read-own": document((GET, secret("prod/unchanged-??????")))}
            ),
            snapshot_role("old-batch", inline={"read-batch": document((GET, "*"))}),
        ],
        [snapshot_policy(audit, document((DESCRIBE, "*"))), *extra.get("policies", [])],
    )


def test_update_and_delete_against_the_applied_snapshot() -> None:
    result = overlay_plan(plan("update-delete"), applied_snapshot(), source="plan.json")
    assert {arn: (r["inline"], r["attached"]) for arn, r in roles(result).items()} == {
        role_arn("prod-reports"): ({"read-reports": UPDATED_READ}, []),
        role_arn("prod-unchanged"): ({"read-own": [((GET,), (secret("prod/unchanged-??????"),))]}, []),
    }
    assert result.managed_policies == ()
    assert result.unknown == ()


def test_what_the_plan_does_not_manage_survives_an_update() -> None:
    extra = policy_arn("console-extra")
    aws = applied_snapshot(
        inline={"console": document((DESCRIBE, "*"))},
        attached=[extra],
        policies=[snapshot_policy(extra, document((DESCRIBE, "*")))],
    )
    result = overlay_plan(plan("update-delete"), aws, source="plan.json")
    reports = roles(result)[role_arn("prod-reports")]
    assert reports["inline"] == {"console": [((DESCRIBE,), ("*",))], "read-reports": UPDATED_READ}
    assert reports["attached"] == [extra]
    assert list(managed(result)) == [extra]


# --- references through module inputs, outputs and count; exclusive management ------------------------


def test_references_through_modules_and_count() -> None:
    result = overlay_plan(plan("module-references"), EMPTY, source="plan.json")
    assert {arn: (list(r["inline"]), r["attached"]) for arn, r in roles(result).items()} == {
        role_arn("svc"): (["extra"], [policy_arn("shared-read")]),
        role_arn("worker-0"): ([], [policy_arn("worker-0-read"), "arn:aws:iam::aws:policy/ReadOnlyAccess"]),
        role_arn("worker-1"): ([], [policy_arn("shared-read"), policy_arn("worker-1-read")]),
    }
    assert list(managed(result)) == [
        policy_arn("shared-read"),
        policy_arn("worker-0-read"),
        policy_arn("worker-1-read"),
    ]
    # an AWS managed policy the snapshot lacks: what it grants is unknown, never taken as nothing
    assert result.unknown == (
        "worker-0: the plan attaches arn:aws:iam::aws:policy/ReadOnlyAccess, which the snapshot does not hold: what it grants is unknown",
    )


def test_a_role_named_by_a_module_output_known_only_after_apply() -> None:
    """As if module.svc named its role from something unknown: extra's role, and the exclusive resource's
    role_name, are then unknown in the plan and resolved through the module's output."""
    raw = plan("module-references")
    for rc in raw["resource_changes"]:
        after, marks = rc["change"]["after"], rc["change"]["after_unknown"]
        if rc["address"] == "aws_iam_role_policy.extra":
            del after["role"]
            marks["role"] = True
        if rc["address"] == "aws_iam_role_policies_exclusive.svc":
            del after["role_name"]
            marks["role_name"] = True
    aws = snapshot([snapshot_role("svc", inline={"old": document((GET, "*"))})])
    result = overlay_plan(raw, aws, source="plan.json")
    assert roles(result)[role_arn("svc")]["inline"] == {"extra": [((GET,), (secret("shared/*"),))]}
    assert result.unknown == (
        "worker-0: the plan attaches arn:aws:iam::aws:policy/ReadOnlyAccess, which the snapshot does not hold: what it grants is unknown",
    )


def test_exclusive_resources_remove_what_they_do_not_name() -> None:
    aws = snapshot(
        [
            snapshot_role("svc", inline={"old": document((GET, "*"))}),
            snapshot_role("worker-0", attached=[policy_arn("old")]),
            snapshot_role("worker-1", attached=[policy_arn("old")]),
        ]
    )
    result = overlay_plan(plan("module-references"), aws, source="plan.json")
    got = roles(result)
    assert list(got[role_arn("svc")]["inline"]) == ["extra"]
    assert got[role_arn("worker-0")]["attached"] == [
        policy_arn("worker-0-read"),
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]
    # no exclusive resource for worker-1: its old attachment stays
    assert got[role_arn("worker-1")]["attached"] == [
        policy_arn("old"),
        policy_arn("shared-read"),
        policy_arn("worker-1-read"),
    ]


def test_an_unresolvable_reference_is_unknown() -> None:
    raw = plan("module-references")
    for rc in raw["resource_changes"]:
        if rc["address"] == "aws_iam_policy.shared":  # now named by a prefix: its ARN cannot be told
            del rc["change"]["after"]["name"]
            rc["change"]["after_unknown"]["name"] = True
    result = overlay_plan(raw, EMPTY, source="plan.json")
    assert result.unknown == (
        "aws_iam_policy.shared: name is known only after apply",
        "aws_iam_policy_attachment.shared: policy_arn is known only after apply",
        "module.svc.aws_iam_role_policy_attachment.this: policy_arn is known only after apply",
        "worker-0: the plan attaches arn:aws:iam::aws:policy/ReadOnlyAccess, which the snapshot does not hold: what it grants is unknown",
    )
    got = roles(result)
    assert got[role_arn("svc")]["attached"] == []
    assert got[role_arn("worker-1")]["attached"] == [policy_arn("worker-1-read")]


# --- determinism, ignored resources ------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["irsa-inline", "module-for-each", "unknown-after-apply", "update-delete", "module-references"]
)
def test_output_does_not_depend_on_the_order_of_changes(case: str) -> None:
    raw = plan(case)
    expected = overlay_plan(raw, applied_snapshot(), source="plan.json")
    for seed in range(3):
        shuffled = copy.deepcopy(raw)
        random.Random(seed).shuffle(shuffled["resource_changes"])
        assert overlay_plan(shuffled, applied_snapshot(), source="plan.json") == expected


def test_a_plan_with_nothing_planned_changes_nothing() -> None:
    aws = applied_snapshot()
    result = overlay_plan({"format_version": "1.2", "terraform_version": "1.11.4"}, aws, source="p.json")
    assert result.roles == aws.roles
    assert result.managed_policies == aws.managed_policies
    assert (result.plan, result.unknown) == ("p.json", ())


# --- hand-made plans: corners ---------------------------------------------------------------------------


def change(
    address: str, actions: list[str], before: Any, after: Any, after_unknown: Any = None, **extra: Any
) -> dict[str, Any]:
    kind, name = address.split(".")[-2:]
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name.split("[")[0],
        **extra,
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": after_unknown or {},
        },
    }


def handmade(*changes: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"format_version": "1.2", "resource_changes": list(changes), **top}


def test_decoded_policy_objects_are_accepted() -> None:
    raw = handmade(
        change(
            "aws_iam_role_policy.x",
            ["create"],
            None,
            {"role": "prod-unchanged", "name": "obj", "policy": document((GET, "*"))},
        )
    )
    result = overlay_plan(raw, applied_snapshot(), source="p.json")
    assert roles(result)[role_arn("prod-unchanged")]["inline"]["obj"] == [((GET,), ("*",))]


def test_role_replaced_under_a_new_name_and_a_policy_deleted() -> None:
    old = {
        "name": "old-batch",
        "path": "/",
        "arn": role_arn("old-batch"),
        "assume_role_policy": json.dumps(trust_document()),
    }
    new = {**old, "name": "new-batch", "arn": None}
    raw = handmade(
        change(
            "aws_iam_role.batch",
            ["delete", "create"],
            old,
            {k: v for k, v in new.items() if v},
            {"arn": True},
        ),
        change(
            "aws_iam_policy.audit",
            ["delete"],
            {"arn": policy_arn("audit-read"), "name": "audit-read", "path": "/"},
            None,
        ),
    )
    result = overlay_plan(raw, applied_snapshot(), source="p.json")
    assert [r.name for r in result.roles] == ["new-batch", "prod-reports", "prod-unchanged"]
    assert result.managed_policies == ()


def test_deferred_and_forgotten_changes() -> None:
    forgotten = {
        "name": "kept",
        "path": "/",
        "arn": role_arn("kept"),
        "assume_role_policy": json.dumps(trust_document()),
    }
    raw = handmade(
        change("aws_iam_role.kept", ["forget"], forgotten, None),
        deferred_changes=[
            {
                "reason": "provider_config_unknown",
                "resource_change": change("module.m.aws_iam_role_policy.p", ["create"], None, {}),
            }
        ],
    )
    result = overlay_plan(raw, EMPTY, source="p.json")
    assert [r.name for r in result.roles] == ["kept"]
    assert result.unknown == (
        "module.m.aws_iam_role_policy.p: the whole change is known only after apply (deferred: provider_config_unknown)",
    )


def test_configured_inline_policy_known_only_after_apply() -> None:
    after = {
        "name": "r",
        "path": "/",
        "assume_role_policy": json.dumps(trust_document()),
        "inline_policy": [{"name": "p"}],
        "managed_policy_arns": [],
    }
    raw = handmade(
        change("aws_iam_role.r", ["create"], None, after, {"arn": True, "inline_policy": [{"policy": True}]}),
        configuration={
            "root_module": {
                "resources": [
                    {
                        "address": "aws_iam_role.r",
                        "mode": "managed",
                        "type": "aws_iam_role",
                        "name": "r",
                        "expressions": {"inline_policy": [{"name": {"constant_value": "p"}}]},
                    }
                ]
            }
        },
    )
    result = overlay_plan(raw, EMPTY, source="p.json")
    assert roles(result)[role_arn("r")]["inline"] == {}
    assert result.unknown == ("aws_iam_role.r: inline_policy[p].policy is known only after apply",)


def test_other_resource_types_and_data_sources_are_ignored() -> None:
    raw = handmade(
        change("aws_secretsmanager_secret.s", ["create"], None, {"name": "x", "policy": "not json"}),
        {
            **change("data.aws_iam_policy_document.d", ["read"], None, {"json": "{"}),
            "mode": "data",
            "type": "aws_iam_policy_document",
        },
    )
    assert overlay_plan(raw, EMPTY, source="p.json").roles == ()


# --- bad input ----------------------------------------------------------------------------------------


def bad_policy(text: str) -> dict[str, Any]:
    return handmade(
        change(
            'module.app["api"].aws_iam_role_policy.read',
            ["create"],
            None,
            {"role": "prod-unchanged", "name": "x", "policy": text},
        )
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "plan.json: not a Terraform JSON plan: expected an object, got list"),
        (
            {"resource_changes": []},
            "plan.json: not a Terraform JSON plan: no format_version (expected `terraform show -json PLANFILE` output)",
        ),
        (
            {"format_version": "1.2", "resource_changes": {}},
            "plan.json: resource_changes must be a JSON list",
        ),
        (
            {"format_version": "1.2", "resource_changes": ["x"]},
            "plan.json: resource_changes[0]: must be a JSON object",
        ),
        (
            bad_policy('{"Version": "2012-10-17", "Statement": ['),
            'plan.json: module.app["api"].aws_iam_role_policy.read: policy: the policy document is not valid JSON: '
            "Expecting value: line 1 column 41 (char 40)",
        ),
        (
            bad_policy('{"Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue"}]}'),
            'plan.json: module.app["api"].aws_iam_role_policy.read: policy: statement 0: has neither Resource nor NotResource',
        ),
        (
            handmade(change("aws_iam_role.r", ["create"], None, {"name": "r", "assume_role_policy": "nope"})),
            "plan.json: aws_iam_role.r: assume_role_policy: the policy document is not valid JSON: "
            "Expecting value: line 1 column 1 (char 0)",
        ),
        (
            handmade(
                change(
                    "aws_iam_role_policy_attachment.a", ["create"], None, {"role": 3, "policy_arn": "arn:x"}
                )
            ),
            "plan.json: aws_iam_role_policy_attachment.a: role must be a string, got int",
        ),
    ],
)
def test_bad_input(raw: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        overlay_plan(raw, applied_snapshot(), source="plan.json")
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)
    assert caught.value.source == "plan.json"
