"""Issue 7, bad input: every case of the corpus in tests/data/bad-input/ (its cases.yaml says how each
file is given and what iamscope must answer) gets exactly the expected exit code and stderr lines:
one `iamscope: error: <file>: ...` line and exit 2, or the expected warnings where skipping is what a
user wants, and never a traceback. The inputs that could hang or crash an interpreter (alias bombs,
deep nesting, bytes that are not text) run in a real `python -m iamscope` process under a timeout,
the proof of "never a hang" (in this process a hang would stop the test run itself); the others run
in-process, through the same entry point, which is faster."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from iamscope.cli import main
from tests.conftest import REPO

CORPUS = REPO / "tests" / "data" / "bad-input"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))["cases"]
TIMEOUT = 20  # seconds; every case answers in well under one
COMMITTED_LIMIT = 20 * 1024


def _params(cases: list[dict[str, Any]]) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in cases]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus with the generated files beside the committed ones: runs never write
    into the repository, and the paths the messages print are the ones cases.yaml gives."""
    root = tmp_path_factory.mktemp("bad-input")
    shutil.copytree(CORPUS, root, dirs_exist_ok=True)
    for case in CASES:
        for spec in case.get("generate", ()):
            path = root / spec["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            text: str = spec["text"]
            path.write_text((text * (spec["size"] // len(text) + 1))[: spec["size"]], encoding="utf-8")
    return root


def run_in_process(args: list[str]) -> tuple[int, str, str]:
    """`iamscope ARGS` through the console script's entry point, in this process."""
    with CliRunner().isolation() as (out, err, _):
        try:
            main(args)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 0
        else:  # pragma: no cover - main always exits
            code = 0
    return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def check(case: dict[str, Any], code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    assert (code, err.splitlines()) == (case["exit"], case["stderr"]), err
    if case["exit"] == 2:
        assert out == ""
        assert len(case["stderr"]) == 1
        assert err.count("\n") == 1, err
        assert case["stderr"][0].startswith("iamscope: error: ")
    if "finding" in case:
        findings = json.loads(out)["findings"]
        assert list(case["finding"]) in [[f["rule"], f["message"]] for f in findings], findings


def _skip_unsupported(case: dict[str, Any]) -> None:
    if case.get("libyaml") and not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("the expected message is libyaml's; this PyYAML has no libyaml")


@pytest.mark.parametrize("case", _params([c for c in CASES if not c.get("subprocess")]))
def test_case_in_process(case: dict[str, Any], corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _skip_unsupported(case)
    monkeypatch.chdir(corpus)
    for name, value in case.get("limit", {}).items():
        module, attribute = name.rsplit(".", 1)
        monkeypatch.setattr(importlib.import_module(module), attribute, value)
    check(case, *run_in_process(case["args"]))


@pytest.mark.parametrize("case", _params([c for c in CASES if c.get("subprocess")]))
def test_case_in_a_real_process(case: dict[str, Any], corpus: Path) -> None:
    _skip_unsupported(case)
    assert "limit" not in case, "a patched limit exists only in-process"
    run = subprocess.run(
        [sys.executable, "-m", "iamscope", *case["args"]],
        capture_output=True,
        text=True,
        cwd=corpus,
        timeout=TIMEOUT,
        check=False,
    )
    check(case, run.returncode, run.stdout, run.stderr)


def test_every_corpus_file_is_a_small_case() -> None:
    """Each committed file is used by some case and stays small; big inputs are generated."""
    named = {Path(arg) for case in CASES for arg in case["args"]}
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file() and p.name != "cases.yaml"]
    unused = [
        str(p.relative_to(CORPUS))
        for p in files
        if p.relative_to(CORPUS) not in named and p.parent.relative_to(CORPUS) not in named
    ]
    assert unused == []
    big = [str(p.relative_to(CORPUS)) for p in files if p.stat().st_size >= COMMITTED_LIMIT]
    assert big == []
    assert len({case["id"] for case in CASES}) == len(CASES)


def test_a_recursion_no_reader_bounded_is_still_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backstop in main(): every reader bounds nesting itself, but should one not, the user still
    gets one line and exit 2 (bad input), not exit 70 (a bug)."""

    def deep(*_: Any, **__: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("iamscope.cli.load_inventory", deep)
    code, out, err = run_in_process(["scan", str(REPO / "fixtures" / "demo")])
    assert (code, out) == (2, "")
    assert err == "iamscope: error: an input is nested too deeply to analyse\n"
