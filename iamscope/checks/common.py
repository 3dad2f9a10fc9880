"""Pieces the checks share: the evidence paths (as graph edges) from a workload to a role and from a
workload's declaration to an ARN, the subjects a service-account-level fact is reported on."""

from __future__ import annotations

from iamscope.assess import Assessment, Need, ServiceAccountView
from iamscope.chain import chain_of
from iamscope.edges import Edge, declares, identity_edge, mounts, resolves_to, runs_as
from iamscope.identity import TrustCheck
from iamscope.model import Location, ServiceAccount


def role_path(
    assessment: Assessment, view: ServiceAccountView, workload: str | None, check: TrustCheck
) -> list[Edge]:
    edges = []
    w = assessment.workloads.get(workload or "")
    if w is not None:
        edges.append(runs_as(w))
    checks = {c.role_arn: c for c, _ in view.access}
    for step in chain_of(check, checks):
        annotated = step.via == "irsa" and view.identity.annotation == step.role_arn
        edges.append(identity_edge(view.id, step, annotated=annotated))
    return edges


def declaration_path(need: Need) -> list[Edge]:
    return [mounts(need.mount), declares(need.mount, need.ref), resolves_to(need.ref, need.target)]


def subjects(view: ServiceAccountView, *, mounting: bool = False) -> tuple[str, ...]:
    """Who a fact about a service account's access is reported on: its workloads (those with AWS
    mounts when `mounting`), or the service account itself when no workload runs as it."""
    if mounting:
        with_mounts = tuple(sorted({m.workload for m in view.mounts}))
        if with_mounts:
            return with_mounts
    return view.workloads or (view.id,)


def location_of(assessment: Assessment, subject: str) -> Location | None:
    w = assessment.workloads.get(subject)
    if w is not None:
        return w.location
    return _declared_locations(assessment.inventory.kube.service_accounts).get(subject)


# the table of the last scan's service accounts, with the (immutable) tuple it was made from
_DECLARED: list[tuple[tuple[ServiceAccount, ...], dict[str, Location | None]]] = []


def _declared_locations(service_accounts: tuple[ServiceAccount, ...]) -> dict[str, Location | None]:
    """Where each declared service account is (the first one, if an id is declared twice): made once
    per scan rather than searched for every finding."""
    last = _DECLARED[0] if _DECLARED else None  # one read: another thread may replace it
    if last is not None and last[0] is service_accounts:
        return last[1]
    table: dict[str, Location | None] = {}
    for sa in service_accounts:
        table.setdefault(sa.id, sa.location)
    _DECLARED[:] = [(service_accounts, table)]
    return table
