# Offline tests of the module (mock provider): the documents it builds from iamscope's inputs, and the
# inputs its validations refuse. `terraform init -plugin-dir=<mirror> && terraform test`.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }

  # a mocked ARN must parse as one: the association's role_arn is validated
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/mocked"
    }
  }
}

variables {
  account_id        = "111122223333"
  region            = "eu-west-1"
  cluster_name      = "prod-eu"
  cluster_arn       = "arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu"
  oidc_provider_arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123"
  tags              = { team = "platform" }
  service_accounts = {
    "payments/api" = {
      namespace              = "payments"
      service_account        = "api"
      role_name              = "prod-eu-payments-api"
      irsa                   = true
      pod_identity           = false
      secret_arns            = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/db-Xy12Ab", "arn:aws:secretsmanager:eu-central-1:111122223333:secret:prod/payments/db-Xy12Ab"]
      parameter_arns         = ["arn:aws:ssm:eu-west-1:111122223333:parameter/prod/payments/flags"]
      secret_kms_key_arns    = ["arn:aws:kms:eu-west-1:111122223333:key/1111", "arn:aws:kms:eu-central-1:111122223333:key/2222"]
      parameter_kms_key_arns = []
    }
    "analytics/reporting" = {
      namespace              = "analytics"
      service_account        = "reporting"
      role_name              = "prod-eu-analytics-reporting"
      irsa                   = false
      pod_identity           = true
      secret_arns            = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/analytics/bi-token-??????"]
      parameter_arns         = []
      secret_kms_key_arns    = []
      parameter_kms_key_arns = []
    }
  }
}

run "irsa_role_reads_exactly_its_objects" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_role_policy.this["payments/api"].policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "ReadSecrets"
          Effect   = "Allow"
          Action   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
          Resource = ["arn:aws:secretsmanager:eu-central-1:111122223333:secret:prod/payments/db-Xy12Ab", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/db-Xy12Ab"]
        },
        {
          Sid      = "ReadParameters"
          Effect   = "Allow"
          Action   = ["ssm:GetParameters"]
          Resource = ["arn:aws:ssm:eu-west-1:111122223333:parameter/prod/payments/flags"]
        },
        {
          Sid       = "DecryptSecrets"
          Effect    = "Allow"
          Action    = ["kms:Decrypt"]
          Resource  = ["arn:aws:kms:eu-central-1:111122223333:key/2222", "arn:aws:kms:eu-west-1:111122223333:key/1111"]
          Condition = { StringEquals = { "kms:ViaService" = ["secretsmanager.eu-central-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com"] } }
        },
      ]
    }
    error_message = "The identity policy is not ASCP's calls on exactly the declared ARNs and keys."
  }

  assert {
    condition = jsondecode(aws_iam_role.this["payments/api"].assume_role_policy) == {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "ServiceAccountIrsa"
        Effect    = "Allow"
        Principal = { Federated = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123" }
        Action    = ["sts:AssumeRoleWithWebIdentity"]
        Condition = { StringEquals = {
          "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud" = "sts.amazonaws.com"
          "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub" = "system:serviceaccount:payments:api"
        } }
      }]
    }
    error_message = "The IRSA trust policy must admit exactly system:serviceaccount:payments:api for sts.amazonaws.com."
  }

  assert {
    condition     = aws_iam_role.this["payments/api"].name == "prod-eu-payments-api" && aws_iam_role.this["payments/api"].path == "/"
    error_message = "The role is named by role_name, under role_path."
  }

  assert {
    condition     = aws_iam_role.this["payments/api"].tags == tomap({ team = "platform" })
    error_message = "Roles carry var.tags."
  }
}

run "pod_identity_role_trusts_its_association_only" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_role.this["analytics/reporting"].assume_role_policy) == {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "ServiceAccountPodIdentity"
        Effect    = "Allow"
        Principal = { Service = "pods.eks.amazonaws.com" }
        Action    = ["sts:AssumeRole", "sts:TagSession"]
        Condition = { StringEquals = {
          "aws:RequestTag/eks-cluster-arn"            = "arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu"
          "aws:RequestTag/kubernetes-namespace"       = "analytics"
          "aws:RequestTag/kubernetes-service-account" = "reporting"
        } }
      }]
    }
    error_message = "The Pod Identity trust must be conditioned on the cluster, namespace and service account session tags."
  }

  assert {
    condition     = keys(aws_eks_pod_identity_association.this) == ["analytics/reporting"]
    error_message = "Only Pod Identity service accounts get an association."
  }

  assert {
    condition = (aws_eks_pod_identity_association.this["analytics/reporting"].namespace == "analytics"
      && aws_eks_pod_identity_association.this["analytics/reporting"].service_account == "reporting"
    && aws_eks_pod_identity_association.this["analytics/reporting"].cluster_name == "prod-eu")
    error_message = "The association names the service account in the cluster."
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.this["analytics/reporting"].policy).Statement == [{
      Sid      = "ReadSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
      Resource = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/analytics/bi-token-??????"]
    }]
    error_message = "A role without parameters or keys has only the ReadSecrets statement."
  }
}

run "associations_can_be_left_to_another_stack" {
  command = plan

  variables {
    create_pod_identity_associations = false
  }

  assert {
    condition     = length(aws_eks_pod_identity_association.this) == 0
    error_message = "create_pod_identity_associations = false creates none."
  }
}

run "role_arns_output_is_keyed_by_namespace_and_service_account" {
  command = apply

  assert {
    condition     = keys(output.role_arns) == ["analytics/reporting", "payments/api"]
    error_message = "role_arns is keyed \"<namespace>/<service-account>\"."
  }
}

run "credentials_for_another_account_are_refused" {
  command = plan

  variables {
    account_id = "444455556666"
  }

  expect_failures = [aws_iam_role.this]
}

run "wildcard_arns_are_refused" {
  command = plan

  variables {
    service_accounts = {
      "payments/api" = {
        namespace              = "payments"
        service_account        = "api"
        role_name              = "prod-eu-payments-api"
        irsa                   = true
        pod_identity           = false
        secret_arns            = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/*"]
        parameter_arns         = []
        secret_kms_key_arns    = []
        parameter_kms_key_arns = []
      }
    }
  }

  expect_failures = [var.service_accounts]
}

run "keys_must_name_their_service_account" {
  command = plan

  variables {
    service_accounts = {
      "payments/other" = {
        namespace              = "payments"
        service_account        = "api"
        role_name              = "prod-eu-payments-api"
        irsa                   = true
        pod_identity           = false
        secret_arns            = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-Xy12Ab"]
        parameter_arns         = []
        secret_kms_key_arns    = []
        parameter_kms_key_arns = []
      }
    }
  }

  expect_failures = [var.service_accounts]
}

run "role_names_must_differ_without_regard_to_case" {
  command = plan

  variables {
    service_accounts = {
      "a/api" = {
        namespace              = "a"
        service_account        = "api"
        role_name              = "Same-Name"
        irsa                   = true
        pod_identity           = false
        secret_arns            = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a/db-Xy12Ab"]
        parameter_arns         = []
        secret_kms_key_arns    = []
        parameter_kms_key_arns = []
      }
      "b/api" = {
        namespace              = "b"
        service_account        = "api"
        role_name              = "same-name"
        irsa                   = true
        pod_identity           = false
        secret_arns            = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:b/db-Xy12Ab"]
        parameter_arns         = []
        secret_kms_key_arns    = []
        parameter_kms_key_arns = []
      }
    }
  }

  expect_failures = [var.service_accounts]
}

run "irsa_needs_the_oidc_provider" {
  command = plan

  variables {
    oidc_provider_arn = null
  }

  expect_failures = [var.service_accounts]
}

run "role_names_longer_than_iam_allows_are_refused" {
  command = plan

  variables {
    service_accounts = {
      "payments/api" = {
        namespace              = "payments"
        service_account        = "api"
        role_name              = "a-role-name-that-is-much-longer-than-the-sixty-four-characters-iam-allows"
        irsa                   = true
        pod_identity           = false
        secret_arns            = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-Xy12Ab"]
        parameter_arns         = []
        secret_kms_key_arns    = []
        parameter_kms_key_arns = []
      }
    }
  }

  expect_failures = [var.service_accounts]
}
