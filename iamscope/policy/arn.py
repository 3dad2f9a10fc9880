"""Amazon Resource Names: parsing into their six colon-separated parts.

`arn:partition:service:region:account-id:resource`, where the resource part may itself contain colons
(`secret:name-AbCdEf`) or slashes (`parameter/app/db`). Region and account may be empty (IAM, S3).
"""

from __future__ import annotations

from dataclasses import dataclass

from iamscope.errors import ArnError

_PARTITIONS_PREFIX = "aws"


@dataclass(frozen=True, slots=True, kw_only=True)
class Arn:
    """One parsed ARN. `str(arn)` gives back exactly the text it was parsed from."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str:
        """The part of the resource before the first `:` or `/` (`secret`, `parameter`, `role`)."""
        for i, ch in enumerate(self.resource):
            if ch in ":/":
                return self.resource[:i]
        return ""

    @property
    def resource_id(self) -> str:
        """The resource without its type prefix (`name-AbCdEf`, `app/db`, `path/role-name`)."""
        kind = self.resource_type
        return self.resource[len(kind) + 1 :] if kind else self.resource


def parse_arn(text: str) -> Arn:
    """Parse `text` as an ARN or raise ArnError saying what is wrong with it."""
    if not isinstance(text, str):
        raise ArnError(f"expected an ARN string, got {type(text).__name__}")
    parts = text.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise ArnError(f"not an ARN (want arn:partition:service:region:account:resource): {text!r}")
    _, partition, service, region, account, resource = parts
    if not partition.startswith(_PARTITIONS_PREFIX):
        raise ArnError(f"unknown partition {partition!r} in {text!r}")
    if not service:
        raise ArnError(f"empty service in {text!r}")
    if not resource:
        raise ArnError(f"empty resource in {text!r}")
    return Arn(partition=partition, service=service, region=region, account=account, resource=resource)


def try_parse_arn(text: str) -> Arn | None:
    """`parse_arn` for callers that treat a non-ARN as a plain value (account ids, `*`)."""
    try:
        return parse_arn(text)
    except ArnError:
        return None
