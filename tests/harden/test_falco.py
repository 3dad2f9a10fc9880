"""The Falco rules `iamscope harden` writes (falco/secrets-store-rules.yaml, source k8s_audit): only
fields the k8saudit plugin defines, well-formed rules, conditions that name only fields, operators,
literals and the file's own macros and lists, and list items Falco's condition parser reads back as
one value each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from iamscope.config import Config
from iamscope.harden.files import FALCO
from iamscope.harden.kyverno import POLICY_NAME
from tests.conftest import REPO
from tests.harden.common import ARGOCD, FLUX, PLATFORM_GROUP, demo, harden
from tests.scan.builder import REGION, State, run

# plugins/k8saudit/README.md field table (tests/data/falco/SOURCES.md)
FIELDS = set((REPO / "tests/data/falco/k8saudit-fields.txt").read_text().split())
# Falco rule priorities (falco.org/docs/rules/basic-elements: "priority")
PRIORITIES = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"}
# falcosecurity/libs userspace/libsinsp/filter/parser.cpp: s_binary_str_ops, s_binary_list_ops,
# s_binary_num_ops, s_unary_ops, and the boolean operators
COMPARE = {
    "=",
    "==",
    "!=",
    "glob",
    "iglob",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "<",
    "<=",
    ">",
    ">=",
}
LIST_OPS = {"in", "intersects", "pmatch"}
UNARY = {"exists"}
BOOLEAN = {"and", "or", "not"}
# libs parser.cpp RGX_BARESTR: a bare (unquoted) string value ends at any of ( ) " ' blank = ,
BARE_STRING = re.compile(r"""^[^()"'\s=,]+$""")
# the literal values the generated conditions may compare fields with in a list
LIST_LITERALS = {"ka.verb": {"create", "update", "patch", "delete", "deletecollection"}}
TOKEN = re.compile(r""""(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\(|\)|,|!=|==|<=|>=|=|<|>|[^\s(),=!<>]+""")


def demo_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = demo()[1][FALCO]
    return rules


def of(document: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {item[kind]: item for item in document if kind in item}


def condition_names(condition: str, macros: set[str], lists: set[str]) -> tuple[set[str], set[str], set[str]]:
    """(fields, macros, lists) a condition uses, walking it as Falco's grammar reads it; raises on a
    name that is neither a field, an operator, a literal, nor a macro or list of the file."""
    tokens = TOKEN.findall(condition)
    fields: set[str] = set()
    used_macros: set[str] = set()
    used_lists: set[str] = set()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in BOOLEAN or token in "()":
            i += 1
        elif token.startswith("ka."):
            fields.add(token)
            op = tokens[i + 1]
            if op in UNARY:
                i += 2
            elif op in COMPARE:
                value = tokens[i + 2]
                assert value not in "(),", (condition, token)
                i += 3
            elif op in LIST_OPS:
                assert tokens[i + 2] == "(", condition
                j = i + 3
                while tokens[j] != ")":
                    item = tokens[j]
                    if item in lists:
                        used_lists.add(item)
                    else:
                        assert item in LIST_LITERALS.get(token, set()), f"{item!r} in {condition!r}"
                    assert tokens[j + 1] in (",", ")"), condition
                    j += 2 if tokens[j + 1] == "," else 1
                i = j + 1
            else:
                raise AssertionError(f"{op!r} after {token} is not a Falco operator: {condition!r}")
        elif token in macros:
            used_macros.add(token)
            i += 1
        else:
            raise AssertionError(f"{token!r} is neither a field, an operator nor a macro: {condition!r}")
    return fields, used_macros, used_lists


def balanced(text: str) -> bool:
    depth = 0
    for token in TOKEN.findall(text):
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth < 0:
            return False
    return depth == 0


def test_the_rules_are_well_formed() -> None:
    document = demo_rules()
    rules = of(document, "rule")
    assert list(rules) == [
        "SecretProviderClass changed outside the platform",
        "Secrets Store admission policy changed outside the platform",
    ]
    for rule in rules.values():
        assert rule["source"] == "k8s_audit"
        assert rule["desc"].strip()
        assert rule["output"].strip()
        assert rule["priority"] in PRIORITIES
        assert balanced(rule["condition"])
    for macro in of(document, "macro").values():
        assert balanced(macro["condition"])
    for lst in of(document, "list").values():
        assert lst["items"], lst
    (plugins,) = [item for item in document if "required_plugin_versions" in item]
    assert plugins["required_plugin_versions"][0]["name"] == "k8saudit"


def test_conditions_name_only_fields_operators_literals_and_their_own_macros_and_lists() -> None:
    document = demo_rules()
    macros, lists = of(document, "macro"), of(document, "list")
    fields: set[str] = set()
    used_macros: set[str] = set()
    used_lists: set[str] = set()
    for item in [*macros.values(), *of(document, "rule").values()]:
        f, m, ls = condition_names(item["condition"], set(macros), set(lists))
        fields |= f
        used_macros |= m
        used_lists |= ls
    assert sorted(fields - FIELDS) == []
    assert fields >= {"ka.user.name", "ka.user.groups", "ka.verb", "ka.target.resource"}
    # every macro and list the file defines is used (Falco warns about unused ones)
    assert used_macros == set(macros)
    assert used_lists == set(lists)


def test_the_walker_catches_an_undefined_name() -> None:
    with pytest.raises(AssertionError, match="neither a field"):
        condition_names(
            "iamscope_completed_change and not iamscope_by_platfrom", {"iamscope_completed_change"}, set()
        )
    with pytest.raises(AssertionError, match="iamscope_platform_principal"):
        condition_names(
            "ka.user.name in (iamscope_platform_principal)", set(), {"iamscope_platform_principals"}
        )


def test_outputs_use_only_k8saudit_fields() -> None:
    for rule in of(demo_rules(), "rule").values():
        used = set(re.findall(r"%([a-z][a-z0-9_.]*[a-z0-9_])", rule["output"]))
        assert used
        assert sorted(used - FIELDS) == []


def test_the_spc_rule_condition_and_output() -> None:
    rules = of(demo_rules(), "rule")
    spc = rules["SecretProviderClass changed outside the platform"]
    assert spc["condition"] == (
        "iamscope_completed_change and ka.target.resource=secretproviderclasses and not iamscope_by_platform "
        "and not iamscope_by_cluster_controller"
    )
    assert spc["output"] == (
        "SecretProviderClass %ka.verb by unexpected principal (user=%ka.user.name groups=%ka.user.groups "
        "spc=%ka.target.namespace/%ka.target.name resp=%ka.response.code cluster=prod-eu)"
    )
    policy = rules["Secrets Store admission policy changed outside the platform"]
    assert policy["condition"] == (
        "iamscope_completed_change and ka.target.resource=clusterpolicies "
        f"and (ka.target.name={POLICY_NAME} or ka.verb=deletecollection) and not iamscope_by_platform "
        "and not iamscope_by_cluster_controller"
    )
    macros = of(demo_rules(), "macro")
    assert macros["iamscope_by_platform"]["condition"] == (
        "(ka.user.name in (iamscope_platform_principals) or ka.user.groups intersects (iamscope_platform_groups))"
    )
    # k8s_audit_rules.yaml's response_successful: (ka.response.code startswith 2); its pod macro:
    # (ka.target.resource=pods and not ka.target.subresource exists)
    assert macros["iamscope_completed_change"]["condition"] == (
        "(ka.stage=ResponseComplete and ka.verb in (create, update, patch, delete, deletecollection) "
        "and not ka.target.subresource exists and ka.response.code startswith 2)"
    )
    assert macros["iamscope_by_cluster_controller"]["condition"] == (
        "(ka.user.name in (iamscope_cluster_controllers))"
    )
    assert of(demo_rules(), "list")["iamscope_cluster_controllers"]["items"] == [
        "system:serviceaccount:kube-system:generic-garbage-collector",
        "system:serviceaccount:kube-system:namespace-controller",
    ]


def test_the_lists_name_the_demo_platform() -> None:
    lists = of(demo_rules(), "list")
    assert lists["iamscope_platform_principals"]["items"] == [ARGOCD, FLUX]
    assert lists["iamscope_platform_groups"]["items"] == [PLATFORM_GROUP]


def falco_for(
    tmp_path: Path, principals: tuple[str, ...] = (), groups: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    result = run(
        State(tmp_path), Config(region=REGION, platform_principals=principals, platform_groups=groups)
    )
    document: list[dict[str, Any]] = harden(result)[1][FALCO]
    return document


def test_empty_platform_lists_still_load(tmp_path: Path) -> None:
    lists = of(falco_for(tmp_path), "list")
    for name in ("iamscope_platform_principals", "iamscope_platform_groups"):
        (item,) = lists[name]["items"]
        assert BARE_STRING.match(item)
        assert not item.startswith("system:")
        assert item not in (ARGOCD, FLUX)


def as_falco_expands(item: str) -> str:
    """falcosecurity/falco userspace/engine/rule_loader_compiler.cpp quote_item(): a list item is
    pasted into the condition as written, double-quoted only when it holds a space and is not quoted."""
    if " " in item and item[0] not in "\"'":
        return f'"{item}"'
    return item


def reads_back_as(text: str) -> str | None:
    """The one value libsinsp's parser reads from `text` in a list (lex_quoted_str: backslash
    escapes; lex_bare_str: RGX_BARESTR), or None when it is not one value."""
    if text[:1] in "\"'" and len(text) >= 2 and text[-1] == text[0]:
        body = text[1:-1]
        if re.search(r"(?<!\\)" + re.escape(text[0]), body):
            return None
        return re.sub(r"\\(.)", r"\1", body)
    return text if BARE_STRING.match(text) else None


@pytest.mark.parametrize(
    "principal",
    [
        ARGOCD,
        "alice smith",  # spaces: quoted
        "o'brien",
        "ops,team",
        "team (eu)",
        'say "hi"',
        "arn:aws:sts::111122223333:assumed-role/Admin/alice=ops",  # EKS usernames from session names
    ],
)
def test_every_principal_reaches_the_condition_as_one_value(tmp_path: Path, principal: str) -> None:
    (item,) = of(falco_for(tmp_path, (principal,)), "list")["iamscope_platform_principals"]["items"]
    if " " in principal:
        assert item.startswith('"'), item
        assert item.endswith('"'), item
    assert reads_back_as(as_falco_expands(item)) == principal


def test_the_file_on_disk_keeps_the_quotes_in_the_yaml_string(tmp_path: Path) -> None:
    from iamscope.harden import harden_files, harden_plan

    result = run(State(tmp_path), Config(region=REGION, platform_principals=("alice smith",)))
    text = harden_files(harden_plan(result.assessment))[FALCO]
    assert "    - '\"alice smith\"'\n" in text


# --- which audit events alert: the conditions evaluated on audit.k8s.io/v1 Events --------------------


def audit_fields(event: dict[str, Any]) -> dict[str, Any]:
    """The k8saudit fields the generated rules read, as the plugin extracts them from an audit Event
    (plugins/k8saudit: ka.verb = verb, ka.target.* = objectRef.*, ka.user.* = user.*, ka.response.code
    = responseStatus.code); an absent field is left out (no value: a comparison on it is false)."""
    ref = event.get("objectRef", {})
    fields = {
        "ka.stage": event.get("stage"),
        "ka.verb": event.get("verb"),
        "ka.target.resource": ref.get("resource"),
        "ka.target.subresource": ref.get("subresource"),
        "ka.target.name": ref.get("name"),
        "ka.target.namespace": ref.get("namespace"),
        "ka.user.name": event.get("user", {}).get("username"),
        "ka.user.groups": event.get("user", {}).get("groups"),
        "ka.response.code": str(event["responseStatus"]["code"]) if "responseStatus" in event else None,
    }
    return {k: v for k, v in fields.items() if v is not None}


def falco_matches(document: list[dict[str, Any]], condition: str, event: dict[str, Any]) -> bool:
    """`condition` on one audit event, by the grammar of libsinsp's filter parser (not binds tighter
    than and, and than or; macros and lists expanded) for the operators the generated rules use."""
    macros = {name: m["condition"] for name, m in of(document, "macro").items()}
    lists: dict[str, list[str]] = {
        name: [str(reads_back_as(as_falco_expands(i))) for i in lst["items"]]
        for name, lst in of(document, "list").items()
    }
    fields = audit_fields(event)
    tokens: list[str] = TOKEN.findall(condition)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def or_expr() -> bool:
        value = and_expr()
        while peek() == "or":
            take()
            value = and_expr() or value
        return value

    def and_expr() -> bool:
        value = not_expr()
        while peek() == "and":
            take()
            value = not_expr() and value
        return value

    def not_expr() -> bool:
        if peek() == "not":
            take()
            return not not_expr()
        return primary()

    def values() -> list[str]:
        assert take() == "("
        items: list[str] = []
        while (token := take()) != ")":
            if token != ",":
                items += lists.get(token, [token])
        return items

    def primary() -> bool:
        token = take()
        if token == "(":
            value = or_expr()
            assert take() == ")"
            return value
        if token in macros:
            return falco_matches(document, macros[token], event)
        assert token.startswith("ka."), token
        op = take()
        present = token in fields
        if op == "exists":
            return present
        if op in ("in", "intersects"):
            items = values()
            if not present:
                return False
            have = fields[token] if isinstance(fields[token], list) else [fields[token]]
            return any(h in items for h in have) if op == "intersects" else all(h in items for h in have)
        literal = take()
        if not present:
            return False
        if op == "=":
            return bool(fields[token] == literal)
        if op == "startswith":
            return str(fields[token]).startswith(literal)
        raise AssertionError(f"operator {op} is not evaluated here")

    result = or_expr()
    assert pos == len(tokens), condition
    return result


def alerts(document: list[dict[str, Any]], event: dict[str, Any]) -> list[str]:
    return [
        name
        for name, rule in of(document, "rule").items()
        if falco_matches(document, rule["condition"], event)
    ]


def audit_event(
    verb: str,
    resource: str,
    name: str | None,
    username: str,
    groups: tuple[str, ...] = ("system:authenticated",),
    *,
    subresource: str | None = None,
    namespace: str | None = "payments",
    code: int = 200,
) -> dict[str, Any]:
    ref: dict[str, Any] = {"resource": resource, "apiVersion": "v1"}
    if name is not None:
        ref["name"] = name
    if namespace is not None:
        ref["namespace"] = namespace
    if subresource is not None:
        ref["subresource"] = subresource
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "stage": "ResponseComplete",
        "verb": verb,
        "user": {"username": username, "groups": list(groups)},
        "objectRef": ref,
        "responseStatus": {"code": code},
    }


SPC_RULE = "SecretProviderClass changed outside the platform"
POLICY_RULE = "Secrets Store admission policy changed outside the platform"
SA_GROUPS = ("system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated")
GC = "system:serviceaccount:kube-system:generic-garbage-collector"
NAMESPACE_CONTROLLER = "system:serviceaccount:kube-system:namespace-controller"
KYVERNO_SA = "system:serviceaccount:kyverno:kyverno-admission-controller"
POLICY = ("clusterpolicies", POLICY_NAME)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            audit_event("create", "secretproviderclasses", "db", "alice@example.com"),
            [SPC_RULE],
            id="dev-create",
        ),
        pytest.param(
            audit_event("patch", "secretproviderclasses", "db", "alice@example.com"),
            [SPC_RULE],
            id="dev-patch",
        ),
        pytest.param(
            audit_event("create", "secretproviderclasses", "db", "alice@example.com", code=403),
            [],
            id="refused",
        ),
        pytest.param(audit_event("update", "secretproviderclasses", "db", ARGOCD), [], id="argocd"),
        pytest.param(
            audit_event("update", "secretproviderclasses", "db", "bob@example.com", (PLATFORM_GROUP,)),
            [],
            id="group",
        ),
        # normal cluster activity: the garbage collector removing foregroundDeletion, the namespace
        # controller emptying a deleted namespace, Kyverno writing its policy's status
        pytest.param(
            audit_event("patch", "secretproviderclasses", "db", GC, SA_GROUPS), [], id="gc-finalizer"
        ),
        pytest.param(audit_event("delete", "secretproviderclasses", "db", GC, SA_GROUPS), [], id="gc-delete"),
        pytest.param(
            audit_event("deletecollection", "secretproviderclasses", None, NAMESPACE_CONTROLLER, SA_GROUPS),
            [],
            id="namespace-controller",
        ),
        pytest.param(
            audit_event("delete", "secretproviderclasses", "db", NAMESPACE_CONTROLLER, SA_GROUPS),
            [],
            id="ns-delete",
        ),
        pytest.param(
            audit_event("update", *POLICY, KYVERNO_SA, SA_GROUPS, subresource="status", namespace=None),
            [],
            id="kyverno-status",
        ),
        pytest.param(
            audit_event("patch", "secretproviderclasses", "db", "alice@example.com", subresource="status"),
            [],
            id="spc-status",
        ),
        # what the policy rule is for
        pytest.param(
            audit_event("delete", *POLICY, "alice@example.com", namespace=None),
            [POLICY_RULE],
            id="policy-delete",
        ),
        pytest.param(
            audit_event("patch", *POLICY, KYVERNO_SA, SA_GROUPS, namespace=None),
            [POLICY_RULE],
            id="policy-patch",
        ),
        pytest.param(
            audit_event("deletecollection", "clusterpolicies", None, "alice@example.com", namespace=None),
            [POLICY_RULE],
            id="policy-deletecollection",
        ),
        pytest.param(
            audit_event("patch", "clusterpolicies", "other", "alice@example.com", namespace=None),
            [],
            id="other-policy",
        ),
        pytest.param(
            audit_event("delete", "secretproviderclasses", "db", "alice@example.com"),
            [SPC_RULE],
            id="dev-delete",
        ),
    ],
)
def test_which_audit_events_alert(event: dict[str, Any], expected: list[str]) -> None:
    assert alerts(demo_rules(), event) == expected


def test_the_evaluator_reads_the_grammar() -> None:
    """The evaluator above is not vacuous: precedence of not/and/or, lists and exists."""
    document: list[dict[str, Any]] = [
        {"list": "l", "items": ["a", "b"]},
        {"macro": "m", "condition": "ka.verb=get"},
    ]
    event = audit_event("get", "pods", "x", "a")
    assert falco_matches(document, "ka.user.name in (l) and m", event)
    assert not falco_matches(document, "not ka.user.name in (l) or not m", event)
    assert falco_matches(document, "not ka.target.subresource exists", event)
    assert not falco_matches(document, "ka.target.subresource exists", event)
    assert not falco_matches(document, "ka.target.subresource=status", event)
    assert falco_matches(document, "ka.verb=list or ka.verb=get and ka.user.name=a", event)
