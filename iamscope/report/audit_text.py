"""`audit --format text`: the inventory as aligned tables, one section each for the
SecretProviderClasses, the synced Secrets and the driver and provider DaemonSets, with notes indented
under the row they concern."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from iamscope.audit import AuditReport, DaemonSetRow, SpcRow, SyncedSecretRow, SyncRole

WIDTH = 110
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

Row = tuple[Sequence[str], Sequence[str]]  # the cells, and the detail lines under them


def _local(workload_id: str) -> str:
    """`Kind/name` of a `namespace/Kind/name` id: a table row already shows the namespace."""
    return workload_id.split("/", 1)[-1]


def _table(headers: Sequence[str], rows: Sequence[Row], right: frozenset[int] = frozenset()) -> list[str]:
    """Aligned columns, two spaces apart, indented by two; the last column wraps under itself, and
    detail lines start under the second column."""
    widths = [max(len(h), *(len(cells[i]) for cells, _ in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> list[str]:
        parts = [f"{c:>{widths[i]}}" if i in right else f"{c:<{widths[i]}}" for i, c in enumerate(cells[:-1])]
        lead = "  " + "".join(p + "  " for p in parts)
        wrapped = textwrap.wrap(
            cells[-1], max(WIDTH - len(lead), 30), break_on_hyphens=False, break_long_words=False
        )
        first, *rest = wrapped or [""]
        return [(lead + first).rstrip(), *(" " * len(lead) + r for r in rest)]

    detail = " " * (2 + widths[0] + 2)
    out = line(headers)
    for cells, details in rows:
        out += line(cells)
        for text in details:
            out += textwrap.wrap(
                text,
                WIDTH,
                initial_indent=detail,
                subsequent_indent=detail + "  ",
                break_on_hyphens=False,
                break_long_words=False,
            )
    return out


def _spc_row(row: SpcRow) -> Row:
    syncs = f"yes ({', '.join(row.synced_secrets)})" if row.syncs else "no"
    mounted = ", ".join(_local(w) for w in row.mounted_by) or "(nobody)"
    details = [
        f"inline: {_local(o.workload)} volume {o.volume} sets {', '.join(o.parameters)}" for o in row.inline
    ]
    details += [f"note: {n}" for n in row.notes]
    return ([row.namespace, row.name, row.provider, syncs, str(row.objects), mounted], details)


def _synced_row(row: SyncedSecretRow) -> Row:
    labelled = "-" if row.labelled is None else ("yes" if row.labelled else "no")
    synced_by = ", ".join(_local(s) for s in row.synced_by) or "(no SecretProviderClass)"
    cells = [
        row.namespace,
        row.name,
        "yes" if row.exists else "no",
        labelled,
        "yes" if row.approved else "no",
    ]
    return ([*cells, synced_by], [f"note: {n}" for n in row.notes])


def _identity(row: DaemonSetRow) -> str:
    found = [name for name, role in (("IRSA", row.role_arn), ("Pod Identity", row.pod_identity_role)) if role]
    return " + ".join(found) or "none"


def _daemonset_row(row: DaemonSetRow) -> Row:
    account = row.service_account.rsplit("/", 1)[-1]
    details = [f"service account: {account}"]
    if row.role_arn:
        details.append(f"IRSA role (eks.amazonaws.com/role-arn): {row.role_arn}")
    if row.pod_identity_role:
        details.append(f"Pod Identity role (association): {row.pod_identity_role}")
    details.append(f"images: {', '.join(row.images)}")
    if row.node_selector:
        details.append(f"nodeSelector: {', '.join(row.node_selector)}")
    cells = [row.kind, row.namespace, row.name, _identity(row), ", ".join(row.tolerations) or "none"]
    return (cells, details)


def _sync_role(role: SyncRole) -> str:
    if not role.present:
        return f"Sync {role.id}: absent (syncSecret.enabled=false: the driver writes no Secrets)"
    verbs = ", ".join(role.secret_verbs) or "nothing"
    bound = ", ".join(role.subjects) or "nobody"
    return f"Sync {role.id}: present; grants {verbs} on secrets cluster-wide; bound to {bound}"


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def render_text(report: AuditReport) -> str:
    syncing = sum(1 for r in report.spcs if r.syncs)
    mounting = len({w for r in report.spcs for w in r.mounted_by})
    cluster = f"cluster {report.cluster}" if report.cluster else "no EKS cluster in the snapshot"
    spcs = _count(len(report.spcs), "SecretProviderClass", "SecretProviderClasses")
    out = [
        f"iamscope audit: {cluster}: {spcs} ({syncing} syncing), mounted by {_count(mounting, 'workload')}, "
        f"{_count(len(report.synced_secrets), 'synced Secret')}, "
        f"{_count(len(report.daemonsets), 'driver/provider DaemonSet')}",
        "",
        "SecretProviderClasses",
    ]
    if report.spcs:
        headers = ["namespace", "name", "provider", "syncs", "objects", "mounted by"]
        out += _table(headers, [_spc_row(r) for r in report.spcs], right=frozenset({4}))
    else:
        out.append("  (none)")
    for missing in report.missing_spcs:
        by = ", ".join(missing.mounted_by)
        out += textwrap.wrap(
            f"not in the input: {missing.id}, mounted by {by}",
            WIDTH,
            initial_indent="  ",
            subsequent_indent="    ",
            break_on_hyphens=False,
        )
    out += ["", "Synced Secrets"]
    if report.synced_secrets:
        headers = ["namespace", "name", "in input", "labelled", "approved", "synced by"]
        out += _table(headers, [_synced_row(r) for r in report.synced_secrets])
    else:
        out.append("  (none)")
    out += ["", "Driver and providers"]
    if report.daemonsets:
        headers = ["kind", "namespace", "name", "identity", "tolerations"]
        out += _table(headers, [_daemonset_row(r) for r in report.daemonsets])
    else:
        out.append("  (no driver or provider DaemonSet in the input)")
    out += textwrap.wrap(
        _sync_role(report.sync_role),
        WIDTH,
        initial_indent="  ",
        subsequent_indent="    ",
        break_on_hyphens=False,
    )
    approved = ", ".join(report.approved_namespaces) or "none"
    out += ["", f"Approved namespaces for sync (sync.approved_namespaces): {approved}"]
    return "\n".join(CONTROL.sub("?", line) for line in out) + "\n"
