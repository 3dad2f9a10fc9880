# Access decided outside IAM roles, planned against the demo's account (fixtures/demo): a secret's
# resource policy now grants the refunds role, a Pod Identity association gives analytics/dashboards
# the reporting role, and a KMS key policy changes. Produced like fixtures/demo-pr/plan.sh does, with
# this directory as the configuration.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "eu-west-1"
}

resource "aws_secretsmanager_secret_policy" "db" {
  secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/db-Xy12Ab"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "RefundsToo"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111122223333:role/eks/prod-eu-refunds" }
      Action    = "secretsmanager:GetSecretValue"
      Resource  = "*"
    }]
  })
}

resource "aws_eks_pod_identity_association" "dashboards" {
  cluster_name    = "prod-eu"
  namespace       = "analytics"
  service_account = "dashboards"
  role_arn        = "arn:aws:iam::111122223333:role/eks/prod-eu-reporting"
}

resource "aws_kms_key_policy" "payments" {
  key_id = "0f2c7a4e-9d1b-4c55-8e2a-31b7f5d0c9aa"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Account"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111122223333:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
