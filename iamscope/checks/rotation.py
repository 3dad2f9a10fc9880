"""Rotation load against the AWS quotas: with rotation on, every mounted pod volume polls each
interval, per region it reads from, one DescribeSecret per Secrets Manager object and one
GetParameters per ten SSM objects (DESIGN.md §4). Summed per account, region and service, divided by
the poll interval, against the configured quota; throttled polls fail silently, so the secrets stop
rotating."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from iamscope.assess import Assessment
from iamscope.checks.driver import is_driver
from iamscope.findings import Finding, rule
from iamscope.model import Workload
from iamscope.policy.arn import try_parse_arn
from iamscope.resolve import Mount

ROTATION_DOCS = "https://secrets-store-csi-driver.sigs.k8s.io/topics/secret-auto-rotation"
QUOTAS_DOCS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"
DEFAULT_INTERVAL = 120.0  # the driver's --rotation-poll-interval default, 2m
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration(text: str) -> float | None:
    """A Go duration (2m, 1m30s, 90s) in seconds."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    enabled: bool
    interval: float
    source: str


def rotation(assessment: Assessment) -> Rotation | None:
    """The driver's rotation settings from its container args (None: no driver in the input)."""
    for workload in sorted(assessment.workloads.values(), key=lambda w: w.id):
        if not is_driver(workload):
            continue
        enabled, interval = False, DEFAULT_INTERVAL
        for container in workload.pod.containers:
            args = list(container.args)
            for i, arg in enumerate(args):
                name, equals, value = arg.lstrip("-").partition("=")
                if name == "enable-secret-rotation":
                    # Go's flag package: a boolean flag takes its value only after `=`
                    enabled = value.lower() in ("", "true", "1", "t")
                elif name == "rotation-poll-interval":
                    if not equals and i + 1 < len(args):
                        value = args[i + 1]  # `--rotation-poll-interval 15s`, as Go's flag package allows
                    interval = duration(value) or interval
        return Rotation(enabled=enabled, interval=interval, source=workload.id)
    return None


def _pods(workload: Workload, nodes: int) -> int:
    if workload.kind == "DaemonSet":
        return max(nodes, 1)
    if workload.pods:
        return len(workload.pods)
    return workload.replicas if workload.replicas is not None else 1


def _calls(mount: Mount) -> dict[tuple[str, str, str], int]:
    """Calls per poll of one pod's volume, by (service, account, region)."""
    secrets: dict[tuple[str, str], int] = {}
    parameters: dict[tuple[str, str], int] = {}
    for ref in mount.objects:
        for target in ref.targets:
            parsed = try_parse_arn(target.arn)
            if parsed is None:
                continue
            bucket = secrets if target.kind == "secretsmanager" else parameters
            bucket[(parsed.account, parsed.region)] = bucket.get((parsed.account, parsed.region), 0) + 1
    calls = {("secretsmanager", a, r): n for (a, r), n in secrets.items()}
    calls |= {("ssm", a, r): math.ceil(n / 10) for (a, r), n in parameters.items()}
    return calls


@dataclass(frozen=True, slots=True, kw_only=True)
class Load:
    """API calls one rotation poll makes against one service in one account and region, and which
    workloads make them."""

    service: str  # secretsmanager | ssm
    account: str
    region: str
    per_poll: float
    by_workload: tuple[tuple[str, float], ...]  # most calls first


def rotation_load(assessment: Assessment) -> tuple[Load, ...]:
    """Calls per poll of every resolvable AWS mount, by service, account and region (DESIGN.md §4)."""
    nodes = len(assessment.inventory.kube.nodes)
    by: dict[tuple[str, str, str], dict[str, float]] = {}
    for mount in assessment.mounts:
        if not mount.aws or mount.problems:
            continue
        workload = assessment.workloads.get(mount.workload)
        pods = _pods(workload, nodes) if workload else 1
        for key, calls in _calls(mount).items():
            per = by.setdefault(key, {})
            per[mount.workload] = per.get(mount.workload, 0.0) + calls * pods
    return tuple(
        Load(
            service=service,
            account=account,
            region=region,
            per_poll=sum(per.values()),
            by_workload=tuple(sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))),
        )
        for (service, account, region), per in sorted(by.items())
    )


def quota(assessment: Assessment, service: str) -> float:
    return assessment.config.secretsmanager_rps if service == "secretsmanager" else assessment.config.ssm_tps


@rule(
    "rotation-rate-limit",
    title="Rotation polling would exceed the AWS API quota",
    severity="high",
    family="driver",
    rationale="With rotation on, every pod volume polls every interval; above the account's quota the "
    "calls are throttled, ASCP fails the poll, and secrets stop rotating without anyone noticing.",
    remediation="Lengthen --rotation-poll-interval (the finding says which would fit), request a quota "
    "increase or SSM higher throughput, and alert on rotation age.",
    references=(ROTATION_DOCS, QUOTAS_DOCS),
)
def rotation_rate_limit(assessment: Assessment) -> Iterator[Finding]:
    settings = rotation(assessment)
    if settings is None or not settings.enabled:
        return
    for load in rotation_load(assessment):
        service, account, region, per_poll = load.service, load.account, load.region, load.per_poll
        rate = per_poll / settings.interval
        limit = quota(assessment, service)
        if rate <= limit:
            continue
        fits = math.ceil(per_poll / limit)
        top = load.by_workload[:5]
        yield Finding(
            rule="rotation-rate-limit",
            severity="high",
            subject=f"{service}:{region}:{account}",
            message=f"rotation polls every {settings.interval:g}s make {per_poll:g} {service} calls a poll, "
            f"{rate:.1f}/s against a quota of {limit:g}/s in {region} (account {account}); an interval of at "
            f"least {fits}s would fit; most calls come from " + ", ".join(f"{w} ({n:g})" for w, n in top),
            objects=(settings.source,),
            key=f"{service} {account} {region}",
        )
