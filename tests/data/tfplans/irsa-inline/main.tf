# Case irsa-inline: a root-module IRSA role whose inline policy comes from a data "aws_iam_policy_document",
# plus a legacy role with a deprecated inline_policy block and managed_policy_arns.
# plan.json produced offline (Terraform 1.11.4, hashicorp/aws 5.100.0) against moto in server mode:
#   MOTO_ACCOUNT_ID=111122223333 python -m moto.server -H 127.0.0.1 -p 45731 &
#   terraform init -plugin-dir=/opt/tf-plugins && terraform plan -out=tfplan && terraform show -json tfplan > plan.json

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    iam            = "http://127.0.0.1:45731"
    sts            = "http://127.0.0.1:45731"
    secretsmanager = "http://127.0.0.1:45731"
  }
}

locals {
  account = "111122223333"
  issuer  = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
}

data "aws_iam_policy_document" "trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::${local.account}:oidc-provider/${local.issuer}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = ["system:serviceaccount:prod:api"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "read" {
  statement {
    sid       = "ReadDb"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = ["arn:aws:secretsmanager:eu-west-1:${local.account}:secret:prod/api/db-??????"]
  }
}

resource "aws_iam_role" "api" {
  name                 = "prod-api"
  path                 = "/irsa/"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  permissions_boundary = "arn:aws:iam::${local.account}:policy/boundary"
  tags = {
    team = "payments"
  }
}

resource "aws_iam_role_policy" "read" {
  name   = "read-secrets"
  role   = aws_iam_role.api.id
  policy = data.aws_iam_policy_document.read.json
}

resource "aws_iam_role" "legacy" {
  name = "legacy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ec2.amazonaws.com" }
    }]
  })
  inline_policy {
    name = "legacy-read"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = "secretsmanager:GetSecretValue"
        Resource = "arn:aws:secretsmanager:eu-west-1:${local.account}:secret:legacy/*"
      }]
    })
  }
  managed_policy_arns = ["arn:aws:iam::aws:policy/SecretsManagerReadWrite"]
}
