"""The two sides `iamscope diff` compares, as iamscope.scan/v1 documents: a state directory is
scanned (its terraform-plan.json, when present, overlaid on its snapshot), a file must be a saved
`scan --format json`; and the least-privilege side, built from what `generate` would write."""

from __future__ import annotations

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
        return scan_document(scan(inventory, config)), inventory
    raw = reader.read_json(path, limit=SCAN_FILE_LIMIT)
    if not isinstance(raw, dict) or raw.get("schema") != SCAN_SCHEMA:
        found = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
        raise InputError(
            f"not a state directory nor a saved `iamscope scan --format json` (schema {found!r}, "
            f"expected {SCAN_SCHEMA!r})",
            source=str(path),
        )
    if not isinstance(raw.get("access"), list):
        raise InputError("the scan document has no `access` list", source=str(path))
    for i, entry in enumerate(raw["access"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("service_account"), str):
            raise InputError(
                "each access entry needs a service_account", source=str(path), where=f"access[{i}]"
            )
        for j, grant in enumerate(entry.get("grants") or ()):
            if not isinstance(grant, dict) or not {"resource", "actions", "via"} <= set(grant):
                where = f"access[{i}].grants[{j}]"
                raise InputError("a grant needs resource, actions and via", source=str(path), where=where)
    return raw, None


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
