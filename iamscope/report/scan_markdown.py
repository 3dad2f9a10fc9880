"""`scan --format markdown`: fits a pull-request comment: the summary line first, a table of findings,
the details of each subject folded."""

from __future__ import annotations

from iamscope.findings import SEVERITIES, Finding
from iamscope.scan import ScanResult


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: ScanResult, fail_on: str) -> str:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in result.findings:
        counts[f.severity] += 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
    failing = len(result.at_or_above(fail_on))
    out = [
        f"**iamscope scan**: {summary}; {failing} at or above `{fail_on}`"
        + ("" if result.complete else " — **input incomplete**")
    ]
    if not result.complete:
        out += ["", "Missing data:", *(f"- {_cell(g)}" for g in result.gaps)]
    if result.findings:
        out += ["", "| severity | rule | subject | message |", "|---|---|---|---|"]
        out += [
            f"| {f.severity} | `{f.rule}` | `{_cell(f.subject)}` | {_cell(f.message)} |"
            for f in result.findings
        ]
        groups: dict[str, list[Finding]] = {}
        for f in result.findings:
            groups.setdefault(f.subject, []).append(f)
        for subject, findings in sorted(groups.items()):
            out += ["", f"<details><summary><code>{subject}</code>: {len(findings)} finding(s)</summary>", ""]
            for f in findings:
                out.append(f"- **{f.severity}** `{f.rule}`: {_cell(f.message)}")
                for edge in f.evidence:
                    out.append(f"  - `{_cell(str(edge))}` — {_cell(edge.reason)}")
                if f.remediation:
                    out.append(f"  - fix: {_cell(f.remediation)}")
            out += ["", "</details>"]
    return "\n".join(out) + "\n"
