"""Findings and the rule registry: a rule is data (stable id, title, severity, rationale, remediation,
references) plus one pure function from the assessment to findings."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from iamscope.arnlists import split_patterns
from iamscope.edges import Edge
from iamscope.gcpause import paused_gc
from iamscope.model import Location

if TYPE_CHECKING:
    from iamscope.assess import Assessment

SEVERITIES = ("critical", "high", "medium", "low", "info")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


def listing(items: Iterable[str], limit: int = 6) -> str:
    """A list for a message, cut short: the finding's `objects` and `resources` hold all of it."""
    shown = items if isinstance(items, (tuple, list)) else list(items)  # a `*` role's run to thousands
    if len(shown) <= limit:
        return ", ".join(shown)
    return ", ".join(shown[:limit]) + f" and {len(shown) - limit} more"


def listing_sorted(items: Collection[str], limit: int = 6) -> str:
    """listing(sorted(items)), without sorting all of them when only a few are shown."""
    if len(items) <= limit:
        return ", ".join(sorted(items))
    return ", ".join(heapq.nsmallest(limit, items)) + f" and {len(items) - limit} more"


def lower(severity: str) -> str:
    """One step less severe (a grant that holds only under conditions)."""
    return SEVERITIES[min(RANK[severity] + 1, len(SEVERITIES) - 1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    rule: str
    severity: str
    subject: str
    message: str
    service_account: str | None = None
    role_arn: str | None = None
    resources: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    evidence: tuple[Edge, ...] = ()
    remediation: str = ""
    location: Location | None = None
    key: str = ""  # what tells two findings of one rule, subject and role apart (kept out of output)

    @property
    def fingerprint(self) -> str:
        """What the finding is about: its rule, subject, role and key. Not the resources it reaches or
        its wording, so a baseline keyed on it survives a new secret or a reworded message."""
        parts = [self.rule, self.subject, self.role_arn or "", self.key]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]

    def sort_key(self, fingerprint: str | None = None) -> tuple[int, str, str, str, str]:
        """The report order; `fingerprint` is this finding's, when the caller has it already."""
        return (
            RANK[self.severity],
            self.subject,
            self.rule,
            self.role_arn or "",
            fingerprint or self.fingerprint,
        )


Check = Callable[["Assessment"], Iterable[Finding]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    title: str
    severity: str  # the usual severity; a finding may state another
    family: str  # "iam" or "driver"
    rationale: str
    remediation: str
    references: tuple[str, ...]
    check: Check


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    title: str,
    severity: str,
    family: str = "iam",
    rationale: str,
    remediation: str,
    references: tuple[str, ...] = (),
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if id in RULES:
            raise RuntimeError(f"rule {id} registered twice")
        RULES[id] = Rule(
            id=id,
            title=title,
            severity=severity,
            family=family,
            rationale=rationale,
            remediation=remediation,
            references=references,
            check=check,
        )
        return check

    return register


class _PatternsApart:
    """A finding's `resources` are concrete ARNs (DESIGN.md §3); patterns go to `patterns`. A check
    hands the same resources tuple to the findings of each subject it reports on: it is split once
    (the tuple is kept with its parts, so its id stays its own)."""

    def __init__(self) -> None:
        self.split: dict[int, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}

    def __call__(self, finding: Finding, remediation: str) -> Finding:
        """The finding with its patterns apart, and `remediation` when it states none (one copy of
        the finding at most: a check yields them by the hundred thousand)."""
        resources = finding.resources
        found = self.split.get(id(resources))
        if found is None:
            found = self.split[id(resources)] = (resources, *split_patterns(resources))
        _, kept, moved = found
        remediation = finding.remediation or remediation
        if moved:
            patterns = tuple(sorted({*finding.patterns, *moved}))
            return replace(finding, resources=kept, patterns=patterns, remediation=remediation)
        if remediation != finding.remediation:
            return replace(finding, remediation=remediation)
        return finding


def run_checks(assessment: Assessment) -> tuple[Finding, ...]:
    import iamscope.checks  # noqa: F401  (registers every rule)

    with paused_gc():  # as assess: the checks build findings by the hundred thousand, and no cycles
        return _run_checks(assessment)


def _run_checks(assessment: Assessment) -> tuple[Finding, ...]:
    found: dict[str, Finding] = {}
    patterns_apart = _PatternsApart()
    for rule_id in sorted(RULES):
        registered = RULES[rule_id]
        for finding in registered.check(assessment):
            finding = patterns_apart(finding, registered.remediation)
            found.setdefault(finding.fingerprint, finding)
    # Finding.sort_key's order, with the fingerprint each finding is filed under (not hashed again)
    ordered = sorted(found.items(), key=lambda ff: ff[1].sort_key(ff[0]))
    return tuple(f for _, f in ordered)
