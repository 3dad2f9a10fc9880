"""`scan --format json`: the iamscope.scan/v1 document of DESIGN.md §3. Fields may be added, never
renamed or removed; everything is sorted so the same input gives the same bytes."""

from __future__ import annotations

import json
from typing import Any

from iamscope.assess import ServiceAccountView
from iamscope.findings import SEVERITIES, Finding, is_pattern
from iamscope.model import Location
from iamscope.policy.evaluate import evidence
from iamscope.scan import ScanResult

SCHEMA = "iamscope.scan/v1"


def finding_json(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "severity": f.severity,
        "subject": f.subject,
        "service_account": f.service_account,
        "role_arn": f.role_arn,
        "resources": list(f.resources),
        "objects": list(f.objects),
        "message": f.message,
        "evidence": [e.as_evidence() for e in f.evidence],
        "remediation": f.remediation,
        "fingerprint": f.fingerprint,
    }
    if f.patterns:
        out["patterns"] = list(f.patterns)
    if f.location is not None:
        out["location"] = {"file": f.location.file, "line": f.location.line}
    return out


def access_json(view: ServiceAccountView, location: Location | None = None) -> dict[str, Any]:
    grants = []
    for check, access in view.access:
        wildcard_statements = {w.statement for w in access.wildcards}
        for arn, grant in sorted(access.grants.items()):
            entry: dict[str, Any] = {
                "resource": arn,
                "actions": sorted(a.action for a in grant.actions),
                "via": check.role_arn,
                "readable": (
                    "conditional"
                    if grant.readable and check.outcome == "conditional"
                    else grant.readable or "no"
                ),
            }
            if is_pattern(arn):
                entry["pattern"] = True
            refs = [r for a in grant.actions for r in a.statements]
            if any(r in wildcard_statements for r in refs):
                entry["wildcard"] = True
            if grant.decrypt is not None:
                refs += grant.decrypt.statements
            entry["statements"] = [str(r) for r in evidence(refs)]
            conditional = {a.action: a.when for a in grant.actions if a.when}
            if grant.decrypt is not None:
                entry["actions"] = sorted([*entry["actions"], "kms:Decrypt"])
                if grant.decrypt.when:
                    conditional["kms:Decrypt"] = grant.decrypt.when
            if conditional:
                entry["conditions"] = dict(sorted(conditional.items()))
            grants.append(entry)
        for wildcard in access.wildcards:
            if not wildcard.future:
                continue  # Deny statements or the boundary keep it from anything created later
            for pattern in wildcard.wildcard_resources:
                grants.append(
                    {
                        "resource": pattern,
                        "actions": sorted(wildcard.actions),
                        "via": check.role_arn,
                        "pattern": True,
                        "wildcard": True,
                        "readable": wildcard.future,
                        "statement": str(wildcard.statement),
                        "statements": [str(wildcard.statement)],
                    }
                )
    grants.sort(key=lambda g: (g["resource"], g["via"], g.get("statement", "")))
    out: dict[str, Any] = {
        "service_account": view.id,
        "workloads": list(view.workloads),
        "role_arn": view.ascp_role,
        "assumable_roles": sorted({c.role_arn for c, _ in view.access}),
        # how each is reached: irsa (a trust policy admits the SA's token), pod-identity (an
        # association), role-chain (from another assumable role)
        "assumed_through": {
            arn: ", ".join(sorted({c.via for c, _ in view.access if c.role_arn == arn}))
            for arn in sorted({c.role_arn for c, _ in view.access})
        },
        "role_chains": sorted(
            {f"{c.source} -> {c.role_arn}" for c, _ in view.access if c.via == "role-chain"}
        ),
        "needs": [a for a in view.need_arns if not is_pattern(a)],
        "unresolved_needs": [a for a in view.need_arns if is_pattern(a)],
        "grants": grants,
    }
    if location is not None:
        out["location"] = {"file": location.file, "line": location.line}
    return out


def view_location(result: ScanResult, view: ServiceAccountView) -> Location | None:
    """Where a service account is declared, else where the first of its workloads is."""
    declared = {sa.id: sa.location for sa in result.assessment.inventory.kube.service_accounts}
    if declared.get(view.id) is not None:
        return declared[view.id]
    workloads = result.assessment.workloads
    return next((workloads[w].location for w in view.workloads if w in workloads), None)


def scan_document(result: ScanResult) -> dict[str, Any]:
    a = result.assessment
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in result.findings:
        counts[f.severity] += 1
    views = [v for _, v in sorted(a.service_accounts.items()) if v.mounts or v.access]
    return {
        "schema": SCHEMA,
        "complete": result.complete,
        "incomplete": list(result.gaps),
        "summary": {
            "workloads": len(a.workloads),
            "service_accounts": len(a.service_accounts),
            "roles": len(a.inventory.aws.roles),
            "secrets": len(a.inventory.aws.secrets),
            "parameters": len(a.inventory.aws.parameters),
            "findings": counts,
        },
        "findings": [finding_json(f) for f in result.findings],
        "access": [access_json(v, view_location(result, v)) for v in views],
        "warnings": list(result.warnings),
        "unknown": list(a.inventory.aws.unknown),
    }


def render_json(result: ScanResult) -> str:
    return json.dumps(scan_document(result), sort_keys=True, indent=2) + "\n"
