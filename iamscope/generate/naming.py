"""Role names from the configured template: always a valid IAM role name (at most 64 characters of
letters, digits and `+=,.@_-`), shortened with a hash of the full name when too long, and never the
same name for two service accounts (a template that would do that is an error, not a silent
rename: a rename would make Terraform replace a role a running workload uses)."""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Mapping

from iamscope.errors import InputError

FIELDS = ("cluster", "namespace", "service_account")
MAX_LENGTH = 64
HASH_LENGTH = 8
INVALID = re.compile(r"[^A-Za-z0-9+=,.@_-]+")


def template_fields(template: str, *, source: str) -> tuple[str, ...]:
    """The fields a template uses; an unknown field or a broken brace is an error naming the template."""
    where = "generate.role_name"
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        raise InputError(f"{template!r}: {error}", source=source, where=where) from None
    used = []
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS or spec or conversion:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise InputError(
                f"{template!r}: unknown field {{{field}}} (known: {known})", source=source, where=where
            )
        used.append(field)
    if "service_account" not in used:
        raise InputError(
            f"{template!r} must contain {{service_account}}: one role per service account",
            source=source,
            where=where,
        )
    return tuple(used)


def role_name(template: str, values: Mapping[str, str]) -> str:
    """The template filled in, with characters IAM does not allow in a role name replaced by `-`; a
    name over 64 characters keeps its first 55 (less a `-` they end with) and appends `-` and 8 hex
    digits of the full name's SHA-256, so two long names that differ only at the end stay different."""
    name = INVALID.sub("-", template.format_map(values)).strip("-") or "role"
    if len(name) <= MAX_LENGTH:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]
    return f"{name[: MAX_LENGTH - HASH_LENGTH - 1].rstrip('-')}-{digest}"


def unique_names(
    template: str,
    service_accounts: Iterable[tuple[str, str]],
    cluster: str,
    *,
    source: str,
    selected: Iterable[tuple[str, str]] | None = None,
) -> dict[tuple[str, str], str]:
    """The role name of every (namespace, service account). IAM role names are unique in an account
    without regard to case, so names equal but for case collide too. Names are decided over every
    service account (so a role's name never depends on a filter), but only a collision that involves
    a `selected` one (all, by default) stops the run."""
    template_fields(template, source=source)
    names: dict[tuple[str, str], str] = {}
    owners: dict[str, list[tuple[str, str]]] = {}
    for ns, sa in sorted(service_accounts):
        name = role_name(template, {"cluster": cluster, "namespace": ns, "service_account": sa})
        owners.setdefault(name.lower(), []).append((ns, sa))
        names[(ns, sa)] = name
    wanted = set(names) if selected is None else set(selected)
    for pair in sorted(wanted):
        same = owners.get(names[pair].lower(), []) if pair in names else []
        if len(same) > 1:
            (a_ns, a_sa), (b_ns, b_sa) = same[0], same[1]
            raise InputError(
                f"{template!r} gives {a_ns}/{a_sa} and {b_ns}/{b_sa} the same role name {names[same[1]]!r}: "
                "the template must tell them apart (with {namespace}, and {cluster} when clusters share "
                "the account, separated by a character names do not hold, such as .)",
                source=source,
                where="generate.role_name",
            )
    return names
