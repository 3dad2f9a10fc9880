"""A finding's `resources` are concrete ARNs and its `patterns` the rest (DESIGN.md §3, scan JSON): the
split runs on lists as long as every secret of an account, so it searches their joined text; it must
agree with asking each entry alone, whatever the names hold (line breaks included). A message shows
the first few of such a list, which must read as if the whole were sorted."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamscope.arnlists import Concrete, is_pattern, merge_into, merge_sorted, split_patterns
from iamscope.checks.grants import _less
from iamscope.findings import listing, listing_sorted

SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:"
# names with the characters that matter: wildcards, the line break the search splits on, colons
NAMES = st.text(alphabet="ab*?\n:-/", max_size=12).map(lambda n: SECRET + n)


@settings(max_examples=400, derandomize=True)
@given(st.lists(st.one_of(NAMES, st.sampled_from(["*", "", "\n", "?", SECRET + "db-??????"])), max_size=12))
def test_split_agrees_with_each_entry_alone(names: list[str]) -> None:
    resources = tuple(names)
    kept, moved = split_patterns(resources)
    assert kept == tuple(r for r in resources if not is_pattern(r))
    assert moved == tuple(r for r in resources if is_pattern(r))


@settings(max_examples=400, derandomize=True)
@given(
    st.lists(
        st.sampled_from([SECRET + "a", SECRET + "b*", SECRET + "c?", "*", SECRET + "d-??????"]), max_size=40
    )
)
def test_split_cuts_around_each_pattern_in_place(names: list[str]) -> None:
    # no line break: the joined text is searched, and the list cut around the lines found (patterns
    # first, last, side by side, repeated)
    resources = tuple(names)
    kept, moved = split_patterns(resources)
    assert kept == tuple(r for r in resources if not is_pattern(r))
    assert moved == tuple(r for r in resources if is_pattern(r))


def test_a_list_without_patterns_is_handed_back_as_it_is() -> None:
    resources = tuple(f"{SECRET}app-{i}-AbCdEf" for i in range(1000))
    kept, moved = split_patterns(resources)
    assert (kept is resources, moved) == (True, ())


def test_patterns_among_many_arns_are_all_found_in_order() -> None:
    arns = [f"{SECRET}app-{i:04}-AbCdEf" for i in range(1000)]
    patterns = [f"{SECRET}app-{i:04}-x-??????" for i in (0, 500, 999)] + [f"{SECRET}team/*"]
    resources = tuple(sorted(arns + patterns))
    kept, moved = split_patterns(resources)
    assert (kept, moved) == (tuple(arns), tuple(sorted(patterns)))


def test_a_list_already_split_is_not_searched_again() -> None:
    # the checks cut a role's split list per service account (a role reading `*` lists every secret):
    # the cut keeps the Concrete type, and split_patterns hands it back without joining it
    arns = Concrete(f"{SECRET}app-{i:04}-AbCdEf" for i in range(1000))
    kept, moved = split_patterns(arns)
    assert (kept is arns, moved) == (True, ())
    cut = _less(arns, {arns[3], arns[700]})
    assert type(cut) is Concrete
    assert list(cut) == [a for i, a in enumerate(arns) if i not in (3, 700)]
    assert split_patterns(cut)[0] is cut
    # the findings' JSON sees a plain list
    assert json.loads(json.dumps({"resources": cut})) == {"resources": list(cut)}


@pytest.mark.parametrize("count", [0, 1, 6, 7, 1000])
def test_a_message_lists_the_first_few_of_a_set_as_sorted(count: int) -> None:
    # cross-workload-grant names the other namespaces of a role reading `*`: a thousand of them, of
    # which the message shows six, in sorted order, and how many more
    names = {f"team-{(i * 7919) % 10007:05}" for i in range(count)}
    assert listing_sorted(names) == listing(sorted(names))
    if count > 6:
        assert listing_sorted(names).endswith(f" and {count - 6} more")


@settings(max_examples=300, derandomize=True)
@given(
    st.lists(st.sampled_from([SECRET + n for n in "abcdefghij"]), unique=True),
    st.lists(st.sampled_from([SECRET + n for n in "abcdefghijklmnop"]), unique=True),
)
def test_a_few_arns_merged_into_a_long_list_land_in_place(ordered: list[str], extra: list[str]) -> None:
    # spc-write-access puts what other roles read beyond a `*` role's list into that list
    base = Concrete(sorted(ordered))
    added = sorted(set(extra) - set(ordered))
    merged = merge_into(base, added)
    assert merged == merge_sorted([base, Concrete(added)]) == tuple(sorted({*ordered, *extra}))
    assert type(merged) is Concrete
    assert merge_into(base, []) is base


def test_merged_lists_are_concrete_only_when_every_list_is() -> None:
    arns = Concrete([SECRET + "a", SECRET + "c"])
    assert type(merge_sorted([arns, Concrete([SECRET + "b"])])) is Concrete
    mixed = merge_sorted([arns, (SECRET + "b-??????",)])
    assert type(mixed) is tuple
    assert mixed == (SECRET + "a", SECRET + "b-??????", SECRET + "c")
