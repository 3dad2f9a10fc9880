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
LIST_LITERALS = {"ka.verb": {"create", "update", "patch", "delete"}}
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
        "iamscope_completed_change and ka.target.resource=secretproviderclasses and not iamscope_by_platform"
    )
    assert spc["output"] == (
        "SecretProviderClass %ka.verb by unexpected principal (user=%ka.user.name groups=%ka.user.groups "
        "spc=%ka.target.namespace/%ka.target.name resp=%ka.response.code cluster=prod-eu)"
    )
    policy = rules["Secrets Store admission policy changed outside the platform"]
    assert f"ka.target.name={POLICY_NAME}" in policy["condition"]
    macros = of(demo_rules(), "macro")
    assert macros["iamscope_by_platform"]["condition"] == (
        "(ka.user.name in (iamscope_platform_principals) or ka.user.groups intersects (iamscope_platform_groups))"
    )
    # k8s_audit_rules.yaml's response_successful: (ka.response.code startswith 2)
    assert macros["iamscope_completed_change"]["condition"] == (
        "(ka.stage=ResponseComplete and ka.verb in (create, update, patch, delete) and ka.response.code startswith 2)"
    )


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
