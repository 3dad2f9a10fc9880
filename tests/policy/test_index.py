"""ArnIndex answers exactly what the Resource-element regex answers, for the pattern shapes real
policies use (IAM User Guide, Resource element: wildcards within segments; a segment-final `*`
may expand across colons)."""

from __future__ import annotations

import pytest

from iamscope.policy import ArnIndex, resource_matches

SM = "arn:aws:secretsmanager:{region}:{account}:secret:{name}"
ARNS = [
    SM.format(region="eu-west-1", account="111122223333", name="prod/payments/db-Xy12Ab"),
    SM.format(region="eu-west-1", account="111122223333", name="prod/payments/db-replica-Qw34Er"),
    SM.format(region="eu-west-1", account="111122223333", name="prod/orders/db-Zz99Yy"),
    SM.format(region="us-east-1", account="111122223333", name="prod/payments/db-Aa11Bb"),
    SM.format(region="us-east-1", account="444455556666", name="prod/payments/db-Cc22Dd"),
    SM.format(region="eu-west-1", account="111122223333", name="staging/payments/db-Ee33Ff"),
    "arn:aws:ssm:eu-west-1:111122223333:parameter/app/payments/api-key",
    "arn:aws:ssm:eu-west-1:111122223333:parameter/app/orders/api-key",
    "arn:aws:kms:eu-west-1:111122223333:key/0f2c7a4e-9d1b-4c55-8e2a-31b7f5d0c9aa",
]

CASES = [
    # (pattern, expected names after the last ':' / '/' to keep the table readable)
    ("*", len(ARNS)),
    ("arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/db-??????", 1),
    ("arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/db*", 2),
    ("arn:aws:secretsmanager:*:*:secret:prod/payments/*", 4),
    ("arn:aws:secretsmanager:*:111122223333:secret:prod/*", 4),
    ("arn:aws:secretsmanager:eu-*:*:secret:*", 4),
    ("arn:aws:secretsmanager:*", 6),  # segment-final `*` spans the rest of the ARN
    ("arn:aws:secretsmanager:eu-west-1:*:prod*", 3),  # account `*` spans `111122223333:secret`
    ("arn:aws:ssm:*:*:parameter/app/*", 2),
    ("arn:aws:ssm:eu-west-1:111122223333:parameter/app/*/api-key", 2),
    ("arn:aws:secretsmanager:eu-west-1:111122223333:secret:Prod/*", 0),  # case-sensitive
    ("arn:aws:*:*:*:*", 9),  # secrets have seven parts: the final `*` spans `secret:name`
    ("arn:aws:s3:::bucket/*", 0),
]


@pytest.mark.parametrize(("pattern", "count"), CASES, ids=[c[0] for c in CASES])
def test_index_agrees_with_the_regex(pattern: str, count: int) -> None:
    index = ArnIndex(ARNS)
    expected = tuple(sorted(a for a in set(ARNS) if resource_matches(pattern, a)))
    assert index.match(pattern) == expected
    assert len(expected) == count


def test_match_any_is_sorted_union() -> None:
    index = ArnIndex(ARNS)
    got = index.match_any(["arn:aws:ssm:*:*:parameter/app/orders/*", "arn:aws:kms:*:*:key/*"])
    assert got == (
        "arn:aws:kms:eu-west-1:111122223333:key/0f2c7a4e-9d1b-4c55-8e2a-31b7f5d0c9aa",
        "arn:aws:ssm:eu-west-1:111122223333:parameter/app/orders/api-key",
    )


def test_membership_and_length_ignore_duplicates() -> None:
    index = ArnIndex([*ARNS, ARNS[0]])
    assert len(index) == len(ARNS)
    assert ARNS[0] in index
    assert "arn:aws:ssm:eu-west-1:111122223333:parameter/nope" not in index
