"""`diff_documents` compares the two sides service account by service account, and skips one whose
grants are the same on both sides (a `*` role's service accounts hold a grant per secret). These
cases check it against the whole-document comparison it replaced, kept here as the reference, on
generated pairs of scan documents: the same changes, reasons and order, byte for byte."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iamscope import diff as D

ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:"
RESOURCES = (
    f"{ARN}prod/db-AbCdEf",
    f"{ARN}prod/api-GhIjKl",
    f"{ARN}test/db-MnOpQr",
    f"{ARN}prod/*",
    f"{ARN}prod/db-*",
    f"{ARN}*",
    "*",
    f"{ARN}pr?d/*",
)
ROLES = ("arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b")
SERVICE_ACCOUNTS = ("prod/ServiceAccount/api", "prod/ServiceAccount/db", "test/ServiceAccount/db")
WORKLOADS = ("prod/Deployment/api", "prod/Deployment/db", "test/Deployment/db", "test/Pod/debug")
ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "kms:Decrypt")


def _reference(before: Mapping[str, Any], after: Mapping[str, Any], baseline: str) -> list[D.Entry]:
    """The whole-document comparison diff_documents made before it went service account by service
    account (iamscope/diff.py at 15b4a7b): every key of both access maps, `_covered` over all of BEFORE."""
    old, new = D.access_map(before.get("access") or ()), D.access_map(after.get("access") or ())
    declared = D._declared(after)
    was_assumable, now_assumable = D._assumable(before), D._assumable(after)
    through = D._through(after)
    entries: list[D.Entry] = []
    for key, held in new.items():
        previous = old.get(key)
        loosened = (
            previous is not None
            and previous.level == held.level == D.CONDITIONAL
            and previous.conditions != held.conditions
        )
        if (
            previous is not None
            and not loosened
            and not (previous.level == D.CONDITIONAL and held.level == D.ALLOWED)
        ):
            continue
        if previous is None and held.pattern and _covered(key, old):
            continue
        sa = key[0]
        newly = now_assumable.get(sa, set()) - was_assumable.get(sa, set())
        escalation, reasons = D._added_reasons(sa, key[1], held, previous, declared, newly, through)
        if loosened and previous is not None:
            reasons.insert(0, f"its condition changed: was {'; '.join(previous.conditions) or 'none'}")
        entries.append(("added", key, held, escalation, reasons))
    had = {e["service_account"]: set(e.get("workloads") or ()) for e in before.get("access") or ()}
    for entry in after.get("access") or ():
        sa = entry["service_account"]
        if sa not in had:
            continue
        joined = sorted(set(entry.get("workloads") or ()) - had[sa])
        if not joined:
            continue
        for key, held in new.items():
            if key[0] == sa:
                verb = "runs" if len(joined) == 1 else "run"
                entries.append(
                    (
                        "added",
                        key,
                        held,
                        True,
                        [f"{', '.join(joined)} newly {verb} as {sa}, which can read it"],
                    )
                )
    for key, held in old.items():
        current = new.get(key)
        if current is not None and not (held.level == D.ALLOWED and current.level == D.CONDITIONAL):
            continue
        if current is not None:
            reason = "now allowed only under conditions"
        elif baseline == "least-privilege":
            reason = "a workload declares it, and no role of the service account grants it"
        else:
            reason = "no longer granted"
        entries.append(("removed", key, held, False, [reason]))
    return entries


def _covered(key: D.AccessKey, old: Mapping[D.AccessKey, D.Held]) -> bool:
    sa, pattern, action = key
    for (other_sa, other, other_action), held in old.items():
        if other_sa != sa or other_action != action or held.level != D.ALLOWED:
            continue
        if other == "*" or other == pattern:
            return True
        stem = other[:-1]
        if other.endswith("*") and not any(c in stem for c in "*?") and pattern.startswith(stem):
            return True
    return False


grants = st.fixed_dictionaries(
    {
        "resource": st.sampled_from(RESOURCES),
        "actions": st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True),
        "via": st.sampled_from(ROLES),
    },
    optional={
        "readable": st.sampled_from(("allowed", "conditional")),
        "pattern": st.booleans(),
        "wildcard": st.booleans(),
        "statements": st.lists(st.sampled_from(("role a: s1", "role b: s2")), max_size=2, unique=True),
        "conditions": st.dictionaries(
            st.sampled_from(ACTIONS), st.sampled_from(("aws:SourceVpc = v1", "v2"))
        ),
    },
)
entries = st.fixed_dictionaries(
    {
        "service_account": st.sampled_from(SERVICE_ACCOUNTS),
        "grants": st.lists(grants, max_size=5),
        "workloads": st.lists(st.sampled_from(WORKLOADS), max_size=2, unique=True),
        "assumable_roles": st.lists(st.sampled_from(ROLES), max_size=2, unique=True),
        "needs": st.lists(st.sampled_from(RESOURCES[:3]), max_size=2, unique=True),
    }
)
documents = st.lists(entries, max_size=4).map(lambda access: {"access": access})


@st.composite
def pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """BEFORE, and AFTER as a few edits of it (so that most service accounts keep their grants, as in a
    pull request) or drawn afresh."""
    before = draw(documents)
    if draw(st.booleans()):
        return before, draw(documents)
    after = copy.deepcopy(before)
    for entry in after["access"]:
        edit = draw(st.sampled_from(("none", "none", "grants", "workloads", "one grant")))
        if edit == "grants":
            entry["grants"] = draw(st.lists(grants, max_size=5))
        elif edit == "workloads":
            entry["workloads"] = draw(st.lists(st.sampled_from(WORKLOADS), max_size=3, unique=True))
        elif edit == "one grant" and entry["grants"]:
            entry["grants"][draw(st.integers(0, len(entry["grants"]) - 1))] = draw(grants)
    after["access"] += draw(st.lists(entries, max_size=1))
    return before, after


def _as_json(changes: Sequence[D.Change]) -> str:
    return json.dumps([D.change_json(c) for c in changes], sort_keys=True)


@settings(max_examples=400, deadline=None)
@given(pairs(), st.sampled_from(("state", "least-privilege")))
def test_service_account_by_service_account_gives_the_whole_document_diff(
    pair: tuple[dict[str, Any], dict[str, Any]], baseline: str
) -> None:
    before, after = pair
    result = D.diff_documents(before, after, before_label="b", after_label="a", baseline=baseline)
    assert _as_json(result.changes) == _as_json(D._group(_reference(before, after, baseline)))


def test_a_service_account_whose_grants_are_unchanged_but_gains_a_workload_is_reported() -> None:
    grant = {"resource": RESOURCES[0], "actions": [ACTIONS[0]], "via": ROLES[0], "readable": "allowed"}
    before = {
        "access": [{"service_account": SERVICE_ACCOUNTS[0], "workloads": [WORKLOADS[0]], "grants": [grant]}]
    }
    after = copy.deepcopy(before)
    after["access"][0]["workloads"].append(WORKLOADS[3])
    result = D.diff_documents(before, after, before_label="b", after_label="a")
    assert [(c.change, c.service_account, c.resource, c.reasons) for c in result.changes] == [
        (
            "added",
            SERVICE_ACCOUNTS[0],
            RESOURCES[0],
            ("test/Pod/debug newly runs as prod/ServiceAccount/api, which can read it",),
        )
    ]


def test_a_pattern_narrower_than_one_granted_before_is_not_new() -> None:
    """IAM's `*` matches any run of characters, so `prod/*` covers `prod/db-*`: narrowing a grant adds
    nothing (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html)."""

    def doc(resource: str) -> dict[str, Any]:
        grant = {
            "resource": resource,
            "actions": [ACTIONS[0]],
            "via": ROLES[0],
            "readable": "allowed",
            "pattern": True,
        }
        return {"access": [{"service_account": SERVICE_ACCOUNTS[0], "grants": [grant]}]}

    narrowed = D.diff_documents(
        doc(f"{ARN}prod/*"), doc(f"{ARN}prod/db-*"), before_label="b", after_label="a"
    )
    assert [(c.change, c.resource) for c in narrowed.changes] == [("removed", f"{ARN}prod/*")]
    widened = D.diff_documents(doc(f"{ARN}prod/db-*"), doc(f"{ARN}prod/*"), before_label="b", after_label="a")
    assert [(c.change, c.resource) for c in widened.changes] == [
        ("added", f"{ARN}prod/*"),
        ("removed", f"{ARN}prod/db-*"),
    ]
