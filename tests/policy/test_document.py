"""Document normalisation: every legal shape becomes the same frozen statements (IAM User Guide,
IAM JSON policy element reference and grammar), and malformed ones are named precisely."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from iamscope.errors import PolicyError
from iamscope.policy import parse_policy

ONE = {
    "Effect": "Allow",
    "Action": "secretsmanager:GetSecretValue",
    "Resource": "arn:aws:secretsmanager:*:*:secret:a",
}


def test_statement_object_and_list_are_the_same() -> None:
    as_object = parse_policy({"Version": "2012-10-17", "Statement": ONE})
    as_list = parse_policy({"Version": "2012-10-17", "Statement": [ONE]})
    assert as_object.statements == as_list.statements
    (statement,) = as_object.statements
    assert statement.actions == ("secretsmanager:GetSecretValue",)
    assert statement.resources == ("arn:aws:secretsmanager:*:*:secret:a",)
    assert statement.not_actions is None
    assert statement.not_resources is None


def test_url_encoded_json_as_iam_returns_it() -> None:
    encoded = urllib.parse.quote(json.dumps({"Version": "2012-10-17", "Statement": [ONE]}))
    assert parse_policy(encoded).statements == parse_policy({"Statement": ONE}).statements


def test_condition_values_of_every_json_type_become_strings() -> None:
    doc = parse_policy(
        {
            "Statement": {
                **ONE,
                "Condition": {
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThan": {"s3:max-keys": 10},
                    "ForAnyValue:StringLike": {"aws:TagKeys": ["team*", "env"]},
                    "StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"},
                },
            }
        }
    )
    conditions = {str(c) for c in doc.statements[0].conditions}
    assert conditions == {
        'Bool aws:SecureTransport "true"',
        'NumericLessThan s3:max-keys "10"',
        'ForAnyValue:StringLike aws:TagKeys ["team*", "env"]',
        'StringEqualsIfExists aws:RequestedRegion "eu-west-1"',
    }


def test_operator_spelling_is_canonicalised() -> None:
    doc = parse_policy({"Statement": {**ONE, "Condition": {"forallvalues:stringequalsifexists": {"k": "v"}}}})
    (condition,) = doc.statements[0].conditions
    assert condition.operator_text == "ForAllValues:StringEqualsIfExists"


def test_principals_normalised() -> None:
    doc = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
                {
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": ["arn:aws:iam::111122223333:root", "444455556666"],
                        "Service": "eks.amazonaws.com",
                    },
                    "Action": "sts:AssumeRole",
                },
            ]
        },
        kind="trust",
    )
    first, second = doc.statements
    assert first.principals is not None
    assert first.principals.any
    assert second.principals is not None
    assert not second.principals.any
    assert second.principals.values("AWS") == ("444455556666", "arn:aws:iam::111122223333:root")
    assert second.principals.values("Service") == ("eks.amazonaws.com",)


MALFORMED: list[tuple[str, Any, str]] = [
    ("not an object", ["Statement"], "must be a JSON object"),
    ("no Statement", {"Version": "2012-10-17"}, "has no Statement"),
    ("unknown Version", {"Version": "2012-10-18", "Statement": ONE}, "Version must be one of 2012-10-17, 2008-10-17, got '2012-10-18'"),
    ("statement not an object", {"Statement": ["x"]}, r"statement 0: must be an object"),
    ("bad effect", {"Statement": {**ONE, "Effect": "allow"}}, r"statement 0: Effect must be"),
    ("Action and NotAction", {"Statement": {**ONE, "NotAction": "s3:*"}}, r"statement 0: has both Action and NotAction"),
    ("no action", {"Statement": {"Effect": "Allow", "Resource": "*"}}, "has neither Action nor NotAction"),
    ("no resource", {"Statement": {"Effect": "Allow", "Action": "s3:*"}}, "has neither Resource nor NotResource"),
    ("action without service", {"Statement": {**ONE, "Action": "GetSecretValue"}}, "not of the form service:action"),
    ("action not a string", {"Statement": {**ONE, "Action": 7}}, "Action must be a string or a list of strings"),
    ("unknown element", {"Statement": {**ONE, "Effects": "Allow"}}, "unknown element 'Effects'"),
    ("principal in identity policy", {"Statement": {**ONE, "Principal": "*"}}, "cannot name a Principal"),
    ("unknown operator", {"Statement": {**ONE, "Condition": {"StringSortOf": {"k": "v"}}}}, "unknown condition operator"),
    ("unknown set operator", {"Statement": {**ONE, "Condition": {"ForSome:StringEquals": {"k": "v"}}}}, "set operator"),
    ("numeric not a number", {"Statement": {**ONE, "Condition": {"NumericLessThan": {"k": "ten"}}}}, "'ten' is not a number"),
    ("date not a date", {"Statement": {**ONE, "Condition": {"DateLessThan": {"k": "tomorrow"}}}}, "is not a date"),
    ("bad CIDR", {"Statement": {**ONE, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}}}, "not an IP address"),
    ("bool not a bool", {"Statement": {**ONE, "Condition": {"Bool": {"k": "yes"}}}}, "'yes' is not true or false"),
    ("NullIfExists", {"Statement": {**ONE, "Condition": {"NullIfExists": {"k": "true"}}}}, "Null cannot take IfExists"),
    ("condition value object", {"Statement": {**ONE, "Condition": {"StringEquals": {"k": {"a": 1}}}}}, "condition values"),
    ("Sid names the statement", {"Statement": [ONE, {**ONE, "Sid": "Second", "Effect": "Maybe"}]}, r"statement 1 \(Sid 'Second'\)"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "message"), [(m[1], m[2]) for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_documents_name_the_statement(raw: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as error:
        parse_policy(raw, name="roles/app.json")
    assert str(error.value).startswith("roles/app.json: ")
    assert error.value.exit_code == 2


def test_trust_policy_statement_needs_a_principal() -> None:
    with pytest.raises(PolicyError, match="needs Principal or NotPrincipal"):
        parse_policy({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}, kind="trust")
