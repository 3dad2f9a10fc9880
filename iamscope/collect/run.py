"""One live collection as the CLI asks for it: an AWS session from boto3's standard credential chain
(`--profile`, the regions of `--region` or the profile's default), the EKS cluster named by `--cluster`
or the configuration, and the Kubernetes cluster of the kubeconfig's `--context` unless `--no-k8s`.
Decides nothing about the data; returns what the collectors read and what they could not.

Every setup problem (no credentials, a region or cluster name AWS would refuse, a kubeconfig that
cannot be used) is a UsageError raised before anything is collected, not a gap found halfway."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamscope.collect.result import Collected, Progress
from iamscope.errors import UsageError


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveOptions:
    profile: str | None = None
    regions: tuple[str, ...] = ()
    cluster: str | None = None
    kube_context: str | None = None
    kubeconfig: Path | None = None
    aws: bool = True
    k8s: bool = True
    page_size: int | None = None
    connect_timeout: float | None = None  # seconds; None: each collector's default
    read_timeout: float | None = None


def _session(profile: str | None) -> Any:  # boto3 ships no type hints
    import boto3
    import botocore.exceptions

    try:
        return boto3.session.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise UsageError(f"--profile {profile}: no such profile in the AWS configuration") from None
    except botocore.exceptions.BotoCoreError as error:
        raise UsageError(f"the AWS configuration cannot be read: {error}") from None


def _regions(session: Any, regions: Sequence[str]) -> tuple[str, ...]:
    from iamscope.collect.aws import check_region

    if regions:
        return tuple(check_region(r) for r in dict.fromkeys(regions))
    default = getattr(session, "region_name", None)
    if not default:
        raise UsageError("no AWS region: give --region (repeatable) or set one in the AWS configuration")
    return (check_region(default),)


def _timeouts(options: LiveOptions, read: str) -> dict[str, Any]:
    """The timeouts given, as the keyword arguments of a collector (`read` names its read timeout)."""
    given: dict[str, Any] = {}
    if options.connect_timeout is not None:
        given["connect_timeout"] = options.connect_timeout
    if options.read_timeout is not None:
        given[read] = options.read_timeout
    return given


def collect_live(options: LiveOptions, progress: Progress) -> Collected:
    if not options.aws and not options.k8s:
        raise UsageError("--no-aws and --no-k8s together leave nothing to collect")
    # the whole setup first: a bad one is a usage error before anything is asked of anyone
    session: Any = None
    regions: tuple[str, ...] = ()
    if options.aws:
        from iamscope.collect.aws import check_cluster, check_credentials

        session = _session(options.profile)
        regions = _regions(session, options.regions)
        if options.cluster is not None:
            check_cluster(options.cluster)
        check_credentials(session)
    client: Any = None
    if options.k8s:
        from iamscope.collect.kube import kube_client

        client = kube_client(
            options.kube_context, str(options.kubeconfig) if options.kubeconfig is not None else None
        )
    collected = Collected(files={})
    try:
        if options.aws:
            from iamscope.collect.aws import collect_aws

            collected = collected.merged(
                collect_aws(
                    session,
                    regions=regions,
                    cluster=options.cluster,
                    progress=progress,
                    page_size=options.page_size,
                    **_timeouts(options, "read_timeout"),
                )
            )
        if client is not None:
            from iamscope.collect.kube import collect_kube

            kwargs: dict[str, Any] = {"page_size": options.page_size} if options.page_size else {}
            kwargs |= _timeouts(options, "timeout")
            collected = collected.merged(collect_kube(client, progress=progress, **kwargs))
    finally:
        if client is not None:
            client.close()
    return collected
