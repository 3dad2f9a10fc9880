"""Which KMS key decrypts a secret or parameter, and whether it is customer managed (only those need
a kms:Decrypt grant; AWS managed keys let every principal of the account use them through their
service). Without kms-keys*.json, a key other than the service's AWS managed alias is taken as
customer managed."""

from __future__ import annotations

from collections.abc import Iterable

from iamscope.model import KmsKey
from iamscope.policy.arn import try_parse_arn

SECRETSMANAGER = "secretsmanager"
SSMPARAMETER = "ssmparameter"
AWS_MANAGED_ALIASES = {SECRETSMANAGER: "alias/aws/secretsmanager", SSMPARAMETER: "alias/aws/ssm"}


class KeyDirectory:
    """The snapshot's keys, found by ARN, key id or alias (name or ARN) within a region and account."""

    def __init__(self, keys: Iterable[KmsKey]) -> None:
        self.by_arn: dict[str, KmsKey] = {}
        self._local: dict[tuple[str, str, str], KmsKey] = {}
        for key in keys:
            self.by_arn[key.arn] = key
            self._local[(key.region, key.account, key.key_id)] = key
            for alias in key.aliases:
                self._local[(key.region, key.account, alias)] = key

    def find(self, ref: str, region: str, account: str) -> KmsKey | None:
        parsed = try_parse_arn(ref)
        if parsed is not None:
            return self.by_arn.get(ref) or self._local.get(
                (parsed.region, parsed.account, parsed.resource.removeprefix("key/"))
            )
        return self._local.get((region, account, ref))

    def customer_key(
        self, kind: str, ref: str | None, region: str, account: str, partition: str = "aws"
    ) -> str | None:
        """The ARN of the customer-managed key that decrypts the object, or None for an AWS managed key."""
        if ref is None or ref.endswith(AWS_MANAGED_ALIASES[kind]):
            return None
        key = self.find(ref, region, account)
        if key is not None:
            return key.arn if key.customer_managed else None
        if ref.startswith("alias/aws/") or ref.endswith(":alias/aws/" + ref.rsplit("/", 1)[-1]):
            return None
        if try_parse_arn(ref) is not None:
            return ref
        resource = ref if ref.startswith("alias/") else f"key/{ref}"
        return f"arn:{partition}:kms:{region}:{account}:{resource}"
