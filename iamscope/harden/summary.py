"""What `harden` prints when it is done: the files, what the cluster decided, and what the admission
policy would reject today (fix those first, or apply the policy with --failure-action Audit)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from iamscope.harden.plan import HardenPlan, go_duration


def render_harden_summary(plan: HardenPlan, out: Path, files: Mapping[str, str]) -> str:
    lines = [f"Wrote {len(files)} file(s) to {out}/:"]
    lines += [f"  {name}" for name in files]
    lines.append(
        f"syncSecret.enabled={'true' if plan.sync_needed_by else 'false'}, "
        f"rotationPollInterval={go_duration(plan.rotation_interval)}, "
        f"Kyverno failureAction={plan.failure_action}"
    )
    if plan.violations:
        lines.append(f"{len(plan.violations)} thing(s) in the input the policy refuses from now on:")
        lines += [f"  {v.subject}: {v.reason} ({v.rule})" for v in plan.violations]
    else:
        lines.append("Nothing in the input violates the policy.")
    return "\n".join(lines) + "\n"
