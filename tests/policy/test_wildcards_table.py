"""Table-driven checks of IAM action and resource matching, written from the AWS IAM User Guide.

Every row carries the guide page it comes from and a paraphrase of the rule it checks, so a failure
reads as "this AWS rule is not honoured" rather than "this string did not match".
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from iamscope.policy import action_matches as exported_action_matches
from iamscope.policy import resource_matches as exported_resource_matches
from iamscope.policy.wildcard import action_matches, resource_matches

SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
PARAM = "arn:aws:ssm:us-east-1:111122223333:parameter/"
BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket/"

ACTION_PAGE = "reference_policies_elements_action"
RESOURCE_PAGE = "reference_policies_elements_resource"


@dataclass(frozen=True)
class Row:
    id: str
    pattern: str
    value: str
    expected: bool
    rule: str


ACTION_ROWS = [
    Row(
        "action-exact",
        "secretsmanager:GetSecretValue",
        "secretsmanager:GetSecretValue",
        True,
        f"{ACTION_PAGE}: an action is named <service prefix>:<action name>",
    ),
    Row(
        "action-name-case-insensitive",
        "secretsmanager:getsecretvalue",
        "secretsmanager:GetSecretValue",
        True,
        f"{ACTION_PAGE}: the prefix and the action name are case insensitive "
        "(iam:ListAccessKeys is the same as IAM:listaccesskeys)",
    ),
    Row(
        "action-prefix-case-insensitive",
        "SecretsManager:GetSecretValue",
        "secretsmanager:getSecretValue",
        True,
        f"{ACTION_PAGE}: the service prefix is case insensitive too",
    ),
    Row(
        "action-wildcard-case-insensitive",
        "secretsmanager:Describe*",
        "SECRETSMANAGER:DESCRIBESECRET",
        True,
        f"{ACTION_PAGE}: case insensitivity also holds for wildcard patterns",
    ),
    Row(
        "action-trailing-star",
        "secretsmanager:Get*",
        "secretsmanager:GetSecretValue",
        True,
        f"{ACTION_PAGE}: * in the action name matches any run of characters",
    ),
    Row(
        "action-trailing-star-other-action",
        "secretsmanager:Get*",
        "secretsmanager:DescribeSecret",
        False,
        f"{ACTION_PAGE}: a partial wildcard only covers actions with that prefix",
    ),
    Row(
        "action-trailing-star-other-service",
        "secretsmanager:Get*",
        "ssm:GetParameters",
        False,
        f"{ACTION_PAGE}: the service prefix must match as well as the action name",
    ),
    Row(
        "action-service-star",
        "secretsmanager:*",
        "secretsmanager:ListSecrets",
        True,
        f"{ACTION_PAGE}: <prefix>:* applies to all actions of that service ('s3:*' example)",
    ),
    Row(
        "action-service-star-other-service",
        "secretsmanager:*",
        "ssm:GetParameters",
        False,
        f"{ACTION_PAGE}: <prefix>:* does not reach another service",
    ),
    Row(
        "action-star-alone",
        "*",
        "kms:Decrypt",
        True,
        f"{ACTION_PAGE}: '*' alone matches every action of every service",
    ),
    Row(
        "action-infix-star-create",
        "iam:*AccessKey*",
        "iam:CreateAccessKey",
        True,
        f"{ACTION_PAGE}: 'iam:*AccessKey*' applies to CreateAccessKey (documented example)",
    ),
    Row(
        "action-infix-star-list",
        "iam:*AccessKey*",
        "iam:ListAccessKeys",
        True,
        f"{ACTION_PAGE}: 'iam:*AccessKey*' applies to ListAccessKeys (documented example)",
    ),
    Row(
        "action-infix-star-miss",
        "iam:*AccessKey*",
        "iam:ListUsers",
        False,
        f"{ACTION_PAGE}: 'iam:*AccessKey*' needs the string AccessKey in the action",
    ),
    Row(
        "action-suffix-pattern-whole-string",
        "secretsmanager:*Secret",
        "secretsmanager:ListSecrets",
        False,
        f"{ACTION_PAGE}: a pattern matches the whole action name, not a substring of it",
    ),
    Row(
        "action-question-one-char",
        "ssm:GetParameter?",
        "ssm:GetParameters",
        True,
        f"{ACTION_PAGE}: ? is the single-character match wildcard",
    ),
    Row(
        "action-question-not-zero-chars",
        "ssm:GetParameter?",
        "ssm:GetParameter",
        False,
        f"{ACTION_PAGE}: ? stands for exactly one character, not zero",
    ),
    Row(
        "action-question-not-many-chars",
        "ssm:GetParameter?",
        "ssm:GetParametersByPath",
        False,
        f"{ACTION_PAGE}: ? stands for exactly one character, not several",
    ),
    Row(
        "action-no-prefix-match",
        "secretsmanager:GetSecretValue",
        "secretsmanager:GetSecretValueX",
        False,
        f"{ACTION_PAGE}: without a wildcard the name must match exactly (no prefix match)",
    ),
]


RESOURCE_ROWS = [
    Row(
        "resource-exact",
        SECRET + "app/db-AbCdEf",
        SECRET + "app/db-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: a resource is specified by its ARN",
    ),
    Row(
        "resource-no-prefix-match",
        SECRET + "app/db",
        SECRET + "app/db-AbCdEf",
        False,
        f"{RESOURCE_PAGE}: without a wildcard the ARN must match exactly, so a secret name without its "
        "random suffix does not cover the secret",
    ),
    Row(
        "secret-suffix-six-question-marks",
        SECRET + "app/db-??????",
        SECRET + "app/db-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: ? represents any single character; six of them cover the 6-char secret suffix",
    ),
    Row(
        "secret-suffix-excludes-longer-name",
        SECRET + "app/db-??????",
        SECRET + "app/db-other-AbCdEf",
        False,
        f"{RESOURCE_PAGE}: ? is exactly one character, so name-?????? does not cover name-other-xxxxxx",
    ),
    Row(
        "secret-name-star-includes-longer-name",
        SECRET + "app/db*",
        SECRET + "app/db-other-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: * is any combination of characters, so name* also covers name-other-xxxxxx",
    ),
    Row(
        "secret-suffix-too-short",
        SECRET + "app/db-??????",
        SECRET + "app/db-AbCdE",
        False,
        f"{RESOURCE_PAGE}: six ? need six characters; five do not match",
    ),
    Row(
        "secret-suffix-too-long",
        SECRET + "app/db-??????",
        SECRET + "app/db-AbCdEfG",
        False,
        f"{RESOURCE_PAGE}: six ? need six characters; seven do not match",
    ),
    Row(
        "resource-case-sensitive",
        SECRET + "app/db-??????",
        SECRET + "App/db-AbCdEf",
        False,
        f"{RESOURCE_PAGE}: resource names in ARNs are case sensitive (the page's note on user/Bob); "
        "DESIGN.md section 4 states resource ARNs are case-sensitive",
    ),
    Row(
        "resource-question-case-sensitive-literal",
        SECRET + "APP/db-??????",
        SECRET + "app/db-AbCdEf",
        False,
        f"{RESOURCE_PAGE}: case sensitivity applies to the literal parts around wildcards",
    ),
    Row(
        "resource-star-alone",
        "*",
        SECRET + "app/db-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: Resource '*' covers every resource",
    ),
    Row(
        "resource-star-alone-request-star",
        "*",
        "*",
        True,
        f"{RESOURCE_PAGE}: actions without resource-level permissions use '*', and Resource '*' covers them",
    ),
    Row(
        "resource-region-segment-star",
        "arn:aws:secretsmanager:*:111122223333:secret:app/db-??????",
        "arn:aws:secretsmanager:us-west-2:111122223333:secret:app/db-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: wildcards may be used within any ARN segment, here the whole region segment",
    ),
    Row(
        "resource-account-segment-star",
        "arn:aws:secretsmanager:us-east-1:*:secret:*",
        SECRET + "app/db-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: a wildcard may replace the whole account segment",
    ),
    Row(
        "resource-other-account",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:*",
        "arn:aws:secretsmanager:us-east-1:444455556666:secret:app/db-AbCdEf",
        False,
        f"{RESOURCE_PAGE}: literal segments (the account) must match exactly",
    ),
    Row(
        "resource-star-within-segment",
        "arn:aws:secretsmanager:us-*-1:111122223333:secret:app/db-AbCdEf",
        SECRET + "app/db-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: * may be used inside a segment, in the middle of it",
    ),
    Row(
        "resource-mid-segment-star-does-not-cross-colon",
        SECRET + "a*z",
        SECRET + "a:b:z",
        False,
        f"{RESOURCE_PAGE}: wildcards are used within the individual segments (the parts separated by "
        "colons); only a * that is the last character of a segment may expand beyond a colon "
        "(ambiguous: ArnLike treats everything after the fifth colon as one component; the Resource "
        "page's literal wording makes every colon a segment boundary)",
    ),
    Row(
        "resource-last-star-of-segment-crosses-colon",
        SECRET + "a*",
        SECRET + "a:b:z",
        True,
        f"{RESOURCE_PAGE}: if the * wildcard is the last character of a resource ARN segment, it can "
        "expand to match beyond the colon boundaries",
    ),
    Row(
        "resource-service-then-star-crosses-colons",
        "arn:aws:secretsmanager:*",
        SECRET + "app/db-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: a * that ends a segment can expand over the following segments",
    ),
    Row(
        "resource-last-star-of-middle-segment-crosses-colon",
        "arn:aws:secretsmanager:us-*:secret:app/db-??????",
        SECRET + "app/db-AbCdEf",
        True,
        f"{RESOURCE_PAGE}: a * ending a middle segment ('us-*') may expand beyond the colon boundaries "
        "(ambiguous: the page states the rule but gives no example of a * ending a middle segment)",
    ),
    Row(
        "resource-star-crosses-slash",
        PARAM + "app/*",
        PARAM + "app/db/password",
        True,
        f"{RESOURCE_PAGE}: * replaces everything within a segment, including the '/' characters",
    ),
    Row(
        "s3-doc-example-two-levels",
        BUCKET + "*/test/*",
        BUCKET + "1/2/test/object.jpg",
        True,
        f"{RESOURCE_PAGE}: documented example, '.../*/test/*' applies to 1/2/test/object.jpg",
    ),
    Row(
        "s3-doc-example-empty-parts",
        BUCKET + "*/test/*",
        BUCKET + "1///test///object.jpg",
        True,
        f"{RESOURCE_PAGE}: documented example, '/' has no special meaning (1///test///object.jpg)",
    ),
    Row(
        "s3-doc-example-leading-slash",
        BUCKET + "*/test/*",
        BUCKET + "/test/object.jpg",
        True,
        f"{RESOURCE_PAGE}: documented example, * may match the empty string (bucket//test/object.jpg)",
    ),
    Row(
        "s3-doc-example-trailing-slash",
        BUCKET + "*/test/*",
        BUCKET + "1/test/",
        True,
        f"{RESOURCE_PAGE}: documented example, the trailing * may match nothing (1/test/)",
    ),
    Row(
        "s3-doc-example-no-slash-before-test",
        BUCKET + "*/test/*",
        BUCKET + "1-test/object.jpg",
        False,
        f"{RESOURCE_PAGE}: documented non-match, 1-test/object.jpg lacks '/test/'",
    ),
    Row(
        "s3-doc-example-no-leading-part",
        BUCKET + "*/test/*",
        BUCKET + "test/object.jpg",
        False,
        f"{RESOURCE_PAGE}: documented non-match, test/object.jpg lacks the '/' before test",
    ),
    Row(
        "s3-doc-example-no-slash-after-test",
        BUCKET + "*/test/*",
        BUCKET + "1/2/test.jpg",
        False,
        f"{RESOURCE_PAGE}: documented non-match, 1/2/test.jpg lacks '/test/'",
    ),
    Row(
        "s3-question-in-bucket-name",
        "arn:aws:s3:::example?bucket/*",
        "arn:aws:s3:::example2bucket/photo.jpg",
        True,
        f"{RESOURCE_PAGE}: ? matches any single character inside the resource part (example?bucket)",
    ),
]


@pytest.mark.parametrize("row", ACTION_ROWS, ids=[r.id for r in ACTION_ROWS])
def test_action_matching(row: Row) -> None:
    assert bool(action_matches(row.pattern, row.value)) is row.expected, row.rule


@pytest.mark.parametrize("row", RESOURCE_ROWS, ids=[r.id for r in RESOURCE_ROWS])
def test_resource_matching(row: Row) -> None:
    assert bool(resource_matches(row.pattern, row.value)) is row.expected, row.rule


def test_matchers_are_reexported_from_the_package() -> None:
    assert exported_action_matches is action_matches
    assert exported_resource_matches is resource_matches


def test_every_row_names_its_page_and_ids_are_unique() -> None:
    rows = ACTION_ROWS + RESOURCE_ROWS
    assert len({r.id for r in rows}) == len(rows)
    for r in rows:
        assert r.rule.startswith("reference_policies_"), r.id
