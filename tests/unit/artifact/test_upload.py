"""The artifact upload: request shapes (with `responses`), then the whole lifecycle against Azurite
and the results double. What the service answers is checked before it is used, and every failure
after CreateArtifact says that the name is now reserved."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from devtools.doubles.azurite import Azurite, BlobProxy
from devtools.doubles.results import (
    CONTAINER,
    EXAMPLE_JOB_ID,
    EXAMPLE_RUN_ID,
    ResultsDouble,
    local_artifact_service,
)
from devtools.doubles.slow import Kind, SlowServer, answer
from responses import matchers

from codearts_check_logs import masking
from codearts_check_logs.artifact import environment
from codearts_check_logs.artifact.upload import ArtifactService, UploadedArtifact, expiration
from codearts_check_logs.environment import RunnerEnvironment
from codearts_check_logs.errors import ArtifactUploadFailed
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.retry import BLOB, RESULTS
from tests.conftest import SampleFile
from tests.unit.artifact.test_environment import JOB_ID, ORIGIN, RUN_ID, env, token

MIB = 1024 * 1024
TWIRP = f"{ORIGIN}/twirp/github.actions.results.api.v1.ArtifactService"
SIGNED = (
    "https://productionresultssa0.blob.core.windows.net/actions-results/run/job/artifacts/x.zip"
    "?sv=2024-11-04&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=cw&sig=S3cr%2Bt%2FSig%3D"
)
SIG_VALUES = ("S3cr%2Bt%2FSig%3D", "S3cr+t/Sig=")
NAME = "codearts-check-logs-0123456789abcdef0123456789abcdef.zip"
DATA = b"PK\x03\x04 tiny zip"
CREATED = {"ok": True, "signed_upload_url": SIGNED}
RESERVED = "is now reserved for this workflow run"


def service(**overrides: str) -> ArtifactService:
    found = environment.from_env(RunnerEnvironment.read(env(**overrides)))
    assert found is not None
    return ArtifactService(
        found,
        cancel=CancelToken(),
        results_policy=replace(RESULTS, initial=0.0),
        blob_policy=replace(BLOB, initial=0.0),
    )


def upload(
    made: ArtifactService,
    path: Path,
    data: bytes = DATA,
    *,
    retention_days: int | None = None,
    overwrite: bool = False,
    name: str = NAME,
) -> UploadedArtifact:
    return made.upload(
        path,
        name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        retention_days=retention_days,
        overwrite=overwrite,
        deadline=Deadline(60),
    )


@pytest.fixture
def zip_file(tmp_path: Path) -> Path:
    path = tmp_path / NAME
    path.write_bytes(DATA)
    return path


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def body_of(call: Any) -> Any:
    return json.loads(call.request.body)


def ids_body(**fields: object) -> dict[str, object]:
    return {"workflow_run_backend_id": RUN_ID, "workflow_job_run_backend_id": JOB_ID, **fields}


def accept_blob_and_finalize(
    mocked: responses.RequestsMock, artifact_id: object = "8675309"
) -> None:
    mocked.put(re.compile(r"https://productionresultssa0\..*"), status=201)
    mocked.post(f"{TWIRP}/FinalizeArtifact", json={"ok": True, "artifact_id": artifact_id})


def methods(mocked: responses.RequestsMock) -> list[str]:
    return [str(call.request.url).split("?")[0].rsplit("/", 1)[1] for call in mocked.calls]


# --- request shapes -----------------------------------------------------------------------------


def test_small_upload_is_create_one_put_blob_then_finalize(
    mocked: responses.RequestsMock, zip_file: Path
) -> None:
    digest = hashlib.sha256(DATA).hexdigest()
    mocked.post(
        f"{TWIRP}/CreateArtifact",
        json=CREATED,
        match=[
            matchers.header_matcher(
                {"Authorization": f"Bearer {token()}", "Content-Type": "application/json"}
            ),
            matchers.json_params_matcher(
                ids_body(name=NAME, version=7, mime_type="application/zip"), strict_match=True
            ),
        ],
    )
    mocked.put(
        SIGNED,
        status=201,
        match=[
            matchers.header_matcher(
                {"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "application/zip"}
            ),
            matchers.query_param_matcher(
                {"sv": "2024-11-04", "se": "2030-01-01T00:00:00Z", "sr": "b", "sp": "cw"}
                | {"sig": "S3cr+t/Sig="}
            ),
        ],
    )
    mocked.post(
        f"{TWIRP}/FinalizeArtifact",
        json={"ok": True, "artifact_id": "8675309"},
        match=[
            matchers.json_params_matcher(
                ids_body(name=NAME, size=str(len(DATA)), hash=f"sha256:{digest}"),
                strict_match=True,
            )
        ],
    )
    result = upload(service(), zip_file)
    assert result.artifact_id == "8675309"
    assert result.url == "https://github.com/octo-org/octo-repo/actions/runs/42/artifacts/8675309"
    assert mocked.calls[0].request.url == f"{TWIRP}/CreateArtifact"
    sent: Any = mocked.calls[1].request.body
    assert (sent.read() if hasattr(sent, "read") else sent) == DATA


def test_retention_days_become_expires_at(mocked: responses.RequestsMock, zip_file: Path) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    accept_blob_and_finalize(mocked)
    before = datetime.now(UTC)
    upload(service(), zip_file, retention_days=7)
    sent = body_of(mocked.calls[0])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", sent["expires_at"])
    expires = datetime.fromisoformat(sent["expires_at"].replace("Z", "+00:00"))
    # Milliseconds are kept, microseconds dropped, as protobuf's JSON Timestamp from a JS Date.
    assert timedelta(days=7, milliseconds=-1) <= expires - before < timedelta(days=7, minutes=1)


def test_retention_is_capped_by_the_repository_maximum(
    mocked: responses.RequestsMock, zip_file: Path
) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    accept_blob_and_finalize(mocked)
    upload(service(GITHUB_RETENTION_DAYS="3"), zip_file, retention_days=30)
    expires = datetime.fromisoformat(body_of(mocked.calls[0])["expires_at"].replace("Z", "+00:00"))
    assert expires - datetime.now(UTC) < timedelta(days=3, minutes=1)


def test_expiration_format_matches_protobuf_json() -> None:
    now = datetime(2026, 2, 26, 10, 0, 0, 123456, tzinfo=UTC)
    assert expiration(1, None, now) == "2026-02-27T10:00:00.123Z"
    assert expiration(90, 30, now.replace(microsecond=0)) == "2026-03-28T10:00:00Z"


def test_overwrite_lists_then_deletes_the_listed_artifact(
    mocked: responses.RequestsMock, zip_file: Path
) -> None:
    listed = {
        "workflow_run_backend_id": RUN_ID,
        "workflow_job_run_backend_id": "other-job",
        "database_id": "77",
        "name": NAME,
        "size": "10",
    }
    mocked.post(
        f"{TWIRP}/ListArtifacts",
        json={"artifacts": [listed, {**listed, "database_id": "5"}]},
        match=[matchers.json_params_matcher(ids_body(name_filter=NAME), strict_match=True)],
    )
    mocked.post(
        f"{TWIRP}/DeleteArtifact",
        json={"ok": True, "artifact_id": "77"},
        match=[
            matchers.json_params_matcher(
                {
                    "workflow_run_backend_id": RUN_ID,
                    "workflow_job_run_backend_id": "other-job",
                    "name": NAME,
                },
                strict_match=True,
            )
        ],
    )
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    accept_blob_and_finalize(mocked)
    upload(service(), zip_file, overwrite=True)
    assert methods(mocked) == [
        "ListArtifacts",
        "DeleteArtifact",
        "CreateArtifact",
        "x.zip",
        "FinalizeArtifact",
    ]


def test_overwrite_with_nothing_to_delete(mocked: responses.RequestsMock, zip_file: Path) -> None:
    mocked.post(f"{TWIRP}/ListArtifacts", json={})
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    accept_blob_and_finalize(mocked)
    upload(service(), zip_file, overwrite=True)


def test_overwrite_ignores_an_artifact_already_gone(
    mocked: responses.RequestsMock, zip_file: Path
) -> None:
    mocked.post(f"{TWIRP}/ListArtifacts", json={"artifacts": [{"name": NAME, "database_id": "1"}]})
    mocked.post(f"{TWIRP}/DeleteArtifact", status=404, json={"code": "not_found", "msg": "gone"})
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    accept_blob_and_finalize(mocked)
    upload(service(), zip_file, overwrite=True)


# --- refusals and unusable answers ----------------------------------------------------------------


def failure_of(zip_file: Path, **options: Any) -> ArtifactUploadFailed:
    with pytest.raises(ArtifactUploadFailed) as caught:
        upload(service(), zip_file, **options)
    return caught.value


def test_a_conflict_names_the_artifact_and_how_to_fix_it(
    mocked: responses.RequestsMock, zip_file: Path
) -> None:
    mocked.post(
        f"{TWIRP}/CreateArtifact",
        status=409,
        json={"code": "already_exists", "msg": "an artifact with this name already exists"},
    )
    error = failure_of(zip_file)
    assert NAME in error.message
    assert "overwrite: true" in error.message
    assert "artifact-name" in error.message
    assert "${{ github.run_attempt }}" in error.message
    assert RESERVED not in error.message, "the refused create reserved nothing"
    assert error.http_status == 409


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_refused_create_shows_the_service_msg(
    mocked: responses.RequestsMock, zip_file: Path, status: int
) -> None:
    mocked.post(
        f"{TWIRP}/CreateArtifact", status=status, json={"code": "invalid_argument", "msg": "nope"}
    )
    error = failure_of(zip_file)
    assert "nope" in error.message
    assert NAME in error.message
    assert error.http_status == status


@pytest.mark.parametrize("status", [403, 429])
def test_storage_quota_is_explained_at_once(
    mocked: responses.RequestsMock, zip_file: Path, status: int
) -> None:
    mocked.post(
        f"{TWIRP}/CreateArtifact",
        status=status,
        json={"code": "permission_denied", "msg": "insufficient usage to create artifact"},
    )
    assert "storage quota" in failure_of(zip_file).message
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"ok": False},
        {"ok": True},
        {"signed_upload_url": SIGNED},
        {"ok": True, "signed_upload_url": "http://blob.example.com/x?sig=abc"},
        {"ok": True, "signed_upload_url": "ftp://blob.example.com/x"},
        {"ok": True, "signed_upload_url": 7},
    ],
)
def test_an_unusable_create_answer_sends_nothing_and_reserves_the_name(
    mocked: responses.RequestsMock, zip_file: Path, answer: object
) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=answer)
    error = failure_of(zip_file)
    assert "CreateArtifact" in error.message
    assert RESERVED in error.message
    assert methods(mocked) == ["CreateArtifact"], "nothing went to blob storage"


def test_a_loopback_http_upload_url_is_accepted(
    mocked: responses.RequestsMock, zip_file: Path
) -> None:
    local = "http://127.0.0.1:10000/devstoreaccount1/c/x.zip?sig=abc"
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": local})
    mocked.put(local, status=201)
    mocked.post(f"{TWIRP}/FinalizeArtifact", json={"ok": True, "artifact_id": "1"})
    assert upload(service(), zip_file).artifact_id == "1"


@pytest.mark.parametrize("artifact_id", [None, "", "abc", "12a", "-1", True, 1.5, "1" * 25])
def test_finalize_must_answer_ok_and_a_decimal_id(
    mocked: responses.RequestsMock, zip_file: Path, artifact_id: object
) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    accept_blob_and_finalize(mocked, artifact_id)
    error = failure_of(zip_file)
    assert "FinalizeArtifact" in error.message
    assert RESERVED in error.message


def test_an_integer_id_is_accepted(mocked: responses.RequestsMock, zip_file: Path) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    accept_blob_and_finalize(mocked, 8675309)
    assert upload(service(), zip_file).artifact_id == "8675309"


def test_a_blob_failure_names_the_artifact_hides_the_signature_and_reserves_the_name(
    mocked: responses.RequestsMock, zip_file: Path
) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    mocked.put(
        re.compile(r"https://productionresultssa0\..*"),
        body=requests.ConnectionError(f"Max retries exceeded with url: {SIGNED}"),
    )
    error = failure_of(zip_file)
    assert NAME in error.message
    assert RESERVED in error.message
    assert "${{ github.run_attempt }}" in error.message
    for sig in SIG_VALUES:
        assert sig not in str(error)
        assert masking.redact(f"x {sig} y") == f"x {masking.REPLACEMENT} y"
    assert "FinalizeArtifact" not in methods(mocked)


def test_azure_error_codes_are_shown(mocked: responses.RequestsMock, zip_file: Path) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    mocked.put(SIGNED, status=403, body="<Error><Code>AuthenticationFailed</Code></Error>")
    error = failure_of(zip_file)
    assert "AuthenticationFailed" in error.message
    assert error.http_status == 403


def test_an_unreadable_file_is_an_upload_failure(
    mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=CREATED)
    error = failure_of(tmp_path / "gone.zip")
    assert "cannot read gone.zip" in error.message


# --- servers that never finish an answer: the upload's one budget ends them ---------------------

SLACK = 1.0
"""Seconds the budget may be overrun in process: timer threads on a loaded two-core machine."""


def upload_within(made: ArtifactService, path: Path, budget: float) -> ArtifactUploadFailed:
    with pytest.raises(ArtifactUploadFailed) as caught:
        made.upload(
            path,
            NAME,
            size=len(DATA),
            sha256=hashlib.sha256(DATA).hexdigest(),
            retention_days=None,
            overwrite=False,
            deadline=Deadline(budget),
        )
    return caught.value


@pytest.mark.parametrize("kind", ["status", "headers", "chunk-size", "body"])
def test_a_results_service_that_never_finishes_ends_with_the_budget(
    zip_file: Path, kind: Kind
) -> None:
    with SlowServer(answer(kind)) as slow:
        made = service(ACTIONS_RESULTS_URL=slow.url + "/")
        started = time.monotonic()
        error = upload_within(made, zip_file, 1.0)
        elapsed = time.monotonic() - started
    assert elapsed < 1.0 + SLACK
    assert "did not finish within timeout-seconds (1 s)" in error.message
    assert "CreateArtifact" in error.message
    assert RESERVED not in error.message


@pytest.mark.parametrize("kind", ["status", "headers", "chunk-size", "body"])
def test_blob_storage_that_never_finishes_ends_with_the_budget(zip_file: Path, kind: Kind) -> None:
    """A Put Blob whose status line was cut by the budget's end is a failed Put Blob; it used
    to be taken for a 201 without headers, and the upload went on to FinalizeArtifact."""
    with SlowServer(answer(kind, status=201)) as blob:
        created = json.dumps({"ok": True, "signed_upload_url": f"{blob.url}/c/b.zip?sig=x"})
        with SlowServer(answer("reply", body=created.encode())) as results:
            made = service(ACTIONS_RESULTS_URL=results.url + "/")
            started = time.monotonic()
            error = upload_within(made, zip_file, 1.0)
            elapsed = time.monotonic() - started
    assert elapsed < 1.0 + SLACK
    assert "did not finish within timeout-seconds (1 s)" in error.message
    assert "to blob storage failed" in error.message
    assert RESERVED in error.message
    called = [line.split(" ")[1].rsplit("/", 1)[-1] for line in results.request_lines]
    assert called == ["CreateArtifact"], "no FinalizeArtifact after a Put Blob cut short"


# --- the whole upload against Azurite and the results double -----------------------------------


def twirp_methods(double: ResultsDouble) -> list[str]:
    return [request.twirp_method for request in double.calls()]


def send(made: ArtifactService, sample: SampleFile, **options: Any) -> UploadedArtifact:
    return upload(made, sample.path, sample.data, **options)


@pytest.mark.azurite
def test_small_file_is_one_put_blob(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    azurite: Azurite,
) -> None:
    sample = sample_file(200_000)
    result = send(make_service(), sample)
    (stored,) = results_double.finalized(NAME)
    assert result.artifact_id == str(stored.id)
    assert result.url.endswith(f"/actions/runs/4242/artifacts/{stored.id}")
    assert [(r.method, r.query.get("comp")) for r in blob_proxy.requests] == [("PUT", None)]
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == sample.data
    assert (state.blob_type, state.content_type) == ("BlockBlob", "application/zip")
    assert twirp_methods(results_double) == ["CreateArtifact", "FinalizeArtifact"]


@pytest.mark.azurite
def test_large_file_goes_in_blocks(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    azurite: Azurite,
) -> None:
    sample = sample_file(5 * MIB + 4321)
    send(make_service(block_size=MIB), sample)
    (stored,) = results_double.finalized(NAME)
    operations = [r.query.get("comp") for r in blob_proxy.requests]
    assert operations.count("block") == 6
    assert operations[-1] == "blocklist"
    assert blob_proxy.requests[-1].headers["x-ms-blob-content-type"] == "application/zip"
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == sample.data
    assert state.committed_blocks == [MIB] * 5 + [4321]
    assert stored.size == sample.size
    assert stored.digest == f"sha256:{sample.sha256}"


@pytest.mark.azurite
def test_retention_days_reach_the_service(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
) -> None:
    send(make_service(), sample_file(1000), retention_days=5)
    (create,) = results_double.calls("CreateArtifact")
    expires = datetime.fromisoformat(create.body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=4, hours=23) < expires - datetime.now(UTC) <= timedelta(days=5)


@pytest.mark.azurite
def test_overwrite_deletes_then_creates(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    azurite: Azurite,
) -> None:
    old = results_double.seed(NAME, b"old content", run_id=EXAMPLE_RUN_ID, job_id="earlier-job")
    send(make_service(), sample_file(3000), overwrite=True)
    assert twirp_methods(results_double) == [
        "ListArtifacts",
        "DeleteArtifact",
        "CreateArtifact",
        "FinalizeArtifact",
    ]
    assert results_double.calls("DeleteArtifact")[0].body["workflow_job_run_backend_id"] == (
        "earlier-job"
    )
    (current,) = results_double.finalized(NAME)
    assert current.id != old.id
    assert azurite.read_blob(CONTAINER, old.blob) is None


@pytest.mark.azurite
def test_existing_name_without_overwrite_is_a_clear_failure(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
) -> None:
    results_double.seed(NAME, b"first attempt", run_id=EXAMPLE_RUN_ID, job_id=EXAMPLE_JOB_ID)
    with pytest.raises(ArtifactUploadFailed) as caught:
        send(make_service(), sample_file(100))
    assert "overwrite: true" in caught.value.message
    assert NAME in caught.value.message
    assert twirp_methods(results_double) == ["CreateArtifact"]


@pytest.mark.azurite
@pytest.mark.parametrize("method", ["CreateArtifact", "FinalizeArtifact"])
def test_results_service_503_then_ok(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    method: str,
) -> None:
    results_double.fail(method, 503, times=2)
    send(make_service(), sample_file(1000))
    assert [r.status for r in results_double.calls(method)] == [503, 503, 200]
    assert len(results_double.finalized(NAME)) == 1


@pytest.mark.azurite
@pytest.mark.parametrize(("size", "operation"), [(1000, "blob"), (3 * MIB, "block")])
def test_blob_500_then_ok(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    azurite: Azurite,
    size: int,
    operation: str,
) -> None:
    blob_proxy.fail(500, operation=operation)
    blob_proxy.fail(500, operation="blocklist")
    sample = sample_file(size)
    send(make_service(), sample)
    assert 500 in [r.status for r in blob_proxy.requests]
    (stored,) = results_double.finalized(NAME)
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == sample.data


@pytest.mark.azurite
def test_blob_connection_reset_is_retried(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
) -> None:
    blob_proxy.fail(reset=True, operation="block")
    send(make_service(), sample_file(2 * MIB + 1))
    assert len(results_double.finalized(NAME)) == 1


@pytest.mark.azurite
@pytest.mark.parametrize("size", [1000, 3 * MIB])
def test_blob_failure_leaves_no_finalized_artifact(
    make_service: Callable[..., ArtifactService],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    size: int,
) -> None:
    blob_proxy.fail(500, times=100)
    with pytest.raises(ArtifactUploadFailed) as caught:
        send(make_service(), sample_file(size))
    assert "HTTP 500" in caught.value.message
    assert NAME in caught.value.message
    assert "sig=" not in caught.value.message
    assert results_double.calls("FinalizeArtifact") == []
    assert results_double.finalized() == []


@pytest.mark.azurite
def test_local_artifact_service_for_the_demo(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(DATA)
    with local_artifact_service() as (double, variables):
        found = environment.from_env(RunnerEnvironment.read(variables))
        assert found is not None
        result = upload(ArtifactService(found, cancel=CancelToken()), path)
        assert double.finalized(NAME)[0].id == int(result.artifact_id)
        assert result.url == ""  # no GITHUB_REPOSITORY/GITHUB_RUN_ID given
