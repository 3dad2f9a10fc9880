"""What a collection does when part of the account cannot be read (the issue's words: "An AccessDenied,
throttling that outlasts retries, an expired token or a dropped connection for part of the data makes
the result incomplete: the report says what is missing, complete is false — never a clean bill of
health from partial data").

Each fault is injected twice: inside botocore (a `before-send` handler answering with an AWS error
response, or raising the error a dropped connection raises) and on the wire (the proxy between
botocore and moto answering the error in the service's protocol, or closing the connection halfway
through a response). Either way the collection returns exactly the expected gap line, the files it
could read are those of a clean collection, and a listing cut short is written with what was read.
Whether a scan of the result is then incomplete is decided by the gaps (the CLI writes them to
incomplete.json); here we assert on `Collected.gaps`."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    NoCredentialsError,
    ProxyConnectionError,
    ReadTimeoutError,
)

from iamscope.aws.snapshot import build_aws_inventory, read_snapshot
from iamscope.collect.aws import CONNECTION_ATTEMPTS, collect_aws
from iamscope.collect.result import Collected
from iamscope.errors import UsageError
from iamscope.files import InputReader
from tests.collect.aws_calls import (
    Recorder,
    answer_with,
    fail_send,
    json_error,
    query_error,
    raise_in_call,
    request_params,
    request_region,
)
from tests.collect.aws_proxy import AwsProxy, Drop, Error
from tests.collect.aws_seed import CLUSTER, Seed, seed_realistic
from tests.collect.conftest import REGIONS, clean_aws_environment, module_environment, reset, session
from tests.collect.eks_standin import EksStandIn
from tests.collect.silent import Silent

ATTEMPTS = 3
DENIED = (
    "User: arn:aws:sts::111122223333:assumed-role/iamscope-collector/ci is not authorized to perform: "
    "secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action"
)
EXPIRED = "The security token included in the request is expired"
LAYERS = ("botocore", "http")


@dataclass
class Account:
    seed: Seed
    proxy: AwsProxy
    standin: EksStandIn
    clean: Collected  # a collection with no fault

    def collect(self, **kwargs: Any) -> tuple[Collected, Recorder]:
        return self.collect_with(session(), **kwargs)

    def collect_with(self, aws: Any, **kwargs: Any) -> tuple[Collected, Recorder]:
        recorder = Recorder().attach(aws)
        options = {"regions": REGIONS, "cluster": CLUSTER, "page_size": 7, "max_attempts": ATTEMPTS} | kwargs
        return collect_aws(aws, **options), recorder


@pytest.fixture(scope="module")
def base(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """One small account (faults change nothing in it), its proxy, stand-in and clean collection."""
    reset(moto_server)
    with module_environment(moto_server, tmp_path_factory.mktemp("nowhere")) as env:
        standin = EksStandIn()
        seed = seed_realistic(session(), standin, roles=6, secrets=12, parameters=25)
        with standin.running(), AwsProxy(moto_server).running() as proxy:
            env.setenv("AWS_ENDPOINT_URL", proxy.url)
            env.setenv("AWS_ENDPOINT_URL_EKS", standin.url)
            account = Account(seed, proxy, standin, Collected(files={}))
            account.clean, _ = account.collect()
            assert account.clean.gaps == ()
            yield account


@pytest.fixture
def account(base: Account, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Account:
    clean_aws_environment(monkeypatch, base.proxy.url, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", base.standin.url)
    base.proxy.fault = None
    base.proxy.repage_iam = False
    base.standin.fault = None
    base.proxy.seen.clear()
    base.standin.seen.clear()
    return base


def assert_rest_as_clean(
    clean: Collected, faulty: Collected, *, missing: Collection[str] = (), changed: Collection[str] = ()
) -> None:
    """The faulty collection holds what the clean one does, but the `missing` files, and the same
    content but in the `changed` ones (which must differ)."""
    assert set(clean.files) - set(faulty.files) == set(missing)
    assert set(faulty.files) <= set(clean.files)
    for name in set(faulty.files) - set(changed):
        assert faulty.files[name] == clean.files[name], name
    for name in changed:
        assert faulty.files[name] != clean.files[name], name


# --- AccessDenied on ListSecrets in one region -----------------------------------------------------------


@pytest.mark.parametrize("layer", LAYERS)
def test_access_denied_on_list_secrets_in_one_region(account: Account, layer: str) -> None:
    clean = account.clean
    aws = session()
    if layer == "botocore":
        answer_with(
            aws,
            "secrets-manager.ListSecrets",
            lambda request: (
                json_error(400, "AccessDeniedException", DENIED)
                if request_region(request) == REGIONS[1]
                else None
            ),
        )
    else:
        account.proxy.fault = lambda r: (
            Error(400, "AccessDeniedException", DENIED)
            if r.operation == "ListSecrets" and r.region == REGIONS[1]
            else None
        )
    faulty, recorder = account.collect_with(aws)
    assert faulty.gaps == (f"secretsmanager ListSecrets ({REGIONS[1]}): AccessDeniedException: {DENIED}",)
    # nothing was listed there, so nothing is written for it: an empty list would read as "no secrets"
    assert_rest_as_clean(
        clean,
        faulty,
        missing={
            f"aws/secretsmanager-list-secrets-{REGIONS[1]}.json",
            f"aws/secretsmanager-resource-policies-{REGIONS[1]}.json",
        },
    )
    assert not recorder.of("secretsmanager:GetResourcePolicy", REGIONS[1])
    assert recorder.of("secretsmanager:GetResourcePolicy", REGIONS[0])


# --- throttling that outlasts the retries -------------------------------------------------------------------


@pytest.mark.parametrize("layer", LAYERS)
def test_throttling_that_outlasts_the_retries(account: Account, layer: str) -> None:
    clean = account.clean
    aws = session()
    if layer == "botocore":
        answer_with(
            aws,
            "iam.GetAccountAuthorizationDetails",
            lambda request: query_error(400, "Throttling", "Rate exceeded"),
        )
    else:
        account.proxy.fault = lambda r: (
            Error(400, "Throttling", "Rate exceeded")
            if r.operation == "GetAccountAuthorizationDetails"
            else None
        )
    faulty, recorder = account.collect_with(aws)
    assert faulty.gaps == ("iam GetAccountAuthorizationDetails (global): Throttling: Rate exceeded",)
    assert [s for s, _ in recorder.sends].count(
        "iam:GetAccountAuthorizationDetails"
    ) == ATTEMPTS  # retried, in vain
    assert_rest_as_clean(clean, faulty, missing={"aws/iam-authorization-details.json"})


def test_throttling_that_the_retries_outlast_is_no_gap(account: Account) -> None:
    clean = account.clean
    aws = session()
    answers = iter([query_error(400, "Throttling", "Rate exceeded")] * (ATTEMPTS - 1))
    answer_with(aws, "iam.GetAccountAuthorizationDetails", lambda request: next(answers, None))
    faulty, recorder = account.collect_with(aws)
    assert faulty.gaps == ()
    assert [s for s, _ in recorder.sends].count("iam:GetAccountAuthorizationDetails") == ATTEMPTS
    assert faulty.files == clean.files


def test_authorization_details_cut_short_after_two_pages(account: Account, tmp_path: Path) -> None:
    account.proxy.repage_iam = True  # 6 roles and 13 policies in pages of 7
    account.proxy.fault = lambda r: (
        Error(400, "Throttling", "Rate exceeded")
        if r.operation == "GetAccountAuthorizationDetails" and r.params.get("Marker") == "14"
        else None
    )
    faulty, recorder = account.collect()
    assert faulty.gaps == (
        "iam GetAccountAuthorizationDetails (global): Throttling: Rate exceeded "
        "(after 2 pages, 14 entries read: the listing is partial)",
    )
    partial = faulty.files["aws/iam-authorization-details.json"]
    assert partial["IsTruncated"] is True
    assert partial["Marker"] == "14"
    assert len(partial["RoleDetailList"]) + len(partial["Policies"]) == 14
    assert [c.params.get("Marker") for c in recorder.of("iam:GetAccountAuthorizationDetails")] == [
        None,
        "7",
        "14",
    ]
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "iam-authorization-details.json").write_text(json.dumps(partial), encoding="utf-8")
    inventory = build_aws_inventory(read_snapshot(tmp_path / "aws", InputReader()))
    assert len(inventory.gaps) == 1  # offline, the file alone says it is partial


# --- an expired token after the first page ------------------------------------------------------------------


@pytest.mark.parametrize("layer", LAYERS)
def test_expired_token_after_the_first_page_of_parameters(
    account: Account, layer: str, tmp_path: Path
) -> None:
    clean = account.clean
    aws = session()
    if layer == "botocore":
        answer_with(
            aws,
            "ssm.DescribeParameters",
            lambda request: (
                json_error(400, "ExpiredTokenException", EXPIRED)
                if "NextToken" in request_params(request)
                else None
            ),
        )
    else:
        account.proxy.fault = lambda r: (
            Error(400, "ExpiredTokenException", EXPIRED)
            if r.operation == "DescribeParameters" and "NextToken" in r.params
            else None
        )
    faulty, recorder = account.collect_with(aws)
    # moto pages parameters by 10 whatever MaxResults says
    assert faulty.gaps == (
        f"ssm DescribeParameters ({REGIONS[0]}): ExpiredTokenException: {EXPIRED} "
        "(after 1 page, 10 parameters read: the listing is partial); the credentials were rejected "
        "(invalid or expired), so nothing more was asked of AWS",
    )
    assert len(recorder.of("ssm:DescribeParameters", REGIONS[0])) == 2  # not retried
    # an expired token fails every later call alike: none is made (no other region, no key, no EKS)
    assert not [c for c in recorder.calls if c.region == REGIONS[1]]
    assert not [c for c in recorder.calls if c.service in ("kms", "eks")]
    name = f"aws/ssm-describe-parameters-{REGIONS[0]}.json"
    partial = faulty.files[name]
    assert len(partial["Parameters"]) == 10
    assert all(p in clean.files[name]["Parameters"] for p in partial["Parameters"])
    assert partial["NextToken"]  # as the CLI prints a listing it did not finish
    # what was read before is as clean; nothing after it is written
    read_before = {
        "aws/sts-get-caller-identity.json",
        "aws/iam-authorization-details.json",
        f"aws/secretsmanager-list-secrets-{REGIONS[0]}.json",
        f"aws/secretsmanager-resource-policies-{REGIONS[0]}.json",
    }
    assert set(faulty.files) == read_before | {name}
    assert_rest_as_clean(clean, faulty, missing=set(clean.files) - set(faulty.files), changed={name})
    # offline, the file alone says it is partial
    for relative, value in faulty.files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(json.dumps(value), encoding="utf-8")
    inventory = build_aws_inventory(read_snapshot(tmp_path / "aws", InputReader()))
    assert [g for g in inventory.gaps if "ssm-describe-parameters" in g]


def _differing(a: Collected, b: Collected) -> set[str]:
    return {n for n in set(a.files) & set(b.files) if a.files[n] != b.files[n]}


# --- a dropped connection for one secret ------------------------------------------------------------------

DROPS = {
    # inside botocore: the error urllib3's closed connection becomes, raised where botocore sends
    "botocore": (
        None,
        'ConnectionClosedError: Connection was closed before we received a valid response from endpoint URL: "{url}/".',
        ATTEMPTS,
    ),
    # on the wire: the connection closes before any answer (botocore retries, in vain)
    "http-closed": (
        Drop(partial=False),
        'ConnectionClosedError: Connection was closed before we received a valid response from endpoint URL: "{url}/".',
        ATTEMPTS,
    ),
    # on the wire: headers and 16 of 4096 bytes, then the connection closes. botocore itself would
    # parse the stub as an empty answer (it does not enforce Content-Length); the collector refuses it
    "http-cut": (Drop(partial=True), "IncompleteReadError: 16 read, but total bytes expected is 4096.", 1),
}


@pytest.mark.parametrize("layer", sorted(DROPS))
def test_dropped_connection_on_one_secrets_resource_policy(account: Account, layer: str) -> None:
    clean = account.clean
    region = REGIONS[0]
    listed = clean.files[f"aws/secretsmanager-list-secrets-{region}.json"]["SecretList"]
    live = [s for s in listed if not s.get("DeletedDate")]
    victim = live[2]
    drop, why, attempts = DROPS[layer]
    aws = session()
    if drop is None:
        fail_send(
            aws,
            "secrets-manager.GetResourcePolicy",
            lambda request: (
                ConnectionClosedError(endpoint_url=request.url)
                if request_params(request).get("SecretId") == victim["ARN"]
                else None
            ),
        )
    else:
        account.proxy.fault = lambda r: (
            drop if r.operation == "GetResourcePolicy" and r.params.get("SecretId") == victim["ARN"] else None
        )
    faulty, recorder = account.collect_with(aws)
    assert faulty.gaps == (
        f"secretsmanager GetResourcePolicy ({region}): {why.format(url=account.proxy.url)} "
        f"(1 of {len(live)} secrets not read: {victim['Name']})",
    )
    calls = [
        c
        for c in recorder.of("secretsmanager:GetResourcePolicy", region)
        if c.params["SecretId"] == victim["ARN"]
    ]
    assert len(calls) == 1
    sends = [s for s, r in recorder.sends if s == "secrets-manager:GetResourcePolicy" and r == region]
    assert len(sends) == len(live) - 1 + attempts
    name = f"aws/secretsmanager-resource-policies-{region}.json"
    assert [p["ARN"] for p in faulty.files[name]["ResourcePolicies"]] == [
        p["ARN"] for p in clean.files[name]["ResourcePolicies"] if p["ARN"] != victim["ARN"]
    ]
    assert_rest_as_clean(clean, faulty, changed={name})


def test_a_page_cut_short_is_not_a_last_page(account: Account) -> None:
    """The second page of ListSecrets arrives cut off: without the collector's check botocore would
    read it as an empty last page, and the listing would look complete."""
    account.proxy.fault = lambda r: (
        Drop(partial=True)
        if r.operation == "ListSecrets" and r.region == REGIONS[0] and "NextToken" in r.params
        else None
    )
    faulty, _ = account.collect()
    assert faulty.gaps == (
        f"secretsmanager ListSecrets ({REGIONS[0]}): IncompleteReadError: 16 read, but total bytes expected "
        "is 4096. (after 1 page, 7 secrets read: the listing is partial)",
    )
    partial = faulty.files[f"aws/secretsmanager-list-secrets-{REGIONS[0]}.json"]
    assert len(partial["SecretList"]) == 7
    assert partial["NextToken"]


# --- more of the same family ---------------------------------------------------------------------------------


def test_access_denied_on_every_resource_policy_is_one_line(account: Account) -> None:
    aws = session()
    answer_with(
        aws,
        "secrets-manager.GetResourcePolicy",
        lambda request: (
            json_error(400, "AccessDeniedException", "not for you")
            if request_region(request) == REGIONS[0]
            else None
        ),
    )
    faulty, _ = account.collect_with(aws)
    names = sorted(account.seed.secrets[REGIONS[0]])
    live = [n for n in names if n not in account.seed.deleted.get(REGIONS[0], [])]
    assert faulty.gaps == (
        f"secretsmanager GetResourcePolicy ({REGIONS[0]}): AccessDeniedException: not for you "
        f"({len(live)} of {len(live)} secrets not read: {', '.join(live[:5])}, …)",
    )
    assert faulty.files[f"aws/secretsmanager-resource-policies-{REGIONS[0]}.json"] == {"ResourcePolicies": []}


def test_an_expired_token_stops_a_per_secret_loop_and_the_collection(account: Account) -> None:
    aws = session()
    seen: list[str] = []

    def decide(params: dict[str, Any], region: str) -> Exception | None:
        if region != REGIONS[0]:
            return None
        seen.append(params["SecretId"])
        if len(seen) < 3:
            return None
        error = {"Error": {"Code": "ExpiredTokenException", "Message": EXPIRED}}
        return ClientError(error, "GetResourcePolicy")

    raise_in_call(aws, "secrets-manager.GetResourcePolicy", decide)
    faulty, recorder = account.collect_with(aws, workers=1)
    live = len(account.seed.secrets[REGIONS[0]]) - len(account.seed.deleted.get(REGIONS[0], []))
    assert faulty.gaps == (
        f"secretsmanager GetResourcePolicy ({REGIONS[0]}): ExpiredTokenException: {EXPIRED} "
        f"(after 2 of {live} secrets: the rest not read); the credentials were rejected (invalid or "
        "expired), so nothing more was asked of AWS",
    )
    assert len(seen) == 3  # nothing asked after the token expired
    assert (
        len(faulty.files[f"aws/secretsmanager-resource-policies-{REGIONS[0]}.json"]["ResourcePolicies"]) == 2
    )
    # not per service: no parameter, key or cluster is asked for either
    assert recorder.calls[-1].name == "secretsmanager:GetResourcePolicy"
    assert not [c for c in recorder.calls if c.service in ("ssm", "kms", "eks")]


def test_credentials_rejected_on_the_first_call_are_one_gap(account: Account) -> None:
    aws = session()
    message = "The security token included in the request is invalid."
    answer_with(
        aws,
        "sts.GetCallerIdentity",
        lambda request: query_error(
            403, "InvalidClientTokenId", message, namespace="https://sts.amazonaws.com/doc/2011-06-15/"
        ),
    )
    faulty, recorder = account.collect_with(aws)
    assert faulty.gaps == (
        f"sts GetCallerIdentity (global): InvalidClientTokenId: {message}; the credentials were "
        "rejected (invalid or expired), so nothing more was asked of AWS",
    )
    assert faulty.files == {}
    assert [c.name for c in recorder.calls] == ["sts:GetCallerIdentity"]
    assert [s for s, _ in recorder.sends] == ["sts:GetCallerIdentity"]  # not retried


def test_no_credentials_at_all_is_a_usage_error_before_any_call(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(UsageError, match=r"^no AWS credentials found \("):
        account.collect()
    assert not account.proxy.seen
    assert not account.standin.seen


def _unused_port() -> int:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_endpoint_stops_the_collection_after_two_attempts(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{_unused_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", dead)
    collected, recorder = account.collect(max_attempts=10)
    why = f'EndpointConnectionError: Could not connect to the endpoint URL: "{dead}/"'
    assert collected.gaps == (
        f"secretsmanager ListSecrets ({REGIONS[0]}): {why}; the endpoint cannot be reached, so nothing "
        "more was asked of AWS",
    )
    # tried twice, not the ten attempts throttling gets; then nothing else is asked
    assert [s for s in recorder.sends if s[0] == "secrets-manager:ListSecrets"] == [
        ("secrets-manager:ListSecrets", REGIONS[0])
    ] * CONNECTION_ATTEMPTS
    assert recorder.calls[-1].name == "secretsmanager:ListSecrets"
    assert sorted(collected.files) == [
        "aws/iam-authorization-details.json",
        "aws/sts-get-caller-identity.json",
    ]


def test_an_endpoint_that_accepts_but_never_answers_is_one_gap_within_the_timeouts(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Silent().running() as silent:
        monkeypatch.setenv("AWS_ENDPOINT_URL", silent.url)
        collected, recorder = account.collect(max_attempts=10, read_timeout=0.3, connect_timeout=0.3)
    assert collected.gaps == (
        f'sts GetCallerIdentity (global): ReadTimeoutError: Read timeout on endpoint URL: "{silent.url}/"; '
        "the endpoint does not answer (no answer within 0.3s), so nothing more was asked of AWS",
    )
    assert collected.files == {}
    assert [c.name for c in recorder.calls] == ["sts:GetCallerIdentity"]
    assert len(recorder.sends) == CONNECTION_ATTEMPTS
    assert silent.connections == CONNECTION_ATTEMPTS


def test_the_default_timeouts_are_explicit_and_bounded() -> None:
    from iamscope.collect.aws import CONNECT_TIMEOUT, READ_TIMEOUT, _Collection, _Timeouts
    from iamscope.collect.result import NoProgress

    run = _Collection(
        session(),
        progress=NoProgress(),
        page_size=None,
        max_attempts=10,
        connection_attempts=CONNECTION_ATTEMPTS,
        timeouts=_Timeouts(),
        workers=1,
    )
    assert (
        (run.config.connect_timeout, run.config.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT) == (10, 30)
    )


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (
            ConnectTimeoutError(endpoint_url="https://sts.amazonaws.com/"),
            "the endpoint cannot be reached (no connection within 0.5s)",
        ),
        (
            ReadTimeoutError(endpoint_url="https://sts.amazonaws.com/"),
            "the endpoint does not answer (no answer within 2s)",
        ),
        (
            ProxyConnectionError(proxy_url="http://proxy:3128", error="refused"),
            "the endpoint cannot be reached",
        ),
        (NoCredentialsError(), "no valid credentials could be loaded"),
        (
            ClientError({"Error": {"Code": "SignatureDoesNotMatch", "Message": "m"}}, "ListSecrets"),
            "the credentials were rejected (invalid or expired)",
        ),
    ],
)
def test_which_failures_stop_the_collection(error: Exception, why: str) -> None:
    from iamscope.collect.aws import _fault, _Timeouts

    assert _fault(error, _Timeouts(connect=0.5, read=2)).fatal == why


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "AccessDeniedException", "Message": "m"}}, "ListSecrets"),
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "m"}}, "ListSecrets"),
        ConnectionClosedError(endpoint_url="https://sts.amazonaws.com/"),
    ],
)
def test_which_failures_do_not_stop_the_collection(error: Exception) -> None:
    from iamscope.collect.aws import _fault

    assert _fault(error).fatal is None
