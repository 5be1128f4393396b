"""A small stand-in for GitHub's Actions results service (artifact v4 Twirp JSON API).

It speaks just enough of `github.actions.results.api.v1.ArtifactService` for an uploader: Create,
Finalize, List and Delete. Signed upload URLs point at Azurite (the development account), and on
finalize the double reads the blob back and checks size and SHA-256, as the real service's
promise "what you finalize is what you uploaded" implies. Every request is recorded so tests can
compare what two clients sent; faults can be injected per method.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, Self

import requests

from devtools.doubles.azurite import Azurite, blob_sas
from devtools.doubles.serving import LoopbackServer

SERVICE_PREFIX = "/twirp/github.actions.results.api.v1.ArtifactService/"
CONTAINER = "actions-results"
EXAMPLE_RUN_ID = "5f0c6e2a-1d1e-4c1b-9a53-3c8a0f2b7d10"
EXAMPLE_JOB_ID = "b7a3c1d2-8e9f-4a0b-b1c2-d3e4f5a6b7c8"
"""Backend IDs shaped like the real ones (UUIDs), for tests and the demo."""
TWIRP_STATUS = {
    "invalid_argument": 400,
    "unauthenticated": 401,
    "permission_denied": 403,
    "not_found": 404,
    "already_exists": 409,
    "failed_precondition": 412,
    "resource_exhausted": 429,
    "internal": 500,
    "unavailable": 503,
}


@dataclass
class RecordedRequest:
    """One call as it arrived (method, path, Twirp method, headers, JSON body) and its answer."""

    method: str
    path: str
    twirp_method: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    response: Any = None


@dataclass
class Artifact:
    id: int
    name: str
    run_id: str
    job_id: str
    blob: str
    mime_type: str | None
    expires_at: str | None
    created_at: str
    finalized: bool = False
    size: int = 0
    digest: str = ""
    blob_type: str = ""
    content_type: str = ""
    committed_blocks: list[int] = field(default_factory=list)


@dataclass
class _Fault:
    method: str
    status: int
    body: dict[str, Any]
    remaining: int


def make_runtime_token(run_id: str, job_id: str, *, extra_scopes: str = "Actions.Example") -> str:
    """An unsigned JWT shaped like ACTIONS_RUNTIME_TOKEN (the double does not verify it)."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    scope = f"{extra_scopes} Actions.Results:{run_id}:{job_id}".strip()
    header = part({"typ": "JWT", "alg": "RS256"})
    return f"{header}.{part({'scp': scope, 'iss': 'results-double'})}.c2lnbmF0dXJl"


class ResultsDouble(LoopbackServer):
    """The double as a context manager, listening on a free loopback port.

    `url` is what ACTIONS_RESULTS_URL should hold (it ends in `/`, like the real value).
    `blob_url_rewriter` lets a test route signed URLs through a fault proxy.
    """

    def __init__(
        self,
        azurite: Azurite,
        *,
        blob_url_rewriter: Callable[[str], str] | None = None,
        first_artifact_id: int = 1001,
    ) -> None:
        self.azurite = azurite
        self.blob_url_rewriter = blob_url_rewriter
        self.requests: list[RecordedRequest] = []
        self.artifacts: list[Artifact] = []
        self._next_id = first_artifact_id
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def calls(self, twirp_method: str | None = None) -> list[RecordedRequest]:
        """Recorded Twirp calls, optionally only those of one method."""
        with self._lock:
            return [r for r in self.requests if twirp_method in {None, r.twirp_method}]

    def finalized(self, name: str | None = None) -> list[Artifact]:
        with self._lock:
            return [a for a in self.artifacts if a.finalized and name in {None, a.name}]

    def fail(
        self, method: str, status: int, *, code: str = "", msg: str = "", times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with a Twirp error instead of serving them."""
        code = code or next((c for c, s in TWIRP_STATUS.items() if s == status), "unknown")
        body = {"code": code, "msg": msg or f"injected {code}"}
        self.respond(method, body, status=status, times=times)

    def respond(
        self, method: str, body: dict[str, Any], *, status: int = 200, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with `body` (e.g. an unusable answer)."""
        with self._lock:
            self._faults.append(_Fault(method, status, body, times))

    def seed(self, name: str, content: bytes, *, run_id: str, job_id: str) -> Artifact:
        """Put a finalized artifact in place, as an earlier attempt of the run would have."""
        created = self._create(name, run_id, job_id, "application/zip", None)
        self._put_blob(created.blob, content)
        created.finalized = True
        created.size = len(content)
        created.digest = f"sha256:{hashlib.sha256(content).hexdigest()}"
        return created

    def _put_blob(self, blob: str, content: bytes) -> None:
        response = requests.put(
            f"{self.azurite.blob_url(CONTAINER, blob)}?{blob_sas(CONTAINER, blob, 'cw')}",
            data=content,
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-version": "2024-11-04"},
            timeout=(2, 30),
        )
        response.raise_for_status()

    # --- Twirp methods ---------------------------------------------------------------------

    def _create(
        self, name: str, run_id: str, job_id: str, mime: str | None, expires: str | None
    ) -> Artifact:
        with self._lock:
            artifact = Artifact(
                id=self._next_id,
                name=name,
                run_id=run_id,
                job_id=job_id,
                blob=f"{run_id}/{job_id}/artifacts/{uuid.uuid4().hex}",
                mime_type=mime,
                expires_at=expires,
                created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            )
            self._next_id += 1
            self.artifacts.append(artifact)
        return artifact

    def _find(self, name: str, run_id: str, *, finalized: bool) -> Artifact | None:
        with self._lock:
            for artifact in reversed(self.artifacts):
                if (artifact.name, artifact.run_id, artifact.finalized) == (
                    name,
                    run_id,
                    finalized,
                ):
                    return artifact
        return None

    def create_artifact(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name, run_id = body.get("name", ""), body.get("workflow_run_backend_id", "")
        job_id = body.get("workflow_job_run_backend_id", "")
        if not name or not run_id or not job_id or body.get("version") != 7:
            return _error("invalid_argument", "name, backend IDs and version 7 are required")
        # The name is reserved for the run at creation, finalized or not, as on the real service.
        if self._find(name, run_id, finalized=True) or self._find(name, run_id, finalized=False):
            return _error(
                "already_exists",
                "an artifact with this name already exists on the workflow run",
            )
        artifact = self._create(name, run_id, job_id, body.get("mime_type"), body.get("expires_at"))
        signed = (
            f"{self.azurite.blob_url(CONTAINER, artifact.blob)}?"
            f"{blob_sas(CONTAINER, artifact.blob, 'cw')}"
        )
        if self.blob_url_rewriter is not None:
            signed = self.blob_url_rewriter(signed)
        return 200, {"ok": True, "signed_upload_url": signed}

    def finalize_artifact(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name, run_id = body.get("name", ""), body.get("workflow_run_backend_id", "")
        artifact = self._find(name, run_id, finalized=False)
        if artifact is None:
            return _error("not_found", "no artifact is being uploaded under this name")
        state = self.azurite.read_blob(CONTAINER, artifact.blob)
        if state is None:
            return _error("failed_precondition", "the blob was never committed")
        size, digest = str(len(state.content)), hashlib.sha256(state.content).hexdigest()
        if body.get("size") != size:
            return _error("invalid_argument", f"size {body.get('size')!r} != blob size {size}")
        if body.get("hash") != f"sha256:{digest}":
            return _error("invalid_argument", "hash does not match the blob's SHA-256")
        with self._lock:
            artifact.finalized = True
            artifact.size = len(state.content)
            artifact.digest = f"sha256:{digest}"
            artifact.blob_type = state.blob_type
            artifact.content_type = state.content_type
            artifact.committed_blocks = state.committed_blocks
        return 200, {"ok": True, "artifact_id": str(artifact.id)}

    def list_artifacts(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        run_id = body.get("workflow_run_backend_id", "")
        name_filter, id_filter = body.get("name_filter"), body.get("id_filter")
        listed = [
            {
                "workflow_run_backend_id": a.run_id,
                "workflow_job_run_backend_id": a.job_id,
                "database_id": str(a.id),
                "name": a.name,
                "size": str(a.size),
                "created_at": a.created_at,
                "digest": a.digest,
            }
            for a in self.finalized()
            if a.run_id == run_id
            and name_filter in {None, a.name}
            and id_filter in {None, str(a.id)}
        ]
        return 200, {"artifacts": listed}

    def delete_artifact(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        artifact = self._find(
            body.get("name", ""), body.get("workflow_run_backend_id", ""), finalized=True
        )
        if artifact is None:
            return _error("not_found", "artifact not found")
        with self._lock:
            self.artifacts.remove(artifact)
        self.azurite.delete_blob(CONTAINER, artifact.blob)
        return 200, {"ok": True, "artifact_id": str(artifact.id)}

    # --- server ------------------------------------------------------------------------------

    def _dispatch(self, method: str, body: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault.status, fault.body
        handlers = {
            "CreateArtifact": self.create_artifact,
            "FinalizeArtifact": self.finalize_artifact,
            "ListArtifacts": self.list_artifacts,
            "DeleteArtifact": self.delete_artifact,
        }
        handler = handlers.get(method)
        if handler is None:
            return _error("not_found", f"unknown method {method}")
        if not isinstance(body, dict):
            return _error("invalid_argument", "the body must be a JSON object")
        return handler(body)

    def start(self) -> Self:
        self.azurite.create_container(CONTAINER)
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet; tests read `requests` instead."""

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                method = (
                    self.path.removeprefix(SERVICE_PREFIX)
                    if self.path.startswith(SERVICE_PREFIX)
                    else ""
                )
                record = RecordedRequest(
                    method="POST",
                    path=self.path,
                    twirp_method=method,
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                )
                with double._lock:
                    double.requests.append(record)
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    status, answer = _error("unauthenticated", "a bearer token is required")
                elif not method:
                    status, answer = _error("not_found", "not a Twirp ArtifactService path")
                else:
                    status, answer = double._dispatch(method, body)
                record.status, record.response = status, answer
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._serve(Handler)
        return self


def _error(code: str, msg: str) -> tuple[int, dict[str, Any]]:
    return TWIRP_STATUS.get(code, 500), {"code": code, "msg": msg}


def artifact_env(double: ResultsDouble) -> dict[str, str]:
    """The variables the runner gives a container action for artifacts, aimed at `double`."""
    return {
        "ACTIONS_RUNTIME_TOKEN": make_runtime_token(EXAMPLE_RUN_ID, EXAMPLE_JOB_ID),
        "ACTIONS_RESULTS_URL": double.url,
    }


@contextmanager
def local_artifact_service(
    azurite: Azurite | None = None,
) -> Iterator[tuple[ResultsDouble, dict[str, str]]]:
    """Azurite plus the double, for `make demo` and end-to-end tests: yields the double and the
    environment variables to give the action. `azurite`: an emulator already running (the
    tests' shared one), else one of its own for the time of the block."""
    with (
        nullcontext(azurite) if azurite else Azurite() as running,
        ResultsDouble(running) as double,
    ):
        yield double, artifact_env(double)
