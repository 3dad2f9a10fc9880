"""`iamscope.auto.tfvars.json`: the inputs of the root module in `terraform/`, which builds the same
documents as `documents.py` from these lists. Keys of `service_accounts` are `<namespace>/<name>`,
as the module's `role_arns` output is keyed."""

from __future__ import annotations

from typing import Any

from iamscope.generate.plan import GeneratePlan, RolePlan


def role_inputs(role: RolePlan) -> dict[str, Any]:
    return {
        "namespace": role.namespace,
        "service_account": role.service_account,
        "role_name": role.role_name,
        "irsa": role.irsa,
        "pod_identity": role.pod_identity,
        "secret_arns": list(role.secret_arns),
        "parameter_arns": list(role.parameter_arns),
        "secret_kms_key_arns": list(role.secret_key_arns),
        "parameter_kms_key_arns": list(role.parameter_key_arns),
    }


def module_tfvars(plan: GeneratePlan) -> dict[str, Any]:
    return {
        "account_id": plan.account,
        "region": plan.region,
        "cluster_name": plan.cluster_name,
        "cluster_arn": plan.cluster_arn,
        "oidc_provider_arn": plan.oidc_provider_arn,
        "role_path": plan.config.role_path,
        "permissions_boundary_arn": plan.config.permissions_boundary,
        "tags": dict(plan.config.tags),
        "service_accounts": {role.key: role_inputs(role) for role in plan.roles},
    }
