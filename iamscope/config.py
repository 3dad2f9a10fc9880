"""The `.iamscope.yaml` configuration: what the cluster cannot say about itself (which namespaces may
sync Secrets, who the platform principals are, the cluster's name, the provider's region)."""

from __future__ import annotations

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
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    approved_namespaces: tuple[str, ...] = ()
    platform_principals: tuple[str, ...] = ()
    platform_groups: tuple[str, ...] = ()
    cluster_name: str | None = None
    region: str | None = None  # the region ASCP is configured with, used when an SPC names none


def _strings(value: Any, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("must be a list of strings", source=source, where=where)
    return tuple(sorted(set(value)))


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
        approved_namespaces=_strings(get("sync", "approved_namespaces"), "sync.approved_namespaces", source),
        platform_principals=_strings(get("platform", "principals"), "platform.principals", source),
        platform_groups=_strings(get("platform", "groups"), "platform.groups", source),
        cluster_name=_string(get("cluster", "name"), "cluster.name", source),
        region=_region(get("aws", "region"), source),
    )


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
