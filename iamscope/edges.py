"""The edges of the graph, each with its kind and the reason it exists (the annotation, field or policy
statement that creates it). The graph builder and the checks' evidence both come from here, so a
finding's path is always a path of the graph."""

from __future__ import annotations

from dataclasses import dataclass

from iamscope.access import Grant
from iamscope.identity import TrustCheck
from iamscope.model import Workload
from iamscope.resolve import Mount, ObjectRef, Target

# Edge kinds (stable: `graph --format json` consumers filter on them)
RUNS_AS = "runs-as"
MOUNTS = "mounts"
DECLARES = "declares"
RESOLVES_TO = "resolves-to"
IRSA_ANNOTATION = "irsa-annotation"
POD_IDENTITY = "pod-identity"
CAN_ASSUME = "can-assume"
HAS_POLICY = "has-policy"
HAS_BOUNDARY = "has-boundary"
CAN_READ = "can-read"
CAN_READ_IF = "can-read-if"
CAN_CALL = "can-call"  # granted actions that return no value (DescribeSecret; GetSecretValue without the key)
CAN_DECRYPT = "can-decrypt"
ENCRYPTED_BY = "encrypted-by"
CONTAINS = "contains"
SCHEDULED_ON = "scheduled-on"
INSTANCE_PROFILE = "instance-profile"
BOUND_TO = "bound-to"


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    source: str
    target: str
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source} -[{self.kind}]-> {self.target}"

    def as_evidence(self) -> dict[str, str]:
        return {"edge": str(self), "reason": self.reason}


def runs_as(workload: Workload) -> Edge:
    field = (
        "spec.jobTemplate.spec.template.spec"
        if workload.kind == "CronJob"
        else ("spec" if workload.kind == "Pod" else "spec.template.spec")
    )
    sa = f"{workload.namespace}/ServiceAccount/{workload.pod.service_account}"
    return Edge(
        source=workload.id,
        target=sa,
        kind=RUNS_AS,
        reason=f"{field}.serviceAccountName: {workload.pod.service_account}",
    )


def mounts(mount: Mount) -> Edge:
    inline = f"; volumeAttributes override {', '.join(mount.inline)}" if mount.inline else ""
    return Edge(
        source=mount.workload,
        target=mount.spc or f"{mount.workload}#{mount.volume}",
        kind=MOUNTS,
        reason=f"volume {mount.volume}: secrets-store CSI volume, secretProviderClass {mount.spc}{inline}",
    )


def declares(mount: Mount, ref: ObjectRef) -> Edge:
    source = mount.spc if ref.id.startswith(mount.spc or "\0") else mount.workload
    where = "parameters.objects" if source == mount.spc else f"volume {mount.volume} volumeAttributes.objects"
    return Edge(
        source=source or mount.workload,
        target=ref.id,
        kind=DECLARES,
        reason=f"{where}[{ref.object.index}] objectName {ref.object.name}",
    )


def resolves_to(ref: ObjectRef, target: Target) -> Edge:
    return Edge(
        source=ref.id,
        target=target.arn,
        kind=RESOLVES_TO,
        reason=target.reason + (" (failover region)" if target.failover else ""),
    )


def identity_edge(sa: str, check: TrustCheck, *, annotated: bool) -> Edge:
    if check.via == "pod-identity":
        kind = POD_IDENTITY
    elif annotated:
        kind = IRSA_ANNOTATION
    else:
        kind = CAN_ASSUME
    prefix = "annotation eks.amazonaws.com/role-arn; " if annotated and check.via == "irsa" else ""
    return Edge(source=check.source or sa, target=check.role_arn, kind=kind, reason=prefix + check.reason)


def reads(resource: str, grant: Grant) -> Edge:
    readable = grant.readable
    kind = CAN_CALL if readable is None else CAN_READ_IF if readable == "conditional" else CAN_READ
    # actions granted by the same statements under the same condition read as one clause
    clauses: dict[tuple[str, str], list[str]] = {}
    for a in grant.actions:
        statements = ", ".join(str(s) for s in a.statements) or "no single statement"
        clauses.setdefault((a.when or "", statements), []).append(a.action)
    parts = [
        f"{', '.join(actions)}{f' only when {when}' if when else ''} ({statements})"
        for (when, statements), actions in clauses.items()
    ]
    if grant.decrypt is not None:
        when = f" only when {grant.decrypt.when}" if grant.decrypt.when else ""
        parts.append(f"kms:Decrypt on {grant.needs_key}{when}")
    elif grant.needs_key:
        parts.append(f"but not kms:Decrypt on {grant.needs_key}")
    return Edge(source=grant.role_arn, target=resource, kind=kind, reason="; ".join(parts))


def decrypts(resource: str, grant: Grant) -> Edge | None:
    """The role may use the customer-managed key that protects the resource (through its service)."""
    if grant.decrypt is None or grant.needs_key is None:
        return None
    statements = ", ".join(str(s) for s in grant.decrypt.statements) or "the key policy"
    when = f" only when {grant.decrypt.when}" if grant.decrypt.when else ""
    return Edge(
        source=grant.role_arn,
        target=grant.needs_key,
        kind=CAN_DECRYPT,
        reason=f"kms:Decrypt for {resource}{when} ({statements})",
    )
