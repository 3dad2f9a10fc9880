"""The two sides `iamscope diff` compares, as iamscope.scan/v1 documents: a state directory is
scanned (its terraform-plan.json, when present, overlaid on its snapshot), a file must be a saved
`scan --format json`; and the least-privilege side, built from what `generate` would write."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from iamscope.access import ASCP_ACTIONS, DECRYPT
from iamscope.config import Config
from iamscope.errors import InputError
from iamscope.files import InputReader
from iamscope.generate import plan_roles
from iamscope.kms import SECRETSMANAGER, SSMPARAMETER
from iamscope.model import Inventory
from iamscope.report.scan_json import SCHEMA as SCAN_SCHEMA
from iamscope.report.scan_json import scan_document
from iamscope.scan import scan
from iamscope.state import load_inventory, sources

SCAN_FILE_LIMIT = 2 * 1024 * 1024 * 1024  # a scan of the largest clusters is large; JSON is read whole


def scan_side(path: Path, config: Config, reader: InputReader) -> tuple[dict[str, Any], Inventory | None]:
    """The scan document of a state directory or of a saved scan JSON file (with the inventory when
    it was scanned here)."""
    if path.is_dir():
        inventory = load_inventory(sources(path, (), None), reader)
        # as the scan command does: the inventory (millions of objects, no reference cycles) out of
        # the cyclic collector's sight while it is analysed, so no collection walks it again and again
        gc.freeze()
        try:
            return scan_document(scan(inventory, config)), inventory
        finally:
            gc.unfreeze()
    raw = reader.read_json(path, limit=SCAN_FILE_LIMIT)
    if not isinstance(raw, dict) or raw.get("schema") != SCAN_SCHEMA:
        found = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
        raise InputError(
            f"not a state directory nor a saved `iamscope scan --format json` (schema {found!r}, "
            f"expected {SCAN_SCHEMA!r})",
            source=str(path),
        )
    _check_scan_document(raw, str(path))
    return raw, None


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# what diff reads of a saved scan document, by type: a field may be absent (or null where noted)
_ENTRY_LISTS = ("workloads", "needs", "unresolved_needs", "assumable_roles")
_GRANT_OPTIONAL: dict[str, Callable[[Any], bool]] = {
    "statements": _strings,
    "statement": lambda v: isinstance(v, str),
}


def _check_scan_document(raw: dict[str, Any], source: str) -> None:
    """Every field diff reads, of the type the schema gives it; otherwise one InputError naming the
    file and the entry (a null resource or a string of actions would crash or mislead the diff)."""
    if not isinstance(raw.get("access"), list):
        raise InputError("the scan document has no `access` list", source=source)
    for key in ("incomplete", "unknown"):
        if raw.get(key) is not None and not _strings(raw[key]):
            raise InputError(f"`{key}` must be a list of strings", source=source, where=key)
    if raw.get("complete") is not None and not isinstance(raw["complete"], bool):
        raise InputError("`complete` must be true or false", source=source, where="complete")
    findings = raw.get("findings")
    if findings is not None and not (
        isinstance(findings, list) and all(isinstance(f, dict) for f in findings)
    ):
        raise InputError("`findings` must be a list of objects", source=source, where="findings")
    for i, entry in enumerate(raw["access"]):
        where = f"access[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("service_account"), str):
            raise InputError("each access entry needs a service_account string", source=source, where=where)
        for key in _ENTRY_LISTS:
            if entry.get(key) is not None and not _strings(entry[key]):
                raise InputError(f"`{key}` must be a list of strings", source=source, where=f"{where}.{key}")
        through = entry.get("assumed_through")
        if through is not None and not (
            isinstance(through, dict) and all(isinstance(v, str) for v in through.values())
        ):
            raise InputError(
                "`assumed_through` must map role ARNs to strings",
                source=source,
                where=f"{where}.assumed_through",
            )
        if entry.get("location") is not None and not isinstance(entry["location"], dict):
            raise InputError("`location` must be an object", source=source, where=f"{where}.location")
        grants = entry.get("grants")
        if grants is not None and not isinstance(grants, list):
            raise InputError("`grants` must be a list", source=source, where=f"{where}.grants")
        for j, grant in enumerate(grants or ()):
            _check_grant(grant, source, f"{where}.grants[{j}]")


def _check_grant(grant: Any, source: str, where: str) -> None:
    if not isinstance(grant, dict) or not {"resource", "actions", "via"} <= set(grant):
        raise InputError("a grant needs resource, actions and via", source=source, where=where)
    if not isinstance(grant["resource"], str) or not grant["resource"]:
        raise InputError("`resource` must be an ARN string", source=source, where=f"{where}.resource")
    if not _strings(grant["actions"]):
        raise InputError("`actions` must be a list of strings", source=source, where=f"{where}.actions")
    if not isinstance(grant["via"], str):
        raise InputError("`via` must be a role ARN string", source=source, where=f"{where}.via")
    for key, ok in _GRANT_OPTIONAL.items():
        if grant.get(key) is not None and not ok(grant[key]):
            raise InputError(f"`{key}` has the wrong type", source=source, where=f"{where}.{key}")
    if grant.get("conditions") is not None and not isinstance(grant["conditions"], dict):
        raise InputError("`conditions` must be an object", source=source, where=f"{where}.conditions")


def least_privilege_side(inventory: Inventory, config: Config, current: dict[str, Any]) -> dict[str, Any]:
    """What each service account could do with the roles `generate` writes: ASCP's actions on each
    object its workloads declare, and kms:Decrypt where a customer-managed key encrypts it. Service
    accounts keep the roles they assume now, so no trust change is reported."""
    plan = plan_roles(inventory, config)
    assumable = {e["service_account"]: e.get("assumable_roles") or [] for e in current.get("access") or ()}
    access = []
    for role in plan.roles:
        grants = [
            {
                "resource": arn,
                "actions": sorted([*ASCP_ACTIONS[kind], *([DECRYPT] if arn in role.decrypted else [])]),
                "via": role.role_arn,
                "readable": "allowed",
                "statements": [f"least privilege: {role.role_name} (iamscope generate)"],
            }
            for kind, arns in ((SECRETSMANAGER, role.secret_arns), (SSMPARAMETER, role.parameter_arns))
            for arn in arns
        ]
        access.append(
            {
                "service_account": role.id,
                "workloads": list(role.workloads),
                "assumable_roles": assumable.get(role.id, []),
                "needs": [*role.secret_arns, *role.parameter_arns],
                "grants": grants,
            }
        )
    return {"schema": SCAN_SCHEMA, "access": access, "incomplete": []}
