"""What the AWS provider (ASCP) reads from a SecretProviderClass: the `objects` YAML string with every
field ASCP accepts (keys case-insensitive, unknown keys ignored, as ASCP parses them), and the
parameters the driver merges from the pod's volumeAttributes. Pure; no AWS knowledge beyond ASCP's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iamscope.errors import InputError
from iamscope.model import Pairs
from iamscope.yamlload import load_documents

SECRETSMANAGER = "secretsmanager"
SSMPARAMETER = "ssmparameter"
OBJECT_TYPES = (SECRETSMANAGER, SSMPARAMETER)

# Parameters ASCP reads; a pod volume's attributes override an SPC's (the driver copies them over).
ASCP_PARAMETERS = (
    "objects",
    "region",
    "failoverRegion",
    "pathTranslation",
    "usePodIdentity",
    "preferredAddressType",
)
PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$[A-Z_][A-Z0-9_]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class AscpObject:
    index: int
    name: str
    type: str | None  # None: omitted (allowed only for an ARN)
    alias: str | None = None
    version: str | None = None
    version_label: str | None = None
    file_permission: str | None = None
    jmes_paths: tuple[tuple[str, str], ...] = ()  # (path, objectAlias)
    failover_name: str | None = None
    failover_version: str | None = None
    failover_version_label: str | None = None

    @property
    def label(self) -> str:
        return f"objects[{self.index}] {self.name!r}"


def placeholders(*values: str | None) -> tuple[str, ...]:
    """Unsubstituted template placeholders (`${REGION}`) an upstream test would envsubst first."""
    return tuple(sorted({m for v in values if v for m in PLACEHOLDER.findall(v)}))


def _folded(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in mapping.items()}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_objects(text: str, *, source: str, where: str) -> tuple[AscpObject, ...]:
    """The entries of an `objects` parameter. Malformed input is an InputError naming the SPC."""
    documents = load_documents(text, source=f"{source} {where} parameters.objects")
    if not documents:
        return ()
    if len(documents) > 1:
        raise InputError("parameters.objects must be one YAML list", source=source, where=where)
    raw = documents[0][1]
    if not isinstance(raw, list):
        raise InputError("parameters.objects must be a YAML list of objects", source=source, where=where)
    objects = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise InputError(f"parameters.objects[{i}] must be a mapping", source=source, where=where)
        e = _folded(entry)
        name = _text(e.get("objectname"))
        if not name:
            raise InputError(f"parameters.objects[{i}] has no objectName", source=source, where=where)
        object_type = _text(e.get("objecttype"))
        if object_type is not None and object_type.lower() not in OBJECT_TYPES:
            raise InputError(
                f"parameters.objects[{i}] objectType {object_type!r} is not secretsmanager or ssmparameter",
                source=source,
                where=where,
            )
        jmes: list[tuple[str, str]] = []
        raw_jmes = e.get("jmespath")
        if raw_jmes is not None and not isinstance(raw_jmes, list):
            raise InputError(f"parameters.objects[{i}].jmesPath must be a list", source=source, where=where)
        for j, item in enumerate(raw_jmes or ()):
            if not isinstance(item, dict):
                raise InputError(
                    f"parameters.objects[{i}].jmesPath[{j}] must be a mapping", source=source, where=where
                )
            f = _folded(item)
            jmes.append((_text(f.get("path")) or "", _text(f.get("objectalias")) or ""))
        failover = e.get("failoverobject")
        if failover is not None and not isinstance(failover, dict):
            raise InputError(
                f"parameters.objects[{i}].failoverObject must be a mapping", source=source, where=where
            )
        fo = _folded(failover or {})
        objects.append(
            AscpObject(
                index=i,
                name=name.strip(),
                type=object_type.lower() if object_type else None,
                alias=_text(e.get("objectalias")),
                version=_text(e.get("objectversion")),
                version_label=_text(e.get("objectversionlabel")),
                file_permission=_text(e.get("filepermission")),
                jmes_paths=tuple(jmes),
                failover_name=_text(fo.get("objectname")),
                failover_version=_text(fo.get("objectversion")),
                failover_version_label=_text(fo.get("objectversionlabel")),
            )
        )
    return tuple(objects)


def effective_parameters(spc_parameters: Pairs, volume_attributes: Pairs) -> tuple[Pairs, tuple[str, ...]]:
    """The parameters ASCP sees for one pod volume, and which ASCP parameters the pod overrode inline."""
    merged = dict(spc_parameters)
    overridden = []
    for key, value in volume_attributes:
        if key == "secretProviderClass":
            continue
        if key in ASCP_PARAMETERS:
            overridden.append(key)
        merged[key] = value
    return tuple(sorted(merged.items())), tuple(sorted(overridden))


def is_true(value: str | None) -> bool:
    """ASCP reads booleans with Go's strconv.ParseBool."""
    return value is not None and value.strip() in ("1", "t", "T", "true", "TRUE", "True")
