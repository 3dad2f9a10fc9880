"""Reading a large YAML file a document, and a list item, at a time, as jsonstream does for JSON.

`kubectl get pods -A -o yaml` of a 150,000-pod cluster is about a gigabyte of text; composed whole, its
nodes and values need twenty times that. Here the text is split on lines where YAML's block layout
puts the boundaries (document markers at column 0, the entries of a top-level `items:` block
sequence), each piece is parsed by yamlload.load_documents as it comes, and each list entry is handed
to a callback that may keep a reduced copy. Only the current document's other lines and a batch of
entries are ever whole.

The split is on layout alone, so it is checked by the parse: a piece that does not parse, or parses to
something other than the layout promised (an alias to an anchor in another entry, a quoted scalar
running over a line the split cut at), raises NotStreamable, and the caller reads the file whole, which
either gives the same data or the error with its exact place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from iamscope.errors import InputError
from iamscope.yamlload import load_documents

OnItem = Callable[[Any, Mapping[str, Any]], Any]

BATCH = 1024 * 1024  # characters of list entries parsed together (one loader per batch, not per entry)
_ITEMS = re.compile(r"items:[ \t]*(?:#.*)?\Z")  # the top-level key, its value on the lines below
_ENTRY = re.compile(r"( *)-(?:[ \t]|\Z)")  # a block sequence entry, at its indentation


class NotStreamable(Exception):
    """The text is not laid out as this reader splits it, or a piece of it does not parse: read it whole."""


def _marker(line: str, mark: str) -> bool:
    """Is `line` (without its line break) the document marker `mark` (`---` or `...`)?"""
    return line.startswith(mark) and (len(line) == 3 or line[3] in " \t")


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


class _Document:
    """The lines of one document as they come, with the entries of its top-level `items:` sequence
    parsed in batches and passed through `on_item`."""

    def __init__(self, first_line: int, source: str, on_item: OnItem) -> None:
        self.first_line = first_line  # 1-based line of the file the document's text starts on
        self.source = source
        self.on_item = on_item
        self.lines: list[str] = []  # its lines but the items block ("items: []" in its place)
        self.items: list[Any] | None = None  # the entries, once an `items:` block sequence began
        self.seen: Mapping[str, Any] = {}  # the top-level keys before `items:`
        self.batch: list[str] = []
        self.batch_size = 0

    def parse(self, text: str) -> list[tuple[int, Any]]:
        try:
            return load_documents(text, source=self.source)
        except InputError:
            raise NotStreamable from None

    def begin_items(self, items_line: str) -> None:
        parsed = self.parse("".join(self.lines)) if self.lines else []
        head = parsed[0][1] if parsed else None
        if len(parsed) > 1 or (parsed and not isinstance(head, dict)):
            raise NotStreamable
        self.seen = head or {}
        self.lines.append("items: []" + items_line[len(_bare(items_line)) :])
        self.items = []

    def add_entry_line(self, line: str, starts_entry: bool) -> None:
        if starts_entry and self.batch_size >= BATCH:
            self.flush_entries()
        self.batch.append(line)
        self.batch_size += len(line)

    def flush_entries(self) -> None:
        if not self.batch:
            return
        parsed = self.parse("".join(self.batch))
        self.batch, self.batch_size = [], 0
        if len(parsed) != 1 or not isinstance(parsed[0][1], list) or self.items is None:
            raise NotStreamable
        self.items.extend(self.on_item(entry, self.seen) for entry in parsed[0][1])

    def finish(self) -> list[tuple[int, Any]]:
        """The document as load_documents gives it: (start line in the file, data), or nothing."""
        self.flush_entries()
        parsed = self.parse("".join(self.lines))
        offset = self.first_line - 1
        if self.items is None:
            return [(line + offset, data) for line, data in parsed]
        if len(parsed) != 1 or not isinstance(parsed[0][1], dict) or parsed[0][1].get("items") != []:
            raise NotStreamable
        line, data = parsed[0]
        data["items"] = self.items
        return [(line + offset, data)]


def stream_yaml(lines: Iterable[str], *, source: str, on_item: OnItem) -> Iterator[tuple[int, Any]]:
    """Each document of the YAML text in `lines` (each with its line break) as (1-based start line,
    data), the same as yamlload.load_documents gives for the whole text, but with every entry of a
    top-level `items:` block sequence replaced by `on_item(entry, seen)` (`seen`: the top-level keys
    before it) as soon as its batch is parsed. Raises NotStreamable where the text must be read whole."""
    document = _Document(1, source, on_item)
    pending: list[str] = []  # an `items:` line, and the blank and comment lines after it
    indent: str | None = None  # the items' indentation, once the first entry is met
    deeper = ""
    for number, line in enumerate(lines, 1):
        if indent is not None:  # within the items block
            if line.startswith(deeper):  # the common case: a line inside an entry
                document.add_entry_line(line, False)
                continue
            bare = _bare(line)
            stripped = bare.lstrip(" ")
            if not stripped or stripped[0] in "#\t":  # blank, a comment, or text a parse will judge
                document.add_entry_line(line, False)
                continue
            if len(bare) - len(stripped) == len(indent) and _ENTRY.match(bare):
                document.add_entry_line(line, True)
                continue
            indent = None  # the next top-level key, or a marker: the block is over
            document.flush_entries()
        elif pending:  # after `items:`, before its value
            bare = _bare(line)
            stripped = bare.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                pending.append(line)
                continue
            entry = _ENTRY.match(bare)
            if entry is not None:  # (a `---` marker is no entry: a `-` there is followed by `-`)
                document.begin_items(pending[0])
                indent = entry.group(1)
                deeper = indent + " "
                document.add_entry_line(line, True)
                pending = []
                continue
            document.lines += pending  # `items:` with another value: an ordinary key
            pending = []
        bare = _bare(line)
        if bare.startswith("%"):
            raise NotStreamable  # a directive: rare enough to be left to the whole-text reader
        if _marker(bare, "---"):
            yield from document.finish()
            document = _Document(number, source, on_item)
            document.lines.append(line)
        elif _marker(bare, "..."):
            document.lines.append(line)
            yield from document.finish()
            document = _Document(number + 1, source, on_item)
        elif document.items is None and _ITEMS.match(bare):
            pending = [line]
        else:
            document.lines.append(line)
    document.lines += pending
    yield from document.finish()
