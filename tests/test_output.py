"""`scan --output FILE` (iamscope.output): the report replaces the file atomically, a symlink is followed
and kept, the file keeps its mode (a new one gets the umask's, as open(2) with 0666 would), a FIFO is
written in place, and an output directory that does not exist is one line and exit 2."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iamscope.cli import main
from tests.scan.builder import READ, State, allow, objects

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def iamscope(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """The CLI in-process from tmp_path (no ./.iamscope.yaml): (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        code = done.value.code
        return (code if isinstance(code, int) else 0), out, err

    return run


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A clean state: prod/api reads exactly its own secret (scan exits 0)."""
    s = State(tmp_path / "state")
    db = s.secret("prod/db")
    role = s.irsa_role("api", "prod", "api", [allow(READ, db)])
    s.service_account("prod", "api", role)
    s.spc("prod", "api", objects("prod/db"))
    s.workload("Deployment", "prod", "api", "api", "api")
    return s.write()


def report(iamscope: Cli, state: Path) -> str:
    code, out, _ = iamscope("scan", state, "--format", "json")
    assert code == 0
    return out


def leftovers(*directories: Path) -> list[str]:
    """Temporary files write_atomic would leave behind (.<name>.*.tmp)."""
    return sorted(p.name for d in directories for p in d.iterdir() if p.name.endswith(".tmp"))


def test_symlink_is_followed_and_kept(iamscope: Cli, state: Path, tmp_path: Path) -> None:
    expected = report(iamscope, state)
    reports, links = tmp_path / "reports", tmp_path / "links"
    reports.mkdir()
    links.mkdir()
    real = reports / "scan.json"
    real.write_text("old report\n")
    link = links / "latest.json"
    link.symlink_to(Path("..") / "reports" / "scan.json")
    code, out, err = iamscope("scan", state, "--format", "json", "--output", link)
    assert (code, out, err) == (0, "", "")
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("..") / "reports" / "scan.json")
    assert real.read_text() == expected
    assert sorted(p.name for p in links.iterdir()) == ["latest.json"]
    assert leftovers(reports, links) == []


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_existing_file_keeps_its_mode(
    iamscope: Cli, state: Path, tmp_path: Path, umask_022: None, mode: int
) -> None:
    target = tmp_path / "scan.json"
    target.write_text("old\n")
    target.chmod(mode)
    code, _, _ = iamscope("scan", state, "--format", "json", "--output", target)
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_text() == report(iamscope, state)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_umasks_mode(
    iamscope: Cli, state: Path, tmp_path: Path, umask: int, mode: int
) -> None:
    target = tmp_path / "new.json"
    old = os.umask(umask)
    try:
        code, _, _ = iamscope("scan", state, "--format", "json", "--output", target)
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == mode  # 0666 & ~umask, as for any file a program creates
    assert leftovers(tmp_path) == []


def test_fifo_is_written_in_place(iamscope: Cli, state: Path, tmp_path: Path) -> None:
    expected = report(iamscope, state)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []

    def reader() -> None:
        with fifo.open(encoding="utf-8") as handle:
            received.append(handle.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    code, out, err = iamscope("scan", state, "--format", "json", "--output", fifo)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert (code, out, err) == (0, "", "")
    assert received == [expected]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the pipe, not a file renamed over it
    assert leftovers(tmp_path) == []


def test_missing_directory_is_one_line_exit_2(iamscope: Cli, state: Path, tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "scan.json"
    code, out, err = iamscope("scan", state, "--format", "json", "--output", target)
    assert (code, out) == (2, "")
    directory = Path(os.path.realpath(tmp_path)) / "nowhere"
    assert err == f"iamscope: error: {target}: the directory {directory} does not exist\n"
    assert not target.parent.exists()
