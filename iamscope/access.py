"""What a role can read: for every secret and parameter its policies can reach (found through the ARN
index, never by trying every resource against every role) and for every ARN a workload declares,
each reading action decided by the policy engine with the role's identity policies, its permissions
boundary, the secret's resource policy and, for customer-managed keys, kms:Decrypt through the key
policy. Context iamscope knows (resource tags, region, Pod Identity session tags) is given; anything
else stays unknown, so a grant that hangs on it is reported as conditional, not as a plain grant."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import InitVar, dataclass, field
from itertools import compress
from operator import attrgetter
from typing import TypeVar

from iamscope.arnlists import Concrete, split_patterns
from iamscope.ascp import SECRETSMANAGER, SSMPARAMETER
from iamscope.kms import KeyDirectory
from iamscope.model import Inventory, Parameter, Role, Secret, role_policies
from iamscope.policy.analysis import Analysis, analyse
from iamscope.policy.arn import try_parse_arn
from iamscope.policy.context import RequestContext
from iamscope.policy.document import PolicyDocument, Statement, parse_policy
from iamscope.policy.evaluate import StatementRef, evaluate, evidence, ref
from iamscope.policy.index import ArnIndex
from iamscope.policy.matching import account_of, action_applies, is_account_entry, resource_applies
from iamscope.policy.variables import variable_keys
from iamscope.policy.wildcard import action_matches, has_wildcard, resource_matches

GET_SECRET = "secretsmanager:GetSecretValue"
DESCRIBE_SECRET = "secretsmanager:DescribeSecret"
GET_PARAMETERS = "ssm:GetParameters"
BY_PATH = "ssm:GetParametersByPath"
DECRYPT = "kms:Decrypt"
# The actions that hand out a value: the ones that make a grant a read.
READ_ACTIONS = {
    SECRETSMANAGER: (GET_SECRET,),
    SSMPARAMETER: ("ssm:GetParameter", GET_PARAMETERS, "ssm:GetParameterHistory", "ssm:GetParametersByPath"),
}
# What ASCP calls, per object type (DESIGN.md §4).
ASCP_ACTIONS = {SECRETSMANAGER: (GET_SECRET, DESCRIBE_SECRET), SSMPARAMETER: (GET_PARAMETERS,)}
ALL_ACTIONS = tuple(sorted({a for v in (*READ_ACTIONS.values(), *ASCP_ACTIONS.values()) for a in v}))
SERVICE_HOST = {SECRETSMANAGER: "secretsmanager", SSMPARAMETER: "ssm"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionGrant:
    action: str
    outcome: str  # allowed | conditional
    when: str | None
    statements: tuple[StatementRef, ...]
    unverified: bool = False  # the deciding policy (another account's resource policy) is not in the snapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """What one role may do on a resource: the ARN (or a pattern a workload declares) it is filed under
    in RoleAccess.grants. Resources that get the same answer share one Grant: a role that reads `*`
    gets a handful of distinct grants over every secret of the account, not one object per secret."""

    kind: str  # secretsmanager | ssmparameter
    role_arn: str
    actions: tuple[ActionGrant, ...]
    decrypt: ActionGrant | None  # kms:Decrypt on the resource's customer-managed key, when it has one
    needs_key: str | None
    # allowed | conditional | None: can the role obtain the value? Derived from the fields above once,
    # when the grant is built (reports and checks ask it for every grant, many times over).
    readable: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "readable", _readable(self.kind, self.actions, self.decrypt, self.needs_key))

    def action(self, name: str) -> ActionGrant | None:
        return next((a for a in self.actions if a.action == name), None)


def _readable(
    kind: str, actions: tuple[ActionGrant, ...], decrypt: ActionGrant | None, needs_key: str | None
) -> str | None:
    """allowed | conditional | None: can the role obtain the value?"""
    reads = [a for a in actions if a.action in READ_ACTIONS[kind]]
    if not reads:
        return None
    if needs_key and decrypt is None:
        return None
    definite = any(a.outcome == "allowed" for a in reads)
    key_ok = decrypt is None or decrypt.outcome == "allowed"
    return "allowed" if definite and key_ok else "conditional"


@dataclass(frozen=True, slots=True, kw_only=True)
class WildcardStatement:
    """An allowing statement that grants reading actions through a wildcard action or resource."""

    statement: StatementRef
    actions: tuple[str, ...]  # the Action/NotAction patterns that reach reading actions
    wildcard_actions: tuple[str, ...]
    wildcard_resources: tuple[str, ...]  # "*" for NotResource
    reached: tuple[str, ...]  # known resources it grants reading on
    future: str | None = None  # allowed | conditional: a secret created later under the pattern is readable


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleAccess:
    role_arn: str
    grants: Mapping[str, Grant]  # by resource, in any order (sorted_grants puts them in order)
    wildcards: tuple[WildcardStatement, ...]
    missing_policies: tuple[str, ...]
    # derived once here rather than by every reader: the resources the role can read (a grant whose
    # `readable` is not None), as a set and sorted
    readable_resources: frozenset[str] = field(init=False, repr=False, compare=False)
    sorted_readable: tuple[str, ...] = field(init=False, repr=False, compare=False)
    # the sorted order of a catalogue holding every resource of `grants`, or () (then `sorted()`)
    _order: tuple[str, ...] = field(init=False, default=(), repr=False, compare=False)
    _sorted: tuple[tuple[str, Grant], ...] | None = field(init=False, default=None, repr=False, compare=False)
    _split: tuple[Concrete, tuple[str, ...]] | None = field(
        init=False, default=None, repr=False, compare=False
    )

    # what the caller has worked out already: `readable_resources` in sorted order (or None), and the
    # sorted catalogue the resources are from (a role reading `*` is put in order by filtering it)
    readable: InitVar[tuple[str, ...] | None] = None
    readable_set: InitVar[frozenset[str] | None] = None
    order: InitVar[tuple[str, ...]] = ()

    def __post_init__(
        self, readable: tuple[str, ...] | None, readable_set: frozenset[str] | None, order: tuple[str, ...]
    ) -> None:
        object.__setattr__(self, "_order", order)
        if readable is None:
            readable, readable_set = readable_among(self.grants, in_order(self.grants, order)), None
        object.__setattr__(self, "sorted_readable", readable)
        object.__setattr__(
            self, "readable_resources", frozenset(readable) if readable_set is None else readable_set
        )

    @property
    def sorted_grants(self) -> tuple[tuple[str, Grant], ...]:
        """The grants by resource, in sorted order of resource. Only the JSON report walks every grant
        in order, so the order is worked out on the first call."""
        if self._sorted is None:
            keys = in_order(self.grants, self._order)
            object.__setattr__(
                self, "_sorted", tuple(zip(keys, map(self.grants.__getitem__, keys), strict=True))
            )
        assert self._sorted is not None
        return self._sorted

    @property
    def readable_split(self) -> tuple[Concrete, tuple[str, ...]]:
        """`sorted_readable` split into concrete ARNs and patterns (what workloads declare of secrets
        the snapshot lacks), worked out on the first call: the checks hand a role's list to a finding
        per namespace or service account, and a role reading `*` lists every secret of the account."""
        if self._split is None:
            arns, patterns = split_patterns(self.sorted_readable)
            object.__setattr__(self, "_split", (Concrete(arns), patterns))
        assert self._split is not None
        return self._split


def readable_among(grants: Mapping[str, Grant], keys: Sequence[str]) -> tuple[str, ...]:
    """The resources of `keys` whose grant is readable, in the order of `keys`."""
    return tuple(compress(keys, map(attrgetter("readable"), map(grants.__getitem__, keys))))


def in_order(resources: Collection[str], ordered: tuple[str, ...]) -> list[str]:
    """`resources` sorted. Those that are a good part of `ordered` (a sorted catalogue, which a role
    reading `*` reaches most of) are taken in its order, filtered, instead of sorted again."""
    if len(resources) * 8 < len(ordered):
        return sorted(resources)
    keys = list(filter(resources.__contains__, ordered))
    return keys if len(keys) == len(resources) else sorted(resources)  # one outside the catalogue


def is_exact_secret_pattern(pattern: str) -> bool:
    """`…:secret:<name>-??????` names one secret (the six characters Secrets Manager appends)."""
    if not pattern.endswith("-??????"):
        return False
    return "*" not in pattern and "?" not in pattern[: -len("-??????")]


def is_wildcard_resource(pattern: str) -> bool:
    return ("*" in pattern or "?" in pattern) and not is_exact_secret_pattern(pattern)


def is_wildcard_action(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


class Catalogue:
    """The secrets and parameters of the snapshot and those workloads declare (ARNs, or patterns for
    secrets the snapshot lacks), indexed so a policy's patterns find what they reach."""

    def __init__(self, inventory: Inventory, declared: Iterable[str] = ()) -> None:
        self.secrets: dict[str, Secret] = {s.arn: s for s in inventory.aws.secrets}
        self.parameters: dict[str, Parameter] = {p.arn: p for p in inventory.aws.parameters}
        self.key_directory = KeyDirectory(inventory.aws.keys)
        self.index = ArnIndex([*self.secrets, *self.parameters, *declared])
        self.every = frozenset(self.index.arns)
        self.sorted_every = tuple(sorted(self.every))  # a role that reads most of them filters this
        self.kinds: dict[str, str] = {}
        self.accounts: dict[str, str] = {}
        self.regions_of: dict[str, str] = {}
        by_kind: dict[str, set[str]] = {}
        by_account: dict[str, set[str]] = {}
        for arn in self.index.arns:
            parsed = try_parse_arn(arn)
            kind = _kind_of(arn)
            if parsed is not None and kind is not None:
                self.kinds[arn], self.accounts[arn] = kind, parsed.account
                self.regions_of[arn] = parsed.region
                by_kind.setdefault(kind, set()).add(arn)
                by_account.setdefault(parsed.account, set()).add(arn)
        # the same partitions as sets, so a role's resources are split with set operations (in C)
        # rather than resource by resource
        self.by_kind = {k: frozenset(v) for k, v in by_kind.items()}
        self.by_account = {k: frozenset(v) for k, v in by_account.items()}
        self.listed = frozenset(self.secrets) | frozenset(self.parameters)
        self.with_policies = frozenset(a for a, s in self.secrets.items() if s.resource_policy is not None)
        self.deleted = frozenset(a for a, s in self.secrets.items() if s.deleted)  # no value can be read
        # GetParametersByPath is authorized on the path asked for, not on the parameters it returns:
        # every ancestor path of a parameter, and what a (recursive) request on it returns
        under: dict[str, set[str]] = {}
        for arn, param in self.parameters.items():
            if not param.name.startswith("/"):
                continue
            head = arn[: len(arn) - len(param.name.lstrip("/"))]  # "arn:…:parameter/"
            parts = param.name.strip("/").split("/")[:-1]
            for depth in range(len(parts) + 1):
                under.setdefault(head + "/".join(parts[:depth]), set()).add(arn)
        self.paths = {p: frozenset(v) for p, v in under.items()}
        self.path_index = ArnIndex(self.paths)
        self.regions = tuple(
            sorted({s.region for s in self.secrets.values()} | {p.region for p in self.parameters.values()})
        )
        self.managed = {p.arn: p.document for p in inventory.aws.managed_policies}


def _kind_of_action(action: str) -> str:
    """The kind of resource a reading action is on."""
    return SECRETSMANAGER if action.startswith("secretsmanager:") else SSMPARAMETER


def _kind_of(arn: str) -> str | None:
    parsed = try_parse_arn(arn)
    if parsed is None:
        return None
    if parsed.service == "secretsmanager" and parsed.resource.startswith("secret:"):
        return SECRETSMANAGER
    if parsed.service == "ssm" and parsed.resource.startswith("parameter/"):
        return SSMPARAMETER
    return None


PRINCIPAL_TAGS = "aws:PrincipalTag/"
RESOURCE_TAGS = ("aws:ResourceTag/", "secretsmanager:ResourceTag/")


def _context(arn: str, catalogue: Catalogue, principal_tags: Mapping[str, str]) -> dict[str, str]:
    """What iamscope knows of the request. The role's tags and its Pod Identity session tags are its
    principal tags; list-secrets returns every tag of a secret. So those key families are complete:
    a tag not listed is absent, not unknown (see _known_prefixes)."""
    context = {"aws:SecureTransport": "true"}
    parsed = try_parse_arn(arn)
    if parsed is not None:
        context["aws:RequestedRegion"] = parsed.region
        context["aws:ResourceAccount"] = parsed.account
    secret = catalogue.secrets.get(arn)
    if secret is not None:
        for key, value in secret.tags:
            context[f"aws:ResourceTag/{key}"] = value
            context[f"secretsmanager:ResourceTag/{key}"] = value
    for key, value in principal_tags.items():
        context[f"{PRINCIPAL_TAGS}{key}"] = value
    return context


def _known_prefixes(arn: str, catalogue: Catalogue) -> tuple[str, ...]:
    return (PRINCIPAL_TAGS, *RESOURCE_TAGS) if arn in catalogue.secrets else (PRINCIPAL_TAGS,)


def _decide(
    documents: Sequence[PolicyDocument],
    action: str,
    resource: str,
    context: Mapping[str, str],
    boundary: PolicyDocument | None,
    resource_policy: PolicyDocument | None,
    principal: str,
    known_prefixes: Sequence[str] = (),
) -> ActionGrant | None:
    """analyse() for the outcome; for a definite grant, evaluate() names the statements that make it."""
    result = analyse(
        documents,
        action,
        resource,
        RequestContext(context, complete=False, known_prefixes=known_prefixes),
        boundary=boundary,
        resource_policy=resource_policy,
        principal=principal,
    )
    statements = result.statements
    if result.outcome == "allowed":
        statements = evaluate(
            documents,
            action,
            resource,
            context,
            boundary=boundary,
            resource_policy=resource_policy,
            principal=principal,
        ).statements
    return _to_grant(action, result, statements)


def account_of_resource(arn: str) -> str | None:
    parsed = try_parse_arn(arn)
    return parsed.account if parsed else None


def _to_grant(action: str, analysis: Analysis, statements: tuple[StatementRef, ...]) -> ActionGrant | None:
    if analysis.outcome == "denied":
        return None
    return ActionGrant(
        action=action,
        outcome=analysis.outcome,
        when=None if analysis.outcome == "allowed" else str(analysis.when),
        statements=statements,
    )


def _key_delegates(policy: PolicyDocument, account: str) -> bool:
    """A key policy lets IAM policies grant only when it allows the account itself (the default key
    policy's `arn:aws:iam::<account>:root` statement) — KMS, unlike other services, requires it."""
    for s in policy.statements:
        if s.effect != "Allow" or s.principals is None:
            continue
        names_account = s.principals.any or any(
            is_account_entry(v) and account in v for v in s.principals.values("AWS")
        )
        if names_account and action_applies(s, DECRYPT):
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Relevant:
    """A role's statements that can apply to one action, for the exact fast path: when none of those
    covering a resource has a condition (and none has a policy variable), the decision is a matter
    of Resource patterns."""

    allows: tuple[tuple[PolicyDocument, Statement], ...]
    denies: tuple[tuple[PolicyDocument, Statement], ...]
    boundary_allows: tuple[tuple[PolicyDocument, Statement], ...]
    boundary_denies: tuple[tuple[PolicyDocument, Statement], ...]
    simple: bool

    def every(self) -> tuple[tuple[PolicyDocument, Statement], ...]:
        return (*self.allows, *self.denies, *self.boundary_allows, *self.boundary_denies)


def _relevant(docs: Sequence[PolicyDocument], boundary: PolicyDocument | None, action: str) -> _Relevant:
    def split(documents: Sequence[PolicyDocument]) -> tuple[list[tuple[PolicyDocument, Statement]], ...]:
        allows: list[tuple[PolicyDocument, Statement]] = []
        denies: list[tuple[PolicyDocument, Statement]] = []
        for d in documents:
            for st in d.statements:
                if action_applies(st, action):
                    (denies if st.effect == "Deny" else allows).append((d, st))
        return allows, denies

    allows, denies = split(docs)
    b_allows, b_denies = split([boundary] if boundary is not None else [])
    every = allows + denies + b_allows + b_denies
    simple = all(st.resource_set is None or not st.resource_set.with_variables for _, st in every)
    return _Relevant(tuple(allows), tuple(denies), tuple(b_allows), tuple(b_denies), simple)


_ABSENT = object()


class _Groups:
    """Resources one action is decided alike on, so the engine runs once per group. Without a policy
    variable in any relevant Resource element (`_Relevant.simple`) and without a resource policy,
    analyse() and evaluate() see a resource only through (a) which of the relevant statements'
    Resource/NotResource elements cover it, which is what `_reach` computes exactly, (b) its account
    (cross-account rules), and (c) the request context, read only under the keys the relevant
    statements' conditions name or use as `${...}` variables, with a missing key unknown or absent by
    known_prefixes (whether the resource is a listed secret). Statements the action does not apply
    to are skipped before either. Two resources that agree on all of these get the same decision,
    the same statements and the same `when` text (none of which names the resource).

    The principal's tags are in the context too, but they are the same for every resource of a role
    (and its session tags), and no resource key is a principal tag: they never tell two resources
    apart. So the groups are the same whatever the session tags, and are worked out once per role."""

    def __init__(
        self,
        rel: _Relevant,
        reach: Callable[[Statement], frozenset[str]],
        resource_values: Callable[[str, tuple[str, ...]], tuple[object, ...]],
    ) -> None:
        every = rel.every()
        self.reaches = [reach(st) for _, st in every]
        keys: set[str] = set()
        for _, st in every:
            for condition in st.conditions:
                keys.add(condition.key.lower())
                for value in condition.values:
                    keys.update(variable_keys(value))
        self.keys = tuple(sorted(k for k in keys if not k.startswith(PRINCIPAL_TAGS.lower())))
        self.resource_values = resource_values

    def rest(self, arn: str, listed_secret: bool, account: str | None) -> tuple[object, ...]:
        """What the decision on `arn` depends on besides which statements cover it (`reaches`, which
        the caller splits resources by) and the principal: equal statements and equal rest, equal
        decisions."""
        if not self.keys:
            return (account, listed_secret)
        return (account, listed_secret, self.resource_values(arn, self.keys))

    def split(self, arns: AbstractSet[str], catalogue: Catalogue) -> list[list[str]]:
        """`arns` in groups decided alike."""
        parts: list[tuple[tuple[int, ...], AbstractSet[str]]] = [((), arns)]
        for i, covered in enumerate(self.reaches):  # by the statements covering them, with set operations
            parts = _split(parts, covered, i)
        groups: list[list[str]] = []
        secrets, accounts = catalogue.secrets, catalogue.accounts
        for _, members in parts:  # then by what else the decision reads
            alike: dict[tuple[object, ...], list[str]] = {}
            for arn in members:
                alike.setdefault(self.rest(arn, arn in secrets, accounts.get(arn)), []).append(arn)
            groups += alike.values()
        return groups


_Tag = TypeVar("_Tag")


def _split(
    parts: list[tuple[tuple[_Tag, ...], AbstractSet[str]]],
    covered: AbstractSet[str],
    tag: _Tag,
    everything: AbstractSet[str] | None = None,
) -> list[tuple[tuple[_Tag, ...], AbstractSet[str]]]:
    """Each part cut in what `covered` holds (its key gains `tag`) and what it does not. Parts are
    subsets of `everything`: a `covered` that is it (or the part itself) holds the part whole, which
    is told without a copy of the part."""
    out: list[tuple[tuple[_Tag, ...], AbstractSet[str]]] = []
    for key, arns in parts:
        inside = arns if covered is everything or covered is arns else arns & covered
        if inside:
            out.append(((*key, tag), inside))
        if len(inside) < len(arns):
            out.append((key, arns - inside))
    return out


# A decided group this large is kept whole by AccessCalculator._compute, not walked resource by resource.
_WHOLE = 256
_ACTION_RANK = {a: i for i, a in enumerate(ALL_ACTIONS)}


def _parts(
    groups: Sequence[tuple[AbstractSet[str], ActionGrant]],
) -> list[tuple[tuple[ActionGrant, ...], AbstractSet[str]]]:
    """The resources of `groups` (in action order) cut into parts that got the same decisions, each
    part with its decisions in that order."""
    parts: list[tuple[tuple[ActionGrant, ...], AbstractSet[str]]] = []
    seen: set[str] = set()
    for arns, decision in groups:
        parts = _split(parts, arns, decision)
        fresh = arns - seen
        if fresh:
            parts.append(((decision,), fresh))
        seen |= arns
    return parts


def _pools(
    catalogue: Catalogue, candidates: AbstractSet[str], kind: str, account: str | None
) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """Of the resources a role's statements may reach (`candidates`): those of `kind` that can be
    read (the pool), those of them in the role's account, another account's resources the snapshot
    does not list (whose resource policy is unknown), and those it lists."""
    empty: frozenset[str] = frozenset()
    pool = (catalogue.by_kind.get(kind, empty) & candidates) - catalogue.deleted
    local = pool & catalogue.by_account.get(account or "", empty)
    unlisted = (pool - local) - catalogue.listed
    return pool, local, unlisted, pool - unlisted - local


def _matching(index: ArnIndex, patterns: Iterable[str]) -> frozenset[str]:
    """The indexed ARNs the patterns match. A pattern without `*` or `?` matches itself alone (as
    PatternSet.matches, which resource_applies uses, tests literals by set membership): only the
    others need the index's regex."""
    patterns = tuple(patterns)
    literal = {p for p in patterns if not has_wildcard(p) and p in index}
    wild = [p for p in patterns if has_wildcard(p)]
    return frozenset(index.match_any(wild)) | literal if wild else frozenset(literal)


class AccessCalculator:
    def __init__(self, inventory: Inventory, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.roles = {r.arn: r for r in inventory.aws.roles}
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], RoleAccess] = {}
        # keyed by id(); the statement is kept alongside so the id cannot be reused
        self._reach_cache: dict[int, tuple[Statement, frozenset[str]]] = {}
        self._decrypt_cache: dict[tuple[str, ...] | tuple[object, ...], ActionGrant | None] = {}
        self._values_cache: dict[tuple[str, tuple[str, ...]], tuple[object, ...]] = {}
        self._key_cache: dict[str, str | None] = {}
        self._keyed_resources: frozenset[str] | None = None
        self._everything_cache: dict[tuple[str, str], tuple[frozenset[str], ...]] = {}
        self._key_context: dict[str, bool] = {}  # per key: does its policy read the encryption context
        self._key_group_of: dict[str, tuple[str, str]] = {}  # per resource with a customer-managed key
        # per role, kind and relevant statements: the resources the engine decides, in groups decided alike
        self._groups: dict[tuple[object, ...], tuple[tuple[Statement, ...], list[list[str]]]] = {}
        # per role: whether its kms:Decrypt statements can be grouped by coverage, and the statements
        self._decrypt_statements: dict[str, tuple[bool, tuple[Statement, ...]]] = {}

    def documents(self, role: Role) -> tuple[list[PolicyDocument], PolicyDocument | None, list[str]]:
        return role_policies(role, self.catalogue.managed)

    def access(self, role_arn: str, session_tags: Mapping[str, str] | None = None) -> RoleAccess:
        tags = tuple(sorted((session_tags or {}).items()))
        key = (role_arn, tags)
        if key not in self._cache:
            self._cache[key] = self._compute(role_arn, dict(tags))
        return self._cache[key]

    def _resource_values(self, arn: str, keys: tuple[str, ...]) -> tuple[object, ...]:
        """The values _context() gives `keys` (lower-cased) for `arn` before any principal tag."""
        found = self._values_cache.get((arn, keys))
        if found is None:
            lowered = {k.lower(): v for k, v in _context(arn, self.catalogue, {}).items()}
            found = self._values_cache[(arn, keys)] = tuple(lowered.get(k, _ABSENT) for k in keys)
        return found

    def _reach(self, statement: Statement) -> frozenset[str]:
        """The indexed resources a statement's Resource/NotResource element covers. A pattern with a
        policy variable may cover anything once substituted, so it reaches everything."""
        cached = self._reach_cache.get(id(statement))
        if cached is not None:
            return cached[1]
        index = self.catalogue.index
        patterns = statement.resources if statement.resources is not None else statement.not_resources or ()
        if statement.resource_set is None or statement.resource_set.with_variables:
            found = self.catalogue.every
        elif "*" in patterns:  # everything: no need to ask the index, nor to copy what it answers
            found = self.catalogue.every if statement.resources is not None else frozenset()
        elif statement.resources is not None:
            found = _matching(index, patterns)
        else:
            found = self.catalogue.every - _matching(index, patterns)
        self._reach_cache[id(statement)] = (statement, found)
        return found

    def _compute(self, role_arn: str, session_tags: Mapping[str, str]) -> RoleAccess:
        role = self.roles.get(role_arn)
        if role is None:
            return RoleAccess(role_arn=role_arn, grants={}, wildcards=(), missing_policies=())
        docs, boundary, missing = self.documents(role)
        principal_tags = dict(role.tags) | dict(session_tags)  # session tags win, as in STS
        decided: dict[str, list[ActionGrant]] = {}  # per resource, in the order of ALL_ACTIONS
        big: list[tuple[AbstractSet[str], ActionGrant]] = []  # whole groups, in the same order
        for action in ALL_ACTIONS:
            for arns, decision in self._decide_action(role, docs, boundary, action, principal_tags):
                if len(arns) >= _WHOLE and isinstance(arns, AbstractSet):
                    big.append((arns, decision))
                    continue
                for arn in arns:
                    found = decided.get(arn)
                    if found is None:
                        decided[arn] = [decision]
                    else:
                        found.append(decision)
        kinds = self.catalogue.kinds
        regions = self.catalogue.regions_of
        key_cache = self._key_cache
        tags_key = tuple(sorted(principal_tags.items()))
        role_reads_context = _reads_context(docs)

        def reads_context(key: str) -> bool:
            """Does a policy of the role or of the key read the encryption context?"""
            return role_reads_context or self._key_reads_context(key)

        # Resources decided by the same ActionGrant objects (the deciders hand one to a whole group),
        # with the same key and region, get the same kms:Decrypt and so one shared Grant. Unless a
        # policy reads the encryption context, which names the resource: then the resource is its own.
        shared: dict[tuple[object, ...], Grant] = {}
        grants: dict[str, Grant] = {}
        # Large groups (a role reading `*` decides every secret of the account in one) are kept whole:
        # cut into the parts that got the same decisions with set operations, and a part's resources
        # without a customer-managed key (nothing else to tell them apart) share one Grant at once.
        for decisions, members in _parts(big):
            mixed = members & decided.keys()  # decided by small groups as well: merged one by one
            for arn in mixed:
                decided[arn] = sorted([*decisions, *decided[arn]], key=lambda d: _ACTION_RANK[d.action])
            rest = members - mixed if mixed else members
            kind = _kind_of_action(decisions[0].action)
            keyed = rest & self._keyed()
            # a customer-managed key and the region decide kms:Decrypt: one Grant per key and region,
            # unless a policy reads the encryption context (then one by one, below)
            for (key_arn, region), arns in self._by_key(keyed).items():
                if reads_context(key_arn):
                    decided.update((arn, list(decisions)) for arn in arns)
                    continue
                same = (tuple(map(id, decisions)), kind, key_arn, region)
                grant = shared.get(same)
                if grant is None:
                    decrypt = self._decrypt(
                        role, docs, boundary, key_arn, arns[0], kind, principal_tags, tags_key, False
                    )
                    grant = shared[same] = Grant(
                        kind=kind, role_arn=role.arn, actions=decisions, decrypt=decrypt, needs_key=key_arn
                    )
                grants.update(dict.fromkeys(arns, grant))
            keyless = rest - keyed if keyed else rest
            if keyless:
                alike = (tuple(map(id, decisions)), kind)
                grant = shared.get(alike)
                if grant is None:
                    grant = shared[alike] = Grant(
                        kind=kind, role_arn=role.arn, actions=decisions, decrypt=None, needs_key=None
                    )
                grants.update(dict.fromkeys(keyless, grant))
        for arn in decided:
            found = decided[arn]
            kind = kinds[arn]
            key = key_cache[arn] if arn in key_cache else self._key_of(arn)
            like: tuple[object, ...]
            if key is None:
                like = (tuple(map(id, found)), kind)
            else:
                like = (tuple(map(id, found)), kind, key, arn if reads_context(key) else regions.get(arn, ""))
            grant = shared.get(like)
            if grant is None:
                decrypt = None
                if key:
                    decrypt = self._decrypt(
                        role, docs, boundary, key, arn, kind, principal_tags, tags_key, reads_context(key)
                    )
                # the ActionGrant objects `like` names by id live on in this grant's actions
                grant = shared[like] = Grant(
                    kind=kind, role_arn=role.arn, actions=tuple(found), decrypt=decrypt, needs_key=key
                )
            grants[arn] = grant
        ordered = self.catalogue.sorted_every
        keys = in_order(grants, ordered)
        # every Grant of the role is one of `shared`'s: when each of those is readable (a role reading
        # `*`), so is every resource, and nothing is filtered one by one
        readable = tuple(keys) if all(g.readable for g in shared.values()) else readable_among(grants, keys)
        readable_set = frozenset(readable)
        return RoleAccess(
            role_arn=role_arn,
            grants=grants,
            wildcards=self._wildcards(role, docs, boundary, readable, readable_set, principal_tags),
            missing_policies=tuple(missing),
            readable=readable,
            readable_set=readable_set,
            order=ordered,
        )

    def _decide_action(
        self,
        role: Role,
        docs: Sequence[PolicyDocument],
        boundary: PolicyDocument | None,
        action: str,
        principal_tags: Mapping[str, str],
    ) -> Iterator[tuple[Collection[str], ActionGrant]]:
        """Every resource `action` is allowed on, in groups that share one decision. Resources whose
        covering statements carry no condition are decided with set operations on what each statement
        reaches (explicit Deny, then Allow within the boundary); the rest (conditions, resource
        policies, other accounts, policy variables) go through the engine, once per group of
        resources it decides alike."""
        kind = _kind_of_action(action)
        rel = _relevant(docs, boundary, action)
        if action == BY_PATH:
            yield from self._by_path(role, docs, boundary, rel, principal_tags)
            return
        reach = self._reach
        catalogue = self.catalogue
        account = account_of(role.arn)
        reached = [reach(st) for _, st in rel.allows]
        if any(r is catalogue.every for r in reached):  # `*`: the same sets for every such role
            pool, local, unlisted, foreign = self._everything(kind, account or "")
        else:
            candidates = set(catalogue.with_policies).union(*reached)
            pool, local, unlisted, foreign = _pools(catalogue, candidates, kind, account)
        for arn in sorted(unlisted):
            g = self._other_account(role, docs, boundary, action, arn, principal_tags)
            if g is not None:
                yield (arn,), g
        if not rel.simple:
            engine = pool - unlisted
        else:
            # what a condition or a resource policy may decide goes to the engine; every set operation
            # below costs what the role reaches (`local`), not what the statements' patterns cover
            conditioned = [
                reach(st)
                for _, st in (*rel.denies, *rel.boundary_denies, *rel.allows, *rel.boundary_allows)
                if st.conditions
            ]
            slow = local & catalogue.with_policies
            slow = slow.union(*(local & r for r in conditioned))
            engine = foreign | slow
        yield from self._engine_decisions(role, docs, boundary, action, rel, reach, principal_tags, engine)
        if not rel.simple:
            return
        fast: AbstractSet[str] = local - slow if slow else local
        for _, st in (*rel.denies, *rel.boundary_denies):
            if not st.conditions:
                fast = fast - reach(st)  # not -=, which walks the whole of what the Deny reaches
        if boundary is not None:
            limits = [reach(st) for _, st in rel.boundary_allows if not st.conditions]
            if not any(r is catalogue.every for r in limits):  # a boundary allowing `*` cuts nothing
                fast = set().union(*(fast & r for r in limits))
        yield from self._covered(action, rel, fast, reach, catalogue.every)

    def _everything(self, kind: str, account: str) -> tuple[frozenset[str], ...]:
        """_pools of every resource of the catalogue: what a statement reaching `*` makes a role
        consider, worked out once per kind and account instead of once per such role and action."""
        found = self._everything_cache.get((kind, account))
        if found is None:
            found = self._everything_cache[(kind, account)] = _pools(
                self.catalogue, self.catalogue.every, kind, account
            )
        return found

    def _engine_decisions(
        self,
        role: Role,
        docs: Sequence[PolicyDocument],
        boundary: PolicyDocument | None,
        action: str,
        rel: _Relevant,
        reach: Callable[[Statement], frozenset[str]],
        principal_tags: Mapping[str, str],
        resources: AbstractSet[str],
    ) -> Iterator[tuple[Collection[str], ActionGrant]]:
        """Resources the policy engine decides one at a time (conditions, resource policies, other
        accounts, policy variables), each group of resources that agree on everything the decision
        reads (see _Groups) once."""
        catalogue = self.catalogue

        def decide(arn: str) -> ActionGrant | None:
            secret = catalogue.secrets.get(arn)
            return _decide(
                docs,
                action,
                arn,
                _context(arn, catalogue, principal_tags),
                boundary,
                secret.resource_policy if secret else None,
                role.arn,
                _known_prefixes(arn, catalogue),
            )

        grouped = resources - catalogue.with_policies if rel.simple else set()
        for arn in sorted(resources - grouped):  # a resource policy, or policy variables: one by one
            g = decide(arn)
            if g is not None:
                yield (arn,), g
        if not grouped:
            return
        # the same for every session of the role (see _Groups), and for each action of a kind that the
        # same statements apply to (GetSecretValue and DescribeSecret, most often): a role that several
        # service accounts assume through Pod Identity, each with its own session tags, is split once
        statements = tuple(st for _, st in rel.every())
        key = (role.arn, _kind_of_action(action), tuple(map(id, statements)))
        found = self._groups.get(key)
        if found is None:
            split = _Groups(rel, reach, self._resource_values).split(grouped, catalogue)
            self._groups[key] = (statements, split)  # the statements kept, so their ids stay theirs
        else:
            split = found[1]
        for members in split:
            g = decide(min(members))  # any member would do; the first keeps the evidence stable
            if g is not None:
                yield members, g

    @staticmethod
    def _covered(
        action: str,
        rel: _Relevant,
        resources: AbstractSet[str],
        reach: Callable[[Statement], frozenset[str]],
        everything: frozenset[str],
    ) -> Iterator[tuple[Collection[str], ActionGrant]]:
        """Resources no condition, resource policy or Deny touches: allowed by the allowing statements
        that cover them (within the boundary's). They are split by which statements cover them with
        set operations, and each part gets one grant naming those statements. `resources` are of
        the catalogue (`everything`)."""
        parts: list[tuple[tuple[int, ...], AbstractSet[str]]] = [((), resources)]
        for i, (_, st) in enumerate(rel.allows):
            parts = _split(parts, reach(st), i, everything)
        parts = [(covering, arns) for covering, arns in parts if covering]
        for i, (_, st) in enumerate(rel.boundary_allows):
            parts = _split(parts, reach(st), -1 - i, everything)
        allow_refs = [ref(d, st, "identity") for d, st in rel.allows]
        boundary_refs = [ref(d, st, "boundary") for d, st in rel.boundary_allows]
        for covering, arns in parts:
            refs = [allow_refs[i] if i >= 0 else boundary_refs[-1 - i] for i in covering]
            statements = tuple(refs) if len(refs) == 1 else evidence(refs)
            yield arns, ActionGrant(action=action, outcome="allowed", when=None, statements=statements)

    def _other_account(
        self,
        role: Role,
        docs: Sequence[PolicyDocument],
        boundary: PolicyDocument | None,
        action: str,
        arn: str,
        principal_tags: Mapping[str, str],
    ) -> ActionGrant | None:
        """A resource in another account the snapshot does not list: its resource policy is unknown, so
        the identity side is decided (as if that policy allowed the role) and the grant is unverified."""
        assumed = parse_policy(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": role.arn}, "Action": action, "Resource": arn}
                ],
            },
            name=f"{arn}#resource-policy (not in the snapshot)",
            kind="resource",
        )
        context = _context(arn, self.catalogue, principal_tags)
        g = _decide(docs, action, arn, context, boundary, assumed, role.arn, (PRINCIPAL_TAGS,))
        if g is None:
            return None
        owner = account_of_resource(arn)
        when = f"the resource policy in account {owner} allows it (outside the snapshot)"
        if g.when:
            when = f"{g.when} and {when}"
        identity = tuple(s for s in g.statements if s.origin != "resource")
        return ActionGrant(
            action=action, outcome="conditional", when=when, statements=identity, unverified=True
        )

    def _by_path(
        self,
        role: Role,
        docs: Sequence[PolicyDocument],
        boundary: PolicyDocument | None,
        rel: _Relevant,
        principal_tags: Mapping[str, str],
    ) -> Iterator[tuple[Collection[str], ActionGrant]]:
        """ssm:GetParametersByPath is authorized against the path in the request (Parameter Store,
        "Restricting access to parameters"): a grant on a path reads every parameter beneath it."""
        paths: set[str] = set()
        for _, st in rel.allows:
            if st.resources is None or (st.resource_set is not None and st.resource_set.with_variables):
                paths |= set(self.catalogue.paths)
            else:
                paths |= set(self.catalogue.path_index.match_any(st.resources))
        best: dict[str, ActionGrant] = {}
        for path in sorted(paths):
            context = _context(path, self.catalogue, principal_tags)
            g = _decide(docs, BY_PATH, path, context, boundary, None, role.arn, (PRINCIPAL_TAGS,))
            if g is None:
                continue
            via = f"on the path {path}"
            g = ActionGrant(
                action=BY_PATH,
                outcome=g.outcome,
                when=f"{g.when} ({via})" if g.when else None,
                statements=g.statements,
            )
            for arn in self.catalogue.paths[path]:
                if arn not in best or (best[arn].outcome != "allowed" and g.outcome == "allowed"):
                    best[arn] = g
        for arn, g in sorted(best.items()):
            yield (arn,), g

    def _future(
        self,
        role: Role,
        docs: Sequence[PolicyDocument],
        boundary: PolicyDocument | None,
        pattern: str,
        principal_tags: Mapping[str, str],
    ) -> str | None:
        """Would a secret (or parameter) created later under `pattern` be readable? Decided on a
        made-up ARN the pattern matches, in the role's account and the snapshot's regions."""
        best: str | None = None
        for probe in _probes(pattern, account_of(role.arn) or "", self.catalogue.regions or ("us-east-1",)):
            kind = _kind_of(probe)
            if kind is None:
                continue
            for action in READ_ACTIONS[kind][:2]:
                context = _context(probe, self.catalogue, principal_tags)
                g = _decide(docs, action, probe, context, boundary, None, role.arn, (PRINCIPAL_TAGS,))
                if g is not None and (best is None or g.outcome == "allowed"):
                    best = g.outcome
        return best

    def _wildcards(
        self,
        role: Role,
        docs: Sequence[PolicyDocument],
        boundary: PolicyDocument | None,
        readable: tuple[str, ...],  # the resources the role can read, sorted
        readable_set: frozenset[str],  # the same as a set
        principal_tags: Mapping[str, str],
    ) -> tuple[WildcardStatement, ...]:
        value_reads = (*READ_ACTIONS[SECRETSMANAGER], *READ_ACTIONS[SSMPARAMETER])
        reading = [
            (d, s)
            for d in docs
            for s in d.statements
            if s.effect == "Allow" and any(action_applies(s, a) for a in value_reads)
        ]
        wildcards = []
        for d, s in reading:
            patterns = s.resources if s.resources is not None else ("*",)
            wild_res = tuple(p for p in patterns if is_wildcard_resource(p))
            action_patterns = (
                s.actions if s.actions is not None else tuple(f"NotAction {a}" for a in s.not_actions or ())
            )
            wild_act = tuple(
                p
                for p in action_patterns
                if (is_wildcard_action(p) or p.startswith("NotAction"))
                and any(_reaches(p, a) for a in (*READ_ACTIONS[SECRETSMANAGER], *READ_ACTIONS[SSMPARAMETER]))
            )
            if not wild_res and not wild_act:
                continue
            reach = self._reach(s)
            # whatever the role reads is in the catalogue: a statement reaching all of it reaches all
            if reach is self.catalogue.every:
                reached = readable
            elif len(reach) * 8 < len(readable):  # a prefix among everything a `*` role reads
                reached = tuple(sorted(reach & readable_set))
            else:
                reached = tuple(filter(reach.__contains__, readable))
            future = None
            for pattern in wild_res:
                outcome = self._future(role, docs, boundary, pattern, principal_tags)
                if outcome == "allowed" or (outcome and future is None):
                    future = outcome
            wildcards.append(
                WildcardStatement(
                    statement=ref(d, s, "identity"),
                    actions=tuple(a for a in ALL_ACTIONS if action_applies(s, a)),
                    wildcard_actions=wild_act,
                    wildcard_resources=wild_res,
                    reached=reached,
                    future=future,
                )
            )
        return tuple(wildcards)

    def _keyed(self) -> frozenset[str]:
        """The secrets and parameters of the snapshot with a customer-managed key."""
        if self._keyed_resources is None:
            listed = (*self.catalogue.secrets, *self.catalogue.parameters)
            self._keyed_resources = frozenset(a for a in listed if self._key_of(a) is not None)
        return self._keyed_resources

    def _key_of(self, arn: str) -> str | None:
        if arn in self._key_cache:
            return self._key_cache[arn]
        found = self._key_cache[arn] = self._find_key(arn)
        return found

    def _find_key(self, arn: str) -> str | None:
        secret = self.catalogue.secrets.get(arn)
        if secret is not None:
            return self.catalogue.key_directory.customer_key(
                SECRETSMANAGER, secret.kms_key, secret.region, secret.account
            )
        param = self.catalogue.parameters.get(arn)
        if param is not None and param.type == "SecureString":
            return self.catalogue.key_directory.customer_key(
                SSMPARAMETER, param.kms_key, param.region, param.account
            )
        return None

    def _decrypt(
        self,
        role: Role,
        docs: Sequence[PolicyDocument],
        boundary: PolicyDocument | None,
        key_arn: str,
        arn: str,
        kind: str,
        principal_tags: Mapping[str, str],
        tags_key: tuple[tuple[str, str], ...],
        mentions_context: bool,
    ) -> ActionGrant | None:
        """kms:Decrypt on the resource's key. `tags_key` is the principal tags sorted, and
        `mentions_context` whether a policy of the role or the key reads the encryption context (both
        the same for all of a role's resources, so the caller works them out once)."""
        region = self.catalogue.regions_of.get(arn, "")
        key = self.catalogue.key_directory.by_arn.get(key_arn)
        policy = key.policy if key else None
        # one answer per key, service and region, unless a policy looks at the encryption context
        # (which names the secret or parameter). Without a key policy, the role's own statements
        # decide, and they see the key only through their Resource patterns and its account (as
        # _Groups explains for secrets): keys those agree on share an answer, so a role that reads
        # `*` is decided once per service and region, not once per key of the account.
        covering = (
            None
            if policy is not None or mentions_context
            else self._key_covering(role, docs, boundary, key_arn)
        )
        cache_key: tuple[object, ...]
        if covering is not None:
            cache_key = (role.arn, covering, account_of_resource(key_arn), kind, region, tags_key)
        else:
            cache_key = (role.arn, key_arn, kind, region, tags_key, arn if mentions_context else "")
        if cache_key in self._decrypt_cache:
            return self._decrypt_cache[cache_key]
        context = {
            "kms:ViaService": f"{SERVICE_HOST[kind]}.{region}.amazonaws.com",
            "kms:CallerAccount": account_of(role.arn) or "",
            "aws:SecureTransport": "true",
            "aws:RequestedRegion": region,
        }
        if kind == SECRETSMANAGER:
            context["kms:EncryptionContext:SecretARN"] = arn
        else:
            context["kms:EncryptionContext:PARAMETER_ARN"] = arn
        for k, v in principal_tags.items():
            context[f"{PRINCIPAL_TAGS}{k}"] = v
        identity: Sequence[PolicyDocument] = docs
        if policy is not None and not _key_delegates(policy, key.account if key else ""):
            identity = ()
        decision = _decide(identity, DECRYPT, key_arn, context, boundary, policy, role.arn, (PRINCIPAL_TAGS,))
        self._decrypt_cache[cache_key] = decision
        return decision

    def _key_covering(
        self, role: Role, docs: Sequence[PolicyDocument], boundary: PolicyDocument | None, key_arn: str
    ) -> tuple[bool, ...] | None:
        """Which of the role's statements that kms:Decrypt applies to (identity, then boundary) cover
        the key; None when one has a policy variable in its Resource (it may cover anything)."""
        statements = self._decrypt_statements.get(role.arn)
        if statements is None:
            found = [
                st
                for d in (*docs, *((boundary,) if boundary is not None else ()))
                for st in d.statements
                if action_applies(st, DECRYPT)
            ]
            variables = any(st.resource_set is not None and st.resource_set.with_variables for st in found)
            statements = self._decrypt_statements[role.arn] = (not variables, tuple(found))
        groupable, relevant = statements
        if not groupable:
            return None
        # without policy variables, resource_applies never reads the context: it is True or False
        return tuple(bool(resource_applies(st, key_arn, _NO_CONTEXT)) for st in relevant)

    def _key_reads_context(self, key_arn: str) -> bool:
        """Does the key's policy read the encryption context (once per key, for every role)?"""
        found = self._key_context.get(key_arn)
        if found is None:
            key = self.catalogue.key_directory.by_arn.get(key_arn)
            found = self._key_context[key_arn] = bool(key and key.policy and _reads_context([key.policy]))
        return found

    def _by_key(self, keyed: AbstractSet[str]) -> Mapping[tuple[str, str], Sequence[str]]:
        """Resources with a customer-managed key by key and region (what decides kms:Decrypt)."""
        group_of = self._key_group_of
        if not group_of:
            regions = self.catalogue.regions_of
            group_of.update(
                (arn, (self._key_cache[arn] or "", regions.get(arn, ""))) for arn in self._keyed()
            )
        by_key: dict[tuple[str, str], list[str]] = {}
        for arn in keyed:
            found = by_key.get(group_of[arn])
            if found is None:
                by_key[group_of[arn]] = [arn]
            else:
                found.append(arn)
        return by_key


_NO_CONTEXT = RequestContext({}, complete=False)


def _reads_context(documents: Iterable[PolicyDocument]) -> bool:
    """Does a condition of these policies read the KMS encryption context (which names the secret or
    parameter, so that kms:Decrypt is decided resource by resource)?"""
    return any(
        "encryptioncontext" in c.key.lower() for d in documents for st in d.statements for c in st.conditions
    )


def _probes(pattern: str, account: str, regions: Sequence[str]) -> list[str]:
    """Made-up ARNs that `pattern` matches, standing for what may be created later: wildcards in the
    region and account are the snapshot's regions and the role's account, elsewhere a made-up name."""
    name = "iamscope-probe"
    if pattern == "*" or pattern.count(":") < 5:
        return [f"arn:aws:secretsmanager:{r}:{account}:secret:{name}-AbCdEf" for r in regions] + [
            f"arn:aws:ssm:{r}:{account}:parameter/{name}" for r in regions
        ]
    _, partition, service, region, acct, resource = pattern.split(":", 5)
    found = []
    for service_name in ("secretsmanager", "ssm") if has_wildcard(service) else (service,):
        for r in regions if has_wildcard(region) else (region,):
            fill = resource.replace("*", name).replace("?", "x")
            part = "aws" if has_wildcard(partition) else partition
            probe = f"arn:{part}:{service_name}:{r}:{account if has_wildcard(acct) else acct}:{fill}"
            if resource_matches(pattern, probe):
                found.append(probe)
    return found


def _reaches(pattern: str, action: str) -> bool:
    if pattern.startswith("NotAction "):
        return not action_matches(pattern[len("NotAction ") :], action)
    return action_matches(pattern, action)
