"""Issue 8: a large YAML manifest (`kubectl get pods -A -o yaml` of the largest clusters) is read a
document and a list entry at a time (iamscope.yamlstream), and gives exactly what reading it whole
gives: the same objects, lines, warnings and errors. Where the text cannot be split on its layout (an
alias across entries, a quoted scalar cut at a line, a directive) the file is read whole."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import iamscope.k8s.read as read
import iamscope.yamlstream as yamlstream
from iamscope.errors import InputError
from iamscope.files import InputReader
from iamscope.yamlload import load_documents
from iamscope.yamlstream import NotStreamable, stream_yaml

REPO = Path(__file__).resolve().parents[2]


def streamed(text: str) -> list[tuple[int, Any]]:
    lines = io.StringIO(text, newline="")
    return list(stream_yaml(lines, source="f.yaml", on_item=lambda item, seen: item))


def whole(text: str) -> list[tuple[int, Any]]:
    return load_documents(text, source="f.yaml")


POD = """\
- apiVersion: v1
  kind: Pod
  metadata:
    name: {name}
    namespace: prod
  spec:
    serviceAccountName: api
    containers:
    - name: app
      image: app:1
      args:
      - |
        line one

        line three, after a blank line
      - >-
        folded
        text
"""

KUBECTL_LIST = (
    "apiVersion: v1\nitems:\n"
    + "".join(POD.format(name=f"p{i}") for i in range(5))
    + ('kind: List\nmetadata:\n  resourceVersion: ""\n')
)

# Texts the stream splits, each of which must read as load_documents reads it whole.
SPLIT = {
    "kubectl list, kind after its items": KUBECTL_LIST,
    "typed list, kind first": "kind: PodList\napiVersion: v1\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n",
    "indented entries": "kind: List\nitems:\n  - kind: Pod\n    metadata:\n      name: a\n  - kind: Pod\n"
    "    metadata: {name: b}\nmetadata: {}\n",
    "comments and blank lines between and inside entries": "kind: List\nitems:  # the pods\n\n# first\n"
    "- kind: Pod\n  # inside\n  metadata: {name: a}\n\n# second, at column 0\n- kind: Pod\n"
    "  metadata: {name: b}\n# after\nmetadata: {}\n",
    "several documents, markers and an end marker": "kind: ServiceAccount\nmetadata: {name: a}\n---\n"
    + KUBECTL_LIST
    + "...\n---\n# only a comment\n--- # and another\nkind: Pod\nmetadata: {name: z}\n",
    "items is a mapping, not a sequence": "kind: Thing\nitems:\n  a: 1\n  b: [2]\nother: 3\n",
    "items is null": "kind: List\nitems:\nmetadata: {}\n",
    "items is the last key": "kind: List\nmetadata: {}\nitems:\n- kind: Pod\n  metadata: {name: a}\n",
    "an empty entry and a scalar entry": "kind: List\nitems:\n-\n- just text\n- kind: Pod\n",
    "CRLF line breaks": KUBECTL_LIST.replace("\n", "\r\n"),
    "no line break at the end": KUBECTL_LIST.rstrip("\n"),
    "an anchor used within its own entry": "kind: List\nitems:\n- kind: Pod\n  metadata: &m {name: a}\n"
    "  copy: *m\n- kind: Pod\n",
    "a document that is only a list": "- a\n- b\n---\nkind: List\nitems:\n- x\n",
    "a nested items key is left alone": "kind: Deployment\nspec:\n  items:\n  - a\n  - b\n",
}

# Texts the stream cannot split: it says so (the reader then reads the file whole).
UNSPLITTABLE = {
    "an alias to another entry's anchor": "kind: List\nitems:\n- kind: Pod\n  metadata: &m {name: a}\n"
    "- kind: Pod\n  metadata: *m\n",
    "a quoted scalar running over a line at column 0": 'kind: List\nitems:\n- kind: Pod\n  note: "one\n- two"\n',
    "a directive": "%YAML 1.1\n---\nkind: List\nitems:\n- a\n",
    "items given twice": "kind: List\nitems:\n- a\nitems:\n- b\n",
}


@pytest.mark.parametrize("text", SPLIT.values(), ids=SPLIT.keys())
@pytest.mark.parametrize("batch", [1, 1 << 20])
def test_streamed_documents_are_what_a_whole_read_gives(
    text: str, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlstream, "BATCH", batch)
    assert streamed(text) == whole(text)


@pytest.mark.parametrize("text", UNSPLITTABLE.values(), ids=UNSPLITTABLE.keys())
def test_text_that_cannot_be_split_is_refused_for_a_whole_read(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlstream, "BATCH", 1)  # each entry parsed on its own
    with pytest.raises(NotStreamable):
        streamed(text)


def test_entries_are_handed_over_as_their_batch_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """What keeps memory flat: an entry reaches the callback long before the document ends, and the
    callback's value (a reduced copy) is what the document keeps."""
    monkeypatch.setattr(yamlstream, "BATCH", 1)
    handed: list[str] = []
    lines_read = 0

    def lines() -> Iterator[str]:
        nonlocal lines_read
        for line in io.StringIO(KUBECTL_LIST, newline=""):
            lines_read += 1
            yield line

    def keep_name(item: Any, seen: Any) -> str:
        handed.append(f"{item['metadata']['name']} at line {lines_read}")
        return str(item["metadata"]["name"])

    [(line, document)] = stream_yaml(lines(), source="f.yaml", on_item=keep_name)
    assert document["items"] == ["p0", "p1", "p2", "p3", "p4"]
    assert line == 1
    per_pod = POD.count("\n")
    # each entry is parsed when the next one starts (the last when the `kind:` line ends the block)
    assert handed == [f"p{i} at line {3 + per_pod * (i + 1)}" for i in range(5)]


def test_the_callback_sees_the_keys_before_the_items() -> None:
    text = "kind: PodList\napiVersion: v1\nitems:\n- metadata: {name: a}\n"
    seen: list[dict[str, Any]] = []
    list(stream_yaml(io.StringIO(text), source="f.yaml", on_item=lambda item, s: seen.append(dict(s))))
    assert seen == [{"kind": "PodList", "apiVersion": "v1"}]


def read_all(paths: list[Path], stream_from: int, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(read, "STREAM_YAML_FROM", stream_from)
    try:
        objects, warnings = read.read_manifests([str(p) for p in paths], InputReader())
    except InputError as error:
        return "error", str(error)
    return [(o.data, o.location) for o in objects], warnings


def yaml_inputs() -> list[Path]:
    roots = [REPO / "fixtures", REPO / "tests" / "data"]
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_every_yaml_fixture_and_upstream_manifest_reads_the_same_streamed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = yaml_inputs()
    assert len(paths) > 40  # the demo fixtures, the driver's and provider's own manifests, test data
    for path in paths:
        assert read_all([path], 0, monkeypatch) == read_all([path], 1 << 62, monkeypatch), path


@pytest.mark.parametrize(
    "text",
    [*SPLIT.values(), *UNSPLITTABLE.values(), KUBECTL_LIST.replace("  kind: Pod\n", "  kind: [Pod\n", 1)],
    ids=[*SPLIT, *UNSPLITTABLE, "an entry that is not valid YAML"],
)
def test_a_large_file_reads_as_a_small_one_does(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Objects, their lines and warnings, or the error with its line and column: the same whether the
    file is streamed, refused by the stream and read whole, or read whole from the start."""
    path = tmp_path / "pods.yaml"
    path.write_bytes(text.encode())
    assert read_all([path], 0, monkeypatch) == read_all([path], 1 << 62, monkeypatch)


def test_encoding_errors_are_the_whole_reader_s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, data in {
        "utf16.yaml": "kind: List\nitems:\n- a\n".encode("utf-16"),
        "latin1.yaml": "kind: List\nitems:\n- caf\xe9\n".encode("latin-1"),
        "bom.yaml": b"\xef\xbb\xbf" + KUBECTL_LIST.encode(),
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        streamed_result = read_all([path], 0, monkeypatch)
        assert streamed_result == read_all([path], 1 << 62, monkeypatch), name
        assert (streamed_result[0] == "error") == (name != "bom.yaml"), streamed_result


def test_a_scan_of_the_demo_streamed_is_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from iamscope.cli import main

    demo = REPO / "fixtures" / "demo"
    outputs = []
    for stream_from in (0, 1 << 62):
        monkeypatch.setattr(read, "STREAM_YAML_FROM", stream_from)
        out = tmp_path / f"scan-{stream_from}.json"
        with pytest.raises(SystemExit):
            main(
                [
                    "scan",
                    str(demo),
                    "--config",
                    str(demo / "iamscope.yaml"),
                    "--format",
                    "json",
                    "--output",
                    str(out),
                ]
            )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert b'"rule": "cross-workload-grant"' in outputs[0]
