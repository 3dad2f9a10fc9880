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
from iamscope.output import write_all_atomic

INCOMPLETE = "incomplete.json"
INCOMPLETE_SCHEMA = "iamscope.incomplete/v1"
MARKER = ".iamscope-collect"


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _previous(out: Path) -> list[str] | None:
    """The files an earlier collection wrote into `out`, or None when `out` may not be written."""
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
        if isinstance(listed, list) and all(isinstance(f, str) for f in listed):
            return listed
        raise UsageError(f"--out {out}: {MARKER} is not one iamscope collect wrote")
    if any(out.iterdir()):
        raise UsageError(
            f"--out {out}: the directory is not empty and was not written by iamscope collect; "
            "give a new or empty directory"
        )
    return []


def _safe(relative: str) -> str:
    parts = Path(relative).parts
    if Path(relative).is_absolute() or ".." in parts or not parts or parts[0] not in ("aws", "k8s"):
        raise ValueError(f"collector produced a path outside aws/ and k8s/: {relative!r}")
    return relative


def write_collection(out: Path, collected: Collected) -> list[str]:
    """Write the state directory; returns the relative paths written, sorted."""
    previous = _previous(out)
    files = {_safe(name): dump(value) for name, value in collected.files.items()}
    if collected.gaps:
        files[INCOMPLETE] = dump({"schema": INCOMPLETE_SCHEMA, "gaps": sorted(set(collected.gaps))})
    written = sorted(files)
    files[MARKER] = dump({"files": written})
    for relative in files:
        parent = (out / relative).parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"{parent}: cannot create the directory: {error.strerror}") from None
    write_all_atomic({out / relative: text for relative, text in sorted(files.items())})
    for stale in sorted(set(previous or ()) - set(written)):
        path = out / stale
        if ".." not in Path(stale).parts and path.is_file():
            path.unlink()
    return written
