"""The `.iamscope.yaml` configuration: what the cluster cannot say about itself (which namespaces may
sync Secrets, who the platform principals are, the cluster's name, the provider's region) and how
`generate` names and tags the roles it writes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamscope.aws.snapshot import REGION
from iamscope.errors import InputError
from iamscope.files import InputReader
from iamscope.yamlload import load_documents

DEFAULT_PATH = Path(".iamscope.yaml")
CONFIG_LIMIT = 1024 * 1024

_KNOWN = {
    "sync": {"approved_namespaces"},
    "platform": {"principals", "groups"},
    "cluster": {"name"},
    "aws": {"region"},
    "generate": {"role_name", "role_path", "permissions_boundary", "tags"},
    "quotas": {"secretsmanager_rps", "ssm_tps"},
}
# AWS defaults per account and region: Secrets Manager GetSecretValue + DescribeSecret, SSM GetParameters
# at standard throughput (DESIGN.md §4); higher throughput or quota increases are configured
DEFAULT_SECRETSMANAGER_RPS = 10_000.0
DEFAULT_SSM_TPS = 40.0
DEFAULT_ROLE_NAME = "{cluster}-{namespace}-{service_account}"
# IAM: a path is / or /segments/ of printable ASCII without spaces, at most 512 characters
# matched with fullmatch: `$` alone would let a trailing newline through into the IAM API and Terraform
ROLE_PATH = re.compile(r"^/(?:[\x21-\x7e]+/)?$")
BOUNDARY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\x21-\x7e]+$")
# IAM tags: keys up to 128, values up to 256 characters of letters, digits, spaces and _.:/=+-@
TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")
# EKS CreateCluster `name` (botocore eks 2017-11-01 service-2.json, shape ClusterName): 1-100 characters,
# `^[0-9A-Za-z][A-Za-z0-9\-_]*`, "only alphanumeric characters (case-sensitive), hyphens, and underscores".
# It is written into the Falco rules' output, where `%` would start a field reference, and into IAM role
# names and the Kyverno policy's annotations.
CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
# a namespace name is a DNS-1123 label (Kubernetes apimachinery IsDNS1123Label)
DNS1123_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
# characters that change what a name means where the Kyverno policy and the Falco rules put it:
# `{{`/`}}` open a Kyverno variable and `$(` a Kyverno reference (both substituted in the whole rule
# before it is evaluated: one that does not resolve fails the rule, and so every request it matches);
# `*` and `?` are wildcards in Kyverno's AnyNotIn/AllNotIn (a principal `*` would admit everyone) but
# literals in Falco's `in` (the alert would still fire): the two artefacts would disagree on who the
# platform is
_SPECIAL = ("{{", "}}", "$(", "*", "?")
# groups that hold every caller, every service account, or every node: naming one as a platform group
# lets that whole population write SecretProviderClasses. A namespace's service-account group
# (system:serviceaccounts:<ns>) holds every service account of that namespace, the `default` one and
# internet-facing ones such as argocd-server included, and every pod anyone may create there:
# name the service accounts in platform.principals instead.
_TOO_BROAD_GROUPS = {
    "system:authenticated": "every authenticated user and service account",
    "system:unauthenticated": "every unauthenticated request",
    "system:serviceaccounts": "every service account of the cluster",
    "system:nodes": "every node's kubelet",
}
_NAMESPACE_SA_GROUP = "system:serviceaccounts:"
# the username of unauthenticated requests (when anonymous auth is on)
_ANONYMOUS = "system:anonymous"


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    approved_namespaces: tuple[str, ...] = ()
    platform_principals: tuple[str, ...] = ()
    platform_groups: tuple[str, ...] = ()
    cluster_name: str | None = None
    region: str | None = None  # the region ASCP is configured with, used when an SPC names none
    role_name: str = DEFAULT_ROLE_NAME  # generate: template of the role names it writes
    role_path: str = "/"
    permissions_boundary: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    secretsmanager_rps: float = DEFAULT_SECRETSMANAGER_RPS
    ssm_tps: float = DEFAULT_SSM_TPS


def _strings(value: Any, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("must be a list of strings", source=source, where=where)
    for item in value:
        if not item.strip():
            raise InputError(f"{item!r}: an empty name", source=source, where=where)
        special = [s for s in _SPECIAL if s in item]
        if special:
            raise InputError(
                f"{item!r}: {', '.join(repr(s) for s in special)} would be read as Kyverno variable or "
                "reference syntax, or as a wildcard by Kyverno but a literal by Falco; name each one exactly",
                source=source,
                where=where,
            )
    return tuple(sorted(set(value)))


def _principals(value: Any, source: str) -> tuple[str, ...]:
    where = "platform.principals"
    principals = _strings(value, where, source)
    if _ANONYMOUS in principals:
        raise InputError(
            f"{_ANONYMOUS!r} is every unauthenticated request, not a platform principal",
            source=source,
            where=where,
        )
    return principals


def _groups(value: Any, source: str) -> tuple[str, ...]:
    where = "platform.groups"
    groups = _strings(value, where, source)
    for group in groups:
        if group in _TOO_BROAD_GROUPS:
            raise InputError(
                f"{group!r} holds {_TOO_BROAD_GROUPS[group]}: it would let them all write "
                "SecretProviderClasses",
                source=source,
                where=where,
            )
        if group.startswith(_NAMESPACE_SA_GROUP):
            raise InputError(
                f"{group!r} holds every service account of a namespace (and every pod anyone may create "
                "there): name the service accounts in platform.principals instead",
                source=source,
                where=where,
            )
    return groups


def _namespaces(value: Any, source: str) -> tuple[str, ...]:
    where = "sync.approved_namespaces"
    namespaces = _strings(value, where, source)
    for namespace in namespaces:
        if not DNS1123_LABEL.fullmatch(namespace):
            raise InputError(
                f"{namespace!r} is not a namespace name (a DNS-1123 label: up to 63 lowercase letters, "
                "digits and '-', starting and ending with a letter or digit)",
                source=source,
                where=where,
            )
    return namespaces


def _cluster_name(value: Any, source: str) -> str | None:
    name = _string(value, "cluster.name", source)
    if name is not None and not CLUSTER_NAME.fullmatch(name):
        raise InputError(
            f"{name!r} is not an EKS cluster name (up to 100 letters, digits, '-' and '_', starting with a "
            "letter or digit)",
            source=source,
            where="cluster.name",
        )
    return name


def _string(value: Any, where: str, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError("must be a non-empty string", source=source, where=where)
    return value


def parse_config(raw: Any, *, source: str) -> Config:
    if raw is None:
        return Config()
    if not isinstance(raw, dict):
        raise InputError("the configuration must be a mapping", source=source)
    for section, value in raw.items():
        if section not in _KNOWN:
            raise InputError(
                f"unknown section {section!r} (known: {', '.join(sorted(_KNOWN))})", source=source
            )
        if value is not None and not isinstance(value, dict):
            raise InputError("must be a mapping", source=source, where=str(section))
        for key in value or {}:
            if key not in _KNOWN[section]:
                known = ", ".join(sorted(_KNOWN[section]))
                raise InputError(f"unknown key {key!r} (known: {known})", source=source, where=str(section))

    def get(section: str, key: str) -> Any:
        return (raw.get(section) or {}).get(key)

    return Config(
        approved_namespaces=_namespaces(get("sync", "approved_namespaces"), source),
        platform_principals=_principals(get("platform", "principals"), source),
        platform_groups=_groups(get("platform", "groups"), source),
        cluster_name=_cluster_name(get("cluster", "name"), source),
        region=_region(get("aws", "region"), source),
        role_name=_string(get("generate", "role_name"), "generate.role_name", source) or DEFAULT_ROLE_NAME,
        role_path=_role_path(get("generate", "role_path"), source),
        permissions_boundary=_boundary(get("generate", "permissions_boundary"), source),
        tags=_tags(get("generate", "tags"), source),
        secretsmanager_rps=_rate(get("quotas", "secretsmanager_rps"), "quotas.secretsmanager_rps", source)
        or DEFAULT_SECRETSMANAGER_RPS,
        ssm_tps=_rate(get("quotas", "ssm_tps"), "quotas.ssm_tps", source) or DEFAULT_SSM_TPS,
    )


def _rate(value: Any, where: str, source: str) -> float | None:
    if value is None:
        return None
    message = "must be a positive, finite number of requests per second"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(message, source=source, where=where)
    try:
        rate = float(value)  # an int beyond float's range raises OverflowError
    except OverflowError:
        raise InputError(message, source=source, where=where) from None
    if not math.isfinite(rate) or rate <= 0:  # .nan, .inf (YAML) and 1e400 (inf) are no quota
        raise InputError(message, source=source, where=where)
    return rate


def _role_path(value: Any, source: str) -> str:
    path = _string(value, "generate.role_path", source) or "/"
    if len(path) > 512 or not ROLE_PATH.fullmatch(path):
        raise InputError(
            f"{path!r} is not an IAM path (/ or /one/or/more/segments/)",
            source=source,
            where="generate.role_path",
        )
    return path


def _boundary(value: Any, source: str) -> str | None:
    arn = _string(value, "generate.permissions_boundary", source)
    if arn is not None and not BOUNDARY_ARN.fullmatch(arn):
        raise InputError(
            f"{arn!r} is not an IAM policy ARN", source=source, where="generate.permissions_boundary"
        )
    return arn


def _tags(value: Any, source: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise InputError("must be a mapping of tag keys to values", source=source, where="generate.tags")
    tags = []
    for key, text in value.items():
        where = f"generate.tags.{key}"
        if not isinstance(key, str) or not isinstance(text, str):
            raise InputError("tag keys and values must be strings", source=source, where=where)
        if (
            not 1 <= len(key) <= 128
            or len(text) > 256
            or not TAG_TEXT.fullmatch(key)
            or not TAG_TEXT.fullmatch(text)
        ):
            raise InputError(
                "not a valid IAM tag (key of 1-128, value of up to 256 characters: letters, digits, "
                "spaces, _.:/=+-@)",
                source=source,
                where=where,
            )
        if key.lower().startswith("aws:"):
            raise InputError("tag keys starting with aws: are reserved", source=source, where=where)
        tags.append((key, text))
    return tuple(sorted(tags))


def _region(value: Any, source: str) -> str | None:
    region = _string(value, "aws.region", source)
    if region is not None and not REGION.fullmatch(region):
        raise InputError(
            f"{region!r} is not an AWS region name (like eu-west-1)", source=source, where="aws.region"
        )
    return region


def load_config(path: Path | None, reader: InputReader) -> Config:
    """The given file, else ./.iamscope.yaml when present, else defaults."""
    if path is None:
        if not DEFAULT_PATH.is_file():
            return Config()
        path = DEFAULT_PATH
    text = reader.read_text(path, limit=CONFIG_LIMIT)
    documents = [d for _, d in load_documents(text, source=str(path))]
    if len(documents) > 1:
        raise InputError("expected one YAML document", source=str(path))
    return parse_config(documents[0] if documents else None, source=str(path))
