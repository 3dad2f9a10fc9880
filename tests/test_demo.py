"""bin/demo, the README's first command, runs and shows what it promises: the scan of the demo state
with its findings and paths, then every path to one secret."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO


def test_demo_runs_and_shows_findings_and_paths() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "bin" / "demo")], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "$ iamscope scan fixtures/demo --config fixtures/demo/iamscope.yaml\n" in out
    assert "  CRITICAL  cross-workload-grant: can read 9 secret(s)/parameter(s)" in out
    assert "Summary: 2 critical, 9 high, 5 medium; 11 at or above --fail-on high\n" in out
    assert "(exit 1: findings at or above --fail-on high, as a pipeline gate would see them)\n" in out
    assert "is reached by: 7 path(s)\n" in out
