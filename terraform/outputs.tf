output "role_arns" {
  description = "The role ARN of each service account, keyed \"<namespace>/<service-account>\"."
  value       = { for key, role in aws_iam_role.this : key => role.arn }
}

output "role_names" {
  description = "The role name of each service account, keyed \"<namespace>/<service-account>\"."
  value       = { for key, role in aws_iam_role.this : key => role.name }
}

output "pod_identity_association_ids" {
  description = "The Pod Identity association of each service account that uses Pod Identity."
  value       = { for key, association in aws_eks_pod_identity_association.this : key => association.association_id }
}
