"""The `iamscope` command: a click group whose commands parse options, call the library, render the
result and map errors to exit codes. No logic lives here beyond that."""

from __future__ import annotations

import gc
import json
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from iamscope import __version__
from iamscope.audit import audit as build_audit
from iamscope.collect.progress import TerminalProgress, progress_for
from iamscope.collect.result import Collected
from iamscope.collect.run import LiveOptions, collect_live
from iamscope.collect.write import write_collection
from iamscope.config import load_config
from iamscope.diff import diff_document, diff_documents
from iamscope.diff_sides import least_privilege_side, scan_side
from iamscope.errors import IamscopeError, InputError, UsageError
from iamscope.files import InputReader
from iamscope.generate import FLAVORS, artefacts, verified_plan, write_artefacts
from iamscope.generate.flavors import flavor_warnings
from iamscope.generate.summary import render_summary
from iamscope.graph import build_graph, render_dot, render_graphml
from iamscope.graph import explain as explain_paths
from iamscope.graph import render_json as render_graph_json
from iamscope.harden import harden_files, harden_plan, render_harden_summary, write_harden
from iamscope.model import Inventory
from iamscope.output import emit
from iamscope.policy import analyse, evaluate, expand_actions, parse_policy, reads_secret_material
from iamscope.policy.document import PolicyDocument
from iamscope.report.audit_json import render_json as render_audit_json
from iamscope.report.audit_text import render_text as render_audit_text
from iamscope.report.diff_markdown import render_markdown as render_diff_markdown
from iamscope.report.diff_text import render_text as render_diff_text
from iamscope.report.sarif import render_diff_sarif, render_scan_sarif
from iamscope.report.scan_json import render_json_chunks as render_scan_json_chunks
from iamscope.report.scan_json import scan_document
from iamscope.report.scan_markdown import render_markdown as render_scan_markdown
from iamscope.report.scan_text import render_text_chunks as render_scan_text_chunks
from iamscope.scan import ScanResult
from iamscope.scan import scan as run_scan
from iamscope.state import Sources, load_inventory, sources

FORMATS = ("text", "json", "markdown", "sarif")
POLICY_FILE_LIMIT = 1024 * 1024  # IAM's largest policies are tens of KiB; a bigger file is not a policy
ACTION_SHAPE = re.compile(r"^[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+$")
SEVERITIES = ("critical", "high", "medium", "low", "none")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="iamscope")
def cli() -> None:
    """Least-privilege IAM for Kubernetes workloads that read AWS Secrets Manager and SSM parameters
    through the Secrets Store CSI Driver."""


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


LIVE_OPTIONS = {  # parameter → option, for "… need --live"
    "profile": "--profile",
    "regions": "--region",
    "cluster": "--cluster",
    "kube_context": "--context",
    "kubeconfig": "--kubeconfig",
    "no_k8s": "--no-k8s",
    "no_aws": "--no-aws",
    "connect_timeout": "--connect-timeout",
    "read_timeout": "--read-timeout",
    "page_size": "--page-size",
    "quiet": "--quiet",
}


def _live_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a live collection, shared by `collect` and `scan --live`."""
    options = [
        click.option("--profile", help="AWS profile (default: the standard credential chain)."),
        click.option(
            "--region", "regions", multiple=True, help="AWS region (repeatable; default: the profile's)."
        ),
        click.option("--cluster", help="EKS cluster name (default: cluster.name of the configuration)."),
        click.option("--context", "kube_context", help="kubeconfig context (default: the current one)."),
        click.option(
            "--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="Default: $KUBECONFIG."
        ),
        click.option("--no-k8s", is_flag=True, help="Collect AWS only."),
        click.option("--no-aws", is_flag=True, help="Collect Kubernetes only."),
        click.option(
            "--connect-timeout",
            type=click.FloatRange(0, min_open=True),
            help="Seconds to connect to AWS or the API server (default: 10).",
        ),
        click.option(
            "--read-timeout",
            type=click.FloatRange(0, min_open=True),
            help="Seconds to wait for an answer (default: 30 for AWS, 60 for Kubernetes).",
        ),
        click.option("--page-size", type=click.IntRange(1, 1000), hidden=True),
        click.option("--quiet", "-q", is_flag=True, help="No progress line (collect: no summary either)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _collect(
    settings_path: Path | None,
    quiet: bool,
    *,
    profile: str | None,
    regions: tuple[str, ...],
    cluster: str | None,
    kube_context: str | None,
    kubeconfig: Path | None,
    no_k8s: bool,
    no_aws: bool,
    connect_timeout: float | None,
    read_timeout: float | None,
    page_size: int | None,
) -> Collected:
    if no_aws and (cluster is not None or regions or profile is not None):
        given = [o for o, v in (("--cluster", cluster), ("--profile", profile), ("--region", regions)) if v]
        raise UsageError(f"{', '.join(given)} needs AWS collection: drop --no-aws")
    if no_k8s and (kube_context is not None or kubeconfig is not None):
        given = [o for o, v in (("--context", kube_context), ("--kubeconfig", kubeconfig)) if v]
        raise UsageError(f"{', '.join(given)} needs Kubernetes collection: drop --no-k8s")
    settings = load_config(settings_path, InputReader())
    live = LiveOptions(
        profile=profile,
        regions=regions,
        cluster=cluster or settings.cluster_name,
        kube_context=kube_context,
        kubeconfig=kubeconfig,
        aws=not no_aws,
        k8s=not no_k8s,
        page_size=page_size,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    progress = progress_for(quiet)
    try:
        return collect_live(live, progress)
    finally:
        if isinstance(progress, TerminalProgress):
            progress.close()


def _report_collection(collected: Collected) -> None:
    for note in collected.notes:
        click.echo(f"iamscope: note: {note}", err=True)
    # in the order they were met (the collection's steps are in a fixed order): the first is often
    # the cause of the rest
    for gap in dict.fromkeys(collected.gaps):
        click.echo(f"iamscope: incomplete: {gap}", err=True)


def _warn_incomplete(gaps: Sequence[str]) -> None:
    """Commands without an "incomplete" exit code still say what their input lacks."""
    for gap in dict.fromkeys(gaps):
        click.echo(f"iamscope: warning: the input is incomplete: {gap}", err=True)


@cli.command()
@_state
@_k8s
@_aws
@_config
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="high", show_default=True)
@click.option("--live", is_flag=True, help="Collect from the live account and cluster first (see collect).")
@_live_options
def scan(
    state: Path | None,
    k8s: tuple[str, ...],
    aws: Path | None,
    config: Path | None,
    fmt: str,
    output: Path | None,
    fail_on: str,
    live: bool,
    **live_options: Any,
) -> int:
    """Run every check: wildcard, cross-workload and over-broad grants, broken trust, driver risks.

    With --live, read the account and cluster first, as `iamscope collect` does (its options apply).
    Exit 0 when nothing is at or above --fail-on, 1 when something is, 3 when the input is incomplete
    (and nothing already fails), 2 on bad input."""
    quiet = bool(live_options.pop("quiet"))
    if live:
        if state is not None or k8s or aws is not None:
            raise UsageError("--live reads the account and cluster itself: give no STATE, --k8s or --aws")
        with tempfile.TemporaryDirectory(prefix="iamscope-live-") as folder:
            collected = _collect(config, quiet, **live_options)
            write_collection(Path(folder), collected)
            _report_collection(collected)
            result = _scan(Path(folder), (), None, config)
    elif quiet or any(v not in (None, False, ()) for v in live_options.values()):
        given = [
            LIVE_OPTIONS[k] for k, v in {**live_options, "quiet": quiet}.items() if v not in (None, False, ())
        ]
        raise UsageError(f"{', '.join(given)} {'needs' if len(given) == 1 else 'need'} --live")
    else:
        result = _scan(state, k8s, aws, config)
    for warning in result.warnings:
        click.echo(f"iamscope: warning: {warning}", err=True)
    if fmt == "json":
        text: Iterable[str] = render_scan_json_chunks(result)
    elif fmt == "sarif":
        text = render_scan_sarif(result)
    elif fmt == "markdown":
        text = render_scan_markdown(result, fail_on)
    else:
        text = render_scan_text_chunks(result, fail_on)
    emit(text, output)
    if result.at_or_above(fail_on):
        return 1
    return 0 if result.complete else 3


def _load(src: Sources, reader: InputReader) -> Inventory:
    """The inventory, which lives until the command ends: frozen out of the cyclic collector's sight,
    so that no later collection walks its millions of objects again (a command is one process)."""
    inventory = load_inventory(src, reader)
    gc.freeze()
    context = click.get_current_context(silent=True)
    if context is not None:  # a caller running many commands in one process collects it after each
        context.call_on_close(gc.unfreeze)
    return inventory


def _scan(state: Path | None, k8s: Sequence[str], aws: Path | None, config: Path | None) -> ScanResult:
    reader = InputReader()
    settings = load_config(config, reader)
    inventory = _load(sources(state, k8s, aws), reader)
    return run_scan(inventory, settings)


@cli.command()
@_state
@_k8s
@_aws
@_config
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--workload",
    "workloads",
    multiple=True,
    help="Only the service account this workload runs as (namespace/Kind/name; repeatable).",
)
@click.option(
    "--service-account",
    "service_accounts",
    multiple=True,
    help="Only this service account (namespace/name; repeatable).",
)
@click.option(
    "--flavor",
    "flavors",
    multiple=True,
    type=click.Choice(FLAVORS),
    help="Also write inputs for a community Terraform module (repeatable).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print no summary, only warnings.")
def generate(
    state: Path | None,
    k8s: tuple[str, ...],
    aws: Path | None,
    config: Path | None,
    out: Path,
    workloads: tuple[str, ...],
    service_accounts: tuple[str, ...],
    flavors: tuple[str, ...],
    quiet: bool,
) -> None:
    """Write a least-privilege IAM role per service account that mounts AWS secrets: identity and
    trust policies, iamscope.auto.tfvars.json for terraform/, and the annotated ServiceAccounts.

    The role of a service account covers every workload running as it, so generating one service
    account alone writes the same bytes as generating the whole cluster."""
    reader = InputReader()
    settings = load_config(config, reader)
    inventory = _load(sources(state, k8s, aws), reader)
    plan = verified_plan(
        inventory,
        settings,
        workloads=workloads,
        service_accounts=service_accounts,
        config_source=str(config or ".iamscope.yaml"),
    )
    files = artefacts(plan, sorted(set(flavors)))
    write_artefacts(out, files, prune=not workloads and not service_accounts)
    read = [f"{w.source}: {w.message}" for w in inventory.kube.warnings + inventory.aws.warnings]
    for warning in sorted(set(read)) + list(plan.warnings) + flavor_warnings(plan, flavors):
        click.echo(f"iamscope: warning: {warning}", err=True)
    _warn_incomplete(_inventory_gaps(inventory))
    if not quiet:
        click.echo(render_summary(plan, out, files))


def _inventory_gaps(inventory: Inventory) -> list[str]:
    """What the input itself lacks: a collection's gaps, snapshot files that say they are partial,
    and no Kubernetes object at all (generate reads the input without running the checks)."""
    gaps = [*inventory.gaps, *inventory.aws.gaps]
    if not inventory.kube.read:
        gaps.append("no Kubernetes input (--k8s, or k8s/ in the state directory): no workload was read")
    return gaps


@cli.command()
@click.argument("before", type=click.Path(exists=True, path_type=Path))
@click.argument("after", required=False, type=click.Path(exists=True, path_type=Path))
@_config
@click.option(
    "--least-privilege",
    is_flag=True,
    help="Compare STATE's grants with the least-privilege roles `iamscope generate` would write.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path))
def diff(
    before: Path,
    after: Path | None,
    config: Path | None,
    least_privilege: bool,
    fmt: str,
    output: Path | None,
) -> int:
    """What AFTER lets each service account read that BEFORE did not: BEFORE AFTER, each a state
    directory (its terraform-plan.json overlaid) or a saved `scan --format json`; or STATE
    --least-privilege.

    Exit 0 when AFTER grants nothing new, 1 when it does (or a planned value is unknown until
    apply), 3 when AFTER could not be read whole (and shows nothing new), 2 on bad input."""
    reader = InputReader()
    settings = load_config(config, reader)
    if least_privilege:
        if after is not None or not before.is_dir():
            raise UsageError("--least-privilege takes one STATE directory")
        inventory = _load(sources(before, (), None), reader)
        current = scan_document(run_scan(inventory, settings))
        baseline = least_privilege_side(inventory, settings, current)
        result = diff_documents(
            baseline,
            current,
            before_label="least privilege (iamscope generate)",
            after_label=str(before),
            baseline="least-privilege",
            unknown=inventory.aws.unknown,
        )
    else:
        if after is None:
            raise UsageError("diff takes BEFORE AFTER (or STATE --least-privilege)")
        old, _ = scan_side(before, settings, reader)
        new, _ = scan_side(after, settings, reader)
        result = diff_documents(
            old, new, before_label=str(before), after_label=str(after), unknown=new.get("unknown") or ()
        )
    renderers = {
        "json": lambda r: json.dumps(diff_document(r), indent=2, sort_keys=True) + "\n",
        "markdown": render_diff_markdown,
        "sarif": render_diff_sarif,
        "text": render_diff_text,
    }
    emit(renderers[fmt](result), output)
    if result.grants_more:
        return 1
    return 3 if result.after_incomplete else 0


@cli.command()
@_state
@_k8s
@_aws
@_config
@click.option(
    "--format", "fmt", type=click.Choice(("json", "dot", "graphml")), default="json", show_default=True
)
def graph(state: Path | None, k8s: tuple[str, ...], aws: Path | None, config: Path | None, fmt: str) -> None:
    """Print the graph of workloads, identities, roles, policies and secrets; each edge has a kind and
    the reason it exists."""
    result = _scan(state, k8s, aws, config)
    built = build_graph(result.assessment)
    renderers = {"json": render_graph_json, "dot": render_dot, "graphml": render_graphml}
    emit(renderers[fmt](built), None)


@cli.command()
@click.argument("args", nargs=-1, required=True)
@_k8s
@_aws
@_config
def explain(args: tuple[str, ...], k8s: tuple[str, ...], aws: Path | None, config: Path | None) -> None:
    """Print every path by which SUBJECT reaches or is reached: [STATE] SUBJECT.

    SUBJECT is a workload (ns/Kind/name), a service account (ns/ServiceAccount/name), a role ARN or a
    secret/parameter ARN."""
    if len(args) > 2:
        raise UsageError("explain takes [STATE] SUBJECT")
    state = Path(args[0]) if len(args) == 2 else None
    if state is not None and not state.is_dir():
        raise UsageError(f"{state}: not a state directory")
    result = _scan(state, k8s, aws, config)
    emit(explain_paths(build_graph(result.assessment), args[-1]), None)


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@_live_options
@_config
def collect(out: Path, config: Path | None, quiet: bool, **live: Any) -> int:
    """Snapshot a live AWS account and Kubernetes cluster into a state directory (metadata only).

    Writes STATE/aws/ and STATE/k8s/ in the input formats every command reads, so the run can be
    replayed offline. Never reads a secret's value. Exit 0 when everything was read, 3 when part of
    it could not be (STATE/incomplete.json says what; scans of STATE are then incomplete), 2 on bad
    usage."""
    collected = _collect(config, quiet, **live)
    written = write_collection(out, collected)
    _report_collection(collected)
    if not quiet:
        state = "incomplete" if collected.gaps else "complete"
        click.echo(f"Wrote {len(written)} file(s) to {out}/ ({state}). Scan it with:")
        click.echo(f"  iamscope scan {out}")
    return 3 if collected.gaps else 0


@cli.command()
@_state
@_k8s
@_aws
@_config
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path))
def audit(
    state: Path | None,
    k8s: tuple[str, ...],
    aws: Path | None,
    config: Path | None,
    fmt: str,
    output: Path | None,
) -> None:
    """The inventory table: SPCs, sync status, mounts, synced Secrets, provider identities.

    Every SecretProviderClass with its provider, whether it syncs to Kubernetes Secrets, how many
    objects it names and which workloads mount it; every synced Secret; the driver and provider
    DaemonSets with their service accounts and identities. Exit 0, or 2 on bad input."""
    result = _scan(state, k8s, aws, config)
    for warning in result.warnings:
        click.echo(f"iamscope: warning: {warning}", err=True)
    _warn_incomplete(result.gaps)
    report = build_audit(result.assessment)
    emit(render_audit_json(report) if fmt == "json" else render_audit_text(report), output)


@cli.command()
@_state
@_k8s
@_aws
@_config
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--failure-action",
    type=click.Choice(("Enforce", "Audit")),
    default="Enforce",
    show_default=True,
    help="What the Kyverno rules do on a violation: reject the request, or only report it.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only warnings.")
def harden(
    state: Path | None,
    k8s: tuple[str, ...],
    aws: Path | None,
    config: Path | None,
    out: Path,
    failure_action: str,
    quiet: bool,
) -> None:
    """Write the Kyverno policy, hardened Helm values and the Falco rules for this cluster.

    From the configuration (platform principals and groups, approved sync namespaces, quotas) and the
    cluster (which SPCs need sync, rotation load, worker nodes and their taints): under --out,
    kyverno/secrets-store-hardening.yaml, helm/secrets-store-csi-driver.values.yaml,
    helm/secrets-store-csi-driver-provider-aws.values.yaml and falco/secrets-store-rules.yaml.
    Exit 0, or 2 on bad input."""
    result = _scan(state, k8s, aws, config)
    plan = harden_plan(result.assessment, failure_action=failure_action)
    files = harden_files(plan)
    for warning in list(result.warnings) + list(plan.warnings):
        click.echo(f"iamscope: warning: {warning}", err=True)
    _warn_incomplete(result.gaps)
    write_harden(out, files)
    if not quiet:
        click.echo(render_harden_summary(plan, out, files), nl=False)


# --- iamscope policy: the policy engine on its own -------------------------------------------------


@cli.group()
def policy() -> None:
    """Ask the IAM policy engine directly, offline: evaluate requests, expand action patterns."""


def load_policy_file(reader: InputReader, path: Path, kind: str) -> PolicyDocument:
    """A policy document from a file holding the document itself or an AWS CLI answer around it
    (`get-policy-version`, `get-role-policy`, `get-role`'s trust policy)."""
    raw = reader.read_json(path, limit=POLICY_FILE_LIMIT)
    if isinstance(raw, dict):
        for wrapper in ("PolicyVersion", "Role"):
            if isinstance(raw.get(wrapper), dict):
                raw = raw[wrapper]
        for key in ("Document", "PolicyDocument", "AssumeRolePolicyDocument"):
            if key in raw and "Statement" not in raw:
                raw = raw[key]
                break
    return parse_policy(raw, name=str(path), kind=kind)


def _context_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _parse_context(
    reader: InputReader, pairs: Sequence[str], context_file: Path | None
) -> dict[str, list[str]]:
    context: dict[str, list[str]] = {}
    if context_file is not None:
        source = str(context_file)
        raw = reader.read_json(context_file, limit=POLICY_FILE_LIMIT)
        if not isinstance(raw, dict):
            raise InputError(
                "a context file must hold a JSON object of key: value or [values]", source=source
            )
        for key, value in raw.items():
            if value is None:
                continue  # null: the request does not carry the key
            strings = [_context_value(v) for v in (value if isinstance(value, list) else [value])]
            if any(v is None for v in strings):
                where = f"key {key!r}"
                raise InputError(
                    "values must be strings, numbers, booleans or lists of those", source=source, where=where
                )
            context[str(key)] = [v for v in strings if v is not None]
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--context wants KEY=VALUE, got {pair!r}")
        context.setdefault(key, []).append(value)
    return context


def _concrete_actions(patterns: Sequence[str], option: str) -> list[str]:
    """Every concrete action the patterns name, sorted; an exact action passes through even when the
    catalogue does not know it (permission-only actions have no API operation)."""
    found: dict[str, None] = {}
    for pattern in patterns:
        if pattern != "*" and not ACTION_SHAPE.match(pattern):
            raise UsageError(f"{option} {pattern!r} is not of the form service:action")
        expanded = expand_actions(pattern) if ("*" in pattern or "?" in pattern) else (pattern,)
        if not expanded:
            raise UsageError(f"{option} {pattern!r} matches no known action")
        found.update(dict.fromkeys(expanded))
    return sorted(found, key=str.lower)


@policy.command("evaluate")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Identity policy JSON (repeatable; - reads standard input).",
)
@click.option("--boundary", type=click.Path(path_type=Path), help="Permissions boundary JSON.")
@click.option("--resource-policy", type=click.Path(path_type=Path), help="The resource's policy JSON.")
@click.option(
    "--principal",
    help="The caller's ARN (role, session or user); resource policies that name principals need it.",
)
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
@click.option("--context-file", type=click.Path(path_type=Path), help="JSON object of condition keys.")
@click.option(
    "--unknown-context",
    is_flag=True,
    help="Keys not given are unknown: answer allowed / denied / allowed only when. Without --principal the "
    "caller is taken to be in the resource's account, and the answer says so.",
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
    reader = InputReader()
    documents = [load_policy_file(reader, p, "identity") for p in policies]
    bdoc = load_policy_file(reader, boundary, "boundary") if boundary else None
    rdoc = load_policy_file(reader, resource_policy, "resource") if resource_policy else None
    context = _parse_context(reader, pairs, context_file)
    rows = [
        _decide(documents, action, resource, context, bdoc, rdoc, principal, unknown_context)
        for action in _concrete_actions(actions, "--action")
        for resource in sorted(set(resources))
    ]
    if fmt == "json":
        click.echo(json.dumps({"schema": "iamscope.evaluate/v1", "results": rows}, indent=2, sort_keys=True))
        return
    for row in rows:
        click.echo(f"{row['decision']:<12} {row['action']}  {row['resource']}")
        detail = f"allowed only when {row['when']}" if row.get("when") else row.get("reason")
        for line in [detail, *(f"assuming {a}" for a in row.get("assumptions", ()))]:
            if line:
                click.echo(f"             {line}")
        for statement in row["statements"]:
            click.echo(f"             - {statement}")


def _decide(
    documents: Sequence[PolicyDocument],
    action: str,
    resource: str,
    context: dict[str, list[str]],
    boundary: PolicyDocument | None,
    resource_policy: PolicyDocument | None,
    principal: str | None,
    unknown_context: bool,
) -> dict[str, Any]:
    """One result row of `policy evaluate`."""
    row: dict[str, Any] = {
        "action": action,
        "resource": resource,
        "reads_secret_material": reads_secret_material(action),
    }
    options: dict[str, Any] = {
        "boundary": boundary,
        "resource_policy": resource_policy,
        "principal": principal,
    }
    if unknown_context:
        result = analyse(documents, action, resource, context, **options)
        return row | {
            "decision": result.outcome,
            "when": None if result.outcome != "conditional" else str(result.when),
            "keys": list(result.keys),
            "assumptions": list(result.assumptions),
            "statements": [str(s) for s in result.statements],
        }
    decision = evaluate(documents, action, resource, context, **options)
    return row | {
        "decision": decision.effect,
        "reason": decision.reason,
        "statements": [str(s) for s in decision.statements],
    }


@policy.command("actions")
@click.argument("patterns", nargs=-1, required=True)
@click.option("--secret-reading", is_flag=True, help="Only actions that return stored secret material.")
def policy_actions(patterns: tuple[str, ...], secret_reading: bool) -> None:
    """Expand Action-element patterns (`secretsmanager:Get*`, `ssm:*`) into concrete actions, from
    botocore's service models. Actions that return secret material are marked with `!`."""
    for action in _concrete_actions(patterns, "pattern"):
        reads = reads_secret_material(action)
        if secret_reading and not reads:
            continue
        click.echo(f"{'!' if reads else ' '} {action}")


# --- entry point ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the CLI: every IamscopeError becomes its one-line message and its exit code."""
    run: Callable[..., Any] = cli.main
    try:
        code = run(args=list(argv) if argv is not None else None, prog_name="iamscope", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("iamscope: aborted", err=True)
        sys.exit(130)
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        click.echo(f"iamscope: error: {error.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as error:
        click.echo(f"iamscope: error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except IamscopeError as error:
        click.echo(f"iamscope: error: {error}", err=True)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except RecursionError:
        # every reader bounds nesting itself; this is the backstop for one that does not
        click.echo("iamscope: error: an input is nested too deeply to analyse", err=True)
        sys.exit(2)
    except Exception as error:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("IAMSCOPE_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"iamscope: internal error: {type(error).__name__}: {error} (set IAMSCOPE_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
