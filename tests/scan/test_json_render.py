"""Issue 8: `scan --format json` is written in pieces (each finding and each service account's access
entry as it is built, grant entry texts reused across service accounts that reach a role the same
way), and the bytes are exactly those of the contract, json.dumps(document, sort_keys=True, indent=2)
plus a newline (DESIGN.md §3, §5), whatever is reused or dropped from the reuse cache."""

from __future__ import annotations

import json
import subprocess
import sys
from array import array
from itertools import accumulate
from operator import itemgetter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import iamscope.report.scan_json as scan_json
from iamscope.report.scan_json import render_json, render_json_chunks, scan_document
from iamscope.scan import ScanResult
from tests.conftest import REPO
from tests.scan.conftest import scan_state


@pytest.fixture
def scans(demo_and_bench_scans: dict[str, ScanResult]) -> dict[str, ScanResult]:
    return demo_and_bench_scans


def _contract(result: ScanResult) -> str:
    return json.dumps(scan_document(result), sort_keys=True, indent=2) + "\n"


@pytest.mark.parametrize("name", ["demo", "bench"])
def test_the_pieces_are_the_contract_bytes(name: str, scans: dict[str, ScanResult]) -> None:
    result = scans[name]
    pieces = list(render_json_chunks(result))
    assert len(pieces) > len(result.findings)  # written in pieces, not as one text
    assert "".join(pieces) == _contract(result)
    document = json.loads("".join(pieces))
    assert document["access"]
    assert any(len(a["grants"]) > 1 for a in document["access"])


@pytest.mark.parametrize("budget", [0, 1, 50])
@pytest.mark.parametrize("joined", [1, 4, 10_000])
def test_a_small_reuse_cache_gives_the_same_bytes(
    budget: int, joined: int, scans: dict[str, ScanResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the budget of kept entries, and whether a role's entries are kept joined (the others
    put in between) or one by one."""
    result = scans["bench"]
    expected = _contract(result)
    monkeypatch.setattr(scan_json, "_BLOCK_BUDGET", budget)
    monkeypatch.setattr(scan_json, "_JOINED_BLOCK", joined)
    assert render_json(result) == expected


_keys = st.tuples(st.sampled_from("abcde"), st.sampled_from(["r1", "r2"]), st.sampled_from(["", "s"]))


@given(
    base=st.lists(_keys, min_size=1, max_size=12).map(sorted),
    before=st.lists(st.lists(_keys, max_size=4), max_size=3),
    after=st.lists(st.lists(_keys, max_size=4), max_size=3),
)
def test_entries_merged_into_a_joined_block_are_in_stable_sort_order(
    base: list[tuple[str, str, str]],
    before: list[list[tuple[str, str, str]]],
    after: list[list[tuple[str, str, str]]],
) -> None:
    """The list of a service account reaching a joined block and other entries is what a stable sort
    of all its entries by key (resource, via, statement) gives, the ways in their order."""
    segments = [*before, base, *after]
    texts = [[f"{i}.{j}:{'|'.join(key)}" for j, key in enumerate(keys)] for i, keys in enumerate(segments)]
    at = len(before)
    separator = scan_json._ENTRY_SEPARATOR
    block = scan_json._Block(
        list(base),
        None,
        separator.join(texts[at]),
        array("q", accumulate((len(t) + len(separator) for t in texts[at]), initial=0)),
    )
    assert block.texts == texts[at]
    merged = scan_json._merged_into(block, at, list(zip(segments, texts, strict=True)))
    keyed = sorted(
        (
            entry
            for keys, entry_texts in zip(segments, texts, strict=True)
            for entry in zip(keys, entry_texts, strict=True)
        ),
        key=itemgetter(0),
    )
    assert "".join(merged) == separator.join(text for _, text in keyed)


@pytest.mark.parametrize("large", [1, 200, 5_000])
def test_large_lists_handed_on_as_pieces_give_the_same_bytes(
    large: int, scans: dict[str, ScanResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list of `large` characters or more (a `*` role's grants, the ARNs of a finding about one) is
    a piece of its own, not copied into its entry's text; the bytes are those of the contract."""
    result = scans["bench"]
    expected = _contract(result)
    monkeypatch.setattr(scan_json, "_LARGE_PIECE", large)
    pieces = list(render_json_chunks(result))
    assert "".join(pieces) == expected
    document = json.loads(expected)
    grants = max((a["grants"] for a in document["access"]), key=len)
    inner = "\n" + "  " * 4
    body = ("," + inner).join(
        json.dumps(g, sort_keys=True, indent=2).replace("\n", "\n" + "  " * 4) for g in grants
    )
    # the largest grants list is a piece as it is when it is large enough, else inside a larger piece
    assert (body in pieces) == (len(body) >= large), len(body)
    assert all(pieces)


def test_the_cli_writes_the_same_bytes_to_a_file_and_to_stdout(tmp_path: Path) -> None:
    demo = REPO / "fixtures" / "demo"
    out = tmp_path / "scan.json"
    command = [sys.executable, "-m", "iamscope", "scan", str(demo), "--config", str(demo / "iamscope.yaml")]
    to_file = subprocess.run(
        [*command, "--format", "json", "--output", str(out)], capture_output=True, text=True
    )
    to_stdout = subprocess.run([*command, "--format", "json"], capture_output=True, text=True)
    assert to_file.returncode == to_stdout.returncode == 1  # the demo has high findings
    assert out.read_text() == to_stdout.stdout == _contract(scan_state(demo))
    assert not list(tmp_path.glob(".iamscope-*"))  # the staging file was renamed, not left
