"""Reading Kubernetes manifests from files: multi-document YAML, JSON objects, `kind: List` and typed
lists (`PodList`) as kubectl and the API print them, Helm `template` output. Returns raw objects with
their location; what they mean is transform.py's job."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamscope.errors import InputError
from iamscope.files import STDIN, InputReader
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
        try:
            return [(None, json.loads(text))]
        except RecursionError:
            raise InputError("JSON nested too deeply", source=name) from None
        except json.JSONDecodeError as error:
            where = f"line {error.lineno} column {error.colno}"
            raise InputError(f"invalid JSON: {error.msg}", source=name, where=where) from None
    return [(line, data) for line, data in load_documents(text, source=name)]


def _flatten(
    data: Any, location: Location, item_kind: str | None, warnings: list[Warning]
) -> Iterator[RawObject]:
    where = str(location)
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item, location, item_kind, warnings)
        return
    if not isinstance(data, dict):
        warnings.append(Warning(source=where, message="not a Kubernetes object (not a mapping); skipped"))
        return
    kind = data.get("kind", item_kind)
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        inner = kind[: -len("List")] or None  # "PodList" items carry no kind of their own
        for item in items:
            if isinstance(item, dict) and "kind" not in item and inner:
                item = {**item, "kind": inner}
            yield from _flatten(item, location, inner, warnings)
        return
    if not isinstance(kind, str) or not kind:
        warnings.append(Warning(source=where, message="not a Kubernetes object (no kind); skipped"))
        return
    if kind != data.get("kind"):
        data = {**data, "kind": kind}
    yield RawObject(data, location)


def read_manifests(paths: Iterable[str | Path], reader: InputReader) -> tuple[list[RawObject], list[Warning]]:
    objects: list[RawObject] = []
    warnings: list[Warning] = []
    for name in manifest_files(paths):
        text = reader.read_text(name, limit=MANIFEST_LIMIT)
        for line, data in _parse(name, text):
            objects.extend(_flatten(data, Location(file=name, line=line), None, warnings))
    return objects, warnings
