"""Which AWS objects each pod volume makes ASCP read, as ARNs: the SPC looked up in the pod's
namespace, its parameters overlaid by the volume's attributes, each object resolved by name or ARN in
the region ASCP uses (SPC, then the provider's configured region, then the node's region label), and
in the failover region too when one is set. Objects the snapshot does not hold keep the ARN pattern
the grant must cover (`<name>-??????` for a secret)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from iamscope.ascp import (
    SECRETSMANAGER,
    SSMPARAMETER,
    AscpObject,
    effective_parameters,
    parse_bool,
    parse_objects,
    placeholders,
)
from iamscope.aws.snapshot import parameter_arn
from iamscope.config import Config
from iamscope.kms import KeyDirectory
from iamscope.model import (
    CSI_DRIVER,
    CsiVolume,
    Inventory,
    Node,
    Pairs,
    Parameter,
    Secret,
    SecretProviderClass,
    Workload,
    lookup,
)
from iamscope.policy.arn import try_parse_arn

WILDCARD = re.compile(r"[*?]")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One ARN ASCP will read (or the pattern covering it when the snapshot does not list it)."""

    arn: str
    kind: str  # secretsmanager | ssmparameter
    region: str
    known: bool  # the snapshot lists it
    pattern: bool  # `arn` is a pattern (`<name>-??????`), not one resource
    failover: bool
    kms_key: str | None  # the customer-managed key ARN decrypting it, when there is one
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectRef:
    id: str
    object: AscpObject
    kind: str | None
    targets: tuple[Target, ...]
    problems: tuple[str, ...]  # why ASCP would fail or what cannot be told, in words
    rejected: bool = False  # ASCP's validation refuses it (and with it the mount), whatever AWS holds


@dataclass(frozen=True, slots=True, kw_only=True)
class Mount:
    """One CSI volume of one workload, as ASCP sees it."""

    workload: str
    namespace: str
    service_account: str  # SA id
    volume: str
    spc: str | None  # SPC id, None when the SPC is missing
    provider: str | None
    use_pod_identity: bool
    region: str | None
    region_source: str
    failover_region: str | None
    inline: tuple[str, ...]  # ASCP parameters the pod overrides in volumeAttributes
    account: str | None  # where its objects named without an ARN live (None: unknown, a gap)
    objects: tuple[ObjectRef, ...]
    problems: tuple[str, ...]

    @property
    def aws(self) -> bool:
        return self.provider == "aws"


@dataclass(frozen=True, slots=True)
class _Lookup:
    secrets_by_arn: Mapping[str, Secret]
    secrets_by_name: Mapping[tuple[str, str, str], Secret]
    params_by_arn: Mapping[str, Parameter]
    keys: KeyDirectory
    account: str | None
    partition: str
    listed: frozenset[tuple[str, str, str]]  # (kind, account, region) whose listing was read
    nodes: Mapping[str, Node]  # by name
    node_regions: frozenset[str]  # the region labels the nodes carry


def partition_of(inventory: Inventory) -> str:
    """The AWS partition of the snapshot (aws, aws-cn, aws-us-gov), from its clusters or roles."""
    for arn in [c.arn for c in inventory.aws.clusters] + [r.arn for r in inventory.aws.roles[:1]]:
        parsed = try_parse_arn(arn)
        if parsed:
            return parsed.partition
    return "aws"


def _lookups(inventory: Inventory) -> _Lookup:
    aws = inventory.aws
    partition = partition_of(inventory)
    return _Lookup(
        secrets_by_arn={s.arn: s for s in aws.secrets},
        secrets_by_name={(s.region, s.account, s.name): s for s in aws.secrets},
        params_by_arn={p.arn: p for p in aws.parameters},
        keys=KeyDirectory(aws.keys),
        account=aws.account,
        listed=aws.listed,
        partition=partition,
        nodes={n.name: n for n in inventory.kube.nodes},
        node_regions=frozenset(
            v for n in inventory.kube.nodes for label in REGION_LABELS if (v := lookup(n.labels, label))
        ),
    )


def _customer_key(kind: str, key_ref: str | None, region: str, account: str, lk: _Lookup) -> str | None:
    return lk.keys.customer_key(kind, key_ref, region, account, lk.partition)


def _secret_target(name: str, region: str, account: str, failover: bool, lk: _Lookup) -> Target:
    parsed = try_parse_arn(name)
    if parsed is not None:
        known = lk.secrets_by_arn.get(name)
        if known is None:  # a partial ARN (no random suffix): Secrets Manager resolves it by name
            known = lk.secrets_by_name.get((parsed.region, parsed.account, parsed.resource_id))
        region, account = parsed.region, parsed.account
        if known is None and SECRET_SUFFIX.search(parsed.resource_id):
            return Target(
                arn=name,
                kind=SECRETSMANAGER,
                region=region,
                known=False,
                pattern=False,
                failover=failover,
                kms_key=None,
                reason=f"objectName is the secret ARN {name}, not in the snapshot",
            )
        secret_name = parsed.resource_id
    else:
        known = lk.secrets_by_name.get((region, account, name))
        secret_name = name
    if known is not None and known.deleted:
        return Target(
            arn=known.arn,
            kind=SECRETSMANAGER,
            region=known.region,
            known=False,
            pattern=False,
            failover=failover,
            kms_key=None,
            reason=f"secret {known.name!r} is scheduled for deletion ({known.deleted}): GetSecretValue fails",
        )
    if known is not None:
        how = "ARN" if parsed is not None else "name"
        return Target(
            arn=known.arn,
            kind=SECRETSMANAGER,
            region=known.region,
            known=True,
            pattern=False,
            failover=failover,
            kms_key=_customer_key(SECRETSMANAGER, known.kms_key, known.region, known.account, lk),
            reason=f"secret {known.name!r} found by {how} in {known.region}",
        )
    arn = f"arn:{lk.partition}:secretsmanager:{region}:{account}:secret:{secret_name}-??????"
    return Target(
        arn=arn,
        kind=SECRETSMANAGER,
        region=region,
        known=False,
        pattern=True,
        failover=failover,
        kms_key=None,
        reason=f"secret {secret_name!r} is not in the snapshot for {region}; expected ARN {arn}",
    )


def _parameter_target(name: str, region: str, account: str, failover: bool, lk: _Lookup) -> Target:
    parsed = try_parse_arn(name)
    arn = name if parsed is not None else parameter_arn(lk.partition, region, account, name)
    if parsed is not None:
        region = parsed.region
    known = lk.params_by_arn.get(arn)
    if known is not None:
        return Target(
            arn=arn,
            kind=SSMPARAMETER,
            region=region,
            known=True,
            pattern=False,
            failover=failover,
            kms_key=_customer_key(SSMPARAMETER, known.kms_key, known.region, known.account, lk)
            if known.type == "SecureString"
            else None,
            reason=f"parameter {known.name!r} found in {region}",
        )
    return Target(
        arn=arn,
        kind=SSMPARAMETER,
        region=region,
        known=False,
        pattern=False,
        failover=failover,
        kms_key=None,
        reason=f"parameter {name!r} is not in the snapshot for {region}",
    )


def _names_nothing(name: str) -> str | None:
    """Why an objectName can name no secret or parameter, or None: a `*` or `?` anywhere (no name,
    region or account holds one), or an ARN of another kind of resource (a KMS key, a rotation)."""
    if WILDCARD.search(name):
        return f"objectName {name!r} holds a wildcard: no secret or parameter has such a name"
    parsed = try_parse_arn(name)
    if parsed is None:
        return None
    expected = {"secretsmanager": "secret", "ssm": "parameter"}.get(parsed.service)
    if expected is None or parsed.resource_type != expected:
        return f"objectName {name!r} is not the ARN of a secret or an SSM parameter"
    return None


def _object_kind(obj: AscpObject) -> str | None:
    if obj.type:
        return obj.type
    parsed = try_parse_arn(obj.name)
    if parsed is None:
        return None
    return {"secretsmanager": SECRETSMANAGER, "ssm": SSMPARAMETER}.get(parsed.service)


def _arn_problems(
    obj: AscpObject,
    kind: str | None,
    region: str | None,
    failover_region: str | None,
    failover_declared: bool,
) -> list[str]:
    """ASCP's validateObjectName: an ARN must be in the region it is read from, and agree with objectType."""
    problems = []
    for name, where, failover in ((obj.name, region, False), (obj.failover_name, failover_region, True)):
        parsed = try_parse_arn(name) if name else None
        if parsed is None:
            continue
        if where and parsed.region != where:
            which = "failover region" if failover else "region"
            problems.append(f"ARN region must match the {which} {where}: {name}")
        service = {"secretsmanager": SECRETSMANAGER, "ssm": SSMPARAMETER}.get(parsed.service)
        if obj.type and service and obj.type != service:
            problems.append(f"objectType {obj.type} does not match the ARN's service ({parsed.service})")
    if obj.failover_name and not failover_region and not failover_declared:
        problems.append("a failoverObject needs the SPC's failoverRegion")
    return problems


def resolve_object(
    ref_id: str,
    obj: AscpObject,
    region: str | None,
    failover_region: str | None,
    account: str | None,
    lk: _Lookup,
    failover_declared: bool = False,
) -> ObjectRef:
    """One object's ARNs. `region`/`account` are None when the mount cannot tell them (said once, on
    the mount); an object named by a full ARN still resolves."""
    kind = _object_kind(obj)
    problems: list[str] = list(obj.problems)
    holes = placeholders(obj.name, obj.failover_name)
    if holes:
        problems.append(f"unsubstituted placeholder {', '.join(holes)}: the manifest is a template")
        return ObjectRef(id=ref_id, object=obj, kind=kind, targets=(), problems=tuple(problems))
    unreadable = [why for n in (obj.name, obj.failover_name) if n and (why := _names_nothing(n))]
    if unreadable:
        # the API call fails; and a grant written from such a name would be a wildcard over every
        # secret it matches, or a grant on something that is no secret at all
        problems.append(f"{unreadable[0]}, so ASCP cannot read it")
        return ObjectRef(id=ref_id, object=obj, kind=kind, targets=(), problems=tuple(problems))
    if kind is None and obj.name and not obj.problems:
        problems.append("objectType is missing and objectName is not an ARN")
    arn_problems = _arn_problems(obj, kind, region, failover_region, failover_declared)
    problems += arn_problems
    mismatch = any(p.startswith("objectType ") for p in arn_problems)
    if kind is None or not obj.name or mismatch:
        # nothing to resolve: no name, or an objectType that contradicts the ARN (ASCP rejects it)
        return ObjectRef(id=ref_id, object=obj, kind=kind, targets=(), problems=tuple(problems))
    make = _secret_target if kind == SECRETSMANAGER else _parameter_target
    targets = []
    for name, where, failover in (
        (obj.name, region, False),
        (obj.failover_name or obj.name, failover_region, True),
    ):
        if failover and not failover_region:
            continue
        if try_parse_arn(name) is None and (where is None or account is None):
            continue  # the mount says why (no region or no account)
        targets.append(make(name, where or "", account or "", failover, lk))
    for t in targets:
        parsed = try_parse_arn(t.arn)
        listed = parsed is not None and (kind, parsed.account, parsed.region) in lk.listed
        if not t.known and listed:
            problems.append(t.reason)
    unique = {t.arn: t for t in targets}
    return ObjectRef(
        id=ref_id,
        object=obj,
        kind=kind,
        targets=tuple(unique[a] for a in sorted(unique)),
        problems=tuple(problems),
        rejected=bool(obj.problems or arn_problems),
    )


def _workload_region(workload: Workload, lk: _Lookup) -> tuple[str | None, str]:
    node = lk.nodes.get(workload.pod.node_name or "")
    for label in REGION_LABELS:
        if node is not None and lookup(node.labels, label):
            return lookup(node.labels, label), f"label {label} of node {node.name}"
        if lookup(workload.pod.node_selector, label):
            return lookup(workload.pod.node_selector, label), f"nodeSelector {label}"
    if len(lk.node_regions) == 1:
        return next(iter(lk.node_regions)), "the region label every node carries"
    return None, "unknown"


def _region(
    workload: Workload, params: Pairs, inline: tuple[str, ...], config: Config, lk: _Lookup
) -> tuple[str | None, str]:
    """The region ASCP reads from: the SPC's (or the pod's inline) `region`, else the provider's
    configured region, else the node's region label."""
    region = lookup(params, "region") or None
    if region:
        return region, "volumeAttributes region" if "region" in inline else "SPC parameter region"
    if config.region:
        return config.region, "the provider's configured region (config aws.region)"
    return _workload_region(workload, lk)


def _mount(
    workload: Workload,
    volume: CsiVolume,
    inventory: Inventory,
    config: Config,
    account: str | None,
    lk: _Lookup,
    spcs: Mapping[str, SecretProviderClass],
) -> Mount:
    sa = f"{workload.namespace}/ServiceAccount/{workload.pod.service_account}"
    spc_id = f"{workload.namespace}/SecretProviderClass/{volume.spc_name}" if volume.spc_name else None
    spc = spcs.get(spc_id) if spc_id else None
    params, inline = effective_parameters(spc.parameters if spc else (), volume.attributes)
    problems: list[str] = []
    if spc_id is None:
        problems.append("the volume names no secretProviderClass: the pod cannot start")
    elif spc is None:
        problems.append(
            f"SecretProviderClass {volume.spc_name!r} not found in namespace {workload.namespace}: "
            "the pod cannot start"
        )
    region, source = _region(workload, params, inline, config, lk)
    failover = lookup(params, "failoverRegion") or None
    failover_declared = failover is not None
    provider = spc.provider if spc else None
    objects: list[ObjectRef] = []
    use_pod_identity = parse_bool(lookup(params, "usePodIdentity"))
    if spc is not None and provider == "aws":
        holes = placeholders(region, failover)
        if holes:
            problems.append(
                f"region/failoverRegion hold unsubstituted placeholder {', '.join(holes)}: "
                "the manifest is a template"
            )
            region = failover = None
        elif region is None:
            problems.append(
                "no region: the SPC names none, no provider region is configured (aws.region), "
                "no node label tells"
            )
        elif failover == region:
            problems.append(f"failoverRegion {failover} is the region itself: ASCP rejects the mount")
        if use_pod_identity is None:
            problems.append(
                f"usePodIdentity {lookup(params, 'usePodIdentity')!r} is not a boolean ASCP reads"
            )
        translation = lookup(params, "pathTranslation")
        if translation and translation.lower() != "false" and len(translation) != 1:
            problems.append("pathTranslation must be 'False' or a single character")
        inline_objects = "objects" in inline
        base = f"{workload.id}#{volume.name}" if inline_objects else spc.id
        where = f"{workload.id} volume {volume.name}" if inline_objects else spc.id
        location = workload.location if inline_objects else spc.location
        parsed = parse_objects(lookup(params, "objects") or "", source=str(location), where=where)
        problems += parsed.problems
        for obj in parsed.objects:
            objects.append(
                resolve_object(
                    f"{base}#{obj.index}:{obj.name}", obj, region, failover, account, lk, failover_declared
                )
            )
    return Mount(
        workload=workload.id,
        namespace=workload.namespace,
        service_account=sa,
        volume=volume.name,
        spc=spc.id if spc else spc_id,
        provider=provider,
        use_pod_identity=bool(use_pod_identity),
        region=region,
        region_source=source,
        failover_region=failover,
        inline=inline,
        account=account,
        objects=tuple(objects),
        problems=tuple(problems),
    )


def resolve_mounts(
    inventory: Inventory, config: Config, role_accounts: Mapping[str, str | None]
) -> tuple[Mount, ...]:
    """Every secrets-store CSI volume of every workload. `role_accounts` maps an SA id to the account of
    the role it uses (secret names resolve in the caller's account)."""
    lk = _lookups(inventory)
    spcs = {s.id: s for s in inventory.kube.spcs}
    mounts = [
        _mount(
            w,
            v,
            inventory,
            config,
            role_accounts.get(f"{w.namespace}/ServiceAccount/{w.pod.service_account}") or lk.account,
            lk,
            spcs,
        )
        for w in inventory.kube.workloads
        for v in w.pod.csi_volumes
        if v.driver == CSI_DRIVER
    ]
    return tuple(sorted(mounts, key=lambda m: (m.workload, m.volume)))
