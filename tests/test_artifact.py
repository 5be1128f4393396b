"""The artifact client: Twirp request shapes, retries and error messages (mocked HTTP), then the
whole upload against Azurite and the results double."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
import responses
from devtools.azurite import Azurite, BlobProxy
from devtools.results_double import (
    CONTAINER,
    EXAMPLE_JOB_ID,
    EXAMPLE_RUN_ID,
    ResultsDouble,
    make_runtime_token,
)
from responses import matchers
from responses.registries import OrderedRegistry

from codearts_check_logs import artifact as artifact_module
from codearts_check_logs import secrets
from codearts_check_logs.artifact import (
    ArtifactUploader,
    BackendIds,
    ResultsClient,
    UploadedArtifact,
    backend_ids_from_token,
    expiration,
    invalid_name_reason,
)
from codearts_check_logs.errors import ArtifactUploadFailed

if TYPE_CHECKING:
    from tests.fixtures_artifact import SampleFile

pytest_plugins = ["tests.fixtures_artifact"]

RUN_ID, JOB_ID, MIB = EXAMPLE_RUN_ID, EXAMPLE_JOB_ID, 1024 * 1024

ORIGIN = "https://results-receiver.actions.githubusercontent.com"
TWIRP = f"{ORIGIN}/twirp/github.actions.results.api.v1.ArtifactService"
SIGNED = (
    "https://productionresultssa0.blob.core.windows.net/actions-results/run/job/artifacts/x.zip"
    "?sv=2024-11-04&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=cw&sig=S3cr%2Bt%2FSig%3D"
)
SIG_VALUES = ("S3cr%2Bt%2FSig%3D", "S3cr+t/Sig=")
NAME = "codearts-check-logs-0123456789abcdef0123456789abcdef.zip"


def token(scp: object = f"Actions.GenericRead:1 Actions.Results:{RUN_ID}:{JOB_ID}") -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'scp': scp} if scp is not None else {})}.sig"


def env(**overrides: str) -> dict[str, str]:
    base = {
        "ACTIONS_RUNTIME_TOKEN": token(),
        "ACTIONS_RESULTS_URL": f"{ORIGIN}/",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_RUN_ID": "42",
    }
    return {**base, **overrides}


def uploader(**overrides: str) -> ArtifactUploader:
    made = ArtifactUploader.from_env(env(**overrides), retry_base_delay=0.0, block_size=1024)
    assert made is not None
    return made


def upload(
    made: ArtifactUploader,
    sample: SampleFile,
    *,
    name: str = NAME,
    retention_days: int | None = None,
    overwrite: bool = False,
) -> UploadedArtifact:
    """Upload a sample file the way the run does, with its true size and hash."""
    return made.upload_file(
        sample.path,
        name,
        size=sample.size,
        sha256=sample.sha256,
        retention_days=retention_days,
        overwrite=overwrite,
    )


def body_of(call: Any) -> Any:
    return json.loads(call.request.body)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def ordered() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def ids_body(**fields: object) -> dict[str, object]:
    return {"workflow_run_backend_id": RUN_ID, "workflow_job_run_backend_id": JOB_ID, **fields}


# --- environment and identity -----------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_runtime_token_means_no_upload(value: str | None) -> None:
    environment = env()
    del environment["ACTIONS_RUNTIME_TOKEN"]
    if value is not None:
        environment["ACTIONS_RUNTIME_TOKEN"] = value
    assert ArtifactUploader.from_env(environment) is None


@pytest.mark.parametrize(
    "bad_token",
    [
        "not-a-jwt",
        "a.!!!.c",
        token(scp=None),
        token(scp=["Actions.Results:1:2"]),
        token(scp="Actions.GenericRead:1"),
        token(scp="Actions.Results:only-run"),
        token(scp="Actions.Results:run:job:extra"),
        token(scp="Actions.Results::job"),
    ],
)
def test_unusable_token_is_explained(bad_token: str) -> None:
    with pytest.raises(ArtifactUploadFailed, match=r"Actions\.Results scope"):
        ArtifactUploader.from_env(env(ACTIONS_RUNTIME_TOKEN=bad_token))


def test_backend_ids_come_from_the_results_scope() -> None:
    assert backend_ids_from_token(token()) == BackendIds(RUN_ID, JOB_ID)


def test_missing_results_url_is_explained() -> None:
    environment = env()
    del environment["ACTIONS_RESULTS_URL"]
    with pytest.raises(ArtifactUploadFailed, match="ACTIONS_RESULTS_URL"):
        ArtifactUploader.from_env(environment)


@pytest.mark.parametrize(
    ("server", "refused"),
    [
        ("https://github.com", False),
        ("https://octo.ghe.com", False),
        ("http://github.localhost", False),
        ("https://github.example.com", True),
    ],
)
def test_github_enterprise_server_is_refused(server: str, refused: bool) -> None:
    if refused:
        with pytest.raises(ArtifactUploadFailed, match="Enterprise Server"):
            ArtifactUploader.from_env(env(GITHUB_SERVER_URL=server))
    else:
        assert ArtifactUploader.from_env(env(GITHUB_SERVER_URL=server)) is not None


def test_only_the_origin_of_the_results_url_is_used(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    made = uploader(ACTIONS_RESULTS_URL=f"{ORIGIN}/some/base/path/?x=1")
    made.start(NAME, retention_days=None, overwrite=False).abort()
    assert mocked.calls[0].request.url == f"{TWIRP}/CreateArtifact"


def test_runtime_token_is_registered_as_secret() -> None:
    uploader()
    assert secrets.redact(token()) == secrets.REPLACEMENT


# --- request shapes ---------------------------------------------------------------------------


def test_create_request_shape(mocked: responses.RequestsMock) -> None:
    mocked.post(
        f"{TWIRP}/CreateArtifact",
        json={"ok": True, "signed_upload_url": SIGNED},
        match=[
            matchers.header_matcher(
                {"Authorization": f"Bearer {token()}", "Content-Type": "application/json"}
            ),
            matchers.json_params_matcher(
                ids_body(name=NAME, version=7, mime_type="application/zip"), strict_match=True
            ),
        ],
    )
    uploader().start(NAME, retention_days=None, overwrite=False).abort()


def test_retention_days_become_expires_at(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    before = datetime.now(UTC)
    uploader().start(NAME, retention_days=7, overwrite=False).abort()
    sent = body_of(mocked.calls[0])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", sent["expires_at"])
    expires = datetime.fromisoformat(sent["expires_at"].replace("Z", "+00:00"))
    # Milliseconds are kept, microseconds dropped, as protobuf's JSON Timestamp from a JS Date.
    assert timedelta(days=7, milliseconds=-1) <= expires - before < timedelta(days=7, minutes=1)


def test_retention_is_capped_by_the_repository_maximum(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    uploader(GITHUB_RETENTION_DAYS="3").start(NAME, retention_days=30, overwrite=False).abort()
    expires = datetime.fromisoformat(body_of(mocked.calls[0])["expires_at"].replace("Z", "+00:00"))
    assert expires - datetime.now(UTC) < timedelta(days=3, minutes=1)


def test_expiration_format_matches_protobuf_json() -> None:
    now = datetime(2026, 2, 26, 10, 0, 0, 123456, tzinfo=UTC)
    assert expiration(1, None, now) == "2026-02-27T10:00:00.123Z"
    assert expiration(90, 30, now.replace(microsecond=0)) == "2026-03-28T10:00:00Z"


def test_small_upload_is_one_put_blob_then_finalize(mocked: responses.RequestsMock) -> None:
    data = b"PK\x03\x04 tiny zip"
    digest = hashlib.sha256(data).hexdigest()
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
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
                ids_body(name=NAME, size=str(len(data)), hash=f"sha256:{digest}"),
                strict_match=True,
            )
        ],
    )
    upload = uploader().start(NAME, retention_days=None, overwrite=False)
    upload.write(data)
    result = upload.finish(len(data), digest)
    assert result.artifact_id == "8675309"
    assert result.url == "https://github.com/octo-org/octo-repo/actions/runs/42/artifacts/8675309"
    assert mocked.calls[1].request.body == data


def test_overwrite_lists_then_deletes_the_listed_artifact(mocked: responses.RequestsMock) -> None:
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
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    uploader().start(NAME, retention_days=None, overwrite=True).abort()
    assert [str(call.request.url).rsplit("/", 1)[1] for call in mocked.calls] == [
        "ListArtifacts",
        "DeleteArtifact",
        "CreateArtifact",
    ]


def test_overwrite_with_nothing_to_delete(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TWIRP}/ListArtifacts", json={})
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    uploader().start(NAME, retention_days=None, overwrite=True).abort()


def test_overwrite_ignores_an_artifact_already_gone(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TWIRP}/ListArtifacts", json={"artifacts": [{"name": NAME, "database_id": "1"}]})
    mocked.post(f"{TWIRP}/DeleteArtifact", status=404, json={"code": "not_found", "msg": "gone"})
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    uploader().start(NAME, retention_days=None, overwrite=True).abort()


# --- retries and errors -----------------------------------------------------------------------


def test_retryable_statuses_then_success(ordered: responses.RequestsMock) -> None:
    for status in (503, 500, 429, 502):
        ordered.post(f"{TWIRP}/CreateArtifact", status=status, json={"code": "unavailable"})
    ordered.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    uploader().start(NAME, retention_days=None, overwrite=False).abort()
    assert len(ordered.calls) == 5


def test_network_errors_are_retried(ordered: responses.RequestsMock) -> None:
    ordered.post(f"{TWIRP}/CreateArtifact", body=requests.ConnectionError("reset by peer"))
    ordered.post(f"{TWIRP}/CreateArtifact", body="<html>proxy page</html>", status=200)
    ordered.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    uploader().start(NAME, retention_days=None, overwrite=False).abort()


def test_gives_up_after_five_attempts(ordered: responses.RequestsMock) -> None:
    for _ in range(5):
        ordered.post(
            f"{TWIRP}/CreateArtifact", status=504, json={"code": "unavailable", "msg": "busy"}
        )
    with pytest.raises(ArtifactUploadFailed) as caught:
        uploader().start(NAME, retention_days=None, overwrite=False)
    assert "after 5 attempts" in str(caught.value)
    assert NAME in str(caught.value)
    assert "busy" in str(caught.value)


def test_backoff_follows_the_official_schedule(ordered: responses.RequestsMock) -> None:
    for _ in range(4):
        ordered.post(f"{TWIRP}/ListArtifacts", status=503, json={})
    ordered.post(f"{TWIRP}/ListArtifacts", json={"artifacts": []})
    waits: list[float] = []
    client = ResultsClient(ORIGIN, token(), base_delay=3.0, sleep=waits.append)
    client.call("ListArtifacts", {})
    assert waits[0] == 3.0
    for attempt, waited in enumerate(waits[1:], start=1):
        low = 3.0 * 1.5**attempt
        assert low <= waited <= low * 1.5


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_other_statuses_are_final_and_show_the_service_msg(
    mocked: responses.RequestsMock, status: int
) -> None:
    mocked.post(
        f"{TWIRP}/CreateArtifact",
        status=status,
        json={"code": "invalid_argument", "msg": "name is not valid here"},
    )
    with pytest.raises(ArtifactUploadFailed) as caught:
        uploader().start(NAME, retention_days=None, overwrite=False)
    assert "name is not valid here" in str(caught.value)
    assert NAME in str(caught.value)
    assert caught.value.http_status == status


def test_long_service_messages_are_cut(mocked: responses.RequestsMock) -> None:
    mocked.post(
        f"{TWIRP}/CreateArtifact", status=400, json={"code": "invalid_argument", "msg": "m" * 5000}
    )
    with pytest.raises(ArtifactUploadFailed) as caught:
        uploader().start(NAME, retention_days=None, overwrite=False)
    assert len(str(caught.value)) < 1000
    assert "(cut)" in str(caught.value)


def test_conflict_tells_how_to_fix_it(mocked: responses.RequestsMock) -> None:
    mocked.post(
        f"{TWIRP}/CreateArtifact",
        status=409,
        json={"code": "already_exists", "msg": "an artifact with this name already exists"},
    )
    with pytest.raises(ArtifactUploadFailed) as caught:
        uploader().start(NAME, retention_days=None, overwrite=False)
    message = str(caught.value)
    assert NAME in message
    assert "overwrite: true" in message
    assert "artifact-name" in message


@pytest.mark.parametrize("status", [403, 429])
def test_storage_quota_is_explained_at_once(mocked: responses.RequestsMock, status: int) -> None:
    mocked.post(
        f"{TWIRP}/CreateArtifact",
        status=status,
        json={"code": "permission_denied", "msg": "insufficient usage to create artifact"},
    )
    with pytest.raises(ArtifactUploadFailed, match="storage quota"):
        uploader().start(NAME, retention_days=None, overwrite=False)
    assert len(mocked.calls) == 1


@pytest.mark.parametrize("answer", [{"ok": False}, {"ok": True}, {"signed_upload_url": SIGNED}])
def test_create_without_ok_and_url_fails(mocked: responses.RequestsMock, answer: object) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json=answer)
    with pytest.raises(ArtifactUploadFailed, match="CreateArtifact"):
        uploader().start(NAME, retention_days=None, overwrite=False)


def test_finalize_without_ok_fails(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    mocked.put(SIGNED, status=201)
    mocked.post(f"{TWIRP}/FinalizeArtifact", json={"ok": False})
    upload = uploader().start(NAME, retention_days=None, overwrite=False)
    upload.write(b"x")
    with pytest.raises(ArtifactUploadFailed, match="FinalizeArtifact"):
        upload.finish(1, hashlib.sha256(b"x").hexdigest())


def test_size_or_hash_mismatch_never_finalizes(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    upload = uploader().start(NAME, retention_days=None, overwrite=False)
    upload.write(b"abc")
    with pytest.raises(ArtifactUploadFailed, match="differ"):
        upload.finish(3, "0" * 64)
    with pytest.raises(ArtifactUploadFailed, match="closed"):
        upload.write(b"more")


@pytest.mark.parametrize("name", ["a/b.zip", "a:b.zip", "", "what?.zip", "x\ny.zip"])
def test_invalid_names_are_refused_before_any_request(name: str) -> None:
    assert invalid_name_reason(name)
    with pytest.raises(ArtifactUploadFailed, match="artifact name"):
        uploader().start(name, retention_days=None, overwrite=False)


def test_blob_failure_text_never_shows_the_signature(mocked: responses.RequestsMock) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    mocked.put(
        re.compile(r"https://productionresultssa0\..*"),
        body=requests.ConnectionError(f"Max retries exceeded with url: {SIGNED}"),
    )
    upload = uploader().start(NAME, retention_days=None, overwrite=False)
    upload.write(b"y" * 3000)
    with pytest.raises(ArtifactUploadFailed) as caught:
        upload.finish(3000, hashlib.sha256(b"y" * 3000).hexdigest())
    text = str(caught.value)
    assert NAME in text
    for sig in SIG_VALUES:
        assert sig not in text
        assert secrets.redact(f"x {sig} y") == f"x {secrets.REPLACEMENT} y"


def test_upload_file_aborts_on_failure(
    mocked: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mocked.post(f"{TWIRP}/CreateArtifact", json={"ok": True, "signed_upload_url": SIGNED})
    mocked.put(SIGNED, status=403, body="<Error><Code>AuthenticationFailed</Code></Error>")
    path = tmp_path / NAME
    path.write_bytes(b"zip")
    aborted: list[str] = []
    original = artifact_module.ArtifactUpload.abort

    def spy(self: artifact_module.ArtifactUpload) -> None:
        aborted.append(self.name)
        original(self)

    monkeypatch.setattr(artifact_module.ArtifactUpload, "abort", spy)
    with pytest.raises(ArtifactUploadFailed, match="AuthenticationFailed"):
        uploader().upload_file(
            path,
            NAME,
            size=3,
            sha256=hashlib.sha256(b"zip").hexdigest(),
            retention_days=None,
            overwrite=False,
        )
    assert aborted
    assert not any(str(call.request.url).endswith("FinalizeArtifact") for call in mocked.calls)


# --- the whole upload against Azurite and the results double -----------------------------------


def upload_sample(
    made: ArtifactUploader,
    sample: SampleFile,
    *,
    overwrite: bool = False,
    retention: int | None = None,
) -> None:
    upload(made, sample, retention_days=retention, overwrite=overwrite)


def twirp_methods(double: ResultsDouble) -> list[str]:
    return [request.twirp_method for request in double.calls()]


@pytest.mark.azurite
def test_small_file_is_one_put_blob(
    make_uploader: Callable[..., ArtifactUploader],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    azurite: Azurite,
) -> None:
    sample = sample_file(200_000)
    result = upload(make_uploader(), sample)
    (stored,) = results_double.finalized(NAME)
    assert result.artifact_id == str(stored.id)
    assert result.url.endswith(f"/actions/runs/987654321/artifacts/{stored.id}")
    assert [(r.method, r.query.get("comp")) for r in blob_proxy.requests] == [("PUT", None)]
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == sample.data
    assert (state.blob_type, state.content_type) == ("BlockBlob", "application/zip")
    assert twirp_methods(results_double) == ["CreateArtifact", "FinalizeArtifact"]


@pytest.mark.azurite
def test_large_file_goes_in_blocks(
    make_uploader: Callable[..., ArtifactUploader],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    azurite: Azurite,
) -> None:
    sample = sample_file(5 * MIB + 4321)
    upload(make_uploader(block_size=MIB), sample)
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
    make_uploader: Callable[..., ArtifactUploader],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
) -> None:
    sample = sample_file(1000)
    upload(make_uploader(), sample, retention_days=5)
    (create,) = results_double.calls("CreateArtifact")
    expires = datetime.fromisoformat(create.body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=4, hours=23) < expires - datetime.now(UTC) <= timedelta(days=5)


@pytest.mark.azurite
def test_overwrite_deletes_then_creates(
    make_uploader: Callable[..., ArtifactUploader],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    azurite: Azurite,
) -> None:
    old = results_double.seed(NAME, b"old content", run_id=RUN_ID, job_id="earlier-job")
    sample = sample_file(3000)
    upload(make_uploader(), sample, overwrite=True)
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
    make_uploader: Callable[..., ArtifactUploader],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
) -> None:
    results_double.seed(NAME, b"first attempt", run_id=RUN_ID, job_id=JOB_ID)
    sample = sample_file(100)
    with pytest.raises(ArtifactUploadFailed) as caught:
        upload(make_uploader(), sample)
    assert "overwrite: true" in str(caught.value)
    assert NAME in str(caught.value)
    assert caught.value.code == "ARTIFACT_UPLOAD_FAILED"
    assert twirp_methods(results_double) == ["CreateArtifact"]


@pytest.mark.azurite
@pytest.mark.parametrize("method", ["CreateArtifact", "FinalizeArtifact"])
def test_results_service_503_then_ok(
    make_uploader: Callable[..., ArtifactUploader],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    method: str,
) -> None:
    results_double.fail(method, 503, times=2)
    sample = sample_file(1000)
    upload(make_uploader(), sample)
    assert [r.status for r in results_double.calls(method)] == [503, 503, 200]
    assert len(results_double.finalized(NAME)) == 1


@pytest.mark.azurite
@pytest.mark.parametrize(("size", "operation"), [(1000, "blob"), (3 * MIB, "block")])
def test_blob_500_then_ok(
    make_uploader: Callable[..., ArtifactUploader],
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
    upload(make_uploader(), sample)
    assert 500 in [r.status for r in blob_proxy.requests]
    (stored,) = results_double.finalized(NAME)
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == sample.data


@pytest.mark.azurite
def test_blob_connection_reset_is_retried(
    make_uploader: Callable[..., ArtifactUploader],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
) -> None:
    blob_proxy.fail(reset=True, operation="block")
    sample = sample_file(2 * MIB + 1)
    upload(make_uploader(), sample)
    assert len(results_double.finalized(NAME)) == 1


@pytest.mark.azurite
def test_missing_runtime_token_skips_upload(runner_env: dict[str, str]) -> None:
    del runner_env["ACTIONS_RUNTIME_TOKEN"]
    assert ArtifactUploader.from_env(runner_env) is None


@pytest.mark.azurite
@pytest.mark.parametrize("size", [1000, 3 * MIB])
def test_blob_failure_leaves_no_finalized_artifact(
    make_uploader: Callable[..., ArtifactUploader],
    sample_file: Callable[..., SampleFile],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    size: int,
) -> None:
    blob_proxy.fail(500, times=100)
    sample = sample_file(size)
    with pytest.raises(ArtifactUploadFailed) as caught:
        upload(make_uploader(), sample)
    assert "HTTP 500" in str(caught.value)
    assert NAME in str(caught.value)
    assert "sig=" not in str(caught.value)
    assert results_double.calls("FinalizeArtifact") == []
    assert results_double.finalized() == []


@pytest.mark.azurite
def test_streamed_upload_with_a_restart(
    make_uploader: Callable[..., ArtifactUploader],
    results_double: ResultsDouble,
    azurite: Azurite,
) -> None:
    """What a download tee does: bytes arrive in pieces, the source restarts once, then ends."""
    data = bytes(range(256)) * (12 * 1024)  # 3 MiB
    upload = make_uploader(block_size=MIB).start(NAME, retention_days=None, overwrite=False)
    for offset in range(0, 2 * MIB, 64 * 1024):
        upload.write(b"stale" + data[offset : offset + 64 * 1024])
    upload.reset()
    for offset in range(0, len(data), 100_000):
        upload.write(data[offset : offset + 100_000])
    result = upload.finish(len(data), hashlib.sha256(data).hexdigest())
    (stored,) = results_double.finalized(NAME)
    assert result.artifact_id == str(stored.id)
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == data


def test_token_helper_round_trips() -> None:
    assert backend_ids_from_token(make_runtime_token("r", "j")) == BackendIds("r", "j")


@pytest.mark.azurite
def test_local_artifact_service_for_the_demo(tmp_path: Path) -> None:
    from devtools.results_double import local_artifact_service

    data = b"PK\x05\x06" + bytes(18)
    path = tmp_path / NAME
    path.write_bytes(data)
    with local_artifact_service() as (double, variables):
        made = ArtifactUploader.from_env(variables)
        assert made is not None
        result = made.upload_file(
            path,
            NAME,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            retention_days=None,
            overwrite=False,
        )
        made.close()
        assert double.finalized(NAME)[0].id == int(result.artifact_id)
        assert result.url == ""  # no GITHUB_REPOSITORY/GITHUB_RUN_ID given
