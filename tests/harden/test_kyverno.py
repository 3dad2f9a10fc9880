"""The Kyverno ClusterPolicy `iamscope harden` writes: valid against the ClusterPolicy CRD schema, carrying
the Kyverno facts of DESIGN.md §4, and deciding sample AdmissionRequests as Kyverno would (judged by
tests/harden/kyverno_sim.py, whose own semantics are pinned first against Kyverno's source)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from iamscope.harden.files import KYVERNO
from iamscope.harden.kyverno import SPEC_WRITTEN
from iamscope.harden.plan import RULE_INLINE, RULE_SPC_WRITERS, RULE_SYNC_NAMESPACES
from tests.conftest import REPO
from tests.harden import kyverno_sim as sim
from tests.harden.common import (
    ARGOCD,
    CONFIG,
    DEMO,
    FLUX,
    PLATFORM_GROUP,
    demo,
    demo_config,
    harden,
    scan_state,
)
from tests.k8s.helpers import run_cli

SCHEMA = json.loads((REPO / "tests/data/kyverno/clusterpolicy-v1.schema.json").read_text())
AUTOGEN = f"autogen-{RULE_INLINE}"
AUTOGEN_CRONJOB = f"autogen-cronjob-{RULE_INLINE}"
DRIVER = "secrets-store.csi.k8s.io"
AUTHENTICATED = "system:authenticated"
DEVELOPER = {"username": "alice@example.com", "groups": ["devs", AUTHENTICATED]}


def policy(failure_action: str = "Enforce") -> dict[str, Any]:
    return demo(failure_action)[1][KYVERNO]


def empty_lists_policy(tmp_path: Path) -> dict[str, Any]:
    config = demo_config(
        tmp_path,
        platform={"principals": [], "groups": []},
        sync={"approved_namespaces": []},
    )
    return harden(scan_state(DEMO, config))[1][KYVERNO]


# --- the demo's own manifests, as the requests that would write them -----------------------------------


def legacy_spc() -> dict[str, Any]:
    """legacy/erp-connector-secrets of the demo: an SPC with secretObjects (v1alpha1, as in the demo)."""
    (spc,) = [
        d
        for d in yaml.safe_load_all((DEMO / "k8s" / "legacy.yaml").read_text())
        if d["kind"] == "SecretProviderClass"
    ]
    assert spc["spec"]["secretObjects"]
    return spc


def spc(namespace: str, *, sync: bool) -> dict[str, Any]:
    obj = copy.deepcopy(legacy_spc())
    obj["metadata"]["namespace"] = namespace
    if not sync:
        del obj["spec"]["secretObjects"]  # absent, not empty: the JMESPath default must cope
    return obj


def retargeted(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` naming another secret: what an UPDATE that changes the spec started from."""
    before = copy.deepcopy(obj)
    before["spec"]["parameters"]["objects"] = (
        "- objectName: prod/legacy/other\n  objectType: secretsmanager\n"
    )
    return before


def spc_request(
    namespace: str = "payments",
    *,
    sync: bool = False,
    operation: str = "CREATE",
    obj: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    **user: Any,
) -> dict:
    """Writing an SPC; an UPDATE changes its spec (from `retargeted`) unless `old` is given."""
    obj = obj if obj is not None else spc(namespace, sync=sync)
    if operation == "UPDATE" and old is None:
        old = retargeted(obj)
    user = user or {
        "username": ARGOCD,
        "groups": ["system:serviceaccounts", "system:serviceaccounts:argocd", AUTHENTICATED],
    }
    return sim.admission_request(obj, operation=operation, old=old, **user)


GC = {
    "username": "system:serviceaccount:kube-system:generic-garbage-collector",
    "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", AUTHENTICATED],
}
JOB_CONTROLLER = {
    "username": "system:serviceaccount:kube-system:job-controller",
    "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", AUTHENTICATED],
}
DELETED_AT = "2025-01-01T00:00:00Z"


def with_metadata(obj: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    changed = copy.deepcopy(obj)
    changed["metadata"].update(metadata)
    return changed


def gc_removes_finalizer(namespace: str = "payments", *, sync: bool = False) -> dict[str, Any]:
    """The garbage collector's UPDATE of an SPC deleted with foreground cascading (propagationPolicy
    Foreground, as Argo CD's resources-finalizer deletes): deletionTimestamp set, the
    foregroundDeletion finalizer removed once the dependents are gone; spec untouched."""
    terminating = with_metadata(spc(namespace, sync=sync), deletionTimestamp=DELETED_AT)
    old = with_metadata(terminating, finalizers=["foregroundDeletion"])
    return sim.admission_request(terminating, operation="UPDATE", old=old, **GC)


def labels_only(**user: Any) -> dict[str, Any]:
    obj = spc("payments", sync=False)
    labelled = with_metadata(obj, labels={"team": "payments"})
    return sim.admission_request(labelled, operation="UPDATE", old=obj, **user)


def job_controller_removes_tracking_finalizer() -> dict[str, Any]:
    """kyverno/kyverno#8815: the Job controller removes batch.kubernetes.io/job-tracking from a pod
    that already violates the rule (created before the policy, or under Audit)."""
    violating = with_metadata(
        pod(csi({**SPC_ONLY, "objects": OBJECTS})),
        ownerReferences=[{"apiVersion": "batch/v1", "kind": "Job", "name": "api", "uid": "1"}],
    )
    tracked = with_metadata(violating, finalizers=["batch.kubernetes.io/job-tracking"])
    return sim.admission_request(violating, operation="UPDATE", old=tracked, **JOB_CONTROLLER)


def terminating_spec_change() -> dict[str, Any]:
    """A developer holds an SPC in Terminating with a finalizer of their own (a metadata write the
    policy admits), deletes it, then changes its spec: the driver still reads a Terminating SPC."""
    held = with_metadata(
        spc("payments", sync=False), finalizers=["example.com/hold"], deletionTimestamp=DELETED_AT
    )
    return sim.admission_request(held, operation="UPDATE", old=retargeted(held), **DEVELOPER)


def csi(attributes: dict[str, str], driver: str = DRIVER) -> dict[str, Any]:
    return {"name": "secrets", "csi": {"driver": driver, "readOnly": True, "volumeAttributes": attributes}}


def pod_spec(*volumes: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": "api",
        "containers": [{"name": "app", "image": "registry.example/app:1"}],
    }
    if volumes:
        spec["volumes"] = list(volumes)
    return spec


def pod(*volumes: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "api", "namespace": "payments"},
        "spec": pod_spec(*volumes),
    }


def controller(kind: str, *volumes: dict[str, Any]) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "api"}}, "spec": pod_spec(*volumes)}
    metadata = {"name": "api", "namespace": "payments"}
    if kind == "CronJob":
        spec: dict[str, Any] = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": metadata, "spec": spec}
    api = "batch/v1" if kind == "Job" else "apps/v1"
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": metadata,
        "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": template},
    }


def by_developer(obj: dict[str, Any]) -> dict[str, Any]:
    return sim.admission_request(obj, **DEVELOPER)


SPC_ONLY = {"secretProviderClass": "payments-api"}
OBJECTS = "- objectName: prod/payments/db\n  objectType: secretsmanager\n"


# --- the simulator, pinned against Kyverno's own semantics first ----------------------------------------


@pytest.mark.parametrize(
    ("operator", "key", "value", "expected"),
    [
        # pkg/engine/variables/operator/anynotin_test.go and allnotin_test.go (kyverno/kyverno)
        ("AnyNotIn", "kyverno", "kyverno", False),
        ("AnyNotIn", ["kube-system", "default"], "kube-system", True),
        ("AllNotIn", "kube-system", ["default", "kube-*"], False),
        ("AllNotIn", "kyverno", "default", True),
        ("AllNotIn", 64, "64", False),
        ("AllNotIn", ["kube-system", "default"], "kube-system", False),
        ("AllNotIn", ["default", "kyverno"], ["kube-*", "kube-system"], True),
        ("AllNotIn", ["default", "kyverno"], ["kube-*", "ky*"], False),
        # anyin.go isAnyIn / allin.go isAllIn: set semantics with wildcards both ways
        ("AnyIn", ["secretProviderClass", "objects"], ["objects", "region"], True),
        ("AnyIn", ["secretProviderClass"], ["objects", "region"], False),
        ("AnyIn", [], ["objects"], False),
        ("AllIn", ["a", "b"], ["a", "b", "c"], True),
        ("AllIn", ["a", "d"], ["a", "b", "c"], False),
        # a user in platform-admins is always in system:authenticated too: AllNotIn is the one that works
        ("AllNotIn", [PLATFORM_GROUP, AUTHENTICATED], [PLATFORM_GROUP], False),
        ("AnyNotIn", [PLATFORM_GROUP, AUTHENTICATED], [PLATFORM_GROUP], True),
        ("AllNotIn", [], [PLATFORM_GROUP], True),
        ("AnyNotIn", "payments", [], True),
        ("GreaterThan", 1, 0, True),
        ("GreaterThan", 0, 0, False),
        ("GreaterThanOrEquals", 0, 0, True),
        ("LessThan", 1, 2, True),
        ("LessThanOrEquals", 3, 2, False),
        ("Equals", "prod-eu", "prod-*", True),
        ("NotEquals", 1, 1, False),
        ("AnyIn", {"a": 1}, ["a"], False),  # a map key: "Unsupported type", false
    ],
)
def test_sim_operators_follow_kyverno(operator: str, key: Any, value: Any, expected: bool) -> None:
    assert sim.operate(operator, key, value) is expected


def test_sim_refuses_what_it_does_not_model() -> None:
    with pytest.raises(ValueError, match="unknown operator 'AnyNotInn'"):
        sim.operate("AnyNotInn", "a", ["b"])
    with pytest.raises(NotImplementedError):
        sim.operate("DurationGreaterThan", "1h", "2h")
    with pytest.raises(NotImplementedError):
        sim.operate("GreaterThan", "1Gi", "2Gi")
    request = spc_request()
    with pytest.raises(NotImplementedError, match="subjects"):
        sim.matches({"any": [{"subjects": [{"kind": "User", "name": "x"}]}]}, request)
    with pytest.raises(NotImplementedError, match="namespaces"):
        sim.matches({"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["x"]}}]}, request)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        # evaluate.go evaluateAnyAllConditions: deny = (any absent or one holds) and (every all holds)
        ({"any": [{"key": 1, "operator": "Equals", "value": 1}]}, True),
        ({"any": [{"key": 1, "operator": "Equals", "value": 2}]}, False),
        (
            {
                "all": [
                    {"key": 1, "operator": "Equals", "value": 1},
                    {"key": 1, "operator": "Equals", "value": 2},
                ]
            },
            False,
        ),
        ({"all": []}, True),
        ({"any": []}, False),  # present but empty is non-nil in Go: no condition passed
        (
            {
                "any": [
                    {"key": 1, "operator": "Equals", "value": 2},
                    {"key": 2, "operator": "Equals", "value": 2},
                ],
                "all": [{"key": 3, "operator": "Equals", "value": 3}],
            },
            True,
        ),
        (
            {
                "any": [{"key": 1, "operator": "Equals", "value": 1}],
                "all": [{"key": 3, "operator": "Equals", "value": 4}],
            },
            False,
        ),
        ([{"key": 1, "operator": "Equals", "value": 1}], True),  # the old list form is an `all`
    ],
)
def test_sim_any_all_semantics(conditions: Any, expected: bool) -> None:
    assert sim.denied(conditions, spc_request()) is expected


def test_sim_a_null_variable_is_an_error_that_blocks_and_a_default_is_not() -> None:
    request = spc_request(sync=False)
    with pytest.raises(sim.SubstitutionError):
        sim.substitute("{{ request.object.spec.secretObjects }}", request)
    assert sim.substitute("{{ request.object.spec.secretObjects || `[]` }}", request) == []
    assert sim.substitute("{{ length(request.object.spec.secretObjects || `[]`) }}", request) == 0
    broken = copy.deepcopy(policy())
    (rule,) = [r for r in broken["spec"]["rules"] if r["name"] == RULE_SYNC_NAMESPACES]
    rule["validate"]["deny"]["conditions"]["all"][0]["key"] = (
        "{{ length(request.object.spec.secretObjects) }}"
    )
    assert sim.outcomes(broken, request)[RULE_SYNC_NAMESPACES] == sim.ERROR
    assert not sim.admits(broken, request)


def test_sim_preconditions_resolve_an_absent_variable_to_empty_not_an_error() -> None:
    """pkg/engine/variables vars.go newPreconditionsVariableResolver: "It returns an empty string if an
    error occurs during the substitution" in preconditions; in deny the same variable is an error."""
    request = spc_request(sync=False)
    absent = [{"key": "{{ request.object.spec.secretObjects }}", "operator": "Equals", "value": ""}]
    assert sim.preconditions_hold(absent, request) is True
    with pytest.raises(sim.SubstitutionError):
        sim.denied(absent, request)
    # CREATE has no oldObject: `request.oldObject.spec` is "" (no error) even undefaulted
    assert sim.preconditions_hold(
        {"all": [{"key": "{{ request.oldObject.spec }}", "operator": "Equals", "value": ""}]}, request
    )


def test_sim_skips_a_rule_whose_preconditions_fail() -> None:
    rule = {
        "name": "r",
        "match": {"any": [{"resources": {"kinds": ["SecretProviderClass"]}}]},
        "preconditions": {
            "any": [{"key": "{{ request.operation }}", "operator": "Equals", "value": "DELETE"}]
        },
        "validate": {"failureAction": "Enforce", "deny": {"conditions": {"all": []}}},
    }
    result = sim.evaluate_rule({}, rule, spc_request())
    assert (result.status, result.message) == (sim.SKIP, "preconditions not met")
    rule["preconditions"]["any"][0]["value"] = "CREATE"
    assert sim.evaluate_rule({}, rule, spc_request()).status == sim.FAIL


@pytest.mark.parametrize(
    ("operator", "key", "value", "expected"),
    [
        # equal.go: maps and lists by reflect.DeepEqual, never equal to another type
        ("Equals", {"a": [1, {"b": "c"}]}, {"a": [1, {"b": "c"}]}, True),
        ("NotEquals", {"a": 1}, {"a": 2}, True),
        ("NotEquals", {"a": 1}, "", True),
        ("NotEquals", {}, {}, False),
        ("Equals", ["a"], ["a"], True),
        ("Equals", "", "", True),
        ("Equals", "2025-01-01T00:00:00Z", "", False),
    ],
)
def test_sim_equals_on_maps_and_strings(operator: str, key: Any, value: Any, expected: bool) -> None:
    assert sim.operate(operator, key, value) is expected


def test_sim_does_not_judge_equals_on_durations_or_quantities() -> None:
    """equal.go parses both sides as durations, then quantities, before the wildcard compare."""
    for key, value in (("1h", "60m"), ("1Gi", "1024Mi"), ("64", "64")):
        with pytest.raises(NotImplementedError):
            sim.operate("Equals", key, value)


# --- structure: the CRD schema and the Kyverno facts ----------------------------------------------------


def condition_schema() -> dict[str, Any]:
    """The typed Condition of the CRD, found at validate.foreach[].preconditions.any[] (deny.conditions
    is untyped there: see tests/data/kyverno/SOURCES.md)."""
    validate = SCHEMA["properties"]["spec"]["properties"]["rules"]["items"]["properties"]["validate"]
    preconditions = validate["properties"]["foreach"]["items"]["properties"]["preconditions"]["properties"]
    assert preconditions["any"]["items"] == preconditions["all"]["items"]
    item: dict[str, Any] = preconditions["any"]["items"]
    assert set(item["properties"]) == {"key", "message", "operator", "value"}
    assert "AllNotIn" in item["properties"]["operator"]["enum"]
    return item


def deny_conditions(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for rule in document["spec"]["rules"]
        for block in ("any", "all")
        for c in rule["validate"]["deny"]["conditions"].get(block, [])
    ]


def precondition_conditions(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        c
        for rule in document["spec"]["rules"]
        for block in ("any", "all")
        for c in rule.get("preconditions", {}).get(block, [])
    ]


@pytest.mark.parametrize("which", ["demo", "empty lists"])
def test_the_policy_is_a_valid_cluster_policy(tmp_path: Path, which: str) -> None:
    document = policy() if which == "demo" else empty_lists_policy(tmp_path)
    errors = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(document)]
    assert errors == []
    condition = jsonschema.Draft7Validator(condition_schema())
    conditions = deny_conditions(document)
    assert len(conditions) == 5
    # rule preconditions are untyped in the CRD too: their conditions are checked the same way
    preconditions = precondition_conditions(document)
    assert len(preconditions) == 4
    for item in [*conditions, *preconditions]:
        assert [e.message for e in condition.iter_errors(item)] == []


def test_the_condition_schema_would_catch_a_bad_operator() -> None:
    """The check above can fail: a misspelt operator or an unknown field is refused."""
    condition = jsonschema.Draft7Validator(condition_schema())
    assert not condition.is_valid({"key": "a", "operator": "AnyNotInn", "value": ["b"]})
    assert not condition.is_valid({"key": "a", "operator": "AnyIn", "values": ["b"]})


def test_the_policy_carries_the_kyverno_facts() -> None:
    document = policy()
    # DESIGN.md §4: a rule reading request.userInfo needs background: false or Kyverno rejects the policy
    assert document["spec"]["background"] is False
    # DESIGN.md §4: from 1.13, UPDATEs of already-violating objects are skipped unless this is false
    rules = document["spec"]["rules"]
    assert [r["name"] for r in rules] == [RULE_SPC_WRITERS, RULE_SYNC_NAMESPACES, RULE_INLINE]
    # it matters on the SPC rules (an UPDATE that changes spec); the pod rule matches CREATE only
    assert [r["validate"].get("allowExistingViolations") for r in rules] == [False, False, None]
    assert [r["match"]["any"][0]["resources"]["operations"] for r in rules] == [
        ["CREATE", "UPDATE"],
        ["CREATE", "UPDATE"],
        ["CREATE"],
    ]
    # the SPC rules run on CREATE or on an UPDATE that changes spec; the pod rule has no preconditions
    assert [r.get("preconditions") for r in rules] == [SPEC_WRITTEN, SPEC_WRITTEN, None]
    assert [r["validate"]["failureAction"] for r in rules] == ["Enforce"] * 3
    # autogen names rules autogen-cronjob-<name> and cuts them at 63 characters (pkg/autogen/v1/rule.go)
    assert max(len(f"autogen-cronjob-{r['name']}") for r in rules) <= 63
    # DESIGN.md §4: a JMESPath over an absent field errors and blocks unless defaulted with || `[]`;
    # username and namespace are always in an AdmissionRequest, groups, secretObjects and volumes are not
    keys = [c["key"] for c in deny_conditions(document)]
    always = ["{{ request.userInfo.username }}", "{{ request.namespace }}"]
    optional = ("request.userInfo.groups", "request.object.spec.secretObjects", "request.object.spec.volumes")
    assert sorted(k for k in keys if not any(f in k for f in optional)) == sorted(always)
    for field in optional:
        (key,) = [k for k in keys if field in k]
        assert "|| `[]`" in key, key
    # the same in the preconditions: spec and oldObject.spec defaulted (CREATE has no oldObject)
    sides = [side for c in precondition_conditions(document) for side in (c["key"], c["value"])]
    assert sorted({s for s in sides if isinstance(s, str) and "{{" in s}) == [
        "{{ request.object.spec || `{}` }}",
        "{{ request.oldObject.spec || `{}` }}",
        "{{ request.operation }}",
    ]


def test_the_policy_without_its_kyverno_facts_would_let_things_through() -> None:
    """What the facts asserted above are for, shown on the simulator."""
    update = spc_request(operation="UPDATE", **DEVELOPER)
    assert not sim.admits(policy(), update)
    lenient = copy.deepcopy(policy())
    for rule in lenient["spec"]["rules"]:
        rule["validate"]["allowExistingViolations"] = True
    # a developer re-applying an SPC they may not write: the old object already "violates", so skipped
    assert sim.admits(lenient, update)
    background = copy.deepcopy(policy())
    background["spec"]["background"] = True
    with pytest.raises(sim.PolicyRejected, match="background"):
        sim.admits(background, update)


def test_without_the_preconditions_the_policy_would_block_cleanup() -> None:
    """kyverno/kyverno#6878 (Kyverno 1.10+ validates UPDATEs with deletionTimestamp set) and #8815:
    without the SPC preconditions the garbage collector could not finish a foreground deletion, and a
    pod rule matching UPDATE would stop the Job controller removing its tracking finalizer."""
    assert sim.admits(policy(), gc_removes_finalizer())
    assert sim.admits(policy(), gc_removes_finalizer("payments", sync=True))
    assert sim.admits(policy(), job_controller_removes_tracking_finalizer())
    unconditional = copy.deepcopy(policy())
    for rule in unconditional["spec"]["rules"]:
        rule.pop("preconditions", None)
        rule["match"]["any"][0]["resources"]["operations"] = ["CREATE", "UPDATE"]
        rule["validate"]["allowExistingViolations"] = False
    assert sim.outcomes(unconditional, gc_removes_finalizer()) == {
        RULE_SPC_WRITERS: "fail",
        RULE_SYNC_NAMESPACES: "pass",
    }
    assert not sim.admits(unconditional, gc_removes_finalizer())
    assert (
        sim.outcomes(unconditional, gc_removes_finalizer("payments", sync=True))[RULE_SYNC_NAMESPACES]
        == "fail"
    )
    assert sim.outcomes(unconditional, job_controller_removes_tracking_finalizer()) == {RULE_INLINE: "fail"}
    assert not sim.admits(unconditional, job_controller_removes_tracking_finalizer())


# --- logic: sample admission requests on the demo's policy ----------------------------------------------

Request = Callable[[], dict[str, Any]]

CASES: list[Any] = [
    pytest.param(
        lambda: spc_request(),
        True,
        {RULE_SPC_WRITERS: "pass", RULE_SYNC_NAMESPACES: "pass"},
        id="Argo CD's application controller creates an SPC",
    ),
    pytest.param(
        lambda: spc_request(username=FLUX, groups=["system:serviceaccounts", AUTHENTICATED]),
        True,
        {RULE_SPC_WRITERS: "pass", RULE_SYNC_NAMESPACES: "pass"},
        id="Flux's kustomize controller creates an SPC",
    ),
    pytest.param(
        lambda: spc_request(username="bob@example.com", groups=[PLATFORM_GROUP, AUTHENTICATED]),
        True,
        {RULE_SPC_WRITERS: "pass", RULE_SYNC_NAMESPACES: "pass"},
        id="a member of platform-admins (and system:authenticated) creates an SPC",
    ),
    pytest.param(
        lambda: spc_request(**DEVELOPER),
        False,
        {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "pass"},
        id="a developer creates an SPC",
    ),
    pytest.param(
        lambda: spc_request(operation="UPDATE", **DEVELOPER),
        False,
        {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "pass"},
        id="a developer updates an SPC",
    ),
    pytest.param(
        lambda: spc_request("payments", sync=True, operation="UPDATE"),
        False,
        {RULE_SPC_WRITERS: "pass", RULE_SYNC_NAMESPACES: "fail"},
        id="Argo CD changes the spec of an SPC that already syncs in payments (allowExistingViolations)",
    ),
    pytest.param(
        lambda: gc_removes_finalizer(),
        True,
        {},
        id="the garbage collector removes foregroundDeletion from a Terminating SPC",
    ),
    pytest.param(
        lambda: gc_removes_finalizer("payments", sync=True),
        True,
        {},
        id="the garbage collector removes foregroundDeletion from an SPC syncing in payments",
    ),
    pytest.param(
        # intended: labels (and annotations, finalizers) do not steer a mount; the driver reads spec
        lambda: labels_only(**DEVELOPER),
        True,
        {},
        id="a developer changes only the labels of an SPC",
    ),
    pytest.param(
        lambda: spc_request(operation="UPDATE", old=spc("payments", sync=False), **DEVELOPER),
        True,
        {},
        id="a developer re-applies an SPC unchanged",
    ),
    pytest.param(
        lambda: terminating_spec_change(),
        False,
        {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "pass"},
        id="a developer changes the spec of a Terminating SPC",
    ),
    pytest.param(
        lambda: job_controller_removes_tracking_finalizer(),
        True,
        {},
        id="the Job controller removes job-tracking from a pod that sets objects inline",
    ),
    pytest.param(
        lambda: spc_request(username="system:serviceaccount:argocd:argocd-server", groups=[AUTHENTICATED]),
        False,
        {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "pass"},
        id="another service account of the argocd namespace",
    ),
    pytest.param(
        lambda: spc_request(username="carol@example.com", groups=[]),
        False,
        {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "pass"},
        id="a user with no groups at all is refused, not an error",
    ),
    pytest.param(
        lambda: spc_request("payments", sync=False),
        True,
        {RULE_SPC_WRITERS: "pass", RULE_SYNC_NAMESPACES: "pass"},
        id="no secretObjects field at all in payments (the default at work)",
    ),
    pytest.param(
        lambda: spc_request("payments", sync=True),
        False,
        {RULE_SPC_WRITERS: "pass", RULE_SYNC_NAMESPACES: "fail"},
        id="secretObjects in payments, not approved",
    ),
    pytest.param(
        lambda: spc_request("legacy", sync=True),
        True,
        {RULE_SPC_WRITERS: "pass", RULE_SYNC_NAMESPACES: "pass"},
        id="secretObjects in legacy, approved",
    ),
    pytest.param(
        lambda: spc_request("payments", sync=True, **DEVELOPER),
        False,
        {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "fail"},
        id="a developer syncing in payments breaks both rules",
    ),
    pytest.param(
        lambda: by_developer(pod(csi(SPC_ONLY))),
        True,
        {RULE_INLINE: "pass"},
        id="a pod whose CSI volume names only its SPC",
    ),
    pytest.param(
        lambda: by_developer(pod(csi({**SPC_ONLY, "objects": OBJECTS}))),
        False,
        {RULE_INLINE: "fail"},
        id="a pod setting objects inline",
    ),
    pytest.param(
        lambda: by_developer(pod(csi({**SPC_ONLY, "region": "us-east-1"}))),
        False,
        {RULE_INLINE: "fail"},
        id="a pod setting region inline",
    ),
    pytest.param(
        lambda: by_developer(pod(csi({**SPC_ONLY, "failoverRegion": "eu-central-1"}))),
        False,
        {RULE_INLINE: "fail"},
        id="a pod setting failoverRegion inline",
    ),
    pytest.param(
        lambda: by_developer(pod(csi({**SPC_ONLY, "usePodIdentity": "true"}))),
        False,
        {RULE_INLINE: "fail"},
        id="a pod setting usePodIdentity inline",
    ),
    pytest.param(
        lambda: by_developer(pod()),
        True,
        {RULE_INLINE: "pass"},
        id="a pod with no volumes at all (no error)",
    ),
    pytest.param(
        lambda: by_developer(
            pod(
                {"name": "config", "configMap": {"name": "api"}},
                {**csi({"objects": "x"}, driver="csi.example.com"), "name": "other"},
                csi(SPC_ONLY),
            )
        ),
        True,
        {RULE_INLINE: "pass"},
        id="a configMap volume and another driver's objects do not matter",
    ),
    pytest.param(
        lambda: by_developer(pod({"name": "s", "csi": {"driver": DRIVER, "readOnly": True}})),
        True,
        {RULE_INLINE: "pass"},
        id="a secrets-store volume without volumeAttributes",
    ),
    pytest.param(
        lambda: by_developer(controller("Deployment", csi({**SPC_ONLY, "objects": OBJECTS}))),
        False,
        {AUTOGEN: "fail"},
        id="a Deployment whose template sets objects (autogen)",
    ),
    pytest.param(
        lambda: by_developer(controller("StatefulSet", csi({**SPC_ONLY, "region": "us-east-1"}))),
        False,
        {AUTOGEN: "fail"},
        id="a StatefulSet whose template sets region (autogen)",
    ),
    pytest.param(
        lambda: by_developer(controller("Deployment", csi(SPC_ONLY))),
        True,
        {AUTOGEN: "pass"},
        id="a clean Deployment",
    ),
    pytest.param(
        # the autogen rule keeps the pod rule's CREATE: the update itself passes (said in the header)
        lambda: sim.admission_request(
            controller("Deployment", csi({**SPC_ONLY, "objects": OBJECTS})),
            operation="UPDATE",
            old=controller("Deployment", csi(SPC_ONLY)),
            **DEVELOPER,
        ),
        True,
        {},
        id="a Deployment updated to set objects inline is admitted",
    ),
    pytest.param(
        # ... and the ReplicaSet the Deployment controller creates for the new template is refused
        lambda: sim.admission_request(
            {**controller("Deployment", csi({**SPC_ONLY, "objects": OBJECTS})), "kind": "ReplicaSet"},
            username="system:serviceaccount:kube-system:deployment-controller",
        ),
        False,
        {AUTOGEN: "fail"},
        id="the new ReplicaSet of that Deployment is refused",
    ),
    pytest.param(
        lambda: by_developer(controller("CronJob", csi({**SPC_ONLY, "objects": OBJECTS}))),
        False,
        {AUTOGEN_CRONJOB: "fail"},
        id="a CronJob whose job template sets objects (autogen)",
    ),
    pytest.param(
        lambda: by_developer(controller("CronJob")),
        True,
        {AUTOGEN_CRONJOB: "pass"},
        id="a CronJob without volumes",
    ),
]


@pytest.mark.parametrize(("request_", "admitted", "outcomes"), CASES)
def test_admission_on_the_demo_policy(request_: Request, admitted: bool, outcomes: dict[str, str]) -> None:
    document = policy()
    req = request_()
    assert sim.outcomes(document, req) == outcomes
    assert sim.admits(document, req) is admitted


def test_a_denial_carries_the_rule_message() -> None:
    results = sim.evaluate(policy(), spc_request(**DEVELOPER))
    assert results[RULE_SPC_WRITERS].message == (
        "SecretProviderClasses are created and changed only by the platform: "
        f"{ARGOCD}, {FLUX}, group {PLATFORM_GROUP}."
    )


def test_audit_reports_the_deny_but_admits() -> None:
    request = spc_request("payments", sync=True, **DEVELOPER)
    audit = policy("Audit")
    assert [r["validate"]["failureAction"] for r in audit["spec"]["rules"]] == ["Audit"] * 3
    assert sim.outcomes(audit, request) == {RULE_SPC_WRITERS: "fail", RULE_SYNC_NAMESPACES: "fail"}
    assert sim.admits(audit, request)
    assert not sim.admits(policy("Enforce"), request)


def test_empty_platform_lists_deny_every_spc_write_and_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path, platform={"principals": [], "groups": []})
    out = tmp_path / "out"
    code, _, err = run_cli(
        ["harden", str(DEMO), "--config", str(config), "--out", str(out), "--quiet"], capsys
    )
    assert code == 0, err
    assert (
        "iamscope: warning: platform.principals and platform.groups are both empty in the configuration: "
        "the Kyverno policy rejects every SecretProviderClass create and update until they name who may "
        "write them\n"
    ) in err
    document = yaml.safe_load((out / KYVERNO).read_text())
    for user in (
        {"username": ARGOCD, "groups": [AUTHENTICATED]},
        {"username": FLUX, "groups": [AUTHENTICATED]},
        {"username": "bob@example.com", "groups": [PLATFORM_GROUP, AUTHENTICATED]},
        {"username": "system:admin", "groups": ["system:masters", AUTHENTICATED]},
    ):
        for operation in ("CREATE", "UPDATE"):  # an UPDATE that changes spec
            request = spc_request("legacy", sync=True, operation=operation, **user)
            assert sim.outcomes(document, request)[RULE_SPC_WRITERS] == "fail", (user, operation)
            assert not sim.admits(document, request)
    # pods are not affected by who the platform is
    assert sim.admits(document, by_developer(pod(csi(SPC_ONLY))))


def test_the_demo_config_has_no_such_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(
        ["harden", str(DEMO), "--config", str(CONFIG), "--out", str(tmp_path), "--quiet"], capsys
    )
    assert code == 0
    assert "platform.principals" not in err
