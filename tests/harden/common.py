"""Shared by the harden tests: the demo scanned as `iamscope harden` scans it, the artefacts of a scan
rendered as the files `harden` writes, and those files parsed back."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from iamscope.config import Config, load_config
from iamscope.files import InputReader
from iamscope.harden import HardenPlan, harden_files, harden_plan
from iamscope.harden.files import DRIVER_VALUES, FALCO, KYVERNO, PROVIDER_VALUES
from iamscope.scan import ScanResult, scan
from iamscope.state import load_inventory, sources
from tests.conftest import REPO

DEMO = REPO / "fixtures" / "demo"
CONFIG = DEMO / "iamscope.yaml"
FILES = sorted([DRIVER_VALUES, FALCO, KYVERNO, PROVIDER_VALUES])

ARGOCD = "system:serviceaccount:argocd:argocd-application-controller"
FLUX = "system:serviceaccount:flux-system:kustomize-controller"
PLATFORM_GROUP = "platform-admins"


def scan_state(state: Path, config: Config | Path | None = None) -> ScanResult:
    """`state` scanned as the CLI's commands scan STATE (with --config when `config` is a path)."""
    reader = InputReader()
    settings = load_config(config, reader) if isinstance(config, Path) else (config or Config())
    return scan(load_inventory(sources(state, (), None), reader), settings)


@functools.lru_cache(maxsize=1)
def demo_scan() -> ScanResult:
    return scan_state(DEMO, CONFIG)


def harden(result: ScanResult, failure_action: str = "Enforce") -> tuple[HardenPlan, dict[str, Any]]:
    """The plan and the four files, each parsed from the exact text `harden` writes."""
    plan = harden_plan(result.assessment, failure_action=failure_action)
    return plan, {name: yaml.safe_load(text) for name, text in harden_files(plan).items()}


def demo(failure_action: str = "Enforce") -> tuple[HardenPlan, dict[str, Any]]:
    return harden(demo_scan(), failure_action)


def demo_config(tmp_path: Path, **changes: Any) -> Path:
    """The demo configuration with top-level sections replaced, written under tmp_path."""
    config = yaml.safe_load(CONFIG.read_text())
    config.update(changes)
    path = tmp_path / "iamscope.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
