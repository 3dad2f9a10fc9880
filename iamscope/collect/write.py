"""Writing a collection as a state directory: every file in the input formats of DESIGN.md §3, written
all-or-nothing; `incomplete.json` listing what could not be read whenever anything could not (a scan
of the directory is then incomplete, exit 3, never clean); and a marker naming the files written, so
that collecting again into the same directory removes what the new collection no longer holds (a
region dropped, a kind now forbidden) instead of leaving stale data to be read as current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iamscope.collect.result import Collected
from iamscope.errors import UsageError
from iamscope.output import write_tree

INCOMPLETE = "incomplete.json"
INCOMPLETE_SCHEMA = "iamscope.incomplete/v1"
MARKER = ".iamscope-collect"


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _previous(out: Path) -> list[str]:
    """The files an earlier collection wrote into `out` (checked: each one a file collect writes,
    inside `out`); a UsageError when `out` may not be written."""
    if not out.exists():
        return []
    if not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    marker = out / MARKER
    if marker.is_file():
        try:
            listed = json.loads(marker.read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError, AttributeError):
            listed = None
        if not isinstance(listed, list) or not all(isinstance(f, str) for f in listed):
            raise UsageError(f"--out {out}: {MARKER} is not one iamscope collect wrote")
        for entry in listed:
            if not _inside(out, entry):
                # collect removes what its marker lists: a crafted marker must not make it delete
                # anything but the files a collection writes
                raise UsageError(
                    f"--out {out}: {MARKER} lists {entry!r}, which is not a file iamscope collect "
                    "writes (aws/..., k8s/... or incomplete.json inside the directory); refusing to "
                    "collect into it"
                )
        return listed
    if any(out.iterdir()):
        raise UsageError(
            f"--out {out}: the directory is not empty and was not written by iamscope collect; "
            "give a new or empty directory"
        )
    return []


def _shape_ok(relative: str) -> bool:
    """A relative path collect writes: `incomplete.json`, or a file under aws/ or k8s/, no `..`."""
    path = Path(relative)
    parts = path.parts
    if not relative or path.is_absolute() or path.drive or ".." in parts or "\\" in relative:
        return False
    return relative == INCOMPLETE or (len(parts) >= 2 and parts[0] in ("aws", "k8s"))


def _inside(out: Path, relative: str) -> bool:
    """Whether `relative` is a path collect writes and, symbolic links resolved, stays inside `out`."""
    if not _shape_ok(relative):
        return False
    root = out.resolve()
    target = (out / relative).resolve()
    return target != root and target.is_relative_to(root)


def _safe(relative: str) -> str:
    parts = Path(relative).parts
    if Path(relative).is_absolute() or ".." in parts or not parts or parts[0] not in ("aws", "k8s"):
        raise ValueError(f"collector produced a path outside aws/ and k8s/: {relative!r}")
    return relative


def write_collection(out: Path, collected: Collected) -> list[str]:
    """Write the state directory; returns the relative paths written, sorted. The gaps are kept in
    the order they were met (the order of the collection's steps: the first is often the cause)."""
    previous = _previous(out)
    files = {_safe(name): dump(value) for name, value in collected.files.items()}
    if collected.gaps:
        files[INCOMPLETE] = dump({"schema": INCOMPLETE_SCHEMA, "gaps": list(dict.fromkeys(collected.gaps))})
    written = sorted(files)
    files[MARKER] = dump({"files": written})
    write_tree(out, files)
    for stale in sorted(set(previous) - set(written)):
        path = out / stale
        # checked again right before: only a file collect writes, inside `out`, is ever removed
        if _inside(out, stale) and path.is_file() and not path.is_symlink():
            path.unlink()
    return written
