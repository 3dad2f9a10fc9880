# Case module-references: values known only after apply that reach IAM resources through module inputs,
# module outputs and count/for_each indexes: a policy created in the root module and attached inside a
# child module (policy_arn = var.policy_arn), an inline policy on a role named by a module output, roles
# created with count, and the exclusive-management resources.
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
  trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = ["sts:AssumeRole", "sts:TagSession"]
      Principal = { Service = "pods.eks.amazonaws.com" }
    }]
  })
  read = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:shared/*" }]
  })
}

resource "aws_iam_policy" "shared" {
  name   = "shared-read"
  policy = local.read
}

module "svc" {
  source     = "./modules/role"
  name       = "svc"
  trust      = local.trust
  policy_arn = aws_iam_policy.shared.arn
}

resource "aws_iam_role_policy" "extra" {
  name   = "extra"
  role   = module.svc.role_name
  policy = local.read
}

resource "aws_iam_role_policies_exclusive" "svc" {
  role_name    = module.svc.role_name
  policy_names = [aws_iam_role_policy.extra.name]
}

resource "aws_iam_role" "worker" {
  count              = 2
  name               = "worker-${count.index}"
  assume_role_policy = local.trust
}

resource "aws_iam_policy" "worker" {
  count  = 2
  name   = "worker-${count.index}-read"
  policy = local.read
}

resource "aws_iam_role_policy_attachment" "worker" {
  count      = 2
  role       = aws_iam_role.worker[count.index].name
  policy_arn = aws_iam_policy.worker[count.index].arn
}

resource "aws_iam_role_policy_attachments_exclusive" "worker0" {
  role_name   = aws_iam_role.worker[0].name
  policy_arns = [aws_iam_policy.worker[0].arn, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
}

resource "aws_iam_policy_attachment" "shared" {
  name       = "shared"
  roles      = [aws_iam_role.worker[1].name]
  policy_arn = aws_iam_policy.shared.arn
}
