"""One live collection as the CLI asks for it: an AWS session from boto3's standard credential chain
(`--profile`, the regions of `--region` or the profile's default), the EKS cluster named by `--cluster`
or the configuration, and the Kubernetes cluster of the kubeconfig's `--context` unless `--no-k8s`.
Decides nothing about the data; returns what the collectors read and what they could not."""

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
    if regions:
        return tuple(dict.fromkeys(regions))
    default = getattr(session, "region_name", None)
    if not default:
        raise UsageError("no AWS region: give --region (repeatable) or set one in the AWS configuration")
    return (default,)


def collect_live(options: LiveOptions, progress: Progress) -> Collected:
    if not options.aws and not options.k8s:
        raise UsageError("--no-aws and --no-k8s together leave nothing to collect")
    collected = Collected(files={})
    if options.aws:
        from iamscope.collect.aws import collect_aws

        session = _session(options.profile)
        collected = collected.merged(
            collect_aws(
                session,
                regions=_regions(session, options.regions),
                cluster=options.cluster,
                progress=progress,
                page_size=options.page_size,
            )
        )
    if options.k8s:
        from iamscope.collect.kube import collect_kube, kube_client

        client = kube_client(
            options.kube_context, str(options.kubeconfig) if options.kubeconfig is not None else None
        )
        kwargs = {"page_size": options.page_size} if options.page_size else {}
        collected = collected.merged(collect_kube(client, progress=progress, **kwargs))
    return collected
