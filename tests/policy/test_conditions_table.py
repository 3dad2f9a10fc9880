"""Table-driven checks of IAM condition operators, written from the AWS IAM User Guide.

Each row is one Condition block, a request context and whether the block matches. Every row is driven
through `evaluate()` twice: as the condition of a lone Allow statement (match -> Allow, no match ->
ImplicitDeny) and as the condition of a Deny statement next to an unconditional Allow (match ->
ExplicitDeny, no match -> Allow). A condition's truth does not depend on the statement's effect; the
operators page says so for negated operators and IfExists in Deny statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from iamscope.policy import evaluate

OPS = "reference_policies_elements_condition_operators"
COND = "reference_policies_elements_condition"
MULTI = "reference_policies_condition-logic-multiple-context-keys-or-values"
SETS = "reference_policies_condition-single-vs-multi-valued-context-keys"
SET_EXAMPLES = "reference_policies_condition_examples-multi-valued-context-keys"

GET = "secretsmanager:GetSecretValue"
SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf"

TEAM = "aws:PrincipalTag/team"
REGION = "aws:RequestedRegion"
IP = "aws:SourceIp"
NOW = "aws:CurrentTime"
EPOCH = "aws:EpochTime"
ISSUED = "aws:TokenIssueTime"
TLS = "aws:SecureTransport"
MFA = "aws:MultiFactorAuthPresent"
PRINCIPAL_ARN = "aws:PrincipalArn"
SOURCE_ARN = "aws:SourceArn"
TAG_KEYS = "aws:TagKeys"
MAX_KEYS = "s3:max-keys"
BINARY_KEY = "ec2:BinaryKey"
BASE64 = "QmluYXJ5VmFsdWVJbkJhc2U2NA=="


@dataclass(frozen=True)
class Row:
    id: str
    condition: dict[str, Any]
    context: dict[str, Any]
    matches: bool
    rule: str


def row(
    id: str, operator: str, key: str, value: Any, context: dict[str, Any], matches: bool, rule: str
) -> Row:
    return Row(id, {operator: {key: value}}, context, matches, rule)


STRING = [
    row(
        "string-equals-match",
        "StringEquals",
        TEAM,
        "app",
        {TEAM: "app"},
        True,
        f"{OPS}: StringEquals is exact matching",
    ),
    row(
        "string-equals-case-sensitive",
        "StringEquals",
        TEAM,
        "app",
        {TEAM: "App"},
        False,
        f"{OPS}: StringEquals is exact matching, case sensitive",
    ),
    row(
        "string-equals-missing",
        "StringEquals",
        TEAM,
        "app",
        {},
        False,
        f"{OPS}: a key not present in the request context does not match; the condition is false",
    ),
    row(
        "string-equals-star-is-literal",
        "StringEquals",
        TEAM,
        "app-*",
        {TEAM: "app-prod"},
        False,
        f"{OPS}: StringEquals is exact matching; wildcards need StringLike (DESIGN.md section 4: "
        "StringEquals with a * never matches a value without one)",
    ),
    row(
        "string-not-equals-other-value",
        "StringNotEquals",
        TEAM,
        "app",
        {TEAM: "web"},
        True,
        f"{OPS}: StringNotEquals is negated matching",
    ),
    row(
        "string-not-equals-same-value",
        "StringNotEquals",
        TEAM,
        "app",
        {TEAM: "app"},
        False,
        f"{OPS}: StringNotEquals is false when the value is equal",
    ),
    row(
        "string-not-equals-missing",
        "StringNotEquals",
        TEAM,
        "app",
        {},
        True,
        f"{OPS}: a negated operator is true when the key is not present",
    ),
    row(
        "string-equals-ignore-case-match",
        "StringEqualsIgnoreCase",
        TEAM,
        "APP",
        {TEAM: "app"},
        True,
        f"{OPS}: StringEqualsIgnoreCase is exact matching, ignoring case",
    ),
    row(
        "string-equals-ignore-case-missing",
        "StringEqualsIgnoreCase",
        TEAM,
        "APP",
        {},
        False,
        f"{OPS}: a positive operator on a missing key is false",
    ),
    row(
        "string-not-equals-ignore-case-same",
        "StringNotEqualsIgnoreCase",
        TEAM,
        "APP",
        {TEAM: "app"},
        False,
        f"{OPS}: StringNotEqualsIgnoreCase is negated matching, ignoring case",
    ),
    row(
        "string-not-equals-ignore-case-other",
        "StringNotEqualsIgnoreCase",
        TEAM,
        "APP",
        {TEAM: "web"},
        True,
        f"{OPS}: StringNotEqualsIgnoreCase is true for a different value",
    ),
    row(
        "string-not-equals-ignore-case-missing",
        "StringNotEqualsIgnoreCase",
        TEAM,
        "APP",
        {},
        True,
        f"{OPS}: a negated operator is true when the key is not present",
    ),
    row(
        "string-like-star",
        "StringLike",
        TEAM,
        "app-*",
        {TEAM: "app-prod"},
        True,
        f"{OPS}: StringLike values can include the multi-character wildcard * anywhere",
    ),
    row(
        "string-like-star-miss",
        "StringLike",
        TEAM,
        "app-*",
        {TEAM: "web-prod"},
        False,
        f"{OPS}: StringLike still needs the literal part to match",
    ),
    row(
        "string-like-question",
        "StringLike",
        TEAM,
        "app-?",
        {TEAM: "app-1"},
        True,
        f"{OPS}: StringLike values can include the single-character wildcard ?",
    ),
    row(
        "string-like-question-one-char-only",
        "StringLike",
        TEAM,
        "app-?",
        {TEAM: "app-12"},
        False,
        f"{OPS}: ? matches a single character, not two",
    ),
    row(
        "string-like-case-sensitive",
        "StringLike",
        TEAM,
        "App-*",
        {TEAM: "app-prod"},
        False,
        f"{OPS}: StringLike is case-sensitive matching",
    ),
    row(
        "string-like-no-wildcard-exact",
        "StringLike",
        TEAM,
        "app",
        {TEAM: "app-prod"},
        False,
        f"{OPS}: you must specify wildcards to achieve partial string matches",
    ),
    row(
        "string-like-missing",
        "StringLike",
        TEAM,
        "*",
        {},
        False,
        f"{OPS}: even StringLike '*' is false when the key is not present",
    ),
    row(
        "string-not-like-other",
        "StringNotLike",
        TEAM,
        "app-*",
        {TEAM: "web"},
        True,
        f"{OPS}: StringNotLike is negated case-sensitive matching",
    ),
    row(
        "string-not-like-matching",
        "StringNotLike",
        TEAM,
        "app-*",
        {TEAM: "app-1"},
        False,
        f"{OPS}: StringNotLike is false when the pattern matches",
    ),
    row(
        "string-not-like-missing",
        "StringNotLike",
        TEAM,
        "app-*",
        {},
        True,
        f"{OPS}: if the condition requires the key is not matched (StringNotLike) and the key is not "
        "present, the condition is true",
    ),
]

NUMERIC = [
    row(
        "numeric-less-than-true",
        "NumericLessThan",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "5"},
        True,
        f"{OPS}: NumericLessThan is 'less than' matching",
    ),
    row(
        "numeric-less-than-equal-value",
        "NumericLessThan",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "10"},
        False,
        f"{OPS}: NumericLessThan is strict",
    ),
    row(
        "numeric-less-than-numeric-not-lexical",
        "NumericLessThan",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "9"},
        True,
        f"{OPS}: numeric operators compare numbers (9 < 10), not strings ('9' > '10')",
    ),
    row(
        "numeric-less-than-missing",
        "NumericLessThan",
        MAX_KEYS,
        "10",
        {},
        False,
        f"{OPS}: a positive numeric operator on a missing key is false",
    ),
    row(
        "numeric-less-than-equals-equal",
        "NumericLessThanEquals",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "10"},
        True,
        f"{OPS}: NumericLessThanEquals is 'less than or equals' (the s3:max-keys up-to-10 example)",
    ),
    row(
        "numeric-greater-than-decimal",
        "NumericGreaterThan",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "10.5"},
        True,
        f"{OPS}: numeric operators compare integer or decimal values",
    ),
    row(
        "numeric-greater-than-equals-below",
        "NumericGreaterThanEquals",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "9"},
        False,
        f"{OPS}: NumericGreaterThanEquals is false below the value",
    ),
    row(
        "numeric-equals-decimal-form",
        "NumericEquals",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "10.0"},
        True,
        f"{OPS}: NumericEquals compares values as numbers, so 10 equals 10.0",
    ),
    row(
        "numeric-equals-list-or",
        "NumericEquals",
        MAX_KEYS,
        ["1", "2"],
        {MAX_KEYS: "2"},
        True,
        f"{MULTI}: several values for one key are evaluated with a logical OR",
    ),
    row(
        "numeric-not-equals-other",
        "NumericNotEquals",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "11"},
        True,
        f"{OPS}: NumericNotEquals is negated matching",
    ),
    row(
        "numeric-not-equals-same",
        "NumericNotEquals",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "10"},
        False,
        f"{OPS}: NumericNotEquals is false for the same number",
    ),
    row(
        "numeric-not-equals-missing",
        "NumericNotEquals",
        MAX_KEYS,
        "10",
        {},
        True,
        f"{OPS}: a negated operator (NumericNotEquals) is true when the key is not present",
    ),
]

DATE = [
    row(
        "date-less-than-iso",
        "DateLessThan",
        NOW,
        "2030-01-01T00:00:00Z",
        {NOW: "2025-06-01T12:00:00Z"},
        True,
        f"{OPS}: DateLessThan matches before a date given in ISO 8601 (W3C) format",
    ),
    row(
        "date-less-than-after",
        "DateLessThan",
        NOW,
        "2020-01-01T00:00:00Z",
        {NOW: "2025-06-01T12:00:00Z"},
        False,
        f"{OPS}: DateLessThan is false after the date",
    ),
    row(
        "date-greater-than-token-issue-time",
        "DateGreaterThan",
        ISSUED,
        "2020-01-01T00:00:01Z",
        {ISSUED: "2019-12-31T23:59:59Z"},
        False,
        f"{OPS}: documented aws:TokenIssueTime example; credentials issued before the date do not match",
    ),
    row(
        "date-greater-than-missing",
        "DateGreaterThan",
        ISSUED,
        "2020-01-01T00:00:01Z",
        {},
        False,
        f"{OPS}: aws:TokenIssueTime is absent for long-term keys, so the condition is false",
    ),
    row(
        "date-less-than-equals-same-instant",
        "DateLessThanEquals",
        NOW,
        "2025-01-01T00:00:00Z",
        {NOW: "2025-01-01T00:00:00Z"},
        True,
        f"{OPS}: DateLessThanEquals matches at the date and time",
    ),
    row(
        "date-greater-than-equals-before",
        "DateGreaterThanEquals",
        NOW,
        "2025-01-01T00:00:00Z",
        {NOW: "2024-12-31T23:59:59Z"},
        False,
        f"{OPS}: DateGreaterThanEquals is false before the date",
    ),
    row(
        "date-equals-epoch-both",
        "DateEquals",
        EPOCH,
        "1735689600",
        {EPOCH: "1735689600"},
        True,
        f"{OPS}: date values may be given in epoch (UNIX) time",
    ),
    row(
        "date-equals-iso-policy-epoch-context",
        "DateEquals",
        EPOCH,
        "2025-01-01T00:00:00Z",
        {EPOCH: "1735689600"},
        True,
        f"{OPS}: ISO 8601 and epoch are two notations of one instant (2025-01-01T00:00:00Z = 1735689600) "
        "(ambiguous: the page allows both formats but shows no mixed comparison)",
    ),
    row(
        "date-less-than-epoch-policy-iso-context",
        "DateLessThan",
        NOW,
        "1735689600",
        {NOW: "2024-12-31T23:59:59Z"},
        True,
        f"{OPS}: an epoch policy value compares with an ISO 8601 request value as instants "
        "(ambiguous: mixed notations are not shown on the page)",
    ),
    row(
        "date-equals-timezone-offset",
        "DateEquals",
        NOW,
        "2025-01-01T01:00:00+01:00",
        {NOW: "2025-01-01T00:00:00Z"},
        True,
        f"{OPS}: W3C ISO 8601 dates carry a time zone designator; +01:00 at 01:00 is 00:00Z",
    ),
    row(
        "date-greater-than-date-only",
        "DateGreaterThan",
        NOW,
        "2025-01-01",
        {NOW: "2025-06-01T00:00:00Z"},
        True,
        f"{OPS}: the W3C note allows a date-only value (YYYY-MM-DD)",
    ),
    row(
        "date-not-equals-other",
        "DateNotEquals",
        NOW,
        "2025-01-01T00:00:00Z",
        {NOW: "2025-01-02T00:00:00Z"},
        True,
        f"{OPS}: DateNotEquals is negated matching",
    ),
    row(
        "date-not-equals-missing",
        "DateNotEquals",
        NOW,
        "2025-01-01T00:00:00Z",
        {},
        True,
        f"{OPS}: a negated operator (DateNotEquals) is true when the key is not present",
    ),
]

BOOL_BINARY = [
    row(
        "bool-true-true",
        "Bool",
        TLS,
        "true",
        {TLS: "true"},
        True,
        f"{OPS}: Bool compares the key to 'true' or 'false'",
    ),
    row(
        "bool-true-false",
        "Bool",
        TLS,
        "true",
        {TLS: "false"},
        False,
        f"{OPS}: Bool 'true' does not match 'false'",
    ),
    row(
        "bool-false-false",
        "Bool",
        TLS,
        "false",
        {TLS: "false"},
        True,
        f"{OPS}: the documented Deny-without-TLS example matches aws:SecureTransport 'false'",
    ),
    row("bool-missing", "Bool", TLS, "true", {}, False, f"{OPS}: Bool on a missing key is false"),
    row(
        "binary-equals-same",
        "BinaryEquals",
        BINARY_KEY,
        BASE64,
        {BINARY_KEY: BASE64},
        True,
        f"{OPS}: BinaryEquals compares byte for byte against the base-64 value in the policy "
        "(ambiguous: the request value is given here in the same base-64 form)",
    ),
    row(
        "binary-equals-different",
        "BinaryEquals",
        BINARY_KEY,
        BASE64,
        {BINARY_KEY: "AAAA"},
        False,
        f"{OPS}: BinaryEquals does not match different bytes",
    ),
    row(
        "binary-equals-missing",
        "BinaryEquals",
        BINARY_KEY,
        BASE64,
        {},
        False,
        f"{OPS}: BinaryEquals on a missing key is false",
    ),
]

IP_ROWS = [
    row(
        "ip-in-range",
        "IpAddress",
        IP,
        "203.0.113.0/24",
        {IP: "203.0.113.7"},
        True,
        f"{OPS}: IpAddress matches an address inside the CIDR range",
    ),
    row(
        "ip-out-of-range",
        "IpAddress",
        IP,
        "203.0.113.0/24",
        {IP: "198.51.100.1"},
        False,
        f"{OPS}: IpAddress does not match an address outside the range",
    ),
    row(
        "ip-missing",
        "IpAddress",
        IP,
        "203.0.113.0/24",
        {},
        False,
        f"{OPS}: without aws:SourceIp (VPC endpoint request) the condition returns false",
    ),
    row(
        "ip-no-prefix-is-slash-32",
        "IpAddress",
        IP,
        "203.0.113.7",
        {IP: "203.0.113.7"},
        True,
        f"{OPS}: an address without a routing prefix uses the default prefix /32",
    ),
    row(
        "ip-no-prefix-excludes-neighbour",
        "IpAddress",
        IP,
        "203.0.113.7",
        {IP: "203.0.113.8"},
        False,
        f"{OPS}: the default /32 prefix covers exactly one address",
    ),
    row(
        "ipv6-in-range",
        "IpAddress",
        IP,
        "2001:DB8:1234:5678::/64",
        {IP: "2001:db8:1234:5678::1"},
        True,
        f"{OPS}: IPv6 ranges in CIDR format (2001:DB8:1234:5678::/64), :: stands for a range of 0s",
    ),
    row(
        "ipv6-out-of-range",
        "IpAddress",
        IP,
        "2001:DB8:1234:5678::/64",
        {IP: "2001:db8:1234:5679::1"},
        False,
        f"{OPS}: an IPv6 address outside the /64 does not match",
    ),
    row(
        "ipv4-request-ipv6-range",
        "IpAddress",
        IP,
        "2001:DB8::/32",
        {IP: "203.0.113.7"},
        False,
        f"{OPS}: an IPv4 request address is not inside an IPv6 range",
    ),
    row(
        "ip-mixed-list-or",
        "IpAddress",
        IP,
        ["203.0.113.0/24", "2001:DB8:1234:5678::/64"],
        {IP: "2001:db8:1234:5678::abcd"},
        True,
        f"{OPS}: the documented mixed IPv4/IPv6 list; any one range may match",
    ),
    row(
        "not-ip-inside",
        "NotIpAddress",
        IP,
        "10.0.0.0/8",
        {IP: "10.1.2.3"},
        False,
        f"{OPS}: NotIpAddress is all addresses except the range",
    ),
    row(
        "not-ip-outside",
        "NotIpAddress",
        IP,
        "10.0.0.0/8",
        {IP: "192.0.2.1"},
        True,
        f"{OPS}: NotIpAddress matches an address outside the range",
    ),
    row(
        "not-ip-missing",
        "NotIpAddress",
        IP,
        "10.0.0.0/8",
        {},
        True,
        f"{OPS}: a negated operator (NotIpAddress) is true when the key is not present",
    ),
    row(
        "not-ip-list-nor-inside-one",
        "NotIpAddress",
        IP,
        ["10.0.0.0/8", "192.168.0.0/16"],
        {IP: "192.168.1.1"},
        False,
        f"{MULTI}: several values of a negated operator are evaluated with a logical NOR",
    ),
    row(
        "not-ip-list-nor-outside-all",
        "NotIpAddress",
        IP,
        ["10.0.0.0/8", "192.168.0.0/16"],
        {IP: "172.16.0.1"},
        True,
        f"{MULTI}: NOR is true when the address is in none of the ranges",
    ),
]

ROLE_APP = "arn:aws:iam::111122223333:role/app-reader"
TOPIC = "arn:aws:sns:us-east-1:111122223333:alerts"
DOC_PATTERN = "arn:aws:someservice:*:111122223333:finance/*"
DOC_VALUE = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"

ARN = [
    row(
        "arn-equals-same",
        "ArnEquals",
        SOURCE_ARN,
        TOPIC,
        {SOURCE_ARN: TOPIC},
        True,
        f"{OPS}: ArnEquals matches the same ARN",
    ),
    row(
        "arn-equals-other",
        "ArnEquals",
        SOURCE_ARN,
        TOPIC,
        {SOURCE_ARN: TOPIC + "-2"},
        False,
        f"{OPS}: ArnEquals does not match another ARN",
    ),
    row(
        "arn-equals-missing",
        "ArnEquals",
        SOURCE_ARN,
        TOPIC,
        {},
        False,
        f"{OPS}: aws:SourceArn is absent for direct calls, so the condition returns false",
    ),
    row(
        "arn-like-star",
        "ArnLike",
        PRINCIPAL_ARN,
        "arn:aws:iam::111122223333:role/app-*",
        {PRINCIPAL_ARN: ROLE_APP},
        True,
        f"{OPS}: each ARN component can include the multi-character wildcard *",
    ),
    row(
        "arn-like-star-miss",
        "ArnLike",
        PRINCIPAL_ARN,
        "arn:aws:iam::111122223333:role/app-*",
        {PRINCIPAL_ARN: "arn:aws:iam::111122223333:role/web"},
        False,
        f"{OPS}: ArnLike needs the literal parts to match",
    ),
    row(
        "arn-equals-wildcard-same-as-like",
        "ArnEquals",
        PRINCIPAL_ARN,
        "arn:aws:iam::111122223333:role/app-*",
        {PRINCIPAL_ARN: ROLE_APP},
        True,
        f"{OPS}: the ArnEquals and ArnLike condition operators behave identically",
    ),
    row(
        "arn-like-case-sensitive",
        "ArnLike",
        PRINCIPAL_ARN,
        "arn:aws:iam::111122223333:role/App-*",
        {PRINCIPAL_ARN: ROLE_APP},
        False,
        f"{OPS}: ArnEquals/ArnLike are case-sensitive matching of the ARN",
    ),
    row(
        "arn-like-segments-checked-separately",
        "ArnLike",
        SOURCE_ARN,
        DOC_PATTERN,
        {SOURCE_ARN: DOC_VALUE},
        False,
        f"{OPS}: documented example; ArnLike matches elements between colons, so the first * only "
        "matches us-east-2 and the match fails",
    ),
    row(
        "string-like-same-doc-example-succeeds",
        "StringLike",
        SOURCE_ARN,
        DOC_PATTERN,
        {SOURCE_ARN: DOC_VALUE},
        True,
        f"{OPS}: documented example; with StringLike the first * matches across the colons and succeeds",
    ),
    row(
        "arn-like-resource-part-is-one-component",
        "ArnLike",
        SOURCE_ARN,
        "arn:aws:lambda:us-east-1:111122223333:function:*",
        {SOURCE_ARN: "arn:aws:lambda:us-east-1:111122223333:function:my-fn:PROD"},
        True,
        f"{OPS}: ArnLike checks each of the six colon-delimited components separately; the sixth "
        "(function:my-fn:PROD) is everything after the fifth colon, so its * covers ':PROD'",
    ),
    row(
        "arn-not-like-other",
        "ArnNotLike",
        PRINCIPAL_ARN,
        "arn:aws:iam::111122223333:role/admin-*",
        {PRINCIPAL_ARN: ROLE_APP},
        True,
        f"{OPS}: ArnNotLike is negated matching for ARNs",
    ),
    row(
        "arn-not-like-matching",
        "ArnNotLike",
        PRINCIPAL_ARN,
        "arn:aws:iam::111122223333:role/admin-*",
        {PRINCIPAL_ARN: "arn:aws:iam::111122223333:role/admin-1"},
        False,
        f"{OPS}: ArnNotLike is false when the pattern matches",
    ),
    row(
        "arn-not-like-missing",
        "ArnNotLike",
        PRINCIPAL_ARN,
        "arn:aws:iam::111122223333:role/admin-*",
        {},
        True,
        f"{OPS}: if the condition requires the key is not matched (ArnNotLike) and it is not present, the "
        "condition is true",
    ),
    row(
        "arn-not-equals-missing",
        "ArnNotEquals",
        SOURCE_ARN,
        TOPIC,
        {},
        True,
        f"{OPS}: ArnNotEquals behaves like ArnNotLike; true on a missing key",
    ),
]

NULL = [
    row(
        "null-true-missing",
        "Null",
        ISSUED,
        "true",
        {},
        True,
        f"{OPS}: Null 'true' means the key does not exist",
    ),
    row(
        "null-true-present",
        "Null",
        ISSUED,
        "true",
        {ISSUED: "2025-01-01T00:00:00Z"},
        False,
        f"{OPS}: Null 'true' is false when the key exists (temporary credentials)",
    ),
    row(
        "null-false-missing", "Null", ISSUED, "false", {}, False, f"{OPS}: Null 'false' means the key exists"
    ),
    row(
        "null-false-present",
        "Null",
        ISSUED,
        "false",
        {ISSUED: "2025-01-01T00:00:00Z"},
        True,
        f"{OPS}: Null 'false' is true when the key exists and is not null",
    ),
]

INSTANCE_TYPE = "ec2:InstanceType"
INSTANCE_TYPES = ["t1.*", "t2.*", "m3.*"]

IF_EXISTS = [
    row(
        "string-equals-if-exists-missing",
        "StringEqualsIfExists",
        TEAM,
        "app",
        {},
        True,
        f"{OPS}: ...IfExists: if the key is not present, evaluate the condition element as true",
    ),
    row(
        "string-equals-if-exists-present-match",
        "StringEqualsIfExists",
        TEAM,
        "app",
        {TEAM: "app"},
        True,
        f"{OPS}: ...IfExists: if the key is present, process it as specified",
    ),
    row(
        "string-equals-if-exists-present-mismatch",
        "StringEqualsIfExists",
        TEAM,
        "app",
        {TEAM: "web"},
        False,
        f"{OPS}: ...IfExists checks a present key normally",
    ),
    row(
        "string-not-equals-if-exists-missing",
        "StringNotEqualsIfExists",
        TEAM,
        "app",
        {},
        True,
        f"{OPS}: with a Deny and StringNotEqualsIfExists the request is still denied even if the tag is "
        "missing",
    ),
    row(
        "string-like-if-exists-doc-match",
        "StringLikeIfExists",
        INSTANCE_TYPE,
        INSTANCE_TYPES,
        {INSTANCE_TYPE: "t2.micro"},
        True,
        f"{OPS}: documented ec2:InstanceType example; t2.micro matches t2.*",
    ),
    row(
        "string-like-if-exists-doc-mismatch",
        "StringLikeIfExists",
        INSTANCE_TYPE,
        INSTANCE_TYPES,
        {INSTANCE_TYPE: "c5.large"},
        False,
        f"{OPS}: documented ec2:InstanceType example; c5.large matches none of the patterns",
    ),
    row(
        "string-like-if-exists-doc-missing",
        "StringLikeIfExists",
        INSTANCE_TYPE,
        INSTANCE_TYPES,
        {},
        True,
        f"{OPS}: documented example; resources without ec2:InstanceType pass the IfExists check",
    ),
    row(
        "numeric-less-than-if-exists-missing",
        "NumericLessThanIfExists",
        MAX_KEYS,
        "10",
        {},
        True,
        f"{OPS}: IfExists can be added to any operator except Null; missing key -> true",
    ),
    row(
        "numeric-less-than-if-exists-present",
        "NumericLessThanIfExists",
        MAX_KEYS,
        "10",
        {MAX_KEYS: "20"},
        False,
        f"{OPS}: NumericLessThanIfExists checks a present key normally",
    ),
    row(
        "date-less-than-if-exists-missing",
        "DateLessThanIfExists",
        ISSUED,
        "2020-01-01T00:00:00Z",
        {},
        True,
        f"{OPS}: DateLessThanIfExists on a missing key is true",
    ),
    row(
        "bool-if-exists-missing",
        "BoolIfExists",
        MFA,
        "false",
        {},
        True,
        f"{OPS}: BoolIfExists on a missing key is true (the deny-without-MFA pattern)",
    ),
    row(
        "bool-if-exists-present",
        "BoolIfExists",
        MFA,
        "false",
        {MFA: "true"},
        False,
        f"{OPS}: BoolIfExists checks a present key normally",
    ),
    row(
        "ip-if-exists-missing",
        "IpAddressIfExists",
        IP,
        "10.0.0.0/8",
        {},
        True,
        f"{OPS}: IpAddressIfExists on a missing key is true",
    ),
    row(
        "ip-if-exists-present-outside",
        "IpAddressIfExists",
        IP,
        "10.0.0.0/8",
        {IP: "192.0.2.1"},
        False,
        f"{OPS}: IpAddressIfExists checks a present key normally",
    ),
    row(
        "arn-like-if-exists-missing",
        "ArnLikeIfExists",
        SOURCE_ARN,
        TOPIC,
        {},
        True,
        f"{OPS}: ArnLikeIfExists on a missing key is true",
    ),
]

MULTIPLE = [
    row(
        "string-equals-list-or",
        "StringEquals",
        TEAM,
        ["app", "web"],
        {TEAM: "web"},
        True,
        f"{MULTI}: multiple values for one key under one operator are evaluated with a logical OR",
    ),
    row(
        "string-equals-list-or-none",
        "StringEquals",
        TEAM,
        ["app", "web"],
        {TEAM: "db"},
        False,
        f"{MULTI}: OR over the values is false when none matches",
    ),
    row(
        "string-not-equals-list-nor-one-equal",
        "StringNotEquals",
        TEAM,
        ["app", "web"],
        {TEAM: "web"},
        False,
        f"{MULTI}: a negated operator with several values is a logical NOR; equal to one -> false",
    ),
    row(
        "string-not-equals-list-nor-none-equal",
        "StringNotEquals",
        TEAM,
        ["app", "web"],
        {TEAM: "db"},
        True,
        f"{MULTI}: NOR is true when the value equals none of them",
    ),
    row(
        "string-not-like-list-nor",
        "StringNotLike",
        TEAM,
        ["app-*", "web-*"],
        {TEAM: "web-1"},
        False,
        f"{MULTI}: StringNotLike with several patterns is false when any pattern matches",
    ),
    Row(
        "two-keys-one-operator-both-true",
        {"StringEquals": {TEAM: "app", REGION: "us-east-1"}},
        {TEAM: "app", REGION: "us-east-1"},
        True,
        f"{MULTI}: multiple context keys under one operator are evaluated with a logical AND",
    ),
    Row(
        "two-keys-one-operator-one-false",
        {"StringEquals": {TEAM: "app", REGION: "us-east-1"}},
        {TEAM: "app", REGION: "eu-west-1"},
        False,
        f"{MULTI}: AND over keys is false when one key does not match",
    ),
    Row(
        "two-keys-one-operator-one-missing",
        {"StringEquals": {TEAM: "app", REGION: "us-east-1"}},
        {TEAM: "app"},
        False,
        f"{MULTI}: AND over keys is false when one key is missing",
    ),
    Row(
        "two-operators-both-true",
        {"StringEquals": {TEAM: "app"}, "IpAddress": {IP: "10.0.0.0/8"}},
        {TEAM: "app", IP: "10.1.2.3"},
        True,
        f"{MULTI}: multiple condition operators are evaluated with a logical AND",
    ),
    Row(
        "two-operators-one-false",
        {"StringEquals": {TEAM: "app"}, "IpAddress": {IP: "10.0.0.0/8"}},
        {TEAM: "app", IP: "192.0.2.1"},
        False,
        f"{MULTI}: AND over operators is false when one operator is false",
    ),
    Row(
        "negated-and-positive-operators",
        {"StringNotEquals": {TEAM: "admin"}, "Bool": {TLS: "true"}},
        {TLS: "true"},
        True,
        f"{MULTI}: AND of a negated operator on a missing key (true) and a true Bool",
    ),
]

CASE = [
    row(
        "key-name-case-insensitive-policy",
        "IpAddress",
        "aws:SourceIP",
        "10.0.0.0/8",
        {"aws:SourceIp": "10.1.2.3"},
        True,
        f"{COND}: condition key names are not case-sensitive (aws:SourceIP is equivalent to AWS:SourceIp)",
    ),
    row(
        "key-name-case-insensitive-context",
        "StringEquals",
        "aws:username",
        "alice",
        {"AWS:UserName": "alice"},
        True,
        f"{COND}: key names are compared case-insensitively whichever side is spelled differently",
    ),
    row(
        "value-case-sensitive-string-equals",
        "StringEquals",
        "aws:username",
        "alice",
        {"aws:username": "Alice"},
        False,
        f"{COND}: case sensitivity of values depends on the operator; StringEquals is case-sensitive",
    ),
    row(
        "value-case-insensitive-ignore-case",
        "StringEqualsIgnoreCase",
        "aws:username",
        "alice",
        {"aws:username": "Alice"},
        True,
        f"{COND}: case sensitivity of values depends on the operator; ...IgnoreCase ignores it",
    ),
]

SET_ROWS = [
    row(
        "for-any-value-one-matches",
        "ForAnyValue:StringEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: ["team", "owner"]},
        True,
        f"{SETS}: ForAnyValue is true if any one request value matches any one policy value",
    ),
    row(
        "for-any-value-none-matches",
        "ForAnyValue:StringEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: ["owner"]},
        False,
        f"{SETS}: ForAnyValue is false when no request value matches",
    ),
    row(
        "for-any-value-empty-set",
        "ForAnyValue:StringEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: []},
        False,
        f"{SETS}: ForAnyValue is false for an empty set (no value can match)",
    ),
    row(
        "for-any-value-missing",
        "ForAnyValue:StringEquals",
        TAG_KEYS,
        ["env", "team"],
        {},
        False,
        f"{SETS}: for no matching context key or if the key does not exist, ForAnyValue returns false",
    ),
    row(
        "for-any-value-string-like",
        "ForAnyValue:StringLike",
        TAG_KEYS,
        "env*",
        {TAG_KEYS: ["team", "environment"]},
        True,
        f"{SETS}: ForAnyValue qualifies StringLike; one request value matching the pattern suffices",
    ),
    row(
        "for-any-value-if-exists-missing",
        "ForAnyValue:StringEqualsIfExists",
        TAG_KEYS,
        ["env", "team"],
        {},
        False,
        f"{SETS}: ForAnyValue is false when the key is missing; IfExists applies to each request value inside "
        "the set loop, so it does not rescue an absent key (ambiguous in the AWS docs; iam.cloudcopilot.io "
        "ForAnyValue:...IfExists and a reported AWS answer agree)",
    ),
    row(
        "for-all-values-if-exists-missing",
        "ForAllValues:StringEqualsIfExists",
        TAG_KEYS,
        ["env", "team"],
        {},
        True,
        f"{SETS}: ForAllValues over a missing key is vacuously true, with or without IfExists",
    ),
    row(
        "for-all-values-subset",
        "ForAllValues:StringEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: ["env"]},
        True,
        f"{SETS}: ForAllValues is true if every request value matches a policy value",
    ),
    row(
        "for-all-values-not-subset",
        "ForAllValues:StringEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: ["env", "owner"]},
        False,
        f"{SETS}: ForAllValues is false when one request value matches no policy value",
    ),
    row(
        "for-all-values-empty-set",
        "ForAllValues:StringEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: []},
        True,
        f"{SETS}: ForAllValues is true when there is no value in the request (vacuous truth; the page warns "
        "about ForAllValues with Allow for this reason)",
    ),
    row(
        "for-all-values-missing",
        "ForAllValues:StringEquals",
        TAG_KEYS,
        ["env", "team"],
        {},
        True,
        f"{SETS}: ForAllValues also returns true if there are no context keys in the request",
    ),
    row(
        "for-all-values-string-like",
        "ForAllValues:StringLike",
        TAG_KEYS,
        "key1*",
        {TAG_KEYS: ["key1:legal", "key1:hr"]},
        True,
        f"{SET_EXAMPLES}: every value must match at least one pattern (key1* covers key1:legal, key1:hr)",
    ),
    row(
        "for-all-values-string-not-like-doc-1",
        "ForAllValues:StringNotLike",
        TAG_KEYS,
        "key1*",
        {TAG_KEYS: ["key1:legal"]},
        False,
        f"{SET_EXAMPLES}: documented table; ForAllValues:StringNotLike key1* with key1:legal is no match",
    ),
    row(
        "for-all-values-string-not-like-doc-2",
        "ForAllValues:StringNotLike",
        TAG_KEYS,
        "key1*",
        {TAG_KEYS: ["key1:hr", "key1:personnel"]},
        False,
        f"{SET_EXAMPLES}: documented table; key1:hr + key1:personnel is no match",
    ),
    row(
        "for-all-values-string-not-like-doc-3",
        "ForAllValues:StringNotLike",
        TAG_KEYS,
        "key1*",
        {TAG_KEYS: ["key2:audit"]},
        True,
        f"{SET_EXAMPLES}: documented table; key2:audit is a match",
    ),
    row(
        "for-all-values-string-not-like-doc-missing",
        "ForAllValues:StringNotLike",
        TAG_KEYS,
        "key1*",
        {},
        True,
        f"{SET_EXAMPLES}: documented table; no aws:TagKeys in the request is a match",
    ),
    row(
        "for-all-values-string-not-equals-none-listed",
        "ForAllValues:StringNotEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: ["owner", "cost"]},
        True,
        f"{SETS}: ForAllValues with a negated operator: every request value equals none of the policy "
        "values (NOR per value)",
    ),
    row(
        "for-all-values-string-not-equals-one-listed",
        "ForAllValues:StringNotEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: ["owner", "env"]},
        False,
        f"{SETS}: ForAllValues:StringNotEquals is false when one request value is a listed value",
    ),
    row(
        "for-any-value-string-not-equals-one-unlisted",
        "ForAnyValue:StringNotEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: ["env", "owner"]},
        True,
        f"{SETS}: ForAnyValue with a negated operator: some request value (owner) equals none of the "
        "policy values (ambiguous: composed from the ForAnyValue and NOR rules, no documented example)",
    ),
    row(
        "for-any-value-string-not-equals-all-listed",
        "ForAnyValue:StringNotEquals",
        TAG_KEYS,
        ["env", "team"],
        {TAG_KEYS: ["env"]},
        False,
        f"{SETS}: ForAnyValue:StringNotEquals is false when every request value is a listed value "
        "(ambiguous: composed rule)",
    ),
    row(
        "for-any-value-string-not-equals-missing",
        "ForAnyValue:StringNotEquals",
        TAG_KEYS,
        ["env", "team"],
        {},
        False,
        f"{SETS}: ForAnyValue returns false when the key does not exist, even with a negated operator",
    ),
    row(
        "for-all-values-key-case-insensitive",
        "ForAllValues:StringEquals",
        "AWS:TAGKEYS",
        ["env", "team"],
        {TAG_KEYS: ["owner"]},
        False,
        f"{COND}: key names are not case-sensitive, so AWS:TAGKEYS reads the aws:TagKeys values (and "
        "owner is not listed)",
    ),
]

ROWS = STRING + NUMERIC + DATE + BOOL_BINARY + IP_ROWS + ARN + NULL + IF_EXISTS + MULTIPLE + CASE + SET_ROWS


def _decide(row: Row, effect: str) -> str:
    if effect == "Allow":
        documents = [{"Version": "2012-10-17", "Statement": [_statement("Allow", row.condition)]}]
    else:
        documents = [
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": GET, "Resource": "*"}]},
            {"Version": "2012-10-17", "Statement": [_statement("Deny", row.condition)]},
        ]
    decision = evaluate(documents, GET, SECRET, dict(row.context))
    assert decision.allowed is (decision.effect == "Allow")
    return str(decision.effect)


def _statement(effect: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {"Effect": effect, "Action": GET, "Resource": "*", "Condition": condition}


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_condition_in_allow_statement(row: Row) -> None:
    expected = "Allow" if row.matches else "ImplicitDeny"
    assert _decide(row, "Allow") == expected, row.rule


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_condition_in_deny_statement(row: Row) -> None:
    expected = "ExplicitDeny" if row.matches else "Allow"
    assert _decide(row, "Deny") == expected, row.rule


def test_every_row_names_its_page_and_ids_are_unique() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)
    for r in ROWS:
        assert r.rule.startswith("reference_policies_"), r.id
