"""What `bin/bench --report` prints against the scale targets, from the figures a real run saved
(data/bench-scale-100.json: `bin/bench --scale 100`, 2026-11-29 11:02). The bench itself is
never run here: its figures are read, and only the verdicts on them are checked."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SAVED = Path(__file__).parent / "data" / "bench-scale-100.json"


def _targets(printed: str) -> list[str]:
    lines = printed.splitlines()
    start = lines.index("targets (read, not asserted):")
    return lines[start + 1 :]


def _report(saved: dict[str, Any], tmp_path: Path) -> list[str]:
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(saved))
    ran = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--report", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return _targets(ran.stdout)


def _with_run(saved: dict[str, Any], scale_index: int, key: str, seconds: float) -> dict[str, Any]:
    changed = copy.deepcopy(saved)
    ran = changed["results"][scale_index]["cli"][key]
    ran["seconds"] = seconds
    ran["runs"] = [seconds, seconds, seconds]
    return changed


def test_bin_bench_reports_a_saved_run_against_every_target() -> None:
    ran = subprocess.run(
        [str(REPO / "bin" / "bench"), "--report", str(SAVED)], capture_output=True, text=True, check=True
    )
    targets = _targets(ran.stdout)
    assert targets[:11] == [
        "  ok   scan (text) 52.3 s = 1.3x the floor (<= 3x)",
        "  ok   scan (text) peak RSS 1.43 GiB (< 2 GiB)",
        "  ok   generate 56.8 s = 1.09x the scan (text) (<= 1.5x)",
        "  ok   scan --format json 62.4 s = 1.5x the floor (<= 3x)",
        "  ok   scan --format json peak RSS 1.69 GiB (< 2 GiB)",
        "  ok   generate 56.8 s = 0.91x the scan --format json (<= 1.5x)",
        "  ok   scan (text): scale 100 takes 2.03x scale 50 (<= 2.2x)",
        "  over scan --format json: scale 100 takes 2.28x scale 50 (<= 2.2x)",
        "       (the target is read on `iamscope scan` as it runs by default, above; this report's "
        "iamscope.scan/v1 content grew 2.63x, 2.28 GB -> 6.00 GB: every ARN a `*` role reaches, for each "
        "service account that can assume it)",
        "  ok   generate: scale 100 takes 2.08x scale 50 (<= 2.2x)",
        "       (scan (text) at scale 50: the fastest of 3 runs, 26.2, 26.1, 25.7 s, the scales taking turns)",
    ]
    assert "       (scan (text): by the median runs, 26.1 s -> 53.5 s, 2.05x)" in targets
    assert "  ok   iamscope scan of that file alone: 1.11 s, 116 MiB: 24.2x faster (>= 20x)" in targets
    # the pull request's diff is a row of the table, with no target of its own
    assert (
        "iamscope diff STATE PR (CLI, no target)     54.91      3.1     1.58      130.66      3.2     3.75"
        "        2.38" in ran.stdout.splitlines()
    )
    assert not any("diff" in line for line in targets)


def test_a_default_scan_growing_over_the_target_is_a_miss(tmp_path: Path) -> None:
    saved = json.loads(SAVED.read_text())
    slower = _with_run(saved, 0, "scan_text", 59.1)  # 59.1 / 25.70 = 2.30x
    targets = _report(slower, tmp_path)
    assert "  MISS scan (text): scale 100 takes 2.30x scale 50 (<= 2.2x)" in targets


def test_a_json_scan_within_the_target_is_ok_without_the_explanation(tmp_path: Path) -> None:
    saved = json.loads(SAVED.read_text())
    faster = _with_run(saved, 0, "scan", 59.8)  # 59.8 / 27.42 = 2.18x
    targets = _report(faster, tmp_path)
    assert "  ok   scan --format json: scale 100 takes 2.18x scale 50 (<= 2.2x)" in targets
    assert not any("content grew" in line for line in targets)


def test_generate_over_the_target_is_a_miss_not_over(tmp_path: Path) -> None:
    saved = json.loads(SAVED.read_text())
    slower = copy.deepcopy(saved)
    slower["results"][0]["cli"]["generate"]["seconds"] = 62.7  # 62.7 / 27.27 = 2.30x
    targets = _report(slower, tmp_path)
    assert "  MISS generate: scale 100 takes 2.30x scale 50 (<= 2.2x)" in targets
