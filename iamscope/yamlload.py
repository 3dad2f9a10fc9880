"""YAML documents with the line each starts on, through libyaml's C loader when it is installed.
Only the safe tag set is constructed; every parse failure is one InputError naming file and line.

What Kubernetes' own YAML reader (go-yaml, through sigs.k8s.io/yaml) refuses is refused here too: a
key given twice in one mapping ("already set in map"), an anchor used inside itself, and aliases that
expand a small document into a huge one ("excessive aliasing", the "billion laughs" bomb), which
would otherwise hang whatever walks the data."""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from iamscope.errors import InputError

try:
    _Base: type[Any] = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Base = yaml.SafeLoader

MERGE_TAG = "tag:yaml.org,2002:merge"
# where an alias (*name) may start: a `*` after a space, a line break or a flow indicator (a plain
# scalar cannot start with `*`); quoted text can match too, which only costs a check
_ALIAS = re.compile(r"(?:^|[\s\[{,])\*", re.MULTILINE)
# Aliases may add this many nodes to a document, and as many again as ten times its own nodes; an
# alias bomb of a few hundred bytes adds billions.
ALIAS_ALLOWANCE = 100_000
ALIAS_FACTOR = 10


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader without YAML 1.1's timestamp type: Kubernetes (sigs.k8s.io/yaml) keeps an
    unquoted 2024-01-01T00:00:00Z as the string it is. A key given twice in one mapping is an error."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._merges = "<<" in stream  # merge keys change a mapping's node once it has been checked
        self._checked: set[int] = set()

    def flatten_mapping(self, node: MappingNode) -> None:
        # checked before merge keys (<<) are folded in: a merged key may be overridden, not an explicit one
        if not (self._merges and id(node) in self._checked):
            if self._merges:
                self._checked.add(id(node))
            _check_duplicates(node)
        super().flatten_mapping(node)


def _check_duplicates(node: MappingNode) -> None:
    values = [key.value for key, _ in node.value]
    try:
        if len(set(values)) == len(values):
            return  # the common case, decided in C
    except TypeError:  # a complex (sequence or mapping) key
        pass
    seen: dict[tuple[str, str], Node] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == MERGE_TAG:
            continue
        first = seen.setdefault((key.tag, key.value), key)
        if first is not key:
            where = f"first at line {first.start_mark.line + 1}"
            raise ConstructorError(None, None, f"duplicate key {_shown(key.value)} ({where})", key.start_mark)


def _guarded(construct: Any) -> Any:
    """A scalar constructor whose Python errors (`!!int abc`, `!!bool x`, an integer of 5,000 digits,
    `!!timestamp 2024-13-45`) become a YAML error at the value's place."""

    def guarded(loader: Any, node: ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConstructorError(
                None, None, f"cannot read {_shown(node.value)} as {tag}", node.start_mark
            ) from None

    return guarded


for _tag in ("int", "float", "bool", "timestamp"):
    _full = f"tag:yaml.org,2002:{_tag}"
    _Loader.add_constructor(_full, _guarded(_Base.yaml_constructors[_full]))


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def _shown(value: str, width: int = 40) -> str:
    return repr(value if len(value) <= width else value[:width] + "...")


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_aliases(root: Node, *, source: str, text_size: int) -> None:
    """Refuse an anchor used inside itself, and aliases that blow the document up: count the nodes
    the document has once every alias is expanded, without expanding anything (sizes are memoised
    per node, walked without recursion)."""
    ceiling = ALIAS_ALLOWANCE + ALIAS_FACTOR * text_size  # a node takes at least one character
    sizes: dict[int, int] = {}
    path: set[int] = set()  # the nodes being walked (an alias back to one of them is a cycle)
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, walked = stack.pop()
        key = id(node)
        if walked:
            path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > ceiling:
                break
            sizes[key] = size
            continue
        if key in sizes:
            continue
        path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in path:
                mark = child.start_mark
                raise InputError(
                    "invalid YAML: an anchor is used inside itself (a recursive alias)",
                    source=source,
                    where=f"line {mark.line + 1} column {mark.column + 1}",
                )
            if id(child) not in sizes:
                stack.append((child, False))
    expanded = sizes.get(id(root))
    if expanded is None or expanded > ALIAS_ALLOWANCE + ALIAS_FACTOR * len(sizes):
        raise InputError(
            "invalid YAML: aliases expand the document to more nodes than iamscope reads "
            '(an alias bomb, like "billion laughs")',
            source=source,
            where=f"line {root.start_mark.line + 1}",
        )


def load_documents(text: str, *, source: str) -> list[tuple[int, Any]]:
    """Every document of a YAML stream as (1-based start line, data); empty documents are dropped."""
    loader = _Loader(text)
    documents: list[tuple[int, Any]] = []
    aliases = "&" in text and _ALIAS.search(text) is not None  # an alias needs an anchor
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if aliases:
                _check_aliases(node, source=source, text_size=len(text))
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
