"""Writing results: to standard output, or to a file atomically (a temporary file in the same
directory renamed over the target), so a pipeline never sees half a report. A symlink is followed
(the file it names is replaced), the file keeps its mode (a new one gets the umask's), and a target
that is not a regular file (a pipe, /dev/stdout) is written in place. Several files are written all
or none: staged first, then renamed, and renamed back if one rename fails."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import sys
import tempfile
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


def _write(handle: TextIO, text: Text) -> None:
    if isinstance(text, str):
        handle.write(text)
    else:
        for piece in text:
            handle.write(piece)


def _staged(target: Path, text: Text, shown: Path) -> Path:
    """`text` in a new temporary file beside `target`, flushed to disk, with the target's mode."""
    mode = _mode(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".iamscope-", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise UsageError(f"{shown}: cannot write: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            _write(handle, text)
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
        _write(sys.stdout, text)
        sys.stdout.flush()
    else:
        write_atomic(output, text)
