"""What a collector returns: the files of a state directory, as JSON values, and what it could not
read. Shared by the AWS and Kubernetes collectors and the writer; the progress protocol the CLI
implements on a terminal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Collected:
    # path relative to the state directory ("aws/iam-authorization-details.json", "k8s/pods.json")
    # → the JSON value as the AWS CLI or kubectl prints it
    files: Mapping[str, Any]
    # what could not be read, one line each, "<what was asked>: <why>", e.g.
    # "secretsmanager ListSecrets (eu-west-1): AccessDeniedException: User ... is not authorized ..."
    # any gap makes the snapshot incomplete: scans of it exit 3, never clean
    gaps: tuple[str, ...] = ()
    # what was read but deserves a word (a CRD not installed, a region without the cluster)
    notes: tuple[str, ...] = ()

    def merged(self, other: Collected) -> Collected:
        return Collected(
            files={**self.files, **other.files},
            gaps=(*self.gaps, *other.gaps),
            notes=(*self.notes, *other.notes),
        )


class Progress(Protocol):
    """Told what a collector is doing; shown on a terminal, silent otherwise."""

    def step(self, label: str, total: int | None = None) -> None:
        """A new step begins (`total` units of work when known, e.g. secrets whose policy is read)."""

    def advance(self, units: int = 1) -> None:
        """Units of the current step are done (a page listed, a policy read)."""


class NoProgress:
    def step(self, label: str, total: int | None = None) -> None:
        return None

    def advance(self, units: int = 1) -> None:
        return None
