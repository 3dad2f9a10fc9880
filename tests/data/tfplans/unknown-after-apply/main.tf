# Case unknown-after-apply: an inline policy whose Resource is the ARN of an aws_secretsmanager_secret
# created in the same plan (so the policy is known only after apply), a known inline policy beside it,
# and a role named by name_prefix (its name, and so its ARN, is known only after apply).
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

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

resource "aws_secretsmanager_secret" "db" {
  name = "prod/billing/db"
}

resource "aws_iam_role" "billing" {
  name               = "prod-billing"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

data "aws_iam_policy_document" "read_db" {
  statement {
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [aws_secretsmanager_secret.db.arn]
  }
}

resource "aws_iam_role_policy" "read_db" {
  name   = "read-db"
  role   = aws_iam_role.billing.name
  policy = data.aws_iam_policy_document.read_db.json
}

resource "aws_iam_role_policy" "list" {
  name = "list-secrets"
  role = aws_iam_role.billing.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "secretsmanager:ListSecrets", Resource = "*" }]
  })
}

resource "aws_iam_role" "generated" {
  name_prefix        = "batch-"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "generated" {
  name = "read-all"
  role = aws_iam_role.generated.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = "*" }]
  })
}
