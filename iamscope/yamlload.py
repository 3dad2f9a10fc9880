"""YAML documents with the line each starts on, through libyaml's C loader when it is installed.
Only the safe tag set is constructed; every parse failure is one InputError naming file and line."""

from __future__ import annotations

from typing import Any

import yaml

from iamscope.errors import InputError

try:
    _Base: type[Any] = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader without YAML 1.1's timestamp type: Kubernetes (sigs.k8s.io/yaml) keeps an
    unquoted 2024-01-01T00:00:00Z as the string it is."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def load_documents(text: str, *, source: str) -> list[tuple[int, Any]]:
    """Every document of a YAML stream as (1-based start line, data); empty documents are dropped."""
    loader = _Loader(text)
    documents: list[tuple[int, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is not None:
                documents.append((node.start_mark.line + 1, data))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else None
        problem = error.problem or error.context or "malformed"
        raise InputError(f"invalid YAML: {problem}", source=source, where=where) from None
    except yaml.YAMLError as error:
        raise InputError(f"invalid YAML: {error}", source=source) from None
    except RecursionError:
        raise InputError("YAML nested too deeply", source=source) from None
    finally:
        loader.dispose()
    return documents
