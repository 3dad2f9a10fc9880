"""Findings and the rule registry: a rule is data (stable id, title, severity, rationale, remediation,
references) plus one pure function from the assessment to findings."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from iamscope.edges import Edge
from iamscope.model import Location

if TYPE_CHECKING:
    from iamscope.assess import Assessment

SEVERITIES = ("critical", "high", "medium", "low", "info")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


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
    key: str = ""  # what distinguishes two findings of one rule on one subject (kept out of output)

    @property
    def fingerprint(self) -> str:
        """Stable across runs and input order; changes only when what the finding is about changes."""
        parts = [self.rule, self.subject, self.role_arn or "", self.key, *self.resources, "|", *self.patterns]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]

    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (RANK[self.severity], self.subject, self.rule, self.role_arn or "", self.fingerprint)


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


def is_pattern(arn: str) -> bool:
    """Secret and parameter names cannot hold `*` or `?`: an ARN with one is a pattern (the expected
    `<name>-??????` of a secret the snapshot lacks, or a policy's wildcard)."""
    return "*" in arn or "?" in arn


def _patterns_apart(finding: Finding) -> Finding:
    """A finding's `resources` are concrete ARNs (DESIGN.md §3); patterns go to `patterns`."""
    moved = tuple(r for r in finding.resources if is_pattern(r))
    if not moved:
        return finding
    return replace(
        finding,
        resources=tuple(r for r in finding.resources if not is_pattern(r)),
        patterns=tuple(sorted({*finding.patterns, *moved})),
    )


def run_checks(assessment: Assessment) -> tuple[Finding, ...]:
    import iamscope.checks  # noqa: F401  (registers every rule)

    found: dict[str, Finding] = {}
    for rule_id in sorted(RULES):
        registered = RULES[rule_id]
        for finding in registered.check(assessment):
            if not finding.remediation:
                finding = replace(finding, remediation=registered.remediation)
            finding = _patterns_apart(finding)
            found.setdefault(finding.fingerprint, finding)
    return tuple(sorted(found.values(), key=Finding.sort_key))
