"""A Terraform plan as an overlay on the AWS snapshot (DESIGN.md §3, `STATE/terraform-plan.json`).

`overlay_plan` takes the decoded `terraform show -json` output of a plan and the snapshot's inventory,
and returns the inventory as it will be once the plan is applied: the IAM roles, their inline policies
and attachments, and the managed policies the plan creates, changes or destroys, in the root module and
in every module instance (`module.x["k"].`) and count/for_each instance. It is pure: the caller reads
the file (iamscope.files) and names it as `source`.

What the plan leaves unknown until apply (`after_unknown`) is never guessed. A value that only refers
to another resource of the same plan (`aws_iam_policy.x.arn`, `aws_iam_role.this.name`, through module
inputs and outputs too) is taken from that resource's planned values, as the configuration's references
say; anything else unknown is left out of the roles and named in `AwsInventory.unknown`
(`<resource address>: <attribute> is known only after apply`), which no analysis may ignore.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from iamscope.errors import InputError, PolicyError
from iamscope.model import (
    AwsInventory,
    InlinePolicy,
    ManagedPolicy,
    Pairs,
    PodIdentityAssociation,
    Role,
    Secret,
    Warning,
)
from iamscope.policy.arn import try_parse_arn
from iamscope.policy.document import PolicyDocument, PolicyKind, parse_policy

ROLE = "aws_iam_role"
ROLE_POLICY = "aws_iam_role_policy"
POLICY = "aws_iam_policy"
ROLE_ATTACHMENT = "aws_iam_role_policy_attachment"
POLICY_ATTACHMENT = "aws_iam_policy_attachment"
EXCLUSIVE_POLICIES = "aws_iam_role_policies_exclusive"
EXCLUSIVE_ATTACHMENTS = "aws_iam_role_policy_attachments_exclusive"
SECRET_POLICY = "aws_secretsmanager_secret_policy"
ASSOCIATION = "aws_eks_pod_identity_association"
# resources that change who can read a secret but that the overlay does not model: a change to one
# is reported as unknown (the gate cannot vouch for it), never ignored
UNMODELLED = {
    "aws_kms_key": "a KMS key (its key policy decides kms:Decrypt)",
    "aws_kms_key_policy": "a KMS key policy (it decides kms:Decrypt)",
    "aws_kms_grant": "a KMS grant (it allows kms:Decrypt)",
    "aws_iam_openid_connect_provider": "an IAM OIDC provider (IRSA trusts it)",
    "aws_secretsmanager_secret": "a secret's settings (its KMS key, its inline policy)",
    "aws_ssm_parameter": "a parameter's settings (its KMS key)",
}
IAM_TYPES = frozenset(
    {
        ROLE,
        ROLE_POLICY,
        POLICY,
        ROLE_ATTACHMENT,
        POLICY_ATTACHMENT,
        EXCLUSIVE_POLICIES,
        EXCLUSIVE_ATTACHMENTS,
        SECRET_POLICY,
        ASSOCIATION,
        *UNMODELLED,
    }
)

_KEY = r'\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\]'
_MODULE_STEP = re.compile(rf"module\.([A-Za-z_][A-Za-z0-9_-]*)({_KEY})?")
_RESOURCE_REF = re.compile(rf"([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)({_KEY})?(?:\.(.+))?")
_MODULE_REF = re.compile(rf"module\.([A-Za-z_][A-Za-z0-9_-]*)({_KEY})?(?:\.([A-Za-z_][A-Za-z0-9_-]*))?")
# references that only pick an instance or a path: they never contribute to a value's identity
_BENIGN = ("each.", "count.", "path.", "terraform.")
_NOT_RESOURCES = frozenset({"var", "local", "module", "data", "each", "count", "path", "self", "terraform"})
_MAX_DEPTH = 32
_UNSET = object()


def overlay_plan(raw: Any, aws: AwsInventory, *, source: str) -> AwsInventory:
    """The snapshot as it will be once the plan is applied: returns dataclasses.replace(aws, roles=...,
    managed_policies=..., plan=source, unknown=...). Raises InputError (naming `source` and the resource
    address) for a document that is not a Terraform JSON plan or holds a malformed policy."""
    changes, deferred, root = _read_plan(raw, source)
    overlay = _Overlay(changes, aws, source, root)
    overlay.unknown.update(deferred)
    return overlay.run()


# --- reading the plan --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Change:
    """One IAM resource instance of the plan, with its configuration's expressions."""

    address: str
    module: str  # the module instance address, "" for the root module
    type: str
    name: str
    index: Any  # None, an int (count) or a str (for_each)
    actions: tuple[str, ...]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    after_unknown: Mapping[str, Any]
    expressions: Mapping[str, Any] | None  # None: the configuration does not hold the resource

    @property
    def deletes(self) -> bool:
        return "delete" in self.actions

    @property
    def replaces_before(self) -> bool:
        """Whether what the resource held before stops holding (deleted, replaced or changed in place)."""
        return "delete" in self.actions or "update" in self.actions

    @property
    def values(self) -> Mapping[str, Any] | None:
        """The values the resource has once the plan is applied; a forgotten resource stays as it was."""
        if self.after is not None:
            return self.after
        return self.before if "forget" in self.actions else None

    def configured(self, attribute: str) -> bool:
        return self.expressions is not None and attribute in self.expressions

    def references(self, attribute: str) -> list[str]:
        expression = (self.expressions or {}).get(attribute)
        return _references(expression)


def _references(expression: Any) -> list[str]:
    if isinstance(expression, Mapping):
        refs = expression.get("references")
        if isinstance(refs, list):
            return [r for r in refs if isinstance(r, str)]
    return []


def _read_plan(raw: Any, source: str) -> tuple[list[_Change], list[str], Any]:
    if not isinstance(raw, dict):
        raise InputError(
            f"not a Terraform JSON plan: expected an object, got {type(raw).__name__}", source=source
        )
    if "format_version" not in raw:
        raise InputError(
            "not a Terraform JSON plan: no format_version (expected `terraform show -json PLANFILE` output)",
            source=source,
        )
    changes_raw = raw.get("resource_changes")
    if changes_raw is None:
        changes_raw = []
    if not isinstance(changes_raw, list):
        raise InputError("resource_changes must be a JSON list", source=source)
    configuration = raw.get("configuration")
    root = configuration.get("root_module") if isinstance(configuration, dict) else None
    changes = []
    for i, entry in enumerate(changes_raw):
        change = _read_change(entry, f"resource_changes[{i}]", source, root)
        if change is not None:
            changes.append(change)
    deferred = []
    for i, entry in enumerate(raw.get("deferred_changes") or ()):
        if not isinstance(entry, dict):
            raise InputError("must be a JSON object", source=source, where=f"deferred_changes[{i}]")
        change = _read_change(entry.get("resource_change"), f"deferred_changes[{i}]", source, root)
        if change is not None:
            reason = entry.get("reason")
            why = f" (deferred: {reason})" if isinstance(reason, str) and reason else " (deferred)"
            deferred.append(f"{change.address}: the whole change is known only after apply{why}")
    return changes, deferred, root


def _read_change(entry: Any, where: str, source: str, root: Any) -> _Change | None:
    if not isinstance(entry, dict):
        raise InputError("must be a JSON object", source=source, where=where)
    address = entry.get("address")
    if not isinstance(address, str) or not address:
        raise InputError("has no address", source=source, where=where)
    kind = entry.get("type")
    if not isinstance(kind, str):
        raise InputError("has no resource type", source=source, where=address)
    if entry.get("mode", "managed") != "managed" or kind not in IAM_TYPES:
        return None
    change = entry.get("change")
    if not isinstance(change, dict):
        raise InputError("change must be a JSON object", source=source, where=address)
    actions = change.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise InputError("change.actions must be a list of strings", source=source, where=address)
    before, after = change.get("before"), change.get("after")
    for label, value in (("before", before), ("after", after)):
        if value is not None and not isinstance(value, dict):
            raise InputError(f"change.{label} must be a JSON object or null", source=source, where=address)
    after_unknown = change.get("after_unknown")
    module = entry.get("module_address") or ""
    if not isinstance(module, str):
        raise InputError("module_address must be a string", source=source, where=address)
    name = entry.get("name")
    if not isinstance(name, str):
        raise InputError("has no resource name", source=source, where=address)
    return _Change(
        address=address,
        module=module,
        type=kind,
        name=name,
        index=entry.get("index"),
        actions=tuple(actions),
        before=before,
        after=after,
        after_unknown=after_unknown if isinstance(after_unknown, dict) else {},
        expressions=_expressions(root, _module_steps(module), f"{kind}.{name}"),
    )


def _module_steps(module: str) -> list[tuple[str, str]]:
    """`module.a["x"].module.b[0]` → [("a", '["x"]'), ("b", "[0]")]."""
    steps = []
    position = 0
    while position < len(module):
        match = _MODULE_STEP.match(module, position)
        if match is None:
            return []
        steps.append((match.group(1), match.group(2) or ""))
        position = match.end()
        if position < len(module):
            if module[position] != ".":
                return []
            position += 1
    return steps


def _config_module(root: Any, calls: Iterable[str]) -> Mapping[str, Any] | None:
    module = root
    for call in calls:
        if not isinstance(module, dict):
            return None
        target = (module.get("module_calls") or {}).get(call)
        module = target.get("module") if isinstance(target, dict) else None
    return module if isinstance(module, dict) else None


def _expressions(root: Any, steps: Sequence[tuple[str, str]], address: str) -> Mapping[str, Any] | None:
    module = _config_module(root, (name for name, _ in steps))
    for resource in (module or {}).get("resources") or ():
        if isinstance(resource, dict) and resource.get("address") == address:
            if resource.get("mode", "managed") != "managed":
                continue
            expressions = resource.get("expressions")
            return expressions if isinstance(expressions, dict) else {}
    return None


def _key_value(key: str) -> Any:
    """`["api"]` → "api", `[0]` → 0."""
    try:
        return json.loads(key[1:-1])
    except ValueError:
        return None


def _unknown(marks: Any) -> bool:
    """Whether an after_unknown mark says some part of the value is unknown."""
    if marks is True:
        return True
    if isinstance(marks, Mapping):
        return any(_unknown(v) for v in marks.values())
    if isinstance(marks, list):
        return any(_unknown(v) for v in marks)
    return False


# --- the overlay -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    """A role while the plan is being applied to it."""

    arn: str
    name: str
    path: str
    trust: PolicyDocument | None
    inline: dict[str, InlinePolicy]
    attached: set[str]
    boundary: str | None
    instance_profiles: tuple[str, ...]
    tags: Pairs
    source: str

    @classmethod
    def of(cls, role: Role) -> _Draft:
        return cls(
            arn=role.arn,
            name=role.name,
            path=role.path,
            trust=role.trust,
            inline={p.name: p for p in role.inline},
            attached=set(role.attached),
            boundary=role.boundary,
            instance_profiles=role.instance_profiles,
            tags=role.tags,
            source=role.source,
        )

    def role(self) -> Role:
        return Role(
            arn=self.arn,
            name=self.name,
            path=self.path,
            trust=self.trust,
            inline=tuple(self.inline[k] for k in sorted(self.inline)),
            attached=tuple(sorted(self.attached)),
            boundary=self.boundary,
            instance_profiles=self.instance_profiles,
            tags=self.tags,
            source=self.source,
        )


@dataclass(slots=True)
class _Overlay:
    changes: list[_Change]
    aws: AwsInventory
    source: str
    root: Any  # the configuration's root_module
    unknown: set[str] = field(default_factory=set)
    warnings: list[Warning] = field(default_factory=list)
    roles: dict[str, _Draft] = field(default_factory=dict)
    policies: dict[str, ManagedPolicy] = field(default_factory=dict)
    partition: str = "aws"
    account: str | None = None
    by_name: dict[str, str] = field(default_factory=dict)  # role name → ARN, once the roles are planned
    unplaced: set[str] = field(default_factory=set)  # names of planned roles whose ARN cannot be told
    instances: dict[tuple[str, str, str], list[_Change]] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)  # every module instance address of the plan

    def run(self) -> AwsInventory:
        self.roles = {r.arn: _Draft.of(r) for r in self.aws.roles}
        self.policies = {p.arn: p for p in self.aws.managed_policies}
        self.partition, self.account = self._partition_and_account()
        self.changes.sort(key=lambda c: c.address)
        for change in self.changes:
            self.instances.setdefault((change.module, change.type, change.name), []).append(change)
            steps = _module_steps(change.module)
            self.modules.update(_join(steps[: i + 1]) for i in range(len(steps)))
        for change in self._of(ROLE):
            self._remove_role(change)
        for change in self._of(POLICY):
            self._remove_policy(change)
        for change in self._of(ROLE):
            self._add_role(change)
        for change in self._of(POLICY):
            self._add_policy(change)
        self.by_name = {draft.name: arn for arn, draft in sorted(self.roles.items())}
        for change in self._of(ROLE_POLICY):
            self._remove_inline(change)
        for change in self._of(ROLE_ATTACHMENT, POLICY_ATTACHMENT):
            self._remove_attachments(change)
        for change in self._of(ROLE_POLICY):
            self._add_inline(change)
        for change in self._of(ROLE_ATTACHMENT, POLICY_ATTACHMENT):
            self._add_attachments(change)
        for change in self._of(EXCLUSIVE_POLICIES, EXCLUSIVE_ATTACHMENTS):
            self._exclusive(change)
        secrets = self._secret_policies()
        associations = self._associations()
        before = {r.arn: set(r.attached) for r in self.aws.roles}
        for arn, draft in sorted(self.roles.items()):
            for policy in sorted(set(draft.attached) - before.get(arn, set())):
                if policy not in self.policies:
                    self.unknown.add(
                        f"{draft.name}: the plan attaches {policy}, which the snapshot does not hold: what "
                        "it grants is unknown"
                    )
        for change in self._of(*UNMODELLED):
            if self._touches_access(change):
                self.unknown.add(
                    f"{change.address}: changes {UNMODELLED[change.type]}, which iamscope does not overlay: "
                    "review it"
                )
        return dataclasses.replace(
            self.aws,
            roles=tuple(self.roles[k].role() for k in sorted(self.roles)),
            managed_policies=tuple(self.policies[k] for k in sorted(self.policies)),
            secrets=secrets,
            associations=associations,
            warnings=(*self.aws.warnings, *self.warnings),
            plan=self.source,
            unknown=tuple(sorted(set(self.aws.unknown) | self.unknown)),
        )

    def _of(self, *kinds: str) -> list[_Change]:
        return [c for c in self.changes if c.type in kinds]

    # -- resources beyond IAM that decide access

    @staticmethod
    def _touches_access(change: _Change) -> bool:
        """A change that can alter access to what exists: a new key, secret or parameter cannot (nothing
        reads it yet); a key policy, grant or OIDC provider can, even when created."""
        if change.actions in (("no-op",), ("read",), ("forget",)):
            return False
        new_resource = change.type in ("aws_kms_key", "aws_secretsmanager_secret", "aws_ssm_parameter")
        return not (change.actions == ("create",) and new_resource)

    def _secret_policies(self) -> tuple[Secret, ...]:
        """aws_secretsmanager_secret_policy: the secret's resource policy as planned (or none, deleted)."""
        secrets = {s.arn: s for s in self.aws.secrets}
        for change in self._of(SECRET_POLICY):
            values = change.values if not change.deletes or "create" in change.actions else change.before
            arn = self._text(change, values or {}, "secret_arn")
            if arn is None:
                self._later(change, "secret_arn")
                continue
            secret = secrets.get(arn) or _by_partial_arn(secrets, arn)
            if secret is None:
                continue  # a secret the snapshot does not list: nothing workloads read yet
            arn = secret.arn
            if change.deletes and "create" not in change.actions:
                secrets[arn] = dataclasses.replace(secret, resource_policy=None)
                continue
            raw = (change.values or {}).get("policy")
            if _unknown(change.after_unknown.get("policy")) or raw is None:
                self._later(change, "policy")
                continue
            document = self._document(change, raw, "policy", name=f"{arn}#resource-policy", kind="resource")
            secrets[arn] = dataclasses.replace(secret, resource_policy=document)
        return tuple(secrets[k] for k in sorted(secrets))

    def _associations(self) -> tuple[PodIdentityAssociation, ...]:
        """aws_eks_pod_identity_association: which role a service account's pods get."""
        found = {(a.cluster, a.namespace, a.service_account): a for a in self.aws.associations}
        for change in self._of(ASSOCIATION):
            before = change.before or {}
            if change.replaces_before and before:
                key = tuple(str(before.get(k)) for k in ("cluster_name", "namespace", "service_account"))
                found.pop((key[0], key[1], key[2]), None)
            values = change.values if not (change.deletes and "create" not in change.actions) else None
            if not values:
                continue
            cluster, namespace, account = (
                self._text(change, values, k) for k in ("cluster_name", "namespace", "service_account")
            )
            role = self._text(change, values, "role_arn")
            if role is None:
                planned = self._resolve_target(change, "role_arn", ROLE)
                role = (
                    self._planned_arn(planned, planned.values, "role") if planned and planned.values else None
                )
            if cluster is None or namespace is None or account is None or role is None:
                self._later(change, "role_arn" if role is None else "service account")
                continue
            target_role = self._text(change, values, "target_role_arn")
            found[(str(cluster), str(namespace), str(account))] = PodIdentityAssociation(
                arn=self._text(change, values, "association_arn") or f"{change.address} (planned)",
                cluster=str(cluster),
                namespace=str(namespace),
                service_account=str(account),
                role_arn=str(role),
                source=self.source,
                target_role_arn=target_role,
                disable_session_tags=bool(values.get("disable_session_tags")),
            )
        return tuple(found[k] for k in sorted(found))

    def _partition_and_account(self) -> tuple[str, str | None]:
        known = [r.arn for r in self.aws.roles] + [p.arn for p in self.aws.managed_policies]
        for change in self.changes:
            for values in (change.after, change.before):
                arn = (values or {}).get("arn")
                if isinstance(arn, str):
                    known.append(arn)
        parsed = [a for a in (try_parse_arn(arn) for arn in sorted(known)) if a is not None]
        own = [a for a in parsed if a.account and a.account != "aws"]
        roles = [a for a in (try_parse_arn(r.arn) for r in self.aws.roles) if a is not None]
        first = roles or own or parsed
        account = self.aws.account or (own[0].account if own else None)
        return (first[0].partition if first else "aws"), account

    # -- errors and unknowns

    def _fail(self, change: _Change, message: str) -> InputError:
        return InputError(message, source=self.source, where=change.address)

    def _later(self, change: _Change, attribute: str) -> None:
        self.unknown.add(f"{change.address}: {attribute} is known only after apply")

    def _text(self, change: _Change, values: Mapping[str, Any], key: str) -> str | None:
        value = values.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self._fail(change, f"{key} must be a string, got {type(value).__name__}")
        return value

    def _strings(self, change: _Change, values: Mapping[str, Any], key: str) -> list[str | None]:
        """A list or set attribute; None marks an element known only after apply."""
        value = values.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
            raise self._fail(change, f"{key} must be a list of strings")
        return list(value)

    def _document(
        self, change: _Change, raw: Any, attribute: str, *, name: str, kind: PolicyKind
    ) -> PolicyDocument:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except RecursionError:
                raise self._fail(change, f"{attribute}: the policy document is nested too deeply") from None
            except ValueError as error:
                raise self._fail(
                    change, f"{attribute}: the policy document is not valid JSON: {error}"
                ) from None
        try:
            return parse_policy(raw, name=name, kind=kind)
        except PolicyError as error:
            text = str(error)  # "<document name>: <statement>: <problem>": the address names it better
            if error.source and text.startswith(f"{error.source}: "):
                text = text[len(error.source) + 2 :]
            raise self._fail(change, f"{attribute}: {text}") from None

    # -- ARNs

    def _arn(self, kind: str, path: str, name: str) -> str | None:
        if self.account is None:
            return None
        return f"arn:{self.partition}:iam::{self.account}:{kind}{path}{name}"

    def _planned_arn(self, change: _Change, values: Mapping[str, Any], kind: str) -> str | None:
        """The role or policy ARN: as planned, or built from its name and path when known."""
        arn = self._text(change, values, "arn")
        if arn is not None:
            return arn
        name = self._text(change, values, "name")
        if name is None:
            return None
        return self._arn(kind, self._text(change, values, "path") or "/", name)

    def _role_by_name(self, name: str) -> _Draft | None:
        if name.startswith("arn:"):  # a role ARN where a name belongs: accept it
            return self.roles.get(name)
        arn = self.by_name.get(name)
        return self.roles.get(arn) if arn is not None else None

    # -- roles

    def _remove_role(self, change: _Change) -> None:
        if not change.deletes or change.before is None:
            return
        old = self._planned_arn(change, change.before, "role")
        new = self._planned_arn(change, change.after, "role") if change.after is not None else None
        if old is not None and old != new:
            self.roles.pop(old, None)

    def _add_role(self, change: _Change) -> None:
        values = change.values
        if values is None:
            return
        marks = change.after_unknown if values is change.after else {}
        arn = self._planned_arn(change, values, "role")
        if arn is None:
            if isinstance(values.get("name"), str):
                self.unplaced.add(values["name"])
            self._later(change, "name" if _unknown(marks.get("name")) or "name" not in values else "arn")
            return
        base = self.roles.get(arn)
        name = self._text(change, values, "name") or (base.name if base else arn.rsplit("/", 1)[-1])
        trust = None
        if _unknown(marks.get("assume_role_policy")):
            self._later(change, "assume_role_policy")
        elif values.get("assume_role_policy"):
            trust = self._document(
                change, values["assume_role_policy"], "assume_role_policy", name=f"{arn}#trust", kind="trust"
            )
        boundary = self._text(change, values, "permissions_boundary")
        if boundary is None and _unknown(marks.get("permissions_boundary")):
            boundary = self._resolve_one(change, "permissions_boundary", POLICY)
        tags = values.get("tags_all") if isinstance(values.get("tags_all"), dict) else values.get("tags")
        draft = _Draft(
            arn=arn,
            name=name,
            path=self._text(change, values, "path") or "/",
            trust=trust,
            inline=self._role_inline(change, values, marks, arn, base),
            attached=self._role_attached(change, values, marks, base),
            boundary=boundary,
            instance_profiles=base.instance_profiles if base else (),
            tags=tuple(sorted((str(k), str(v)) for k, v in tags.items())) if isinstance(tags, dict) else (),
            source=self.source,
        )
        self.roles[arn] = draft

    def _role_inline(
        self,
        change: _Change,
        values: Mapping[str, Any],
        marks: Mapping[str, Any],
        arn: str,
        base: _Draft | None,
    ) -> dict[str, InlinePolicy]:
        """The deprecated inline_policy blocks: exclusive when configured; otherwise what the role already
        has (the snapshot's, else the refreshed state's, which lists every inline policy of the role)."""
        configured = change.configured("inline_policy")
        if not configured and base is not None:
            return dict(base.inline)
        if marks.get("inline_policy") is True:
            if configured:
                self._later(change, "inline_policy")
            return {}
        blocks = values.get("inline_policy") or []
        if not isinstance(blocks, list):
            raise self._fail(change, "inline_policy must be a list of blocks")
        block_marks = marks.get("inline_policy")
        inline = {}
        for i, block in enumerate(blocks):
            if not isinstance(block, dict):
                raise self._fail(change, "inline_policy must be a list of blocks")
            mark = block_marks[i] if isinstance(block_marks, list) and i < len(block_marks) else {}
            name = block.get("name")
            label = f"inline_policy[{name}]" if isinstance(name, str) and name else f"inline_policy[{i}]"
            if _unknown(mark):
                self._later(change, f"{label}.policy" if not _unknown(mark.get("name")) else label)
                continue
            if not name and not block.get("policy"):
                continue  # an empty block: the role has no inline policies
            if not isinstance(name, str) or not name:
                raise self._fail(change, f"inline_policy[{i}].name must be a non-empty string")
            pid = f"{arn}#{name}"
            document = self._document(
                change, block.get("policy"), f"{label}.policy", name=pid, kind="identity"
            )
            inline[name] = InlinePolicy(id=pid, name=name, document=document)
        return inline

    def _role_attached(
        self, change: _Change, values: Mapping[str, Any], marks: Mapping[str, Any], base: _Draft | None
    ) -> set[str]:
        configured = change.configured("managed_policy_arns")
        if not configured and base is not None:
            return set(base.attached)
        if marks.get("managed_policy_arns") is True:
            if not configured:
                return set()
            resolved, _ = self._resolve_many(change, "managed_policy_arns", POLICY, None)
            self._later(change, "managed_policy_arns")
            return resolved
        arns = self._strings(change, values, "managed_policy_arns")
        known = {a for a in arns if a}
        if None in arns and configured:
            resolved, complete = self._resolve_many(change, "managed_policy_arns", POLICY, arns.count(None))
            known |= resolved
            if not complete:
                self._later(change, "managed_policy_arns")
        return known

    # -- managed policies

    def _remove_policy(self, change: _Change) -> None:
        if not change.deletes or change.before is None:
            return
        old = self._planned_arn(change, change.before, "policy")
        new = self._planned_arn(change, change.after, "policy") if change.after is not None else None
        if old is not None and old != new:
            self.policies.pop(old, None)

    def _add_policy(self, change: _Change) -> None:
        values = change.values
        if values is None:
            return
        marks = change.after_unknown if values is change.after else {}
        arn = self._planned_arn(change, values, "policy")
        if arn is None:
            self._later(change, "name" if "name" not in values else "arn")
            return
        if _unknown(marks.get("policy")) or values.get("policy") is None:
            self.policies.pop(arn, None)  # its old document would be a guess
            self._later(change, "policy")
            return
        document = self._document(change, values["policy"], "policy", name=arn, kind="identity")
        name = self._text(change, values, "name") or arn.rsplit("/", 1)[-1]
        self.policies[arn] = ManagedPolicy(arn=arn, name=name, document=document)

    # -- inline policies (aws_iam_role_policy)

    def _inline_name(self, change: _Change, values: Mapping[str, Any]) -> str | None:
        return self._text(change, values, "name")

    def _remove_inline(self, change: _Change) -> None:
        if not change.replaces_before or change.before is None:
            return
        role_name = self._text(change, change.before, "role")
        name = self._inline_name(change, change.before)
        draft = self._role_by_name(role_name) if role_name else None
        if draft is not None and name is not None:
            draft.inline.pop(name, None)

    def _add_inline(self, change: _Change) -> None:
        values = change.values
        if values is None:
            return
        marks = change.after_unknown if values is change.after else {}
        name = self._inline_name(change, values)
        document_known = not _unknown(marks.get("policy")) and values.get("policy") is not None
        raw_document = values.get("policy")
        if document_known:  # validate it even where the role cannot be told
            self._document(change, raw_document, "policy", name=f"{change.address}#policy", kind="identity")
        draft = self._role(change, values, marks, "role")
        if draft is None:
            if not document_known:
                self._later(change, "policy")
            return
        if name is None:
            self._later(change, "name")
            return
        if not document_known:
            draft.inline.pop(name, None)
            self._later(change, "policy")
            return
        pid = f"{draft.arn}#{name}"
        document = self._document(change, raw_document, "policy", name=pid, kind="identity")
        draft.inline[name] = InlinePolicy(id=pid, name=name, document=document)

    def _role(
        self, change: _Change, values: Mapping[str, Any], marks: Mapping[str, Any], attribute: str
    ) -> _Draft | None:
        """The role an attribute names: as planned, or through the configuration's references."""
        role_name = self._text(change, values, attribute)
        if role_name is None:
            if not _unknown(marks.get(attribute)):
                raise self._fail(change, f"has no {attribute}")
            target = self._resolve_target(change, attribute, ROLE)
            if target is None or target.values is None:
                self._later(change, attribute)
                return None
            role_name = self._text(target, target.values, "name")
            if role_name is None:
                self._later(change, attribute)
                return None
        return self._role_named(change, role_name, attribute)

    def _role_named(self, change: _Change, role_name: str, attribute: str) -> _Draft | None:
        draft = self._role_by_name(role_name)
        if draft is None and role_name in self.unplaced:
            self._later(change, attribute)
        elif draft is None:
            message = f"{change.address}: role {role_name} is in neither the snapshot nor the plan"
            self.warnings.append(Warning(source=self.source, message=message))
        return draft

    # -- attachments

    def _attachment_pairs(
        self, change: _Change, values: Mapping[str, Any], marks: Mapping[str, Any]
    ) -> list[tuple[_Draft, str]]:
        """The (role, policy ARN) pairs an attachment resource holds; unknown parts are reported."""
        if change.type == ROLE_ATTACHMENT:
            drafts = [self._role(change, values, marks, "role")]
        else:
            drafts = []
            roles = self._strings(change, values, "roles")
            drafts = [self._role_named(change, r, "roles") for r in roles if r]
            if marks.get("roles") is True or None in roles:
                count = roles.count(None) if marks.get("roles") is not True else None
                targets, complete = self._resolve_targets(change, "roles", ROLE, count)
                for target in targets:
                    role_name = self._text(target, target.values or {}, "name")
                    if role_name is None:
                        complete = False
                        continue
                    drafts.append(self._role_named(change, role_name, "roles"))
                if not complete:
                    self._later(change, "roles")
        policy_arn = self._text(change, values, "policy_arn")
        if policy_arn is None:
            if not _unknown(marks.get("policy_arn")):
                raise self._fail(change, "has no policy_arn")
            policy_arn = self._resolve_one(change, "policy_arn", POLICY)
        if policy_arn is None:
            return []
        return [(d, policy_arn) for d in drafts if d is not None]

    def _remove_attachments(self, change: _Change) -> None:
        if not change.replaces_before or change.before is None:
            return
        before = change.before
        if change.type == ROLE_ATTACHMENT:
            role_names = [self._text(change, before, "role")]
        else:
            role_names = list(self._strings(change, before, "roles"))
        policy_arn = self._text(change, before, "policy_arn")
        for role_name in role_names:
            draft = self._role_by_name(role_name) if role_name else None
            if draft is not None and policy_arn is not None:
                draft.attached.discard(policy_arn)

    def _add_attachments(self, change: _Change) -> None:
        values = change.values
        if values is None:
            return
        marks = change.after_unknown if values is change.after else {}
        for draft, policy_arn in self._attachment_pairs(change, values, marks):
            draft.attached.add(policy_arn)

    # -- exclusive management

    def _exclusive(self, change: _Change) -> None:
        """aws_iam_role_policies_exclusive deletes the role's inline policies it does not name;
        aws_iam_role_policy_attachments_exclusive makes the role's attachments exactly its list.
        Destroying either changes nothing in AWS."""
        values = change.after
        if values is None:
            return
        marks = change.after_unknown
        draft = self._role(change, values, marks, "role_name")
        if draft is None:
            return
        if change.type == EXCLUSIVE_POLICIES:
            names = self._strings(change, values, "policy_names")
            if marks.get("policy_names") is True or None in names:
                # an unknown name may be any of them: keep all, and say so
                self._later(change, "policy_names")
                return
            for name in [n for n in draft.inline if n not in names]:
                del draft.inline[name]
            return
        arns = self._strings(change, values, "policy_arns")
        if marks.get("policy_arns") is True:
            self._later(change, "policy_arns")
            return
        known = {a for a in arns if a}
        if None in arns:
            resolved, complete = self._resolve_many(change, "policy_arns", POLICY, arns.count(None))
            known |= resolved
            if not complete:
                # an unknown ARN may be any of those attached now: detach nothing, attach the known ones
                self._later(change, "policy_arns")
                draft.attached |= known
                return
        draft.attached = known

    # -- references to resources of the same plan

    def _resolve_one(self, change: _Change, attribute: str, kind: str) -> str | None:
        """An unknown ARN that refers to exactly one policy of the plan whose ARN can be told."""
        target = self._resolve_target(change, attribute, kind)
        arn = self._planned_arn(target, target.values, "policy") if target and target.values else None
        if arn is None:
            self._later(change, attribute)
        return arn

    def _resolve_many(
        self, change: _Change, attribute: str, kind: str, count: int | None
    ) -> tuple[set[str], bool]:
        targets, complete = self._resolve_targets(change, attribute, kind, count)
        arns = set()
        for target in targets:
            arn = self._planned_arn(target, target.values, "policy") if target.values else None
            if arn is None:
                complete = False
            else:
                arns.add(arn)
        return arns, complete

    def _resolve_target(self, change: _Change, attribute: str, kind: str) -> _Change | None:
        targets, complete = self._resolve_targets(change, attribute, kind, 1)
        return targets[0] if complete and len(targets) == 1 else None

    def _resolve_targets(
        self, change: _Change, attribute: str, kind: str, count: int | None
    ) -> tuple[list[_Change], bool]:
        """The resources of type `kind` an attribute's expression refers to, and whether they account for
        the whole unknown value (`count` unknown elements; None: any number)."""
        found: dict[str, _Change] = {}
        complete = self._follow(change.module, change.index, change.references(attribute), kind, found, 0)
        targets = [found[k] for k in sorted(found)]
        if count is None or len(targets) != count:
            complete = False  # a list known only as a whole may hold more than its references say
        return targets, complete and bool(targets)

    def _follow(
        self,
        module: str,
        index: Any,
        references: Sequence[str],
        kind: str,
        found: dict[str, _Change],
        depth: int,
    ) -> bool:
        """Adds to `found` what `references` (made in module instance `module`, by a resource or module
        call instance keyed `index`) point to; False when some reference cannot be followed."""
        if depth > _MAX_DEPTH:
            return False
        # `aws_iam_role.this` beside `aws_iam_role.this.name` says nothing more
        refs = [
            r for r in references if not any(o != r and o.startswith((f"{r}.", f"{r}[")) for o in references)
        ]
        complete = True
        for ref in refs:
            if ref.startswith(_BENIGN):
                continue
            if ref.startswith("var."):
                complete &= self._follow_variable(module, ref[4:].split(".", 1)[0], kind, found, depth)
                continue
            if ref.startswith("module."):
                complete &= self._follow_output(module, index, ref, kind, found, depth)
                continue
            match = _RESOURCE_REF.fullmatch(ref)
            if match is None or match.group(1) in _NOT_RESOURCES or match.group(1) != kind:
                complete = False
                continue
            target = self._instance(module, kind, match.group(2), match.group(3), index)
            if target is None:
                complete = False
            else:
                found[target.address] = target
        return complete

    def _instance(self, module: str, kind: str, name: str, key: str | None, index: Any) -> _Change | None:
        candidates = self.instances.get((module, kind, name), [])
        if key:
            wanted = _key_value(key)
            return next((c for c in candidates if c.index == wanted), None)
        if len(candidates) == 1:
            return candidates[0]
        return next((c for c in candidates if index is not None and c.index == index), None)

    def _follow_variable(
        self, module: str, variable: str, kind: str, found: dict[str, _Change], depth: int
    ) -> bool:
        steps = _module_steps(module)
        if not steps:
            return False
        key = steps[-1][1]
        parent = _join(steps[:-1])
        config = self._configuration_call([name for name, _ in steps])
        if config is None:
            return False
        expression = (config.get("expressions") or {}).get(variable)
        references = _references(expression)
        if not references:
            return False
        return self._follow(parent, _key_value(key) if key else None, references, kind, found, depth + 1)

    def _follow_output(
        self, module: str, index: Any, ref: str, kind: str, found: dict[str, _Change], depth: int
    ) -> bool:
        match = _MODULE_REF.fullmatch(ref)
        if match is None or match.group(3) is None:
            return False
        call, key, output = match.group(1), match.group(2), match.group(3)
        outer = _module_steps(module)
        here = len(outer)
        instances: dict[str, str] = {}  # the call's instances in the plan: address → key as written
        for address in sorted(self.modules):
            steps = _module_steps(address)
            if len(steps) > here and steps[:here] == outer and steps[here][0] == call:
                instances[_join(steps[: here + 1])] = steps[here][1]
        if key:
            child = _join([*outer, (call, key)])
        elif len(instances) == 1:
            child = next(iter(instances))
        else:
            keyed = [m for m, k in instances.items() if k and index is not None and _key_value(k) == index]
            if len(keyed) != 1:
                return False
            child = keyed[0]
        steps = _module_steps(child)
        config = _config_module(self.root, [name for name, _ in steps])
        outputs = (config or {}).get("outputs") or {}
        expression = (
            outputs.get(output, {}).get("expression") if isinstance(outputs.get(output), dict) else None
        )
        references = _references(expression)
        if not references:
            return False
        return self._follow(child, None, references, kind, found, depth + 1)

    def _configuration_call(self, calls: Sequence[str]) -> Mapping[str, Any] | None:
        parent = _config_module(self.root, calls[:-1])
        call = ((parent or {}).get("module_calls") or {}).get(calls[-1])
        return call if isinstance(call, dict) else None


def _by_partial_arn(secrets: Mapping[str, Secret], arn: str) -> Secret | None:
    """A secret ARN without its random suffix names the secret of that name (Secrets Manager resolves
    it so, and the provider accepts it)."""
    return next((s for a, s in secrets.items() if a.startswith(f"{arn}-") and len(a) == len(arn) + 7), None)


def _join(steps: Sequence[tuple[str, str]]) -> str:
    return ".".join(f"module.{name}{key}" for name, key in steps)
