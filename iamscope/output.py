"""Writing results: to standard output, or to a file atomically (a temporary file in the same
directory renamed over the target), so a pipeline never sees half a report. A symlink is followed
(the file it names is replaced), the file keeps its mode (a new one gets the umask's), and a target
that is not a regular file (a pipe, /dev/stdout) is written in place."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from iamscope.errors import UsageError


def _mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path, text: str) -> None:
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        try:
            with target.open("w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        except OSError as error:
            raise UsageError(f"{path}: cannot write: {error.strerror}") from None
        return
    directory = target.parent
    if not directory.is_dir():
        raise UsageError(f"{path}: the directory {directory} does not exist")
    mode = _mode(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise UsageError(f"{path}: cannot write: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write: {error.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(output, text)
