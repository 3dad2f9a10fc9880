# The child module of case module-references: a role with a policy attached by ARN from an input.

variable "name" { type = string }
variable "trust" { type = string }
variable "policy_arn" { type = string }

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = var.trust
}

resource "aws_iam_role_policy_attachment" "this" {
  role       = aws_iam_role.this.name
  policy_arn = var.policy_arn
}

output "role_name" {
  value = aws_iam_role.this.name
}
