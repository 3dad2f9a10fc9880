"""Writing a collection: the marker of an earlier collection may only ever make collect remove files
collect writes, inside --out (a crafted marker is refused, and nothing is deleted or written); gaps
keep the order they were met in, in incomplete.json and on stderr."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from iamscope.collect.result import Collected
from iamscope.collect.write import INCOMPLETE, MARKER, write_collection
from iamscope.errors import UsageError

FILES = {"aws/sts-get-caller-identity.json": {"Account": "111122223333"}, "k8s/pods.json": {"items": []}}


def _marker(out: Path, files: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(json.dumps({"files": files}), encoding="utf-8")


@pytest.mark.parametrize(
    "entry",
    [
        "{precious}",  # absolute
        "aws/../../precious.txt",
        "../precious.txt",
        "precious.txt",  # not under aws/ or k8s/
        "aws",  # the directory itself
        "",
    ],
)
def test_a_crafted_marker_is_refused_and_nothing_is_deleted(tmp_path: Path, entry: str) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", encoding="utf-8")
    out = tmp_path / "state"
    _marker(out, [entry.format(precious=precious)])
    with pytest.raises(UsageError, match=f"{MARKER} lists .*, which is not a file iamscope collect writes"):
        write_collection(out, Collected(files=FILES))
    assert precious.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in out.iterdir()) == [MARKER]  # nothing written either


def test_a_marker_entry_that_leaves_out_through_a_link_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = elsewhere / "precious.json"
    precious.write_text("keep me", encoding="utf-8")
    out = tmp_path / "state"
    _marker(out, ["aws/precious.json"])
    os.symlink(elsewhere, out / "aws")
    with pytest.raises(UsageError, match="is not a file iamscope collect writes"):
        write_collection(out, Collected(files={"k8s/pods.json": {"items": []}}))
    assert precious.read_text(encoding="utf-8") == "keep me"


def test_stale_files_of_an_earlier_collection_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "state"
    first = Collected(files={**FILES, "aws/kms-keys-eu-central-1.json": {"Keys": []}}, gaps=("a gap",))
    assert INCOMPLETE in write_collection(out, first)
    write_collection(out, Collected(files=FILES))
    assert not (out / "aws/kms-keys-eu-central-1.json").exists()
    assert not (out / INCOMPLETE).exists()
    assert (out / "aws/sts-get-caller-identity.json").is_file()


def test_gaps_keep_the_order_they_were_met_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from iamscope.cli import _report_collection

    gaps = ("sts GetCallerIdentity (global): the cause", "list namespaces (v1): a consequence", "b", "a", "b")
    collected = Collected(files=FILES, gaps=gaps)
    write_collection(tmp_path / "state", collected)
    recorded = json.loads((tmp_path / "state" / INCOMPLETE).read_text(encoding="utf-8"))
    assert recorded["gaps"] == list(gaps[:4])
    _report_collection(collected)
    assert capsys.readouterr().err.splitlines() == [f"iamscope: incomplete: {g}" for g in gaps[:4]]


def test_the_halves_of_an_incomplete_collection_read_as_incomplete(tmp_path: Path) -> None:
    from iamscope.state import sources

    out = tmp_path / "state"
    write_collection(out, Collected(files=FILES, gaps=("list secrets (v1): 403 Forbidden",)))
    for k8s, aws in (
        ([str(out / "k8s")], out / "aws"),
        ([str(out / "k8s")], None),
        ([], out / "aws"),
        ([str(out / "k8s" / "pods.json")], None),
        ([str(out)], None),
    ):
        assert sources(None, k8s, aws).incomplete == (out / INCOMPLETE,), (k8s, aws)
    # a directory collect did not write (no marker) has no say
    (out / MARKER).unlink()
    assert sources(None, [str(out / "k8s")], out / "aws").incomplete == ()
