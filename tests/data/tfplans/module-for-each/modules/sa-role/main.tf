# The child module of case module-for-each: a role for one service account, a managed policy granting
# read on its secrets, and the attachment of one to the other.

variable "name" { type = string }
variable "namespace" { type = string }
variable "service_account" { type = string }
variable "secret_names" { type = list(string) }
variable "account" { type = string }
variable "oidc_issuer" { type = string }

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::${var.account}:oidc-provider/${var.oidc_issuer}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "read" {
  statement {
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [for s in var.secret_names : "arn:aws:secretsmanager:eu-west-1:${var.account}:secret:${s}-??????"]
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.namespace}-${var.name}"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_policy" "read" {
  name   = "${var.namespace}-${var.name}-read"
  path   = "/irsa/"
  policy = data.aws_iam_policy_document.read.json
}

resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.this.name
  policy_arn = aws_iam_policy.read.arn
}

output "role_arn" {
  value = aws_iam_role.this.arn
}
