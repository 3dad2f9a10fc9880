# One IAM role per Kubernetes service account that mounts AWS secrets through the Secrets Store CSI
# Driver's AWS provider (ASCP), from the inputs `iamscope generate` writes (iamscope.auto.tfvars.json).
#
# The documents below are the ones iamscope writes to policies/ and trust/ (a test plans this module
# and compares them): ASCP's calls on exactly the declared ARNs, and a trust that admits exactly one
# service account.

provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}

locals {
  # the issuer as IAM condition keys spell it: the provider ARN after "oidc-provider/"
  oidc_issuer = var.oidc_provider_arn == null ? "" : split(":oidc-provider/", var.oidc_provider_arn)[1]

  # Statements whose Resource list is empty are left out, as generate leaves them out.
  identity_policies = {
    for key, sa in var.service_accounts : key => {
      Version = "2012-10-17"
      Statement = [for statement in [
        {
          Sid      = "ReadSecrets"
          Effect   = "Allow"
          Action   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
          Resource = sort(distinct(sa.secret_arns))
        },
        {
          Sid      = "ReadParameters"
          Effect   = "Allow"
          Action   = ["ssm:GetParameters"]
          Resource = sort(distinct(sa.parameter_arns))
        },
        {
          Sid      = "DecryptSecrets"
          Effect   = "Allow"
          Action   = ["kms:Decrypt"]
          Resource = sort(distinct(sa.secret_kms_key_arns))
          # a key decrypts for a service in its own region (field 4 of the key ARN)
          Condition = { StringEquals = { "kms:ViaService" = sort(distinct([
            for arn in sa.secret_kms_key_arns : "secretsmanager.${split(":", arn)[3]}.amazonaws.com"
          ])) } }
        },
        {
          Sid      = "DecryptParameters"
          Effect   = "Allow"
          Action   = ["kms:Decrypt"]
          Resource = sort(distinct(sa.parameter_kms_key_arns))
          Condition = { StringEquals = { "kms:ViaService" = sort(distinct([
            for arn in sa.parameter_kms_key_arns : "ssm.${split(":", arn)[3]}.amazonaws.com"
          ])) } }
        },
      ] : statement if length(statement.Resource) > 0]
    }
  }

  trust_policies = {
    for key, sa in var.service_accounts : key => {
      Version = "2012-10-17"
      Statement = [for statement in [
        {
          enabled   = sa.irsa
          Sid       = "ServiceAccountIrsa"
          Effect    = "Allow"
          Principal = { Federated = var.oidc_provider_arn }
          Action    = ["sts:AssumeRoleWithWebIdentity"]
          Condition = { StringEquals = {
            "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
            "${local.oidc_issuer}:sub" = "system:serviceaccount:${sa.namespace}:${sa.service_account}"
          } }
        },
        {
          enabled   = sa.pod_identity
          Sid       = "ServiceAccountPodIdentity"
          Effect    = "Allow"
          Principal = { Service = "pods.eks.amazonaws.com" }
          Action    = ["sts:AssumeRole", "sts:TagSession"]
          # EKS Pod Identity passes these session tags; they keep every other association out
          Condition = { StringEquals = {
            "aws:RequestTag/eks-cluster-arn"            = var.cluster_arn
            "aws:RequestTag/kubernetes-namespace"       = sa.namespace
            "aws:RequestTag/kubernetes-service-account" = sa.service_account
          } }
        },
      ] : { for k, v in statement : k => v if k != "enabled" } if statement.enabled]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = var.service_accounts

  name                 = each.value.role_name
  path                 = var.role_path
  description          = "ASCP reads the secrets of ${each.key} (written by iamscope generate)"
  assume_role_policy   = jsonencode(local.trust_policies[each.key])
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = data.aws_caller_identity.current.account_id == var.account_id
      error_message = "The provider's credentials are for account ${data.aws_caller_identity.current.account_id}, but the roles were generated for ${var.account_id}."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = var.service_accounts

  name   = "secrets-store-csi"
  role   = aws_iam_role.this[each.key].id
  policy = jsonencode(local.identity_policies[each.key])
}

resource "aws_eks_pod_identity_association" "this" {
  for_each = {
    for key, sa in var.service_accounts : key => sa if sa.pod_identity && var.create_pod_identity_associations
  }

  cluster_name    = var.cluster_name
  namespace       = each.value.namespace
  service_account = each.value.service_account
  role_arn        = aws_iam_role.this[each.key].arn
  tags            = var.tags
}
