"""Real AWS managed policies, evaluated against what AWS documents them to grant.

The documents in data/managed/ are the default versions AWS publishes (see data/managed/SOURCES.md).
Every case names the statement of the policy it relies on and, where the outcome depends on more than
that statement, the AWS documentation that decides it:

- [EVAL] IAM User Guide, "Policy evaluation logic": an explicit Deny overrides any Allow; without an
  Allow the request is implicitly denied; a permissions boundary limits the identity policies.
- [COND] IAM User Guide, "IAM JSON policy elements: Condition operators": "If the key that you specify
  in a policy condition is not present in the request context, the values do not match and the
  condition is false"; StringLike is a case-sensitive match with `*` and `?` wildcards.
- [MULTI] IAM User Guide, "IAM JSON policy elements: Condition": several keys in one condition
  operator are ANDed; several values for one key are ORed.
- [ACTION] IAM User Guide, "IAM JSON policy elements: Action": action names are case-insensitive.
- [RES] IAM User Guide, "IAM JSON policy elements: Resource": resource ARNs are case-sensitive, `*`
  matches any combination of characters.
- [SAR] Service Authorization Reference, Secrets Manager: ListSecrets and BatchGetSecretValue have no
  resource type, so a policy must name them with Resource "*" and they are requested against "*".
- [SSM-KMS] Systems Manager User Guide, "Restricting decryption of SecureString parameter values":
  the AWS managed key aws/ssm grants Decrypt to all IAM principals in the account, so ssm:GetParameter*
  alone returns SecureString values encrypted with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from iamscope.errors import PolicyError
from iamscope.policy import evaluate, parse_policy

DATA = Path(__file__).parent / "data" / "managed"

SM_RW = "SecretsManagerReadWrite"
SM_CLIENT_RO = "AWSSecretsManagerClientReadOnlyAccess"
SSM_RO = "AmazonSSMReadOnlyAccess"
EKS_NODE = "AmazonEKSWorkerNodePolicy"
EKS_CNI = "AmazonEKS_CNI_Policy"
POLICIES = (SM_RW, SM_CLIENT_RO, SSM_RO, EKS_NODE, EKS_CNI)

ACCOUNT = "111122223333"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/payments/db-AbCdEf"
SECRET_EU = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/payments/db-Zx81Qw"
SECRET_DEV = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:dev/payments/db-Pq2Rs3"
PARAMETER = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/prod/payments/db-password"
PARAMETER_EU = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/prod/payments/api-key"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_EU = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab"
CLUSTER = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/prod"
ENI = f"arn:aws:ec2:us-east-1:{ACCOUNT}:network-interface/eni-0123456789abcdef0"
INSTANCE = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0123456789abcdef0"

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"


def load(name: str) -> dict[str, Any]:
    with (DATA / f"{name}.json").open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


@dataclass(frozen=True)
class Case:
    policies: tuple[str, ...]
    action: str
    resource: str
    expected: str
    cites: str
    context: dict[str, str | list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        ctx = ",".join(f"{k}={v}" for k, v in sorted(self.context.items())) or "no-context"
        return f"{'+'.join(self.policies)}|{self.action}|{self.resource}|{ctx}"


def case(
    policy: str | tuple[str, ...],
    action: str,
    resource: str,
    expected: str,
    cites: str,
    context: dict[str, str | list[str]] | None = None,
) -> Case:
    policies = (policy,) if isinstance(policy, str) else policy
    return Case(policies, action, resource, expected, cites, dict(context or {}))


VIA_SM_USE1 = "secretsmanager.us-east-1.amazonaws.com"
VIA_SM_EUW1 = "secretsmanager.eu-west-1.amazonaws.com"
VIA_SSM_USE1 = "ssm.us-east-1.amazonaws.com"

CASES: list[Case] = [
    # --- SecretsManagerReadWrite v6 -------------------------------------------------------------------
    # Reference page: "Provides read/write access to AWS Secrets Manager via the AWS Management Console.
    # Note: this exludes IAM actions". Statement BasePermissions: "secretsmanager:*" on Resource "*".
    case(SM_RW, "secretsmanager:GetSecretValue", SECRET, ALLOW, "BasePermissions secretsmanager:* on *"),
    case(
        SM_RW, "secretsmanager:GetSecretValue", SECRET_EU, ALLOW, "BasePermissions: Resource * spans regions"
    ),
    case(SM_RW, "secretsmanager:GetSecretValue", SECRET_DEV, ALLOW, "BasePermissions secretsmanager:* on *"),
    case(SM_RW, "secretsmanager:DescribeSecret", SECRET, ALLOW, "BasePermissions secretsmanager:* on *"),
    case(SM_RW, "secretsmanager:PutSecretValue", SECRET, ALLOW, "BasePermissions: read/write"),
    case(SM_RW, "secretsmanager:DeleteSecret", SECRET_EU, ALLOW, "BasePermissions: read/write"),
    case(SM_RW, "secretsmanager:PutResourcePolicy", SECRET, ALLOW, "BasePermissions secretsmanager:*"),
    case(SM_RW, "secretsmanager:ListSecrets", "*", ALLOW, "BasePermissions secretsmanager:* on *; [SAR]"),
    case(SM_RW, "secretsmanager:BatchGetSecretValue", "*", ALLOW, "BasePermissions secretsmanager:*; [SAR]"),
    case(SM_RW, "secretsmanager:GetRandomPassword", "*", ALLOW, "BasePermissions secretsmanager:*; [SAR]"),
    case(SM_RW, "SecretsManager:getsecretvalue", SECRET, ALLOW, "BasePermissions; [ACTION] case-insensitive"),
    case(SM_RW, "kms:DescribeKey", KEY, ALLOW, "BasePermissions lists kms:DescribeKey on *"),
    case(
        SM_RW,
        "kms:Decrypt",
        KEY,
        IMPLICIT_DENY,
        "BasePermissions lists kms:DescribeKey/ListAliases/ListKeys only",
    ),
    case(SM_RW, "kms:CreateGrant", KEY, IMPLICIT_DENY, "no statement lists kms:CreateGrant"),
    case(SM_RW, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/rotation", IMPLICIT_DENY, "page: excludes IAM"),
    case(
        SM_RW, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/rotation", IMPLICIT_DENY, "page: excludes IAM"
    ),
    case(SM_RW, "ssm:GetParameters", PARAMETER, IMPLICIT_DENY, "no statement names an ssm action"),
    case(SM_RW, "lambda:ListFunctions", "*", ALLOW, "BasePermissions lists lambda:ListFunctions on *"),
    case(
        SM_RW,
        "lambda:InvokeFunction",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:SecretsManagerRotatePostgres",
        ALLOW,
        "LambdaPermissions on arn:aws:lambda:*:*:function:SecretsManager*",
    ),
    case(
        SM_RW,
        "lambda:InvokeFunction",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:payments-api",
        IMPLICIT_DENY,
        "LambdaPermissions only covers functions named SecretsManager*",
    ),
    case(
        SM_RW,
        "lambda:InvokeFunction",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:secretsmanagerRotate",
        IMPLICIT_DENY,
        "LambdaPermissions SecretsManager*; [RES] resource ARNs are case-sensitive",
    ),
    case(
        SM_RW,
        "lambda:DeleteFunction",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:SecretsManagerRotatePostgres",
        IMPLICIT_DENY,
        "LambdaPermissions does not list lambda:DeleteFunction",
    ),
    case(
        SM_RW,
        "serverlessrepo:GetApplication",
        "arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationSingleUser",
        ALLOW,
        "SARPermissions on arn:aws:serverlessrepo:*:*:applications/SecretsManager*",
    ),
    case(
        SM_RW,
        "s3:GetObject",
        "arn:aws:s3:::secrets-manager-rotation-apps-0123456789abcdef/postgres.zip",
        ALLOW,
        "S3Permissions on arn:aws:s3:::secrets-manager-rotation-apps-*/*",
    ),
    case(
        SM_RW,
        "s3:GetObject",
        "arn:aws:s3:::awsserverlessrepo-changesets-1a2b3c/template.yaml",
        ALLOW,
        "S3Permissions on arn:aws:s3:::awsserverlessrepo-changesets*",
    ),
    case(
        SM_RW,
        "s3:GetObject",
        "arn:aws:s3:::payments-artifacts/app.zip",
        IMPLICIT_DENY,
        "S3Permissions buckets",
    ),
    case(
        SM_RW,
        "s3:PutObject",
        "arn:aws:s3:::secrets-manager-rotation-apps-0/x.zip",
        IMPLICIT_DENY,
        "S3Permissions",
    ),
    case(
        SM_RW,
        "cloudformation:TagResource",
        "*",
        ALLOW,
        "CloudFormationTagOnCreate StringEquals cloudformation:CreateAction",
        {"cloudformation:CreateAction": "CreateChangeSet"},
    ),
    case(
        SM_RW,
        "cloudformation:UntagResource",
        "*",
        ALLOW,
        "CloudFormationTagOnCreate: values of one key are ORed [MULTI]",
        {"cloudformation:CreateAction": "ExecuteChangeSet"},
    ),
    case(
        SM_RW,
        "cloudformation:TagResource",
        "*",
        IMPLICIT_DENY,
        "CloudFormationTagOnCreate; [COND] key absent: StringEquals is false",
    ),
    case(
        SM_RW,
        "cloudformation:TagResource",
        "*",
        IMPLICIT_DENY,
        "CloudFormationTagOnCreate: CreateStack is not one of the values",
        {"cloudformation:CreateAction": "CreateStack"},
    ),
    case(
        SM_RW,
        "cloudformation:TagResource",
        "*",
        IMPLICIT_DENY,
        "CloudFormationTagOnCreate: StringEquals is case-sensitive [COND]",
        {"cloudformation:CreateAction": "createchangeset"},
    ),
    # --- AWSSecretsManagerClientReadOnlyAccess v3 -----------------------------------------------------
    # Reference page: "Provides access to retrieve and describe secrets from Secrets Manager. This policy
    # also allows decrypting KMS keys for Secrets Manager secrets." Statement
    # SecretsManagerGetAndDescribeSecret: GetSecretValue + DescribeSecret on
    # arn:aws:secretsmanager:*:*:secret:*; statement KMSDecryptKey: kms:Decrypt on arn:aws:kms:*:*:key/*
    # when StringLike kms:EncryptionContext:SecretARN arn:aws:secretsmanager:*:*:secret:* AND
    # StringLike kms:ViaService secretsmanager.*.amazonaws.com.
    case(SM_CLIENT_RO, "secretsmanager:GetSecretValue", SECRET, ALLOW, "SecretsManagerGetAndDescribeSecret"),
    case(
        SM_CLIENT_RO,
        "secretsmanager:GetSecretValue",
        SECRET_EU,
        ALLOW,
        "SecretsManagerGetAndDescribeSecret: *",
    ),
    case(SM_CLIENT_RO, "secretsmanager:DescribeSecret", SECRET, ALLOW, "SecretsManagerGetAndDescribeSecret"),
    case(
        SM_CLIENT_RO, "secretsmanager:DescribeSecret", SECRET_DEV, ALLOW, "SecretsManagerGetAndDescribeSecret"
    ),
    case(SM_CLIENT_RO, "secretsmanager:ListSecrets", "*", IMPLICIT_DENY, "not listed; [SAR]"),
    case(SM_CLIENT_RO, "secretsmanager:BatchGetSecretValue", "*", IMPLICIT_DENY, "not listed; [SAR]"),
    case(SM_CLIENT_RO, "secretsmanager:ListSecretVersionIds", SECRET, IMPLICIT_DENY, "not listed"),
    case(SM_CLIENT_RO, "secretsmanager:GetResourcePolicy", SECRET, IMPLICIT_DENY, "not listed"),
    case(SM_CLIENT_RO, "secretsmanager:PutSecretValue", SECRET, IMPLICIT_DENY, "read-only: not listed"),
    case(SM_CLIENT_RO, "secretsmanager:UpdateSecret", SECRET, IMPLICIT_DENY, "read-only: not listed"),
    case(SM_CLIENT_RO, "secretsmanager:GetSecretValue", "*", IMPLICIT_DENY, "[RES] '*' is not a secret ARN"),
    case(SM_CLIENT_RO, "ssm:GetParameters", PARAMETER, IMPLICIT_DENY, "no ssm statement"),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY,
        ALLOW,
        "KMSDecryptKey: both StringLike keys match [MULTI]",
        {"kms:ViaService": VIA_SM_USE1, "kms:EncryptionContext:SecretARN": SECRET},
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY_EU,
        ALLOW,
        "KMSDecryptKey: secretsmanager.*.amazonaws.com admits any region",
        {"kms:ViaService": VIA_SM_EUW1, "kms:EncryptionContext:SecretARN": SECRET_EU},
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY,
        IMPLICIT_DENY,
        "KMSDecryptKey; [COND] both keys absent: StringLike is false",
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY,
        IMPLICIT_DENY,
        "KMSDecryptKey; [COND][MULTI] kms:ViaService absent (a direct KMS call) fails the AND",
        {"kms:EncryptionContext:SecretARN": SECRET},
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY,
        IMPLICIT_DENY,
        "KMSDecryptKey; [COND][MULTI] encryption context absent fails the AND",
        {"kms:ViaService": VIA_SM_USE1},
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY,
        IMPLICIT_DENY,
        "KMSDecryptKey: ssm.us-east-1.amazonaws.com does not match secretsmanager.*.amazonaws.com",
        {"kms:ViaService": VIA_SSM_USE1, "kms:EncryptionContext:SecretARN": SECRET},
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY,
        IMPLICIT_DENY,
        "KMSDecryptKey; [COND] StringLike is case-sensitive",
        {
            "kms:ViaService": "SecretsManager.us-east-1.amazonaws.com",
            "kms:EncryptionContext:SecretARN": SECRET,
        },
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY,
        IMPLICIT_DENY,
        "KMSDecryptKey: the encryption context names an SSM parameter, not a secret",
        {"kms:ViaService": VIA_SM_USE1, "kms:EncryptionContext:SecretARN": PARAMETER},
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/secretsmanager",
        IMPLICIT_DENY,
        "KMSDecryptKey Resource arn:aws:kms:*:*:key/* does not cover an alias ARN",
        {"kms:ViaService": VIA_SM_USE1, "kms:EncryptionContext:SecretARN": SECRET},
    ),
    case(
        SM_CLIENT_RO,
        "kms:Encrypt",
        KEY,
        IMPLICIT_DENY,
        "KMSDecryptKey lists kms:Decrypt only",
        {"kms:ViaService": VIA_SM_USE1, "kms:EncryptionContext:SecretARN": SECRET},
    ),
    case(
        SM_CLIENT_RO,
        "kms:Decrypt",
        KEY,
        ALLOW,
        "KMSDecryptKey; context keys are case-insensitive (IAM User Guide, Condition element)",
        {"KMS:VIASERVICE": VIA_SM_USE1, "kms:encryptioncontext:secretarn": SECRET},
    ),
    # --- AmazonSSMReadOnlyAccess v1 -------------------------------------------------------------------
    # Reference page: "Provides read only access to Amazon SSM." One statement: ssm:Describe*, ssm:Get*,
    # ssm:List* on "*". "Read only" includes reading parameter values, SecureStrings too [SSM-KMS].
    case(SSM_RO, "ssm:GetParameters", PARAMETER, ALLOW, "ssm:Get* on *; returns SecureStrings [SSM-KMS]"),
    case(SSM_RO, "ssm:GetParameters", PARAMETER_EU, ALLOW, "ssm:Get* on *: any region"),
    case(SSM_RO, "ssm:GetParameter", PARAMETER, ALLOW, "ssm:Get* on *"),
    case(
        SSM_RO,
        "ssm:GetParametersByPath",
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/prod",
        ALLOW,
        "ssm:Get*",
    ),
    case(SSM_RO, "ssm:GetParameterHistory", PARAMETER, ALLOW, "ssm:Get* on *"),
    case(SSM_RO, "ssm:DescribeParameters", "*", ALLOW, "ssm:Describe* on *"),
    case(SSM_RO, "ssm:ListTagsForResource", PARAMETER, ALLOW, "ssm:List* on *"),
    case(SSM_RO, "SSM:getparameters", PARAMETER, ALLOW, "ssm:Get*; [ACTION] case-insensitive"),
    case(SSM_RO, "ssm:PutParameter", PARAMETER, IMPLICIT_DENY, "read only: ssm:Put* is not listed"),
    case(SSM_RO, "ssm:DeleteParameter", PARAMETER, IMPLICIT_DENY, "read only: ssm:Delete* is not listed"),
    case(SSM_RO, "ssm:LabelParameterVersion", PARAMETER, IMPLICIT_DENY, "read only: not listed"),
    case(
        SSM_RO,
        "ssm:SendCommand",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc",
        IMPLICIT_DENY,
        "not listed",
    ),
    case(SSM_RO, "secretsmanager:GetSecretValue", SECRET, IMPLICIT_DENY, "only ssm actions are listed"),
    case(SSM_RO, "kms:Decrypt", KEY, IMPLICIT_DENY, "only ssm actions are listed"),
    # --- AmazonEKSWorkerNodePolicy v3 -----------------------------------------------------------------
    # Reference page: "This policy allows Amazon EKS worker nodes to connect to Amazon EKS Clusters."
    # Statement WorkerNodePermissions: eight ec2:Describe* actions, eks:DescribeCluster and
    # eks-auth:AssumeRoleForPodIdentity on "*". Nothing for Secrets Manager, SSM or KMS.
    case(
        EKS_NODE, "secretsmanager:GetSecretValue", SECRET, IMPLICIT_DENY, "WorkerNodePermissions: no secrets"
    ),
    case(EKS_NODE, "secretsmanager:DescribeSecret", SECRET, IMPLICIT_DENY, "WorkerNodePermissions"),
    case(EKS_NODE, "secretsmanager:ListSecrets", "*", IMPLICIT_DENY, "WorkerNodePermissions"),
    case(EKS_NODE, "secretsmanager:BatchGetSecretValue", "*", IMPLICIT_DENY, "WorkerNodePermissions"),
    case(EKS_NODE, "ssm:GetParameters", PARAMETER, IMPLICIT_DENY, "WorkerNodePermissions: no ssm"),
    case(EKS_NODE, "kms:Decrypt", KEY, IMPLICIT_DENY, "WorkerNodePermissions: no kms"),
    case(EKS_NODE, "eks-auth:AssumeRoleForPodIdentity", CLUSTER, ALLOW, "WorkerNodePermissions on *"),
    case(EKS_NODE, "eks:DescribeCluster", CLUSTER, ALLOW, "WorkerNodePermissions on *"),
    case(EKS_NODE, "ec2:DescribeInstances", "*", ALLOW, "WorkerNodePermissions on *"),
    case(EKS_NODE, "ec2:DescribeVolumesModifications", "*", ALLOW, "WorkerNodePermissions on *"),
    case(EKS_NODE, "ec2:DescribeVolumes", "*", ALLOW, "WorkerNodePermissions on *"),
    case(EKS_NODE, "ec2:DescribeNetworkInterfaces", "*", IMPLICIT_DENY, "not in WorkerNodePermissions"),
    case(EKS_NODE, "eks:ListClusters", "*", IMPLICIT_DENY, "not in WorkerNodePermissions"),
    case(EKS_NODE, "sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/payments", IMPLICIT_DENY, "not listed"),
    # --- AmazonEKS_CNI_Policy v5 ----------------------------------------------------------------------
    # Statement AmazonEKSCNIPolicy: ENI management actions on "*"; statement AmazonEKSCNIPolicyENITag:
    # ec2:CreateTags on arn:aws:ec2:*:*:network-interface/* only.
    case(EKS_CNI, "ec2:CreateNetworkInterface", "*", ALLOW, "AmazonEKSCNIPolicy on *"),
    case(EKS_CNI, "ec2:AssignPrivateIpAddresses", ENI, ALLOW, "AmazonEKSCNIPolicy on *"),
    case(EKS_CNI, "ec2:CreateTags", ENI, ALLOW, "AmazonEKSCNIPolicyENITag on network-interface/*"),
    case(EKS_CNI, "ec2:CreateTags", INSTANCE, IMPLICIT_DENY, "AmazonEKSCNIPolicyENITag: ENIs only"),
    case(EKS_CNI, "ec2:DeleteTags", ENI, IMPLICIT_DENY, "not listed"),
    case(EKS_CNI, "ec2:RunInstances", "*", IMPLICIT_DENY, "not listed"),
    case(EKS_CNI, "secretsmanager:GetSecretValue", SECRET, IMPLICIT_DENY, "no secretsmanager action"),
    case(EKS_CNI, "ssm:GetParameters", PARAMETER, IMPLICIT_DENY, "no ssm action"),
    # --- the two node-role policies together (a typical EKS node role) --------------------------------
    case(
        (EKS_NODE, EKS_CNI),
        "secretsmanager:GetSecretValue",
        SECRET,
        IMPLICIT_DENY,
        "neither grants it [EVAL]",
    ),
    case((EKS_NODE, EKS_CNI), "ssm:GetParameters", PARAMETER, IMPLICIT_DENY, "neither grants it [EVAL]"),
    case((EKS_NODE, EKS_CNI), "ec2:CreateTags", ENI, ALLOW, "AmazonEKSCNIPolicyENITag [EVAL]"),
    case((EKS_NODE, EKS_CNI), "eks:DescribeCluster", CLUSTER, ALLOW, "WorkerNodePermissions [EVAL]"),
    # --- a workload role with several managed policies -------------------------------------------------
    case((SSM_RO, SM_CLIENT_RO), "secretsmanager:GetSecretValue", SECRET, ALLOW, "union of Allows [EVAL]"),
    case((SSM_RO, SM_CLIENT_RO), "ssm:GetParameters", PARAMETER, ALLOW, "union of Allows [EVAL]"),
    case((SSM_RO, SM_CLIENT_RO), "ssm:PutParameter", PARAMETER, IMPLICIT_DENY, "neither allows [EVAL]"),
]


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("name", POLICIES)
def test_document_is_the_published_shape(name: str) -> None:
    document = load(name)
    assert set(document) == {"Version", "Statement"}
    assert document["Version"] == "2012-10-17"
    assert isinstance(document["Statement"], list)
    assert document["Statement"]


@pytest.mark.parametrize("name", POLICIES)
def test_managed_policy_parses(name: str) -> None:
    document = load(name)
    parsed = parse_policy(document, name=name)
    assert len(parsed.statements) == len(document["Statement"])
    assert [s.sid for s in parsed.statements] == [s.get("Sid") for s in document["Statement"]]
    assert [s.effect for s in parsed.statements] == ["Allow"] * len(document["Statement"])


@pytest.mark.parametrize("name", POLICIES)
def test_managed_policy_parses_from_iam_api_text(name: str) -> None:
    """IAM's GetPolicyVersion returns the document URL-encoded; the AWS CLI prints it decoded as JSON."""
    from urllib.parse import quote

    text = json.dumps(load(name))
    assert len(parse_policy(text, name=name).statements) == len(load(name)["Statement"])
    assert len(parse_policy(quote(text), name=name).statements) == len(load(name)["Statement"])


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_managed_policy_grants(c: Case) -> None:
    documents = [load(name) for name in c.policies]
    decision = evaluate(documents, c.action, c.resource, c.context or None)
    assert decision.effect == c.expected, f"{c.cites}: {decision}"
    assert decision.allowed is (c.expected == ALLOW)


# --- Managed policies combined with the customer's own Deny and with a permissions boundary -------------

DENY_PROD_SECRETS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyProdSecretsOutsideVpce",
            "Effect": "Deny",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"],
            "Resource": "arn:aws:secretsmanager:*:*:secret:prod/*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}},
        }
    ],
}


@pytest.mark.parametrize(
    ("resource", "context", "expected"),
    [
        # [EVAL] explicit deny overrides SecretsManagerReadWrite's Allow; [COND] a negated operator on
        # an absent key is true, so a request without aws:SourceVpce is denied.
        (SECRET, {}, EXPLICIT_DENY),
        (SECRET, {"aws:SourceVpce": "vpce-ffffffffffffffff0"}, EXPLICIT_DENY),
        (SECRET, {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}, ALLOW),
        (SECRET_EU, {}, EXPLICIT_DENY),
        (SECRET_DEV, {}, ALLOW),  # the Deny's Resource covers prod/* only
    ],
)
def test_customer_deny_overrides_managed_allow(resource: str, context: dict[str, str], expected: str) -> None:
    decision = evaluate([load(SM_RW), DENY_PROD_SECRETS], "secretsmanager:GetSecretValue", resource, context)
    assert decision.effect == expected


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        # IAM User Guide, "Permissions boundaries for IAM entities": "An entity's permissions boundary
        # allows it to perform only the actions that are allowed by both its identity-based policies and
        # its permissions boundaries."
        ("secretsmanager:GetSecretValue", SECRET, ALLOW),
        ("secretsmanager:DescribeSecret", SECRET_EU, ALLOW),
        ("secretsmanager:PutSecretValue", SECRET, IMPLICIT_DENY),
        ("secretsmanager:DeleteSecret", SECRET, IMPLICIT_DENY),
        ("secretsmanager:ListSecrets", "*", IMPLICIT_DENY),
        ("lambda:ListFunctions", "*", IMPLICIT_DENY),
    ],
)
def test_client_read_only_boundary_limits_read_write(action: str, resource: str, expected: str) -> None:
    decision = evaluate([load(SM_RW)], action, resource, boundary=load(SM_CLIENT_RO))
    assert decision.effect == expected


def test_boundary_alone_grants_nothing() -> None:
    # IAM API Reference, PutRolePermissionsBoundary: "Policies that are used as permissions boundaries
    # do not provide permissions."
    decision = evaluate([load(EKS_NODE)], "secretsmanager:GetSecretValue", SECRET, boundary=load(SM_RW))
    assert decision.effect == IMPLICIT_DENY


def test_malformed_managed_policy_is_rejected() -> None:
    document = load(SM_CLIENT_RO)
    broken = {**document, "Statement": [{**document["Statement"][0], "Effect": "Permit"}]}
    with pytest.raises(PolicyError):
        parse_policy(broken, name=SM_CLIENT_RO)


# --- Managed policies across accounts ---------------------------------------------------------------------
# IAM User Guide, "Cross-account policy evaluation logic": "To allow cross-account access, you attach a
# resource-based policy to the resource that you want to share. You must also attach an identity-based
# policy to the identity that acts as the principal in the request." Within one account ("Policy
# evaluation for requests within a single account"): "If either the identity-based policy or the
# resource-based policy within the same account allows the request and the other doesn't, the request
# is still allowed."

OTHER_ACCOUNT = "444455556666"
CALLER = f"arn:aws:iam::{OTHER_ACCOUNT}:role/payments-reader"
HOME_CALLER = f"arn:aws:iam::{ACCOUNT}:role/payments-reader"


def secret_policy(effect: str, principal: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Principal": {"AWS": principal},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ],
    }


@pytest.mark.parametrize(
    ("documents", "principal", "resource_policy", "expected"),
    [
        # SecretsManagerReadWrite's Resource "*" covers a secret in another account, but the secret's
        # own policy must also grant it.
        ([SM_RW], CALLER, None, IMPLICIT_DENY),
        ([SM_RW], CALLER, secret_policy("Allow", CALLER), ALLOW),
        ([SM_RW], CALLER, secret_policy("Allow", f"arn:aws:iam::{OTHER_ACCOUNT}:root"), ALLOW),
        ([SM_CLIENT_RO], CALLER, secret_policy("Allow", CALLER), ALLOW),
        (
            [SM_RW],
            CALLER,
            secret_policy("Allow", f"arn:aws:iam::{OTHER_ACCOUNT}:role/someone-else"),
            IMPLICIT_DENY,
        ),
        # The resource policy alone does not suffice across accounts: the node role grants nothing.
        ([EKS_NODE], CALLER, secret_policy("Allow", CALLER), IMPLICIT_DENY),
        # An explicit Deny in the secret's policy beats the managed policy's Allow.
        ([SM_RW], CALLER, secret_policy("Deny", "*"), EXPLICIT_DENY),
        ([SM_RW], HOME_CALLER, secret_policy("Deny", "*"), EXPLICIT_DENY),
        # Same account: either side suffices.
        ([SM_RW], HOME_CALLER, None, ALLOW),
        ([EKS_NODE], HOME_CALLER, secret_policy("Allow", HOME_CALLER), ALLOW),
    ],
)
def test_managed_policies_across_accounts(
    documents: list[str], principal: str, resource_policy: dict[str, Any] | None, expected: str
) -> None:
    decision = evaluate(
        [load(name) for name in documents],
        "secretsmanager:GetSecretValue",
        SECRET,
        principal=principal,
        resource_policy=resource_policy,
    )
    assert decision.effect == expected
