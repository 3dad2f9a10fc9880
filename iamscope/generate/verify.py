"""Each generated role checked against the snapshot before anything is written, with the same access
calculation the scan uses: the role as Terraform will create it (identity policy, permissions
boundary, Pod Identity session tags) against each object's resource policy and key policy. What the
role still could not do (a secret whose resource policy names only the old role, a key whose policy
does not let IAM grant) is said, since no identity policy can fix it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from iamscope.access import ASCP_ACTIONS, AccessCalculator, Catalogue
from iamscope.config import Config
from iamscope.generate.documents import identity_policy, trust_policy
from iamscope.generate.plan import GeneratePlan, RolePlan, plan_roles
from iamscope.kms import SECRETSMANAGER, SSMPARAMETER
from iamscope.model import InlinePolicy, Inventory, Role
from iamscope.policy.document import parse_policy

POLICY_NAME = "secrets-store-csi"  # the inline policy terraform/ creates
INLINE_LIMIT = 10_240  # IAM quota: characters of a role's inline policies together, whitespace aside


def generated_role(role: RolePlan, plan: GeneratePlan) -> Role:
    return Role(
        arn=role.role_arn,
        name=role.role_name,
        path=plan.config.role_path,
        trust=parse_policy(trust_policy(role, plan), name=f"{role.id} trust", kind="trust"),
        inline=(
            InlinePolicy(
                id=f"{role.role_arn}#{POLICY_NAME}",
                name=POLICY_NAME,
                document=parse_policy(identity_policy(role), name=f"{role.id} policy", kind="identity"),
            ),
        ),
        attached=(),
        boundary=plan.config.permissions_boundary,
        instance_profiles=(),
        tags=plan.config.tags,
    )


def _session_tags(role: RolePlan, plan: GeneratePlan) -> dict[str, str] | None:
    if not role.pod_identity or role.irsa:
        return None  # IRSA sessions carry no tags; a mixed role must work without them
    return {
        "kubernetes-namespace": role.namespace,
        "kubernetes-service-account": role.service_account,
        "eks-cluster-name": plan.cluster_name or "",
        "eks-cluster-arn": plan.cluster_arn or "",
    }


def refusals(plan: GeneratePlan, inventory: Inventory) -> tuple[str, ...]:
    """What each generated role would still be refused on the objects it needs, in words."""
    if not plan.roles:
        return ()
    new = {r.role_arn: generated_role(r, plan) for r in plan.roles}
    roles = tuple(r for r in inventory.aws.roles if r.arn not in new) + tuple(new.values())
    with_roles = replace(inventory, aws=replace(inventory.aws, roles=roles))
    declared = [arn for r in plan.roles for arn in (*r.secret_arns, *r.parameter_arns)]
    calculator = AccessCalculator(with_roles, Catalogue(with_roles, declared))
    boundary_known = plan.config.permissions_boundary is None or any(
        p.arn == plan.config.permissions_boundary for p in inventory.aws.managed_policies
    )
    notes: list[str] = []
    if not boundary_known and inventory.aws.managed_policies:
        notes.append(
            f"the permissions boundary {plan.config.permissions_boundary} is not in the snapshot: "
            "the generated roles could not be checked against it"
        )
    for role in plan.roles:
        size = len(json.dumps(identity_policy(role), separators=(",", ":")))
        if size > INLINE_LIMIT:
            notes.append(
                f"{role.id}: its policy is {size:,} characters, over the {INLINE_LIMIT:,} IAM allows for "
                "a role's inline policies: Terraform's apply will fail; split the workloads' secrets across "
                "service accounts"
            )
        access = calculator.access(role.role_arn, _session_tags(role, plan))
        for kind, arns in ((SECRETSMANAGER, role.secret_arns), (SSMPARAMETER, role.parameter_arns)):
            for arn in arns:
                grant = access.grants.get(arn)
                refused = [
                    action
                    for action in ASCP_ACTIONS[kind]
                    if grant is None or (a := grant.action(action)) is None or a.outcome != "allowed"
                ]
                if (
                    grant is not None
                    and grant.needs_key
                    and (grant.decrypt is None or grant.decrypt.outcome != "allowed")
                ):
                    refused.append(f"kms:Decrypt on {grant.needs_key}")
                if refused and boundary_known:
                    notes.append(_refusal(role, arn, refused, inventory, plan.config.permissions_boundary))
    return tuple(notes)


def _refusal(role: RolePlan, arn: str, refused: list[str], inventory: Inventory, boundary: str | None) -> str:
    secret = next((s for s in inventory.aws.secrets if s.arn == arn), None)
    where = []
    if secret is not None and secret.resource_policy is not None:
        where.append("the secret's resource policy")
    if any(a.startswith("kms:") for a in refused):
        where.append("the key policy")
    if boundary is not None:
        where.append(f"the permissions boundary {boundary}")
    return (
        f"{role.id}: the generated role {role.role_arn} would still be refused {', '.join(refused)} on "
        f"{arn}: {' or '.join(where) or 'a policy outside the role'} does not allow it; grant the role "
        "there before rolling it out"
    )


def verified_plan(
    inventory: Inventory,
    config: Config,
    *,
    workloads: Sequence[str] = (),
    service_accounts: Sequence[str] = (),
    config_source: str = "the configuration",
) -> GeneratePlan:
    """`plan_roles`, with what the snapshot would still refuse the generated roles among its warnings."""
    plan = plan_roles(
        inventory, config, workloads=workloads, service_accounts=service_accounts, config_source=config_source
    )
    return replace(plan, warnings=plan.warnings + refusals(plan, inventory))
