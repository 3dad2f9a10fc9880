"""Who may do what in the cluster, from the RBAC objects read: every (subject, namespace or cluster,
rule) that a RoleBinding or ClusterRoleBinding grants, with aggregated ClusterRoles expanded and the
built-in roles (cluster-admin, admin, edit, view) known when the input does not carry them. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from heapq import merge

from iamscope.model import KubeInventory, PolicyRule, RbacRole, RoleBinding, Subject, lookup

_ALL = PolicyRule(verbs=("*",), api_groups=("*",), resources=("*",), resource_names=(), non_resource_urls=())
_WRITE = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
_READ = ("get", "list", "watch")


def _rule(groups: tuple[str, ...], resources: tuple[str, ...], verbs: tuple[str, ...]) -> PolicyRule:
    return PolicyRule(
        verbs=verbs, api_groups=groups, resources=resources, resource_names=(), non_resource_urls=()
    )


# the parts of Kubernetes' built-in user-facing roles that matter here (their own rules, before
# aggregation): admin and edit write secrets and workloads, view reads neither secrets nor tokens
BUILTIN: dict[str, tuple[tuple[PolicyRule, ...], str | None]] = {
    "cluster-admin": ((_ALL,), None),
    "admin": (
        (
            _rule(("",), ("secrets", "pods", "serviceaccounts", "serviceaccounts/token"), _WRITE),
            _rule(("apps", "batch"), ("*",), _WRITE),
        ),
        "rbac.authorization.k8s.io/aggregate-to-admin",
    ),
    "edit": (
        (
            _rule(("",), ("secrets", "pods", "serviceaccounts", "serviceaccounts/token"), _WRITE),
            _rule(("apps", "batch"), ("*",), _WRITE),
        ),
        "rbac.authorization.k8s.io/aggregate-to-edit",
    ),
    "view": (
        (_rule(("",), ("pods", "configmaps", "services"), _READ),),
        "rbac.authorization.k8s.io/aggregate-to-view",
    ),
}
# admin holds what is aggregated to edit and view, edit what is aggregated to view
INCLUDES = {"admin": ("edit", "view"), "edit": ("view",)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Permission:
    subject: str  # User/<name>, Group/<name>, <ns>/ServiceAccount/<name>
    namespace: str | None  # None: cluster-wide
    rule: PolicyRule
    binding: str
    role: str


def subject_id(subject: Subject, binding_namespace: str | None) -> str:
    if subject.kind == "ServiceAccount":
        return f"{subject.namespace or binding_namespace or 'default'}/ServiceAccount/{subject.name}"
    if subject.kind == "User" and subject.name.startswith("system:serviceaccount:"):
        parts = subject.name.split(":")
        if len(parts) == 4:
            return f"{parts[2]}/ServiceAccount/{parts[3]}"
    return f"{subject.kind}/{subject.name}"


def principal_ids(principals: Iterable[str], groups: Iterable[str]) -> set[str]:
    """The subject ids of `platform.principals` (usernames) and `platform.groups`."""
    ids = {subject_id(Subject(kind="User", name=p, namespace=None), None) for p in principals}
    return ids | {f"Group/{g}" for g in groups}


def _aggregated(role: RbacRole, roles: Iterable[RbacRole]) -> tuple[PolicyRule, ...]:
    rules = list(role.rules)
    for other in roles:
        if other.kind != "ClusterRole" or other.id == role.id:
            continue
        if any(
            all(lookup(other.labels, k) == v for k, v in selector)
            for selector in role.aggregation
            if selector
        ):
            rules += other.rules
    return tuple(rules)


def _builtin(name: str, roles: Iterable[RbacRole]) -> tuple[PolicyRule, ...] | None:
    known = BUILTIN.get(name)
    if known is None:
        return None
    rules, _ = known
    out = list(rules)
    labels: list[str] = []
    for each in (name, *INCLUDES.get(name, ())):
        aggregate = BUILTIN[each][1]
        if aggregate:
            labels.append(aggregate)
    for other in roles:
        if other.kind == "ClusterRole" and any(lookup(other.labels, lab) == "true" for lab in labels):
            out += other.rules
    return tuple(out)


def permissions(kube: KubeInventory) -> tuple[Permission, ...]:
    roles = {(r.kind, r.namespace, r.name): r for r in kube.rbac_roles}
    cluster_roles = [r for r in kube.rbac_roles if r.kind == "ClusterRole"]
    found: list[Permission] = []
    for binding in sorted(kube.bindings, key=lambda b: b.id):
        rules, role_id = _rules_of(binding, roles, cluster_roles)
        namespace = binding.namespace if binding.kind == "RoleBinding" else None
        for subject in binding.subjects:
            sid = subject_id(subject, binding.namespace)
            found += [
                Permission(subject=sid, namespace=namespace, rule=rule, binding=binding.id, role=role_id)
                for rule in rules
            ]
    return tuple(found)


def _rules_of(
    binding: RoleBinding,
    roles: dict[tuple[str, str | None, str], RbacRole],
    cluster_roles: list[RbacRole],
) -> tuple[tuple[PolicyRule, ...], str]:
    if binding.role_kind == "Role":
        role = roles.get(("Role", binding.namespace, binding.role_name))
        return (role.rules if role else ()), f"{binding.namespace}/Role/{binding.role_name}"
    role = roles.get(("ClusterRole", None, binding.role_name))
    role_id = f"ClusterRole/{binding.role_name}"
    if role is not None:
        return _aggregated(role, cluster_roles), role_id
    return _builtin(binding.role_name, cluster_roles) or (), role_id


def allows(rule: PolicyRule, verb: str, group: str, resource: str) -> bool:
    """Whether a rule allows `verb` on every object of `resource` (a rule limited by resourceNames
    allows only the objects it names, which no rule here is about)."""
    if rule.resource_names:
        return False
    return (
        ("*" in rule.verbs or verb in rule.verbs)
        and ("*" in rule.api_groups or group in rule.api_groups)
        and ("*" in rule.resources or resource in rule.resources or _subresource_wildcard(rule, resource))
    )


def _subresource_wildcard(rule: PolicyRule, resource: str) -> bool:
    if "/" not in resource:
        return False
    parent, sub = resource.split("/", 1)
    return f"{parent}/*" in rule.resources or f"*/{sub}" in rule.resources


def who_can(
    perms: Iterable[Permission], verbs: Iterable[str], group: str, resource: str, namespace: str | None
) -> Iterator[tuple[Permission, tuple[str, ...]]]:
    """The permissions allowing any of `verbs` on `resource` in `namespace` (None: cluster-wide only),
    with the verbs they allow."""
    wanted = tuple(verbs)
    for perm in perms:
        if perm.namespace is not None and perm.namespace != namespace:
            continue
        ok = tuple(v for v in wanted if allows(perm.rule, v, group, resource))
        if ok:
            yield perm, ok


class Scoped:
    """The permissions by where they are in force and by subject, each in its original order: a
    question about one namespace reads the permissions bound there and the cluster-wide ones, not
    every binding of a cluster with thousands of namespaces."""

    def __init__(self, perms: Sequence[Permission]) -> None:
        self._by_namespace: dict[str | None, list[tuple[int, Permission]]] = {}
        self._by_subject: dict[str, list[Permission]] = {}
        for i, perm in enumerate(perms):
            self._by_namespace.setdefault(perm.namespace, []).append((i, perm))
            self._by_subject.setdefault(perm.subject, []).append(perm)

    def in_force(self, namespace: str | None) -> list[Permission]:
        """The permissions in force in `namespace` (None: the cluster-wide ones alone)."""
        cluster = self._by_namespace.get(None, [])
        local = self._by_namespace.get(namespace, []) if namespace is not None else []
        return [perm for _, perm in merge(cluster, local)]  # the positions are unique: no tie

    def of(self, subject: str) -> list[Permission]:
        return self._by_subject.get(subject, [])
