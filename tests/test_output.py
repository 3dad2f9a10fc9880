"""`scan --output FILE` (iamscope.output): the report replaces the file atomically, a symlink is followed
and kept, the file keeps its mode (a new one gets the umask's, as open(2) with 0666 would), a FIFO is
written in place, and an output directory that does not exist is one line and exit 2. A report in
pieces is written by a second thread, in order, and a failure on either side leaves the old file."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iamscope import output
from iamscope.cli import main
from iamscope.errors import UsageError
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


# --- pieces written by a second thread while the next are made (iamscope.output._Writer) -------------


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Batches of 10 characters and a writeback nudge every 25, so a short text crosses many of both;
    returns the file descriptors the nudges were for."""
    nudged: list[int] = []
    monkeypatch.setattr(output, "_BATCH", 10)
    monkeypatch.setattr(output, "_WRITEBACK_EVERY", 25)
    monkeypatch.setattr(output, "_start_writeback", nudged.append)
    return nudged


def writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "iamscope-writer"]


def test_pieces_across_many_batches_are_written_in_order(small_batches: list[int], tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    pieces = [f"piece {i:03d}\n" for i in range(200)] + ["é and 日本 as UTF-8\n", "x" * 1000, ""]
    output.write_atomic(target, iter(pieces))
    assert target.read_bytes() == "".join(pieces).encode("utf-8")
    assert len(small_batches) >= 10  # the disk was nudged as the file grew, not only at the close
    assert writer_threads() == []
    assert leftovers(tmp_path) == []


def test_a_write_failing_in_the_writing_thread_is_one_line_and_keeps_the_old_file(
    small_batches: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("the earlier report\n", encoding="utf-8")
    made: list[int] = []

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def pieces() -> Iterator[str]:
        for i in range(10_000):
            made.append(i)
            yield f"piece {i}\n"

    monkeypatch.setattr(output, "_start_writeback", full)
    with pytest.raises(UsageError) as failed:
        output.write_atomic(target, pieces())
    assert str(failed.value) == f"{target}: cannot write: No space left on device"
    assert len(made) < 10_000  # the rest of the report was not made once the disk had failed
    assert target.read_text(encoding="utf-8") == "the earlier report\n"
    assert writer_threads() == []
    assert leftovers(tmp_path) == []


def test_an_error_making_the_pieces_keeps_the_old_file(small_batches: list[int], tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("the earlier report\n", encoding="utf-8")

    def pieces() -> Iterator[str]:
        yield from (f"piece {i}\n" for i in range(100))
        raise RuntimeError("the renderer failed")

    with pytest.raises(RuntimeError, match="the renderer failed"):
        output.write_atomic(target, pieces())
    assert target.read_text(encoding="utf-8") == "the earlier report\n"
    assert writer_threads() == []
    assert leftovers(tmp_path) == []


def test_pieces_to_standard_output_come_in_order(
    small_batches: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    pieces = [f"line {i}\n" for i in range(500)]
    output.emit(iter(pieces), None)
    assert capsys.readouterr().out == "".join(pieces)
    assert small_batches == []  # standard output is not a file to sync


@pytest.mark.skipif(
    not Path("/dev/full").exists(), reason="no /dev/full (a Linux device) to stand for a full disk"
)
def test_standard_output_on_a_full_disk_is_one_line_exit_2(state: Path, tmp_path: Path) -> None:
    with Path("/dev/full").open("w") as full:
        ran = subprocess.run(
            [sys.executable, "-m", "iamscope", "scan", str(state), "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
    assert (ran.returncode, ran.stderr) == (
        2,
        "iamscope: error: standard output: cannot write: No space left on device\n",
    )
