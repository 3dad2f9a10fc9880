"""Who may steer the driver, from RBAC: readers of the Kubernetes Secrets the driver syncs, writers of
SecretProviderClasses outside the platform team, and driver or provider service accounts that may
mint tokens for other service accounts. Each finding names the subject, the binding and the role,
and what the permission reaches in AWS."""

from __future__ import annotations

from collections.abc import Iterator

from iamscope.arnlists import merge_into, split_patterns
from iamscope.assess import Assessment, ServiceAccountView
from iamscope.checks.driver import is_driver, is_provider
from iamscope.edges import Edge
from iamscope.findings import Finding, rule
from iamscope.model import Location
from iamscope.rbac import Permission, Scoped, allows, permissions, principal_ids, who_can

RBAC_DOCS = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
SPC_GROUP = "secrets-store.csi.x-k8s.io"
RUN_PODS = (
    ("", "pods"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
)
BOUND = "bound-to"


def _binding_location(assessment: Assessment, binding: str) -> Location | None:
    """RBAC findings point at the binding that grants the permission."""
    return next((b.location for b in assessment.inventory.kube.bindings if b.id == binding), None)


def _edges(perm: Permission) -> tuple[Edge, ...]:
    return (Edge(source=perm.subject, target=perm.role, kind=BOUND, reason=f"binding {perm.binding}"),)


def _reach(views: list[ServiceAccountView]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every resource the roles of `views` can read, sorted, as concrete ARNs and patterns (a finding's
    `resources` and `patterns`): each role's sorted lists, merged (a role that reads `*` lists every
    secret of the account, and many namespaces reach one)."""
    accesses = list({id(access): access for view in views for _, access in view.access}.values())
    if not accesses:
        return (), ()
    # most often one role reads the others' lists and more (`*`): its list is the union, with what the
    # others read besides put in place, not merged again
    widest = max(accesses, key=lambda access: len(access.sorted_readable))
    wide = widest.readable_resources
    extra = set().union(*(access.readable_resources - wide for access in accesses if access is not widest))
    arns, patterns = widest.readable_split
    if not extra:
        return arns, patterns
    extra_arns, extra_patterns = split_patterns(tuple(sorted(extra)))
    return merge_into(arns, extra_arns), merge_into(patterns, extra_patterns)


def _where(namespace: str | None) -> str:
    return f"in {namespace}" if namespace else "cluster-wide"


@rule(
    "synced-secret-readers",
    title="Someone besides the consuming workloads can read the Secrets the driver syncs",
    severity="high",
    family="driver",
    rationale="A synced Secret is a copy of the external secret in etcd: get, list or watch on secrets in "
    "its namespace reads it, whatever IAM says about the external secret.",
    remediation="Bind secret readers in sync namespaces explicitly and narrowly (resourceNames), or stop "
    "syncing and mount files.",
    references=(RBAC_DOCS,),
)
def synced_secret_readers(assessment: Assessment) -> Iterator[Finding]:
    kube = assessment.inventory.kube
    synced: dict[str, set[str]] = {}
    for spc in kube.spcs:
        for s in spc.secret_objects:
            synced.setdefault(spc.namespace, set()).add(s.secret_name)
    for secret in kube.secrets:
        if dict(secret.labels).get("secrets-store.csi.k8s.io/managed") == "true":
            synced.setdefault(secret.namespace, set()).add(secret.name)
    if not synced:
        return
    scoped = Scoped(permissions(kube))
    # the workloads that mount there read the synced copy by design; nobody else's mounts count
    consumers = {(m.namespace, m.service_account) for m in assessment.mounts}
    config = assessment.config
    trusted = principal_ids(config.platform_principals, config.platform_groups)
    drivers = {
        f"{w.namespace}/ServiceAccount/{w.pod.service_account}"
        for w in assessment.workloads.values()
        if is_driver(w)
    }
    for namespace in sorted(synced):
        readers: dict[str, list[tuple[Permission, tuple[str, ...]]]] = {}
        for perm, verbs in who_can(
            scoped.in_force(namespace), ("get", "list", "watch"), "", "secrets", namespace
        ):
            if (namespace, perm.subject) in consumers or perm.subject in drivers:
                continue
            readers.setdefault(perm.subject, []).append((perm, verbs))
        for subject, grants in sorted(readers.items()):
            allowed = sorted({v for _, vs in grants for v in vs})
            via = sorted({f"{p.binding} → {p.role}" for p, _ in grants})
            yield Finding(
                rule="synced-secret-readers",
                # the platform team is said too, but as what it is: trusted by configuration
                severity="low" if subject in trusted else "high",
                subject=subject,
                message=f"can {', '.join(allowed)} secrets in {namespace}, where the driver syncs "
                f"{', '.join(sorted(synced[namespace]))} ({'; '.join(via)})",
                objects=tuple(sorted({x for p, _ in grants for x in (p.binding, p.role)})),
                evidence=tuple(e for p, _ in grants for e in _edges(p)),
                location=_binding_location(assessment, grants[0][0].binding),
                key=namespace,
            )


@rule(
    "spc-write-access",
    title="Someone outside the platform team can create or change SecretProviderClasses",
    severity="high",
    family="driver",
    rationale="Whoever writes an SPC in a namespace chooses which secrets its pods mount, with the roles of "
    "that namespace's service accounts; with pod-creating rights too, every such role's secrets.",
    remediation="Let only the platform principals and groups (and their GitOps controllers) write SPCs, "
    "enforced by an admission policy (`iamscope harden`).",
    references=(RBAC_DOCS,),
)
def spc_write_access(assessment: Assessment) -> Iterator[Finding]:
    kube = assessment.inventory.kube
    config = assessment.config
    trusted = principal_ids(config.platform_principals, config.platform_groups)
    perms = permissions(kube)
    namespaces = sorted(
        {n.name for n in kube.namespaces}
        | {s.namespace for s in kube.spcs}
        | {w.namespace for w in assessment.workloads.values()}
    )
    seen: set[tuple[str, str | None]] = set()
    # by namespace, once: every subject asks for its namespaces' (or all namespaces') service accounts
    views_in: dict[str, list[ServiceAccountView]] = {}
    for view in assessment.service_accounts.values():
        views_in.setdefault(view.namespace, []).append(view)
    mounting_in: dict[str, set[str]] = {}
    for m in assessment.mounts:
        mounting_in.setdefault(m.namespace, set()).add(m.service_account)
    scoped = Scoped(perms)
    for namespace in namespaces:
        for perm, verbs in who_can(
            scoped.in_force(namespace),
            ("create", "update", "patch"),
            SPC_GROUP,
            "secretproviderclasses",
            namespace,
        ):
            if perm.subject in trusted or (perm.subject, perm.namespace) in seen:
                continue
            seen.add((perm.subject, perm.namespace))
            scope = [namespace] if perm.namespace else namespaces
            # can the subject create pods or pod controllers in the scope? (a cluster-wide
            # permission is in force in each namespace of it)
            in_scope = set(scope)
            runs_pods = any(
                (p.namespace is None or p.namespace in in_scope)
                and any(allows(p.rule, "create", g, r) for g, r in RUN_PODS)
                for p in scoped.of(perm.subject)
            )
            views = [v for ns in scope for v in views_in.get(ns, ())]
            if not runs_pods:
                mounting = set().union(*(mounting_in.get(ns, ()) for ns in scope))
                views = [v for v in views if v.id in mounting]
            reach, patterns = _reach(views)
            how = (
                "and can run pods as any service account there"
                if runs_pods
                else "for the pods that mount SPCs there"
            )
            yield Finding(
                rule="spc-write-access",
                severity="high",
                subject=perm.subject,
                message=f"can {', '.join(verbs)} secretproviderclasses {_where(perm.namespace)} "
                f"({perm.binding} → {perm.role}) {how}: that reaches {len(reach) + len(patterns)} "
                "secret(s)/parameter(s)",
                resources=reach,
                patterns=patterns,
                objects=(perm.binding, perm.role),
                evidence=_edges(perm),
                location=_binding_location(assessment, perm.binding),
                key=perm.namespace or "",
            )


@rule(
    "provider-token-rbac",
    title="A driver or provider service account can mint tokens for other service accounts",
    severity="high",
    family="driver",
    rationale="A token for a service account is its IRSA identity: a provider that can create "
    "serviceaccounts/token can assume the role of every service account it may mint for.",
    remediation="Remove create on serviceaccounts/token from the driver's and providers' roles (the driver "
    "passes pods' tokens to providers through tokenRequests; providers need none of their own).",
    references=(RBAC_DOCS,),
)
def provider_token_rbac(assessment: Assessment) -> Iterator[Finding]:
    kube = assessment.inventory.kube
    perms = permissions(kube)
    components = {
        f"{w.namespace}/ServiceAccount/{w.pod.service_account}": w.id
        for w in assessment.workloads.values()
        if is_driver(w) or is_provider(w)
    }
    for sa, workload in sorted(components.items()):
        grants = [
            (p, v)
            for p in perms
            if p.subject == sa
            for _, v in who_can([p], ("create",), "", "serviceaccounts/token", p.namespace)
        ]
        if not grants:
            continue
        scopes = sorted({p.namespace or "*" for p, _ in grants})
        views = [v for v in assessment.service_accounts.values() if "*" in scopes or v.namespace in scopes]
        reach, patterns = _reach(views)
        roles = sorted({c.role_arn for v in views for c, _ in v.access})
        yield Finding(
            rule="provider-token-rbac",
            severity="critical" if reach or patterns else "high",
            subject=sa,
            message=f"{workload} runs as it; it can create serviceaccounts/token "
            f"{'cluster-wide' if '*' in scopes else 'in ' + ', '.join(scopes)}: the roles of "
            f"{len(views)} service account(s) ({len(roles)} role(s)) and {len(reach) + len(patterns)} "
            "secret(s)/parameter(s) they read",
            resources=reach,
            patterns=patterns,
            objects=tuple(sorted({x for p, _ in grants for x in (p.binding, p.role)})),
            evidence=tuple(e for p, _ in grants for e in _edges(p)),
            location=_binding_location(assessment, grants[0][0].binding),
        )
