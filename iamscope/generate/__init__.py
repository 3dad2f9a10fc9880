"""`iamscope generate`: least-privilege artefacts per service account. `plan` decides what each
service account needs and `verify` checks the roles against the snapshot; `documents`, `tfvars`,
`manifests` and `flavors` render them; `artefacts` names every file and writes them all only once
every one of them has been rendered."""

from __future__ import annotations

from iamscope.generate.artefacts import FLAVORS, artefacts, write_artefacts
from iamscope.generate.plan import GeneratePlan, RolePlan, plan_roles
from iamscope.generate.verify import verified_plan

__all__ = [
    "FLAVORS",
    "GeneratePlan",
    "RolePlan",
    "artefacts",
    "plan_roles",
    "verified_plan",
    "write_artefacts",
]
