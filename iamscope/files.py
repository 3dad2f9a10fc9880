"""Reading input files the way every command should: UTF-8 (a byte-order mark is fine), regular files
or standard input only, bounded in size, and every failure one InputError naming the file and, for
JSON, the line and column. Nothing here knows what the content means."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

from iamscope.errors import InputError, UsageError

STDIN = "-"
DEFAULT_LIMIT = 64 * 1024 * 1024


class InputReader:
    """Reads named inputs; standard input (`-`) can be read once per reader."""

    def __init__(self) -> None:
        self._stdin_used = False

    def read_text(self, path: Path | str, *, limit: int = DEFAULT_LIMIT) -> str:
        name = str(path)
        if name == STDIN:
            if self._stdin_used:
                raise UsageError("standard input (-) can be given only once")
            self._stdin_used = True
            data = sys.stdin.buffer.read(limit + 1)
        else:
            data = _read_file(Path(name), limit)
        if len(data) > limit:
            raise InputError(f"larger than {limit // (1024 * 1024)} MiB", source=name)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(f"not UTF-8 text (byte {error.start})", source=name) from None

    def read_json(self, path: Path | str, *, limit: int = DEFAULT_LIMIT) -> Any:
        name = str(path)
        text = self.read_text(path, limit=limit)
        try:
            return json.loads(text)
        except RecursionError:
            raise InputError("JSON nested too deeply", source=name) from None
        except json.JSONDecodeError as error:
            where = f"line {error.lineno} column {error.colno}"
            raise InputError(f"invalid JSON: {error.msg}", source=name, where=where) from None
        except ValueError as error:  # e.g. an integer beyond Python's digit limit
            raise InputError(f"invalid JSON: {error}", source=name) from None


def _read_file(path: Path, limit: int) -> bytes:
    name = str(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError("no such file", source=name) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", source=name) from None
    if stat.S_ISDIR(mode):
        raise InputError("is a directory, not a file", source=name)
    if not stat.S_ISREG(mode):
        # a FIFO or device could block forever or never end
        raise InputError("not a regular file", source=name)
    try:
        with path.open("rb") as handle:
            return handle.read(limit + 1)
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", source=name) from None
