"""SARIF 2.1.0 for code scanning: `scan --format sarif` (one result per finding, one rule descriptor
per registered rule) and `diff --format sarif` (one result per added escalation). Results point at
the manifest file and line where their subject is declared, so a pull request is annotated there;
partialFingerprints carry iamscope's own stable fingerprint, so results keep their identity across
runs. An incomplete scan says so in its invocation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from iamscope import __version__
from iamscope.diff import Change, DiffResult
from iamscope.findings import RULES, Finding, Rule
from iamscope.model import Location
from iamscope.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/iamscope/iamscope"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning ranks security results by this property (0.1-10)
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
FINGERPRINT = "iamscope/v1"
ESCALATION_RULE = "new-access-escalation"


def _uri(file: str) -> str:
    path = Path(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix(), safe="/")


def _location(file: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(file)}}
    if line is not None and line >= 1:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": rule.remediation},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["security", rule.family],
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    }
    if rule.references:
        descriptor["helpUri"] = rule.references[0]
    return descriptor


def _log(
    driver_rules: list[dict[str, Any]], results: list[dict[str, Any]], run_extra: Mapping[str, Any]
) -> str:
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "iamscope",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": driver_rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        **run_extra,
    }
    log = {"version": "2.1.0", "$schema": SARIF_SCHEMA, "runs": [run]}
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


def _finding_location(finding: Finding, roles: Mapping[str, str], declared: Mapping[str, Location]) -> Any:
    if finding.location is not None:
        return _location(finding.location.file, finding.location.line)
    if finding.service_account and finding.service_account in declared:
        where = declared[finding.service_account]
        return _location(where.file, where.line)
    source = roles.get(finding.role_arn or finding.subject)
    if source:
        return _location(source, None)
    return None


def render_scan_sarif(result: ScanResult) -> str:
    import iamscope.checks  # noqa: F401  (registers every rule)

    rule_ids = sorted(RULES)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    inventory = result.assessment.inventory
    roles = {r.arn: r.source for r in inventory.aws.roles if r.source}
    declared = {sa.id: sa.location for sa in inventory.kube.service_accounts if sa.location is not None}
    results = []
    for finding in result.findings:
        entry: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": LEVELS[finding.severity],
            "message": {"text": f"{finding.subject}: {finding.message}"},
            "partialFingerprints": {FINGERPRINT: finding.fingerprint},
            "properties": {
                "severity": finding.severity,
                "subject": finding.subject,
                "resources": list(finding.resources),
                **({"role_arn": finding.role_arn} if finding.role_arn else {}),
                **({"patterns": list(finding.patterns)} if finding.patterns else {}),
            },
        }
        location = _finding_location(finding, roles, declared) or {}
        location["logicalLocations"] = [{"name": finding.subject, "kind": "resource"}]
        entry["locations"] = [location]
        results.append(entry)
    invocation: dict[str, Any] = {"executionSuccessful": result.complete}
    if result.gaps:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": f"incomplete input: {gap}"}} for gap in result.gaps
        ]
    return _log([_rule_descriptor(RULES[r]) for r in rule_ids], results, {"invocations": [invocation]})


def _change_fingerprint(change: Change) -> str:
    parts = [ESCALATION_RULE, change.service_account, change.resource, *change.actions]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _escalations(changes: Iterable[Change]) -> list[dict[str, Any]]:
    results = []
    for change in changes:
        where = change.location
        gained = f"{', '.join(change.actions)} on {change.resource}"
        entry: dict[str, Any] = {
            "ruleId": ESCALATION_RULE,
            "ruleIndex": 0,
            "level": "error",
            "message": {
                "text": f"{change.service_account} newly gains {gained}: {'; '.join(change.reasons)}"
            },
            "partialFingerprints": {FINGERPRINT: _change_fingerprint(change)},
            "properties": {"roles": list(change.roles), "resource": change.resource},
            "locations": [
                {
                    **(_location(str(where["file"]), where.get("line")) if where else {}),
                    "logicalLocations": [{"name": change.service_account, "kind": "resource"}],
                }
            ],
        }
        results.append(entry)
    return results


def render_diff_sarif(result: DiffResult) -> str:
    rule = {
        "id": ESCALATION_RULE,
        "name": "NewAccessEscalation",
        "shortDescription": {"text": "A change lets a service account read what it could not before"},
        "fullDescription": {
            "text": "The change grants a service account access to a secret or parameter another workload "
            "declares, across namespaces, or through a wildcard, as the effective access maps of the two "
            "states show (policy evaluation, not text)."
        },
        "help": {"text": "Grant only what the workload declares: `iamscope generate` writes that policy."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "iam"], "security-severity": SECURITY_SEVERITY["high"]},
    }
    invocation: dict[str, Any] = {"executionSuccessful": not result.unknown and not result.after_incomplete}
    notes = [f"unknown until apply: {u}" for u in result.unknown] + [
        f"incomplete: {g}" for g in result.incomplete
    ]
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": n}} for n in notes
        ]
    return _log([rule], _escalations(result.escalations), {"invocations": [invocation]})
