"""Issue 8: the streaming JSON reader (iamscope.jsonstream) gives exactly what json.loads gives, and
fails exactly as the whole-file reader fails (message, line and column), whatever the chunk size; it
hands list items over one by one, so a caller can keep a reduced copy of each."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iamscope.jsonstream as jsonstream
from iamscope.errors import InputError
from iamscope.files import decode, parse_json
from iamscope.jsonstream import stream_json

CHUNKS = (1, 2, 3, 7, 64, 1 << 20)


@pytest.fixture(autouse=True)
def _restore_chunk() -> Iterator[None]:
    chunk = jsonstream.CHUNK
    yield
    jsonstream.CHUNK = chunk


def whole(data: bytes) -> tuple[str, Any]:
    """What the whole-file reader (files.decode then files.parse_json) makes of `data`."""
    try:
        return "ok", parse_json(decode(data, source="f.json"), source="f.json")
    except InputError as error:
        return "error", str(error)


def streamed(data: bytes, chunk: int, *, limit: int = 1 << 40) -> tuple[str, Any]:
    jsonstream.CHUNK = chunk
    try:
        return "ok", stream_json(
            io.BytesIO(data), source="f.json", limit=limit, on_item=lambda item, seen: item
        )
    except InputError as error:
        return "error", str(error)


# (bytes, what both readers say): each row is a way a JSON file can be wrong, with json.loads's words
CASES = [
    (b'{"items": [1, 2], "kind": "List"}', ("ok", {"items": [1, 2], "kind": "List"})),
    (b"", ("error", "f.json: line 1 column 1: invalid JSON: Expecting value")),
    (b"  \n ", ("error", "f.json: line 2 column 2: invalid JSON: Expecting value")),
    (b'{"items": [1,]}', ("error", "f.json: line 1 column 14: invalid JSON: Expecting value")),
    (b'{"items": [1 2]}', ("error", "f.json: line 1 column 14: invalid JSON: Expecting ',' delimiter")),
    (
        b'{"a": 1,}',
        ("error", "f.json: line 1 column 9: invalid JSON: Expecting property name enclosed in double quotes"),
    ),
    (b'{"a" 1}', ("error", "f.json: line 1 column 6: invalid JSON: Expecting ':' delimiter")),
    (b'{"items": [{"a": 1}', ("error", "f.json: line 1 column 20: invalid JSON: Expecting ',' delimiter")),
    (b'{"items": [\n  {"a": "x', ("error", "f.json: line 2 column 9: invalid JSON: Unterminated string")),
    (b'{"kind": "List"} {}', ("error", "f.json: line 1 column 18: invalid JSON: Extra data")),
    (b'{"a": "\\q"}', ("error", "f.json: line 1 column 8: invalid JSON: Invalid \\escape")),
    (b"[" * 100_000, ("error", "f.json: JSON nested too deeply")),
    (b'{"a": "\xc3\xa9", "b": "\xff"}', ("error", "f.json: line 1 column 18: not UTF-8 text (byte 0xFF)")),
    (b'{"a": 1}\x00', ("error", "f.json: binary data, not text (a NUL byte at byte 8)")),
    (
        b"\xff\xfe{\x00}\x00",
        (
            "error",
            "f.json: UTF-16 text (byte-order mark FF FE); iamscope reads UTF-8 (convert it, e.g. iconv -f UTF-16 -t UTF-8)",
        ),
    ),
    (b'\xef\xbb\xbf{"items": []}', ("ok", {"items": []})),
    (b"[1e5, 12345678901234567890, -0.5]", ("ok", [1e5, 12345678901234567890, -0.5])),
]


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(c[0][:30]) for c in CASES])
def test_streamed_reads_and_fails_like_the_whole_file(
    data: bytes, expected: tuple[str, Any], chunk: int
) -> None:
    assert whole(data) == expected
    assert streamed(data, chunk) == expected


def test_a_number_with_too_many_digits_is_refused_in_one_line() -> None:
    data = b'{"items": [' + b"1" * 5000 + b"]}"
    assert (
        streamed(data, 64) == whole(data) == ("error", "f.json: invalid JSON: a number with too many digits")
    )


def test_items_are_handed_over_one_by_one_with_the_keys_read_before_them() -> None:
    seen: list[tuple[Any, dict[str, Any]]] = []

    def keep_names(item: Any, before: Any) -> Any:
        seen.append((item, dict(before)))
        return item["metadata"]["name"]

    data = json.dumps(
        {"kind": "PodList", "apiVersion": "v1", "items": [{"metadata": {"name": n}} for n in "abc"]}
    ).encode()
    jsonstream.CHUNK = 16
    document = stream_json(io.BytesIO(data), source="p.json", limit=1 << 30, on_item=keep_names)
    assert document == {"kind": "PodList", "apiVersion": "v1", "items": ["a", "b", "c"]}
    assert [s[1] for s in seen] == [{"kind": "PodList", "apiVersion": "v1"}] * 3


def test_only_the_top_level_list_is_streamed() -> None:
    data = b'{"spec": {"items": [1, 2]}, "items": [3, 4]}'
    document = stream_json(io.BytesIO(data), source="x.json", limit=1 << 30, on_item=lambda i, s: i * 10)
    assert document == {"spec": {"items": [1, 2]}, "items": [30, 40]}
    array = stream_json(io.BytesIO(b"[[1], 2]"), source="x.json", limit=1 << 30, on_item=lambda i, s: [i])
    assert array == [[[1]], [2]]


def test_a_file_over_the_limit_is_refused() -> None:
    data = json.dumps({"items": list(range(1000))}).encode()
    assert streamed(data, 64, limit=1000) == ("error", "f.json: larger than 1000 bytes")


def test_a_value_longer_than_the_buffer_is_read_whole() -> None:
    big = "x" * 100_000
    data = json.dumps({"items": [{"a": big}, {"b": [big] * 3}]}).encode()
    assert streamed(data, 7) == ("ok", {"items": [{"a": big}, {"b": [big] * 3}]})


# --- random documents, cut and damaged anywhere ------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["items", "kind", "a", "é"]), inner, max_size=4)
    ),
    max_leaves=20,
)
_documents = st.one_of(
    _values,
    st.fixed_dictionaries(
        {"apiVersion": st.just("v1"), "items": st.lists(_values, max_size=5), "kind": st.just("List")}
    ),
)


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    document = draw(_documents)
    text = json.dumps(document, indent=draw(st.sampled_from([None, 1, 2])), ensure_ascii=draw(st.booleans()))
    data = text.encode()
    how = draw(st.sampled_from(["intact", "cut", "byte", "bom"]))
    if how == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "byte" and data:
        at = draw(st.integers(0, len(data) - 1))
        byte = draw(st.sampled_from(list(b'{}[],:" \n0e-\\\x00\xff\xc3')))
        data = data[:at] + bytes([byte]) + data[at + 1 :]
    elif how == "bom":
        data = b"\xef\xbb\xbf" + data
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_damaged(), chunk=st.sampled_from(CHUNKS))
def test_random_documents_read_and_fail_as_json_loads_does(data: bytes, chunk: int) -> None:
    assert streamed(data, chunk) == whole(data)
