"""RoleAccess hands out its grants and what the role can read in sorted order of resource, whatever
order the grants come in, whether or not the caller names the catalogue they are from, and however
many resources share one Grant."""

from __future__ import annotations

from iamscope.access import GET_PARAMETERS, GET_SECRET, ActionGrant, Grant, RoleAccess, in_order
from iamscope.arnlists import Concrete
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


def test_grants_out_of_order_are_handed_out_in_order() -> None:
    names = ["c", "a", "b"]
    grants = {SECRET.format(n): READS for n in names}
    expected = [SECRET.format(n) for n in sorted(names)]
    catalogue = tuple(sorted([*grants, SECRET.format("z")]))
    for order in ((), catalogue):
        access = RoleAccess(role_arn=ROLE, grants=grants, wildcards=(), missing_policies=(), order=order)
        assert [arn for arn, _ in access.sorted_grants] == expected
        assert access.sorted_readable == tuple(expected)


def test_only_readable_grants_are_readable_resources() -> None:
    grants = {SECRET.format(n): g for n, g in (("d", READS), ("b", LOCKED), ("c", NO_READ), ("a", READS))}
    access = RoleAccess(role_arn=ROLE, grants=grants, wildcards=(), missing_policies=())
    assert access.sorted_readable == (SECRET.format("a"), SECRET.format("d"))
    assert access.readable_resources == {SECRET.format("a"), SECRET.format("d")}
    # what is not readable is still a grant, in its place
    assert [arn for arn, _ in access.sorted_grants] == [SECRET.format(n) for n in "abcd"]


def test_in_order_filters_the_catalogue_or_sorts() -> None:
    catalogue = tuple(SECRET.format(f"s{i:04}") for i in range(1000))
    most = {catalogue[i] for i in range(0, 1000, 2)}  # a good part: taken in the catalogue's order
    assert in_order(most, catalogue) == sorted(most)
    few = {catalogue[7], catalogue[3]}  # a few: sorted
    assert in_order(few, catalogue) == [catalogue[3], catalogue[7]]
    # a resource outside the catalogue (a declared pattern, say) is not lost: sorted after all
    outside = most | {SECRET.format("s0001x")}
    assert in_order(outside, catalogue) == sorted(outside)


def test_the_readable_list_split_into_arns_and_patterns() -> None:
    # a declared secret the snapshot lacks is the pattern `<name>-??????` (DESIGN.md §4): a role that
    # reads it hands the checks its ARNs (known to hold no pattern) and that pattern apart
    pattern = SECRET.format("late").replace("AbCdEf", "??????")
    grants = {
        SECRET.format("b"): READS,
        pattern: READS,
        SECRET.format("a"): READS,
        SECRET.format("c"): LOCKED,
    }
    access = RoleAccess(role_arn=ROLE, grants=grants, wildcards=(), missing_policies=())
    arns, patterns = access.readable_split
    assert (arns, patterns) == ((SECRET.format("a"), SECRET.format("b")), (pattern,))
    assert type(arns) is Concrete
    assert access.readable_split is access.readable_split  # worked out once
