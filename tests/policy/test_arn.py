"""ARN parsing (IAM User Guide, "Identify AWS resources with Amazon Resource Names"): six parts, the
resource part keeping its own colons and slashes; region and account may be empty."""

from __future__ import annotations

import pytest

from iamscope.errors import ArnError
from iamscope.policy import parse_arn, try_parse_arn

PARSED = [
    ("arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf", ("aws", "secretsmanager", "eu-west-1", "111122223333", "secret:prod/db-AbCdEf"), "secret", "prod/db-AbCdEf"),
    ("arn:aws:ssm:eu-west-1:111122223333:parameter/app/db/password", ("aws", "ssm", "eu-west-1", "111122223333", "parameter/app/db/password"), "parameter", "app/db/password"),
    ("arn:aws:iam::111122223333:role/eks/prod-payments-api", ("aws", "iam", "", "111122223333", "role/eks/prod-payments-api"), "role", "eks/prod-payments-api"),
    ("arn:aws-cn:s3:::bucket", ("aws-cn", "s3", "", "", "bucket"), "", "bucket"),
    ("arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/0f2c7a4e", ("aws-us-gov", "kms", "us-gov-west-1", "111122223333", "key/0f2c7a4e"), "key", "0f2c7a4e"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "parts", "kind", "ident"), PARSED, ids=[p[0] for p in PARSED])
def test_parse(text: str, parts: tuple[str, ...], kind: str, ident: str) -> None:
    arn = parse_arn(text)
    assert (arn.partition, arn.service, arn.region, arn.account, arn.resource) == parts
    assert (arn.resource_type, arn.resource_id) == (kind, ident)
    assert str(arn) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("secret:prod/db", "not an ARN"),
        ("arn:aws:secretsmanager:eu-west-1:111122223333", "not an ARN"),
        ("arn:gcp:secretsmanager:eu-west-1:111122223333:secret:x", "unknown partition 'gcp'"),
        ("arn:aws::eu-west-1:111122223333:secret:x", "empty service"),
        ("arn:aws:secretsmanager:eu-west-1:111122223333:", "empty resource"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ArnError, match=message):
        parse_arn(text)
    assert try_parse_arn(text) is None
