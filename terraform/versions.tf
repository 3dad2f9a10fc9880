terraform {
  # 1.9: variable validations that refer to other variables; 1.7: mock_provider in terraform test
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.31: aws_eks_pod_identity_association
      version = ">= 5.31, < 7.0"
    }
  }
}
