# Test stub of terraform-aws-modules/eks-pod-identity/aws (v2), used by tests/generate/test_flavors.py to
# check that the generated flavors/pod-identity configuration sets only inputs that exist, with values
# that convert to their declared types. It declares no resources.
#
# The variable blocks are copied verbatim (name, description, type, default) from
#   repository: terraform-aws-modules/terraform-aws-eks-pod-identity
#   path:       variables.tf
#   commit:     54809fc3a4d1cf553be22fc627490aa43d84ab88 (2.x)
# The general, IAM Role Trust Policy, IAM Role, Pod Identity Association, Policies (up to the custom
# policy) and External Secrets sections are complete; the other add-ons' attach_* inputs are left out.

variable "create" {
  description = "Determines whether resources will be created (affects all resources)"
  type        = bool
  default     = true
}

variable "region" {
  description = "Region where the resource(s) will be managed. Defaults to the Region set in the provider configuration"
  type        = string
  default     = null
}

variable "tags" {
  description = "A map of tags to add to all resources"
  type        = map(string)
  default     = {}
}

################################################################################
# IAM Role Trust Policy
################################################################################

variable "trust_policy_conditions" {
  description = "A list of conditions to add to the role trust policy"
  type = list(object({
    test     = string
    values   = list(string)
    variable = string
  }))
  default = []
}

variable "trust_policy_statements" {
  description = "A list of IAM policy [statements](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/iam_policy_document#statement) for the role trust policy"
  type = list(object({
    sid           = optional(string)
    actions       = optional(list(string))
    not_actions   = optional(list(string))
    effect        = optional(string)
    resources     = optional(list(string))
    not_resources = optional(list(string))
    principals = optional(list(object({
      type        = string
      identifiers = list(string)
    })))
    not_principals = optional(list(object({
      type        = string
      identifiers = list(string)
    })))
    condition = optional(list(object({
      test     = string
      values   = list(string)
      variable = string
    })))
  }))
  default = null
}

################################################################################
# IAM Role
################################################################################

variable "name" {
  description = "Name of IAM role"
  type        = string
  default     = ""
}

variable "use_name_prefix" {
  description = "Determines whether the role name and policy name(s) are used as a prefix"
  type        = string
  default     = true
}

variable "path" {
  description = "Path of IAM role"
  type        = string
  default     = "/"
}

variable "description" {
  description = "IAM Role description"
  type        = string
  default     = null
}

variable "max_session_duration" {
  description = "Maximum CLI/API session duration in seconds between 3600 and 43200"
  type        = number
  default     = null
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary ARN to use for IAM role"
  type        = string
  default     = null
}

variable "additional_policy_arns" {
  description = "ARNs of additional policies to attach to the IAM role"
  type        = map(string)
  default     = {}
}

################################################################################
# Pod Identity Association
################################################################################

variable "association_defaults" {
  description = "Default values used across all Pod Identity associations created unless a more specific value is provided"
  type = object({
    cluster_name         = optional(string)
    disable_session_tags = optional(bool)
    namespace            = optional(string)
    service_account      = optional(string)
    role_arn             = optional(string)
    target_role_arn      = optional(string)
    tags                 = optional(map(string), {})
  })
  default = {}
}

variable "associations" {
  description = "Map of Pod Identity associations to be created (map of maps)"
  type = map(object({
    cluster_name         = optional(string)
    disable_session_tags = optional(bool)
    namespace            = optional(string)
    service_account      = optional(string)
    role_arn             = optional(string)
    target_role_arn      = optional(string)
    tags                 = optional(map(string), {})
  }))
  default = {}
}

################################################################################
# Policies
################################################################################

variable "source_policy_documents" {
  description = "List of IAM policy documents that are merged together into the exported document"
  type        = list(string)
  default     = []
}

variable "override_policy_documents" {
  description = "List of IAM policy documents that are merged together into the exported document"
  type        = list(string)
  default     = []
}

variable "policy_statements" {
  description = "A list of IAM policy [statements](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/iam_policy_document#statement) for custom permission usage"
  type = list(object({
    sid           = optional(string)
    actions       = optional(list(string))
    not_actions   = optional(list(string))
    effect        = optional(string)
    resources     = optional(list(string))
    not_resources = optional(list(string))
    principals = optional(list(object({
      type        = string
      identifiers = list(string)
    })))
    not_principals = optional(list(object({
      type        = string
      identifiers = list(string)
    })))
    condition = optional(list(object({
      test     = string
      values   = list(string)
      variable = string
    })))
  }))
  default = null
}

variable "policy_name_prefix" {
  description = "IAM policy name prefix"
  type        = string
  default     = "AmazonEKS_"
}

# Custom policy
variable "attach_custom_policy" {
  description = "Determines whether to attach the custom IAM policy to the role"
  type        = bool
  default     = false
}

variable "custom_policy_description" {
  description = "Description of the custom IAM policy"
  type        = string
  default     = "Custom IAM Policy"
}

# External Secrets
variable "attach_external_secrets_policy" {
  description = "Determines whether to attach the External Secrets policy to the role"
  type        = bool
  default     = false
}

variable "external_secrets_policy_name" {
  description = "Custom name of the External Secrets IAM policy"
  type        = string
  default     = null
}

variable "external_secrets_ssm_parameter_arns" {
  description = "List of Systems Manager Parameter ARNs that contain secrets to mount using External Secrets"
  type        = list(string)
  default     = []
}

variable "external_secrets_secrets_manager_arns" {
  description = "List of Secrets Manager ARNs that contain secrets to mount using External Secrets"
  type        = list(string)
  default     = []
}

variable "external_secrets_kms_key_arns" {
  description = "List of KMS Key ARNs that are used by Secrets Manager that contain secrets to mount using External Secrets"
  type        = list(string)
  default     = []
}

variable "external_secrets_create_permission" {
  description = "Determines whether External Secrets has permission to create/delete secrets"
  type        = bool
  default     = false
}
