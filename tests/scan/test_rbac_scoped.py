"""rbac.Scoped answers which permissions are in force in a namespace without reading every binding:
the same permissions, in the same order, as filtering them all by namespace."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iamscope.model import PolicyRule
from iamscope.rbac import Permission, Scoped

RULE = PolicyRule(
    verbs=("get",), api_groups=("",), resources=("secrets",), resource_names=(), non_resource_urls=()
)
NAMESPACES = (None, "prod", "staging", "dev")


def perm(i: int, namespace: str | None, subject: str) -> Permission:
    return Permission(subject=subject, namespace=namespace, rule=RULE, binding=f"b{i}", role="r")


@given(st.lists(st.tuples(st.sampled_from(NAMESPACES), st.sampled_from(("User/a", "User/b", "Group/c")))))
def test_in_force_is_the_cluster_wide_and_local_permissions_in_their_order(
    specs: list[tuple[str | None, str]],
) -> None:
    perms = [perm(i, ns, subject) for i, (ns, subject) in enumerate(specs)]
    scoped = Scoped(perms)
    for namespace in (*NAMESPACES, "elsewhere"):
        expected = [p for p in perms if p.namespace is None or p.namespace == namespace]
        if namespace is None:
            expected = [p for p in perms if p.namespace is None]
        assert scoped.in_force(namespace) == expected
    for subject in ("User/a", "User/b", "Group/c", "User/nobody"):
        assert scoped.of(subject) == [p for p in perms if p.subject == subject]


def test_a_namespace_sees_cluster_wide_bindings_and_its_own_only() -> None:
    perms = [
        perm(0, "prod", "User/a"),
        perm(1, None, "User/b"),
        perm(2, "dev", "User/a"),
        perm(3, "prod", "User/c"),
    ]
    assert [p.binding for p in Scoped(perms).in_force("prod")] == ["b0", "b1", "b3"]
    assert [p.binding for p in Scoped(perms).in_force(None)] == ["b1"]
