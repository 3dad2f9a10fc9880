"""`iamscope harden` as a platform engineer runs it: the four files, what it prints, byte-identical
re-runs whatever the input order, k8s-only and upstream input, and bad usage or a failed write (exit 2,
one line, earlier outputs untouched).

The command runs in-process through `iamscope.cli.main` (tests/k8s/helpers.py run_cli), the console
script's entry point, as tests/generate/test_generate_cli.py does: click's CliRunner on
`iamscope.cli.cli` would bypass main()'s mapping of iamscope's errors to exit code 2 and one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from iamscope.harden.files import DRIVER_VALUES, FALCO, KYVERNO, PROVIDER_VALUES
from tests.conftest import REPO
from tests.harden.common import CONFIG, DEMO, FILES, demo_config, demo_scan
from tests.k8s.helpers import run_cli

UPSTREAM = REPO / "tests" / "data" / "upstream"


def harden(
    capsys: pytest.CaptureFixture[str], out: Path, *args: str, state: Path = DEMO
) -> tuple[int, str, str]:
    return run_cli(["harden", str(state), "--config", str(CONFIG), "--out", str(out), *args], capsys)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_demo_writes_exactly_the_four_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = harden(capsys, tmp_path)
    assert code == 0, err
    assert sorted(files(tmp_path)) == FILES
    for name, text in files(tmp_path).items():
        assert text.startswith(b"# Written by `iamscope harden`"), name
        assert yaml.safe_load(text) is not None
    lines = out.splitlines()
    assert lines[:5] == [f"Wrote 4 file(s) to {tmp_path}/:", *(f"  {f}" for f in FILES)]
    assert lines[5] == "syncSecret.enabled=true, rotationPollInterval=2m, Kyverno failureAction=Enforce"


def test_the_summary_lists_the_demo_spc_writers_as_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = harden(capsys, tmp_path)
    writers = sorted(f.subject for f in demo_scan().findings if f.rule == "spc-write-access")
    assert writers == ["Group/analytics-developers", "Group/checkout-developers"]
    lines = out.splitlines()
    assert lines[6] == "2 thing(s) in the input the policy refuses from now on:"
    refused = lines[7:]
    assert len(refused) == 2
    for subject, line in zip(writers, refused, strict=True):
        assert line.startswith(f"  {subject}: can create, update, patch secretproviderclasses in "), line
        assert line.endswith(" (spc-writers-are-platform)"), line
    # the policy file's header says the same
    header = (tmp_path / KYVERNO).read_text()
    for subject in writers:
        assert f"#   spc-writers-are-platform: {subject}: can create" in header


def test_no_file_uses_yaml_anchors_or_aliases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A structure shared between two places (the SPC rules' preconditions) must be written out twice:
    an `&id001` anchor and `*id001` alias is YAML some consumers of these files do not read."""
    harden(capsys, tmp_path, "--quiet")
    for name, text in files(tmp_path).items():
        events = list(yaml.parse(text.decode()))
        assert not [e for e in events if getattr(e, "anchor", None)], name
        assert not [e for e in events if isinstance(e, yaml.AliasEvent)], name


def test_quiet_prints_nothing_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = harden(capsys, tmp_path, "--quiet")
    assert code == 0
    assert out == ""
    assert sorted(files(tmp_path)) == FILES
    assert all(line.startswith("iamscope: warning: ") for line in err.splitlines())


def test_rerunning_writes_the_same_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    harden(capsys, tmp_path / "a")
    harden(capsys, tmp_path / "b")
    harden(capsys, tmp_path / "a")
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_the_order_of_input_files_and_objects_does_not_matter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    harden(capsys, tmp_path / "a")
    shuffled = tmp_path / "state"
    shutil.copytree(DEMO / "aws", shuffled / "aws")
    for i, path in enumerate(sorted((DEMO / "k8s").rglob("*"), reverse=True)):
        if not path.is_file():
            continue
        text = path.read_text()
        if path.suffix == ".json":
            data = json.loads(text)
            if isinstance(data.get("items"), list):
                data["items"].reverse()
            text = json.dumps(data)
        else:
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
            text = yaml.safe_dump_all(list(reversed(documents)), sort_keys=True)
        target = shuffled / "k8s" / f"{i:02d}-{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    code, _, err = harden(capsys, tmp_path / "b", state=shuffled)
    assert code == 0, err
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_out_pointing_at_a_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "values.yaml"
    target.write_text("keep me\n")
    code, out, err = harden(capsys, target)
    assert code == 2
    assert out == ""
    assert err == (
        f"iamscope: error: Invalid value for '--out': Directory '{target}' is a file. (see 'iamscope harden --help')\n"
    )
    assert target.read_text() == "keep me\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sync: [1\n", "line 2 column 1: invalid YAML"),
        ("platform:\n  principals: argocd\n", "platform.principals: must be a list of strings"),
        ("platform:\n  admins: [a]\n", "platform: unknown key 'admins'"),
        ("kyverno: {}\n", "unknown section 'kyverno'"),
    ],
    ids=["yaml", "type", "unknown-key", "unknown-section"],
)
def test_a_bad_config_exits_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["harden", str(DEMO), "--config", str(config), "--out", str(out)], capsys)
    assert code == 2
    assert stdout == ""
    assert err.startswith(f"iamscope: error: {config}: {message}"), err
    assert err.count("\n") == 1
    assert not out.exists()


def test_k8s_only_input_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        ["harden", "--k8s", str(DEMO / "k8s"), "--config", str(CONFIG), "--out", str(tmp_path), "--quiet"],
        capsys,
    )
    assert code == 0, err
    assert sorted(files(tmp_path)) == FILES
    kyverno = yaml.safe_load((tmp_path / KYVERNO).read_text())
    assert kyverno["metadata"]["name"] == "iamscope-secrets-store-hardening"
    assert yaml.safe_load((tmp_path / DRIVER_VALUES).read_text())["syncSecret"] == {"enabled": True}


def test_the_upstream_corpus_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["harden", "--k8s", str(UPSTREAM), "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert sorted(files(tmp_path)) == FILES
    assert "Traceback" not in err
    # no config: nobody is the platform, nothing is approved for sync (fail closed, and said so)
    assert "iamscope: warning: platform.principals and platform.groups are both empty" in err
    assert "  SecretProviderClass/*: no platform principal or group is configured" in out
    assert "  default/SecretProviderClass/basic-test-mount-spc: secretObjects in default" in out
    values = yaml.safe_load((tmp_path / DRIVER_VALUES).read_text())
    assert values["syncSecret"] == {"enabled": False}


@pytest.mark.parametrize("blocked", [FALCO, KYVERNO], ids=["first-written", "last-written"])
def test_a_failed_write_leaves_earlier_outputs_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], blocked: str
) -> None:
    out = tmp_path / "out"
    # an earlier run, for another cluster name: every one of the four files differs from the demo's
    other = demo_config(tmp_path, cluster={"name": "staging-eu"})
    code, _, _ = run_cli(["harden", str(DEMO), "--config", str(other), "--out", str(out), "--quiet"], capsys)
    assert code == 0
    before = files(out)
    (out / blocked).unlink()
    (out / blocked).mkdir()  # a directory where a file goes: that file cannot be written
    code, stdout, err = harden(capsys, out)
    assert code == 2
    assert stdout == ""
    # warnings come before the write, so a failed write does not hide them; the error is the last line
    assert err.splitlines()[-1] == f"iamscope: error: {out / blocked}: cannot write: Is a directory"
    assert all(line.startswith("iamscope: warning: ") for line in err.splitlines()[:-1])
    after = files(out)
    assert after == {name: text for name, text in before.items() if name != blocked}
    assert all(b"staging-eu" in text for text in after.values())
    assert not list(out.rglob(".iamscope-*"))


def test_failure_action_audit_reaches_every_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = harden(capsys, tmp_path, "--failure-action", "Audit")
    assert code == 0
    assert "Kyverno failureAction=Audit" in out
    policy = yaml.safe_load((tmp_path / KYVERNO).read_text())
    assert [r["validate"]["failureAction"] for r in policy["spec"]["rules"]] == ["Audit"] * 3
    code, _, err = harden(capsys, tmp_path / "x", "--failure-action", "audit")
    assert code == 2
    assert err.startswith("iamscope: error: Invalid value for '--failure-action': 'audit' is not one of")


def test_the_provider_values_are_written_for_the_provider_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    harden(capsys, tmp_path, "--quiet")
    text = (tmp_path / PROVIDER_VALUES).read_text()
    assert "aws-secrets-manager/secrets-store-csi-driver-provider-aws" in text
    assert yaml.safe_load(text)["secrets-store-csi-driver"] == yaml.safe_load(
        (tmp_path / DRIVER_VALUES).read_text()
    )
