"""`iamscope diff`: what AFTER lets each service account do that BEFORE did not, on access maps, not
on text. Each side is an iamscope.scan/v1 document (from scanning a state, or a saved scan JSON):
per service account, every (resource or wildcard pattern, action) it can exercise through any role
it can assume, decided by the policy engine. A reordered but equivalent policy changes nothing; a
trust that newly admits a service account gives it that role's access; a grant that was only
conditional and is now plain is new access. Pure: documents in, a DiffResult out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from iamscope.access import is_wildcard_resource
from iamscope.findings import RANK

SCHEMA = "iamscope.diff/v1"
GATING = ("critical", "high")
# the rules whose findings mean someone can read more (not that a mount breaks)
ACCESS_RULES = frozenset(
    {"wildcard-action", "wildcard-resource", "cross-workload-grant", "broad-trust", "node-role-secret-access"}
)
ALLOWED, CONDITIONAL = "allowed", "conditional"
# (service account, resource or pattern, action)
AccessKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """How one service account holds one action on one resource."""

    level: str  # allowed | conditional
    action: str  # as the scan spelled it (keys are lower-cased: actions are case-insensitive)
    conditions: tuple[str, ...]  # when a conditional grant holds, in words
    roles: tuple[str, ...]
    statements: tuple[str, ...]
    pattern: bool
    wildcard: bool
    location: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    change: str  # added | removed
    service_account: str
    resource: str
    actions: tuple[str, ...]
    roles: tuple[str, ...]
    escalation: bool
    reasons: tuple[str, ...]
    pattern: bool
    location: Mapping[str, Any] | None

    @property
    def role_arn(self) -> str | None:
        return self.roles[0] if self.roles else None


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffResult:
    before: str
    after: str
    baseline: str  # state | least-privilege
    changes: tuple[Change, ...]
    unknown: tuple[str, ...]  # values AFTER's Terraform plan leaves unknown until apply
    # findings of more access (ACCESS_RULES) at high or critical that AFTER has and BEFORE had not (by
    # fingerprint): what the access maps of today's service accounts cannot show (a node role, a trust
    # admitting any service account, a wildcard reaching secrets created later)
    new_findings: tuple[Mapping[str, Any], ...] = field(default=())
    incomplete: tuple[str, ...] = field(default=())  # what either side could not read
    after_gaps: int = 0  # how many of them are AFTER's

    @property
    def added(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.change == "added")

    @property
    def removed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.change == "removed")

    @property
    def escalations(self) -> tuple[Change, ...]:
        return tuple(c for c in self.added if c.escalation)

    @property
    def grants_more(self) -> bool:
        """The gate: AFTER grants something BEFORE did not, or may (a value unknown until apply, a
        new high or critical finding)."""
        return bool(self.added or self.unknown or self.new_findings)

    @property
    def after_incomplete(self) -> bool:
        """AFTER could not be read whole: what it grants may be more than it shows."""
        return self.after_gaps > 0


def _level(grant: Mapping[str, Any], action: str) -> str:
    conditional = grant.get("readable") == CONDITIONAL or action in (grant.get("conditions") or {})
    return CONDITIONAL if conditional else ALLOWED


def _entries(document: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """The access entries of a scan document by service account, in document order."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for entry in document.get("access") or ():
        out.setdefault(entry["service_account"], []).append(entry)
    return out


def access_map(entries: Iterable[Mapping[str, Any]]) -> dict[AccessKey, Held]:
    """Every (service account, resource, action) of these access entries, with how it is held."""
    held: dict[AccessKey, Held] = {}
    for entry in entries:
        sa = entry["service_account"]
        for grant in entry.get("grants") or ():
            statements = tuple(
                grant.get("statements") or ([grant["statement"]] if "statement" in grant else [])
            )
            for action in grant.get("actions") or ():
                key = (sa, grant["resource"], action.lower())
                level = _level(grant, action)
                when = (grant.get("conditions") or {}).get(action)
                conditions = (str(when),) if when else ()
                old = held.get(key)
                if old is not None:
                    level = ALLOWED if ALLOWED in (level, old.level) else CONDITIONAL
                    roles = tuple(sorted({*old.roles, grant["via"]}))
                    statements_all = tuple(sorted({*old.statements, *statements}))
                    conditions = tuple(sorted({*old.conditions, *conditions}))
                else:
                    roles, statements_all = (grant["via"],), tuple(sorted(statements))
                # `<name>-??????` stands for one secret the snapshot lacks: no wildcard
                wild = bool(grant.get("pattern")) and is_wildcard_resource(grant["resource"])
                pattern = wild or (old is not None and old.pattern)
                wildcard = bool(grant.get("wildcard")) or pattern or (old is not None and old.wildcard)
                held[key] = Held(
                    level=level,
                    action=old.action if old is not None else action,
                    conditions=conditions if level == CONDITIONAL else (),
                    roles=roles,
                    statements=statements_all,
                    pattern=pattern,
                    wildcard=wildcard,
                    location=entry.get("location"),
                )
    return held


def _declared(document: Mapping[str, Any]) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """resource → [(service account, its workloads)] that declare it."""
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for entry in document.get("access") or ():
        for arn in (*(entry.get("needs") or ()), *(entry.get("unresolved_needs") or ())):
            out.setdefault(arn, []).append((entry["service_account"], tuple(entry.get("workloads") or ())))
    return out


def _assumable(document: Mapping[str, Any]) -> dict[str, set[str]]:
    return {e["service_account"]: set(e.get("assumable_roles") or ()) for e in document.get("access") or ()}


def _through(document: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (e["service_account"], role): how
        for e in document.get("access") or ()
        for role, how in (e.get("assumed_through") or {}).items()
    }


NEWLY = {
    "irsa": "a trust policy admits its token now",
    "pod-identity": "a Pod Identity association names it now",
    "role-chain": "through a role chain",
}


def _namespace(sa: str) -> str:
    return sa.split("/", 1)[0]


def _added_reasons(
    sa: str,
    resource: str,
    held: Held,
    before: Held | None,
    declared: Mapping[str, list[tuple[str, tuple[str, ...]]]],
    newly_assumable: set[str],
    through: Mapping[tuple[str, str], str],
) -> tuple[bool, list[str]]:
    reasons: list[str] = []
    escalation = False
    others = [(s, w) for s, w in declared.get(resource, ()) if s != sa]
    if others:
        escalation = True
        for other_sa, workloads in others:
            who = ", ".join(workloads) or other_sa
            across = _namespace(other_sa) != _namespace(sa)
            reasons.append(
                f"reaches what {who} declare{'s' if len(workloads) == 1 else ''}"
                + (f" (crosses namespaces: {_namespace(sa)} → {_namespace(other_sa)})" if across else "")
            )
    if held.pattern:
        escalation = True
        reasons.append("a wildcard pattern: it also reaches every matching secret created later")
    elif held.wildcard:
        escalation = True
        reasons.append("granted through a statement with a wildcard Action or Resource")
    for role in held.roles:
        if role in newly_assumable:
            how = ", ".join(NEWLY.get(h, h) for h in through.get((sa, role), "irsa").split(", "))
            reasons.append(f"{sa} can newly assume {role} ({how})")
    if before is not None and before.level == CONDITIONAL:
        reasons.append("was allowed only under conditions before")
    if held.level == CONDITIONAL:
        reasons.append("allowed only under conditions")
    reasons += [f"granted by {s}" for s in held.statements]
    return escalation, reasons


def _covering(old: Mapping[AccessKey, Held]) -> dict[str, list[str]]:
    """By action, the literal stems of the patterns BEFORE granted without conditions that cover what
    starts with them: `*` (stem "") and `<literal>*` (sound for IAM's * and ?). The same pattern needs
    no stem: a key BEFORE holds is not new."""
    stems: dict[str, list[str]] = {}
    for (_, other, action), held in old.items():
        stem = other[:-1]
        if held.level == ALLOWED and other.endswith("*") and not any(c in stem for c in "*?"):
            stems.setdefault(action, []).append(stem)
    return stems


def _covered(key: AccessKey, stems: Mapping[str, Sequence[str]]) -> bool:
    """Whether BEFORE already granted the action, without conditions, on a pattern covering this one."""
    _, pattern, action = key
    return any(pattern.startswith(stem) for stem in stems.get(action, ()))


Entry = tuple[str, AccessKey, Held, bool, Sequence[str]]  # (added | removed, key, held, escalation, reasons)


def _added(
    sa: str,
    old: Mapping[AccessKey, Held],
    new: Mapping[AccessKey, Held],
    declared: Mapping[str, list[tuple[str, tuple[str, ...]]]],
    newly: set[str],
    through: Mapping[tuple[str, str], str],
) -> list[Entry]:
    """What one service account holds in AFTER (`new`) and did not in BEFORE (`old`), or held only under
    conditions (or under other conditions); `newly` the roles it can newly assume."""
    out: list[Entry] = []
    stems: dict[str, list[str]] | None = None
    for key, held in new.items():
        previous = old.get(key)
        loosened = (
            previous is not None
            and previous.level == held.level == CONDITIONAL
            and previous.conditions != held.conditions
        )
        if (
            previous is not None
            and not loosened
            and not (previous.level == CONDITIONAL and held.level == ALLOWED)
        ):
            continue
        if previous is None and held.pattern:
            stems = _covering(old) if stems is None else stems
            if _covered(key, stems):
                continue  # a narrower (or the same) pattern than one BEFORE already granted
        escalation, reasons = _added_reasons(sa, key[1], held, previous, declared, newly, through)
        if loosened and previous is not None:
            reasons.insert(0, f"its condition changed: was {'; '.join(previous.conditions) or 'none'}")
        out.append(("added", key, held, escalation, reasons))
    return out


def _removed(old: Mapping[AccessKey, Held], new: Mapping[AccessKey, Held], baseline: str) -> list[Entry]:
    """What one service account held in BEFORE and no longer holds, or now holds only under conditions."""
    out: list[Entry] = []
    for key, held in old.items():
        current = new.get(key)
        if current is not None and not (held.level == ALLOWED and current.level == CONDITIONAL):
            continue
        if current is not None:
            reason = "now allowed only under conditions"
        elif baseline == "least-privilege":
            reason = "a workload declares it, and no role of the service account grants it"
        else:
            reason = "no longer granted"
        out.append(("removed", key, held, False, [reason]))
    return out


def _newcomers(entry: Mapping[str, Any], had: set[str]) -> list[str]:
    """The workloads of an AFTER access entry that did not run as its service account in BEFORE."""
    return sorted(set(entry.get("workloads") or ()) - had)


def _joined(
    sa: str, had: Mapping[str, set[str]], entries: Sequence[Mapping[str, Any]], new: Mapping[AccessKey, Held]
) -> list[Entry]:
    """A workload that newly runs as a service account gets everything that service account can read,
    whatever it declares (a test pod run as a production service account mounts production secrets).
    `new` is the service account's access in AFTER, `entries` its access entries there."""
    out: list[Entry] = []
    if sa not in had:
        return out  # a new service account: its access is new already
    for entry in entries:
        joined = _newcomers(entry, had[sa])
        if not joined:
            continue
        verb = "runs" if len(joined) == 1 else "run"
        reason = f"{', '.join(joined)} newly {verb} as {sa}, which can read it"
        out += [("added", key, held, True, [reason]) for key, held in new.items()]
    return out


def _group(
    entries: Iterable[Entry],
) -> tuple[Change, ...]:
    """One change per (kind, service account, resource), its actions together."""
    grouped: dict[tuple[str, str, str], list[tuple[str, Held, bool, Sequence[str]]]] = {}
    for kind, (sa, resource, _), held, escalation, reasons in entries:
        grouped.setdefault((kind, sa, resource), []).append((held.action, held, escalation, reasons))
    changes = []
    for (kind, sa, resource), items in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        reasons = tuple(dict.fromkeys(r for *_, rs in items for r in rs))
        changes.append(
            Change(
                change=kind,
                service_account=sa,
                resource=resource,
                actions=tuple(sorted({a for a, *_ in items}, key=str.lower)),
                roles=tuple(sorted({r for _, h, *_ in items for r in h.roles})),
                escalation=any(e for _, _, e, _ in items),
                reasons=reasons,
                pattern=any(h.pattern for _, h, *_ in items),
                location=items[0][1].location,
            )
        )
    return tuple(changes)


def diff_documents(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    before_label: str,
    after_label: str,
    baseline: str = "state",
    unknown: Sequence[str] = (),
) -> DiffResult:
    old_entries, new_entries = _entries(before), _entries(after)
    declared = _declared(after)
    was_assumable, now_assumable = _assumable(before), _assumable(after)
    through = _through(after)
    had = {e["service_account"]: set(e.get("workloads") or ()) for e in before.get("access") or ()}
    added: list[Entry] = []
    joined: list[Entry] = []
    removed: list[Entry] = []
    for sa in dict.fromkeys([*new_entries, *old_entries]):
        mine, theirs = new_entries.get(sa, []), old_entries.get(sa, [])
        # what a service account holds is made of its own entries' grants alone: the same grants on
        # both sides hold the same, so only a workload newly running as it can add anything (a `*`
        # role's service accounts hold a grant per secret; most changes leave them as they were)
        same = [e.get("grants") or () for e in mine] == [e.get("grants") or () for e in theirs]
        if same and not any(_newcomers(e, had.get(sa, set())) for e in mine):
            continue
        new = access_map(mine)
        if not same:
            old = access_map(theirs)
            newly = now_assumable.get(sa, set()) - was_assumable.get(sa, set())
            added += _added(sa, old, new, declared, newly, through)
            removed += _removed(old, new, baseline)
        joined += _joined(sa, had, mine, new)
    entries = [*added, *joined, *removed]
    # a planned value unknown until apply is reported once, as unknown
    after_gaps = [g for g in after.get("incomplete") or () if not any(g.endswith(u) for u in unknown)]
    incomplete = [f"{before_label}: {g}" for g in before.get("incomplete") or ()]
    incomplete += [f"{after_label}: {g}" for g in after_gaps]
    # new, or now more severe (a medium "any audience" trust that now admits a whole namespace)
    known: dict[Any, int] = {}
    for f in before.get("findings") or ():
        rank = RANK.get(str(f.get("severity")), 9)
        known[f.get("fingerprint")] = min(rank, known.get(f.get("fingerprint"), 9))
    new_findings = tuple(
        f
        for f in after.get("findings") or ()
        if f.get("severity") in GATING
        and f.get("rule") in ACCESS_RULES
        and RANK.get(str(f.get("severity")), 9) < known.get(f.get("fingerprint"), 9)
        and baseline == "state"
    )
    return DiffResult(
        before=before_label,
        new_findings=new_findings,
        after=after_label,
        baseline=baseline,
        changes=_group(entries),
        unknown=tuple(sorted(set(unknown))),
        incomplete=tuple(incomplete),
        after_gaps=len(after_gaps) or (1 if after.get("complete") is False and not unknown else 0),
    )


def change_json(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {
        "change": change.change,
        "service_account": change.service_account,
        "role_arn": change.role_arn,
        "roles": list(change.roles),
        "resource": change.resource,
        "actions": list(change.actions),
        "escalation": change.escalation,
        "reasons": list(change.reasons),
    }
    if change.pattern:
        out["pattern"] = True
    if change.location is not None:
        out["location"] = dict(change.location)
    return out


def diff_document(result: DiffResult) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "before": result.before,
        "after": result.after,
        "baseline": result.baseline,
        "new_access": len(result.added),
        "removed_access": len(result.removed),
        "escalations": len(result.escalations),
        "changes": [change_json(c) for c in result.changes],
        "new_findings": [
            {k: f[k] for k in ("rule", "severity", "subject", "message", "fingerprint") if k in f}
            for f in result.new_findings
        ],
        "unknown": list(result.unknown),
        "incomplete": list(result.incomplete),
    }
