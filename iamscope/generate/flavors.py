"""Inputs for the community modules platform teams already run, one directory per flavor under
`flavors/`: `iamscope.auto.tfvars.json` (a map `roles` of each module's inputs, keyed
`<namespace>/<service-account>`) and a `main.tf` that instantiates the module once per role.

Each flavor grants the least privilege through the module's explicit route by default (our policy
as `role_policy_arns` for v5, `inline_policy_permissions` for v6, `policy_statements` for Pod
Identity). Its external-secrets policy (`use_external_secrets_policy = true`) is fed the exact ARN
lists, never its wildcard defaults, but grants more than ASCP needs: the README says what."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from iamscope.generate.documents import identity_policy, pod_identity_statement
from iamscope.generate.naming import role_name
from iamscope.generate.plan import GeneratePlan, RolePlan

IRSA_V5 = "irsa-v5"
IRSA_V6 = "irsa-v6"
POD_IDENTITY = "pod-identity"
FLAVORS: tuple[str, ...] = (IRSA_V5, IRSA_V6, POD_IDENTITY)


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _keys(role: RolePlan) -> list[str]:
    return sorted({*role.secret_key_arns, *role.parameter_key_arns})


def _external_secrets(role: RolePlan) -> dict[str, Any]:
    """The module's external-secrets lists, always explicit: its defaults (v5) are wildcards."""
    return {
        "external_secrets_secrets_manager_arns": list(role.secret_arns),
        "external_secrets_ssm_parameter_arns": list(role.parameter_arns),
        "external_secrets_kms_key_arns": _keys(role),
    }


def _statements(role: RolePlan) -> list[dict[str, Any]]:
    """Our identity policy as the modules' statement objects (sid, actions, resources, condition)."""
    out = []
    for s in identity_policy(role)["Statement"]:
        statement: dict[str, Any] = {"sid": s["Sid"], "actions": s["Action"], "resources": s["Resource"]}
        conditions = s.get("Condition", {})
        statement["condition"] = [
            {"test": test, "variable": key, "values": values if isinstance(values, list) else [values]}
            for test, block in sorted(conditions.items())
            for key, values in sorted(block.items())
        ]
        out.append(statement)
    return out


def _oidc_providers(role: RolePlan, plan: GeneratePlan) -> dict[str, Any]:
    return {
        "this": {
            "provider_arn": plan.oidc_provider_arn,
            "namespace_service_accounts": [f"{role.namespace}:{role.service_account}"],
        }
    }


def _irsa_v5(role: RolePlan, plan: GeneratePlan) -> dict[str, Any]:
    return {
        "role_name": role.role_name,
        "role_path": plan.config.role_path,
        "role_permissions_boundary_arn": plan.config.permissions_boundary,
        "oidc_providers": _oidc_providers(role, plan),
        "tags": dict(plan.config.tags),
        # not a module input: the policy main.tf creates and attaches through role_policy_arns
        "iamscope_policy": json.dumps(identity_policy(role), sort_keys=True),
        **_external_secrets(role),
    }


def _irsa_v6(role: RolePlan, plan: GeneratePlan) -> dict[str, Any]:
    return {
        "name": role.role_name,
        "use_name_prefix": False,
        "path": plan.config.role_path,
        "permissions_boundary": plan.config.permissions_boundary,
        "oidc_providers": _oidc_providers(role, plan),
        "tags": dict(plan.config.tags),
        "inline_policy_permissions": {s["sid"]: s for s in _statements(role)},
        **_external_secrets(role),
    }


def _pod_identity(role: RolePlan, plan: GeneratePlan) -> dict[str, Any]:
    # the module's trust has no condition of its own: ours keeps other associations out
    trust = pod_identity_statement(role, plan)["Condition"]["StringEquals"]
    name = role.role_name if not role.irsa else role_name("{name}-pod-identity", {"name": role.role_name})
    return {
        "name": name,
        "use_name_prefix": False,
        "path": plan.config.role_path,
        "permissions_boundary_arn": plan.config.permissions_boundary,
        "tags": dict(plan.config.tags),
        "associations": {
            "this": {
                "cluster_name": plan.cluster_name,
                "namespace": role.namespace,
                "service_account": role.service_account,
            }
        },
        "trust_policy_conditions": [
            {"test": "StringEquals", "variable": key, "values": [value]}
            for key, value in sorted(trust.items())
        ],
        "policy_statements": _statements(role),
        **_external_secrets(role),
    }


_INPUTS = {IRSA_V5: _irsa_v5, IRSA_V6: _irsa_v6, POD_IDENTITY: _pod_identity}

_HEADER = """\
# Written by `iamscope generate --flavor {flavor}`.
# One {module} module per service account, from iamscope.auto.tfvars.json beside this file. Copy both
# into your configuration (with your provider and backend), then `terraform init && terraform apply`.
#
# By default each role gets exactly the policy iamscope generated. use_external_secrets_policy = true
# uses the module's external-secrets policy instead, fed the same explicit ARN lists; it grants more
# than ASCP needs (see iamscope's README, "Community modules").

variable "roles" {{
  description = "Module inputs per role, keyed \\"<namespace>/<service-account>\\" (written by iamscope)."
  type        = any
}}

variable "use_external_secrets_policy" {{
  description = "Use the module's external-secrets policy instead of iamscope's exact policy."
  type        = bool
  default     = false
}}
"""

_MODULES = {
    IRSA_V5: """
# v5's external-secrets policy keeps a statement for an empty list, which IAM rejects: use it only for
# roles that read secrets, parameters and KMS keys alike.
resource "aws_iam_policy" "iamscope" {
  for_each = var.use_external_secrets_policy ? {} : var.roles

  name   = "${each.value.role_name}-secrets-store-csi"
  path   = each.value.role_path
  policy = each.value.iamscope_policy
  tags   = each.value.tags
}

module "irsa" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version  = "~> 5.30"
  for_each = var.roles

  role_name                     = each.value.role_name
  role_path                     = each.value.role_path
  role_permissions_boundary_arn = each.value.role_permissions_boundary_arn
  oidc_providers                = each.value.oidc_providers
  tags                          = each.value.tags

  role_policy_arns = var.use_external_secrets_policy ? {} : {
    secrets_store_csi = aws_iam_policy.iamscope[each.key].arn
  }

  attach_external_secrets_policy        = var.use_external_secrets_policy
  external_secrets_secrets_manager_arns = each.value.external_secrets_secrets_manager_arns
  external_secrets_ssm_parameter_arns   = each.value.external_secrets_ssm_parameter_arns
  external_secrets_kms_key_arns         = each.value.external_secrets_kms_key_arns
}

output "role_arns" {
  description = "The role ARN of each service account."
  value       = { for key, role in module.irsa : key => role.iam_role_arn }
}
""",
    IRSA_V6: """
module "irsa" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version  = "~> 6.0"
  for_each = var.roles

  name                 = each.value.name
  use_name_prefix      = each.value.use_name_prefix
  path                 = each.value.path
  permissions_boundary = each.value.permissions_boundary
  oidc_providers       = each.value.oidc_providers
  tags                 = each.value.tags

  create_inline_policy      = !var.use_external_secrets_policy
  inline_policy_permissions = var.use_external_secrets_policy ? null : each.value.inline_policy_permissions

  attach_external_secrets_policy        = var.use_external_secrets_policy
  policy_name                           = "${each.value.name}-external-secrets"
  external_secrets_secrets_manager_arns = each.value.external_secrets_secrets_manager_arns
  external_secrets_ssm_parameter_arns   = each.value.external_secrets_ssm_parameter_arns
  external_secrets_kms_key_arns         = each.value.external_secrets_kms_key_arns
}

output "role_arns" {
  description = "The role ARN of each service account."
  value       = { for key, role in module.irsa : key => role.arn }
}
""",
    POD_IDENTITY: """
# With the external-secrets policy, an empty external_secrets_kms_key_arns means kms:Decrypt on every
# key of every account: keep iamscope's policy for roles whose secrets use no customer-managed key.
module "pod_identity" {
  source   = "terraform-aws-modules/eks-pod-identity/aws"
  version  = "~> 2.0"
  for_each = var.roles

  name                     = each.value.name
  use_name_prefix          = each.value.use_name_prefix
  path                     = each.value.path
  permissions_boundary_arn = each.value.permissions_boundary_arn
  tags                     = each.value.tags
  associations             = each.value.associations
  trust_policy_conditions  = each.value.trust_policy_conditions

  attach_custom_policy = !var.use_external_secrets_policy
  policy_statements    = var.use_external_secrets_policy ? null : each.value.policy_statements

  attach_external_secrets_policy        = var.use_external_secrets_policy
  external_secrets_secrets_manager_arns = each.value.external_secrets_secrets_manager_arns
  external_secrets_ssm_parameter_arns   = each.value.external_secrets_ssm_parameter_arns
  external_secrets_kms_key_arns         = each.value.external_secrets_kms_key_arns
}

output "role_arns" {
  description = "The role ARN of each service account."
  value       = { for key, role in module.pod_identity : key => role.iam_role_arn }
}
""",
}

_MODULE_NAMES = {
    IRSA_V5: "terraform-aws-modules/iam iam-role-for-service-accounts-eks (v5)",
    IRSA_V6: "terraform-aws-modules/iam iam-role-for-service-accounts (v6)",
    POD_IDENTITY: "terraform-aws-modules/eks-pod-identity",
}


def flavor_roles(plan: GeneratePlan, flavor: str) -> dict[str, dict[str, Any]]:
    """The module inputs of each role the flavor covers: IRSA flavors take the service accounts ASCP
    reaches through IRSA, the Pod Identity flavor those with usePodIdentity."""
    make = _INPUTS[flavor]
    covered = [r for r in plan.roles if (r.pod_identity if flavor == POD_IDENTITY else r.irsa)]
    return {role.key: make(role, plan) for role in covered}


def flavor_files(plan: GeneratePlan, flavor: str) -> dict[str, str]:
    main = _HEADER.format(flavor=flavor, module=_MODULE_NAMES[flavor]) + _MODULES[flavor]
    return {
        f"flavors/{flavor}/main.tf": main,
        f"flavors/{flavor}/iamscope.auto.tfvars.json": _dump({"roles": flavor_roles(plan, flavor)}),
    }


MANAGED_LIMIT = 6_144  # IAM quota: characters of a managed policy, whitespace aside


def flavor_warnings(plan: GeneratePlan, flavors: Sequence[str]) -> list[str]:
    """The v5 and Pod Identity flavors carry the policy as a managed policy, whose quota is lower than
    the inline policies' of terraform/."""
    notes = []
    for flavor in (f for f in flavors if f in (IRSA_V5, POD_IDENTITY)):
        covered = [r for r in plan.roles if (r.pod_identity if flavor == POD_IDENTITY else r.irsa)]
        for role in covered:
            size = len(json.dumps(identity_policy(role), separators=(",", ":")))
            if size > MANAGED_LIMIT:
                notes.append(
                    f"{role.id}: its policy is {size:,} characters, over the {MANAGED_LIMIT:,} IAM "
                    f"allows for the managed policy the {flavor} flavor creates: apply will fail"
                )
    return notes
