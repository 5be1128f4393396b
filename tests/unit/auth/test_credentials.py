"""Credentials as request hooks: attached on their own origin only, hidden from reprs."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from devtools.doubles.account import Account, GatewayError, Principal

from codearts_check_logs import masking
from codearts_check_logs.auth.credentials import (
    MAX_OBTAINED,
    PROJECT_HEADER,
    RENEW_MARGIN_SECONDS,
    SECURITY_TOKEN_HEADER,
    TOKEN_HEADER,
    AccessKeys,
    SignedCredentials,
    StaticKeys,
    TemporaryKeys,
    TokenCredentials,
)
from codearts_check_logs.auth.sdk_hmac import parse_target
from codearts_check_logs.errors import AuthFailed, Cancelled

TOKEN = "MIIEtoken-value-0123456789"
BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"


def prepared(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url, auth=TokenCredentials(TOKEN, BASE)).prepare()


def test_the_token_goes_to_its_origin() -> None:
    assert prepared(f"{BASE}/v1/log-file?sub_job_id=x").headers[TOKEN_HEADER] == TOKEN
    assert prepared(f"{BASE}:443/other").headers[TOKEN_HEADER] == TOKEN


def test_no_token_for_another_origin() -> None:
    for url in (
        "https://obs.example.com/x.zip",
        "http://codearts-check.cn-north-4.myhuaweicloud.com/x",
        f"{BASE}:8443/x",
    ):
        assert TOKEN_HEADER not in prepared(url).headers


def test_the_token_is_a_secret_and_not_in_the_repr() -> None:
    credentials = TokenCredentials(TOKEN, BASE)
    assert TOKEN not in repr(credentials)
    assert masking.redact(f"echo {TOKEN}") == "echo ***"


# -- signed requests -------------------------------------------------------------------------------

AK = "HPUAEXAMPLEACCESSKEY"
SK = "exampleSecretKey0123456789abcdefghijklmn"
NOW = 1_800_000_000.0


def gateway(account: Account, request: requests.PreparedRequest) -> Principal | GatewayError:
    """What the API gateway double makes of a prepared request (with the `Host` that urllib3
    adds when it sends it)."""
    assert request.url is not None
    parts = urlsplit(request.url)
    headers = {k: v if isinstance(v, str) else v.decode() for k, v in request.headers.items()}
    headers["Host"] = parse_target(request.url).host
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return account.authenticate(request.method or "", parts.path, parts.query, headers, body)


def signed(
    url: str, credentials: requests.auth.AuthBase, **kwargs: Any
) -> requests.PreparedRequest:
    return requests.Request("GET", url, auth=credentials, **kwargs).prepare()


def test_signed_requests_pass_the_gateway() -> None:
    account = Account(clock=lambda: NOW)
    key = account.add_access_key("ci-bot")
    project = account.add_project("cn-north-4")
    credentials = SignedCredentials(
        BASE, StaticKeys(AccessKeys(key.access, key.secret)), project_id=project, clock=lambda: NOW
    )
    request = signed(f"{BASE}/v1/log-file?sub_job_id=x y", credentials)

    verdict = gateway(account, request)
    assert isinstance(verdict, Principal)
    assert (verdict.method, verdict.project_id) == ("aksk", project)
    assert "x-project-id" in request.headers["Authorization"]


def test_temporary_keys_send_and_sign_the_security_token() -> None:
    account = Account(clock=lambda: NOW)
    key = account.issue_temporary("ci-bot", duration=3600, origin="sts")
    assert key.security_token is not None
    keys = AccessKeys(key.access, key.secret, key.security_token)
    request = signed(f"{BASE}/x", SignedCredentials(BASE, StaticKeys(keys), clock=lambda: NOW))

    assert request.headers[SECURITY_TOKEN_HEADER] == key.security_token
    assert "x-security-token" in request.headers["Authorization"]
    assert PROJECT_HEADER not in request.headers
    verdict = gateway(account, request)
    assert isinstance(verdict, Principal)
    assert verdict.method == "temporary-aksk"


def test_nothing_signed_for_another_origin() -> None:
    keys = StaticKeys(AccessKeys(AK, SK, "security-token-0123456789"))
    credentials = SignedCredentials(BASE, keys, project_id="p" * 32)
    for url in ("https://obs.example.com/x.zip", f"{BASE}:8443/x"):
        request = signed(url, credentials)
        for header in ("Authorization", SECURITY_TOKEN_HEADER, PROJECT_HEADER, "X-Sdk-Date"):
            assert header not in request.headers


def test_signing_keeps_no_verdict_of_its_own() -> None:
    """Whether a refused credential may be tried again is the run's `CredentialGate`'s call, for
    tokens and signatures alike: the hook signs every request for its origin."""
    credentials = SignedCredentials(BASE, StaticKeys(AccessKeys(AK, SK)))
    first = signed(f"{BASE}/x", credentials)
    assert "response" not in first.hooks or not first.hooks["response"]
    assert "Authorization" in signed(f"{BASE}/x", credentials).headers


def test_keys_are_not_in_reprs() -> None:
    """Masked where they entered the process (the entry point, `keys_from`), not again here."""
    keys = AccessKeys(AK, SK, "security-token-0123456789", expires_at=NOW)
    credentials = SignedCredentials(BASE, StaticKeys(keys), project_id="p" * 32)
    for thing in (keys, StaticKeys(keys), credentials, TemporaryKeys(lambda: keys)):
        for secret in (AK, SK, "security-token-0123456789"):
            assert secret not in repr(thing)


# -- temporary keys: obtained once, renewed once ------------------------------------------------


class Counter:
    def __init__(self, clock: list[float], lifetime: float = 3600, pause: float = 0.0) -> None:
        self.clock = clock
        self.pause = pause
        self.lifetime = lifetime
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> AccessKeys:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.pause:
            time.sleep(self.pause)  # long enough for other threads to pile up behind the lock
        return AccessKeys(
            f"AK{n:018d}", f"SK{n:038d}", f"ST{n:030d}", self.clock[0] + self.lifetime
        )


def test_temporary_keys_are_obtained_once_and_renewed_before_they_expire() -> None:
    now = [NOW]
    obtain = Counter(now, pause=0.05)
    keys = TemporaryKeys(obtain, clock=lambda: now[0])
    first = keys.current()
    assert keys.current() is first
    now[0] += 3600 - RENEW_MARGIN_SECONDS - 1  # still outside the margin
    assert keys.current() is first
    assert obtain.calls == 1

    now[0] += 2  # within the margin: renewed, once, however many sub-jobs ask at that moment
    results: list[AccessKeys] = []
    threads = [threading.Thread(target=lambda: results.append(keys.current())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert obtain.calls == 2
    assert {r.access_key for r in results} == {"AK" + "2".zfill(18)}
    assert keys.obtained == 2


def test_keys_shorter_lived_than_the_margin_are_used_while_valid() -> None:
    """200 s to live, inside the 5-minute margin: renewed halfway, not before every request."""
    now = [NOW]
    obtain = Counter(now, lifetime=200)
    keys = TemporaryKeys(obtain, clock=lambda: now[0])
    first = keys.current()
    for _ in range(20):
        assert keys.current() is first
    now[0] += 99
    assert keys.current() is first
    now[0] += 2
    assert keys.current() is not first
    assert obtain.calls == 2


@pytest.mark.parametrize("lifetime", [0, 30, 200, 3600])
def test_renewals_are_bounded_whatever_the_requests_and_the_time(lifetime: float) -> None:
    """However often keys are asked for and however short they live, a run obtains them a
    handful of times at most; past that the last keys are used and the service judges them."""
    now = [NOW]
    obtain = Counter(now, lifetime=lifetime)
    keys = TemporaryKeys(obtain, clock=lambda: now[0])
    for _ in range(400):
        keys.current()
        now[0] += 25
    assert obtain.calls == keys.obtained <= MAX_OBTAINED
    assert MAX_OBTAINED <= 5


def test_a_refused_renewal_is_asked_once_and_reported_to_every_caller() -> None:
    now = [NOW]
    calls: list[int] = []

    def obtain() -> AccessKeys:
        calls.append(1)
        if len(calls) > 1:
            raise AuthFailed("refused", service="STS", step="AssumeAgencyWithOIDC")
        return AccessKeys(AK, SK, "security-token-0123456789", now[0] + 3600)

    keys = TemporaryKeys(obtain, clock=lambda: now[0])
    keys.current()
    now[0] += 3600
    for _ in range(3):
        with pytest.raises(AuthFailed, match="refused"):
            keys.current()
    assert len(calls) == 2


def test_a_cancel_during_renewal_is_not_remembered_as_a_refusal() -> None:
    outcomes: list[AccessKeys | Exception] = [
        Cancelled("the job was cancelled"),
        AccessKeys(AK, SK, "security-token-0123456789", NOW + 3600),
    ]

    def obtain() -> AccessKeys:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    keys = TemporaryKeys(obtain, clock=lambda: NOW)
    with pytest.raises(Cancelled):
        keys.current()
    assert keys.current().access_key == AK
