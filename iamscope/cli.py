"""The `iamscope` command: a click group whose commands parse options, call the library, render the
result and map errors to exit codes. No logic lives here beyond that."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from iamscope import __version__
from iamscope.errors import IamscopeError, InputError, NotImplementedYetError, UsageError
from iamscope.policy import analyse, evaluate, expand_actions, parse_policy, reads_secret_material
from iamscope.policy.document import PolicyDocument

FORMATS = ("text", "json", "markdown", "sarif")
SEVERITIES = ("critical", "high", "medium", "low", "none")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="iamscope")
def cli() -> None:
    """Least-privilege IAM for Kubernetes workloads that read AWS Secrets Manager and SSM parameters
    through the Secrets Store CSI Driver."""


def _pending(command: str, issue: str) -> NoReturn:
    raise NotImplementedYetError(f"`iamscope {command}` is not implemented yet ({issue})")


_state = click.argument(
    "state", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
_k8s = click.option("--k8s", "k8s", multiple=True, help="Kubernetes manifests: a file, a directory, or -.")
_aws = click.option(
    "--aws", "aws", type=click.Path(file_okay=False, path_type=Path), help="AWS CLI snapshot directory."
)
_config = click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="Default: ./.iamscope.yaml"
)


@cli.command()
@_state
@_k8s
@_aws
@_config
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="high", show_default=True)
def scan(**_: Any) -> None:
    """Run every check: wildcard, cross-workload and over-broad grants, broken trust, driver risks."""
    _pending("scan", "the graph and scan issue")


@cli.command()
@_state
@_k8s
@_aws
@_config
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def generate(**_: Any) -> None:
    """Write least-privilege identity and trust policies, tfvars and ServiceAccount manifests."""
    _pending("generate", "the generate issue")


@cli.command()
@click.argument("before", type=click.Path(exists=True, path_type=Path))
@click.argument("after", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def diff(**_: Any) -> None:
    """Compare the access of two states (or two scan JSON files): what does AFTER newly grant?"""
    _pending("diff", "the diff issue")


@cli.command()
@_state
@_k8s
@_aws
@click.option(
    "--format", "fmt", type=click.Choice(("json", "dot", "graphml")), default="json", show_default=True
)
def graph(**_: Any) -> None:
    """Print the graph of workloads, identities, roles, policies and secrets."""
    _pending("graph", "the graph and scan issue")


@cli.command()
@click.argument("args", nargs=-1, required=True)
@_k8s
@_aws
def explain(**_: Any) -> None:
    """Print every path by which SUBJECT reaches or is reached: [STATE] SUBJECT."""
    _pending("explain", "the graph and scan issue")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--profile")
@click.option("--region", multiple=True)
@click.option("--context", "kube_context")
@click.option("--no-k8s", is_flag=True)
def collect(**_: Any) -> None:
    """Snapshot a live AWS account and Kubernetes cluster into a state directory (metadata only)."""
    _pending("collect", "the live collection issue")


@cli.command()
@_state
@_k8s
@_aws
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def audit(**_: Any) -> None:
    """The inventory table: SPCs, sync status, mounts, synced Secrets, provider identities."""
    _pending("audit", "the driver hardening issue")


@cli.command()
@_state
@_k8s
@_aws
@_config
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def harden(**_: Any) -> None:
    """Write the Kyverno policy, hardened Helm values and the Falco rule for this cluster."""
    _pending("harden", "the driver hardening issue")


# --- iamscope policy: the policy engine on its own -------------------------------------------------


@cli.group()
def policy() -> None:
    """Ask the IAM policy engine directly, offline: evaluate requests, expand action patterns."""


def _read_json(path: Path) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", source=str(path)) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError("JSON nested too deeply to be a policy", source=str(path)) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"invalid JSON: {error.msg}", source=str(path), where=f"line {error.lineno} column {error.colno}"
        ) from None


def load_policy_file(path: Path, kind: str) -> PolicyDocument:
    """A policy document from a file holding the document itself or an AWS CLI answer around it
    (`get-policy-version`, `get-role-policy`, `get-role`'s trust policy)."""
    raw = _read_json(path)
    if isinstance(raw, dict):
        for wrapper in ("PolicyVersion", "Role"):
            if isinstance(raw.get(wrapper), dict):
                raw = raw[wrapper]
        for key in ("Document", "PolicyDocument", "AssumeRolePolicyDocument"):
            if key in raw and "Statement" not in raw:
                raw = raw[key]
                break
    return parse_policy(raw, name=str(path), kind=kind)


def _parse_context(pairs: Sequence[str], context_file: Path | None) -> dict[str, list[str]]:
    context: dict[str, list[str]] = {}
    if context_file is not None:
        raw = _read_json(context_file)
        if not isinstance(raw, dict):
            raise InputError(
                "a context file must hold a JSON object of key: value or [values]", source=str(context_file)
            )
        for key, value in raw.items():
            values = value if isinstance(value, list) else [value]
            context[str(key)] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--context wants KEY=VALUE, got {pair!r}")
        context.setdefault(key, []).append(value)
    return context


@policy.command("evaluate")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Identity policy JSON (repeatable).",
)
@click.option(
    "--boundary", type=click.Path(dir_okay=False, path_type=Path), help="Permissions boundary JSON."
)
@click.option(
    "--resource-policy", type=click.Path(dir_okay=False, path_type=Path), help="The resource's policy JSON."
)
@click.option("--principal", help="The caller's ARN (role or assumed-role session).")
@click.option(
    "--action", "actions", multiple=True, required=True, help="Action to test (repeatable; patterns expand)."
)
@click.option(
    "--resource",
    "resources",
    multiple=True,
    default=("*",),
    show_default=True,
    help="Resource ARN (repeatable).",
)
@click.option(
    "--context",
    "pairs",
    multiple=True,
    help="Condition key: KEY=VALUE (repeatable; repeat a key for a list).",
)
@click.option(
    "--context-file", type=click.Path(dir_okay=False, path_type=Path), help="JSON object of condition keys."
)
@click.option(
    "--unknown-context",
    is_flag=True,
    help="Keys not given are unknown: answer allowed / denied / allowed only when.",
)
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def policy_evaluate(
    policies: tuple[Path, ...],
    boundary: Path | None,
    resource_policy: Path | None,
    principal: str | None,
    actions: tuple[str, ...],
    resources: tuple[str, ...],
    pairs: tuple[str, ...],
    context_file: Path | None,
    unknown_context: bool,
    fmt: str,
) -> None:
    """Decide requests against policy documents as AWS would, offline (like `aws iam
    simulate-custom-policy`, with boundaries and resource policies)."""
    if not policies and resource_policy is None:
        raise UsageError("give at least one --policy or a --resource-policy")
    documents = [load_policy_file(p, "identity") for p in policies]
    bdoc = load_policy_file(boundary, "boundary") if boundary else None
    rdoc = load_policy_file(resource_policy, "resource") if resource_policy else None
    context = _parse_context(pairs, context_file)
    concrete: list[str] = []
    for action in actions:
        expanded = expand_actions(action) if ("*" in action or "?" in action) else (action,)
        if not expanded:
            raise UsageError(f"--action {action!r} matches no known action")
        concrete.extend(a for a in expanded if a not in concrete)
    rows: list[dict[str, Any]] = []
    for action in concrete:
        for resource in resources:
            row: dict[str, Any] = {"action": action, "resource": resource}
            if unknown_context:
                result = analyse(
                    documents,
                    action,
                    resource,
                    context,
                    boundary=bdoc,
                    resource_policy=rdoc,
                    principal=principal,
                )
                row |= {
                    "decision": result.outcome,
                    "when": None if result.outcome != "conditional" else str(result.when),
                    "keys": list(result.keys),
                    "statements": [str(s) for s in result.statements],
                }
            else:
                decision = evaluate(
                    documents,
                    action,
                    resource,
                    context,
                    boundary=bdoc,
                    resource_policy=rdoc,
                    principal=principal,
                )
                row |= {
                    "decision": decision.effect,
                    "reason": decision.reason,
                    "statements": [str(s) for s in decision.statements],
                }
            row["reads_secret_material"] = reads_secret_material(action)
            rows.append(row)
    if fmt == "json":
        click.echo(json.dumps({"schema": "iamscope.evaluate/v1", "results": rows}, indent=2, sort_keys=True))
        return
    for row in rows:
        line = f"{row['decision']:<12} {row['action']}  {row['resource']}"
        click.echo(line)
        detail = f"allowed only when {row['when']}" if row.get("when") else row.get("reason")
        if detail:
            click.echo(f"             {detail}")
        for statement in row["statements"]:
            click.echo(f"             - {statement}")


@policy.command("actions")
@click.argument("patterns", nargs=-1, required=True)
@click.option("--secret-reading", is_flag=True, help="Only actions that return stored secret material.")
def policy_actions(patterns: tuple[str, ...], secret_reading: bool) -> None:
    """Expand Action-element patterns (`secretsmanager:Get*`, `ssm:*`) into concrete actions, from
    botocore's service models. Actions that return secret material are marked with `!`."""
    seen: dict[str, None] = {}
    for pattern in patterns:
        for action in expand_actions(pattern):
            seen.setdefault(action)
    for action in seen:
        reads = reads_secret_material(action)
        if secret_reading and not reads:
            continue
        click.echo(f"{'!' if reads else ' '} {action}")


# --- entry point ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the CLI: every IamscopeError becomes its one-line message and its exit code."""
    run: Callable[..., Any] = cli.main
    try:
        run(args=list(argv) if argv is not None else None, prog_name="iamscope", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("iamscope: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(2)
    except IamscopeError as error:
        click.echo(f"iamscope: error: {error}", err=True)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as error:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("IAMSCOPE_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"iamscope: internal error: {type(error).__name__}: {error} (set IAMSCOPE_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(70)
    sys.exit(0)
