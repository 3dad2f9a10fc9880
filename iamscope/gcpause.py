"""Holding Python's cyclic garbage collector back while a phase builds millions of objects that form
no reference cycles (parsed input, the model, assessments, rendered entries)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector back while a phase builds millions of objects that form no
    reference cycles: each full collection walks every live object (the whole inventory), and one
    runs every few hundred thousand allocations, so the phases grew faster than their input. Whatever
    cycles do form are collected once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
