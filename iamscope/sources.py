"""Finding input files: a path is a file, a directory searched recursively, or `-` for standard input.
Listing is sorted so that the order files are found in never changes a result."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from iamscope.errors import InputError
from iamscope.files import STDIN

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def manifest_files(paths: Iterable[str | Path]) -> list[str]:
    """Every manifest file named by `paths`, each once, in a stable order (stdin, if given, first)."""
    found: set[str] = set()
    stdin = False
    for path in paths:
        name = str(path)
        if name == STDIN:
            stdin = True
            continue
        p = Path(name)
        if p.is_dir():
            found.update(
                str(f)
                for f in p.rglob("*")
                if f.suffix.lower() in MANIFEST_SUFFIXES and f.is_file() and not _hidden(f, p)
            )
        elif p.exists():
            found.add(name)
        else:
            raise InputError("no such file or directory", source=name)
    return ([STDIN] if stdin else []) + sorted(found)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
