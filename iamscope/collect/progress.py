"""Progress of a live collection on a terminal: one line on standard error, rewritten in place, that
says which listing runs and how far it got. Silent when standard error is not a terminal or with
--quiet, so logs and pipelines see only warnings and the result."""

from __future__ import annotations

import sys
from typing import TextIO

from iamscope.collect.result import NoProgress, Progress


class TerminalProgress:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._label = ""
        self._total: int | None = None
        self._done = 0
        self._width = 0

    def _draw(self) -> None:
        if self._total:
            filled = int(20 * min(self._done, self._total) / self._total)
            bar = "#" * filled + "-" * (20 - filled)
            text = f"{self._label} [{bar}] {self._done}/{self._total}"
        else:
            text = f"{self._label} {self._done}" if self._done else self._label
        padding = " " * max(0, self._width - len(text))
        self._width = len(text)
        self._stream.write(f"\r{text}{padding}")
        self._stream.flush()

    def step(self, label: str, total: int | None = None) -> None:
        self._label, self._total, self._done = label, total, 0
        self._draw()

    def advance(self, units: int = 1) -> None:
        self._done += units
        self._draw()

    def close(self) -> None:
        if self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()


def progress_for(quiet: bool, stream: TextIO | None = None) -> Progress:
    stream = stream or sys.stderr
    if quiet or not stream.isatty():
        return NoProgress()
    return TerminalProgress(stream)
