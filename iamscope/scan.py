"""`iamscope scan` as a library call: inventory → assessment → findings, and whether the input was
complete enough for a clean result to mean anything."""

from __future__ import annotations

from dataclasses import dataclass

from iamscope.assess import Assessment, assess
from iamscope.config import Config
from iamscope.findings import RANK, Finding, run_checks
from iamscope.model import Inventory


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    assessment: Assessment
    findings: tuple[Finding, ...]
    complete: bool
    gaps: tuple[str, ...]  # why the result is incomplete
    warnings: tuple[str, ...]

    def at_or_above(self, threshold: str) -> tuple[Finding, ...]:
        if threshold == "none":
            return ()
        return tuple(f for f in self.findings if RANK[f.severity] <= RANK[threshold])


def scan(inventory: Inventory, config: Config) -> ScanResult:
    assessment = assess(inventory, config)
    findings = run_checks(assessment)
    gaps = tuple(sorted(set(assessment.gaps)))
    warnings = (
        tuple(
            sorted({f"{w.source}: {w.message}" for w in (*inventory.kube.warnings, *inventory.aws.warnings)})
        )
        + assessment.notes
    )
    return ScanResult(
        assessment=assessment, findings=findings, complete=not gaps, gaps=gaps, warnings=warnings
    )
