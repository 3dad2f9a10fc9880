variable "account_id" {
  description = "The AWS account the roles are created in (iamscope checks the provider's credentials are for it)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  description = "The region of the provider (the cluster's region; IAM itself is global)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "cluster_name" {
  description = "The EKS cluster the service accounts live in (Pod Identity associations are created there)."
  type        = string
  default     = null
}

variable "cluster_arn" {
  description = "The EKS cluster's ARN: Pod Identity trust policies require it in the eks-cluster-arn session tag."
  type        = string
  default     = null

  validation {
    condition     = var.cluster_arn == null || can(regex("^arn:aws[a-z-]*:eks:[a-z0-9-]+:[0-9]{12}:cluster/.+$", var.cluster_arn))
    error_message = "cluster_arn must be an EKS cluster ARN."
  }
}

variable "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider (arn:...:oidc-provider/<issuer>), trusted by IRSA roles."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "role_path" {
  description = "The IAM path of every role."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([!-~]+/)?$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must be / or /one/or/more/segments/."
  }
}

variable "permissions_boundary_arn" {
  description = "A managed policy every role gets as its permissions boundary, or null."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "tags" {
  description = "Tags for every role and Pod Identity association."
  type        = map(string)
  default     = {}
}

variable "create_pod_identity_associations" {
  description = "Create the EKS Pod Identity association of each service account that uses Pod Identity (false when another stack owns them)."
  type        = bool
  default     = true
}

variable "service_accounts" {
  description = <<-EOT
    One role per Kubernetes service account, keyed "<namespace>/<service-account>", as iamscope generate writes it:
    the role name, how ASCP reaches the role (irsa, pod_identity), and the exact ARNs the service account's
    workloads mount (secrets, SSM parameters) with the customer-managed KMS keys that encrypt them.
  EOT
  type = map(object({
    namespace              = string
    service_account        = string
    role_name              = string
    irsa                   = bool
    pod_identity           = bool
    secret_arns            = list(string)
    parameter_arns         = list(string)
    secret_kms_key_arns    = list(string)
    parameter_kms_key_arns = list(string)
  }))

  validation {
    condition     = alltrue([for key, sa in var.service_accounts : key == "${sa.namespace}/${sa.service_account}"])
    error_message = "Each key of service_accounts must be \"<namespace>/<service_account>\" of its value."
  }

  validation {
    condition     = alltrue([for sa in values(var.service_accounts) : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", sa.role_name))])
    error_message = "Every role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }

  validation {
    condition     = length(distinct([for sa in values(var.service_accounts) : lower(sa.role_name)])) == length(var.service_accounts)
    error_message = "Role names must be unique (IAM compares them without regard to case)."
  }

  validation {
    condition     = alltrue([for sa in values(var.service_accounts) : sa.irsa || sa.pod_identity])
    error_message = "Every service account needs irsa or pod_identity (or both)."
  }

  validation {
    condition     = alltrue([for sa in values(var.service_accounts) : length(sa.secret_arns) + length(sa.parameter_arns) > 0])
    error_message = "Every service account must read at least one secret or parameter."
  }

  validation {
    condition = alltrue(flatten([for sa in values(var.service_accounts) : [
      [for arn in sa.secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[^*]+$", arn))],
      [for arn in sa.parameter_arns : can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[^*?]+$", arn))],
      [for arn in concat(sa.secret_kms_key_arns, sa.parameter_kms_key_arns) : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[^*?]+$", arn))],
    ]]))
    error_message = "secret_arns, parameter_arns and the KMS key lists must hold Secrets Manager secret, SSM parameter and KMS key ARNs, without * wildcards."
  }

  validation {
    condition     = var.oidc_provider_arn != null || !anytrue([for sa in values(var.service_accounts) : sa.irsa])
    error_message = "IRSA roles need oidc_provider_arn."
  }

  validation {
    condition     = (var.cluster_arn != null && var.cluster_name != null) || !anytrue([for sa in values(var.service_accounts) : sa.pod_identity])
    error_message = "Pod Identity roles need cluster_name and cluster_arn."
  }
}
