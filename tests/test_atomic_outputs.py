"""Issue 7: a failed run leaves earlier outputs untouched. `scan --output FILE` and `generate --out DIR`
write through temporary files renamed into place (iamscope.output), so whatever stops a run (bad
input, a target that is a directory, a disk that fills up while the new files are written) the files
of the previous run are still there, byte for byte, and no temporary file is left behind.

A full disk is simulated by making fsync fail with ENOSPC: these tests run as root on CI machines,
where a read-only directory does not stop a write."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from iamscope.cli import main
from tests.conftest import REPO

DEMO = REPO / "fixtures" / "demo"
CONFIG = DEMO / "iamscope.yaml"


def iamscope(*args: str | Path) -> tuple[int, str, str]:
    with CliRunner().isolation() as (out, err, _):
        try:
            main([str(a) for a in args])
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 0
        else:  # pragma: no cover - main always exits
            code = 0
    return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes (temporary files included, so leftovers show)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "state"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns("policies"))
    return copy


def break_input(state: Path) -> None:
    (state / "k8s" / "zz-broken.yaml").write_text("kind: Pod\nmetadata: {name: [unclosed\n", encoding="utf-8")


def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


# --- scan --output ----------------------------------------------------------------------------------


@pytest.fixture
def report(state: Path, tmp_path: Path) -> Path:
    """An earlier report in its own directory."""
    target = tmp_path / "reports" / "scan.json"
    target.parent.mkdir()
    code, _, err = iamscope(
        "scan", state, "--config", CONFIG, "--format", "json", "--output", target, "--fail-on", "none"
    )
    assert code == 0, err
    return target


def test_scan_with_bad_input_leaves_the_earlier_report(state: Path, report: Path) -> None:
    before = snapshot(report.parent)
    break_input(state)
    code, out, err = iamscope("scan", state, "--config", CONFIG, "--format", "json", "--output", report)
    assert (code, out) == (2, "")
    assert err.startswith(
        f"iamscope: error: {state / 'k8s' / 'zz-broken.yaml'}: line 3 column 1: invalid YAML: "
    ), err
    assert snapshot(report.parent) == before


def test_scan_onto_a_full_disk_leaves_the_earlier_report(
    state: Path, report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(report.parent)
    disk_full(monkeypatch)
    code, out, err = iamscope("scan", state, "--config", CONFIG, "--format", "text", "--output", report)
    assert (code, out) == (2, "")
    # the warnings about the input come first (the scan itself succeeded)
    assert err.splitlines()[-1] == f"iamscope: error: {report}: cannot write: No space left on device"
    assert snapshot(report.parent) == before


def test_scan_output_that_is_a_directory_is_refused(state: Path, report: Path) -> None:
    before = snapshot(report.parent)
    code, out, err = iamscope("scan", state, "--config", CONFIG, "--output", report.parent)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("iamscope: error: Invalid value for '--output': "), err
    assert snapshot(report.parent) == before


# --- generate --out ---------------------------------------------------------------------------------


@pytest.fixture
def generated(state: Path, tmp_path: Path) -> Path:
    """The outputs of an earlier run."""
    out = tmp_path / "out"
    code, _, err = iamscope("generate", state, "--config", CONFIG, "--out", out, "--quiet")
    assert code == 0, err
    assert (out / "iamscope.auto.tfvars.json").is_file()
    return out


def test_generate_with_bad_input_leaves_earlier_outputs(state: Path, generated: Path) -> None:
    before = snapshot(generated)
    break_input(state)
    code, out, err = iamscope("generate", state, "--config", CONFIG, "--out", generated)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert snapshot(generated) == before


def test_generate_onto_a_full_disk_changes_no_file(
    state: Path, generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New outputs (another role path changes the tfvars and the ServiceAccounts) do not land: every
    file is staged before any is renamed, and the staging fails."""
    before = snapshot(generated)
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config.setdefault("generate", {})["role_path"] = "/elsewhere/"
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(config), encoding="utf-8")
    with monkeypatch.context() as patch:
        disk_full(patch)
        code, out, err = iamscope("generate", state, "--config", other, "--out", generated, "--quiet")
    assert (code, out) == (2, "")
    assert err.endswith(": cannot write: No space left on device\n"), err
    assert err.count("\n") == 1
    assert snapshot(generated) == before
    # with room on the disk, the same run does change them
    assert iamscope("generate", state, "--config", other, "--out", generated, "--quiet")[0] == 0
    assert snapshot(generated) != before


def test_generate_onto_a_directory_where_a_file_belongs_changes_no_file(state: Path, generated: Path) -> None:
    (generated / "service-accounts.yaml").unlink()
    (generated / "service-accounts.yaml").mkdir()
    before = snapshot(generated)
    code, out, err = iamscope("generate", state, "--config", CONFIG, "--out", generated, "--quiet")
    assert (code, out) == (2, "")
    assert err == f"iamscope: error: {generated / 'service-accounts.yaml'}: cannot write: Is a directory\n"
    assert snapshot(generated) == before
    assert (generated / "service-accounts.yaml").is_dir()


def test_generate_whose_rename_fails_midway_puts_every_file_back(
    state: Path, generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staging succeeded, then the fourth rename fails (a file system error between the two phases):
    the three files already renamed get their earlier content back, so the outputs are all old, and
    neither temporary files nor backups are left."""
    before = snapshot(generated)
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config.setdefault("generate", {})["role_path"] = "/elsewhere/"
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(config), encoding="utf-8")
    real_replace = os.replace
    calls = []

    def replace(source: Any, target: Any) -> None:
        calls.append(target)
        if len(calls) == 4:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(source, target)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace)
        code, out, err = iamscope("generate", state, "--config", other, "--out", generated, "--quiet")
    assert (code, out) == (2, "")
    assert err.endswith(": cannot write: Input/output error\n"), err
    assert len(calls) == 4 + 3  # four renames forward, three back
    assert snapshot(generated) == before
