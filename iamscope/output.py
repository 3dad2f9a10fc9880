"""Writing results: to standard output, or to a file atomically (a temporary file in the same
directory renamed over the target), so a pipeline never sees half a report. A symlink is followed
(the file it names is replaced), the file keeps its mode (a new one gets the umask's), and a target
that is not a regular file (a pipe, /dev/stdout) is written in place. Several files are written all
or none: staged first, then renamed, and renamed back if one rename fails."""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from iamscope.errors import UsageError

NAME_MAX = 255  # bytes in one path component on Linux and macOS file systems


def _mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


Text = str | Iterable[str]  # a whole text, or its pieces in order (written as they come)


_BATCH = 16 << 20  # characters of text handed to the writing thread at a time
_AHEAD = 2  # batches waiting for it: bounds the memory the text in flight takes
_WRITEBACK_EVERY = 64 << 20  # characters written between nudges to the disk (see _start_writeback)


def _start_writeback(fd: int) -> None:
    """Have the kernel start writing the file's dirty pages to disk, without waiting for it: Linux's
    POSIX_FADV_DONTNEED starts writeback before it drops the pages that are clean (mm/fadvise.c).
    Elsewhere nothing: the closing fsync writes everything."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        advise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _write(handle: TextIO, text: Text, *, durable: bool = False) -> None:
    """Pieces are written by a second thread while the next are made: a write blocks in the kernel
    (without the GIL) once the page cache holds as much unwritten data as it allows, which at the
    largest scale is most of a multi-gigabyte report, so rendering and the disk overlap instead of
    taking turns. Pieces go over in batches of some megabytes, for few hand-overs. `durable` (a
    regular file, synced to disk at the end): the thread also starts the disk writing as it goes, so
    the disk is busy while the rest is made rather than only at the closing fsync."""
    if isinstance(text, str):
        handle.write(text)
        return
    writer = _Writer(handle, durable=durable)
    try:
        batch: list[str] = []
        size = 0
        for piece in text:
            batch.append(piece)
            size += len(piece)
            if size >= _BATCH:
                writer.put(batch)
                batch, size = [], 0
        writer.put(batch)
    except BaseException:
        writer.abandon()
        raise
    writer.close()


class _Writer:
    """A thread writing the batches it is given to `handle`, in order. Its first error is raised in
    the caller's thread, at the next batch or at close; later batches are then dropped unwritten."""

    def __init__(self, handle: TextIO, *, durable: bool) -> None:
        self.handle = handle
        self.durable = durable
        self.since_writeback = 0
        self.batches: queue.Queue[list[str] | None] = queue.Queue(maxsize=_AHEAD)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="iamscope-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is not None:
                continue  # keep taking batches, so the caller never waits on a full queue
            try:
                for piece in batch:
                    self.handle.write(piece)
                    self.since_writeback += len(piece)
                if self.durable and self.since_writeback >= _WRITEBACK_EVERY:
                    self.handle.flush()
                    _start_writeback(self.handle.fileno())
                    self.since_writeback = 0
            except BaseException as error:  # handed to the caller's thread
                self.error = error

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def put(self, batch: list[str]) -> None:
        self._raise()
        if batch:
            self.batches.put(batch)

    def close(self) -> None:
        """Wait until everything given is written."""
        self.batches.put(None)
        self.thread.join()
        self._raise()

    def abandon(self) -> None:
        """Stop, after the batches already given (the caller is failing with an error of its own)."""
        self.batches.put(None)
        self.thread.join()


def _staged(target: Path, text: Text, shown: Path) -> Path:
    """`text` in a new temporary file beside `target`, flushed to disk, with the target's mode."""
    mode = _mode(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".iamscope-", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise UsageError(f"{shown}: cannot write: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            _write(handle, text, durable=True)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise UsageError(f"{shown}: cannot write: {error.strerror}") from None
        raise
    return Path(tmp)


def _target(path: Path) -> tuple[Path, bool]:
    """The file a write replaces (symlinks followed), and whether it is a regular file or absent."""
    target = Path(os.path.realpath(path))
    if len(target.name.encode()) > NAME_MAX:
        raise UsageError(f"{path}: the file name is longer than the {NAME_MAX} bytes a file system allows")
    try:
        regular = not target.exists() or target.is_file()
    except OSError as error:
        raise UsageError(f"{path}: cannot write: {error.strerror}") from None
    if not target.parent.is_dir():
        raise UsageError(f"{path}: the directory {target.parent} does not exist")
    return target, regular


def write_atomic(path: Path, text: Text) -> None:
    write_all_atomic({path: text})


def write_all_atomic(files: Mapping[Path, Text]) -> None:
    """Write every file or none: all are staged in temporary files first, and only once all of them
    are on disk are they renamed over their targets (a rename within a directory is atomic)."""
    staged: list[tuple[Path, Path, Path]] = []
    try:
        for path, text in files.items():
            target, regular = _target(path)
            if not regular:  # a pipe or a device: nothing to rename over
                try:
                    with target.open("w", encoding="utf-8", newline="\n") as handle:
                        _write(handle, text)
                except OSError as error:
                    raise UsageError(f"{path}: cannot write: {error.strerror}") from None
                continue
            staged.append((_staged(target, text, path), target, path))
        _swap_in(staged)
    finally:
        for tmp, _, _ in staged:
            tmp.unlink(missing_ok=True)


def _backup(target: Path) -> Path | None:
    """A second name for the file `target` holds now (a hard link, or a copy where links are not
    supported), or None when there is no file yet."""
    if not target.is_file():
        return None
    backup = target.parent / f".iamscope-{secrets.token_hex(8)}.bak"
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
    return backup


def _swap_in(staged: list[tuple[Path, Path, Path]]) -> None:
    """Rename every staged file over its target; when one rename fails, put back what the earlier
    ones replaced (and remove the files they created), so the targets are all new or all old."""
    done: list[tuple[Path, Path | None]] = []
    try:
        for tmp, target, path in staged:
            try:
                backup = _backup(target)
            except OSError as error:
                raise UsageError(f"{path}: cannot write: {error.strerror}") from None
            try:
                os.replace(tmp, target)
            except OSError as error:
                if backup is not None:
                    backup.unlink(missing_ok=True)
                raise UsageError(f"{path}: cannot write: {error.strerror}") from None
            done.append((target, backup))
    except BaseException:
        for target, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is None:
                    target.unlink()
                else:
                    os.replace(backup, target)
        raise
    finally:
        for _, backup in done:
            if backup is not None:
                backup.unlink(missing_ok=True)


def write_tree(out: Path, files: Mapping[str, str]) -> None:
    """Files given by their path relative to `out`, all or none (see write_all_atomic), creating the
    directories they need."""
    for relative in files:
        parent = (out / relative).parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"{parent}: cannot create the directory: {error.strerror}") from None
    write_all_atomic({out / relative: text for relative, text in sorted(files.items())})


def emit(text: Text, output: Path | None) -> None:
    """To standard output, or atomically to `output`; pieces are written as they come, so a report
    of gigabytes is never whole in memory."""
    if output is None:
        try:
            _write(sys.stdout, text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader has gone (`| head`): not an error of ours
        except OSError as error:  # a full disk behind a redirection, say
            raise UsageError(f"standard output: cannot write: {error.strerror}") from None
    else:
        write_atomic(output, text)
