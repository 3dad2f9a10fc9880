# Case update-delete: planned against the state that applied/main.tf left in moto. Compared with it, this
# widens read-reports to secretsmanager:*, retags prod-reports, deletes the inline policy "legacy", the
# audit-read policy and its attachment, and the role old-batch with its inline policy; prod-unchanged is a
# no-op. plan.json produced offline (Terraform 1.11.4, hashicorp/aws 5.100.0) against moto in server mode:
#   MOTO_ACCOUNT_ID=111122223333 python -m moto.server -H 127.0.0.1 -p 45731 &
#   (cd applied && terraform init -plugin-dir=/opt/tf-plugins && terraform apply -auto-approve)
#   cp applied/terraform.tfstate . && terraform init -plugin-dir=/opt/tf-plugins
#   terraform plan -out=tfplan && terraform show -json tfplan > plan.json

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
  trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::${local.account}:oidc-provider/${local.issuer}" }
      Condition = {
        StringEquals = {
          "${local.issuer}:sub" = "system:serviceaccount:prod:reports"
          "${local.issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "aws_iam_role" "reports" {
  name               = "prod-reports"
  assume_role_policy = local.trust
  tags = {
    team = "analytics"
  }
}

resource "aws_iam_role" "unchanged" {
  name               = "prod-unchanged"
  assume_role_policy = local.trust
}

resource "aws_iam_role_policy" "unchanged" {
  name = "read-own"
  role = aws_iam_role.unchanged.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = "arn:aws:secretsmanager:eu-west-1:${local.account}:secret:prod/unchanged-??????" }]
  })
}

data "aws_iam_policy_document" "read" {
  statement {
    actions   = ["secretsmanager:*"]
    resources = ["arn:aws:secretsmanager:eu-west-1:${local.account}:secret:prod/reports/*"]
  }
}

resource "aws_iam_role_policy" "read" {
  name   = "read-reports"
  role   = aws_iam_role.reports.id
  policy = data.aws_iam_policy_document.read.json
}
