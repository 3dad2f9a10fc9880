"""`scan --format markdown`: fits a pull-request comment: the summary line first, a table of findings,
the details of each subject folded, all within the size a comment may have (GitHub refuses more than
65,536 characters), saying what was left out."""

from __future__ import annotations

import re

from iamscope.findings import SEVERITIES, Finding
from iamscope.scan import ScanResult

BUDGET = 60_000  # characters, under GitHub's 65,536 per comment with room for the closing lines
_MARKUP = re.compile(r"([\\`*_{}\[\]<>#|~])")


def cell(text: str) -> str:
    """Text shown as text: ARNs and patterns are full of `*` and `_` that Markdown would eat."""
    return _MARKUP.sub(r"\\\1", text).replace("\n", " ")


def code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _details(subject: str, findings: list[Finding]) -> list[str]:
    out = ["", f"<details><summary>{code(subject)}: {len(findings)} finding(s)</summary>", ""]
    for f in findings:
        out.append(f"- **{f.severity}** {code(f.rule)}: {cell(f.message)}")
        for edge in f.evidence:
            out.append(f"  - {code(str(edge))}: {cell(edge.reason)}")
        if f.remediation:
            out.append(f"  - fix: {cell(f.remediation)}")
    return [*out, "", "</details>"]


def render_markdown(result: ScanResult, fail_on: str, budget: int = BUDGET) -> str:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in result.findings:
        counts[f.severity] += 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
    failing = len(result.at_or_above(fail_on))
    out = [
        f"**iamscope scan**: {summary}; {failing} at or above {code(fail_on)}"
        + ("" if result.complete else " — **input incomplete**")
    ]
    if not result.complete:
        out += ["", "Missing data:", *(f"- {cell(g)}" for g in result.gaps)]
    used = sum(len(line) + 1 for line in out)
    left_out = 0
    if result.findings:
        rows = ["", "| severity | rule | subject | message |", "|---|---|---|---|"]
        for f in result.findings:  # worst first
            row = f"| {f.severity} | {code(f.rule)} | {code(f.subject)} | {cell(f.message)} |"
            if used + len(row) > budget // 2:
                left_out += 1
                continue
            rows.append(row)
            used += len(row) + 1
        out += rows
        groups: dict[str, list[Finding]] = {}
        for f in result.findings:
            groups.setdefault(f.subject, []).append(f)
        hidden = 0
        for subject, findings in groups.items():  # in the table's order: worst first
            block = _details(subject, findings)
            size = sum(len(line) + 1 for line in block)
            if used + size > budget:
                hidden += 1
                continue
            out += block
            used += size
        if left_out or hidden:
            out += [
                "",
                f"_{left_out} finding(s) left out of the table and {hidden} subject(s) of the details, "
                "to fit a comment: the full report is `iamscope scan --format text` or `--format json`._",
            ]
    return "\n".join(out) + "\n"
