"""Reading one large JSON document without ever holding its whole text or its whole parse: the file is
decoded a chunk at a time, and each element of one top-level list (a Kubernetes List's `items`, or a
top-level array) is handed to a callback as soon as it is parsed, which may keep a reduced copy.

A 150,000-pod `kubectl get pods -A -o json` is about 2 GB; `json.loads` of it needs the bytes, the
text and every object at once (over 5 GB). Here only one chunk of text and one item are alive beyond
what the callback keeps. Every value is still parsed by the standard library's C scanner, and a bad
document fails with exactly the message, line and column `json.loads` reports for it."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from iamscope.errors import InputError
from iamscope.files import OTHER_BOMS, json_problem, size_text

CHUNK = 8 * 1024 * 1024  # bytes read at a time; a value longer than the buffer doubles it
# A parse that fails or ends this close to the end of the buffer may only have run out of text.
_MARGIN = 64
_WHITESPACE = " \t\n\r"  # JSON's whitespace, as json.loads skips it
_DECODER = json.JSONDecoder()

OnItem = Callable[[Any, Mapping[str, Any]], Any]


def stream_json(
    handle: BinaryIO,
    *,
    source: str,
    limit: int,
    on_item: OnItem,
    stream_key: str = "items",
    head: bytes = b"",
) -> Any:
    """The document in `handle` (after `head`, bytes already read from it), with each element of the
    top-level object's `stream_key` list, or of a top-level array, replaced by `on_item(element, seen)`
    where `seen` holds the top-level keys parsed before the list (a typed list's `kind` when the API
    server wrote it first). Raises InputError naming `source`, as files.parse_json does."""
    text = _Text(handle, source=source, limit=limit, head=head)
    first = text.peek()
    if first == "{":
        document: Any = _object(text, stream_key, on_item)
    elif first == "[":
        document = _array(text, on_item, {})
    else:
        document = text.value()
    if text.peek() != "":
        raise text.error("Extra data")
    return document


def _object(text: _Text, stream_key: str, on_item: OnItem) -> dict[str, Any]:
    # the same steps and messages as the C scanner's _parse_object_unicode
    text.pos += 1
    document: dict[str, Any] = {}
    char = text.peek()
    if char == "}":
        text.pos += 1
        return document
    while True:
        if char != '"':
            raise text.error("Expecting property name enclosed in double quotes")
        key = text.value()
        if text.peek() != ":":
            raise text.error("Expecting ':' delimiter")
        text.pos += 1
        if key == stream_key and text.peek() == "[":
            document[key] = _array(text, on_item, document)
        else:
            text.peek()
            document[key] = text.value()
        char = text.peek()
        if char == "}":
            text.pos += 1
            return document
        if char != ",":
            raise text.error("Expecting ',' delimiter")
        text.pos += 1
        char = text.peek()


def _array(text: _Text, on_item: OnItem, seen: Mapping[str, Any]) -> list[Any]:
    text.pos += 1
    items: list[Any] = []
    if text.peek() == "]":
        text.pos += 1
        return items
    while True:
        items.append(on_item(text.value(), seen))
        char = text.peek()
        if char == "]":
            text.pos += 1
            return items
        if char != ",":
            raise text.error("Expecting ',' delimiter")
        text.pos += 1
        text.peek()


class _Text:
    """A window on the decoded text: `buf[pos:]` is what is not parsed yet. Text before `pos` is
    dropped at each refill; `line` and `column` say where `buf` starts, for error places."""

    def __init__(self, handle: BinaryIO, *, source: str, limit: int, head: bytes) -> None:
        self.handle = handle
        self.source = source
        self.limit = limit
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line of buf[0]
        self.column = 0  # characters before buf[0] on its line
        self._head = head
        self._pending = b""  # an incomplete UTF-8 sequence at the end of the last chunk
        self._read = 0
        self._started = False
        self._fill()

    # --- parsing ---

    def peek(self) -> str:
        """The next character that is not whitespace (moving past the whitespace), or "" at the end."""
        while True:
            buf, pos = self.buf, self.pos
            end = len(buf)
            while pos < end and buf[pos] in _WHITESPACE:
                pos += 1
            self.pos = pos
            if pos < end:
                return buf[pos]
            if not self._fill():
                return ""

    def value(self) -> Any:
        """The JSON value at `pos` (no whitespace before it), parsed by the C scanner."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as error:
                near_end = error.pos >= len(self.buf) - _MARGIN or error.msg.startswith("Unterminated string")
                if near_end and not self.eof:
                    self._fill()  # moves the window: parse again, and judge on the new text
                    continue
                raise self.error(error.msg, error.pos) from None
            except RecursionError:
                raise InputError("JSON nested too deeply", source=self.source) from None
            except ValueError as error:
                if "integer string conversion" in str(error):
                    raise InputError(
                        "invalid JSON: a number with too many digits", source=self.source
                    ) from None
                raise InputError(f"invalid JSON: {error}", source=self.source) from None
            # a number (or the whole value) may go on in the next chunk
            if end >= len(self.buf) - _MARGIN and not self.eof:
                self._fill()
                continue
            self.pos = end
            return value

    def error(self, message: str, pos: int | None = None) -> InputError:
        line, column = self._place(self.buf, self.pos if pos is None else pos)
        return InputError(
            f"invalid JSON: {json_problem(message)}", source=self.source, where=f"line {line} column {column}"
        )

    def _place(self, buf: str, pos: int) -> tuple[int, int]:
        newlines = buf.count("\n", 0, pos)
        if newlines:
            return self.line + newlines, pos - buf.rfind("\n", 0, pos)
        return self.line, self.column + pos + 1

    # --- reading ---

    def _fill(self) -> bool:
        """Append the next chunk of text, dropping what was parsed; False at the end of the input."""
        if self.eof:
            return False
        # a value longer than what is buffered: read at least as much again, so a long value costs
        # a number of re-parses logarithmic in its length
        want = max(CHUNK, len(self.buf) - self.pos)
        try:
            chunk = self._head + self.handle.read(want)
        except OSError as error:
            raise InputError(f"cannot read: {error.strerror}", source=self.source) from None
        self._head = b""
        while not self._started and 0 < len(chunk) < 4:  # enough to see any byte-order mark
            more = self.handle.read(4 - len(chunk))
            if not more:
                break
            chunk += more
        self._read += len(chunk)
        if self._read > self.limit:
            raise InputError(f"larger than {size_text(self.limit)}", source=self.source)
        if not self._started:
            chunk = self._start(chunk)
        nul = chunk.find(b"\x00")
        if nul >= 0:
            at = self._read - len(chunk) + nul
            raise InputError(f"binary data, not text (a NUL byte at byte {at})", source=self.source)
        self.eof = not chunk
        data = self._pending + chunk
        try:
            decoded, used = codecs.utf_8_decode(data, "strict", self.eof)
        except UnicodeDecodeError as error:
            raise self._not_utf8(data, error) from None
        self._pending = data[used:]
        self._drop_parsed()
        self.buf += decoded
        return bool(decoded) or not self.eof

    def _start(self, chunk: bytes) -> bytes:
        self._started = True
        for bom, encoding in OTHER_BOMS:
            if chunk.startswith(bom):
                raise InputError(
                    f"{encoding} text (byte-order mark {bom.hex(' ').upper()}); iamscope reads UTF-8 "
                    f"(convert it, e.g. iconv -f {encoding} -t UTF-8)",
                    source=self.source,
                )
        return chunk[len(codecs.BOM_UTF8) :] if chunk.startswith(codecs.BOM_UTF8) else chunk

    def _drop_parsed(self) -> None:
        buf, pos = self.buf, self.pos
        if not pos:
            return
        newlines = buf.count("\n", 0, pos)
        if newlines:
            self.line += newlines
            self.column = pos - buf.rfind("\n", 0, pos) - 1
        else:
            self.column += pos
        self.buf = buf[pos:]
        self.pos = 0

    def _not_utf8(self, data: bytes, error: UnicodeDecodeError) -> InputError:
        # the place of the first byte that is not UTF-8, counted as the whole-file decode counts it
        valid = data[: error.start].decode("utf-8")
        line, column = self._place(self.buf + valid, len(self.buf) + len(valid))
        return InputError(
            f"not UTF-8 text (byte 0x{data[error.start]:02X})",
            source=self.source,
            where=f"line {line} column {column}",
        )
