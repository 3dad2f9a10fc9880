"""`diff --format text`: a summary line, then per service account its + and - lines, each with
the actions, the role and the reasons (escalations marked)."""

from __future__ import annotations

import re

from iamscope.diff import Change, DiffResult

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def summary(result: DiffResult) -> str:
    added, removed, escalations = len(result.added), len(result.removed), len(result.escalations)
    if result.baseline == "least-privilege":
        head = f"{added} grant(s) beyond least privilege ({escalations} escalation(s)), {removed} missing"
    elif not added and not removed:
        head = "no change in access"
    else:
        head = f"{added} new access(es) ({escalations} escalation(s)), {removed} removed"
    if result.new_findings:
        head += f"; {len(result.new_findings)} new high/critical finding(s)"
    if result.unknown:
        head += f"; {len(result.unknown)} value(s) unknown until apply"
    if result.after_incomplete and not result.grants_more:
        head += "; AFTER is incomplete: new access cannot be ruled out"
    return head


def _line(change: Change) -> list[str]:
    sign = "+" if change.change == "added" else "-"
    mark = "  ESCALATION" if change.escalation else ""
    roles = ", ".join(change.roles)
    lines = [f"  {sign} {change.resource}{mark}", f"      {', '.join(change.actions)}  via {roles}"]
    lines += [f"      {reason}" for reason in change.reasons]
    return lines


def _printable(text: str) -> str:
    """No control characters from the input reach a terminal (an ARN cannot hold any)."""
    return CONTROL.sub("?", text)


def render_text(result: DiffResult) -> str:
    lines = [f"iamscope diff: {result.before} -> {result.after}", summary(result)]
    by_sa: dict[str, list[Change]] = {}
    for change in result.changes:
        by_sa.setdefault(change.service_account, []).append(change)
    for sa in sorted(by_sa):
        lines += ["", sa]
        for change in sorted(by_sa[sa], key=lambda c: (c.change != "added", not c.escalation, c.resource)):
            lines += _line(change)
    if result.new_findings:
        lines += ["", "New findings at high or above:"]
        lines += [
            f"  ! {f['severity']} {f['rule']} {f['subject']}: {f['message']}" for f in result.new_findings
        ]
    if result.unknown:
        lines += ["", "Unknown until apply (new access cannot be ruled out):"]
        lines += [f"  ? {u}" for u in result.unknown]
    if result.incomplete:
        lines += ["", "Incomplete input (what could not be read is not compared):"]
        lines += [f"  ! {g}" for g in result.incomplete]
    return "\n".join(_printable(line) for line in lines) + "\n"
