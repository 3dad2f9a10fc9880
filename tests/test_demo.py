"""bin/demo, the README's first command, runs and shows the answers it promises."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO


def test_demo_runs_and_decides() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "bin" / "demo")], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = [
        line for line in result.stdout.splitlines() if line and not line.startswith((" ", "$", "=", "!"))
    ]
    decisions = [
        line.split()[0]
        for line in lines
        if line.split()[0] in {"Allow", "ImplicitDeny", "ExplicitDeny", "conditional"}
    ]
    # 1: own secret allowed, look-alike denied; 3: conditional; 4: read allowed, write denied by the
    # boundary; 5: the resource policy denies the legacy role and lets the payments role through.
    assert decisions == [
        "Allow",
        "ImplicitDeny",
        "conditional",
        "Allow",
        "ExplicitDeny",
        "ExplicitDeny",
        "Allow",
    ]
    assert "! secretsmanager:GetSecretValue" in result.stdout
