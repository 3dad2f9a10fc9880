"""The graph of everything iamscope read, as a networkx MultiDiGraph: nodes are workloads, service
accounts, SPCs, object refs, roles, policies, secrets, parameters, keys, namespaces, nodes and RBAC
subjects; every edge has a `kind` and the `reason` it exists. Also the path queries of `explain` and
the renderers of `graph --format json|dot|graphml`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import networkx as nx

from iamscope.access import Grant
from iamscope.assess import Assessment
from iamscope.edges import (
    BOUND_TO,
    CONTAINS,
    ENCRYPTED_BY,
    HAS_BOUNDARY,
    HAS_POLICY,
    INSTANCE_PROFILE,
    SCHEDULED_ON,
    Edge,
    declares,
    decrypts,
    identity_edge,
    mounts,
    reads,
    resolves_to,
    runs_as,
)
from iamscope.errors import UsageError

SCHEMA = "iamscope.graph/v1"
MAX_PATHS = 200
MAX_DEPTH = 8


def _node_type(node_id: str) -> str:
    if node_id.startswith("arn:"):
        service = node_id.split(":")[2] if node_id.count(":") >= 5 else ""
        resource = node_id.split(":", 5)[5] if node_id.count(":") >= 5 else ""
        if "#" in node_id:
            return "policy"
        if service == "iam":
            for prefix, kind in (
                ("role/", "role"),
                ("policy/", "policy"),
                ("instance-profile/", "instance-profile"),
                ("oidc-provider/", "oidc-provider"),
            ):
                if resource.startswith(prefix):
                    return kind
        if service == "secretsmanager":
            return "secret"
        if service == "ssm":
            return "parameter"
        if service == "kms":
            return "key"
        return "aws"
    if "#" in node_id:
        return "object-ref"
    parts = node_id.split("/")
    kind = parts[1] if len(parts) == 3 else parts[0]
    return {
        "ServiceAccount": "service-account",
        "SecretProviderClass": "spc",
        "Namespace": "namespace",
        "Node": "node",
        "Role": "rbac-role",
        "ClusterRole": "rbac-role",
        "User": "rbac-subject",
        "Group": "rbac-subject",
    }.get(kind, "workload")


def assessment_edges(a: Assessment) -> Iterator[Edge]:
    inv = a.inventory
    for w in a.workloads.values():
        yield runs_as(w)
        yield Edge(source=f"Namespace/{w.namespace}", target=w.id, kind=CONTAINS, reason="metadata.namespace")
        if w.pod.node_name:
            yield Edge(
                source=w.id,
                target=f"Node/{w.pod.node_name}",
                kind=SCHEDULED_ON,
                reason="spec.nodeName of its pods",
            )
    for sa in inv.kube.service_accounts:
        yield Edge(
            source=f"Namespace/{sa.namespace}", target=sa.id, kind=CONTAINS, reason="metadata.namespace"
        )
    for spc in inv.kube.spcs:
        yield Edge(
            source=f"Namespace/{spc.namespace}", target=spc.id, kind=CONTAINS, reason="metadata.namespace"
        )
    for m in a.mounts:
        yield mounts(m)
        for ref in m.objects:
            yield declares(m, ref)
            for t in ref.targets:
                yield resolves_to(ref, t)
    seen_roles: set[str] = set()
    for view in a.service_accounts.values():
        ident = view.identity
        annotated = {ident.annotation} if ident.annotation else set()
        for check, _ in view.access:  # the roles it can act as, chains included
            yield identity_edge(view.id, check, annotated=check.role_arn in annotated and check.via == "irsa")
        if ident.annotation_trust is not None and not ident.annotation_trust.admits:
            yield identity_edge(view.id, ident.annotation_trust, annotated=True)
        if ident.association_trust is not None and not ident.association_trust.admits:
            yield identity_edge(view.id, ident.association_trust, annotated=False)
        for _, access in view.access:
            if access.role_arn in seen_roles:
                continue
            seen_roles.add(access.role_arn)
            yield from _grant_edges(access.grants.items())
    for role, access in a.node_roles:
        for profile in role.instance_profiles:
            yield Edge(source=profile, target=role.arn, kind=INSTANCE_PROFILE, reason="InstanceProfileList")
        if role.arn not in seen_roles:
            seen_roles.add(role.arn)
            yield from _grant_edges(access.grants.items())
    for role in inv.aws.roles:
        if role.arn not in seen_roles:
            continue
        for p in role.inline:
            yield Edge(source=role.arn, target=p.id, kind=HAS_POLICY, reason=f"inline policy {p.name}")
        for arn in role.attached:
            yield Edge(source=role.arn, target=arn, kind=HAS_POLICY, reason="AttachedManagedPolicies")
        if role.boundary:
            yield Edge(source=role.arn, target=role.boundary, kind=HAS_BOUNDARY, reason="PermissionsBoundary")
    for arn, secret in a.catalogue.secrets.items():
        key = a.catalogue.key_directory.by_arn.get(secret.kms_key or "")
        if secret.kms_key:
            yield Edge(
                source=arn,
                target=key.arn if key else secret.kms_key,
                kind=ENCRYPTED_BY,
                reason=f"KmsKeyId {secret.kms_key}",
            )
    for binding in inv.kube.bindings:
        for subject in binding.subjects:
            yield Edge(
                source=subject.id,
                target=binding.role_id,
                kind=BOUND_TO,
                reason=f"{binding.kind} {binding.id}",
            )


def _grant_edges(grants: Iterable[tuple[str, Grant]]) -> Iterator[Edge]:
    for resource, grant in grants:
        yield reads(resource, grant)
        decrypt = decrypts(resource, grant)
        if decrypt is not None:
            yield decrypt


def build_graph(a: Assessment) -> nx.MultiDiGraph:
    graph: nx.MultiDiGraph = nx.MultiDiGraph()
    edges = sorted(set(assessment_edges(a)), key=lambda e: (e.source, e.kind, e.target, e.reason))
    nodes = {e.source for e in edges} | {e.target for e in edges}
    nodes |= (
        set(a.workloads)
        | {s.id for s in a.inventory.kube.service_accounts}
        | {s.id for s in a.inventory.kube.spcs}
    )
    nodes |= {f"Namespace/{n.name}" for n in a.inventory.kube.namespaces} | {
        n.id for n in a.inventory.kube.nodes
    }
    for node in sorted(nodes):
        graph.add_node(node, type=_node_type(node))
    for e in edges:
        graph.add_edge(e.source, e.target, kind=e.kind, reason=e.reason)
    return graph


def _edges(graph: nx.MultiDiGraph) -> list[dict[str, str]]:
    return sorted(
        (
            {"source": u, "target": v, "kind": d["kind"], "reason": d["reason"]}
            for u, v, d in graph.edges(data=True)
        ),
        key=lambda e: (e["source"], e["kind"], e["target"], e["reason"]),
    )


def render_json(graph: nx.MultiDiGraph) -> str:
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "nodes": [{"id": n, "type": d["type"]} for n, d in sorted(graph.nodes(data=True))],
        "edges": _edges(graph),
    }
    return json.dumps(document, sort_keys=True, indent=2) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_DOT_STYLE = {
    "workload": ("box", "black"),
    "service-account": ("ellipse", "blue"),
    "spc": ("note", "gray40"),
    "object-ref": ("plaintext", "gray40"),
    "role": ("hexagon", "darkorange"),
    "policy": ("component", "darkorange"),
    "secret": ("cylinder", "red"),
    "parameter": ("cylinder", "purple"),
    "key": ("diamond", "darkgreen"),
}


def render_dot(graph: nx.MultiDiGraph) -> str:
    lines = ["digraph iamscope {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    for n, d in sorted(graph.nodes(data=True)):
        shape, color = _DOT_STYLE.get(d["type"], ("box", "black"))
        lines.append(f"  {_dot_id(n)} [type={_dot_id(d['type'])}, shape={shape}, color={color}];")
    for e in _edges(graph):
        lines.append(
            f"  {_dot_id(e['source'])} -> {_dot_id(e['target'])} "
            f"[label={_dot_id(e['kind'])}, tooltip={_dot_id(e['reason'])}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_graphml(graph: nx.MultiDiGraph) -> str:
    ordered: nx.MultiDiGraph = nx.MultiDiGraph()
    for n, d in sorted(graph.nodes(data=True)):
        ordered.add_node(n, **d)
    for e in _edges(graph):
        ordered.add_edge(e["source"], e["target"], kind=e["kind"], reason=e["reason"])
    return "\n".join(nx.generate_graphml(ordered)) + "\n"


# --- explain -----------------------------------------------------------------------------------------

_SKIP = {CONTAINS}


def _walk(graph: nx.MultiDiGraph, start: str, forward: bool) -> list[list[tuple[str, str, dict[str, str]]]]:
    paths: list[list[tuple[str, str, dict[str, str]]]] = []

    def step(node: str, path: list[tuple[str, str, dict[str, str]]], seen: set[str]) -> None:
        if len(paths) >= MAX_PATHS:
            return
        nxt = graph.out_edges(node, data=True) if forward else graph.in_edges(node, data=True)
        options = sorted(
            ((u, v, d) for u, v, d in nxt if d["kind"] not in _SKIP and (v if forward else u) not in seen),
            key=lambda e: (e[0], e[1], e[2]["kind"]),
        )
        if (not options or len(path) >= MAX_DEPTH) and path:
            paths.append(path)
            return
        for u, v, d in options:
            other = v if forward else u
            step(other, [*path, (u, v, d)], seen | {other})

    step(start, [], {start})
    return paths


def find_subject(graph: nx.MultiDiGraph, subject: str) -> str:
    """The node a user means: exact; else case-insensitive (kubectl users type `deployment`); else a
    secret ARN given without its random suffix, as SPCs name secrets; else one ending as given."""
    if subject in graph:
        return subject
    nodes = [str(n) for n in graph.nodes]
    wanted = subject.lower()

    def same(n: str) -> bool:
        return n.lower() == wanted

    def unsuffixed(n: str) -> bool:
        return n.startswith(subject + "-") and len(n) == len(subject) + 7 and ":secret:" in n

    def ending(n: str) -> bool:
        return n.lower().endswith(wanted)

    for test in (same, unsuffixed, ending):
        matches = sorted(n for n in nodes if test(n))
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise UsageError(f"{subject!r} matches several nodes: {', '.join(matches[:5])}")
    raise UsageError(
        f"{subject!r} is not in the graph (give a workload, service account, role ARN or secret ARN)"
    )


_READS = ("can-read", "can-read-if")


def _readers(graph: nx.MultiDiGraph, node: str) -> list[str]:
    """For a workload: every role that can read what it mounts, with how a pod reaches that role."""
    targets = sorted(
        {v for path in _walk(graph, node, True) for _, v, d in path if d["kind"] == "resolves-to"}
    )
    lines = []
    for arn in targets:
        for role, _, d in sorted(graph.in_edges(arn, data=True), key=lambda e: (e[0], e[2]["kind"])):
            if d["kind"] not in _READS:
                continue
            users = sorted({u for u, _, e in graph.in_edges(role, data=True) if e["kind"] != CONTAINS})
            lines.append(f"  {arn}")
            lines.append(
                f"      {d['kind']} by {role}" + (f" (reached from {', '.join(users)})" if users else "")
            )
    return lines


def explain(graph: nx.MultiDiGraph, subject: str) -> str:
    node = find_subject(graph, subject)
    out = [f"{node} ({graph.nodes[node]['type']})"]
    for title, forward in (("reaches", True), ("is reached by", False)):
        paths = _walk(graph, node, forward)
        out.append("")
        many = len(paths) >= MAX_PATHS
        out.append(
            f"{title}: "
            + (f"at least {MAX_PATHS} path(s), the first shown" if many else f"{len(paths)} path(s)")
        )
        for path in paths:
            out.append("")
            edges = path if forward else list(reversed(path))
            for u, v, d in edges:
                out.append(f"  {u} -[{d['kind']}]-> {v}")
                out.append(f"      because {d['reason']}")
    if graph.nodes[node]["type"] == "workload":
        readers = _readers(graph, node)
        out += ["", f"what it mounts is readable by: {len(readers) // 2} grant(s)", *readers]
    return "\n".join(out) + "\n"
