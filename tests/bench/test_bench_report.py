"""What `bin/bench --report` prints against the scale targets, from the figures a real run saved
(data/bench-scale-100.json: `bin/bench --scale 100` on a fresh clone, 2026-11-29). The bench itself is
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
        "  ok   scan (text) 53.8 s = 1.2x the floor (<= 3x)",
        "  ok   scan (text) peak RSS 1.43 GiB (< 2 GiB)",
        "  ok   generate 57.2 s = 1.06x the scan (text) (<= 1.5x)",
        "  ok   scan --format json 64.7 s = 1.5x the floor (<= 3x)",
        "  ok   scan --format json peak RSS 1.69 GiB (< 2 GiB)",
        "  ok   generate 57.2 s = 0.88x the scan --format json (<= 1.5x)",
        "  ok   scan (text): scale 100 takes 2.11x scale 50 (<= 2.2x)",
        "  over scan --format json: scale 100 takes 2.35x scale 50 (<= 2.2x)",
        "       (the target is read on `iamscope scan` as it runs by default, above; this report's "
        "iamscope.scan/v1 content grew 2.63x, 2.28 GB -> 6.00 GB: every ARN a `*` role reaches, for each "
        "service account that can assume it)",
        "  ok   generate: scale 100 takes 1.99x scale 50 (<= 2.2x)",
        "       (scan (text) at scale 50: the fastest of 3 runs, 26.1, 25.8, 25.4 s, the scales taking turns)",
    ]
    assert "       (scan (text): by the median runs, 25.8 s -> 56.1 s, 2.17x)" in targets
    assert "  ok   iamscope scan of that file alone: 1.01 s, 116 MiB: 23.9x faster (>= 20x)" in targets


def test_a_default_scan_growing_over_the_target_is_a_miss(tmp_path: Path) -> None:
    saved = json.loads(SAVED.read_text())
    slower = _with_run(saved, 0, "scan_text", 58.5)  # 58.5 / 25.44 = 2.30x
    targets = _report(slower, tmp_path)
    assert "  MISS scan (text): scale 100 takes 2.30x scale 50 (<= 2.2x)" in targets


def test_a_json_scan_within_the_target_is_ok_without_the_explanation(tmp_path: Path) -> None:
    saved = json.loads(SAVED.read_text())
    faster = _with_run(saved, 0, "scan", 60.0)  # 60.0 / 27.52 = 2.18x
    targets = _report(faster, tmp_path)
    assert "  ok   scan --format json: scale 100 takes 2.18x scale 50 (<= 2.2x)" in targets
    assert not any("content grew" in line for line in targets)


def test_generate_over_the_target_is_a_miss_not_over(tmp_path: Path) -> None:
    saved = json.loads(SAVED.read_text())
    slower = copy.deepcopy(saved)
    slower["results"][0]["cli"]["generate"]["seconds"] = 66.2  # 66.2 / 28.76 = 2.30x
    targets = _report(slower, tmp_path)
    assert "  MISS generate: scale 100 takes 2.30x scale 50 (<= 2.2x)" in targets
