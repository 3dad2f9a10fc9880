"""Reading Kubernetes manifests from files: multi-document YAML, JSON objects, `kind: List` and typed
lists (`PodList`) as kubectl and the API print them, Helm `template` output. Returns raw objects with
their location; what they mean is transform.py's job."""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from iamscope.errors import InputError
from iamscope.files import STDIN, InputReader, decode, size_text
from iamscope.gcpause import paused_gc
from iamscope.jsonstream import stream_json
from iamscope.k8s.essentials import Shared, essentials
from iamscope.model import Location, Warning
from iamscope.sources import manifest_files
from iamscope.yamlload import load_documents
from iamscope.yamlstream import NotStreamable, stream_yaml

MANIFEST_LIMIT = 4 * 1024 * 1024 * 1024  # a 150,000-pod listing is about 2 GB
# A YAML file this large is read a document and a list entry at a time (yamlstream); a smaller one whole.
STREAM_YAML_FROM = 32 * 1024 * 1024
_JSON_SPACE = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class RawObject:
    data: dict[str, Any]
    location: Location


def _is_json(name: str) -> bool:
    return name.lower().endswith(".json")


def _yaml(name: str, text: str) -> list[tuple[int | None, Any]]:
    return [(line, data) for line, data in load_documents(text, source=name)]


def _read_stdin(reader: InputReader, shared: Shared) -> list[tuple[int | None, Any]]:
    """Standard input: JSON (its first character `{` or `[`, as `kubectl get -o json` prints) read as
    a stream like a .json file, anything else as YAML."""
    with reader.open_binary(STDIN) as handle:
        head = b""
        start = b""
        while not start and len(head) <= MANIFEST_LIMIT:
            more = handle.read(64 * 1024)
            if not more:
                break
            head += more
            start = head.removeprefix(codecs.BOM_UTF8).lstrip(_JSON_SPACE)[:1]
        if start in (b"{", b"["):
            document = stream_json(
                handle,
                source=STDIN,
                limit=MANIFEST_LIMIT,
                on_item=partial(_stream_item, shared=shared),
                head=head,
            )
            return [(None, document)]
        data = head + handle.read(MANIFEST_LIMIT + 1 - len(head))
    if len(data) > MANIFEST_LIMIT:
        raise InputError(f"larger than {size_text(MANIFEST_LIMIT)}", source=STDIN)
    return _yaml(STDIN, decode(data, source=STDIN))


def _stream_item(item: Any, seen: Mapping[str, Any], shared: Shared) -> Any:
    """One element of a list as it is parsed: given its list's kind when it has none (a `PodList`
    the API server wrote, kind first), and reduced at once to what the analysis reads."""
    if not isinstance(item, dict):
        return item
    if "kind" not in item:
        list_kind = seen.get("kind")
        if not (isinstance(list_kind, str) and list_kind.endswith("List") and len(list_kind) > 4):
            return item  # the list's kind may come after its items: _flatten decides
        item["kind"] = list_kind[: -len("List")]
    return essentials(item, shared) if isinstance(item.get("kind"), str) else item


def _read_json(name: str, reader: InputReader, shared: Shared) -> Any:
    """A JSON file read as a stream, its list items reduced one by one as they are parsed."""
    with reader.open_binary(name) as handle:
        on_item = partial(_stream_item, shared=shared)
        return stream_json(handle, source=name, limit=MANIFEST_LIMIT, on_item=on_item)


def _read_yaml(name: str, reader: InputReader, shared: Shared) -> list[tuple[int | None, Any]]:
    """A YAML file's documents. A large one is read as a stream, its list entries reduced one batch at a
    time as they are parsed (`kubectl get pods -A -o yaml` of the largest clusters is gigabytes, and
    twenty times that once parsed whole); where the stream cannot be split, or a piece is not valid,
    the file is read whole, which gives the same data or the error with its place."""
    try:
        size = os.stat(name).st_size
    except OSError:
        size = 0  # the whole-text reader says what is wrong
    if STREAM_YAML_FROM <= size <= MANIFEST_LIMIT:
        try:
            with reader.open_binary(name) as handle:
                lines = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
                on_item = partial(_stream_item, shared=shared)
                return list(stream_yaml(lines, source=name, on_item=on_item))
        except (NotStreamable, UnicodeDecodeError):
            pass
    return _yaml(name, reader.read_text(name, limit=MANIFEST_LIMIT))


def _flatten(data: Any, location: Location, warnings: list[Warning], shared: Shared) -> Iterator[RawObject]:
    """The objects of one document, in order: lists and `kind: List` items are opened (walked with a
    stack, not recursion, so no nesting depth the parser accepts can overflow Python's stack)."""
    where = str(location)
    stack: list[tuple[Any, str | None]] = [(data, None)]
    while stack:
        data, item_kind = stack.pop()
        if isinstance(data, list):
            stack.extend((item, item_kind) for item in reversed(data))
            continue
        if not isinstance(data, dict):
            warnings.append(Warning(source=where, message="not a Kubernetes object (not a mapping); skipped"))
            continue
        kind = data.get("kind", item_kind)
        items = data.get("items")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            inner = kind[: -len("List")] or None  # "PodList" items carry no kind of their own
            stack.extend(
                (
                    {**item, "kind": inner}
                    if isinstance(item, dict) and "kind" not in item and inner
                    else item,
                    inner,
                )
                for item in reversed(items)
            )
            continue
        if not isinstance(kind, str) or not kind:
            warnings.append(Warning(source=where, message="not a Kubernetes object (no kind); skipped"))
            continue
        if kind != data.get("kind"):
            data = {**data, "kind": kind}
        yield RawObject(essentials(data, shared), location)


def read_manifests(paths: Iterable[str | Path], reader: InputReader) -> tuple[list[RawObject], list[Warning]]:
    objects: list[RawObject] = []
    warnings: list[Warning] = []
    # what is read forms no reference cycles: a collection pass over millions of parsed objects
    # would only walk them again and again (load_inventory pauses it too; a direct caller may not)
    shared = Shared()
    with paused_gc():
        for name in manifest_files(paths):
            if name == STDIN:
                documents = _read_stdin(reader, shared)
            elif _is_json(name):
                documents = [(None, _read_json(name, reader, shared))]
            else:
                documents = _read_yaml(name, reader, shared)
            for line, data in documents:
                objects.extend(_flatten(data, Location(file=name, line=line), warnings, shared))
    return objects, warnings
