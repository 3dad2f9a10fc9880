"""cross-workload-grant counts the workloads declaring what a role reads in one of two ways: over what
it reads, or (a role reading most declared ARNs, such as `*`) over every declaration less what it does
not read. Both give the same findings, on the demo and on a generated cluster with `*` roles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import iamscope.checks.grants as grants
from iamscope.config import load_config
from iamscope.files import InputReader
from iamscope.findings import Finding
from iamscope.scan import ScanResult, scan
from iamscope.state import load_inventory, sources
from tests.conftest import REPO


def _scan(state: Path) -> ScanResult:
    reader = InputReader()
    config = next((c for c in (state / ".iamscope.yaml", state / "iamscope.yaml") if c.is_file()), None)
    return scan(load_inventory(sources(state, (), None), reader), load_config(config, reader))


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScanResult]:
    bench = tmp_path_factory.mktemp("scale-1")
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_scale.py"), "--scale", "1", "--out", str(bench)],
        check=True,
        capture_output=True,
    )
    return {"demo": _scan(REPO / "fixtures" / "demo"), "bench": _scan(bench)}


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
