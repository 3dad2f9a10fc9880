# Case module-for-each: one IRSA role per service account, created by a child module instantiated with
# for_each; each instance has an aws_iam_policy and an aws_iam_role_policy_attachment whose policy_arn is
# known only after apply (the policy is created in the same plan).
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
  service_accounts = {
    api    = { namespace = "prod", secrets = ["prod/api/db"] }
    worker = { namespace = "jobs", secrets = ["prod/worker/queue", "prod/shared/smtp"] }
  }
}

module "app" {
  source   = "./modules/sa-role"
  for_each = local.service_accounts

  name            = each.key
  namespace       = each.value.namespace
  service_account = each.key
  secret_names    = each.value.secrets
  account         = "111122223333"
  oidc_issuer     = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
}

output "role_arns" {
  value = { for k, m in module.app : k => m.role_arn }
}
