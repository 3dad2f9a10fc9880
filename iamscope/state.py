"""Turning the command line's inputs (a STATE directory, --k8s paths, an --aws directory) into one
inventory. The only place that decides which files are read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path

from iamscope.aws.snapshot import PATTERNS, build_aws_inventory, read_snapshot
from iamscope.errors import InputError, UsageError
from iamscope.files import InputReader
from iamscope.gcpause import paused_gc
from iamscope.k8s.read import read_manifests
from iamscope.k8s.transform import build_kube_inventory
from iamscope.model import AwsInventory, Inventory, KubeInventory, Warning

PLAN_FILE = "terraform-plan.json"
INCOMPLETE_FILE = "incomplete.json"  # written by `iamscope collect` when part of the data was unreadable
COLLECT_MARKER = ".iamscope-collect"  # written by `iamscope collect` into every state it writes
PLAN_LIMIT = 512 * 1024 * 1024  # `terraform show -json` of a large plan; read whole


@dataclass(frozen=True, slots=True, kw_only=True)
class Sources:
    k8s: tuple[str, ...]
    aws: Path | None
    plan: Path | None = None  # STATE/terraform-plan.json: planned IAM overlaid on the snapshot
    # STATE/incomplete.json: what a live collection could not read (one per collected state read)
    incomplete: tuple[Path, ...] = ()


def _collected_state(path: Path) -> Path | None:
    """The state directory `iamscope collect` wrote that `path` (given as --k8s or --aws) lies in:
    the path itself, its parent (`STATE/k8s`, `STATE/aws`) or its grandparent (`STATE/k8s/pods.json`),
    whichever holds collect's marker."""
    for candidate in (path, path.parent, path.parent.parent):
        if (candidate / COLLECT_MARKER).is_file():
            return candidate
    return None


def _incomplete_files(state: Path | None, k8s: Sequence[str], aws: Path | None) -> tuple[Path, ...]:
    """Every incomplete.json that qualifies the inputs: the STATE argument's, and that of a collected
    state an --aws or --k8s path lies in (reading STATE/aws and STATE/k8s one by one must not make an
    incomplete collection pass for a complete one)."""
    found: list[Path] = []
    if state is not None and (state / INCOMPLETE_FILE).exists():
        found.append(state / INCOMPLETE_FILE)
    given = [Path(p) for p in k8s if p != "-"] + ([aws] if aws is not None else [])
    for path in given:
        root = _collected_state(path)
        if root is not None and (root / INCOMPLETE_FILE).is_file():
            found.append(root / INCOMPLETE_FILE)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return tuple(unique.values())


def sources(state: Path | None, k8s: Sequence[str], aws: Path | None) -> Sources:
    given_k8s, given_aws = tuple(k8s), aws
    paths = list(k8s)
    if state is not None:
        if not (state / "k8s").exists() and not (state / "aws").exists():
            raise UsageError(f"{state}: not a state directory (it holds neither k8s/ nor aws/)")
        if (state / "k8s").exists() and not k8s:
            paths.append(str(state / "k8s"))
        if aws is None and (state / "aws").is_dir():
            aws = state / "aws"
    if not paths and aws is None:
        raise UsageError("nothing to read: give a STATE directory, or --k8s and/or --aws")
    plan = state / PLAN_FILE if state is not None and (state / PLAN_FILE).is_file() else None
    incomplete = _incomplete_files(state, given_k8s, given_aws)
    return Sources(k8s=tuple(paths), aws=aws, plan=plan, incomplete=incomplete)


def load_inventory(src: Sources, reader: InputReader | None = None) -> Inventory:
    # reading and the transforms build millions of objects and no reference cycles: a collection
    # pass would walk all of them again each time it ran
    with paused_gc():
        return _load_inventory(src, reader or InputReader())


def _load_inventory(src: Sources, reader: InputReader) -> Inventory:
    kube = KubeInventory()
    if src.k8s:
        raws, warnings = read_manifests(src.k8s, reader)
        kube = build_kube_inventory(raws, warnings)
        if not raws:
            # nothing read is not a clean cluster: the scan says its input is incomplete
            looks_aws = any(
                fnmatch(Path(w.source.split(":")[0]).name, pattern)
                for w in warnings
                for pattern in PATTERNS.values()
            )
            hint = " (those files look like an AWS snapshot: give them with --aws)" if looks_aws else ""
            note = Warning(source=", ".join(src.k8s), message=f"no Kubernetes objects found{hint}")
            kube = replace(kube, read=False, warnings=(*kube.warnings, note))
    aws = AwsInventory()
    if src.aws is not None:
        aws = build_aws_inventory(read_snapshot(src.aws, reader))
    if src.plan is not None:
        from iamscope.aws.tfplan import overlay_plan

        aws = overlay_plan(reader.read_json(src.plan, limit=PLAN_LIMIT), aws, source=str(src.plan))
    gaps = tuple(gap for path in src.incomplete for gap in _collection_gaps(path, reader))
    return Inventory(kube=kube, aws=aws, gaps=gaps)


def _collection_gaps(path: Path, reader: InputReader) -> tuple[str, ...]:
    raw = reader.read_json(path, limit=64 * 1024 * 1024)
    gaps = raw.get("gaps") if isinstance(raw, dict) else None
    if not isinstance(gaps, list) or not all(isinstance(g, str) for g in gaps):
        raise InputError(
            'must be {"schema": "iamscope.incomplete/v1", "gaps": [<line>, ...]}', source=str(path)
        )
    # written by a collection that could not read everything: nothing may pass as clean without it
    return tuple(f"{path}: {gap}" for gap in gaps) or (f"{path}: the collection was incomplete",)
