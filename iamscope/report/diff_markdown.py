"""`diff --format markdown`: for a pull-request comment. The summary line first, then a table of the
escalations, then every change per service account folded in <details>; kept under a comment's size
(GitHub: 65,536 characters), saying what it left out."""

from __future__ import annotations

from iamscope.diff import Change, DiffResult
from iamscope.report.diff_text import summary
from iamscope.report.scan_markdown import BUDGET, cell, code


def _row(change: Change) -> str:
    reason = change.reasons[0] if change.reasons else ""
    return (
        f"| {cell(change.service_account)} | {cell(change.resource)} | {cell(', '.join(change.actions))} "
        f"| {cell(reason)} |"
    )


def _details(sa: str, changes: list[Change]) -> str:
    lines = [f"<details><summary>{code(sa)}: {len(changes)} change(s)</summary>", ""]
    for change in changes:
        sign = "+" if change.change == "added" else "-"
        mark = " **escalation**" if change.escalation else ""
        lines.append(f"- {sign} {code(change.resource)}{mark}: {cell(', '.join(change.actions))}")
        lines.append(f"  via {cell(', '.join(change.roles))}")
        lines += [f"  - {cell(r)}" for r in change.reasons]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def render_markdown(result: DiffResult) -> str:
    icon = ":x:" if result.grants_more else ":warning:" if result.after_incomplete else ":white_check_mark:"
    parts = [f"**iamscope diff** {icon} {cell(summary(result))}", ""]
    if result.escalations:
        parts += ["| service account | resource | actions | why |", "|---|---|---|---|"]
        rows = [_row(c) for c in result.escalations]
        shown = 0
        for row in rows:
            if sum(len(p) + 1 for p in parts) + len(row) > BUDGET // 2:
                break
            parts.append(row)
            shown += 1
        if shown < len(rows):
            parts.append(f"| … | {len(rows) - shown} more escalation(s): run `iamscope diff` for all | | |")
        parts.append("")
    if result.new_findings:
        parts += ["New findings at high or above:", ""]
        parts += [
            f"- **{f['severity']}** {code(f['rule'])} {code(f['subject'])}: {cell(f['message'])}"
            for f in result.new_findings[:50]
        ]
        parts.append("")
    if result.unknown:
        parts += ["Unknown until apply:", ""] + [f"- {cell(u)}" for u in result.unknown[:50]] + [""]
    if result.incomplete:
        parts += ["Incomplete input:", ""] + [f"- {cell(g)}" for g in result.incomplete[:50]] + [""]
    text = "\n".join(parts)
    by_sa: dict[str, list[Change]] = {}
    for change in result.changes:
        by_sa.setdefault(change.service_account, []).append(change)
    left = 0
    for sa in sorted(by_sa):
        block = _details(sa, by_sa[sa])
        if len(text) + len(block) > BUDGET:
            left += 1
            continue
        text += "\n" + block
    if left:
        text += f"\n_{left} service account(s) left out to fit a comment: run `iamscope diff` for all._\n"
    return text.rstrip("\n") + "\n"
