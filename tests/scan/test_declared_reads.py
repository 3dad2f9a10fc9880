"""cross-workload-grant counts the workloads declaring what a role reads in one of two ways: over what
it reads, or (a role reading most declared ARNs, such as `*`) over every declaration less what it does
not read. Both give the same findings, on the demo and on a generated cluster with `*` roles."""

from __future__ import annotations

import pytest

import iamscope.checks.grants as grants
from iamscope.findings import Finding
from iamscope.scan import ScanResult


@pytest.fixture
def states(demo_and_bench_scans: dict[str, ScanResult]) -> dict[str, ScanResult]:
    return demo_and_bench_scans


def _findings(result: ScanResult) -> list[Finding]:
    return list(grants.cross_workload(result.assessment))


@pytest.mark.parametrize("name", ["demo", "bench"])
def test_counting_either_way_gives_the_same_findings(
    name: str, states: dict[str, ScanResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = states[name]
    monkeypatch.setattr(grants, "_MOST", 2.0)  # every role counted over what it reads
    by_reads = _findings(result)
    monkeypatch.setattr(grants, "_MOST", 0.0)  # every role counted over what it does not read
    by_rest = _findings(result)
    assert by_reads == by_rest
    assert by_reads  # the states have cross-workload grants, some through `*` roles
    assert any(len(f.resources) > 50 for f in by_reads) == (name == "bench")
