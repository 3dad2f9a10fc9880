"""Reading Kubernetes manifests from files: multi-document YAML, JSON objects, `kind: List` and typed
lists (`PodList`) as kubectl and the API print them, Helm `template` output. Returns raw objects with
their location; what they mean is transform.py's job."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamscope.files import STDIN, InputReader, parse_json
from iamscope.model import Location, Warning
from iamscope.sources import manifest_files
from iamscope.yamlload import load_documents

MANIFEST_LIMIT = 4 * 1024 * 1024 * 1024  # a 150,000-pod listing is about 2 GB


@dataclass(frozen=True, slots=True)
class RawObject:
    data: dict[str, Any]
    location: Location


def _is_json(name: str, text: str) -> bool:
    if name.lower().endswith(".json"):
        return True
    return name == STDIN and text.lstrip()[:1] in ("{", "[")


def _parse(name: str, text: str) -> list[tuple[int | None, Any]]:
    if _is_json(name, text):
        return [(None, parse_json(text, source=name))]
    return [(line, data) for line, data in load_documents(text, source=name)]


def _flatten(data: Any, location: Location, warnings: list[Warning]) -> Iterator[RawObject]:
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
        yield RawObject(data, location)


def read_manifests(paths: Iterable[str | Path], reader: InputReader) -> tuple[list[RawObject], list[Warning]]:
    objects: list[RawObject] = []
    warnings: list[Warning] = []
    for name in manifest_files(paths):
        text = reader.read_text(name, limit=MANIFEST_LIMIT)
        for line, data in _parse(name, text):
            objects.extend(_flatten(data, Location(file=name, line=line), warnings))
    return objects, warnings
