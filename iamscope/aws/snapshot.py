"""The AWS snapshot directory: AWS CLI JSON outputs under the file names of DESIGN.md §3, read (I/O in
read_snapshot) and turned into the inventory model (pure, in build_aws_inventory). Policy documents
may appear as JSON objects (the CLI decodes them), JSON strings, or URL-encoded JSON strings (the
raw API); all three are accepted."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamscope.errors import InputError, PolicyError
from iamscope.files import InputReader, json_problem
from iamscope.model import (
    AwsInventory,
    Cluster,
    InlinePolicy,
    KmsKey,
    ManagedPolicy,
    Pairs,
    Parameter,
    PodIdentityAssociation,
    Role,
    Secret,
    Warning,
)
from iamscope.policy.arn import try_parse_arn
from iamscope.policy.document import PolicyDocument, PolicyKind, parse_policy

SNAPSHOT_LIMIT = 2 * 1024 * 1024 * 1024
REGION = re.compile(
    r"(?<![a-z0-9])(?:af|ap|ca|cn|eu|il|me|mx|sa|us)(?:-gov|-isob?)?"
    r"-(?:north|south|east|west|central|northeast|northwest|southeast|southwest)-[0-9]+(?![0-9])"
)

PATTERNS = {
    "authorization": "iam-authorization-details*.json",
    "secrets": "secretsmanager-list-secrets*.json",
    "parameters": "ssm-describe-parameters*.json",
    "clusters": "eks-describe-cluster*.json",
    "associations": "eks-pod-identity-associations*.json",
    "identity": "sts-get-caller-identity.json",
    "resource_policies": "secretsmanager-resource-policies*.json",
    "keys": "kms-keys*.json",
}


@dataclass(frozen=True, slots=True)
class RawFile:
    name: str  # the path as given, for messages
    data: Any


RawSnapshot = Mapping[str, Sequence[RawFile]]


# what each file must hold at its top level, and what other AWS CLI answers saved under its name look like
SHAPES: dict[str, tuple[str, str, dict[str, str]]] = {
    "authorization": (
        "RoleDetailList",
        "aws iam get-account-authorization-details",
        {"Roles": "aws iam list-roles", "Role": "aws iam get-role"},
    ),
    "secrets": (
        "SecretList",
        "aws secretsmanager list-secrets",
        {"ARN": "aws secretsmanager describe-secret"},
    ),
    "parameters": (
        "Parameters",
        "aws ssm describe-parameters",
        {"Parameter": "aws ssm get-parameter (which holds a value)"},
    ),
    "clusters": ("cluster", "aws eks describe-cluster", {"clusters": "aws eks list-clusters"}),
    "associations": (
        "associations",
        "the describe-pod-identity-association answers, wrapped",
        {"association": "one aws eks describe-pod-identity-association"},
    ),
    "identity": ("Account", "aws sts get-caller-identity", {}),
    "resource_policies": (
        "ResourcePolicies",
        "the get-resource-policy answers, wrapped",
        {"ResourcePolicy": "one aws secretsmanager get-resource-policy"},
    ),
    "keys": (
        "Keys",
        "describe-key and get-key-policy answers, wrapped",
        {"KeyMetadata": "one aws kms describe-key"},
    ),
}


def _check_shape(key: str, file: RawFile) -> None:
    """A file saved from the wrong command would read as empty, and empty looks clean: refuse it."""
    required, command, others = SHAPES[key]
    if isinstance(file.data, dict) and required in file.data:
        return
    if not isinstance(file.data, dict):
        raise InputError(
            f"the top level is a JSON {_json_type(file.data)}, not an object with {required!r}: "
            f"expected `{command}` output",
            source=file.name,
        )
    hint = next(
        (
            f"; it looks like `{c}` output"
            for k, c in others.items()
            if isinstance(file.data, dict) and k in file.data
        ),
        "",
    )
    raise InputError(f"no {required!r} at the top: expected `{command}` output{hint}", source=file.name)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def read_snapshot(directory: Path, reader: InputReader) -> dict[str, list[RawFile]]:
    if not directory.is_dir():
        raise InputError("not a directory (expected an AWS snapshot directory)", source=str(directory))
    found: dict[str, list[RawFile]] = {}
    for key, pattern in PATTERNS.items():
        for path in sorted(directory.glob(pattern)):
            if path.is_file():
                file = RawFile(str(path), reader.read_json(path, limit=SNAPSHOT_LIMIT))
                _check_shape(key, file)
                found.setdefault(key, []).append(file)
    if not found:
        names = ", ".join(sorted(PATTERNS.values()))
        raise InputError(f"no AWS snapshot files found (expected some of: {names})", source=str(directory))
    return found


# --- transform ---------------------------------------------------------------------------------------


class _Place:
    """Names a place inside one file for error messages: `file: RoleDetailList[3] (RoleName x): field`."""

    def __init__(self, source: str, where: str) -> None:
        self.source, self.where = source, where

    def at(self, where: str) -> _Place:
        return _Place(
            self.source, f"{self.where}{where}" if where.startswith(("[", ".")) else f"{self.where} {where}"
        )

    def fail(self, message: str) -> InputError:
        return InputError(message, source=self.source, where=self.where or None)

    def map(self, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail("must be a JSON object")
        return value

    def list(self, value: Any) -> Sequence[Any]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail("must be a JSON list")
        return value

    def text(self, value: Any, *, required: bool = True) -> str:
        if not isinstance(value, str) or (required and not value):
            raise self.fail("must be a non-empty string" if required else "must be a string")
        return value

    def opt(self, value: Any) -> str | None:
        return None if value is None else self.text(value, required=False) or None

    def stamp(self, value: Any) -> str | None:
        """A date as the AWS CLI prints it: an ISO 8601 string, or epoch seconds."""
        if not value:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail("must be a date (a string or epoch seconds)")
        return str(value)


def _document(raw: Any, place: _Place, *, name: str, kind: PolicyKind) -> PolicyDocument:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            text = urllib.parse.unquote(text)
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise place.fail(f"policy document is not JSON: {json_problem(error)}") from None
        except RecursionError:
            raise place.fail("policy document nested too deeply") from None
        except ValueError:  # an integer of thousands of digits
            raise place.fail("policy document is not JSON: a number with too many digits") from None
    try:
        return parse_policy(raw, name=name, kind=kind)
    except PolicyError as error:
        raise InputError(str(error), source=place.source, where=place.where or None) from None


def _tags(raw: Any, place: _Place) -> Pairs:
    pairs = []
    for i, tag in enumerate(place.list(raw)):
        t = place.at(f"[{i}]").map(tag)
        pairs.append(
            (place.at(f"[{i}].Key").text(t.get("Key")), place.at(f"[{i}].Value").opt(t.get("Value")) or "")
        )
    return tuple(sorted(pairs))


def _entries(files: Sequence[RawFile], key: str) -> list[tuple[_Place, Any]]:
    out = []
    for f in files:
        top = _Place(f.name, "").map(f.data)
        for i, item in enumerate(_Place(f.name, key).list(top.get(key))):
            out.append((_Place(f.name, f"{key}[{i}]"), item))
    return out


def _named(place: _Place, entry: Mapping[str, Any], field: str) -> _Place:
    name = entry.get(field)
    return _Place(place.source, f"{place.where} ({field} {name})") if isinstance(name, str) else place


def _managed_policies(files: Sequence[RawFile]) -> list[ManagedPolicy]:
    policies: dict[str, ManagedPolicy] = {}
    for place, raw in _entries(files, "Policies"):
        entry = place.map(raw)
        place = _named(place, entry, "PolicyName")
        arn = place.at(".Arn").text(entry.get("Arn"))
        default = entry.get("DefaultVersionId")
        versions = [
            place.at(f".PolicyVersionList[{i}]").map(v)
            for i, v in enumerate(place.at(".PolicyVersionList").list(entry.get("PolicyVersionList")))
        ]
        chosen = next(
            (
                v
                for v in versions
                if v.get("IsDefaultVersion") is True or (default and v.get("VersionId") == default)
            ),
            None,
        )
        if chosen is None:
            raise place.fail("has no default version in PolicyVersionList")
        document = _document(
            chosen.get("Document"), place.at(".PolicyVersionList.Document"), name=arn, kind="identity"
        )
        policies[arn] = ManagedPolicy(
            arn=arn, name=place.at(".PolicyName").opt(entry.get("PolicyName")) or arn, document=document
        )
    return [policies[k] for k in sorted(policies)]


def _roles(files: Sequence[RawFile]) -> list[Role]:
    roles: dict[str, Role] = {}
    for place, raw in _entries(files, "RoleDetailList"):
        entry = place.map(raw)
        place = _named(place, entry, "RoleName")
        arn = place.at(".Arn").text(entry.get("Arn"))
        name = place.at(".RoleName").text(entry.get("RoleName"))
        trust_raw = entry.get("AssumeRolePolicyDocument")
        trust = (
            _document(trust_raw, place.at(".AssumeRolePolicyDocument"), name=f"{arn}#trust", kind="trust")
            if trust_raw is not None
            else None
        )
        inline = []
        for i, p in enumerate(place.at(".RolePolicyList").list(entry.get("RolePolicyList"))):
            pp = place.at(f".RolePolicyList[{i}]")
            policy = pp.map(p)
            pname = pp.at(".PolicyName").text(policy.get("PolicyName"))
            pid = f"{arn}#{pname}"
            inline.append(
                InlinePolicy(
                    id=pid,
                    name=pname,
                    document=_document(policy.get("PolicyDocument"), pp, name=pid, kind="identity"),
                )
            )
        attached = sorted(
            {
                place.at(f".AttachedManagedPolicies[{i}].PolicyArn").text(place.map(a).get("PolicyArn"))
                for i, a in enumerate(
                    place.at(".AttachedManagedPolicies").list(entry.get("AttachedManagedPolicies"))
                )
            }
        )
        boundary_raw = entry.get("PermissionsBoundary")
        boundary = (
            place.at(".PermissionsBoundary.PermissionsBoundaryArn").text(
                place.at(".PermissionsBoundary").map(boundary_raw).get("PermissionsBoundaryArn")
            )
            if boundary_raw
            else None
        )
        profiles = sorted(
            {
                place.at(f".InstanceProfileList[{i}].Arn").text(place.map(p).get("Arn"))
                for i, p in enumerate(place.at(".InstanceProfileList").list(entry.get("InstanceProfileList")))
            }
        )
        roles[arn] = Role(
            arn=arn,
            name=name,
            path=place.at(".Path").opt(entry.get("Path")) or "/",
            trust=trust,
            inline=tuple(sorted(inline, key=lambda p: p.name)),
            attached=tuple(attached),
            boundary=boundary,
            instance_profiles=tuple(profiles),
            tags=_tags(entry.get("Tags"), place.at(".Tags")),
            source=place.source,
        )
    return [roles[k] for k in sorted(roles)]


def _region_from_name(name: str) -> str | None:
    match = REGION.search(Path(name).name)
    return match.group(0) if match else None


def _secrets(files: Sequence[RawFile], policies: Mapping[str, tuple[_Place, Any]]) -> list[Secret]:
    secrets: dict[str, Secret] = {}
    for place, raw in _entries(files, "SecretList"):
        entry = place.map(raw)
        place = _named(place, entry, "Name")
        arn = place.at(".ARN").text(entry.get("ARN"))
        parsed = try_parse_arn(arn)
        if parsed is None or parsed.service != "secretsmanager":
            raise place.at(".ARN").fail(f"not a Secrets Manager secret ARN: {arn!r}")
        policy = None
        if arn in policies:
            ppl, text = policies[arn]
            policy = _document(text, ppl, name=f"{arn}#resource-policy", kind="resource")
        secrets[arn] = Secret(
            arn=arn,
            name=place.at(".Name").text(entry.get("Name")),
            region=parsed.region,
            account=parsed.account,
            kms_key=place.at(".KmsKeyId").opt(entry.get("KmsKeyId")),
            tags=_tags(entry.get("Tags"), place.at(".Tags")),
            resource_policy=policy,
            source=place.source,
            deleted=place.at(".DeletedDate").stamp(entry.get("DeletedDate")),
        )
    return [secrets[k] for k in sorted(secrets)]


def _parameters(files: Sequence[RawFile], account: str | None, default_region: str | None) -> list[Parameter]:
    params: dict[str, Parameter] = {}
    for place, raw in _entries(files, "Parameters"):
        entry = place.map(raw)
        place = _named(place, entry, "Name")
        name = place.at(".Name").text(entry.get("Name"))
        arn = place.at(".ARN").opt(entry.get("ARN"))
        parsed = try_parse_arn(arn) if arn else None
        region = parsed.region if parsed else _region_from_name(place.source) or default_region
        acct = parsed.account if parsed else account
        if arn is None:
            if not region or not acct:
                raise place.fail(
                    "has no ARN, and the region/account cannot be told from the file name or snapshot"
                )
            arn = parameter_arn("aws", region, acct, name)
        if not region or not acct:
            raise place.at(".ARN").fail(f"not a parameter ARN: {arn!r}")
        params[arn] = Parameter(
            arn=arn,
            name=name,
            region=region,
            account=acct,
            type=place.at(".Type").opt(entry.get("Type")) or "String",
            kms_key=place.at(".KeyId").opt(entry.get("KeyId")),
            tier=place.at(".Tier").opt(entry.get("Tier")),
            source=place.source,
        )
    return [params[k] for k in sorted(params)]


def parameter_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def _clusters(files: Sequence[RawFile]) -> list[Cluster]:
    clusters: dict[str, Cluster] = {}
    for f in files:
        place = _Place(f.name, "cluster")
        entry = place.map(_Place(f.name, "").map(f.data).get("cluster"))
        arn = place.at(".arn").text(entry.get("arn"))
        parsed = try_parse_arn(arn)
        if parsed is None:
            raise place.at(".arn").fail(f"not an ARN: {arn!r}")
        identity = entry.get("identity") or {}
        oidc = (identity.get("oidc") or {}) if isinstance(identity, dict) else {}
        issuer = oidc.get("issuer") if isinstance(oidc, dict) else None
        if issuer is not None and not isinstance(issuer, str):
            raise place.at(".identity.oidc.issuer").fail("must be a string")
        clusters[arn] = Cluster(
            name=place.at(".name").text(entry.get("name")),
            arn=arn,
            region=parsed.region,
            account=parsed.account,
            oidc_issuer=re.sub(r"^https://", "", issuer).rstrip("/") if issuer else None,
            source=f.name,
        )
    return [clusters[k] for k in sorted(clusters)]


def _associations(files: Sequence[RawFile]) -> list[PodIdentityAssociation]:
    found: dict[str, PodIdentityAssociation] = {}
    for place, raw in _entries(files, "associations"):
        entry = place.map(raw)
        arn = place.at(".associationArn").text(entry.get("associationArn"))
        found[arn] = PodIdentityAssociation(
            arn=arn,
            cluster=place.at(".clusterName").text(entry.get("clusterName")),
            namespace=place.at(".namespace").text(entry.get("namespace")),
            service_account=place.at(".serviceAccount").text(entry.get("serviceAccount")),
            role_arn=place.at(".roleArn").text(entry.get("roleArn")),
            source=place.source,
            target_role_arn=place.at(".targetRoleArn").opt(entry.get("targetRoleArn")),
            disable_session_tags=entry.get("disableSessionTags") is True,
        )
    return [found[k] for k in sorted(found)]


def _keys(files: Sequence[RawFile]) -> list[KmsKey]:
    keys: dict[str, KmsKey] = {}
    for place, raw in _entries(files, "Keys"):
        entry = place.map(raw)
        meta = place.at(".KeyMetadata").map(entry.get("KeyMetadata"))
        arn = place.at(".KeyMetadata.Arn").text(meta.get("Arn"))
        parsed = try_parse_arn(arn)
        if parsed is None:
            raise place.at(".KeyMetadata.Arn").fail(f"not an ARN: {arn!r}")
        policy_raw = entry.get("Policy")
        aliases = entry.get("Aliases") or ()
        keys[arn] = KmsKey(
            arn=arn,
            key_id=place.at(".KeyMetadata.KeyId").opt(meta.get("KeyId")) or parsed.resource_id,
            region=parsed.region,
            account=parsed.account,
            customer_managed=meta.get("KeyManager") != "AWS",
            aliases=tuple(
                sorted(
                    place.at(f".Aliases[{i}].AliasName").text(a.get("AliasName", ""), required=False)
                    if isinstance(a, dict)
                    else place.at(f".Aliases[{i}]").text(a)
                    for i, a in enumerate(aliases if isinstance(aliases, list) else ())
                )
            ),
            policy=_document(policy_raw, place.at(".Policy"), name=f"{arn}#key-policy", kind="resource")
            if policy_raw is not None
            else None,
        )
    return [keys[k] for k in sorted(keys)]


def _resource_policies(files: Sequence[RawFile]) -> dict[str, tuple[_Place, Any]]:
    found: dict[str, tuple[_Place, Any]] = {}
    for place, raw in _entries(files, "ResourcePolicies"):
        entry = place.map(raw)
        arn = place.at(".ARN").text(entry.get("ARN"))
        if entry.get("ResourcePolicy") is not None:
            found[arn] = (place.at(".ResourcePolicy"), entry.get("ResourcePolicy"))
    return found


def _account(raw: RawSnapshot, roles: Sequence[Role], clusters: Sequence[Cluster]) -> str | None:
    for f in raw.get("identity", ()):
        value = _Place(f.name, "").map(f.data).get("Account")
        return _Place(f.name, "Account").text(value)
    for arn in [r.arn for r in roles] + [c.arn for c in clusters]:
        parsed = try_parse_arn(arn)
        if parsed and parsed.account:
            return parsed.account
    return None


def build_aws_inventory(raw: RawSnapshot) -> AwsInventory:
    auth = raw.get("authorization", ())
    roles = _roles(auth)
    managed = _managed_policies(auth)
    clusters = _clusters(raw.get("clusters", ()))
    account = _account(raw, roles, clusters)
    default_region = clusters[0].region if len(clusters) == 1 else None
    known = {p.arn for p in managed}
    warnings = [
        Warning(
            source="iam-authorization-details.json",
            message=f"{r.arn} attaches {p}, which the snapshot does not hold",
        )
        for r in roles
        for p in (*r.attached, *((r.boundary,) if r.boundary else ()))
        if p not in known
    ]
    return AwsInventory(
        account=account,
        roles=tuple(roles),
        managed_policies=tuple(managed),
        secrets=tuple(_secrets(raw.get("secrets", ()), _resource_policies(raw.get("resource_policies", ())))),
        parameters=tuple(_parameters(raw.get("parameters", ()), account, default_region)),
        keys=tuple(_keys(raw.get("keys", ()))),
        clusters=tuple(clusters),
        associations=tuple(_associations(raw.get("associations", ()))),
        warnings=tuple(warnings),
        gaps=tuple(sorted(_truncated(raw))),
        present=frozenset(raw),
        listed=frozenset(_listed(raw, "secrets", "SecretList", "secretsmanager", account, default_region))
        | frozenset(_listed(raw, "parameters", "Parameters", "ssmparameter", account, default_region)),
    )


CONTINUATION = ("NextToken", "Marker", "nextToken")
ACCOUNT_IN_NAME = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def _truncated(raw: RawSnapshot) -> list[str]:
    """A listing saved page by page is complete only when some page says nothing more follows (the
    AWS CLI prints a continuation token only when told not to paginate, or with --max-items)."""
    gaps = []
    for key, files in raw.items():
        if key == "identity" or key == "clusters":
            continue
        # pages of one listing share its region (and account) in their file names
        listings: dict[tuple[str | None, str | None], list[RawFile]] = {}
        for f in files:
            account = ACCOUNT_IN_NAME.search(Path(f.name).name)
            listings.setdefault(
                (_region_from_name(f.name), account.group(0) if account else None), []
            ).append(f)
        for pages in listings.values():
            more = [
                f.name
                for f in pages
                if isinstance(f.data, dict)
                and (f.data.get("IsTruncated") is True or any(f.data.get(k) for k in CONTINUATION))
            ]
            if more and len(more) == len(pages):
                gaps.append(
                    f"{', '.join(more)}: a page that says more follows (IsTruncated/NextToken), "
                    "and no last page"
                )
    return gaps


def _listed(
    raw: RawSnapshot, key: str, field: str, kind: str, account: str | None, default_region: str | None
) -> set[tuple[str, str, str]]:
    """The (kind, account, region) a listing file covers: the region in its name (one file per region,
    as DESIGN.md names them), else the regions of what it lists, else the cluster's region."""
    covered: set[tuple[str, str, str]] = set()
    for f in raw.get(key, ()):
        regions = {r for r in (_region_from_name(f.name),) if r}
        if not regions and isinstance(f.data, dict) and isinstance(f.data.get(field), list):
            for item in f.data[field]:
                arn = try_parse_arn(item.get("ARN", "")) if isinstance(item, dict) else None
                if arn is not None:
                    regions.add(arn.region)
        if not regions and default_region:
            regions.add(default_region)
        covered |= {(kind, account or "", r) for r in regions}
    return covered
