"""Scans the scan tests share: the demo fixtures and a generated cluster (bench/gen_scale.py at scale 1,
with `*` roles, shared roles and Pod Identity sessions), each scanned once per test session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iamscope.config import load_config
from iamscope.files import InputReader
from iamscope.scan import ScanResult, scan
from iamscope.state import load_inventory, sources
from tests.conftest import REPO


def scan_state(state: Path) -> ScanResult:
    """`iamscope scan STATE` as the library runs it, with the state's own config when it has one."""
    reader = InputReader()
    config = next((c for c in (state / ".iamscope.yaml", state / "iamscope.yaml") if c.is_file()), None)
    return scan(load_inventory(sources(state, (), None), reader), load_config(config, reader))


@pytest.fixture(scope="session")
def demo_and_bench_scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScanResult]:
    bench = tmp_path_factory.mktemp("scale-1")
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_scale.py"), "--scale", "1", "--out", str(bench)],
        check=True,
        capture_output=True,
    )
    return {"demo": scan_state(REPO / "fixtures" / "demo"), "bench": scan_state(bench)}
