"""`audit --format json`: the iamscope.audit/v1 document. Fields may be added, never renamed or
removed; rows and lists are sorted, so the same input gives the same bytes."""

from __future__ import annotations

import json
from typing import Any

from iamscope.audit import AuditReport, DaemonSetRow, SpcRow, SyncedSecretRow, SyncRole
from iamscope.model import Location

SCHEMA = "iamscope.audit/v1"


def _location(location: Location | None) -> dict[str, Any] | None:
    return None if location is None else {"file": location.file, "line": location.line}


def spc_json(row: SpcRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "namespace": row.namespace,
        "name": row.name,
        "api_version": row.api_version,
        "provider": row.provider,
        "syncs": row.syncs,
        "synced_secrets": list(row.synced_secrets),
        "objects": row.objects,
        "mounted_by": list(row.mounted_by),
        "inline_overrides": [
            {"workload": o.workload, "volume": o.volume, "parameters": list(o.parameters)} for o in row.inline
        ],
        "notes": list(row.notes),
        "location": _location(row.location),
    }


def synced_secret_json(row: SyncedSecretRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "namespace": row.namespace,
        "name": row.name,
        "exists": row.exists,
        "labelled_managed": row.labelled,
        "synced_by": list(row.synced_by),
        "types": list(row.types),
        "keys": list(row.keys),
        "approved_namespace": row.approved,
        "notes": list(row.notes),
    }


def daemonset_json(row: DaemonSetRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "namespace": row.namespace,
        "name": row.name,
        "kind": row.kind,
        "images": list(row.images),
        "service_account": row.service_account,
        "role_arn": row.role_arn,
        "pod_identity_role": row.pod_identity_role,
        "tolerations": list(row.tolerations),
        "node_selector": list(row.node_selector),
        "location": _location(row.location),
    }


def sync_role_json(role: SyncRole) -> dict[str, Any]:
    return {
        "id": role.id,
        "present": role.present,
        "secret_verbs": list(role.secret_verbs),
        "writes_secrets": role.writes_secrets,
        "subjects": list(role.subjects),
        "location": _location(role.location),
    }


def audit_document(report: AuditReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "cluster": report.cluster,
        "approved_namespaces": list(report.approved_namespaces),
        "summary": {
            "spcs": len(report.spcs),
            "syncing_spcs": sum(1 for r in report.spcs if r.syncs),
            "mounting_workloads": len({w for r in report.spcs for w in r.mounted_by}),
            "synced_secrets": len(report.synced_secrets),
            "daemonsets": len(report.daemonsets),
        },
        "spcs": [spc_json(r) for r in report.spcs],
        "missing_spcs": [{"id": m.id, "mounted_by": list(m.mounted_by)} for m in report.missing_spcs],
        "synced_secrets": [synced_secret_json(r) for r in report.synced_secrets],
        "daemonsets": [daemonset_json(r) for r in report.daemonsets],
        "sync_role": sync_role_json(report.sync_role),
    }


def render_json(report: AuditReport) -> str:
    return json.dumps(audit_document(report), indent=2, sort_keys=True) + "\n"
