# Test stub: the real output is try(aws_iam_role.this[0].arn, null) (outputs.tf of the same module); this
# one makes up the ARN from the inputs, in a fake account.
output "iam_role_arn" {
  description = "ARN of IAM role"
  value       = "arn:aws:iam::000000000000:role${var.path}${var.name}"
}
