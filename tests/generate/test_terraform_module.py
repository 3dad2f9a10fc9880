"""The Terraform module as its users meet it: formatted, valid, and its own `terraform test` files
(mock provider, offline) passing: the documents it builds and the inputs its validations refuse."""

from __future__ import annotations

from pathlib import Path

from tests.generate import tf


def test_the_module_is_terraform_fmt_clean() -> None:
    result = tf.run(tf.MODULE, "fmt", "-check", "-recursive", "-diff", check=False)
    assert result.returncode == 0, result.stdout


def test_the_module_validates_and_its_terraform_tests_pass(tmp_path: Path) -> None:
    workdir = tf.module_copy(tmp_path / "module", tests=True)
    tf.run(workdir, "validate", "-no-color")
    result = tf.run(workdir, "test", "-no-color", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success! 10 passed, 0 failed." in result.stdout


def test_every_variable_has_a_type_and_a_description() -> None:
    text = (tf.MODULE / "variables.tf").read_text()
    blocks = text.split('variable "')[1:]
    assert len(blocks) == 10
    for block in blocks:
        name = block.split('"', 1)[0]
        assert "\n  description = " in block, name
        assert "\n  type" in block, name
