"""A synthetic state directory at any scale, in the real input formats (DESIGN.md §3): `k8s/` as
`kubectl get <plural> -A -o json` prints each kind, `aws/` as the AWS CLI prints each answer, and
`.iamscope.yaml` at the root.

    .venv/bin/python bench/gen_scale.py --scale 100 --out /tmp/state-100 [--seed 7]

One unit of scale (`--scale 1`) is a cluster slice of 10 namespaces with 200 workloads (150
Deployments, 30 StatefulSets, 20 CronJobs), 1,500 pods as a live cluster lists them (status, owner
references to ReplicaSets/StatefulSets/Jobs, DaemonSet pods on each of 25 nodes), 200
SecretProviderClasses with 600 objects (1-6 each: names, full and partial ARNs, SSM parameters,
jmesPath, failover), 190 service accounts (some shared, IRSA annotations and Pod Identity
associations), 50 IAM roles (inline, managed and shared policies; exact ARNs, `-??????`, prefix
wildcards, `*`, Deny statements, conditions, permissions boundaries; IRSA, Pod Identity, EC2, Lambda,
GitHub OIDC and cross-account trusts), 1,000 secrets and 100 parameters (well beyond what the SPCs
read). `--scale 100` is the scale issue's target: 150,000 pods in 20,000 workloads, 20,000 SPCs with
60,000 objects, 5,000 roles, 100,000 secrets, 10,000 parameters; `pods.json` is then about 2 GB
(5 KB a pod, 14 KB as kubectl indents it), the whole state about 3 GB.

Everything grows in proportion to the scale, so that the work an exact tool must do grows linearly:
each namespace's roles cover that namespace's and its business unit's secrets. The exceptions are
kept as rare as they are in life: one role of the account trusts every service account of the
cluster and one grants by tag (ABAC), whatever the scale; a `*` read grant is on one role in 500 (a
legacy team role, and the node roles' `ssm:GetParameters` through AmazonSSMManagedInstanceCore), as
in bench/scan_snapshot.py. A tool that lists each secret such a role reaches does work in proportion
to roles x secrets there, which is what a compact listing of wildcard grants avoids.

Deterministic for a seed: the same arguments write byte-identical files. Big files are written as
streams, object by object; what is kept in memory is the model of the cluster (names and
references), never a whole file's text."""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELM_FIXTURE = ROOT / "fixtures" / "demo" / "k8s" / "kube-system" / "secrets-provider-aws.helm.yaml"

ACCOUNT = "111122223333"
AUDIT_ACCOUNT = "999988887777"
PARTITION = "aws"
REGION = "eu-west-1"
FAILOVER_REGION = "eu-central-1"
CLUSTER = "bench"
OIDC_ID = "B7E3F1A9C2D4E6F8A0B1C3D5E7F9A1B3"
ISSUER = f"oidc.eks.{REGION}.amazonaws.com/id/{OIDC_ID}"
OIDC_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
EKS_ECR = f"602401143452.dkr.ecr.{REGION}.amazonaws.com"
EPOCH_MINUTES = 29_013_120  # 2025-03-01T00:00Z in minutes: the CronJob controller's Job suffixes

# per unit of scale
UNIT_NAMESPACES = 10
UNIT_NODES = 25
UNIT_PODS = 1500
UNIT_OBJECTS = 600  # SPC objects: 3 per SPC on average
UNIT_SECRETS = 1000
UNIT_PARAMETERS = 100
OTHER_ROLES = 10  # per unit, besides the 4 per namespace
SYSTEM_DAEMONSETS = 4  # aws-node, kube-proxy, the CSI driver, the AWS provider: one pod per node
COREDNS_REPLICAS = 2

# per namespace: 20 workloads (15 Deployments, 3 StatefulSets, 2 CronJobs)
SERVICES = (
    "api",
    "web",
    "worker",
    "gateway",
    "consumer",
    "scheduler",
    "exporter",
    "notifier",
    "processor",
    "auth",
    "importer",
    "renderer",
    "reconciler",
    "uploader",
    "frontend",
    "indexer",
    "ledger-db-proxy",
    "kafka-connect",
    "nightly-report",
    "cleanup",
)
KINDS = ("Deployment",) * 15 + ("StatefulSet",) * 3 + ("CronJob",) * 2
SHARED_SA = "batch"  # the last StatefulSet and both CronJobs of a namespace run as it
# service accounts per role: 3 own SAs + the shared one on the team role, 5 + 5 on two service roles,
# 4 on the Pod Identity role
TEAM_SAS, SVC_A_SAS, SVC_B_SAS, POD_IDENTITY_SAS = range(0, 3), range(3, 8), range(8, 13), range(13, 17)

NAMESPACE_WORDS = (
    "payments",
    "checkout",
    "search",
    "catalog",
    "identity",
    "billing",
    "orders",
    "shipping",
    "inventory",
    "pricing",
    "fraud",
    "notifications",
    "analytics",
    "media",
    "profile",
    "reviews",
    "recommendations",
    "loyalty",
    "support",
    "marketing",
)
THINGS = (
    "db",
    "api-key",
    "tls",
    "oauth-client",
    "redis",
    "kafka",
    "smtp",
    "signing-key",
    "webhook",
    "s3-credentials",
    "license",
    "encryption-key",
)
SHARED_SECRETS = 20  # per unit: prod/shared/* read by many workloads
ALPHANUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
LOWER = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for generated name suffixes

GiB = 1024**3


# --- the model -------------------------------------------------------------------------------------


@dataclass
class SecretRec:
    name: str
    region: str
    suffix: str
    namespace: str | None
    kms_key: str | None = None
    replica_of: str | None = None  # the primary region of a replica
    tags: tuple[tuple[str, str], ...] = ()
    deleted: bool = False

    @property
    def arn(self) -> str:
        return f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{self.name}-{self.suffix}"

    @property
    def partial_arn(self) -> str:
        return f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{self.name}"


@dataclass
class ParamRec:
    name: str
    region: str
    secure: bool
    kms_key: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:ssm:{self.region}:{ACCOUNT}:parameter/{self.name.lstrip('/')}"


@dataclass
class ObjRec:
    """One entry of an SPC's `objects`."""

    fields: dict[str, Any]
    secret: SecretRec | None = None
    param: ParamRec | None = None
    missing: bool = False  # names nothing in the snapshot


@dataclass
class SpcRec:
    name: str
    objects: list[ObjRec]
    region: str | None
    failover: bool
    pod_identity: bool
    sync: bool


@dataclass
class WorkloadRec:
    kind: str
    name: str
    replicas: int
    sa: str
    spc: SpcRec
    inline_objects: str | None = None  # the pod volume overrides `objects`
    sidecar: bool = False
    image_tag: str = "1.0.0"


@dataclass
class RoleRec:
    name: str
    path: str
    trust: dict[str, Any]
    inline: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    boundary: str | None = None
    instance_profile: str | None = None
    tags: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role{self.path}{self.name}"


@dataclass
class NamespaceRec:
    name: str
    unit: int
    index: int  # within the unit
    approved: bool  # may sync (sync.approved_namespaces)
    workloads: list[WorkloadRec] = field(default_factory=list)
    sa_roles: dict[str, str | None] = field(default_factory=dict)  # SA -> annotation role ARN
    pod_identity_sas: dict[str, str] = field(default_factory=dict)  # SA -> role ARN (association)
    kms_key: str = ""
    k8s_secrets: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (name, labels)


@dataclass
class World:
    scale: int
    seed: int
    namespaces: list[NamespaceRec] = field(default_factory=list)
    secrets: list[SecretRec] = field(default_factory=list)
    params: list[ParamRec] = field(default_factory=list)
    roles: list[RoleRec] = field(default_factory=list)
    managed: dict[str, tuple[str, dict[str, Any], str]] = field(
        default_factory=dict
    )  # arn -> (name, doc, path)
    associations: list[tuple[str, str, str]] = field(default_factory=list)  # (ns, sa, role arn)
    nodes: list[str] = field(default_factory=list)
    nodegroups: list[str] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    replicated: set[str] = field(default_factory=set)  # names with a replica in the failover region


def _suffix(rng: random.Random, n: int = 6, alphabet: str = ALPHANUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _stamp(rng: random.Random, start: int = 1_704_067_200, span: int = 36_000_000) -> str:
    """An RFC 3339 time between 2024-01-01 and early 2025, as Kubernetes prints it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + rng.randrange(span)))


def _aws_stamp(rng: random.Random) -> str:
    t = 1_704_067_200 + rng.randrange(36_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{rng.randrange(1000):03d}000+00:00"


def _namespace_name(unit: int, index: int) -> str:
    if index == 0:
        return f"legacy-{unit}"  # approved for sync-to-Secret
    n = unit * (UNIT_NAMESPACES - 1) + index - 1
    word = NAMESPACE_WORDS[n % len(NAMESPACE_WORDS)]
    return f"{word}-{n // len(NAMESPACE_WORDS)}"


def _spread(rng: random.Random, total: int, weights: list[float], minimum: int = 1) -> list[int]:
    """`total` split over len(weights) buckets in proportion, each at least `minimum`, summing exactly."""
    n = len(weights)
    rest = total - minimum * n
    if rest < 0:
        raise ValueError("not enough to give every bucket its minimum")
    s = sum(weights)
    raw = [w / s * rest for w in weights]
    out = [minimum + int(r) for r in raw]
    order = sorted(range(n), key=lambda i: (-(raw[i] - int(raw[i])), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _object_counts(rng: random.Random, n: int, total: int) -> list[int]:
    """n SPC object counts in 1..6 summing to `total` (3 on average), shuffled."""
    counts = [rng.choices((1, 2, 3, 4, 5, 6), weights=(18, 22, 22, 16, 12, 10))[0] for _ in range(n)]
    while sum(counts) != total:
        i = rng.randrange(n)
        if sum(counts) > total and counts[i] > 1:
            counts[i] -= 1
        elif sum(counts) < total and counts[i] < 6:
            counts[i] += 1
    return counts


def _irsa_trust(subs: list[str], *, like: bool = False, no_sub: bool = False) -> dict[str, Any]:
    condition: dict[str, Any] = {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}
    if not no_sub:
        op = "StringLike" if like else "StringEquals"
        value: Any = subs[0] if len(subs) == 1 else subs
        condition.setdefault(op, {})[f"{ISSUER}:sub"] = value
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": OIDC_PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ],
    }


def _service_trust(service: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": ["sts:AssumeRole", "sts:TagSession"]
        if service == "pods.eks.amazonaws.com"
        else "sts:AssumeRole",
    }
    statements = [statement]
    if extra:
        statements.append(extra)
    return {"Version": "2012-10-17", "Statement": statements}


def _sub(ns: str, sa: str) -> str:
    return f"system:serviceaccount:{ns}:{sa}"


def _secret_arn_pattern(rec: SecretRec, rng: random.Random) -> str:
    """How a hand-written policy names one secret: exact, `-??????`, or a too-broad `name*`."""
    r = rng.random()
    if r < 0.45:
        return rec.arn
    if r < 0.85:
        return f"{rec.partial_arn}-??????"
    return f"{rec.partial_arn}*"


AWS_MANAGED: dict[str, tuple[str, dict[str, Any]]] = {
    "AmazonEKSWorkerNodePolicy": (
        "/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WorkerNodePermissions",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:DescribeInstances",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeRouteTables",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeVolumes",
                        "ec2:DescribeVolumesModifications",
                        "ec2:DescribeVpcs",
                        "eks:DescribeCluster",
                        "eks-auth:AssumeRoleForPodIdentity",
                    ],
                    "Resource": "*",
                }
            ],
        },
    ),
    "AmazonEC2ContainerRegistryReadOnly": (
        "/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "ecr:GetAuthorizationToken",
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:GetRepositoryPolicy",
                        "ecr:DescribeRepositories",
                        "ecr:ListImages",
                        "ecr:DescribeImages",
                        "ecr:BatchGetImage",
                        "ecr:GetLifecyclePolicy",
                        "ecr:GetLifecyclePolicyPreview",
                        "ecr:ListTagsForResource",
                        "ecr:DescribeImageScanFindings",
                    ],
                    "Resource": "*",
                }
            ],
        },
    ),
    "AmazonEKS_CNI_Policy": (
        "/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AmazonEKSCNIPolicy",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:AttachNetworkInterface",
                        "ec2:CreateNetworkInterface",
                        "ec2:DeleteNetworkInterface",
                        "ec2:DescribeInstances",
                        "ec2:DescribeTags",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeSubnets",
                        "ec2:DetachNetworkInterface",
                        "ec2:ModifyNetworkInterfaceAttribute",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "AmazonEKSCNIPolicyENITag",
                    "Effect": "Allow",
                    "Action": ["ec2:CreateTags"],
                    "Resource": ["arn:aws:ec2:*:*:network-interface/*"],
                },
            ],
        },
    ),
    "AmazonSSMManagedInstanceCore": (
        "/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "ssm:DescribeAssociation",
                        "ssm:GetDeployablePatchSnapshotForInstance",
                        "ssm:GetDocument",
                        "ssm:DescribeDocument",
                        "ssm:GetManifest",
                        "ssm:GetParameter",
                        "ssm:GetParameters",
                        "ssm:ListAssociations",
                        "ssm:ListInstanceAssociations",
                        "ssm:PutInventory",
                        "ssm:PutComplianceItems",
                        "ssm:PutConfigurePackageResult",
                        "ssm:UpdateAssociationStatus",
                        "ssm:UpdateInstanceAssociationStatus",
                        "ssm:UpdateInstanceInformation",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "ssmmessages:CreateControlChannel",
                        "ssmmessages:CreateDataChannel",
                        "ssmmessages:OpenControlChannel",
                        "ssmmessages:OpenDataChannel",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "ec2messages:AcknowledgeMessage",
                        "ec2messages:DeleteMessage",
                        "ec2messages:FailMessage",
                        "ec2messages:GetEndpoint",
                        "ec2messages:GetMessages",
                        "ec2messages:SendReply",
                    ],
                    "Resource": "*",
                },
            ],
        },
    ),
    "AWSLambdaBasicExecutionRole": (
        "/service-role/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": "*",
                }
            ],
        },
    ),
    "SecretsManagerReadWrite": (
        "/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "BasePermissions",
                    "Effect": "Allow",
                    "Action": [
                        "secretsmanager:*",
                        "cloudformation:CreateChangeSet",
                        "cloudformation:DescribeChangeSet",
                        "cloudformation:DescribeStackResource",
                        "cloudformation:DescribeStacks",
                        "cloudformation:ExecuteChangeSet",
                        "docdb-elastic:GetCluster",
                        "docdb-elastic:ListClusters",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeVpcs",
                        "kms:DescribeKey",
                        "kms:ListAliases",
                        "kms:ListKeys",
                        "lambda:ListFunctions",
                        "rds:DescribeDBClusters",
                        "rds:DescribeDBInstances",
                        "redshift:DescribeClusters",
                        "tag:GetResources",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "LambdaPermissions",
                    "Effect": "Allow",
                    "Action": [
                        "lambda:AddPermission",
                        "lambda:CreateFunction",
                        "lambda:GetFunction",
                        "lambda:InvokeFunction",
                        "lambda:UpdateFunctionConfiguration",
                    ],
                    "Resource": "arn:aws:lambda:*:*:function:SecretsManager*",
                },
                {
                    "Sid": "SARPermissions",
                    "Effect": "Allow",
                    "Action": [
                        "serverlessrepo:CreateCloudFormationChangeSet",
                        "serverlessrepo:GetApplication",
                    ],
                    "Resource": "arn:aws:serverlessrepo:*:*:applications/SecretsManager*",
                },
                {
                    "Sid": "S3Permissions",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": [
                        "arn:aws:s3:::awsserverlessrepo-changesets*",
                        "arn:aws:s3:::secrets-manager-rotation-apps-*/*",
                    ],
                },
            ],
        },
    ),
    "SecurityAudit": (
        "/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "acm:Describe*",
                        "acm:List*",
                        "cloudtrail:DescribeTrails",
                        "cloudtrail:GetEventSelectors",
                        "cloudtrail:GetTrailStatus",
                        "cloudwatch:DescribeAlarms",
                        "ec2:Describe*",
                        "ecr:DescribeRepositories",
                        "ecr:GetRepositoryPolicy",
                        "eks:Describe*",
                        "eks:List*",
                        "iam:GenerateCredentialReport",
                        "iam:Get*",
                        "iam:List*",
                        "iam:SimulateCustomPolicy",
                        "iam:SimulatePrincipalPolicy",
                        "kms:Describe*",
                        "kms:Get*",
                        "kms:List*",
                        "lambda:GetPolicy",
                        "lambda:ListFunctions",
                        "s3:GetBucket*",
                        "s3:GetEncryptionConfiguration",
                        "s3:ListAllMyBuckets",
                        "secretsmanager:DescribeSecret",
                        "secretsmanager:GetResourcePolicy",
                        "secretsmanager:ListSecrets",
                        "ssm:DescribeParameters",
                        "ssm:ListDocuments",
                    ],
                    "Resource": "*",
                }
            ],
        },
    ),
    "ReadOnlyAccess": (
        "/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadOnlyActions",
                    "Effect": "Allow",
                    "Action": [
                        "acm:Describe*",
                        "acm:Get*",
                        "acm:List*",
                        "autoscaling:Describe*",
                        "cloudformation:Describe*",
                        "cloudformation:Get*",
                        "cloudformation:List*",
                        "cloudwatch:Describe*",
                        "cloudwatch:Get*",
                        "cloudwatch:List*",
                        "dynamodb:BatchGet*",
                        "dynamodb:Describe*",
                        "dynamodb:Get*",
                        "dynamodb:List*",
                        "dynamodb:Query",
                        "dynamodb:Scan",
                        "ec2:Describe*",
                        "ec2:Get*",
                        "ecr:BatchGet*",
                        "ecr:Describe*",
                        "ecr:Get*",
                        "ecr:List*",
                        "eks:Describe*",
                        "eks:List*",
                        "iam:Get*",
                        "iam:List*",
                        "kms:Describe*",
                        "kms:Get*",
                        "kms:List*",
                        "lambda:Get*",
                        "lambda:List*",
                        "logs:Describe*",
                        "logs:Get*",
                        "logs:FilterLogEvents",
                        "rds:Describe*",
                        "rds:List*",
                        "s3:Get*",
                        "s3:List*",
                        "secretsmanager:DescribeSecret",
                        "secretsmanager:GetResourcePolicy",
                        "secretsmanager:ListSecrets",
                        "secretsmanager:ListSecretVersionIds",
                        "sns:Get*",
                        "sns:List*",
                        "sqs:Get*",
                        "sqs:List*",
                        "ssm:Describe*",
                        "ssm:Get*",
                        "ssm:List*",
                        "sts:GetCallerIdentity",
                        "tag:Get*",
                    ],
                    "Resource": "*",
                }
            ],
        },
    ),
    "AmazonRDSEnhancedMonitoringRole": (
        "/service-role/",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EnableCreationAndManagementOfRDSCloudwatchLogGroups",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
                    "Resource": ["arn:aws:logs:*:*:log-group:RDS*"],
                },
                {
                    "Sid": "EnableCreationAndManagementOfRDSCloudwatchLogStreams",
                    "Effect": "Allow",
                    "Action": [
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                        "logs:GetLogEvents",
                    ],
                    "Resource": ["arn:aws:logs:*:*:log-group:RDS*:log-stream:*"],
                },
            ],
        },
    ),
    "AdministratorAccess": (
        "/",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    ),
}


def _aws_managed(world: World, name: str) -> str:
    path, doc = AWS_MANAGED[name]
    arn = f"arn:aws:iam::aws:policy{path}{name}"
    world.managed.setdefault(arn, (name, doc, path))
    return arn


def _customer_managed(world: World, name: str, doc: dict[str, Any], path: str = "/") -> str:
    arn = f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"
    world.managed.setdefault(arn, (name, doc, path))
    return arn


def _secretsmanager(region: str = REGION) -> str:
    return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:"


def _ssm(region: str = REGION) -> str:
    return f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/"


VIA_SERVICE = [f"secretsmanager.{REGION}.amazonaws.com", f"ssm.{REGION}.amazonaws.com"]
SM_READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]


def build_world(scale: int, seed: int) -> World:
    rng = random.Random(f"iamscope-bench:{seed}:{scale}")
    world = World(scale=scale, seed=seed)
    total_nodes = UNIT_NODES * scale
    world.nodes = sorted(
        {
            f"ip-10-{rng.randrange(16, 64)}-{rng.randrange(256)}-{rng.randrange(1, 255)}"
            f".{REGION}.compute.internal"
            for _ in range(total_nodes * 2)
        }
    )
    rng.shuffle(world.nodes)
    world.nodes = sorted(world.nodes[:total_nodes])
    app_pods = UNIT_PODS * scale - SYSTEM_DAEMONSETS * total_nodes - COREDNS_REPLICAS

    # what a business unit's workloads share (one policy per unit: what it covers never grows with
    # the account, so neither does the cost of a role that attaches it)
    shared_reads = [
        _customer_managed(
            world,
            f"shared-secrets-read-u{unit}",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "SharedSecrets",
                        "Effect": "Allow",
                        "Action": SM_READ,
                        "Resource": f"{_secretsmanager()}prod/shared/u{unit}/*",
                    },
                    {
                        "Sid": "CommonParameters",
                        "Effect": "Allow",
                        "Action": ["ssm:GetParameters", "ssm:GetParameter"],
                        "Resource": f"{_ssm()}prod/common/u{unit}/*",
                    },
                ],
            },
        )
        for unit in range(scale)
    ]
    boundary = _customer_managed(
        world,
        "eks-workload-boundary",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadSecrets",
                    "Effect": "Allow",
                    "Action": [
                        "secretsmanager:GetSecretValue",
                        "secretsmanager:DescribeSecret",
                        "ssm:GetParameters",
                        "ssm:GetParameter",
                        "kms:Decrypt",
                        "sts:AssumeRole",
                        "s3:GetObject",
                        "s3:PutObject",
                        "sqs:*",
                        "sns:Publish",
                        "dynamodb:*",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "NoPlatformSecrets",
                    "Effect": "Deny",
                    "Action": "secretsmanager:*",
                    "Resource": f"{_secretsmanager()}prod/platform/*",
                },
            ],
        },
        path="/boundaries/",
    )

    shared_pool: list[list[SecretRec]] = []
    common_params: list[ParamRec] = []
    for unit in range(scale):
        pool = []
        for k in range(SHARED_SECRETS):
            rec = SecretRec(
                name=f"prod/shared/u{unit}/{THINGS[k % len(THINGS)]}-{k}",
                region=REGION,
                suffix=_suffix(rng),
                namespace=None,
                tags=(("team", "platform"),),
            )
            world.secrets.append(rec)
            pool.append(rec)
        shared_pool.append(pool)
        for k in range(2):
            p = ParamRec(name=f"/prod/common/u{unit}/setting-{k}", region=REGION, secure=False)
            world.params.append(p)
            common_params.append(p)

    # namespaces, workloads, SPCs, service accounts and the roles they use
    namespaces = [
        NamespaceRec(name=_namespace_name(u, i), unit=u, index=i, approved=i == 0)
        for u in range(scale)
        for i in range(UNIT_NAMESPACES)
    ]
    world.namespaces = namespaces
    n_workloads = len(namespaces) * len(SERVICES)
    object_counts = _object_counts(rng, n_workloads, UNIT_OBJECTS * scale)

    # pods: CronJobs keep two finished Jobs (one pod each); StatefulSets 1-5; Deployments the rest
    kinds = [k for _ in namespaces for k in KINDS]
    replicas = [0] * n_workloads
    sts = [i for i, k in enumerate(kinds) if k == "StatefulSet"]
    cron = [i for i, k in enumerate(kinds) if k == "CronJob"]
    deploy = [i for i, k in enumerate(kinds) if k == "Deployment"]
    for i in sts:
        replicas[i] = rng.choice((1, 2, 3, 3, 3, 5))
    for i in cron:
        replicas[i] = 2
    left = app_pods - sum(replicas)
    weights = [rng.lognormvariate(0, 1.0) for _ in deploy]
    for i, n in zip(deploy, _spread(rng, left, weights), strict=True):
        replicas[i] = n

    secret_by_key: dict[tuple[str, str], SecretRec] = {}
    w = 0
    for ns in namespaces:
        nrng = random.Random(f"{seed}:{ns.name}:model")
        ns.kms_key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{_uid(nrng)}"
        own_secrets: list[SecretRec] = []
        for i, svc in enumerate(SERVICES):
            kind = KINDS[i]
            sa = SHARED_SA if i >= 17 else svc
            pod_identity = i in POD_IDENTITY_SAS
            failover = nrng.random() < 0.05
            objects: list[ObjRec] = []
            for j in range(object_counts[w]):
                objects.append(
                    _object(
                        world, nrng, ns, svc, j, failover, shared_pool[ns.unit], common_params, own_secrets
                    )
                )
            sync = (ns.approved and nrng.random() < 0.5) or (not ns.approved and nrng.random() < 0.01)
            spc = SpcRec(
                name=f"{svc}-secrets",
                objects=objects,
                region=REGION if nrng.random() < 0.9 else None,
                failover=failover,
                pod_identity=pod_identity,
                sync=sync,
            )
            wl = WorkloadRec(
                kind=kind,
                name=svc,
                replicas=replicas[w],
                sa=sa,
                spc=spc,
                sidecar=nrng.random() < 0.15,
                image_tag=f"{nrng.randrange(1, 9)}.{nrng.randrange(40)}.{nrng.randrange(20)}",
            )
            if ns.index == 5 and i == 0:  # one pod template per unit names its objects inline
                other = shared_pool[ns.unit][nrng.randrange(SHARED_SECRETS)]
                wl.inline_objects = (
                    f'- objectName: "{other.name}"\n  objectType: "secretsmanager"\n  objectAlias: "extra"\n'
                )
            ns.workloads.append(wl)
            w += 1
        for rec in own_secrets:
            secret_by_key[(rec.region, rec.name)] = rec
        ns.k8s_secrets = [(f"{svc}-tls", {"app.kubernetes.io/name": svc}) for svc in SERVICES[:3]] + [
            (f"sh.helm.release.v1.{ns.name}.v{nrng.randrange(1, 30)}", {"owner": "helm"})
        ]
        for wl in ns.workloads:
            if wl.spc.sync:
                ns.k8s_secrets.append((f"{wl.name}-synced", {"secrets-store.csi.k8s.io/managed": "true"}))

    # roles: 4 per namespace (team, two service roles, one Pod Identity role)
    for ns in namespaces:
        _namespace_roles(world, ns, shared_reads[ns.unit], boundary)
    # 10 other roles per unit: nodes or EC2, Lambda, a chained reader, CI, cross-account audit, ...
    for unit in range(scale):
        _other_roles(world, unit, namespaces[unit * UNIT_NAMESPACES : (unit + 1) * UNIT_NAMESPACES])

    # secrets and parameters nobody mounts, up to the unit's totals
    _fill_secrets(world, rng, UNIT_SECRETS * scale)
    _fill_params(world, rng, UNIT_PARAMETERS * scale)
    return world


def _object(
    world: World,
    rng: random.Random,
    ns: NamespaceRec,
    svc: str,
    j: int,
    failover: bool,
    pool: list[SecretRec],
    common_params: list[ParamRec],
    own_secrets: list[SecretRec],
) -> ObjRec:
    """One SPC object: a parameter (8%), a shared secret (10%), a secret of another namespace (1%),
    one that does not exist (1%), or the workload's own secret; named by name (60%), full ARN (20%),
    or partial ARN (20%); some with jmesPath, an alias, a version label, a failover object."""
    r = rng.random()
    fields: dict[str, Any] = {}
    if r < 0.08:
        if rng.random() < 0.2:
            p = rng.choice(common_params)
        else:
            p = ParamRec(
                name=f"/prod/{ns.name}/{svc}/{THINGS[j % len(THINGS)]}-config",
                region=REGION,
                secure=rng.random() < 0.5,
                kms_key=ns.kms_key if rng.random() < 0.3 else None,
            )
            world.params.append(p)
        if failover:
            world.params.append(ParamRec(name=p.name, region=FAILOVER_REGION, secure=p.secure))
        fields["objectName"] = p.name
        fields["objectType"] = "ssmparameter"
        if rng.random() < 0.5:
            fields["objectAlias"] = p.name.rsplit("/", 1)[-1]
        return ObjRec(fields=fields, param=p)
    missing = False
    if r < 0.18:
        rec = rng.choice(pool)
    elif r < 0.19 and world.namespaces:
        # a secret of a neighbouring namespace (made up front if that namespace has none yet)
        other = world.namespaces[(ns.unit * UNIT_NAMESPACES + (ns.index + 1) % UNIT_NAMESPACES)]
        rec = SecretRec(
            name=f"prod/{other.name}/shared-with/{ns.name}-{svc}-{j}",
            region=REGION,
            suffix=_suffix(rng),
            namespace=other.name,
            tags=(("team", other.name), ("kubernetes-namespace", other.name)),
        )
        world.secrets.append(rec)
    elif r < 0.20:
        missing = True
        rec = SecretRec(
            name=f"prod/{ns.name}/{svc}/retired-{THINGS[j % len(THINGS)]}",
            region=REGION,
            suffix=_suffix(rng),
            namespace=ns.name,
        )
    else:
        admin = rng.random() < 0.02  # under prod/<ns>/admin/: the team role's Deny covers it
        base = f"prod/{ns.name}/admin/{svc}" if admin else f"prod/{ns.name}/{svc}"
        rec = SecretRec(
            name=f"{base}/{THINGS[j % len(THINGS)]}",
            region=REGION,
            suffix=_suffix(rng),
            namespace=ns.name,
            kms_key=ns.kms_key if rng.random() < 0.2 else None,
            tags=(("team", ns.name), ("kubernetes-namespace", ns.name), ("service", svc)),
        )
        world.secrets.append(rec)
        own_secrets.append(rec)
    if failover and not missing:
        _replicate(world, rec)
    how = rng.random()
    if how < 0.6 or missing:
        fields["objectName"] = rec.name
        fields["objectType"] = "secretsmanager"
    elif how < 0.8:
        fields["objectName"] = rec.arn
    else:
        fields["objectName"] = rec.partial_arn
        fields["objectType"] = "secretsmanager"
    if rng.random() < 0.7:
        fields["objectAlias"] = f"{rec.name.rsplit('/', 1)[-1]}.json"
    if rng.random() < 0.15:
        short = rec.name.rsplit("/", 1)[-1]
        fields["jmesPath"] = [
            {"path": "username", "objectAlias": f"{short}-user"},
            {"path": "password", "objectAlias": f"{short}-password"},
        ]
    if rng.random() < 0.05:
        fields["objectVersionLabel"] = "AWSCURRENT"
    if rng.random() < 0.05:
        fields["filePermission"] = "0440"
    if failover and rng.random() < 0.3 and not missing and rec.namespace == ns.name:
        fields.setdefault("objectAlias", f"{rec.name.rsplit('/', 1)[-1]}.json")
        fields["failoverObject"] = {
            "objectName": f"arn:aws:secretsmanager:{FAILOVER_REGION}:{ACCOUNT}:secret:{rec.name}-{rec.suffix}"
        }
    return ObjRec(fields=fields, secret=rec, missing=missing)


def _replicate(world: World, rec: SecretRec) -> None:
    """A replica in the failover region of a secret another team owns (once)."""
    if rec.name in world.replicated:
        return
    world.replicated.add(rec.name)
    world.secrets.append(
        SecretRec(
            name=rec.name,
            region=FAILOVER_REGION,
            suffix=rec.suffix,
            namespace=rec.namespace,
            replica_of=REGION,
            tags=rec.tags,
        )
    )


def _needs(ns: NamespaceRec, sas: Iterable[str]) -> tuple[list[SecretRec], list[ParamRec], bool]:
    """What the workloads running as these SAs mount: secrets, parameters, and whether any fails over."""
    wanted = set(sas)
    secrets: dict[str, SecretRec] = {}
    params: dict[str, ParamRec] = {}
    failover = False
    for wl in ns.workloads:
        if wl.sa not in wanted:
            continue
        failover = failover or wl.spc.failover
        for o in wl.spc.objects:
            if o.secret is not None and not o.missing:
                secrets.setdefault(o.secret.arn, o.secret)
            if o.param is not None:
                params.setdefault(o.param.arn, o.param)
    return list(secrets.values()), list(params.values()), failover


def _own_sas(ns: NamespaceRec, indexes: range) -> list[str]:
    return [SERVICES[i] for i in indexes]


def _namespace_roles(world: World, ns: NamespaceRec, shared_read: str, boundary: str) -> None:
    rng = random.Random(f"{world.seed}:{ns.name}:roles")
    prefix = f"{CLUSTER}-{ns.name}"
    common = _customer_managed(
        world,
        f"{ns.name}-common-read",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TeamCommon",
                    "Effect": "Allow",
                    "Action": SM_READ,
                    "Resource": f"{_secretsmanager()}prod/{ns.name}/common/*",
                },
                {
                    "Sid": "TeamKey",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": ns.kms_key,
                    "Condition": {"StringEquals": {"kms:ViaService": VIA_SERVICE}},
                },
            ],
        },
        path="/teams/",
    )
    bounded = rng.random() < 0.5

    # the team role: prefix grants and a Deny; trusted by its SAs, or by every SA of the namespace
    team_sas = [*_own_sas(ns, TEAM_SAS), SHARED_SA]
    # one role in the account trusts every SA of the cluster (no sub condition): one, whatever the
    # scale, as a misconfiguration is; one per unit would make the SA x role pairs grow quadratically
    cluster_wide = ns.index == 3 and ns.unit == 0
    broad = ns.index % 5 == 1  # a fifth of the team roles trust every SA of their namespace (StringLike)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "TeamSecrets",
            "Effect": "Allow",
            "Action": SM_READ,
            "Resource": f"{_secretsmanager()}prod/{ns.name}/*",
        },
        {
            "Sid": "NoAdminSecrets",
            "Effect": "Deny",
            "Action": "secretsmanager:*",
            "Resource": f"{_secretsmanager()}prod/{ns.name}/admin/*",
        },
        {
            "Sid": "TeamParameters",
            "Effect": "Allow",
            "Action": ["ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"],
            "Resource": f"{_ssm()}prod/{ns.name}/*",
        },
    ]
    _, _, team_failover = _needs(ns, team_sas)
    if team_failover:
        statements[0]["Resource"] = [
            f"{_secretsmanager()}prod/{ns.name}/*",
            f"{_secretsmanager(FAILOVER_REGION)}prod/{ns.name}/*",
        ]
        statements[2]["Resource"] = [f"{_ssm()}prod/{ns.name}/*", f"{_ssm(FAILOVER_REGION)}prod/{ns.name}/*"]
    if ns.index == 0 and ns.unit % 10 == 0:
        statements.append(
            {"Sid": "Legacy", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
        )
    team = RoleRec(
        name=f"{prefix}-team",
        path="/eks/",
        trust=_irsa_trust([_sub(ns.name, "*")], like=True, no_sub=cluster_wide)
        if broad
        else _irsa_trust([_sub(ns.name, sa) for sa in team_sas], no_sub=cluster_wide),
        inline=[("team-secrets", {"Version": "2012-10-17", "Statement": statements})],
        attached=[common, shared_read],
        boundary=boundary if bounded else None,
        tags=[("team", ns.name), ("managed-by", "terraform")],
        description=f"Team role of {ns.name}",
    )
    world.roles.append(team)
    for sa in team_sas:
        ns.sa_roles[sa] = team.arn

    # two service roles: StringEquals on a list of subs, per-secret grants
    for label, indexes in (("a", SVC_A_SAS), ("b", SVC_B_SAS)):
        sas = _own_sas(ns, indexes)
        secrets, params, _ = _needs(ns, sas)
        trusted = [s for s in sas if rng.random() > 0.03]  # a few SAs were left out of the trust
        resources = [_secret_arn_pattern(s, rng) for s in secrets if rng.random() > 0.02]
        if rng.random() < 0.1:  # a grant nobody here declares: another namespace's secret
            stranger = world.secrets[rng.randrange(len(world.secrets))]
            resources.append(stranger.arn)
        actions: Any = SM_READ
        if rng.random() < 0.05:
            actions = "secretsmanager:Get*" if rng.random() < 0.5 else "secretsmanager:*"
        statements = []
        if resources:
            statements.append(
                {"Sid": "ServiceSecrets", "Effect": "Allow", "Action": actions, "Resource": sorted(resources)}
            )
        if params:
            statements.append(
                {
                    "Sid": "ServiceParameters",
                    "Effect": "Allow",
                    "Action": "ssm:GetParameters",
                    "Resource": sorted(
                        {p.arn if rng.random() < 0.7 else f"{_ssm(p.region)}prod/{ns.name}/*" for p in params}
                    ),
                }
            )
        keys = sorted({s.kms_key for s in secrets if s.kms_key} | {p.kms_key for p in params if p.kms_key})
        if keys:
            statements.append(
                {
                    "Sid": "Decrypt",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": keys,
                    "Condition": {"StringEquals": {"kms:ViaService": VIA_SERVICE}},
                }
            )
        if rng.random() < 0.1:
            statements.append(
                {
                    "Sid": "RegionPinned",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": f"{_secretsmanager()}prod/{ns.name}/{sas[0]}/*",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": [REGION, FAILOVER_REGION]}},
                }
            )
        if rng.random() < 0.05:
            statements.append(
                {
                    "Sid": "OfficeOnly",
                    "Effect": "Deny",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": f"{_secretsmanager()}prod/{ns.name}/{sas[-1]}/*",
                    "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}},
                }
            )
        if ns.index == 2 and label == "a":  # this one also chains into the unit's reports reader
            statements.append(
                {
                    "Sid": "ReportsReader",
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": f"arn:aws:iam::{ACCOUNT}:role/shared/reports-reader-{ns.unit}",
                }
            )
        if not statements:
            statements.append({"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"})
        role = RoleRec(
            name=f"{prefix}-svc-{label}",
            path="/eks/",
            trust=_irsa_trust([_sub(ns.name, s) for s in trusted] or [_sub(ns.name, sas[0] + "-old")]),
            inline=[("secrets", {"Version": "2012-10-17", "Statement": statements})],
            attached=[common] + ([shared_read] if rng.random() < 0.7 else []),
            boundary=boundary if bounded else None,
            tags=[("team", ns.name), ("managed-by", "terraform")],
            description=f"Service role {label} of {ns.name}",
        )
        world.roles.append(role)
        for sa in sas:
            ns.sa_roles[sa] = role.arn if rng.random() > 0.01 else f"{role.arn}-typo"

    # the Pod Identity role: associations name the SAs; per-secret grants, ABAC in a few
    sas = _own_sas(ns, POD_IDENTITY_SAS)
    secrets, params, _ = _needs(ns, sas)
    statements = [
        {
            "Sid": "Secrets",
            "Effect": "Allow",
            "Action": SM_READ,
            "Resource": sorted({_secret_arn_pattern(s, rng) for s in secrets}) or f"{_secretsmanager()}none",
        }
    ]
    if params:
        statements.append(
            {
                "Sid": "Parameters",
                "Effect": "Allow",
                "Action": "ssm:GetParameters",
                "Resource": sorted({p.arn for p in params}),
            }
        )
    if ns.index == 4 and ns.unit == 0:  # one ABAC role (a tag condition on every secret)
        statements.append(
            {
                "Sid": "SameNamespace",
                "Effect": "Allow",
                "Action": SM_READ,
                "Resource": f"{_secretsmanager()}*",
                "Condition": {
                    "StringEquals": {
                        "aws:ResourceTag/kubernetes-namespace": "${aws:PrincipalTag/kubernetes-namespace}"
                    }
                },
            }
        )
    pod_role = RoleRec(
        name=f"{prefix}-pod-identity",
        path="/eks/",
        trust=_service_trust("pods.eks.amazonaws.com"),
        inline=[("secrets", {"Version": "2012-10-17", "Statement": statements})],
        attached=[common],
        boundary=boundary if bounded else None,
        tags=[("team", ns.name), ("managed-by", "terraform")],
        description=f"Pod Identity role of {ns.name}",
    )
    world.roles.append(pod_role)
    for sa in sas:
        ns.pod_identity_sas[sa] = pod_role.arn
        world.associations.append((ns.name, sa, pod_role.arn))


def _other_roles(world: World, unit: int, namespaces: list[NamespaceRec]) -> None:
    rng = random.Random(f"{world.seed}:unit{unit}:other-roles")
    ec2 = _service_trust("ec2.amazonaws.com")
    if unit % 10 == 0:
        group = f"ng-{unit // 10}"
        world.nodegroups.append(group)
        world.roles.append(
            RoleRec(
                name=f"{CLUSTER}-{group}-NodeInstanceRole",
                path="/",
                trust=ec2,
                attached=[
                    _aws_managed(world, "AmazonEKSWorkerNodePolicy"),
                    _aws_managed(world, "AmazonEC2ContainerRegistryReadOnly"),
                    _aws_managed(world, "AmazonEKS_CNI_Policy"),
                    _aws_managed(world, "AmazonSSMManagedInstanceCore"),
                ],
                instance_profile=f"eks-{_uid(rng)}",
                tags=[("eks:nodegroup-name", group), ("eks:cluster-name", CLUSTER)],
            )
        )
    else:
        world.roles.append(
            RoleRec(
                name=f"batch-worker-{unit}",
                path="/",
                trust=ec2,
                attached=[_aws_managed(world, "AmazonSSMManagedInstanceCore")],
                inline=[
                    (
                        "s3",
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject", "s3:PutObject"],
                                    "Resource": f"arn:aws:s3:::batch-{unit}-*/*",
                                }
                            ],
                        },
                    )
                ],
                instance_profile=f"batch-worker-{unit}",
            )
        )
    lambda_trust = _service_trust("lambda.amazonaws.com")
    basic = _aws_managed(world, "AWSLambdaBasicExecutionRole")
    for k, ns in enumerate(namespaces[1:3]):
        actions = SM_READ
        if k == 1:  # a rotation function
            actions = [
                *SM_READ,
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
                "secretsmanager:GetRandomPassword",
            ]
        world.roles.append(
            RoleRec(
                name=f"{ns.name}-fn-{_suffix(rng, 8, LOWER)}",
                path="/service-role/",
                trust=lambda_trust,
                attached=[basic],
                inline=[
                    (
                        "secrets",
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": actions,
                                    "Resource": f"{_secretsmanager()}prod/{ns.name}/lambda/*",
                                }
                            ],
                        },
                    )
                ],
            )
        )
    reader_trust = _service_trust(
        "lambda.amazonaws.com",
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/eks/{CLUSTER}-{namespaces[2].name}-svc-a"},
            "Action": "sts:AssumeRole",
        },
    )
    world.roles.append(
        RoleRec(
            name=f"reports-reader-{unit}",
            path="/shared/",
            trust=reader_trust,
            inline=[
                (
                    "reports",
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": SM_READ,
                                "Resource": f"{_secretsmanager()}prod/reports/u{unit}/*",
                            }
                        ],
                    },
                )
            ],
        )
    )
    github = "token.actions.githubusercontent.com"
    for k in range(2):
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{github}"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{github}:aud": "sts.amazonaws.com"},
                        "StringLike": {f"{github}:sub": f"repo:example-org/{namespaces[3 + k].name}:*"},
                    },
                }
            ],
        }
        role = RoleRec(name=f"github-deploy-{unit}-{k}", path="/ci/", trust=trust)
        if k == 0:
            role.attached = [_aws_managed(world, "SecretsManagerReadWrite")]
        else:
            role.inline = [
                (
                    "deploy",
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["ecr:*", "eks:DescribeCluster", "eks:ListClusters"],
                                "Resource": "*",
                            },
                            {
                                "Effect": "Allow",
                                "Action": "iam:PassRole",
                                "Resource": f"arn:aws:iam::{ACCOUNT}:role/eks/*",
                            },
                        ],
                    },
                )
            ]
        world.roles.append(role)
    for k, policy in enumerate(("SecurityAudit", "ReadOnlyAccess")):
        world.roles.append(
            RoleRec(
                name=f"audit-{unit}-{policy.lower()}",
                path="/",
                trust={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{AUDIT_ACCOUNT}:root"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": f"audit-{unit}-{k}"}},
                        }
                    ],
                },
                attached=[_aws_managed(world, policy)],
            )
        )
    world.roles.append(
        RoleRec(
            name=f"rds-monitoring-{unit}",
            path="/",
            trust=_service_trust("monitoring.rds.amazonaws.com"),
            attached=[_aws_managed(world, "AmazonRDSEnhancedMonitoringRole")],
        )
    )
    if unit % 5 == 0:
        world.roles.append(
            RoleRec(
                name=f"break-glass-{unit}",
                path="/",
                trust={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/corp-idp"},
                            "Action": "sts:AssumeRoleWithSAML",
                            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
                        }
                    ],
                },
                attached=[_aws_managed(world, "AdministratorAccess")],
            )
        )
    else:
        world.roles.append(
            RoleRec(
                name=f"data-pipeline-{unit}",
                path="/service-role/",
                trust=_service_trust("glue.amazonaws.com"),
                inline=[
                    (
                        "pipeline",
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                                    "Resource": [
                                        f"arn:aws:s3:::datalake-{unit}",
                                        f"arn:aws:s3:::datalake-{unit}/*",
                                    ],
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": "secretsmanager:GetSecretValue",
                                    "Resource": f"{_secretsmanager()}prod/data/u{unit}/*",
                                },
                            ],
                        },
                    )
                ],
            )
        )
    world.users.append(
        {
            "Path": "/",
            "UserName": f"legacy-app-{unit}",
            "UserId": f"AIDA{_suffix(rng, 17).upper()}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:user/legacy-app-{unit}",
            "CreateDate": _aws_stamp(rng),
            "UserPolicyList": [
                {
                    "PolicyName": "secrets",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "secretsmanager:GetSecretValue",
                                "Resource": f"{_secretsmanager()}prod/{namespaces[0].name}/*",
                            }
                        ],
                    },
                }
            ],
            "GroupList": [f"developers-{unit}"],
            "AttachedManagedPolicies": [],
            "Tags": [],
        }
    )
    world.groups.append(
        {
            "Path": "/",
            "GroupName": f"developers-{unit}",
            "GroupId": f"AGPA{_suffix(rng, 17).upper()}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:group/developers-{unit}",
            "CreateDate": _aws_stamp(rng),
            "GroupPolicyList": [],
            "AttachedManagedPolicies": [
                {"PolicyName": "ReadOnlyAccess", "PolicyArn": _aws_managed(world, "ReadOnlyAccess")}
            ],
        }
    )


def _fill_secrets(world: World, rng: random.Random, total: int) -> None:
    seen = {(s.region, s.name) for s in world.secrets}
    if len(seen) != len(world.secrets):  # a shared secret is appended once, but be sure
        unique: dict[tuple[str, str], SecretRec] = {}
        for s in world.secrets:
            unique.setdefault((s.region, s.name), s)
        world.secrets = list(unique.values())
    if len(world.secrets) > total:
        raise SystemExit(f"the model references {len(world.secrets)} secrets, more than {total}")
    names = [ns.name for ns in world.namespaces]
    k = 0
    while len(world.secrets) < total:
        ns = names[k % len(names)]
        r = rng.random()
        if r < 0.35:
            name = f"prod/{ns}/{rng.choice(SERVICES)}/old-{rng.choice(THINGS)}-{k}"
        elif r < 0.55:
            name = f"staging/{ns}/{rng.choice(SERVICES)}/{rng.choice(THINGS)}-{k}"
        elif r < 0.65:
            name = f"dev/{ns}/{rng.choice(THINGS)}-{k}"
        elif r < 0.75:
            name = f"rds!db-{_uid(rng)}"
        elif r < 0.82:
            name = f"prod/{ns}/common/{rng.choice(THINGS)}-{k}"
        elif r < 0.88:
            name = f"prod/{ns}/admin/{rng.choice(THINGS)}-{k}"
        elif r < 0.93:
            name = f"prod/{ns}/lambda/{rng.choice(THINGS)}-{k}"
        elif r < 0.97:
            name = f"prod/platform/{rng.choice(THINGS)}-{k}"
        else:
            name = f"prod/reports/u{k % world.scale}/{rng.choice(THINGS)}-{k}"
        k += 1
        if (REGION, name) in seen:
            continue
        seen.add((REGION, name))
        world.secrets.append(
            SecretRec(
                name=name,
                region=REGION,
                suffix=_suffix(rng),
                namespace=ns if name.startswith(("prod/", "staging/", "dev/")) else None,
                kms_key=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{_uid(rng)}" if rng.random() < 0.1 else None,
                tags=(("team", ns), ("kubernetes-namespace", ns)),
                deleted=rng.random() < 0.005,
            )
        )


def _fill_params(world: World, rng: random.Random, total: int) -> None:
    unique: dict[tuple[str, str], ParamRec] = {}
    for p in world.params:
        unique.setdefault((p.region, p.name), p)
    world.params = list(unique.values())
    if len(world.params) > total:
        raise SystemExit(f"the model references {len(world.params)} parameters, more than {total}")
    names = [ns.name for ns in world.namespaces]
    k = 0
    while len(world.params) < total:
        ns = names[k % len(names)]
        r = rng.random()
        if r < 0.5:
            name = f"/prod/{ns}/feature-flags/{rng.choice(SERVICES)}-{k}"
        elif r < 0.8:
            name = f"/staging/{ns}/{rng.choice(SERVICES)}/config-{k}"
        else:
            name = f"/platform/ami/{rng.choice(('al2023', 'bottlerocket'))}-{k}"
        k += 1
        if (REGION, name) in unique:
            continue
        p = ParamRec(name=name, region=REGION, secure=rng.random() < 0.3)
        unique[(REGION, name)] = p
        world.params.append(p)


# --- streaming JSON ----------------------------------------------------------------------------------


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def dumps(value: Any, *, sort_keys: bool) -> str:
    return json.dumps(value, indent=4, sort_keys=sort_keys, ensure_ascii=False)


def stream_object(
    out: TextIO,
    before: dict[str, Any],
    key: str,
    items: Iterable[str],
    after: dict[str, Any],
    *,
    sort_keys: bool,
) -> int:
    """Write `{**before, key: [items...], **after}` exactly as json.dumps(indent=4) prints it, where
    each item arrives already dumped (indent=4, at column 0). Returns the number of items."""
    head = dumps(before, sort_keys=sort_keys)[:-2] if before else "{"
    out.write(head + ("," if before else "") + f"\n    {json.dumps(key)}: [")
    n = 0
    for text in items:
        out.write(("," if n else "") + "\n" + _indent(text, 8))
        n += 1
    out.write("\n    ]" if n else "]")
    if after:
        tail = dumps(after, sort_keys=sort_keys)
        out.write(",\n" + tail[2:])
    else:
        out.write("\n}")
    out.write("\n")
    return n


def kube_list(path: Path, items: Iterable[str]) -> int:
    """`kubectl get <plural> -A -o json`: a List of objects with sorted keys, four-space indented."""
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        return stream_object(
            out,
            {"apiVersion": "v1"},
            "items",
            items,
            {"kind": "List", "metadata": {"resourceVersion": ""}},
            sort_keys=True,
        )


def aws_file(
    path: Path, key: str, items: Iterable[dict[str, Any]], after: dict[str, Any] | None = None
) -> int:
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        return stream_object(
            out, {}, key, (dumps(i, sort_keys=False) for i in items), after or {}, sort_keys=False
        )


# --- Kubernetes objects ------------------------------------------------------------------------------


def _meta(
    rng: random.Random, name: str, namespace: str | None, labels: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "creationTimestamp": _stamp(rng),
        "name": name,
        "resourceVersion": str(rng.randrange(10_000_000, 99_999_999)),
        "uid": _uid(rng),
    }
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    meta.update(extra)
    return meta


def _labels(ns: NamespaceRec, wl: WorkloadRec) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": wl.name,
        "app.kubernetes.io/part-of": ns.name,
        "app.kubernetes.io/version": wl.image_tag,
        "argocd.argoproj.io/instance": ns.name,
    }


def _container(ns: NamespaceRec, wl: WorkloadRec, rng: random.Random) -> dict[str, Any]:
    env = [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "SERVICE_NAME", "value": wl.name},
        {"name": "SECRETS_DIR", "value": "/mnt/secrets-store"},
        {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.monitoring:4317"},
    ]
    port = 8000 + rng.randrange(100)
    return {
        "env": env,
        "image": f"{ECR}/{ns.name}/{wl.name}:{wl.image_tag}",
        "imagePullPolicy": "IfNotPresent",
        "name": wl.name,
        "ports": [{"containerPort": port, "name": "http", "protocol": "TCP"}],
        "readinessProbe": {
            "failureThreshold": 3,
            "httpGet": {"path": "/readyz", "port": "http", "scheme": "HTTP"},
            "periodSeconds": 10,
            "successThreshold": 1,
            "timeoutSeconds": 1,
        },
        "resources": {
            "limits": {"memory": f"{rng.choice((256, 512, 1024, 2048))}Mi"},
            "requests": {"cpu": f"{rng.choice((50, 100, 250, 500))}m", "memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [
            {"mountPath": "/mnt/secrets-store", "name": "secrets-store-inline", "readOnly": True},
            {"mountPath": "/tmp", "name": "tmp"},
        ],
    }


def _sidecar() -> dict[str, Any]:
    return {
        "args": ["--config=/etc/fluent-bit/fluent-bit.conf"],
        "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2",
        "imagePullPolicy": "IfNotPresent",
        "name": "log-router",
        "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "25m", "memory": "64Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [{"mountPath": "/etc/fluent-bit", "name": "fluent-bit-config", "readOnly": True}],
    }


def _template_spec(ns: NamespaceRec, wl: WorkloadRec, rng: random.Random) -> dict[str, Any]:
    attributes = {"secretProviderClass": wl.spc.name}
    if wl.inline_objects:
        attributes["objects"] = wl.inline_objects
    containers = [_container(ns, wl, rng)]
    volumes: list[dict[str, Any]] = [
        {
            "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True, "volumeAttributes": attributes},
            "name": "secrets-store-inline",
        },
        {"emptyDir": {}, "name": "tmp"},
    ]
    if wl.sidecar:
        containers.append(_sidecar())
        volumes.append(
            {"configMap": {"defaultMode": 420, "name": "fluent-bit-config"}, "name": "fluent-bit-config"}
        )
    spec: dict[str, Any] = {
        "containers": containers,
        "dnsPolicy": "ClusterFirst",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "restartPolicy": "OnFailure" if wl.kind == "CronJob" else "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {"fsGroup": 10001, "runAsGroup": 10001, "runAsUser": 10001},
        "serviceAccount": wl.sa,
        "serviceAccountName": wl.sa,
        "terminationGracePeriodSeconds": 30,
        "volumes": volumes,
    }
    if rng.random() < 0.2:
        spec["topologySpreadConstraints"] = [
            {
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": wl.name}},
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
            }
        ]
    return spec


def _pod_from_template(
    ns: NamespaceRec, wl: WorkloadRec, template: dict[str, Any], rng: random.Random
) -> dict[str, Any]:
    """The template as the API server stores a pod made from it: the webhook-injected AWS env and
    token volume, the service-account token volume, the default tolerations."""
    spec = json.loads(json.dumps(template))
    role = ns.sa_roles.get(wl.sa)
    injected: list[dict[str, Any]] = []
    token_volume: dict[str, Any] | None = None
    mount: dict[str, Any] | None = None
    if wl.sa in ns.pod_identity_sas:
        injected = [
            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
            {"name": "AWS_DEFAULT_REGION", "value": REGION},
            {"name": "AWS_REGION", "value": REGION},
            {"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://169.254.170.23/v1/credentials"},
            {
                "name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
            },
        ]
        mount = {
            "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount",
            "name": "eks-pod-identity-token",
            "readOnly": True,
        }
        token_volume = {
            "name": "eks-pod-identity-token",
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {
                        "serviceAccountToken": {
                            "audience": "pods.eks.amazonaws.com",
                            "expirationSeconds": 86400,
                            "path": "eks-pod-identity-token",
                        }
                    }
                ],
            },
        }
    elif role:
        injected = [
            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
            {"name": "AWS_DEFAULT_REGION", "value": REGION},
            {"name": "AWS_REGION", "value": REGION},
            {"name": "AWS_ROLE_ARN", "value": role},
            {
                "name": "AWS_WEB_IDENTITY_TOKEN_FILE",
                "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
            },
        ]
        mount = {
            "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount",
            "name": "aws-iam-token",
            "readOnly": True,
        }
        token_volume = {
            "name": "aws-iam-token",
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {
                        "serviceAccountToken": {
                            "audience": "sts.amazonaws.com",
                            "expirationSeconds": 86400,
                            "path": "token",
                        }
                    }
                ],
            },
        }
    api_mount = {
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        "name": "@@TOKVOL@@",
        "readOnly": True,
    }
    for c in spec["containers"]:
        c.setdefault("env", []).extend(injected)
        if mount:
            c["volumeMounts"].append(mount)
        c["volumeMounts"].append(api_mount)
    if token_volume:
        spec["volumes"].insert(0, token_volume)
    spec["volumes"].append(
        {
            "name": "@@TOKVOL@@",
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            "name": "kube-root-ca.crt",
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    "path": "namespace",
                                }
                            ]
                        }
                    },
                ],
            },
        }
    )
    spec["enableServiceLinks"] = True
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    spec["priority"] = 0
    spec["tolerations"] = [
        {
            "effect": "NoExecute",
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "tolerationSeconds": 300,
        },
        {
            "effect": "NoExecute",
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "tolerationSeconds": 300,
        },
    ]
    spec["nodeName"] = "@@NODE@@"
    return spec


def _pod_status(spec: dict[str, Any], phase: str) -> dict[str, Any]:
    done = phase == "Succeeded"
    conditions = [
        {"lastProbeTime": None, "lastTransitionTime": "@@START@@", "status": "True", "type": t}
        for t in ("PodReadyToStartContainers", "Initialized")
    ] + [
        {
            "lastProbeTime": None,
            "lastTransitionTime": "@@START@@",
            "status": "False" if done else "True",
            "type": t,
            **({"reason": "PodCompleted"} if done else {}),
        }
        for t in ("Ready", "ContainersReady")
    ]
    conditions.append(
        {"lastProbeTime": None, "lastTransitionTime": "@@START@@", "status": "True", "type": "PodScheduled"}
    )
    statuses = []
    for k, c in enumerate(spec["containers"]):
        state: dict[str, Any] = (
            {
                "terminated": {
                    "containerID": f"containerd://@@CID{k}@@",
                    "exitCode": 0,
                    "finishedAt": "@@START@@",
                    "reason": "Completed",
                    "startedAt": "@@START@@",
                }
            }
            if done
            else {"running": {"startedAt": "@@START@@"}}
        )
        statuses.append(
            {
                "containerID": f"containerd://@@CID{k}@@",
                "image": c["image"],
                "imageID": c["image"].split(":", 1)[0] + "@sha256:@@DIGEST@@",
                "lastState": {},
                "name": c["name"],
                "ready": not done,
                "restartCount": 0,
                "started": not done,
                "state": state,
                "volumeMounts": [
                    {**m, "recursiveReadOnly": "Disabled"} for m in c["volumeMounts"] if m.get("readOnly")
                ],
            }
        )
    return {
        "conditions": conditions,
        "containerStatuses": statuses,
        "hostIP": "@@HOSTIP@@",
        "hostIPs": [{"ip": "@@HOSTIP@@"}],
        "phase": phase,
        "podIP": "@@PODIP@@",
        "podIPs": [{"ip": "@@PODIP@@"}],
        "qosClass": "Burstable",
        "startTime": "@@START@@",
    }


PLACEHOLDER = re.compile(r"@@([A-Z0-9]+)@@")


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


@dataclass
class PodPlan:
    name: str
    template: str  # key into the namespace's pod templates
    pending: bool


def _rs_hash(rng: random.Random) -> str:
    return _suffix(rng, 10, LOWER)


def _node_ip(node: str) -> str:
    return ".".join(node.split(".")[0].split("-")[1:5])


def _workload_objects(world: World, ns: NamespaceRec) -> dict[str, list[dict[str, Any]]]:
    """Every object of one namespace by plural (pods as templates plus their per-pod plans)."""
    rng = random.Random(f"{world.seed}:{ns.name}:objects")
    out: dict[str, list[Any]] = {
        "deployments": [],
        "replicasets": [],
        "statefulsets": [],
        "cronjobs": [],
        "jobs": [],
        "pod_templates": [],
        "pods": [],
    }
    used: set[str] = set()  # pod names of the namespace
    for wl in ns.workloads:
        labels = _labels(ns, wl)
        selector = {"app.kubernetes.io/name": wl.name}
        spec = _template_spec(ns, wl, rng)
        template = {"metadata": {"creationTimestamp": None, "labels": dict(labels)}, "spec": spec}
        if wl.kind == "Deployment":
            revision = rng.randrange(2, 60)
            dep_uid = _uid(rng)
            current_name = f"{wl.name}-{_rs_hash(rng)}"
            out["deployments"].append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": _meta(
                        rng,
                        wl.name,
                        ns.name,
                        labels,
                        annotations={"deployment.kubernetes.io/revision": str(revision)},
                        generation=revision + rng.randrange(5),
                        uid=dep_uid,
                    ),
                    "spec": {
                        "progressDeadlineSeconds": 600,
                        "replicas": wl.replicas,
                        "revisionHistoryLimit": 10,
                        "selector": {"matchLabels": selector},
                        "strategy": {
                            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                            "type": "RollingUpdate",
                        },
                        "template": template,
                    },
                    "status": {
                        "availableReplicas": wl.replicas,
                        "conditions": [
                            {
                                "lastTransitionTime": _stamp(rng),
                                "lastUpdateTime": _stamp(rng),
                                "message": "Deployment has minimum availability.",
                                "reason": "MinimumReplicasAvailable",
                                "status": "True",
                                "type": "Available",
                            },
                            {
                                "lastTransitionTime": _stamp(rng),
                                "lastUpdateTime": _stamp(rng),
                                "message": f'ReplicaSet "{current_name}" has successfully progressed.',
                                "reason": "NewReplicaSetAvailable",
                                "status": "True",
                                "type": "Progressing",
                            },
                        ],
                        "observedGeneration": revision,
                        "readyReplicas": wl.replicas,
                        "replicas": wl.replicas,
                        "updatedReplicas": wl.replicas,
                    },
                }
            )
            current = current_name
            for k in range(3):  # the current ReplicaSet and two old ones scaled to zero
                digest = current_name.rsplit("-", 1)[1] if k == 0 else _rs_hash(rng)
                rs_labels = {**labels, "pod-template-hash": digest}
                n = wl.replicas if k == 0 else 0
                rs_name = f"{wl.name}-{digest}"
                rs_template = {"metadata": {"creationTimestamp": None, "labels": rs_labels}, "spec": spec}
                rs_uid = _uid(rng)
                out["replicasets"].append(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "metadata": _meta(
                            rng,
                            rs_name,
                            ns.name,
                            rs_labels,
                            annotations={
                                "deployment.kubernetes.io/desired-replicas": str(wl.replicas),
                                "deployment.kubernetes.io/max-replicas": str(wl.replicas + 1),
                                "deployment.kubernetes.io/revision": str(revision - k),
                            },
                            generation=1 + k,
                            ownerReferences=[_owner_ref("apps/v1", "Deployment", wl.name, dep_uid)],
                            uid=rs_uid,
                        ),
                        "spec": {
                            "replicas": n,
                            "selector": {"matchLabels": {**selector, "pod-template-hash": digest}},
                            "template": rs_template,
                        },
                        "status": {
                            "availableReplicas": n,
                            "fullyLabeledReplicas": n,
                            "observedGeneration": 1 + k,
                            "readyReplicas": n,
                            "replicas": n,
                        }
                        if n
                        else {"observedGeneration": 1 + k, "replicas": 0},
                    }
                )
                if k == 0:
                    out["pod_templates"].append(
                        (
                            wl,
                            rs_labels,
                            _owner_ref("apps/v1", "ReplicaSet", rs_name, rs_uid),
                            template,
                            "Running",
                        )
                    )
            key = len(out["pod_templates"]) - 1
            for _ in range(wl.replicas):
                name = f"{current}-{_suffix(rng, 5, LOWER)}"
                while name in used:  # the API server retries a generated name that is taken
                    name = f"{current}-{_suffix(rng, 5, LOWER)}"
                used.add(name)
                out["pods"].append(PodPlan(name=name, template=str(key), pending=rng.random() < 0.01))
        elif wl.kind == "StatefulSet":
            sts_uid = _uid(rng)
            revision = f"{wl.name}-{_rs_hash(rng)}"
            out["statefulsets"].append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "metadata": _meta(
                        rng, wl.name, ns.name, labels, generation=rng.randrange(1, 20), uid=sts_uid
                    ),
                    "spec": {
                        "persistentVolumeClaimRetentionPolicy": {
                            "whenDeleted": "Retain",
                            "whenScaled": "Retain",
                        },
                        "podManagementPolicy": "OrderedReady",
                        "replicas": wl.replicas,
                        "revisionHistoryLimit": 10,
                        "selector": {"matchLabels": selector},
                        "serviceName": wl.name,
                        "template": template,
                        "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
                    },
                    "status": {
                        "availableReplicas": wl.replicas,
                        "collisionCount": 0,
                        "currentReplicas": wl.replicas,
                        "currentRevision": revision,
                        "observedGeneration": 1,
                        "readyReplicas": wl.replicas,
                        "replicas": wl.replicas,
                        "updateRevision": revision,
                        "updatedReplicas": wl.replicas,
                    },
                }
            )
            for k in range(wl.replicas):
                pod_labels = {
                    **labels,
                    "apps.kubernetes.io/pod-index": str(k),
                    "controller-revision-hash": revision,
                    "statefulset.kubernetes.io/pod-name": f"{wl.name}-{k}",
                }
                out["pod_templates"].append(
                    (
                        wl,
                        pod_labels,
                        _owner_ref("apps/v1", "StatefulSet", wl.name, sts_uid),
                        template,
                        "Running",
                    )
                )
                out["pods"].append(
                    PodPlan(name=f"{wl.name}-{k}", template=str(len(out["pod_templates"]) - 1), pending=False)
                )
        else:  # CronJob with two finished Jobs
            cj_uid = _uid(rng)
            schedule_minutes = 60 * rng.randrange(1, 24)
            job_template = {
                "metadata": {"creationTimestamp": None},
                "spec": {"backoffLimit": 2, "template": template},
            }
            out["cronjobs"].append(
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "metadata": _meta(
                        rng, wl.name, ns.name, labels, generation=rng.randrange(1, 10), uid=cj_uid
                    ),
                    "spec": {
                        "concurrencyPolicy": "Forbid",
                        "failedJobsHistoryLimit": 1,
                        "jobTemplate": job_template,
                        "schedule": f"{rng.randrange(60)} */{schedule_minutes // 60} * * *",
                        "successfulJobsHistoryLimit": 2,
                        "suspend": False,
                    },
                    "status": {"lastScheduleTime": _stamp(rng), "lastSuccessfulTime": _stamp(rng)},
                }
            )
            for k in range(wl.replicas):
                minute = EPOCH_MINUTES - schedule_minutes * (k + 1)
                job_name = f"{wl.name}-{minute}"
                job_uid = _uid(rng)
                job_labels = {
                    **labels,
                    "batch.kubernetes.io/controller-uid": job_uid,
                    "batch.kubernetes.io/job-name": job_name,
                    "controller-uid": job_uid,
                    "job-name": job_name,
                }
                out["jobs"].append(
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "metadata": _meta(
                            rng,
                            job_name,
                            ns.name,
                            job_labels,
                            annotations={"batch.kubernetes.io/job-tracking": ""},
                            generation=1,
                            ownerReferences=[_owner_ref("batch/v1", "CronJob", wl.name, cj_uid)],
                            uid=job_uid,
                        ),
                        "spec": {
                            "backoffLimit": 2,
                            "completionMode": "NonIndexed",
                            "completions": 1,
                            "manualSelector": False,
                            "parallelism": 1,
                            "podReplacementPolicy": "TerminatingOrFailed",
                            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}},
                            "suspend": False,
                            "template": {
                                "metadata": {"creationTimestamp": None, "labels": job_labels},
                                "spec": spec,
                            },
                        },
                        "status": {
                            "completionTime": _stamp(rng),
                            "conditions": [
                                {
                                    "lastProbeTime": _stamp(rng),
                                    "lastTransitionTime": _stamp(rng),
                                    "status": "True",
                                    "type": "Complete",
                                }
                            ],
                            "ready": 0,
                            "startTime": _stamp(rng),
                            "succeeded": 1,
                            "terminating": 0,
                            "uncountedTerminatedPods": {},
                        },
                    }
                )
                out["pod_templates"].append(
                    (wl, job_labels, _owner_ref("batch/v1", "Job", job_name, job_uid), template, "Succeeded")
                )
                out["pods"].append(
                    PodPlan(
                        name=f"{job_name}-{_suffix(rng, 5, LOWER)}",
                        template=str(len(out["pod_templates"]) - 1),
                        pending=False,
                    )
                )
    return out


def _owner_ref(api: str, kind: str, name: str, uid: str) -> dict[str, Any]:
    return {
        "apiVersion": api,
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": kind,
        "name": name,
        "uid": uid,
    }


def _pod_text_template(
    ns: NamespaceRec,
    entry: tuple[WorkloadRec, dict[str, str], dict[str, Any], dict[str, Any], str],
    rng: random.Random,
) -> str:
    wl, labels, owner, template, phase = entry
    spec = _pod_from_template(ns, wl, template["spec"], rng)
    metadata: dict[str, Any] = {
        "creationTimestamp": "@@START@@",
        "labels": labels,
        "name": "@@NAME@@",
        "namespace": ns.name,
        "ownerReferences": [owner],
        "resourceVersion": "@@RV@@",
        "uid": "@@UID@@",
    }
    if owner["kind"] != "StatefulSet":
        metadata["generateName"] = owner["name"] + "-"
    else:
        spec["hostname"] = "@@NAME@@"
        spec["subdomain"] = wl.name
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": _pod_status(spec, phase),
    }
    return dumps(pod, sort_keys=True)


def _pending_pod(text: str) -> str:
    """A pod the scheduler could not place yet: no node, no IPs, no container statuses."""
    pod = json.loads(text)
    pod["spec"].pop("nodeName", None)
    pod["status"] = {
        "conditions": [
            {
                "lastProbeTime": None,
                "lastTransitionTime": pod["metadata"]["creationTimestamp"],
                "message": "0/2500 nodes are available: 2500 Insufficient cpu. preemption: 0/2500 nodes are "
                "available: 2500 No preemption victims found for incoming pod.",
                "reason": "Unschedulable",
                "status": "False",
                "type": "PodScheduled",
            }
        ],
        "phase": "Pending",
        "qosClass": "Burstable",
    }
    return dumps(pod, sort_keys=True)


def _pod_values(plan: PodPlan, world: World, rng: random.Random) -> dict[str, str]:
    node = world.nodes[rng.randrange(len(world.nodes))]
    host = _node_ip(node)
    a, b, _, _ = host.split(".")
    return {
        "NAME": plan.name,
        "UID": _uid(rng),
        "RV": str(rng.randrange(10_000_000, 99_999_999)),
        "START": _stamp(rng, 1_740_000_000, 700_000),
        "NODE": node,
        "HOSTIP": host,
        "PODIP": f"{a}.{b}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "CID0": f"{rng.getrandbits(256):064x}",
        "CID1": f"{rng.getrandbits(256):064x}",
        "DIGEST": f"{rng.getrandbits(256):064x}",
        "TOKVOL": f"kube-api-access-{_suffix(rng, 5, LOWER)}",
    }


# --- kube-system ------------------------------------------------------------------------------------


def _system_objects(world: World) -> dict[str, list[dict[str, Any]]]:
    """The driver and provider (the chart as the demo installs it, defaults and all), aws-node,
    kube-proxy, coredns, the driver's RBAC."""
    rng = random.Random(f"{world.seed}:kube-system")
    out: dict[str, list[dict[str, Any]]] = {
        "serviceaccounts": [],
        "clusterroles": [],
        "clusterrolebindings": [],
        "daemonsets": [],
        "deployments": [],
    }
    plural = {
        "ServiceAccount": "serviceaccounts",
        "ClusterRole": "clusterroles",
        "ClusterRoleBinding": "clusterrolebindings",
        "DaemonSet": "daemonsets",
    }
    for doc in yaml.safe_load_all(HELM_FIXTURE.read_text(encoding="utf-8")):
        if not isinstance(doc, dict) or doc.get("kind") not in plural:
            continue
        meta = doc.setdefault("metadata", {})
        meta.update(
            {
                "creationTimestamp": _stamp(rng),
                "resourceVersion": str(rng.randrange(10_000_000, 99_999_999)),
                "uid": _uid(rng),
            }
        )
        out[plural[doc["kind"]]].append(doc)
    for name, image in (
        ("aws-node", f"{EKS_ECR}/amazon-k8s-cni:v1.19.2-eksbuild.1"),
        (
            "kube-proxy",
            "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/kube-proxy:v1.31.3-minimal-eksbuild.2",
        ),
    ):
        out["serviceaccounts"].append(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(rng, name, "kube-system")}
        )
        out["daemonsets"].append(
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": _meta(rng, name, "kube-system", {"k8s-app": name}),
                "spec": {
                    "selector": {"matchLabels": {"k8s-app": name}},
                    "template": {
                        "metadata": {"labels": {"k8s-app": name}},
                        "spec": {
                            "containers": [
                                {
                                    "image": image,
                                    "name": name,
                                    "securityContext": {"privileged": name == "kube-proxy"},
                                }
                            ],
                            "hostNetwork": True,
                            "priorityClassName": "system-node-critical",
                            "serviceAccountName": name,
                            "tolerations": [{"operator": "Exists"}],
                        },
                    },
                    "updateStrategy": {"rollingUpdate": {"maxUnavailable": "10%"}, "type": "RollingUpdate"},
                },
            }
        )
    out["serviceaccounts"].append(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(rng, "coredns", "kube-system")}
    )
    out["deployments"].append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(rng, "coredns", "kube-system", {"k8s-app": "kube-dns"}),
            "spec": {
                "replicas": COREDNS_REPLICAS,
                "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                "template": {
                    "metadata": {"labels": {"k8s-app": "kube-dns"}},
                    "spec": {
                        "containers": [
                            {
                                "image": f"{EKS_ECR}/eks/coredns:v1.11.4-eksbuild.2",
                                "name": "coredns",
                            }
                        ],
                        "serviceAccountName": "coredns",
                    },
                },
            },
        }
    )
    for d in out["daemonsets"]:
        for key in ("status",):
            d[key] = {
                "currentNumberScheduled": len(world.nodes),
                "desiredNumberScheduled": len(world.nodes),
                "numberAvailable": len(world.nodes),
                "numberMisscheduled": 0,
                "numberReady": len(world.nodes),
                "observedGeneration": 1,
                "updatedNumberScheduled": len(world.nodes),
            }
    return out


def _system_pods(world: World, system: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, str]]:
    """(name, text) of every kube-system pod: one per node per DaemonSet, and coredns."""
    rng = random.Random(f"{world.seed}:kube-system:pods")
    owners = [(d, "DaemonSet") for d in system["daemonsets"]] + [
        (d, "ReplicaSet") for d in system["deployments"]
    ]
    for obj, kind in owners:
        spec = json.loads(json.dumps(obj["spec"]["template"]["spec"]))
        spec.setdefault("serviceAccountName", "default")
        spec["serviceAccount"] = spec["serviceAccountName"]
        labels = dict(obj["spec"]["template"].get("metadata", {}).get("labels", {}))
        name = obj["metadata"]["name"]
        if kind == "ReplicaSet":
            digest = _rs_hash(rng)
            owner_name = f"{name}-{digest}"
            labels["pod-template-hash"] = digest
            nodes = [world.nodes[rng.randrange(len(world.nodes))] for _ in range(obj["spec"]["replicas"])]
        else:
            owner_name = name
            labels["controller-revision-hash"] = _rs_hash(rng)
            nodes = list(world.nodes)
        owner = _owner_ref("apps/v1", kind, owner_name, obj["metadata"]["uid"])
        taken: set[str] = set()
        for node in nodes:
            spec["nodeName"] = node
            ip = _node_ip(node)
            pod_name = f"{owner_name}-{_suffix(rng, 5, LOWER)}"
            while pod_name in taken:  # the API server retries a generated name that is taken
                pod_name = f"{owner_name}-{_suffix(rng, 5, LOWER)}"
            taken.add(pod_name)
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "creationTimestamp": _stamp(rng),
                    "generateName": owner_name + "-",
                    "labels": labels,
                    "name": pod_name,
                    "namespace": "kube-system",
                    "ownerReferences": [owner],
                    "resourceVersion": str(rng.randrange(10_000_000, 99_999_999)),
                    "uid": _uid(rng),
                },
                "spec": spec,
                "status": {
                    "hostIP": ip,
                    "phase": "Running",
                    "podIP": ip
                    if spec.get("hostNetwork")
                    else f"10.{rng.randrange(16, 64)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    "qosClass": "Burstable",
                    "startTime": _stamp(rng),
                },
            }
            yield pod_name, dumps(pod, sort_keys=True)


def _node(world: World, name: str, rng: random.Random, index: int) -> dict[str, Any]:
    zone = f"{REGION}{'abc'[index % 3]}"
    group = world.nodegroups[index % len(world.nodegroups)] if world.nodegroups else "ng-0"
    instance = rng.choice(("m6i.2xlarge", "m6i.4xlarge", "c6i.4xlarge", "r6i.2xlarge"))
    ip = _node_ip(name)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(
            rng,
            name,
            None,
            {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/instance-type": instance,
                "beta.kubernetes.io/os": "linux",
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "eks.amazonaws.com/nodegroup": group,
                "eks.amazonaws.com/nodegroup-image": "ami-0c2b8ca1dad447f8a",
                "failure-domain.beta.kubernetes.io/region": REGION,
                "failure-domain.beta.kubernetes.io/zone": zone,
                "k8s.io/cloud-provider-aws": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": instance,
                "topology.k8s.aws/zone-id": f"euw1-az{index % 3 + 1}",
                "topology.kubernetes.io/region": REGION,
                "topology.kubernetes.io/zone": zone,
            },
            annotations={
                "alpha.kubernetes.io/provided-node-ip": ip,
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        ),
        "spec": {"providerID": f"aws:///{zone}/i-0{rng.getrandbits(64):016x}"},
        "status": {
            "addresses": [
                {"address": ip, "type": "InternalIP"},
                {"address": name, "type": "InternalDNS"},
                {"address": name, "type": "Hostname"},
            ],
            "allocatable": {
                "cpu": "7910m",
                "ephemeral-storage": "76224326324",
                "memory": "31482436Ki",
                "pods": "110",
            },
            "capacity": {
                "cpu": "8",
                "ephemeral-storage": "83873772Ki",
                "memory": "32499268Ki",
                "pods": "110",
            },
            "conditions": [
                {
                    "lastHeartbeatTime": _stamp(rng),
                    "lastTransitionTime": _stamp(rng),
                    "message": message,
                    "reason": reason,
                    "status": status,
                    "type": kind,
                }
                for kind, status, reason, message in (
                    (
                        "MemoryPressure",
                        "False",
                        "KubeletHasSufficientMemory",
                        "kubelet has sufficient memory available",
                    ),
                    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    (
                        "PIDPressure",
                        "False",
                        "KubeletHasSufficientPID",
                        "kubelet has sufficient PID available",
                    ),
                    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                )
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": _uid(rng),
                "containerRuntimeVersion": "containerd://1.7.23",
                "kernelVersion": "6.1.119-129.201.amzn2023.x86_64",
                "kubeProxyVersion": "v1.31.3-eks-59bf375",
                "kubeletVersion": "v1.31.3-eks-59bf375",
                "machineID": f"{rng.getrandbits(128):032x}",
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023.6.20241212",
                "systemUUID": _uid(rng),
            },
        },
    }


# --- writing ----------------------------------------------------------------------------------------


def _objects_yaml(objects: list[ObjRec]) -> str:
    """The `objects` string as people write it in a SPC (block YAML, quoted strings)."""
    lines = []
    for o in objects:
        first = True
        for key, value in o.fields.items():
            lead = "- " if first else "  "
            first = False
            if isinstance(value, list):
                lines.append(f"{lead}{key}:")
                for entry in value:
                    sub = list(entry.items())
                    lines.append(f"    - {sub[0][0]}: {json.dumps(sub[0][1])}")
                    lines.extend(f"      {k}: {json.dumps(v)}" for k, v in sub[1:])
            elif isinstance(value, dict):
                lines.append(f"{lead}{key}:")
                lines.extend(f"    {k}: {json.dumps(v)}" for k, v in value.items())
            else:
                lines.append(f"{lead}{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def _spc_object(ns: NamespaceRec, wl: WorkloadRec, rng: random.Random) -> dict[str, Any]:
    spc = wl.spc
    parameters: dict[str, str] = {"objects": _objects_yaml(spc.objects)}
    if spc.region:
        parameters["region"] = spc.region
    if spc.failover:
        parameters["failoverRegion"] = FAILOVER_REGION
    if spc.pod_identity:
        parameters["usePodIdentity"] = "true"
    if rng.random() < 0.1:
        parameters["pathTranslation"] = "False"
    spec: dict[str, Any] = {"parameters": parameters, "provider": "aws"}
    if spc.sync:
        first = spc.objects[0].fields
        alias = first.get("objectAlias") or first["objectName"].rsplit("/", 1)[-1]
        spec["secretObjects"] = [
            {
                "data": [{"key": "value", "objectName": alias}],
                "labels": {"app.kubernetes.io/name": wl.name},
                "secretName": f"{wl.name}-synced",
                "type": "Opaque",
            }
        ]
    return {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": _meta(
            rng,
            spc.name,
            ns.name,
            {"app.kubernetes.io/name": wl.name, "argocd.argoproj.io/instance": ns.name},
            generation=rng.randrange(1, 6),
        ),
        "spec": spec,
    }


def _service_accounts(ns: NamespaceRec, rng: random.Random) -> list[dict[str, Any]]:
    names = sorted({wl.sa for wl in ns.workloads} | {"default"})
    out = []
    for name in names:
        annotations = {}
        role = ns.sa_roles.get(name)
        if role and name not in ns.pod_identity_sas:
            annotations["eks.amazonaws.com/role-arn"] = role
            if rng.random() < 0.3:
                annotations["eks.amazonaws.com/sts-regional-endpoints"] = "true"
        labels = (
            {"app.kubernetes.io/name": name, "argocd.argoproj.io/instance": ns.name}
            if name != "default"
            else None
        )
        meta = _meta(rng, name, ns.name, labels)
        if annotations:
            meta["annotations"] = annotations
        out.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})
    return out


def _rbac(world: World) -> dict[str, list[dict[str, Any]]]:
    """A little RBAC: per namespace the developers' `edit` binding; per unit one Role that lets the
    developers write SecretProviderClasses (what the spc-write-access check is for)."""
    rng = random.Random(f"{world.seed}:rbac")
    roles, bindings = [], []
    for ns in world.namespaces:
        bindings.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": _meta(rng, "developers-edit", ns.name),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                "subjects": [
                    {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Group",
                        "name": f"{ns.name}-developers",
                    }
                ],
            }
        )
        if ns.index == 6:
            roles.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": _meta(rng, "spc-editor", ns.name),
                    "rules": [
                        {
                            "apiGroups": ["secrets-store.csi.x-k8s.io"],
                            "resources": ["secretproviderclasses"],
                            "verbs": ["get", "list", "watch", "create", "update", "patch"],
                        }
                    ],
                }
            )
            bindings.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": _meta(rng, "spc-editor", ns.name),
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": "spc-editor",
                    },
                    "subjects": [
                        {
                            "apiGroup": "rbac.authorization.k8s.io",
                            "kind": "Group",
                            "name": f"{ns.name}-developers",
                        }
                    ],
                }
            )
    return {"roles": roles, "rolebindings": bindings}


def _sorted_by_name(objs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objs, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def write_k8s(world: World, out: Path, log: Callable[[str], None]) -> dict[str, int]:
    k8s = out / "k8s"
    k8s.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    system = _system_objects(world)
    rbac = _rbac(world)
    ns_by_name = sorted(world.namespaces, key=lambda n: n.name)
    order = sorted([ns.name for ns in world.namespaces] + ["kube-system"])

    def per_namespace(plural: str) -> Iterator[str]:
        for name in order:
            if name == "kube-system":
                yield from (dumps(o, sort_keys=True) for o in _sorted_by_name(system.get(plural, [])))
                continue
            ns = next_ns[name]
            objs = _workload_objects(world, ns)[plural]
            yield from (dumps(o, sort_keys=True) for o in _sorted_by_name(objs))

    next_ns = {ns.name: ns for ns in ns_by_name}

    # namespaces and nodes
    rng = random.Random(f"{world.seed}:namespaces")
    counts["namespaces"] = kube_list(
        k8s / "namespaces.json",
        (
            dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": _meta(rng, name, None, {"kubernetes.io/metadata.name": name}),
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
                sort_keys=True,
            )
            for name in order
        ),
    )
    rng = random.Random(f"{world.seed}:nodes")
    counts["nodes"] = kube_list(
        k8s / "nodes.json",
        (dumps(_node(world, n, rng, i), sort_keys=True) for i, n in enumerate(world.nodes)),
    )
    log(f"  namespaces {counts['namespaces']}, nodes {counts['nodes']}")

    # controllers (one pass per kind: each namespace's objects are rebuilt, from the same seed)
    for plural in ("deployments", "replicasets", "statefulsets", "cronjobs", "jobs"):
        counts[plural] = kube_list(k8s / f"{plural}.json", per_namespace(plural))
        log(f"  {plural} {counts[plural]}")
    counts["daemonsets"] = kube_list(
        k8s / "daemonsets.json", (dumps(o, sort_keys=True) for o in _sorted_by_name(system["daemonsets"]))
    )

    # pods: per namespace, one text template per owner, filled per pod
    def pods() -> Iterator[str]:
        for name in order:
            if name == "kube-system":
                yield from (text for _, text in sorted(_system_pods(world, system)))
                continue
            ns = next_ns[name]
            objs = _workload_objects(world, ns)
            rng = random.Random(f"{world.seed}:{ns.name}:pods")
            templates = [_pod_text_template(ns, entry, rng) for entry in objs["pod_templates"]]
            for plan in sorted(objs["pods"], key=lambda p: p.name):
                text = _fill(templates[int(plan.template)], _pod_values(plan, world, rng))
                yield _pending_pod(text) if plan.pending else text

    counts["pods"] = kube_list(k8s / "pods.json", pods())
    log(f"  pods {counts['pods']} ({(k8s / 'pods.json').stat().st_size / 1e6:,.0f} MB)")

    def service_accounts() -> Iterator[str]:
        for name in order:
            if name == "kube-system":
                yield from (dumps(o, sort_keys=True) for o in _sorted_by_name(system["serviceaccounts"]))
                continue
            rng = random.Random(f"{world.seed}:{name}:serviceaccounts")
            yield from (dumps(o, sort_keys=True) for o in _service_accounts(next_ns[name], rng))

    counts["serviceaccounts"] = kube_list(k8s / "serviceaccounts.json", service_accounts())

    def spcs() -> Iterator[str]:
        for ns in ns_by_name:
            rng = random.Random(f"{world.seed}:{ns.name}:spcs")
            objs = [_spc_object(ns, wl, rng) for wl in ns.workloads]
            yield from (dumps(o, sort_keys=True) for o in _sorted_by_name(objs))

    counts["secretproviderclasses"] = kube_list(k8s / "secretproviderclasses.json", spcs())
    log(f"  serviceaccounts {counts['serviceaccounts']}, SPCs {counts['secretproviderclasses']}")

    def secrets() -> Iterator[str]:
        rng = random.Random(f"{world.seed}:k8s-secrets")
        for ns in ns_by_name:
            for name, labels in sorted(ns.k8s_secrets):
                yield dumps(
                    {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(rng, name, ns.name, labels)},
                    sort_keys=True,
                )

    counts["secrets"] = kube_list(k8s / "secrets.json", secrets())
    counts["roles"] = kube_list(
        k8s / "roles.json", (dumps(o, sort_keys=True) for o in _sorted_by_name(rbac["roles"]))
    )
    counts["rolebindings"] = kube_list(
        k8s / "rolebindings.json", (dumps(o, sort_keys=True) for o in _sorted_by_name(rbac["rolebindings"]))
    )
    counts["clusterroles"] = kube_list(
        k8s / "clusterroles.json", (dumps(o, sort_keys=True) for o in _sorted_by_name(system["clusterroles"]))
    )
    counts["clusterrolebindings"] = kube_list(
        k8s / "clusterrolebindings.json",
        (dumps(o, sort_keys=True) for o in _sorted_by_name(system["clusterrolebindings"])),
    )
    return counts


def _policy_id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(17))


def _role_detail(role: RoleRec, rng: random.Random) -> dict[str, Any]:
    created = _aws_stamp(rng)
    detail: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": _policy_id(rng, "AROA"),
        "Arn": role.arn,
        "CreateDate": created,
        "AssumeRolePolicyDocument": role.trust,
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in role.inline],
        "AttachedManagedPolicies": [
            {"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in role.attached
        ],
        "Tags": [{"Key": k, "Value": v} for k, v in role.tags],
        "RoleLastUsed": {"LastUsedDate": _aws_stamp(rng), "Region": REGION} if rng.random() < 0.8 else {},
    }
    if role.description:
        detail["Description"] = role.description
    if role.boundary:
        detail["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": role.boundary,
        }
    if role.instance_profile:
        detail["InstanceProfileList"] = [
            {
                "Path": "/",
                "InstanceProfileName": role.instance_profile,
                "InstanceProfileId": _policy_id(rng, "AIPA"),
                "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{role.instance_profile}",
                "CreateDate": created,
                "Roles": [
                    {
                        "Path": role.path,
                        "RoleName": role.name,
                        "RoleId": detail["RoleId"],
                        "Arn": role.arn,
                        "CreateDate": created,
                        "AssumeRolePolicyDocument": role.trust,
                    }
                ],
            }
        ]
    return detail


def write_aws(world: World, out: Path, log: Callable[[str], None]) -> dict[str, int]:
    aws = out / "aws"
    aws.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    rng = random.Random(f"{world.seed}:aws")
    attachments: dict[str, int] = {}
    boundaries: dict[str, int] = {}
    for role in world.roles:
        for a in role.attached:
            attachments[a] = attachments.get(a, 0) + 1
        if role.boundary:
            boundaries[role.boundary] = boundaries.get(role.boundary, 0) + 1
    for g in world.groups:
        for a in g["AttachedManagedPolicies"]:
            attachments[a["PolicyArn"]] = attachments.get(a["PolicyArn"], 0) + 1

    def policies() -> Iterator[dict[str, Any]]:
        for arn, (name, doc, path) in world.managed.items():
            yield {
                "PolicyName": name,
                "PolicyId": _policy_id(rng, "ANPA"),
                "Arn": arn,
                "Path": path,
                "DefaultVersionId": "v1" if ":aws:policy" in arn else f"v{rng.randrange(1, 5)}",
                "AttachmentCount": attachments.get(arn, 0),
                "PermissionsBoundaryUsageCount": boundaries.get(arn, 0),
                "IsAttachable": True,
                "CreateDate": _aws_stamp(rng),
                "UpdateDate": _aws_stamp(rng),
                "PolicyVersionList": [
                    {
                        "Document": doc,
                        "VersionId": "VERSION",
                        "IsDefaultVersion": True,
                        "CreateDate": _aws_stamp(rng),
                    }
                ],
            }

    def fixed(items: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for p in items:
            p["PolicyVersionList"][0]["VersionId"] = p["DefaultVersionId"]
            yield p

    path = aws / "iam-authorization-details.json"
    with path.open("w", encoding="utf-8", buffering=1 << 20) as f:
        # the AWS CLI's order: users, groups, roles, policies
        f.write('{\n    "UserDetailList": ' + _indent(dumps(world.users, sort_keys=False), 4)[4:] + ",\n")
        f.write('    "GroupDetailList": ' + _indent(dumps(world.groups, sort_keys=False), 4)[4:] + ",\n")
        f.write('    "RoleDetailList": [')
        for i, role in enumerate(world.roles):
            f.write(("," if i else "") + "\n" + _indent(dumps(_role_detail(role, rng), sort_keys=False), 8))
        f.write('\n    ],\n    "Policies": [')
        for i, p in enumerate(fixed(policies())):
            f.write(("," if i else "") + "\n" + _indent(dumps(p, sort_keys=False), 8))
        f.write("\n    ]\n}\n")
    counts["roles"] = len(world.roles)
    counts["managed_policies"] = len(world.managed)
    log(f"  roles {counts['roles']}, managed policies {counts['managed_policies']}")

    for region in (REGION, FAILOVER_REGION):
        items = [s for s in world.secrets if s.region == region]
        counts[f"secrets-{region}"] = aws_file(
            aws / f"secretsmanager-list-secrets-{region}.json",
            "SecretList",
            (_secret_entry(s, rng) for s in items),
        )
        params = [p for p in world.params if p.region == region]
        counts[f"parameters-{region}"] = aws_file(
            aws / f"ssm-describe-parameters-{region}.json",
            "Parameters",
            (_param_entry(p, rng) for p in params),
        )
    log(f"  secrets {len(world.secrets)}, parameters {len(world.params)}")

    cluster = {
        "cluster": {
            "name": CLUSTER,
            "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
            "createdAt": "2024-01-16T11:21:09.871000+00:00",
            "version": "1.31",
            "endpoint": f"https://{OIDC_ID}.gr7.{REGION}.eks.amazonaws.com",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-cluster-role",
            "resourcesVpcConfig": {
                "subnetIds": [
                    "subnet-0b4e8f2a6c1d3e5f7",
                    "subnet-0d6a1c3e5f7b9d2e4",
                    "subnet-07f3b5d9e1a2c4e68",
                ],
                "securityGroupIds": ["sg-0e2c4a6f8b1d3e5a7"],
                "clusterSecurityGroupId": "sg-03a5c7e9f1b2d4e68",
                "vpcId": "vpc-0c1e3a5b7d9f2e4a6",
                "endpointPublicAccess": False,
                "endpointPrivateAccess": True,
                "publicAccessCidrs": [],
            },
            "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"},
            "identity": {"oidc": {"issuer": f"https://{ISSUER}"}},
            "status": "ACTIVE",
            "platformVersion": "eks.19",
            "tags": {"environment": "bench", "managed-by": "terraform"},
            "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
        }
    }
    (aws / f"eks-describe-cluster-{CLUSTER}.json").write_text(
        dumps(cluster, sort_keys=False) + "\n", encoding="utf-8"
    )

    def associations() -> Iterator[dict[str, Any]]:
        arng = random.Random(f"{world.seed}:associations")
        for ns, sa, role in sorted(world.associations):
            ident = "a-" + _suffix(arng, 17, "abcdefghijklmnopqrstuvwxyz0123456789")
            stamp = _aws_stamp(arng)
            yield {
                "clusterName": CLUSTER,
                "namespace": ns,
                "serviceAccount": sa,
                "roleArn": role,
                "associationArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:podidentityassociation/{CLUSTER}/{ident}",
                "associationId": ident,
                "tags": {"team": ns, "managed-by": "terraform"},
                "createdAt": stamp,
                "modifiedAt": stamp,
                "disableSessionTags": False,
            }

    counts["associations"] = aws_file(
        aws / f"eks-pod-identity-associations-{CLUSTER}.json", "associations", associations()
    )
    (aws / "sts-get-caller-identity.json").write_text(
        dumps(
            {
                "UserId": "AROA3XFRBF535PLBIFPI4:bench",
                "Account": ACCOUNT,
                "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/iamscope-reader/bench",
            },
            sort_keys=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return counts


def _secret_entry(s: SecretRec, rng: random.Random) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ARN": s.arn,
        "Name": s.name,
        "Description": f"{s.name.rsplit('/', 1)[-1]} for {s.namespace or 'the platform'}",
    }
    if s.kms_key:
        entry["KmsKeyId"] = s.kms_key
    rotating = s.name.endswith(("/db", "-db")) or s.name.startswith("rds!")
    entry.update(
        {
            "LastChangedDate": _aws_stamp(rng),
            "LastAccessedDate": _aws_stamp(rng)[:10] + "T00:00:00+00:00",
            "Tags": [{"Key": k, "Value": v} for k, v in s.tags],
            "SecretVersionsToStages": {_uid(rng): ["AWSCURRENT"], _uid(rng): ["AWSPREVIOUS"]},
            "CreatedDate": _aws_stamp(rng),
        }
    )
    if rotating:
        entry["RotationEnabled"] = True
        entry["RotationLambdaARN"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:secrets-rotation"
        entry["RotationRules"] = {"AutomaticallyAfterDays": 30}
        entry["LastRotatedDate"] = _aws_stamp(rng)
        entry["NextRotationDate"] = _aws_stamp(rng)
    if s.name.startswith("rds!"):
        entry["OwningService"] = "rds"
    if s.replica_of:
        entry["PrimaryRegion"] = s.replica_of
    if s.deleted:
        entry["DeletedDate"] = _aws_stamp(rng)
    return entry


def _param_entry(p: ParamRec, rng: random.Random) -> dict[str, Any]:
    entry: dict[str, Any] = {"Name": p.name, "ARN": p.arn, "Type": "SecureString" if p.secure else "String"}
    if p.secure:
        entry["KeyId"] = p.kms_key or "alias/aws/ssm"
    entry.update(
        {
            "LastModifiedDate": _aws_stamp(rng),
            "LastModifiedUser": f"arn:aws:sts::{ACCOUNT}:assumed-role/github-deploy-0-1/GitHubActions",
            "Version": rng.randrange(1, 20),
            "Tier": "Standard",
            "Policies": [],
            "DataType": "text",
        }
    )
    return entry


def write_config(world: World, out: Path) -> None:
    approved = sorted(ns.name for ns in world.namespaces if ns.approved)
    lines = [
        "# iamscope configuration of the synthetic bench state (bench/gen_scale.py)",
        "cluster:",
        f"  name: {CLUSTER}",
        "aws:",
        f"  region: {REGION}",
        "sync:",
        "  approved_namespaces:",
        *[f"    - {n}" for n in approved],
        "platform:",
        "  principals:",
        "    - system:serviceaccount:argocd:argocd-application-controller",
        "    - system:serviceaccount:flux-system:kustomize-controller",
        "  groups:",
        "    - platform-admins",
    ]
    (out / ".iamscope.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate(out: Path, scale: int, seed: int = 7, log: Callable[[str], None] = print) -> dict[str, int]:
    started = time.perf_counter()
    world = build_world(scale, seed)
    log(f"model built in {time.perf_counter() - started:.1f} s")
    out.mkdir(parents=True, exist_ok=True)
    counts = {f"k8s/{k}": v for k, v in write_k8s(world, out, log).items()}
    counts |= {f"aws/{k}": v for k, v in write_aws(world, out, log).items()}
    write_config(world, out)
    counts["spc_objects"] = sum(len(wl.spc.objects) for ns in world.namespaces for wl in ns.workloads)
    counts["workloads"] = sum(len(ns.workloads) for ns in world.namespaces)
    counts["secrets"] = len(world.secrets)
    counts["parameters"] = len(world.params)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    counts["bytes"] = size
    log(f"wrote {out} ({size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    (out / "bench-counts.txt").write_text(
        "".join(f"{k} {v}\n" for k, v in sorted(counts.items())) + f"scale {scale}\nseed {seed}\n",
        encoding="utf-8",
    )
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, required=True, help="units of scale (100 = the issue's target)")
    parser.add_argument("--out", type=Path, required=True, help="the state directory to write")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} exists and is not empty")
    counts = generate(args.out, args.scale, args.seed, log=lambda m: print(m, file=sys.stderr))
    for key in sorted(counts):
        print(f"{key:40} {counts[key]:>14,}")


if __name__ == "__main__":
    main()
