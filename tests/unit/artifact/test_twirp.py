"""Twirp calls to the results service: the official client's retry rules, inside our budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
import responses
from devtools.doubles.slow import SlowServer, answer
from responses.registries import OrderedRegistry

from codearts_check_logs import masking
from codearts_check_logs.artifact.twirp import ResultsClient, TwirpError, register_sas_signature
from codearts_check_logs.errors import Cancelled
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.retry import RESULTS

ORIGIN = "https://results-receiver.actions.githubusercontent.com"
TWIRP = f"{ORIGIN}/twirp/github.actions.results.api.v1.ArtifactService"


@pytest.fixture
def ordered() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def client(waits: list[float] | None = None, base_delay: float = 0.0) -> ResultsClient:
    cancel = CancelToken()
    if waits is not None:
        cancel.sleep = waits.append  # type: ignore[method-assign,assignment]
    return ResultsClient(
        ORIGIN,
        "runtime-token",
        requests.Session(),
        cancel=cancel,
        policy=replace(RESULTS, initial=base_delay),
    )


def test_retryable_statuses_then_success(ordered: responses.RequestsMock) -> None:
    for status in (503, 500, 429, 502):
        ordered.post(f"{TWIRP}/ListArtifacts", status=status, json={"code": "unavailable"})
    ordered.post(f"{TWIRP}/ListArtifacts", json={"artifacts": []})
    assert client().call("ListArtifacts", {}, Deadline(60)) == {"artifacts": []}


def test_network_errors_and_garbled_bodies_are_retried(ordered: responses.RequestsMock) -> None:
    ordered.post(f"{TWIRP}/ListArtifacts", body=requests.ConnectionError("reset by peer"))
    ordered.post(f"{TWIRP}/ListArtifacts", body="<html>proxy page</html>", status=200)
    ordered.post(f"{TWIRP}/ListArtifacts", json={"artifacts": []})
    client().call("ListArtifacts", {}, Deadline(60))


def test_gives_up_after_five_attempts(ordered: responses.RequestsMock) -> None:
    for _ in range(5):
        ordered.post(
            f"{TWIRP}/CreateArtifact", status=504, json={"code": "unavailable", "msg": "busy"}
        )
    with pytest.raises(TwirpError) as caught:
        client().call("CreateArtifact", {}, Deadline(60))
    assert "after 5 attempts" in str(caught.value)
    assert (caught.value.status, caught.value.msg) == (504, "busy")


def test_backoff_follows_the_official_schedule(ordered: responses.RequestsMock) -> None:
    for _ in range(4):
        ordered.post(f"{TWIRP}/ListArtifacts", status=503, json={})
    ordered.post(f"{TWIRP}/ListArtifacts", json={"artifacts": []})
    waits: list[float] = []
    client(waits, base_delay=3.0).call("ListArtifacts", {}, Deadline(600))
    assert waits[0] == 3.0
    for attempt, waited in enumerate(waits[1:], start=1):
        low = 3.0 * 1.5**attempt
        assert low <= waited <= low * 1.5


def test_no_retry_waits_past_the_budget(ordered: responses.RequestsMock) -> None:
    ordered.post(f"{TWIRP}/ListArtifacts", status=503, json={"code": "unavailable"})
    with pytest.raises(TwirpError, match="after 1 attempt"):
        client(base_delay=3.0).call("ListArtifacts", {}, Deadline(2.0))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_other_statuses_are_final_and_keep_the_service_fields(status: int) -> None:
    with responses.RequestsMock() as mocked:
        mocked.post(
            f"{TWIRP}/CreateArtifact",
            status=status,
            json={"code": "invalid_argument", "msg": "name is not valid here"},
        )
        with pytest.raises(TwirpError) as caught:
            client().call("CreateArtifact", {}, Deadline(60))
        assert len(mocked.calls) == 1
    assert (caught.value.status, caught.value.code) == (status, "invalid_argument")
    assert "name is not valid here" in str(caught.value)


def test_long_service_messages_are_cut() -> None:
    with responses.RequestsMock() as mocked:
        mocked.post(
            f"{TWIRP}/CreateArtifact",
            status=400,
            json={"code": "invalid_argument", "msg": "m" * 5000},
        )
        with pytest.raises(TwirpError) as caught:
            client().call("CreateArtifact", {}, Deadline(60))
    assert len(str(caught.value)) < 1000
    assert "(cut)" in str(caught.value)


@pytest.mark.parametrize("status", [403, 429])
def test_a_storage_quota_refusal_is_final(status: int) -> None:
    with responses.RequestsMock() as mocked:
        mocked.post(
            f"{TWIRP}/CreateArtifact",
            status=status,
            json={"code": "permission_denied", "msg": "insufficient usage to create artifact"},
        )
        with pytest.raises(TwirpError, match="insufficient usage"):
            client().call("CreateArtifact", {}, Deadline(60))
        assert len(mocked.calls) == 1


def test_a_cancel_ends_the_retry_wait(ordered: responses.RequestsMock) -> None:
    ordered.post(f"{TWIRP}/ListArtifacts", status=503, json={})
    cancel = CancelToken()
    made = ResultsClient(ORIGIN, "t", requests.Session(), cancel=cancel, policy=RESULTS)
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        made.call("ListArtifacts", {}, Deadline(600))
    assert time.monotonic() - started < 5


def test_an_endless_error_body_is_not_read_to_its_end() -> None:
    """Read up to the cap, then closed: five quick attempts that keep the 503, not one that
    holds the budget (and the memory) until time runs out."""
    with SlowServer(answer("body", status=503, interval=0, piece=1 << 16)) as server:
        started = time.monotonic()
        results = ResultsClient(
            server.url,
            "runtime-token",
            requests.Session(),
            cancel=CancelToken(),
            policy=replace(RESULTS, initial=0.0),
        )
        with pytest.raises(TwirpError) as caught:
            results.call("CreateArtifact", {}, Deadline(30))
        elapsed = time.monotonic() - started
    assert caught.value.status == 503
    assert "read no further" in str(caught.value)
    assert "after 5 attempts" in str(caught.value)
    assert elapsed < 10
    assert sum(server.sent) < 5 * (64 << 20)


SAS = "https://acct.blob.core.windows.net/c/b.zip?sv=2024-11-04&sr=b&sp=cw&sig=Ab%2Fc%2Bd%3D"


def test_signature_is_registered_raw_and_decoded() -> None:
    register_sas_signature(SAS)
    assert masking.redact("a Ab%2Fc%2Bd%3D b Ab/c+d= c") == "a *** b *** c"


def test_the_signed_url_in_an_answer_is_registered_as_it_arrives(
    ordered: responses.RequestsMock,
) -> None:
    ordered.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SAS})
    client().call("CreateArtifact", {}, Deadline(60))
    assert masking.redact("Ab%2Fc%2Bd%3D and Ab/c+d=") == "*** and ***"
