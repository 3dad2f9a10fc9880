"""The live AWS half of `iamscope collect`: read an account with boto3 and return the snapshot files of
DESIGN.md §3 exactly as the AWS CLI would print them (datetimes as ISO 8601 strings, policy documents
as the API returns them), plus one line for every part that could not be read.

Fetch only: nothing here interprets the data. Metadata only: the operations in OPERATIONS are the
whole of what this module may call, and none of them returns a secret's value or decrypts anything
(tests/collect records every call a collection makes and compares it with OPERATIONS).

Fail closed: an AccessDenied, throttling that outlasts the retries or a dropped connection costs only
the part it concerns. That part becomes a gap line
"<service> <Operation> (<region or global>): <ErrorCode>: <message>" (with how far a listing or a
per-item loop got), the rest is still read, and a listing cut short is still written with the
continuation token of its last page, as the AWS CLI prints a listing it did not finish — so even the
files alone say they are partial. A response body shorter than its Content-Length (a connection
dropped mid-answer, which botocore would otherwise parse as an empty last page) is such a failure too.

Two failures say that every later call would fail alike: an endpoint that cannot be reached (refused,
no connection or no answer within the timeouts) and credentials that are rejected (invalid, expired,
or none to be loaded). The first call that meets one ends the whole collection: its gap line says why
nothing more was asked, instead of one more timeout and one more line per service and region.
Connection-level failures are tried `connection_attempts` times (2) rather than botocore's full
budget, and every attempt is bounded by `connect_timeout` and `read_timeout` (10 s and 30 s).

Deviations from the bare CLI commands, all on purpose:
- `get-account-authorization-details` is asked only for roles and managed policies
  (`--filter Role LocalManagedPolicy AWSManagedPolicy`); AWS managed policies that no collected role
  attaches or uses as its boundary are left out (emulators list all 1,500 of them).
- `list-secrets` includes secrets scheduled for deletion (`--include-planned-deletion`): a workload
  that names one must be told its value can no longer be read, not that the secret does not exist.
- each `kms-keys-R.json` entry also holds the key's aliases (`list-aliases --key-id`), so that a
  secret or parameter naming its key by alias resolves offline.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    IncompleteReadError,
    NoAuthTokenError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as EndpointUnreachable
from botocore.parsers import ResponseParserError

from iamscope import __version__
from iamscope.collect.result import Collected, NoProgress, Progress
from iamscope.config import CLUSTER_NAME
from iamscope.errors import UsageError

# every operation a collection may call, as "<IAM service prefix>:<API operation>"; the README's IAM
# policy for the collector is written from this set
OPERATIONS = frozenset(
    {
        "sts:GetCallerIdentity",
        "iam:GetAccountAuthorizationDetails",
        "secretsmanager:ListSecrets",
        "secretsmanager:GetResourcePolicy",
        "ssm:DescribeParameters",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:ListAliases",
        "eks:DescribeCluster",
        "eks:ListPodIdentityAssociations",
        "eks:DescribePodIdentityAssociation",
    }
)

DEFAULT_MAX_ATTEMPTS = 10  # botocore's adaptive retry mode: attempts per call, the first included
CONNECTION_ATTEMPTS = 2  # attempts per call when the endpoint cannot be connected to or does not answer
CONNECT_TIMEOUT = 10.0  # seconds to establish a connection (botocore's default is 60)
READ_TIMEOUT = 30.0  # seconds to wait for an answer (botocore's default is 60)
WORKERS = 8  # concurrent per-item calls (one GetResourcePolicy per secret, one describe per key)
GLOBAL = "global"
AUTHORIZATION_FILTER = ("Role", "LocalManagedPolicy", "AWSManagedPolicy")
AUTHORIZATION_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
# the largest page each listing accepts (used unless page_size asks for smaller pages)
MAX_PAGE = {
    "GetAccountAuthorizationDetails": 1000,
    "ListSecrets": 100,
    "DescribeParameters": 50,
    "ListAliases": 100,
    "ListPodIdentityAssociations": 100,
}
# what the snapshot reader needs of every association (the API always returns them)
ASSOCIATION_FIELDS = (
    "associationArn",
    "associationId",
    "clusterName",
    "namespace",
    "serviceAccount",
    "roleArn",
)
# botocore's EKS model: ClusterName, pattern ^[0-9A-Za-z][A-Za-z0-9\-_]*, length 1 to 100
# the shape of every region of botocore's partitions (us-east-1, us-gov-west-1, cn-north-1,
# eu-isoe-west-1, us-isob-east-1, eusc-de-east-1), and of regions yet to come
REGION_NAME = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d+$")
NO_CLUSTER_GAP = (
    "eks: no cluster named (--cluster or cluster.name in the configuration): the cluster's OIDC issuer "
    "and Pod Identity associations were not collected"
)
AWS_MANAGED_POLICY = re.compile(r"^arn:[a-z-]+:iam::aws:policy/")
# answers meaning the thing asked about is gone (deleted between listing and describing): not a gap
GONE = frozenset({"ResourceNotFoundException", "NotFoundException"})
# answers rejecting the credentials themselves: every later call would be rejected alike
CREDENTIAL_CODES = re.compile(
    r"^(ExpiredToken.*|InvalidClientTokenId|UnrecognizedClient.*|InvalidSignature.*|"
    r"SignatureDoesNotMatch|IncompleteSignature|AuthFailure|RequestExpired|InvalidAccessKeyId|"
    r"MissingAuthenticationToken)$"
)
# errors about the caller or the endpoint rather than one item: the next item would fail alike
CALLER_CODES = re.compile(r"^(.*Throttl.*|TooManyRequests.*|RequestLimitExceeded|SlowDown)$")
# raised before a request is sent: no credentials could be loaded or refreshed
CREDENTIAL_ERRORS: tuple[type[Exception], ...] = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    NoAuthTokenError,
    SSOError,
)
# the endpoint refused, could not be connected to (DNS, proxy, TLS) or did not answer in time
UNREACHABLE_ERRORS: tuple[type[Exception], ...] = (EndpointUnreachable, ReadTimeoutError)


class MalformedAnswer(Exception):
    """A successful answer without what the operation always returns (written, it would make the
    snapshot unreadable; dropped silently, it would pass for "nothing there")."""


ITEM_ERRORS: tuple[type[Exception], ...] = (
    MalformedAnswer,
    ConnectionClosedError,
    ResponseStreamingError,
    IncompleteReadError,
    ResponseParserError,
)
# what a call may raise for what AWS answered or failed to answer (never a traceback for these)
FAILURES = (ClientError, BotoCoreError, ResponseParserError, MalformedAnswer)
NAMES_SHOWN = 5

_SILENT = NoProgress()

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Fault:
    code: str
    message: str
    caller: bool  # concerns the caller or the endpoint, not the one item asked about
    # why no later call can succeed either (the endpoint unreachable, the credentials rejected): the
    # whole collection stops
    fatal: str | None = None


@dataclass(frozen=True, slots=True)
class _Timeouts:
    connect: float = CONNECT_TIMEOUT
    read: float = READ_TIMEOUT


def _fault(error: Exception, timeouts: _Timeouts | None = None) -> _Fault:
    timeouts = timeouts or _Timeouts()
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {}) if isinstance(error.response, dict) else {}
        code = str(detail.get("Code") or "Unknown")
        message = " ".join(str(detail.get("Message") or error).split())
        if CREDENTIAL_CODES.match(code):
            return _Fault(code, message, True, "the credentials were rejected (invalid or expired)")
        return _Fault(code, message, bool(CALLER_CODES.match(code)))
    code, message = type(error).__name__, " ".join(str(error).split())
    if isinstance(error, CREDENTIAL_ERRORS):
        return _Fault(code, message, True, "no valid credentials could be loaded")
    if isinstance(error, ConnectTimeoutError):
        return _Fault(
            code,
            message,
            True,
            f"the endpoint cannot be reached (no connection within {timeouts.connect:g}s)",
        )
    if isinstance(error, ReadTimeoutError):
        return _Fault(
            code, message, True, f"the endpoint does not answer (no answer within {timeouts.read:g}s)"
        )
    if isinstance(error, UNREACHABLE_ERRORS):
        return _Fault(code, message, True, "the endpoint cannot be reached")
    return _Fault(code, message, not isinstance(error, ITEM_ERRORS))


class _Stopped(Exception):
    """The collection ends: a call showed the endpoint unreachable or the credentials rejected."""


def _whole_body(response_dict: dict[str, Any], operation_model: Any, **_: Any) -> None:
    """botocore reads a response body without checking it against Content-Length, and parses a cut-off
    JSON body as an empty answer: a connection dropped in the middle of a page would pass for a
    complete listing with no more pages. Refuse such a body (a before-parse handler)."""
    headers = response_dict.get("headers") or {}
    body = response_dict.get("body")
    if not isinstance(body, (bytes, bytearray)):
        return
    declared = next((str(v) for k, v in headers.items() if str(k).lower() == "content-length"), None)
    if declared is not None and declared.isdigit() and int(declared) != len(body):
        raise IncompleteReadError(actual_bytes=len(body), expected_bytes=int(declared))
    protocol = operation_model.service_model.metadata.get("protocol")
    if body.strip() and protocol in ("json", "rest-json") and response_dict.get("status_code", 0) < 300:
        try:
            json.loads(body)
        except ValueError:
            raise ResponseParserError(f"the {operation_model.name} answer is not whole JSON") from None


def _checked(answer: Any, operation: str, *keys: str) -> dict[str, Any]:
    """`answer` if it is a JSON object holding every one of `keys` (non-empty), else MalformedAnswer."""
    missing = [k for k in keys if not (isinstance(answer, dict) and answer.get(k))]
    if missing:
        raise MalformedAnswer(f"the {operation} answer holds no {missing[0]}")
    return dict(answer)


def _inner(answer: Any, operation: str, key: str, *keys: str) -> dict[str, Any]:
    """answer[key], a JSON object holding every one of `keys`, else MalformedAnswer."""
    return _checked(_checked(answer, operation, key)[key], operation, *keys)


def _cli(value: Any) -> Any:
    """A botocore answer as the AWS CLI prints it: datetimes in ISO 8601, blobs in base64, no
    ResponseMetadata."""
    if isinstance(value, dict):
        return {k: _cli(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_cli(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _plural(n: int, noun: str) -> str:
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else f"{n} {noun}s"


@dataclass(slots=True)
class _Listing:
    """What a paginated listing read: its items, the pages, and why it stopped early (if it did)."""

    items: dict[str, list[Any]]
    pages: int = 0
    last: dict[str, Any] = field(default_factory=dict)  # the last page read, for its continuation
    fault: _Fault | None = None

    def continuation(self, keys: Sequence[str]) -> dict[str, Any]:
        return {k: self.last[k] for k in keys if self.fault is not None and self.last.get(k)}


class _Collection:
    def __init__(
        self,
        session: Any,
        *,
        progress: Progress,
        page_size: int | None,
        max_attempts: int,
        connection_attempts: int,
        timeouts: _Timeouts,
        workers: int,
    ) -> None:
        self.session = session
        self.progress = progress
        self.page_size = page_size
        self.workers = max(1, workers)
        self.timeouts = timeouts
        self.connection_attempts = max(1, min(connection_attempts, max_attempts))
        self.config = Config(
            retries={"mode": "adaptive", "total_max_attempts": max_attempts},
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            user_agent_extra=f"iamscope/{__version__}",
            max_pool_connections=max(10, 2 * self.workers),
        )
        self.files: dict[str, Any] = {}
        self.gaps: list[str] = []
        self.notes: list[str] = []
        self.stopped = False  # a fatal fault was met: nothing more is asked
        self._clients: dict[tuple[str, str], Any] = {}

    # --- plumbing --------------------------------------------------------------------------------

    def _connection_retry(self, attempts: int, caught_exception: Any = None, **_: Any) -> bool | None:
        """A needs-retry handler ahead of botocore's: a call whose endpoint cannot be connected to or
        does not answer is tried `connection_attempts` times, not the whole retry budget (False
        tells botocore not to retry; None leaves the decision to its retry handler)."""
        if isinstance(caught_exception, UNREACHABLE_ERRORS) and attempts >= self.connection_attempts:
            return False
        return None

    def client(self, service: str, region: str) -> Any:
        self.check()
        key = (service, region)
        if key not in self._clients:
            client = self.session.client(service, region_name=region, config=self.config)
            client.meta.events.register("before-parse", _whole_body)
            service_id = client.meta.service_model.service_id.hyphenize()
            client.meta.events.register_first(f"needs-retry.{service_id}", self._connection_retry)
            self._clients[key] = client
        return self._clients[key]

    def check(self) -> None:
        """Raise _Stopped once a fatal fault was met: no later call may be made."""
        if self.stopped:
            raise _Stopped

    def fault(self, error: Exception) -> _Fault:
        return _fault(error, self.timeouts)

    def gap(self, service: str, operation: str, where: str, fault: _Fault, detail: str = "") -> None:
        line = f"{service} {operation} ({where}): {fault.code}: {fault.message}"
        line = f"{line} ({detail})" if detail else line
        if fault.fatal is not None:
            # one line for the whole rest: every later call would fail the same way
            line += f"; {fault.fatal}, so nothing more was asked of AWS"
            self.stopped = True
        self.gaps.append(line)

    def call(self, service: str, region: str, operation: str, where: str, **params: Any) -> Any:
        """One call; its answer as the CLI prints it, or None with a gap line."""
        client = self.client(service, region)
        try:
            answer = getattr(client, xform_name(operation))(**params)
        except FAILURES as error:
            self.gap(service, operation, where, self.fault(error))
            return None
        return _cli(answer)

    def listing(
        self,
        service: str,
        region: str,
        operation: str,
        where: str,
        result_keys: Sequence[str],
        noun: str,
        **params: Any,
    ) -> _Listing:
        """A paginated listing, page by page (one progress unit each). A failure keeps what was read
        and records a gap that says how far the listing got."""
        size = min(self.page_size or MAX_PAGE[operation], MAX_PAGE[operation])
        listing = _Listing(items={k: [] for k in result_keys})
        client = self.client(service, region)
        try:
            paginator = client.get_paginator(xform_name(operation))
            for page in paginator.paginate(**params, PaginationConfig={"PageSize": size}):
                for key in result_keys:
                    listing.items[key].extend(_cli(page.get(key) or []))
                listing.pages += 1
                listing.last = page
                self.progress.advance()
        except FAILURES as error:
            listing.fault = self.fault(error)
            read = sum(len(v) for v in listing.items.values())
            detail = (
                f"after {_plural(listing.pages, 'page')}, {_plural(read, noun)} read: the listing is partial"
                if listing.pages
                else ""
            )
            self.gap(service, operation, where, listing.fault, detail)
        return listing

    def each(
        self,
        items: Sequence[T],
        call: Callable[[T], R],
        *,
        service: str,
        operation: str,
        where: str,
        noun: str,
        name: Callable[[T], str],
    ) -> list[R | None]:
        """`call` for every item, a few at a time, one progress unit each. A failure about one item
        skips that item; a failure about the caller or the endpoint (credentials, throttling after
        the retries, no route) stops the rest. Gap lines say which and how many were not read."""
        self.check()
        stop = threading.Event()

        def run(item: T) -> tuple[R | None, _Fault | None, bool]:
            if stop.is_set():
                return None, None, True
            try:
                return call(item), None, False
            except FAILURES as error:
                fault = self.fault(error)
                if fault.caller:
                    stop.set()
                return None, fault, False

        results: list[R | None] = []
        failed: dict[str, list[tuple[str, _Fault]]] = {}
        gone: list[str] = []
        stopped: _Fault | None = None
        read = 0
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(items)))) as pool:
            for item, (result, fault, skipped) in zip(items, pool.map(run, items), strict=True):
                results.append(result)
                self.progress.advance()
                if fault is not None and fault.code in GONE:
                    gone.append(name(item))
                elif fault is not None and fault.caller:
                    stopped = stopped or fault
                elif fault is not None:
                    failed.setdefault(fault.code, []).append((name(item), fault))
                elif not skipped:
                    read += 1
        total = len(items)
        for code in sorted(failed):
            which = sorted(failed[code], key=lambda f: f[0])
            names = ", ".join(n for n, _ in which[:NAMES_SHOWN]) + (", …" if len(which) > NAMES_SHOWN else "")
            detail = f"{len(which)} of {_plural(total, noun)} not read: {names}"
            self.gap(service, operation, where, which[0][1], detail)
        if stopped is not None:
            detail = f"after {read} of {_plural(total, noun)}: the rest not read"
            self.gap(service, operation, where, stopped, detail)
        if gone:
            # deleted between the listing and this call (or, for a key, named but not there): an
            # answer, not a failure
            vanished = ", ".join(sorted(gone))
            self.notes.append(f"{service} {operation} ({where}): not found, so not collected: {vanished}")
        return results

    # --- the account -----------------------------------------------------------------------------

    def identity(self, region: str) -> None:
        self.progress.step("sts: caller identity", 1)
        answer = self.call("sts", region, "GetCallerIdentity", GLOBAL)
        self.progress.advance()
        if answer is not None and not answer.get("Account"):
            self.gap(
                "sts", "GetCallerIdentity", GLOBAL, _fault(MalformedAnswer("the answer holds no Account"))
            )
        elif answer is not None:
            self.files["aws/sts-get-caller-identity.json"] = answer

    def authorization(self, region: str) -> None:
        self.progress.step("iam: roles and managed policies")
        listing = self.listing(
            "iam",
            region,
            "GetAccountAuthorizationDetails",
            GLOBAL,
            AUTHORIZATION_KEYS,
            "entry",
            Filter=list(AUTHORIZATION_FILTER),
        )
        if not listing.pages:
            return
        roles = sorted(
            listing.items["RoleDetailList"], key=lambda r: (str(r.get("RoleName")), str(r.get("Arn")))
        )
        used = {
            str(a.get("PolicyArn"))
            for r in roles
            for a in r.get("AttachedManagedPolicies") or ()
            if isinstance(a, dict)
        } | {
            str((r.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"))
            for r in roles
            if isinstance(r.get("PermissionsBoundary"), dict)
        }
        policies = sorted(
            (
                p
                for p in listing.items["Policies"]
                if not AWS_MANAGED_POLICY.match(str(p.get("Arn"))) or p.get("Arn") in used
            ),
            key=lambda p: str(p.get("Arn")),
        )
        document: dict[str, Any] = {
            "UserDetailList": sorted(listing.items["UserDetailList"], key=lambda u: str(u.get("UserName"))),
            "GroupDetailList": sorted(
                listing.items["GroupDetailList"], key=lambda g: str(g.get("GroupName"))
            ),
            "RoleDetailList": roles,
            "Policies": policies,
        }
        if listing.fault is not None:
            document |= {"IsTruncated": True, **listing.continuation(("Marker",))}
        self.files["aws/iam-authorization-details.json"] = document

    # --- one region ------------------------------------------------------------------------------

    def secrets(self, region: str) -> list[dict[str, Any]]:
        self.progress.step(f"secretsmanager {region}: secrets")
        listing = self.listing(
            "secretsmanager",
            region,
            "ListSecrets",
            region,
            ("SecretList",),
            "secret",
            IncludePlannedDeletion=True,
        )
        if not listing.pages:
            return []
        secrets = sorted(listing.items["SecretList"], key=lambda s: str(s.get("ARN")))
        self.files[f"aws/secretsmanager-list-secrets-{region}.json"] = {
            "SecretList": secrets,
            **listing.continuation(("NextToken",)),
        }
        # a secret scheduled for deletion answers no request but its restore; its policy is moot
        live = [s for s in secrets if not s.get("DeletedDate") and s.get("ARN")]
        self.progress.step(f"secretsmanager {region}: resource policies", len(live))
        client = self.client("secretsmanager", region)
        answers = self.each(
            live,
            lambda s: _checked(
                _cli(client.get_resource_policy(SecretId=s["ARN"])), "GetResourcePolicy", "ARN"
            ),
            service="secretsmanager",
            operation="GetResourcePolicy",
            where=region,
            noun="secret",
            name=lambda s: str(s.get("Name") or s.get("ARN")),
        )
        policies = sorted((a for a in answers if a is not None), key=lambda a: str(a.get("ARN")))
        self.files[f"aws/secretsmanager-resource-policies-{region}.json"] = {"ResourcePolicies": policies}
        return secrets

    def parameters(self, region: str) -> list[dict[str, Any]]:
        self.progress.step(f"ssm {region}: parameters")
        listing = self.listing("ssm", region, "DescribeParameters", region, ("Parameters",), "parameter")
        if not listing.pages:
            return []
        parameters = sorted(listing.items["Parameters"], key=lambda p: str(p.get("Name")))
        self.files[f"aws/ssm-describe-parameters-{region}.json"] = {
            "Parameters": parameters,
            **listing.continuation(("NextToken",)),
        }
        return parameters

    def keys(self, region: str, refs: Iterable[str]) -> None:
        """The KMS keys the region's secrets and parameters name (by id, ARN, alias or alias ARN):
        DescribeKey resolves each, then the key's policy and aliases."""
        refs = sorted(set(refs))
        if not refs:
            return
        try:
            client = self.client("kms", region)
        except FAILURES as error:  # a region no endpoint can be made for (from a key ARN)
            self.gap("kms", "DescribeKey", region, self.fault(error), f"{_plural(len(refs), 'key')} not read")
            return
        self.progress.step(f"kms {region}: keys", len(refs))
        described = self.each(
            refs,
            lambda ref: _inner(
                _cli(client.describe_key(KeyId=ref)), "DescribeKey", "KeyMetadata", "KeyId", "Arn"
            ),
            service="kms",
            operation="DescribeKey",
            where=region,
            noun="key",
            name=lambda ref: ref,
        )
        unique: dict[str, dict[str, Any]] = {}
        for meta in described:
            if meta is not None and meta.get("Arn"):
                unique.setdefault(str(meta["Arn"]), meta)
        metas = sorted(unique.values(), key=lambda m: str(m.get("KeyId")))
        self.progress.step(f"kms {region}: key policies", len(metas))
        policies = self.each(
            metas,
            lambda m: _checked(
                _cli(client.get_key_policy(KeyId=m["KeyId"], PolicyName="default")), "GetKeyPolicy", "Policy"
            )["Policy"],
            service="kms",
            operation="GetKeyPolicy",
            where=region,
            noun="key",
            name=lambda m: str(m.get("Arn")),
        )
        self.progress.step(f"kms {region}: key aliases", len(metas))
        size = min(self.page_size or MAX_PAGE["ListAliases"], MAX_PAGE["ListAliases"])

        def aliases(meta: dict[str, Any]) -> list[Any]:
            pages = client.get_paginator("list_aliases").paginate(
                KeyId=meta["KeyId"], PaginationConfig={"PageSize": size}
            )
            found = [a for page in pages for a in _cli(page.get("Aliases") or [])]
            return sorted(found, key=lambda a: str(a.get("AliasName")))

        alias_lists = self.each(
            metas,
            aliases,
            service="kms",
            operation="ListAliases",
            where=region,
            noun="key",
            name=lambda m: str(m.get("Arn")),
        )
        entries = []
        for meta, policy, names in zip(metas, policies, alias_lists, strict=True):
            entry: dict[str, Any] = {"KeyMetadata": meta}
            if policy is not None:
                entry["Policy"] = policy
            if names is not None:
                entry["Aliases"] = names
            entries.append(entry)
        self.files[f"aws/kms-keys-{region}.json"] = {"Keys": entries}

    # --- the cluster -----------------------------------------------------------------------------

    def cluster(self, name: str, regions: Sequence[str]) -> None:
        self.progress.step(f"eks: cluster {name}", len(regions))
        found: list[tuple[str, dict[str, Any]]] = []
        faults: list[tuple[str, _Fault]] = []
        for region in regions:
            try:
                answer = _cli(self.client("eks", region).describe_cluster(name=name))
                _inner(answer, "DescribeCluster", "cluster", "name", "arn")
            except FAILURES as error:
                fault = self.fault(error)
                if fault.fatal is not None:
                    self.gap("eks", "DescribeCluster", region, fault)
                    return
                if fault.code not in GONE:
                    faults.append((region, fault))
            else:
                found.append((region, answer))
            self.progress.advance()
        if not found:
            for region, fault in faults:
                self.gap("eks", "DescribeCluster", region, fault)
            if not faults:
                self.gaps.append(
                    f"eks DescribeCluster ({', '.join(regions)}): ResourceNotFoundException: "
                    f"no cluster named {name!r} in any of these regions"
                )
            return
        region, answer = found[0]
        if len(found) > 1:
            self.notes.append(
                f"eks DescribeCluster: clusters named {name!r} exist in {', '.join(r for r, _ in found)}; "
                f"collected the one in {region}"
            )
        for other, fault in faults:
            self.notes.append(
                f"eks DescribeCluster ({other}): {fault.code}: {fault.message} "
                f"(the cluster was found in {region})"
            )
        self.files[f"aws/eks-describe-cluster-{name}.json"] = answer
        self.associations(name, region)

    def associations(self, name: str, region: str) -> None:
        self.progress.step(f"eks {region}: pod identity associations")
        listing = self.listing(
            "eks",
            region,
            "ListPodIdentityAssociations",
            region,
            ("associations",),
            "association",
            clusterName=name,
        )
        if not listing.pages:
            return
        summaries = sorted(listing.items["associations"], key=lambda a: str(a.get("associationId")))
        client = self.client("eks", region)
        self.progress.step(f"eks {region}: describe pod identity associations", len(summaries))

        def describe(summary: dict[str, Any]) -> dict[str, Any]:
            identifier = _checked(summary, "ListPodIdentityAssociations", "associationId")["associationId"]
            answer = client.describe_pod_identity_association(clusterName=name, associationId=identifier)
            return _inner(_cli(answer), "DescribePodIdentityAssociation", "association", *ASSOCIATION_FIELDS)

        answers = self.each(
            summaries,
            describe,
            service="eks",
            operation="DescribePodIdentityAssociation",
            where=region,
            noun="association",
            name=lambda s: f"{s.get('namespace')}/{s.get('serviceAccount')} ({s.get('associationId')})",
        )
        associations = sorted(
            (a for a in answers if a is not None), key=lambda a: str(a.get("associationId"))
        )
        self.files[f"aws/eks-pod-identity-associations-{name}.json"] = {
            "associations": associations,
            **listing.continuation(("nextToken",)),
        }


def _key_region(ref: str, region: str) -> str:
    """A key named by ARN lives in the ARN's region; by id or alias, in the region of what names it."""
    parts = ref.split(":")
    return parts[3] if ref.startswith("arn:") and len(parts) > 5 and parts[3] else region


def check_credentials(session: Any) -> None:
    """Refuse to start without credentials: every call would fail alike, and no call is needed to
    know it (a profile that assumes a role or uses SSO loads its credentials lazily, at the first
    call; if they are then refused, that call's gap says so)."""
    try:
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise UsageError(f"the AWS credentials cannot be loaded: {' '.join(str(error).split())}") from None
    if credentials is None:
        raise UsageError(
            "no AWS credentials found (none in the environment, the shared credentials and config "
            "files, --profile, SSO or an instance role): configure some, e.g. with `aws configure` or "
            "`aws sso login`"
        )


def check_region(region: str) -> str:
    """`region` if it has the shape of an AWS region name, else a UsageError."""
    if not REGION_NAME.match(region):
        raise UsageError(
            f"{region!r} is not an AWS region name (like eu-west-1, us-gov-west-1 or cn-north-1)"
        )
    return region


def check_cluster(name: str) -> str:
    """`name` if EKS accepts it as a cluster name, else a UsageError."""
    if not CLUSTER_NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not an EKS cluster name (1 to 100 letters, digits, hyphens and underscores, "
            "starting with a letter or digit)"
        )
    return name


def collect_aws(
    session: Any,
    *,
    regions: Sequence[str],
    cluster: str | None,
    progress: Progress = _SILENT,
    page_size: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    connection_attempts: int = CONNECTION_ATTEMPTS,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    workers: int = WORKERS,
) -> Collected:
    """Read the account `session` reaches: IAM roles and managed policies, and in each region its
    secrets (with their resource policies), parameters and the KMS keys those name; with `cluster`,
    the EKS cluster of that name (from whichever region holds it) and its Pod Identity associations
    (without, a gap says they were not collected).

    `page_size` bounds every listing's pages (tests use small ones); `max_attempts` is botocore's
    adaptive retry budget per call, `connection_attempts` the budget of a call whose endpoint cannot
    be reached; `connect_timeout` and `read_timeout` bound each attempt (seconds). Raises UsageError
    for bad arguments or when no credentials can be found, before any call; never raises for what
    AWS answers or fails to answer: every unreadable part is a line of `Collected.gaps`, and an
    unreachable endpoint or rejected credentials end the collection with one such line."""
    if page_size is not None and page_size < 1:
        raise UsageError(f"page size {page_size}: must be at least 1")
    if connect_timeout <= 0 or read_timeout <= 0:
        raise UsageError("the AWS connect and read timeouts must be positive")
    if cluster is not None:
        check_cluster(cluster)
    ordered = list(dict.fromkeys(regions)) or [r for r in (getattr(session, "region_name", None),) if r]
    if not ordered:
        raise UsageError("no AWS region: give at least one region")
    for region in ordered:
        check_region(region)
    check_credentials(session)
    run = _Collection(
        session,
        progress=progress,
        page_size=page_size,
        max_attempts=max_attempts,
        connection_attempts=connection_attempts,
        timeouts=_Timeouts(connect=connect_timeout, read=read_timeout),
        workers=workers,
    )
    with contextlib.suppress(_Stopped):  # the gap that stopped it says why
        _collect(run, ordered, cluster)
    return Collected(files=dict(sorted(run.files.items())), gaps=tuple(run.gaps), notes=tuple(run.notes))


def _collect(run: _Collection, ordered: Sequence[str], cluster: str | None) -> None:
    """Every step, in order; gaps come out in this order too."""
    run.identity(ordered[0])
    run.authorization(ordered[0])
    refs: dict[str, set[str]] = {}
    for region in ordered:
        for secret in run.secrets(region):
            if secret.get("KmsKeyId"):
                ref = str(secret["KmsKeyId"])
                refs.setdefault(_key_region(ref, region), set()).add(ref)
        for parameter in run.parameters(region):
            if parameter.get("KeyId"):
                ref = str(parameter["KeyId"])
                refs.setdefault(_key_region(ref, region), set()).add(ref)
    for region in [*ordered, *sorted(set(refs) - set(ordered))]:
        run.keys(region, refs.get(region, ()))
    if cluster is not None:
        run.cluster(cluster, ordered)
    else:
        run.check()
        # the scan of this snapshot would say it lacks the cluster: the collection says so first
        run.gaps.append(NO_CLUSTER_GAP)
