"""The inventory: frozen records of everything iamscope read, Kubernetes and AWS, with where each came
from. Readers build these; every later stage (resolution, graph, checks) only reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from iamscope.policy.document import PolicyDocument

Pairs = tuple[tuple[str, str], ...]

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
CSI_DRIVER = "secrets-store.csi.k8s.io"


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """Where an object was declared: the file and the 1-based line its document starts on (when known)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def lookup(pairs: Pairs, key: str) -> str | None:
    for k, v in pairs:
        if k == key:
            return v
    return None


# --- Kubernetes --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CsiVolume:
    """A pod volume served by a CSI driver; `attributes` are its volumeAttributes."""

    name: str
    driver: str
    attributes: Pairs
    read_only: bool | None

    @property
    def spc_name(self) -> str | None:
        return lookup(self.attributes, "secretProviderClass")


@dataclass(frozen=True, slots=True, kw_only=True)
class Toleration:
    key: str | None
    operator: str
    value: str | None
    effect: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Container:
    name: str
    image: str
    privileged: bool | None = None
    allow_privilege_escalation: bool | None = None
    read_only_root_filesystem: bool | None = None
    capabilities_drop: tuple[str, ...] = ()
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PodTemplate:
    """The parts of a pod spec the analysis needs."""

    service_account: str
    csi_volumes: tuple[CsiVolume, ...] = ()
    node_name: str | None = None
    node_selector: Pairs = ()
    tolerations: tuple[Toleration, ...] = ()
    containers: tuple[Container, ...] = ()
    # required node affinity: any term may match; every (key, operator, values) of a term must
    node_affinity: tuple[tuple[tuple[str, str, tuple[str, ...]], ...], ...] = ()
    host_network: bool = False
    automount_token: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """A controller (or a bare pod) with its pod template; pods owned by a controller are folded in."""

    id: str
    kind: str
    namespace: str
    name: str
    labels: Pairs
    pod: PodTemplate
    replicas: int | None
    location: Location
    pods: tuple[str, ...] = ()  # names of live pods folded into this workload


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAccount:
    id: str
    namespace: str
    name: str
    annotations: Pairs
    labels: Pairs
    location: Location | None  # None: referenced by a pod, never declared

    @property
    def role_annotation(self) -> str | None:
        value = lookup(self.annotations, IRSA_ANNOTATION)
        return value.strip() if value is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncedSecret:
    """One entry of an SPC's `secretObjects`: a Kubernetes Secret the driver creates."""

    secret_name: str
    type: str
    labels: Pairs
    keys: tuple[tuple[str, str], ...]  # (objectName, key)


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretProviderClass:
    id: str
    namespace: str
    name: str
    api_version: str
    provider: str
    parameters: Pairs
    secret_objects: tuple[SyncedSecret, ...]
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Namespace:
    id: str
    name: str
    labels: Pairs
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Taint:
    key: str
    value: str | None
    effect: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    id: str
    name: str
    labels: Pairs
    taints: tuple[Taint, ...]
    provider_id: str | None
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    resource_names: tuple[str, ...]
    non_resource_urls: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RbacRole:
    """A Role or ClusterRole; `aggregation` holds a ClusterRole's aggregationRule label selectors."""

    id: str
    kind: str
    namespace: str | None
    name: str
    labels: Pairs
    rules: tuple[PolicyRule, ...]
    aggregation: tuple[Pairs, ...]
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    kind: str  # User, Group or ServiceAccount
    name: str
    namespace: str | None

    @property
    def id(self) -> str:
        if self.kind == "ServiceAccount":
            return f"{self.namespace}/ServiceAccount/{self.name}"
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleBinding:
    id: str
    kind: str  # RoleBinding or ClusterRoleBinding
    namespace: str | None
    name: str
    role_kind: str
    role_name: str
    subjects: tuple[Subject, ...]
    location: Location

    @property
    def role_id(self) -> str:
        if self.role_kind == "Role" and self.namespace:
            return f"{self.namespace}/Role/{self.role_name}"
        return f"{self.role_kind}/{self.role_name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeSecret:
    """A Kubernetes Secret's metadata; its data is never kept."""

    id: str
    namespace: str
    name: str
    labels: Pairs
    location: Location


# --- AWS ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedPolicy:
    arn: str
    name: str
    document: PolicyDocument


@dataclass(frozen=True, slots=True, kw_only=True)
class InlinePolicy:
    id: str  # "<role arn>#<policy name>": a policy node's id in the graph
    name: str
    document: PolicyDocument


@dataclass(frozen=True, slots=True, kw_only=True)
class Role:
    arn: str
    name: str
    path: str
    trust: PolicyDocument | None
    inline: tuple[InlinePolicy, ...]
    attached: tuple[str, ...]  # managed policy ARNs
    boundary: str | None  # managed policy ARN
    instance_profiles: tuple[str, ...]
    tags: Pairs
    source: str = ""  # the snapshot file (or plan) it was read from, for locations in reports


def role_policies(
    role: Role, managed: Mapping[str, PolicyDocument]
) -> tuple[list[PolicyDocument], PolicyDocument | None, list[str]]:
    """A role's identity policies and boundary as far as the snapshot holds them, and the ARNs of the
    attached or boundary policies it does not hold."""
    documents = [p.document for p in role.inline]
    missing = []
    for arn in role.attached:
        doc = managed.get(arn)
        if doc is None:
            missing.append(arn)
        else:
            documents.append(doc)
    boundary = managed.get(role.boundary) if role.boundary else None
    if role.boundary and boundary is None:
        missing.append(role.boundary)
    return documents, boundary, missing


@dataclass(frozen=True, slots=True, kw_only=True)
class Secret:
    arn: str
    name: str
    region: str
    account: str
    kms_key: str | None  # as listed (key id, key ARN, alias name or alias ARN); None: AWS managed key
    tags: Pairs
    resource_policy: PolicyDocument | None
    source: str
    deleted: str | None = None  # DeletedDate: scheduled for deletion, its value can no longer be read


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    arn: str
    name: str
    region: str
    account: str
    type: str
    kms_key: str | None
    tier: str | None
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KmsKey:
    arn: str
    key_id: str
    region: str
    account: str
    customer_managed: bool
    aliases: tuple[str, ...]
    policy: PolicyDocument | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Cluster:
    name: str
    arn: str
    region: str
    account: str
    oidc_issuer: str | None  # without https://, as IAM condition keys spell it
    source: str

    @property
    def oidc_provider_arn(self) -> str | None:
        if not self.oidc_issuer:
            return None
        partition = self.arn.split(":")[1] if self.arn.count(":") >= 5 else "aws"
        return f"arn:{partition}:iam::{self.account}:oidc-provider/{self.oidc_issuer}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PodIdentityAssociation:
    arn: str
    cluster: str
    namespace: str
    service_account: str
    role_arn: str
    source: str
    target_role_arn: str | None = None  # EKS assumes it with role_arn's credentials: the pod gets this one
    disable_session_tags: bool = False

    @property
    def pod_role(self) -> str:
        """The role whose credentials the pod receives."""
        return self.target_role_arn or self.role_arn


@dataclass(frozen=True, slots=True, kw_only=True)
class Warning:
    """Something read but not used, said once to the user (an unknown kind, a non-AWS SPC)."""

    source: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeInventory:
    workloads: tuple[Workload, ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()
    spcs: tuple[SecretProviderClass, ...] = ()
    namespaces: tuple[Namespace, ...] = ()
    nodes: tuple[Node, ...] = ()
    rbac_roles: tuple[RbacRole, ...] = ()
    bindings: tuple[RoleBinding, ...] = ()
    secrets: tuple[KubeSecret, ...] = ()
    warnings: tuple[Warning, ...] = ()
    read: bool = False  # some Kubernetes input was given


@dataclass(frozen=True, slots=True, kw_only=True)
class AwsInventory:
    account: str | None = None
    roles: tuple[Role, ...] = ()
    managed_policies: tuple[ManagedPolicy, ...] = ()
    secrets: tuple[Secret, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    keys: tuple[KmsKey, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    associations: tuple[PodIdentityAssociation, ...] = ()
    warnings: tuple[Warning, ...] = ()
    gaps: tuple[str, ...] = ()  # data the snapshot lacks: a result built without it is incomplete
    # which kinds of snapshot file were present (aws/snapshot.py PATTERNS keys): what is absent from
    # a listing that was read does not exist; what is absent because nothing was read is unknown
    present: frozenset[str] = frozenset()
    # (secretsmanager|ssmparameter, account, region) the listings cover: only there does absence
    # from the snapshot mean the object does not exist
    listed: frozenset[tuple[str, str, str]] = frozenset()
    # a Terraform plan overlaid on the snapshot: its file, and what it leaves unknown until apply
    # ("<resource address>: <attribute> is known only after apply"), which no analysis may ignore
    plan: str | None = None
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    kube: KubeInventory = field(default_factory=KubeInventory)
    aws: AwsInventory = field(default_factory=AwsInventory)
    # what a live collection could not read (STATE/incomplete.json): a result built without it is
    # incomplete
    gaps: tuple[str, ...] = ()
