"""`scan --format text`: one block per subject (workload, service account or role), worst first, each
finding with its path through the graph and the fix; then the clean workloads and a summary. Rendered
block by block, so a report on the largest cluster is never whole in memory."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from iamscope.edges import DECLARES, INSTANCE_PROFILE, MOUNTS, RESOLVES_TO, RUNS_AS
from iamscope.findings import RANK, SEVERITIES, Finding
from iamscope.scan import ScanResult

WIDTH = 110
# edges whose kind says it all on one screen; `iamscope explain` prints every reason
SELF_EXPLAINING = {RUNS_AS, MOUNTS, DECLARES, RESOLVES_TO, INSTANCE_PROFILE}
MAX_RESOURCES = 8


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False
    ) or [indent]


class _Wrapped(dict[tuple[str, str], list[str]]):
    """_wrap, remembered for one report: a fix, a path's edge and its reason recur across findings
    (four wraps in five repeat one already done), and textwrap is most of the report's time."""

    def __missing__(self, key: tuple[str, str]) -> list[str]:
        found = self[key] = _wrap(*key)
        return found


def _header(subject: str, result: ScanResult) -> str:
    a = result.assessment
    view = None
    w = a.workloads.get(subject)
    if w is not None:
        view = a.service_accounts.get(f"{w.namespace}/ServiceAccount/{w.pod.service_account}")
    elif subject in a.service_accounts:
        view = a.service_accounts[subject]
    if view is not None:
        role = f"role {view.ascp_role}" if view.ascp_role else "no role"
        return f"{subject}  (service account {view.id}, {role})"
    return subject


def _finding_lines(f: Finding, wrapped: _Wrapped) -> list[str]:
    lines = _wrap(f"{f.severity.upper():<9} {f.rule}: {f.message}", "  ")  # its own: not remembered
    pad = "            "
    if f.resources:
        shown = list(f.resources[:MAX_RESOURCES])
        more = len(f.resources) - len(shown)
        lines += wrapped["resources: " + ", ".join(shown) + (f" (+{more} more)" if more > 0 else ""), pad]
    if f.patterns:
        lines += wrapped["patterns: " + ", ".join(f.patterns), pad]
    if f.evidence:
        lines.append(pad + "path:")
        for edge in f.evidence:
            lines += wrapped[f"{edge}", pad + "  "]
            if edge.kind not in SELF_EXPLAINING:
                lines += wrapped[f"because {edge.reason}", pad + "      "]
    if f.remediation:
        lines += wrapped["fix: " + f.remediation, pad]
    return lines


def _table(order: list[str], groups: dict[str, list[Finding]]) -> list[str]:
    """One row per subject, worst first: how many findings of each severity, and which rules."""
    width = min(max(len(s) for s in order), 72)
    rows = [f"  {'subject':<{width}}  crit high  med  low  rules"]
    for subject in order:
        counts = [
            sum(1 for f in groups[subject] if f.severity == s) for s in ("critical", "high", "medium", "low")
        ]
        rules = ", ".join(sorted({f.rule for f in groups[subject]}))
        name = subject if len(subject) <= width else "…" + subject[-(width - 1) :]
        rows.append(f"  {name:<{width}}  " + " ".join(f"{c or '.':>4}" for c in counts) + f"  {rules}")
    return rows


def render_text(result: ScanResult, fail_on: str) -> str:
    return "".join(render_text_chunks(result, fail_on))


def render_text_chunks(result: ScanResult, fail_on: str) -> Iterator[str]:
    """The report in pieces: the table, then each subject's block, then the summary."""
    a = result.assessment
    out: list[str] = []
    cluster = f"cluster {a.cluster.name}" if a.cluster else "no EKS cluster in the snapshot"
    account = f"account {a.inventory.aws.account}" if a.inventory.aws.account else "account unknown"
    out.append(
        f"iamscope scan: {cluster}, {account}: {len(a.workloads)} workloads, "
        f"{len(a.service_accounts)} service accounts, {len(a.inventory.aws.roles)} roles, "
        f"{len(a.inventory.aws.secrets)} secrets, {len(a.inventory.aws.parameters)} parameters"
    )
    if not result.complete:
        out.append("INCOMPLETE: the result below may miss access; missing data:")
        out += [f"  - {g}" for g in result.gaps]
    groups: dict[str, list[Finding]] = {}
    for f in result.findings:
        groups.setdefault(f.subject, []).append(f)
    order = sorted(groups, key=lambda s: (min(RANK[f.severity] for f in groups[s]), s))
    if order:
        out += ["", *_table(order, groups)]
    yield "\n".join(out) + "\n"
    out = []
    wrapped = _Wrapped()
    for subject in order:
        block = ["", _header(subject, result)]
        for f in groups[subject]:
            block += _finding_lines(f, wrapped)
        yield "\n".join(block) + "\n"
    # clean: no finding on them, and none that names them (a workload whose secrets another can
    # read appears in that finding's objects)
    named = {s for f in result.findings for s in f.objects}
    clean = sorted({m.workload for m in a.mounts if m.aws} - set(groups) - named)
    if clean:
        out.append("")
        out += _wrap("No findings on or about: " + ", ".join(clean), "")
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in result.findings:
        counts[f.severity] += 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
    failing = len(result.at_or_above(fail_on))
    out.append("")
    out.append(
        f"Summary: {summary}; {failing} at or above --fail-on {fail_on}"
        + ("" if result.complete else "; input INCOMPLETE")
    )
    yield "\n".join(out) + "\n"
