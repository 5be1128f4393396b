"""Contract: our uploader and the official `@actions/artifact` client (npm, pinned) do the same
thing to the same results-service double and Azurite.

Both upload one file raw (`skipArchive`), with `overwrite` and `retention-days`, and the test
compares what reached the service (methods, Twirp names, JSON fields and value shapes) and the
blob each produced. If the official client changes its protocol, this is where we find out.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from devtools.doubles.azurite import ROOT, Azurite, BlobProxy, BlobState, ProxiedRequest
from devtools.doubles.results import (
    CONTAINER,
    EXAMPLE_JOB_ID,
    EXAMPLE_RUN_ID,
    RecordedRequest,
    ResultsDouble,
    make_runtime_token,
)

from codearts_check_logs import masking
from codearts_check_logs.artifact import environment
from codearts_check_logs.artifact.upload import ArtifactService
from codearts_check_logs.environment import RunnerEnvironment
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.retry import RESULTS

pytestmark = pytest.mark.azurite

SCRIPT = Path(__file__).parent / "upload_official.mjs"
NAME = "codearts-check-logs-0123456789abcdef0123456789abcdef.zip"
RETENTION_DAYS = 3
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z")


@dataclass
class Observed:
    """Everything one client caused: service calls, blob requests, the stored blob."""

    calls: list[RecordedRequest]
    blob_requests: list[ProxiedRequest]
    state: BlobState
    artifact_id: str
    stdout: str = ""


def observe(
    azurite: Azurite, data: bytes, tmp: Path, upload: Callable[[dict[str, str], Path], str]
) -> Observed:
    """Seed an earlier artifact of the same name, let one client overwrite it, record it all."""
    tmp.mkdir()
    path = tmp / NAME
    path.write_bytes(data)
    with (
        BlobProxy(azurite.port) as proxy,
        ResultsDouble(azurite, blob_url_rewriter=proxy.rewrite) as double,
    ):
        double.seed(NAME, b"earlier attempt", run_id=EXAMPLE_RUN_ID, job_id="earlier-job")
        env = {
            "ACTIONS_RUNTIME_TOKEN": make_runtime_token(EXAMPLE_RUN_ID, EXAMPLE_JOB_ID),
            "ACTIONS_RESULTS_URL": double.url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "octo-org/octo-repo",
            "GITHUB_RUN_ID": "987654321",
            "GITHUB_WORKSPACE": str(tmp),
        }
        stdout = upload(env, path)
        (artifact,) = double.finalized(NAME)
        state = azurite.read_blob(CONTAINER, artifact.blob)
        assert state is not None
        return Observed(double.calls(), list(proxy.requests), state, str(artifact.id), stdout)


def run_official(env: dict[str, str], path: Path) -> str:
    node = shutil.which("node")
    assert node, "node is needed for the contract test (see package.json)"
    process = subprocess.run(
        [node, str(SCRIPT), str(path), "--retention-days", str(RETENTION_DAYS), "--overwrite"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(path.parent), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert "RESULT " in process.stdout
    return process.stdout


def run_ours(env: dict[str, str], path: Path) -> str:
    found = environment.from_env(RunnerEnvironment.read(env))
    assert found is not None
    data = path.read_bytes()
    ArtifactService(
        found, cancel=CancelToken(), results_policy=replace(RESULTS, initial=0.01)
    ).upload(
        path,
        NAME,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        retention_days=RETENTION_DAYS,
        overwrite=True,
        deadline=Deadline(120),
    )
    return ""


def shape(value: Any) -> str:
    """A value's JSON kind, with the formats the protocol relies on told apart."""
    if isinstance(value, str):
        if re.fullmatch(r"sha256:[0-9a-f]{64}", value):
            return "sha256-digest"
        if re.fullmatch(r"\d+", value):
            return "int64-string"
        if TIMESTAMP.fullmatch(value):
            return "rfc3339-utc"
        return "string"
    return type(value).__name__


def timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def node_available() -> None:
    if not (ROOT / "node_modules" / "@actions" / "artifact").is_dir():
        pytest.fail("node_modules/@actions/artifact is missing: run `npm ci` (make does)")


@pytest.mark.usefixtures("node_available")
@pytest.mark.parametrize(
    "size",
    [pytest.param(150_000, id="single-block"), pytest.param(9 * 1024 * 1024 + 5, id="two-blocks")],
)
def test_same_requests_and_same_blob_as_the_official_client(
    azurite: Azurite, tmp_path: Path, size: int
) -> None:
    data = (b"PK\x03\x04" + os.urandom(size))[:size]
    official = observe(azurite, data, tmp_path / "official", run_official)
    ours = observe(azurite, data, tmp_path / "ours", run_ours)

    # The same calls, in the same order, to the same Twirp paths with the same headers.
    sequence = [(c.method, c.twirp_method) for c in official.calls]
    assert sequence == [
        ("POST", "ListArtifacts"),
        ("POST", "DeleteArtifact"),
        ("POST", "CreateArtifact"),
        ("POST", "FinalizeArtifact"),
    ]
    assert [(c.method, c.twirp_method) for c in ours.calls] == sequence
    for theirs, mine in zip(official.calls, ours.calls, strict=True):
        assert mine.path == theirs.path
        assert mine.status == theirs.status == 200
        for header in ("content-type", "authorization"):
            assert mine.headers[header] == theirs.headers[header], header
        # Same field names, same value kinds; the values themselves are equal too, except the
        # expiry, which depends on the moment each client ran.
        assert sorted(mine.body) == sorted(theirs.body), mine.twirp_method
        assert {k: shape(v) for k, v in mine.body.items()} == {
            k: shape(v) for k, v in theirs.body.items()
        }
        assert {k: v for k, v in mine.body.items() if k != "expires_at"} == {
            k: v for k, v in theirs.body.items() if k != "expires_at"
        }

    create = {c.twirp_method: c.body for c in ours.calls}["CreateArtifact"]
    assert create["version"] == 7
    assert create["mime_type"] == "application/zip"
    official_create = official.calls[2].body
    drift = timestamp(create["expires_at"]) - timestamp(official_create["expires_at"])
    assert abs(drift.total_seconds()) < 120
    finalize = official.calls[3].body
    assert finalize["size"] == str(size)
    assert finalize["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}"
    # overwrite: both delete the listed artifact, addressed by the IDs the listing gave.
    assert official.calls[1].body["workflow_job_run_backend_id"] == "earlier-job"

    # The same kind of blob: a block blob holding the file byte for byte, same content type.
    for observed in (official, ours):
        assert observed.state.blob_type == "BlockBlob"
        assert observed.state.content == data
        assert {r.method for r in observed.blob_requests} == {"PUT"}
        assert all(r.status == 201 for r in observed.blob_requests)
        assert observed.blob_requests[-1].headers["x-ms-blob-content-type"] == "application/zip"
    assert ours.state.content_type == official.state.content_type == "application/zip"

    # Block layout: with the same 8 MiB blocks a multi-block file commits the same blocks. A
    # file that fits in one block is one Put Blob for us (no block list), while the official
    # client always stages blocks; both are ordinary block blobs to every reader.
    if size > 8 * 1024 * 1024:
        assert ours.state.committed_blocks == official.state.committed_blocks
        assert official.state.committed_blocks == [8 * 1024 * 1024, size - 8 * 1024 * 1024]
    else:
        assert official.state.committed_blocks == [size]
        assert ours.state.committed_blocks == []
        assert [r.query.get("comp") for r in official.blob_requests] == ["block", "blocklist"]
        assert [r.query.get("comp") for r in ours.blob_requests] == [None]


def signature_forms(observed: Observed) -> set[str]:
    """The `sig` of the signed URL the service handed this client, decoded and encoded."""
    url = observed.calls[2].response["signed_upload_url"]
    raw = re.search(r"[?&]sig=([^&]+)", url)
    assert raw
    return {raw.group(1), unquote(raw.group(1))}


@pytest.mark.usefixtures("node_available")
def test_both_mask_the_upload_signature(azurite: Azurite, tmp_path: Path) -> None:
    """The official client masks the SAS `sig` with ::add-mask::; ours registers it as a secret."""
    data = b"PK\x03\x04 small"
    official = observe(azurite, data, tmp_path / "official", run_official)
    # Workflow commands escape '%' as '%25'; undo that to get the masked values themselves.
    masked = {
        m.replace("%25", "%") for m in re.findall(r"^::add-mask::(.+)$", official.stdout, re.M)
    }
    assert signature_forms(official) <= masked
    ours = observe(azurite, data, tmp_path / "ours", run_ours)
    for form in signature_forms(ours):
        assert masking.redact(f"sig={form}&") == f"sig={masking.REPLACEMENT}&"
