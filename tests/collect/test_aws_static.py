"""Static guarantees that no iamscope code can read a secret's value from AWS (DESIGN.md §5).

iamscope legitimately *names* value-reading actions as IAM policy content ("secretsmanager:
GetSecretValue" in a generated policy, "ssm:GetParameterHistory" in the action catalogue), so a bare
text search of the whole package cannot be the test. Instead:
- nowhere in iamscope/ is a botocore method of a value-reading operation called (`x.decrypt(...)`)
  or looked up by name (getattr, get_paginator, _make_api_call: an operation or method name as a
  string standing alone);
- in iamscope/collect/, where the live calls are made, those names do not occur at all, not even in a
  comment;
- OPERATIONS names only operations botocore knows, and none that reads a value."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import botocore.session
import pytest

from iamscope.collect.aws import OPERATIONS
from tests.conftest import REPO

PACKAGE = REPO / "iamscope"
VALUE_READERS = {
    "secretsmanager": ("GetSecretValue", "BatchGetSecretValue"),
    "ssm": ("GetParameter", "GetParameters", "GetParametersByPath", "GetParameterHistory"),
    "kms": ("Decrypt",),
}
OPERATION_NAMES = {op for ops in VALUE_READERS.values() for op in ops}
METHOD_NAMES = {botocore.xform_name(op) for op in OPERATION_NAMES}  # get_secret_value, decrypt, ...


def _sources(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_code_calls_or_names_a_value_reading_operation() -> None:
    offences = []
    for path in _sources(PACKAGE):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            # a call of a client method: client.get_secret_value(...), kms.decrypt(...)
            # (a dataclass field named `decrypt` that is read, not called, is no API call)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in METHOD_NAMES
            ):
                offences.append(f"{path.relative_to(REPO)}:{node.lineno}: .{node.func.attr}(...)")
            if isinstance(node, ast.Constant) and node.value in OPERATION_NAMES | METHOD_NAMES:
                offences.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
    assert offences == []


def test_the_collector_never_mentions_a_value_reading_operation() -> None:
    words = re.compile(
        r"GetSecretValue|get_secret_value|BatchGetSecretValue|GetParameter|get_parameter|Decrypt\b|decrypt\(",
        re.IGNORECASE,
    )
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in _sources(PACKAGE / "collect")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if words.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_operation_exists_and_reads_no_value(operation: str) -> None:
    service, name = operation.split(":")
    model = botocore.session.get_session().get_service_model(service)
    assert name in model.operation_names
    assert name not in VALUE_READERS.get(service, ())
