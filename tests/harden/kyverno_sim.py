"""A small stand-in for Kyverno's admission evaluation of `validate.deny` rules (with rule
`preconditions`), enough to judge the ClusterPolicy `iamscope harden` writes on sample
AdmissionRequests, offline.

It models, and cites, only what that policy uses; everything else raises (NotImplementedError for a
Kyverno feature the sim does not model, ValueError for something Kyverno does not have), so a policy
the sim cannot judge is never judged silently.

Sources (Kyverno 1.13+):
- kyverno.io/docs/writing-policies/validate ("deny" with `conditions`, `failureAction` Enforce |
  Audit) and kyverno.io/docs/writing-policies/preconditions ("Either or both [any/all] may be used
  ... each block must overall evaluate to TRUE"; "Kyverno will resolve all variables first").
- kyverno/kyverno pkg/engine/variables/evaluate.go `evaluateAnyAllConditions`: `any` is true when it
  is absent (nil) or one of its conditions holds (a present but empty `any: []` is non-nil in Go, so
  it is false); `all` is true when every condition holds (true when empty); deny = any && all. A
  plain list of conditions (the pre-1.3.4 form) is an `all`. Any evaluation error fails the rule.
- Rule `preconditions` (kyverno.io/docs/writing-policies/preconditions: "evaluated after a resource
  has been successfully matched (and not excluded) by a rule ... When preconditions are evaluated to
  an overall TRUE result, processing of the rule body begins"; otherwise the rule is skipped): the
  same any/all blocks and operators as deny. One difference in substitution: pkg/engine/variables
  vars.go newPreconditionsVariableResolver, "It returns an empty string if an error occurs during the
  substitution", so a variable that does not resolve (an absent field) is "" there, never an error.
- kyverno/kyverno pkg/engine/variables/operator/equal.go: Equals compares maps and lists with
  reflect.DeepEqual (false against another type), strings as a wildcard pattern (the value) over the
  key, after trying both as durations and resource quantities (not modelled: such strings raise);
  NotEquals is its negation.
- kyverno/kyverno pkg/engine/variables/operator/{anyin,allin,anynotin,allnotin}.go: a scalar key is
  compared as a one-element set (numbers and booleans through fmt.Sprint); set elements match when
  `wildcard.Match(k, v) || wildcard.Match(v, k)` (`*` and `?`); a string value is a one-element set
  unless it is a JSON array; AllNotIn means "no key element is in the value set" (allnotin_test.go:
  key [default, kyverno] against [kube-*, ky*] is false). A key of another type (a map) is false.
- kyverno.io/docs/writing-policies/variables: a value that is exactly one `{{ expr }}` is replaced by
  the JMESPath result over the admission context, with its JSON type. A variable that resolves to
  nothing fails the rule with an error, which rejects the request under the default failurePolicy
  Fail (DESIGN.md §4: "a JMESPath on an absent field ... errors and blocks the request unless
  defaulted"). The sim uses the `jmespath` package; Kyverno's own JMESPath functions are absent.
- kyverno/kyverno pkg/autogen/v1/{autogen,rule}.go: when no rule's match uses names, selectors or
  annotations and none mixes Pod with other kinds, every rule matching Pod gets `autogen-<name>`
  for DaemonSet, Deployment, Job, StatefulSet, ReplicaSet, ReplicationController, with
  "request.object.spec" rewritten to "request.object.spec.template.spec" (and metadata, and
  oldObject, likewise) in the whole rule, and `autogen-cronjob-<name>` for CronJob with
  "request.object.spec.jobTemplate.spec.template.spec"; names are cut at 63 characters.
- DESIGN.md §4 (Kyverno 1.13 `allowExistingViolations`, default true): an UPDATE whose oldObject
  already violates the rule is skipped unless `allowExistingViolations: false`; and a rule that
  reads `request.userInfo` needs `background: false` or Kyverno rejects the policy.
- Match: `match`/`exclude` with `any[]` (one filter matches) or `all[]` (every filter matches) of
  `resources` with `kinds` (`Kind`, `Version/Kind`, `Group/Version/Kind`, wildcards allowed) and
  `operations` (absent: every operation).

A request is a dict shaped like an AdmissionRequest:
`{"operation", "kind": {"group", "version", "kind"}, "namespace", "name", "userInfo": {"username",
"groups"}, "object", "oldObject"}`; `admission_request()` builds one from a manifest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jmespath
import jmespath.exceptions

PASS, SKIP, FAIL, ERROR = "pass", "skip", "fail", "error"

# pkg/autogen/v1/autogen.go PodControllers, and the group of each (for admission_request)
POD_CONTROLLERS = ("DaemonSet", "Deployment", "Job", "ReplicaSet", "ReplicationController", "StatefulSet")
CRONJOB = "CronJob"
# pkg/autogen/v1/rule.go podReplacementRules / cronJobReplacementRules
_POD_REPLACEMENTS = (
    ("request.object.spec", "request.object.spec.template.spec"),
    ("request.oldObject.spec", "request.oldObject.spec.template.spec"),
    ("request.object.metadata", "request.object.spec.template.metadata"),
    ("request.oldObject.metadata", "request.oldObject.spec.template.metadata"),
)
_CRONJOB_REPLACEMENTS = (
    ("request.object.spec", "request.object.spec.jobTemplate.spec.template.spec"),
    ("request.oldObject.spec", "request.oldObject.spec.jobTemplate.spec.template.spec"),
    ("request.object.metadata", "request.object.spec.jobTemplate.spec.template.metadata"),
    ("request.oldObject.metadata", "request.oldObject.spec.jobTemplate.spec.template.metadata"),
)
# variables Kyverno only has at admission: a policy reading them must say background: false
_ADMISSION_ONLY = ("request.userInfo", "request.roles", "request.clusterRoles", "serviceAccountName")

_VARIABLE = re.compile(r"^\{\{(.*)\}\}$", re.DOTALL)
_IN_OPERATORS = ("AnyIn", "AllIn", "AnyNotIn", "AllNotIn")
_NUMERIC_OPERATORS = ("GreaterThan", "GreaterThanOrEquals", "LessThan", "LessThanOrEquals")
# valid Kyverno operators this sim does not model (deprecated In/NotIn, the Duration* family)
_UNMODELLED_OPERATORS = (
    "In",
    "NotIn",
    "DurationGreaterThanOrEquals",
    "DurationGreaterThan",
    "DurationLessThanOrEquals",
    "DurationLessThan",
)


# equal.go tries a string key (and value) as a Go duration and as a resource quantity before comparing
# it as a wildcard pattern: the sim refuses to judge strings that could parse as either
_DURATION_OR_QUANTITY = re.compile(
    r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|ms|s|m|h))+$"
    r"|^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$"
)


class SubstitutionError(Exception):
    """A `{{ }}` variable resolved to nothing (null / an absent field, no default)."""


class PolicyRejected(Exception):
    """Kyverno would refuse to admit the policy itself."""


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    status: str  # pass | skip | fail | error
    failure_action: str
    message: str = ""


# --- wildcards, strings ------------------------------------------------------------------------------


def wildcard_match(pattern: str, text: str) -> bool:
    """Kyverno's ext/wildcard.Match: `*` any run of characters, `?` exactly one, the rest literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _sprint(value: Any) -> str:
    """Go's fmt.Sprint of a JSON scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _key_set(key: Any) -> list[str] | None:
    if isinstance(key, list):
        return [_sprint(k) for k in key]
    if isinstance(key, (str, int, float, bool)):
        return [_sprint(key)]
    return None  # "Unsupported type": the operator is false


def _value_set(value: Any) -> list[str] | None:
    if isinstance(value, list):
        return [_sprint(v) for v in value]
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        return [_sprint(v) for v in parsed] if isinstance(parsed, list) else [value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [_sprint(value)]
    return None


def _found(k: str, values: Sequence[str]) -> bool:
    return any(wildcard_match(k, v) or wildcard_match(v, k) for v in values)


# --- variables -----------------------------------------------------------------------------------------


def substitute(value: Any, request: Mapping[str, Any], *, precondition: bool = False) -> Any:
    """`value` with every string that is exactly one `{{ expr }}` replaced by the JMESPath result over
    {"request": request}; a result of null raises SubstitutionError, or, in a precondition
    (`precondition=True`), is the empty string."""
    if isinstance(value, list):
        return [substitute(v, request, precondition=precondition) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, request, precondition=precondition) for k, v in value.items()}
    if not isinstance(value, str) or "{{" not in value:
        if isinstance(value, str) and "$(" in value:
            raise NotImplementedError(f"$(...) references are not modelled: {value!r}")
        return value
    match = _VARIABLE.match(value.strip())
    if match is None or "{{" in match[1]:
        raise NotImplementedError(f"string interpolation of variables is not modelled: {value!r}")
    expression = match[1].strip()
    try:
        result = jmespath.search(expression, {"request": dict(request)})
    except jmespath.exceptions.JMESPathTypeError as error:  # e.g. length(null): Kyverno fails the rule
        if precondition:
            return ""
        raise SubstitutionError(f"variable {{{{ {expression} }}}}: {error}") from None
    if result is None:
        if precondition:
            return ""
        raise SubstitutionError(f"variable {{{{ {expression} }}}} resolved to null")
    return result


# --- operators and conditions ---------------------------------------------------------------------------


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NotImplementedError(f"numeric operators are modelled on numbers only, got {value!r}")
    return float(value)


def operate(operator: str, key: Any, value: Any) -> bool:
    """One condition on already-substituted key and value, as Kyverno's operator handlers decide it."""
    if operator in ("Equals", "NotEquals"):
        for text in (key, value):
            if isinstance(text, str) and _DURATION_OR_QUANTITY.match(text):
                raise NotImplementedError(f"Equals on a duration or quantity is not modelled: {text!r}")
        if isinstance(key, str) and isinstance(value, str):
            equal = wildcard_match(value, key)  # equal.go: a string value is a wildcard pattern
        elif isinstance(key, (dict, list)):
            # reflect.DeepEqual over JSON values: numbers are all float64, so 1 and 1.0 are equal
            equal = type(key) is type(value) and key == value
        else:
            equal = key == value
        return equal if operator == "Equals" else not equal
    if operator in _IN_OPERATORS:
        keys, values = _key_set(key), _value_set(value)
        if keys is None or values is None:
            return False
        found = [_found(k, values) for k in keys]
        if operator == "AnyIn":
            return any(found)
        if operator == "AllIn":
            return all(found)
        if operator == "AnyNotIn":
            return not all(found)
        return not any(found)  # AllNotIn
    if operator in _NUMERIC_OPERATORS:
        a, b = _number(key), _number(value)
        return {
            "GreaterThan": a > b,
            "GreaterThanOrEquals": a >= b,
            "LessThan": a < b,
            "LessThanOrEquals": a <= b,
        }[operator]
    if operator in _UNMODELLED_OPERATORS:
        raise NotImplementedError(f"operator {operator} is not modelled")
    raise ValueError(f"unknown operator {operator!r}")


def _condition(condition: Mapping[str, Any]) -> tuple[str, Any, Any]:
    unknown = set(condition) - {"key", "operator", "value", "message"}
    if unknown:
        raise ValueError(f"unknown condition fields {sorted(unknown)}")
    return condition["operator"], condition.get("key"), condition.get("value")


def _hold(conditions: Any, request: Mapping[str, Any], *, precondition: bool) -> bool:
    """Whether any/all conditions hold (evaluate.go evaluateAnyAllConditions). Every variable is
    substituted first: in deny an unresolved one raises SubstitutionError, in preconditions it is ""."""
    what = "preconditions" if precondition else "deny.conditions"
    if isinstance(conditions, list):
        conditions = {"all": conditions}
    if not isinstance(conditions, dict) or set(conditions) - {"any", "all"}:
        raise ValueError(f"{what} must be a list or {{any, all}}: {conditions!r}")
    resolved = {
        block: [
            (
                op,
                substitute(key, request, precondition=precondition),
                substitute(value, request, precondition=precondition),
            )
            for op, key, value in (_condition(c) for c in conditions[block] or [])
        ]
        for block in ("any", "all")
        if block in conditions
    }
    any_ok = "any" not in resolved or any(operate(*c) for c in resolved["any"])
    all_ok = all(operate(*c) for c in resolved.get("all", []))
    return any_ok and all_ok


def denied(conditions: Any, request: Mapping[str, Any]) -> bool:
    """Whether `deny.conditions` hold. Every variable is substituted first (SubstitutionError)."""
    return _hold(conditions, request, precondition=False)


def preconditions_hold(conditions: Any, request: Mapping[str, Any]) -> bool:
    """Whether a rule's `preconditions` hold (the rule runs) or not (it is skipped). A variable that
    does not resolve is the empty string, never an error."""
    return _hold(conditions, request, precondition=True)


# --- match / exclude ------------------------------------------------------------------------------------


def _kind_matches(pattern: str, kind: Mapping[str, str]) -> bool:
    parts = pattern.split("/")
    if len(parts) == 1:
        group, version, name = "*", "*", parts[0]
    elif len(parts) == 2:
        group, version, name = "*", parts[0], parts[1]
    elif len(parts) == 3:
        group, version, name = parts
    else:
        raise NotImplementedError(f"kind {pattern!r}: subresources are not modelled")
    return (
        wildcard_match(group, kind.get("group", ""))
        and wildcard_match(version, kind.get("version", ""))
        and wildcard_match(name, kind["kind"])
    )


def _resource_matches(description: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    unknown = set(description) - {"kinds", "operations"}
    if unknown:
        raise NotImplementedError(f"resource description fields {sorted(unknown)} are not modelled")
    kinds = description.get("kinds") or []
    if not any(_kind_matches(k, request["kind"]) for k in kinds):
        return False
    operations = description.get("operations")
    return operations is None or request["operation"] in operations


def _filter_matches(resource_filter: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    unknown = set(resource_filter) - {"resources"}
    if unknown:
        raise NotImplementedError(f"match/exclude by {sorted(unknown)} is not modelled")
    return _resource_matches(resource_filter.get("resources") or {}, request)


def matches(match: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    unknown = set(match) - {"any", "all"}
    if unknown:
        raise NotImplementedError(f"match/exclude fields {sorted(unknown)} are not modelled")
    if "any" in match and "all" in match:
        raise ValueError("match has both any and all")
    if "any" in match:
        return any(_filter_matches(f, request) for f in match["any"])
    if "all" in match:
        return all(_filter_matches(f, request) for f in match["all"])
    return False


# --- autogen, the policy --------------------------------------------------------------------------------


def _descriptions(match: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not match:
        return []
    return [f.get("resources") or {} for block in ("any", "all") for f in match.get(block, [])]


def _rename(rule: Mapping[str, Any], prefix: str, kinds: list[str], replacements: Any) -> dict[str, Any]:
    text = json.dumps(rule)
    for old, new in replacements:
        text = text.replace(old, new)
    generated: dict[str, Any] = json.loads(text)
    generated["name"] = f"{prefix}-{rule['name']}"[:63]
    for block in ("any", "all"):
        for resource_filter in generated["match"].get(block, []):
            if "Pod" in resource_filter["resources"].get("kinds", []):
                resource_filter["resources"]["kinds"] = list(kinds)
    return generated


def autogen(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rules Kyverno runs: the policy's own, then the ones auto-generated for pod controllers."""
    out = [dict(r) for r in rules]
    needed = False
    for rule in rules:
        for description in _descriptions(rule.get("match")) + _descriptions(rule.get("exclude")):
            kinds = description.get("kinds", [])
            if any(k in description for k in ("name", "names", "selector", "annotations")):
                return out
            if len(kinds) > 1 and "Pod" in kinds:
                return out
            needed = needed or any(k in ("Pod", *POD_CONTROLLERS, CRONJOB) for k in kinds)
    if not needed:
        return out
    for rule in rules:
        if not any("Pod" in d.get("kinds", []) for d in _descriptions(rule.get("match"))):
            continue
        out.append(_rename(rule, "autogen", list(POD_CONTROLLERS), _POD_REPLACEMENTS))
        out.append(_rename(rule, "autogen-cronjob", [CRONJOB], _CRONJOB_REPLACEMENTS))
    return out


def check_policy(policy: Mapping[str, Any]) -> None:
    """What Kyverno's policy validation would refuse, of what the sim relies on."""
    if policy.get("apiVersion") != "kyverno.io/v1" or policy.get("kind") != "ClusterPolicy":
        raise PolicyRejected("not a kyverno.io/v1 ClusterPolicy")
    spec = policy["spec"]
    text = json.dumps(spec["rules"])
    if spec.get("background", True) is not False and any(v in text for v in _ADMISSION_ONLY):
        raise PolicyRejected("a rule reads request.userInfo but background is not false")
    for rule in spec["rules"]:
        validate = rule.get("validate")
        if set(rule) - {"name", "match", "exclude", "preconditions", "validate"} or validate is None:
            raise NotImplementedError(
                f"rule {rule.get('name')}: only match/exclude + preconditions + validate is modelled"
            )
        unknown = set(validate) - {"message", "failureAction", "allowExistingViolations", "deny"}
        if unknown or "deny" not in validate:
            raise NotImplementedError(f"rule {rule['name']}: only validate.deny is modelled ({unknown})")
        action = validate.get("failureAction", spec.get("validationFailureAction", "Audit"))
        if action not in ("Enforce", "Audit"):
            raise PolicyRejected(f"rule {rule['name']}: failureAction {action!r}")


def evaluate_rule(spec: Mapping[str, Any], rule: Mapping[str, Any], request: Mapping[str, Any]) -> RuleResult:
    validate = rule["validate"]
    action = validate.get("failureAction", spec.get("validationFailureAction", "Audit"))
    name = rule["name"]
    if not matches(rule["match"], request):
        return RuleResult(name, SKIP, action)
    if rule.get("exclude") and matches(rule["exclude"], request):
        return RuleResult(name, SKIP, action)
    if "preconditions" in rule and not preconditions_hold(rule["preconditions"], request):
        return RuleResult(name, SKIP, action, "preconditions not met")
    conditions = validate["deny"]["conditions"]
    try:
        if not denied(conditions, request):
            return RuleResult(name, PASS, action)
    except SubstitutionError as error:
        return RuleResult(name, ERROR, action, str(error))
    old = request.get("oldObject")
    if request["operation"] == "UPDATE" and old and validate.get("allowExistingViolations", True):
        try:
            already = denied(conditions, {**request, "object": old})
        except SubstitutionError:
            already = False
        if already:
            return RuleResult(name, SKIP, action, "the old object already violates the rule")
    return RuleResult(name, FAIL, action, validate.get("message", ""))


def evaluate(policy: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, RuleResult]:
    """Every rule Kyverno would run for the request (auto-generated ones included), by rule name."""
    check_policy(policy)
    spec = policy["spec"]
    return {r["name"]: evaluate_rule(spec, r, request) for r in autogen(spec["rules"])}


def outcomes(policy: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, str]:
    """Rule name → pass | skip | fail | error, for the rules that did not skip."""
    return {n: r.status for n, r in evaluate(policy, request).items() if r.status != SKIP}


def admits(policy: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """False when a rule fails under Enforce, or errors (failurePolicy Fail, the default)."""
    return not any(
        r.status == ERROR or (r.status == FAIL and r.failure_action == "Enforce")
        for r in evaluate(policy, request).values()
    )


def admission_request(
    obj: Mapping[str, Any],
    *,
    username: str,
    groups: Sequence[str] = ("system:authenticated",),
    operation: str = "CREATE",
    old: Mapping[str, Any] | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """The AdmissionRequest the API server sends for writing `obj` (a manifest dict)."""
    group, _, version = obj["apiVersion"].rpartition("/")
    metadata = obj.get("metadata", {})
    return {
        "operation": operation,
        "kind": {"group": group, "version": version, "kind": obj["kind"]},
        "namespace": namespace if namespace is not None else metadata.get("namespace", ""),
        "name": metadata.get("name", ""),
        "userInfo": {"username": username, "groups": list(groups)},
        "object": dict(obj),
        "oldObject": dict(old) if old is not None else None,
    }
