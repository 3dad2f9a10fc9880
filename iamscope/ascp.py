"""What the AWS provider (ASCP) reads from a SecretProviderClass: the `objects` YAML string with every
field ASCP accepts (keys case-insensitive, unknown keys ignored, as ASCP parses them), and the
parameters the driver merges from the pod's volumeAttributes. Pure; no AWS knowledge beyond ASCP's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
PLACEHOLDER = re.compile(
    r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$[A-Za-z_][A-Za-z0-9_]*"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AscpObject:
    index: int
    name: str
    type: str | None  # None: omitted (allowed only for an ARN), or not one ASCP accepts
    alias: str | None = None
    version: str | None = None
    version_label: str | None = None
    file_permission: str | None = None
    jmes_paths: tuple[tuple[str, str], ...] = ()  # (path, objectAlias)
    failover_name: str | None = None
    failover_version: str | None = None
    failover_version_label: str | None = None
    problems: tuple[str, ...] = ()  # why ASCP rejects the entry (and with it the whole mount)

    @property
    def label(self) -> str:
        return f"objects[{self.index}] {self.name!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedObjects:
    objects: tuple[AscpObject, ...]
    problems: tuple[str, ...]  # the string as a whole cannot be read: ASCP fails the mount


def placeholders(*values: str | None) -> tuple[str, ...]:
    """Unsubstituted template placeholders (`${REGION}`, `$REGION`) that an upstream test would
    envsubst first. No secret or parameter name may hold a `$`, so any is a placeholder."""
    return tuple(sorted({m for v in values if v for m in PLACEHOLDER.findall(v)}))


def _folded(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in mapping.items()}


# the entry fields ASCP reads as strings (keys folded to lower case), as the user writes them
_STRING_FIELDS = {
    "objectname": "objectName",
    "objecttype": "objectType",
    "objectalias": "objectAlias",
    "objectversion": "objectVersion",
    "objectversionlabel": "objectVersionLabel",
    "filepermission": "filePermission",
}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (list, dict)):
        return None  # a list or mapping where ASCP wants a string: _not_strings says so
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _not_strings(
    entry: Mapping[str, Any], prefix: str, names: Mapping[str, str] = _STRING_FIELDS
) -> list[str]:
    """ASCP decodes these fields into Go strings: a list or mapping there fails the whole mount."""
    return [
        f"{prefix}{shown} is a {'list' if isinstance(entry[key], list) else 'mapping'}, not a string"
        for key, shown in names.items()
        if isinstance(entry.get(key), (list, dict))
    ]


def _entry(i: int, raw: Any) -> AscpObject:
    """One entry, with every reason ASCP's validateSecretDescriptor would reject it."""
    if not isinstance(raw, dict):
        return AscpObject(index=i, name="", type=None, problems=(f"objects[{i}] is not a mapping",))
    e = _folded(raw)
    problems = _not_strings(e, "")
    name = (_text(e.get("objectname")) or "").strip()
    if not name and not isinstance(e.get("objectname"), (list, dict)):
        problems.append("objectName is missing")
    object_type = _text(e.get("objecttype"))
    if object_type is not None and object_type not in OBJECT_TYPES:
        # ASCP's check is case-sensitive, and `ssm` is accepted only as an ARN's service
        problems.append(f"Invalid objectType {object_type!r} (ASCP accepts secretsmanager or ssmparameter)")
    jmes: list[tuple[str, str]] = []
    raw_jmes = e.get("jmespath")
    if raw_jmes is not None and not isinstance(raw_jmes, list):
        problems.append("jmesPath is not a list")
    for item in raw_jmes if isinstance(raw_jmes, list) else ():
        f = _folded(item) if isinstance(item, dict) else {}
        problems.extend(_not_strings(f, "jmesPath ", {"path": "path", "objectalias": "objectAlias"}))
        path, alias = _text(f.get("path")) or "", _text(f.get("objectalias")) or ""
        if not path or not alias:
            problems.append("every jmesPath entry needs a path and an objectAlias")
        jmes.append((path, alias))
    failover = e.get("failoverobject")
    if failover is not None and not isinstance(failover, dict):
        problems.append("failoverObject is not a mapping")
    fo = _folded(failover) if isinstance(failover, dict) else {}
    problems.extend(_not_strings(fo, "failoverObject."))
    version, failover_name = _text(e.get("objectversion")), _text(fo.get("objectname"))
    if failover_name:
        if not _text(e.get("objectalias")):
            problems.append("an object with a failoverObject needs an objectAlias")
        if (_text(fo.get("objectversion")) or "") != (version or ""):
            problems.append("objectVersion must match between the object and its failoverObject")
    ssm = object_type == SSMPARAMETER or (name.startswith("arn:") and name.split(":")[2:3] == ["ssm"])
    if ssm and version and _text(e.get("objectversionlabel")):
        problems.append("an SSM parameter cannot give both objectVersion and objectVersionLabel")
    return AscpObject(
        index=i,
        name=name,
        type=object_type if object_type in OBJECT_TYPES else None,
        alias=_text(e.get("objectalias")),
        version=version,
        version_label=_text(e.get("objectversionlabel")),
        file_permission=_text(e.get("filepermission")),
        jmes_paths=tuple(jmes),
        failover_name=failover_name,
        failover_version=_text(fo.get("objectversion")),
        failover_version_label=_text(fo.get("objectversionlabel")),
        problems=tuple(problems),
    )


def _duplicates(objects: list[AscpObject]) -> list[AscpObject]:
    """ASCP rejects an objectName given twice unless aliases or version labels tell the two apart,
    and an objectAlias (or jmesPath alias) used twice."""
    seen: dict[str, AscpObject] = {}
    aliases: set[str] = set()
    out = []
    for obj in objects:
        extra: list[str] = []
        first = seen.get(obj.name)
        if first is not None and obj.name:
            same_alias = (obj.alias or "") == (first.alias or "")
            same_label = (obj.version_label or "") == (first.version_label or "")
            if same_alias and same_label:
                extra.append(f"objectName {obj.name!r} is given twice with the same alias and version label")
        seen[obj.name] = obj  # ASCP compares with the last entry of that name it saw
        for alias in [obj.alias] + [a for _, a in obj.jmes_paths]:
            if alias and alias in aliases:
                extra.append(f"objectAlias {alias!r} is used twice")
            if alias:
                aliases.add(alias)
        out.append(replace(obj, problems=obj.problems + tuple(extra)) if extra else obj)
    return out


def parse_objects(text: str, *, source: str, where: str) -> ParsedObjects:
    """The entries of an `objects` parameter as ASCP reads them. What ASCP would reject is returned
    as problems (the mount fails; the rest of the cluster is still analysed), never raised."""
    try:
        documents = load_documents(text, source=f"{source} {where} parameters.objects")
    except InputError as error:
        return ParsedObjects(objects=(), problems=(f"parameters.objects is not YAML ({error})",))
    if not documents:
        return ParsedObjects(objects=(), problems=())
    if len(documents) > 1:
        return ParsedObjects(objects=(), problems=("parameters.objects holds several YAML documents",))
    raw = documents[0][1]
    if not isinstance(raw, list):
        return ParsedObjects(objects=(), problems=("parameters.objects is not a YAML list of objects",))
    return ParsedObjects(objects=tuple(_duplicates([_entry(i, e) for i, e in enumerate(raw)])), problems=())


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


BOOLS = {
    "1": True,
    "t": True,
    "T": True,
    "TRUE": True,
    "true": True,
    "True": True,
    "0": False,
    "f": False,
    "F": False,
    "FALSE": False,
    "false": False,
    "False": False,
}


def parse_bool(value: str | None) -> bool | None:
    """Go's strconv.ParseBool, which ASCP uses: None when it would fail (and fail the mount)."""
    if value is None or value == "":
        return False  # ASCP parses usePodIdentity only when it is set
    return BOOLS.get(value)


def is_true(value: str | None) -> bool:
    """ASCP reads booleans with Go's strconv.ParseBool."""
    return value is not None and value.strip() in ("1", "t", "T", "true", "TRUE", "True")
