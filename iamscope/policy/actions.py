"""The action catalogue: which concrete IAM actions a pattern such as `secretsmanager:Get*`, `ssm:*`
or `*` stands for, read from botocore's service models rather than typed by hand, and which of those
actions return secret material.

An action's IAM prefix is the service model's `signingName` (else its `endpointPrefix`); its names
are the model's operation names. That is exact for the services iamscope reasons about (Secrets
Manager, SSM, KMS, STS, IAM, EKS). Permission-only actions that have no API operation are not in the
models and so not in the catalogue.

"Returns secret material" is derived, not listed: an operation whose response carries the type a
secret store keeps its values in (named below per service, as the models name those shapes) and whose
request names a stored object (a secret, a parameter, a ciphertext) rather than asking for something
new (GetRandomPassword, GenerateDataKey).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import botocore.session

from iamscope.policy.wildcard import Mode, compile_pattern, literal_prefix

_VALUE_SHAPES: Mapping[str, frozenset[str]] = {
    "secretsmanager": frozenset({"SecretStringType", "SecretBinaryType"}),
    "ssm": frozenset({"PSParameterValue"}),
    "kms": frozenset({"PlaintextType"}),
}
_OBJECT_MEMBERS = frozenset(
    {"SecretId", "SecretIdList", "Filters", "Name", "Names", "Path", "CiphertextBlob"}
)


@cache
def _loader() -> Any:
    return botocore.session.get_session().get_component("data_loader")


@cache
def _model(service: str) -> Mapping[str, Any]:
    model: Mapping[str, Any] = _loader().load_service_model(service, "service-2")
    return model


@cache
def _prefixes() -> Mapping[str, tuple[str, ...]]:
    """IAM prefix (lower-case) -> botocore service names that carry it."""
    out: dict[str, list[str]] = {}
    for service in _loader().list_available_services("service-2"):
        metadata = _model(service)["metadata"]
        prefix = str(metadata.get("signingName") or metadata.get("endpointPrefix") or service).lower()
        out.setdefault(prefix, []).append(service)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _services_for_prefix(prefix: str) -> tuple[str, ...]:
    """Botocore services for a literal IAM prefix, without loading every model when avoidable."""
    loader = _loader()
    if prefix in loader.list_available_services("service-2"):
        metadata = _model(prefix)["metadata"]
        if str(metadata.get("signingName") or metadata.get("endpointPrefix") or prefix).lower() == prefix:
            return (prefix,)
    return _prefixes().get(prefix, ())


@cache
def service_actions(prefix: str) -> tuple[str, ...]:
    """Every action of one IAM service prefix, as `prefix:Operation`, sorted."""
    prefix = prefix.lower()
    names = {op for service in _services_for_prefix(prefix) for op in _model(service)["operations"]}
    return tuple(f"{prefix}:{name}" for name in sorted(names))


def all_prefixes() -> tuple[str, ...]:
    return tuple(sorted(_prefixes()))


def expand_actions(pattern: str) -> tuple[str, ...]:
    """The concrete actions an Action-element pattern covers (case-insensitive), sorted."""
    if ":" not in pattern and pattern != "*":
        return ()
    service_part = pattern.split(":", 1)[0] if pattern != "*" else "*"
    if literal_prefix(service_part) == service_part:
        candidates = service_actions(service_part)
    else:
        service_regex = compile_pattern((service_part,), Mode.PLAIN, ignore_case=True)
        candidates = tuple(
            a for p in all_prefixes() if service_regex.fullmatch(p) for a in service_actions(p)
        )
    regex = compile_pattern((pattern,), Mode.PLAIN, ignore_case=True)
    return tuple(sorted(a for a in candidates if regex.fullmatch(a)))


def _reaches(
    shapes: Mapping[str, Any], name: str, targets: frozenset[str], seen: frozenset[str] = frozenset()
) -> bool:
    if name in targets:
        return True
    if name in seen:
        return False
    seen = seen | {name}
    shape = shapes[name]
    kind = shape.get("type")
    if kind == "structure":
        return any(_reaches(shapes, m["shape"], targets, seen) for m in shape.get("members", {}).values())
    if kind == "list":
        return _reaches(shapes, shape["member"]["shape"], targets, seen)
    if kind == "map":
        return _reaches(shapes, shape["value"]["shape"], targets, seen)
    return False


@cache
def _secret_reading(prefix: str) -> frozenset[str]:
    found: set[str] = set()
    for service in _services_for_prefix(prefix):
        model = _model(service)
        shapes = model["shapes"]
        values = _VALUE_SHAPES.get(prefix, frozenset())
        for name, operation in model["operations"].items():
            output, request = operation.get("output"), operation.get("input")
            if not values or not output or not request or not _reaches(shapes, output["shape"], values):
                continue
            members = shapes[request["shape"]].get("members", {})
            if _OBJECT_MEMBERS & set(members):
                found.add(f"{prefix}:{name}".lower())
    return frozenset(found)


_ACTION = re.compile(r"^([A-Za-z0-9-]+):([A-Za-z0-9]+)$")


def reads_secret_material(action: str) -> bool:
    """Whether the action returns stored secret material (a secret value, a decrypted parameter or
    ciphertext): `secretsmanager:GetSecretValue`, `ssm:GetParameters`, `kms:Decrypt`, ..."""
    match = _ACTION.match(action)
    if not match:
        return False
    return action.lower() in _secret_reading(match.group(1).lower())


def secret_reading_actions(prefix: str) -> tuple[str, ...]:
    """The actions of a service prefix that return stored secret material, canonical case, sorted."""
    reading = _secret_reading(prefix.lower())
    return tuple(a for a in service_actions(prefix) if a.lower() in reading)
