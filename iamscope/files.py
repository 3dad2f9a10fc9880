"""Reading input files the way every command should: UTF-8 (a byte-order mark is fine), regular files
or standard input only, bounded in size, and every failure one InputError naming the file and, for
JSON, the line and column. Nothing here knows what the content means."""

from __future__ import annotations

import codecs
import json
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from iamscope.errors import InputError, UsageError

STDIN = "-"
DEFAULT_LIMIT = 64 * 1024 * 1024

# byte-order marks of encodings other than UTF-8 (UTF-32's first: UTF-32-LE's begins with UTF-16-LE's)
OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


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
            raise InputError(f"larger than {size_text(limit)}", source=name)
        return decode(data, source=name)

    @contextmanager
    def open_binary(self, path: Path | str) -> Iterator[BinaryIO]:
        """The named input as a byte stream, with the same checks and errors as read_text."""
        name = str(path)
        if name == STDIN:
            if self._stdin_used:
                raise UsageError("standard input (-) can be given only once")
            self._stdin_used = True
            yield sys.stdin.buffer
            return
        _check_regular(Path(name))
        try:
            handle = Path(name).open("rb")  # noqa: SIM115 (closed by the with below, after the check)
        except OSError as error:
            raise InputError(f"cannot read: {error.strerror}", source=name) from None
        with handle:
            yield handle

    def read_json(self, path: Path | str, *, limit: int = DEFAULT_LIMIT) -> Any:
        return parse_json(self.read_text(path, limit=limit), source=str(path))


def size_text(size: int) -> str:
    """A size limit as people write it: 64 MiB, 4 GiB, 512 KiB, 100 bytes."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def decode(data: bytes, *, source: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped). Anything else is refused in one line that says
    what it looks like: UTF-16/32 (by its byte-order mark), binary data (a NUL byte, which no manifest,
    snapshot or policy holds), or where the first byte that is not UTF-8 is."""
    for bom, encoding in OTHER_BOMS:
        if data.startswith(bom):
            raise InputError(
                f"{encoding} text (byte-order mark {bom.hex(' ').upper()}); iamscope reads UTF-8 "
                f"(convert it, e.g. iconv -f {encoding} -t UTF-8)",
                source=source,
            )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"binary data, not text (a NUL byte at byte {nul})", source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[start : error.start].decode("utf-8", "replace")) + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[error.start]:02X})",
            source=source,
            where=f"line {line} column {column}",
        ) from None


def parse_json(text: str, *, source: str) -> Any:
    """JSON text to Python values; every failure one InputError naming the file (and line and column)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError("JSON nested too deeply", source=source) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise InputError(f"invalid JSON: {json_problem(error)}", source=source, where=where) from None
    except ValueError as error:
        if "integer string conversion" in str(error):  # Python's guard against quadratic int parsing
            raise InputError("invalid JSON: a number with too many digits", source=source) from None
        raise InputError(f"invalid JSON: {error}", source=source) from None


def json_problem(error: json.JSONDecodeError | str) -> str:
    """The decoder's message without its dangling " at" (the place is said before it)."""
    message = error if isinstance(error, str) else error.msg
    for suffix in (" starting at", " at"):
        if message.endswith(suffix):
            return message[: -len(suffix)]
    return message


def _read_file(path: Path, limit: int) -> bytes:
    name = str(path)
    _check_regular(path)
    try:
        with path.open("rb") as handle:
            return handle.read(limit + 1)
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", source=name) from None


def _check_regular(path: Path) -> None:
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
