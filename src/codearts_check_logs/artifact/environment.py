"""What the runner tells a container action about the artifact service, read once and checked.

From the runner's environment (`RunnerEnvironment`) to an `ArtifactEnvironment`, `None` outside
GitHub Actions (no runtime token), or ArtifactUploadFailed saying why uploads cannot work from
this job. The runtime token is registered as a secret the moment it is read.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import masking
from ..environment import RunnerEnvironment
from ..errors import ArtifactUploadFailed

NO_RUNTIME_TOKEN = (
    "Artifact upload skipped: ACTIONS_RUNTIME_TOKEN is not set, so this is not a GitHub Actions "
    "run. The ZIP stays in the workspace."
)


@dataclass(frozen=True)
class BackendIds:
    run: str
    job: str


@dataclass(frozen=True)
class ArtifactEnvironment:
    """The results service and the run's coordinates."""

    token: str
    results_origin: str
    ids: BackendIds
    server_url: str = "https://github.com"
    repository: str = ""
    run_id: str = ""
    max_retention_days: int | None = None

    def __repr__(self) -> str:
        return f"ArtifactEnvironment(results_origin={self.results_origin!r}, token=<hidden>)"

    def artifact_url(self, artifact_id: str) -> str:
        """The artifact's page in the run, as actions/upload-artifact builds it."""
        if not (self.repository and self.run_id):
            return ""
        return (
            f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
            f"/artifacts/{artifact_id}"
        )


def from_env(env: RunnerEnvironment) -> ArtifactEnvironment | None:
    """The artifact environment; None without a runtime token; ArtifactUploadFailed when the
    token has no results scope, ACTIONS_RESULTS_URL is missing or malformed, or on GHES."""
    token = env.runtime_token.strip()
    if not token:
        return None
    masking.register(token)
    server_url = env.server_url.strip().rstrip("/") or "https://github.com"
    if is_ghes(server_url):
        raise ArtifactUploadFailed(
            "artifact upload is not available on GitHub Enterprise Server (the artifact v4 "
            "service is github.com only); set `upload-artifact: false`"
        )
    results_url = env.results_url.strip()
    if not results_url:
        raise ArtifactUploadFailed(
            "ACTIONS_RESULTS_URL is not set; the runner is too old for artifact v4 "
            "(runner 2.308 or newer is needed), or set `upload-artifact: false`"
        )
    return ArtifactEnvironment(
        token=token,
        results_origin=results_origin(results_url),
        ids=backend_ids_from_token(token),
        server_url=server_url,
        repository=env.repository.strip(),
        run_id=env.run_id.strip(),
        max_retention_days=_positive_int(env.retention_days),
    )


def backend_ids_from_token(token: str) -> BackendIds:
    """The run/job backend IDs from the token's `scp` claim. Not verified: the service verifies
    the token; we only need the IDs every call carries."""
    unusable = ArtifactUploadFailed(
        "ACTIONS_RUNTIME_TOKEN has no usable Actions.Results scope, so artifacts cannot be "
        "uploaded from this job"
    )
    parts = token.split(".")
    if len(parts) != 3:
        raise unusable
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        raise unusable from None
    scope = claims.get("scp") if isinstance(claims, dict) else None
    if not isinstance(scope, str):
        raise unusable
    for entry in scope.split(" "):
        fields = entry.split(":")
        if fields[0] != "Actions.Results":
            continue
        if len(fields) != 3 or not fields[1] or not fields[2]:
            raise unusable
        return BackendIds(run=fields[1], job=fields[2])
    raise unusable


def results_origin(results_url: str) -> str:
    """The service origin, as the official client uses it: scheme://host[:port], no path."""
    try:
        parts = urlsplit(results_url.strip())
        valid = parts.scheme in {"http", "https"} and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        valid = False
    if not valid:
        raise ArtifactUploadFailed("ACTIONS_RESULTS_URL is not a valid http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def is_ghes(server_url: str) -> bool:
    """GitHub Enterprise Server has no results service; the official client refuses there too."""
    try:
        host = (urlsplit(server_url or "https://github.com").hostname or "").lower()
    except ValueError:
        return True
    return not (host == "github.com" or host.endswith((".ghe.com", ".localhost")))


def _positive_int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None
