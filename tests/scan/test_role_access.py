"""RoleAccess keeps its grants in sorted order of resource and derives what the role can read from
them, whatever order the grants come in and however many resources share one Grant."""

from __future__ import annotations

from iamscope.access import GET_PARAMETERS, GET_SECRET, ActionGrant, Grant, RoleAccess, readable_in_order
from iamscope.ascp import SECRETSMANAGER, SSMPARAMETER

ROLE = "arn:aws:iam::111122223333:role/app"
SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:{}-AbCdEf"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def allowed(action: str) -> ActionGrant:
    return ActionGrant(action=action, outcome="allowed", when=None, statements=())


READS = Grant(
    kind=SECRETSMANAGER, role_arn=ROLE, actions=(allowed(GET_SECRET),), decrypt=None, needs_key=None
)
# GetSecretValue allowed, but the secret's customer-managed key is not: no value comes out
LOCKED = Grant(
    kind=SECRETSMANAGER, role_arn=ROLE, actions=(allowed(GET_SECRET),), decrypt=None, needs_key=KEY
)
# ssm:GetParameters is a reading action for parameters only
NO_READ = Grant(
    kind=SECRETSMANAGER, role_arn=ROLE, actions=(allowed(GET_PARAMETERS),), decrypt=None, needs_key=None
)
PARAM = Grant(
    kind=SSMPARAMETER, role_arn=ROLE, actions=(allowed(GET_PARAMETERS),), decrypt=None, needs_key=None
)


def test_grants_out_of_order_are_put_in_order() -> None:
    names = ["c", "a", "b"]
    access = RoleAccess(
        role_arn=ROLE, grants={SECRET.format(n): READS for n in names}, wildcards=(), missing_policies=()
    )
    assert list(access.grants) == [SECRET.format(n) for n in sorted(names)]
    assert [arn for arn, _ in access.sorted_grants] == [SECRET.format(n) for n in sorted(names)]
    assert access.sorted_readable == tuple(SECRET.format(n) for n in sorted(names))


def test_only_readable_grants_are_readable_resources() -> None:
    grants = {SECRET.format(n): g for n, g in (("a", READS), ("b", LOCKED), ("c", NO_READ), ("d", READS))}
    access = RoleAccess(role_arn=ROLE, grants=grants, wildcards=(), missing_policies=())
    assert access.sorted_readable == (SECRET.format("a"), SECRET.format("d"))
    assert access.readable_resources == {SECRET.format("a"), SECRET.format("d")}


def test_one_shared_grant_over_many_resources() -> None:
    param = "arn:aws:ssm:eu-west-1:111122223333:parameter/p{}"
    readable = {SECRET.format(f"s{i:04}"): READS for i in range(500)}
    assert readable_in_order(readable) == tuple(readable)
    mixed = readable | {SECRET.format(f"t{i:04}"): LOCKED for i in range(500)}
    mixed |= {param.format(i): PARAM for i in range(3)}
    assert readable_in_order(dict(sorted(mixed.items()))) == tuple(
        sorted([*readable, *(param.format(i) for i in range(3))])
    )
