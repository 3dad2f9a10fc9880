"""Every file `generate` writes, by its path under `--out`, rendered in memory first so that a failure
leaves earlier outputs untouched; then each is written atomically (no pipeline ever reads half a
file). JSON is `sort_keys`, two-space indented, newline-terminated: byte-identical on re-run."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from iamscope.errors import InputError, UsageError
from iamscope.generate.documents import identity_policy, trust_policy
from iamscope.generate.flavors import FLAVORS, flavor_files
from iamscope.generate.manifests import service_accounts_yaml
from iamscope.generate.plan import GeneratePlan
from iamscope.generate.tfvars import module_tfvars
from iamscope.output import write_tree

TFVARS = "iamscope.auto.tfvars.json"
# Kubernetes names (DNS-1123 subdomains): also what keeps a path under --out
KUBE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

__all__ = ["FLAVORS", "TFVARS", "artefacts", "dump_json", "write_artefacts"]


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _checked(name: str, what: str, role_id: str) -> str:
    if not KUBE_NAME.match(name) or ".." in name:
        raise InputError(f"{what} {name!r} is not a valid Kubernetes name", source=role_id)
    return name


def artefacts(plan: GeneratePlan, flavors: Sequence[str] = ()) -> dict[str, str]:
    files: dict[str, str] = {}
    for role in plan.roles:
        ns = _checked(role.namespace, "namespace", role.id)
        sa = _checked(role.service_account, "service account", role.id)
        files[f"policies/{ns}/{sa}.json"] = dump_json(identity_policy(role))
        files[f"trust/{ns}/{sa}.json"] = dump_json(trust_policy(role, plan))
    files[TFVARS] = dump_json(module_tfvars(plan))
    files["service-accounts.yaml"] = service_accounts_yaml(plan)
    for flavor in flavors:
        files |= flavor_files(plan, flavor)
    return dict(sorted(files.items()))


def write_artefacts(out: Path, files: Mapping[str, str], *, prune: bool = False) -> None:
    """Every file, or none of them. With `prune` (a run over the whole cluster), policy and trust
    files of service accounts that no longer mount anything are removed, so `policies/` and `trust/`
    always match the tfvars."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    write_tree(out, files)
    if prune:
        _prune(out, set(files))


def _prune(out: Path, written: set[str]) -> None:
    for folder in ("policies", "trust"):
        root = out / folder
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*/*.json")):
            if path.relative_to(out).as_posix() not in written and path.is_file():
                path.unlink()
        for directory in sorted(root.iterdir()):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
