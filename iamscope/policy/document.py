"""Normalisation of IAM policy documents into frozen statements.

Real documents come in every legal shape: `Statement` as one object or a list, each element as a string
or a list, `Action` or `NotAction`, `Resource` or `NotResource`, `Principal` or `NotPrincipal` as `"*"`
or a map of principal types, condition values as strings, numbers, booleans or lists. Everything is
turned into tuples of strings here, once, and validated, so evaluation never meets a surprise. A
malformed document raises PolicyError naming the statement (index and Sid).
"""

from __future__ import annotations

import ipaddress
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from iamscope.errors import PolicyError
from iamscope.policy.operators import OPERATORS, Operator, parse_date, parse_number
from iamscope.policy.wildcard import Mode, PatternSet

VARIABLES_VERSION = "2012-10-17"
"""Policy variables (`${...}`) are substituted only in documents of this version."""
_VERSIONS = ("2012-10-17", "2008-10-17")

PolicyKind = str  # "identity" | "boundary" | "resource" | "trust"
_KINDS = ("identity", "boundary", "resource", "trust")

_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
     "Condition"}
)  # fmt: skip
_QUALIFIERS = {"foranyvalue": "ForAnyValue", "forallvalues": "ForAllValues"}
_PRINCIPAL_TYPES = {
    "aws": "AWS",
    "service": "Service",
    "federated": "Federated",
    "canonicaluser": "CanonicalUser",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One (operator, key) pair of a Condition block with its policy values."""

    operator: Operator
    qualifier: str | None  # "ForAnyValue", "ForAllValues" or None
    if_exists: bool
    key: str  # as written; matched case-insensitively
    values: tuple[str, ...]

    @property
    def operator_text(self) -> str:
        prefix = f"{self.qualifier}:" if self.qualifier else ""
        return f"{prefix}{self.operator.name}{'IfExists' if self.if_exists else ''}"

    def __str__(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator_text} {self.key} {json.dumps(shown)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principals:
    """A Principal or NotPrincipal element: `any` for `"*"`, else (type, value) pairs."""

    any: bool
    entries: tuple[tuple[str, str], ...]

    def values(self, principal_type: str) -> tuple[str, ...]:
        return tuple(v for t, v in self.entries if t == principal_type)


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    index: int  # position in the document, from 0
    sid: str | None
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None  # None with not_resources None: the element is absent
    not_resources: tuple[str, ...] | None
    principals: Principals | None
    not_principals: Principals | None
    conditions: tuple[Condition, ...]
    # The action and resource elements compiled once, for evaluation (derived from the fields above).
    action_set: PatternSet = field(compare=False, repr=False)
    resource_set: PatternSet | None = field(compare=False, repr=False)

    @property
    def label(self) -> str:
        return _statement_label(self.index, self.sid)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyDocument:
    name: str  # what the user calls it: a policy ARN, "role/x inline policy y", a file name
    kind: PolicyKind
    version: str | None
    statements: tuple[Statement, ...]

    @property
    def variables_enabled(self) -> bool:
        return self.version == VARIABLES_VERSION


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # `type(...) is dict` first: what json.loads returns, without the ABC's subclass check
    return type(value) is dict or isinstance(value, Mapping)


def _statement_label(index: int, sid: str | None) -> str:
    return f"statement {index}" + (f" (Sid {sid!r})" if sid else "")


def load_document(raw: Any, *, name: str) -> Mapping[str, Any]:
    """Accept a policy as a dict, a JSON string, or a URL-encoded JSON string (as IAM's API returns)."""
    if _is_mapping(raw):
        return raw
    if isinstance(raw, str):
        for text in (raw, urllib.parse.unquote(raw)):
            try:
                parsed = json.loads(text)
            except RecursionError:
                raise PolicyError("policy document nested too deeply", source=name) from None
            except ValueError:
                continue
            if isinstance(parsed, Mapping):
                return parsed
            raise PolicyError(
                f"a policy document must be a JSON object, got {type(parsed).__name__}", source=name
            )
        raise PolicyError("policy document is not valid JSON", source=name)
    raise PolicyError(f"a policy document must be a JSON object, got {type(raw).__name__}", source=name)


def parse_policy(raw: Any, *, name: str = "policy", kind: PolicyKind = "identity") -> PolicyDocument:
    """Normalise and validate one policy document. `kind` decides which elements are required:
    identity and boundary policies need Resource/NotResource and must not name principals; resource
    and trust policies need Principal/NotPrincipal."""
    if isinstance(raw, PolicyDocument):
        return raw
    if kind not in _KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")
    doc = load_document(raw, name=name)
    version = doc.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyError(f"Version must be one of {', '.join(_VERSIONS)}, got {version!r}", source=name)
    if "Statement" not in doc:
        raise PolicyError("the document has no Statement", source=name)
    raw_statements = doc["Statement"]
    if _is_mapping(raw_statements):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyError("Statement must be an object or a list of objects", source=name)
    statements = tuple(
        _parse_statement(s, i, name=name, kind=kind, version=version) for i, s in enumerate(raw_statements)
    )
    return PolicyDocument(name=name, kind=kind, version=version, statements=statements)


def _parse_statement(raw: Any, index: int, *, name: str, kind: PolicyKind, version: str | None) -> Statement:
    if not _is_mapping(raw):
        raise PolicyError("must be an object", source=name, where=_statement_label(index, None))
    sid = raw.get("Sid")

    def fail(message: str) -> PolicyError:
        where = _statement_label(index, sid if isinstance(sid, str) else None)
        return PolicyError(message, source=name, where=where)

    if sid is not None and not isinstance(sid, str):
        raise fail("Sid must be a string")
    if not _STATEMENT_KEYS.issuperset(raw):
        raise fail(f"unknown element {sorted(set(raw) - _STATEMENT_KEYS)[0]!r}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise fail(f'Effect must be "Allow" or "Deny", got {effect!r}')

    actions, not_actions = _pair(raw, "Action", "NotAction", fail, required=True)
    for action in actions or not_actions or ():
        if action != "*" and ":" not in action:
            raise fail(f"action {action!r} is not of the form service:action")
    resources, not_resources = _pair(
        raw, "Resource", "NotResource", fail, required=kind in ("identity", "boundary")
    )
    principals = not_principals = None
    if "Principal" in raw or "NotPrincipal" in raw:
        if kind in ("identity", "boundary"):
            raise fail("an identity-based policy cannot name a Principal")
        if "Principal" in raw and "NotPrincipal" in raw:
            raise fail("has both Principal and NotPrincipal")
        if "Principal" in raw:
            principals = _principals(raw["Principal"], fail)
        else:
            # "NotPrincipal must be used with "Effect":"Deny" ... You cannot use the NotPrincipal
            # element in an IAM identity-based policy nor in an IAM role trust policy."
            if effect != "Deny":
                raise fail("NotPrincipal is supported only with Effect Deny")
            if kind == "trust":
                raise fail("a role trust policy cannot use NotPrincipal")
            not_principals = _principals(raw["NotPrincipal"], fail)
    elif kind in ("resource", "trust"):
        raise fail("a resource-based policy statement needs Principal or NotPrincipal")
    conditions = _conditions(raw.get("Condition"), fail)
    variables = version == VARIABLES_VERSION
    action_patterns = actions if actions is not None else not_actions
    resource_patterns = resources if resources is not None else not_resources
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principals=principals,
        not_principals=not_principals,
        conditions=conditions,
        action_set=PatternSet.build(action_patterns or (), Mode.PLAIN, ignore_case=True, variables=False),
        resource_set=None
        if resource_patterns is None
        else PatternSet.build(resource_patterns, Mode.RESOURCE, ignore_case=False, variables=variables),
    )


def _strings(value: Any, element: str, fail: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise fail(f"{element} must be a string or a list of strings")


def _pair(
    raw: Mapping[str, Any], positive: str, negative: str, fail: Any, *, required: bool
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    if positive in raw and negative in raw:
        raise fail(f"has both {positive} and {negative}")
    if positive in raw:
        return _strings(raw[positive], positive, fail), None
    if negative in raw:
        return None, _strings(raw[negative], negative, fail)
    if required:
        raise fail(f"has neither {positive} nor {negative}")
    return None, None


def _principals(value: Any, fail: Any) -> Principals:
    if value == "*":
        return Principals(any=True, entries=())
    if not _is_mapping(value):
        raise fail('Principal must be "*" or an object of principal types')
    entries: list[tuple[str, str]] = []
    for raw_type, raw_values in value.items():
        ptype = _PRINCIPAL_TYPES.get(str(raw_type).lower())
        if ptype is None:
            raise fail(f"unknown principal type {raw_type!r}")
        entries.extend((ptype, v) for v in _strings(raw_values, f"Principal {ptype}", fail))
    any_principal = ("AWS", "*") in entries
    return Principals(any=any_principal, entries=tuple(sorted(set(entries))))


def _condition_values(raw: Any, fail: Any, where: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            out.append(str(item))
        else:
            raise fail(f"{where}: condition values must be strings, numbers or booleans")
    return tuple(out)


def _conditions(raw: Any, fail: Any) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not _is_mapping(raw):
        raise fail("Condition must be an object")
    out: list[Condition] = []
    for raw_op, block in raw.items():
        qualifier, operator, if_exists = _operator(str(raw_op), fail)
        if not _is_mapping(block):
            raise fail(f"Condition {raw_op!r} must map condition keys to values")
        for key, raw_values in block.items():
            values = _condition_values(raw_values, fail, f"{raw_op} {key}")
            _check_values(operator, values, fail, f"{raw_op} {key}")
            out.append(
                Condition(
                    operator=operator, qualifier=qualifier, if_exists=if_exists, key=str(key), values=values
                )
            )
    return tuple(out)


def _operator(text: str, fail: Any) -> tuple[str | None, Operator, bool]:
    qualifier = None
    rest = text
    if ":" in text:
        prefix, rest = text.split(":", 1)
        qualifier = _QUALIFIERS.get(prefix.lower())
        if qualifier is None:
            raise fail(f"unknown condition set operator {prefix!r} in {text!r}")
    if_exists = rest.lower().endswith("ifexists")
    base = rest[: -len("ifexists")] if if_exists else rest
    operator = OPERATORS.get(base.lower())
    if operator is None:
        raise fail(f"unknown condition operator {text!r}")
    if if_exists and operator.name == "Null":
        raise fail("Null cannot take IfExists")
    return qualifier, operator, if_exists


def _check_values(operator: Operator, values: Sequence[str], fail: Any, where: str) -> None:
    for value in values:
        if "${" in value:
            continue  # a policy variable: checked once substituted
        family = operator.family
        if family == "numeric" and parse_number(value) is None:
            raise fail(f"{where}: {value!r} is not a number")
        if family == "date" and parse_date(value) is None:
            raise fail(f"{where}: {value!r} is not a date (ISO 8601 or epoch seconds)")
        if family in ("bool", "null") and value.lower() not in ("true", "false"):
            raise fail(f"{where}: {value!r} is not true or false")
        if family == "ip":
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise fail(f"{where}: {value!r} is not an IP address or CIDR block") from None
