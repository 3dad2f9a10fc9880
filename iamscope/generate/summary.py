"""What `generate` prints when it is done: one line per role, then the files and the next step."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from iamscope.generate.plan import GeneratePlan


def _how(irsa: bool, pod_identity: bool) -> str:
    return " + ".join(name for name, used in (("IRSA", irsa), ("Pod Identity", pod_identity)) if used)


def render_summary(plan: GeneratePlan, out: Path, files: Mapping[str, str]) -> str:
    if not plan.roles:
        return f"No service account mounts AWS objects that could be resolved: wrote no role to {out}/"
    width = max(len(r.key) for r in plan.roles)
    lines = [f"{len(plan.roles)} role(s) for account {plan.account}:"]
    for role in plan.roles:
        counts = [f"{len(role.secret_arns)} secret(s)", f"{len(role.parameter_arns)} parameter(s)"]
        keys = len(role.secret_key_arns) + len(role.parameter_key_arns)
        if keys:
            counts.append(f"{keys} KMS key(s)")
        how = _how(role.irsa, role.pod_identity)
        lines.append(f"  {role.key:<{width}}  {role.role_name}  ({how}; {', '.join(counts)})")
    lines.append(f"Wrote {len(files)} file(s) to {out}/. Apply with:")
    lines.append(f"  terraform -chdir=terraform apply -var-file={out.resolve()}/iamscope.auto.tfvars.json")
    return "\n".join(lines)
