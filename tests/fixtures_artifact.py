"""Fixtures for the artifact tests: Azurite, a fault proxy in front of it, the results double,
and a runner environment pointing at them.

Test modules load this with `pytest_plugins = ["tests.fixtures_artifact"]` and must not import it
directly (pytest could then not rewrite its asserts); types come in under TYPE_CHECKING.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from devtools.azurite import Azurite, BlobProxy
from devtools.results_double import (
    EXAMPLE_JOB_ID,
    EXAMPLE_RUN_ID,
    ResultsDouble,
    make_runtime_token,
)

from codearts_check_logs.artifact import ArtifactUploader


@dataclass(frozen=True)
class SampleFile:
    path: Path
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """One emulator for the whole session; each test uses fresh blob names."""
    with Azurite() as running:
        yield running


@pytest.fixture
def blob_proxy(azurite: Azurite) -> Iterator[BlobProxy]:
    with BlobProxy(azurite.port) as proxy:
        yield proxy


@pytest.fixture
def results_double(azurite: Azurite, blob_proxy: BlobProxy) -> Iterator[ResultsDouble]:
    """The double; its signed URLs go through `blob_proxy` so blob traffic is recorded."""
    with ResultsDouble(azurite, blob_url_rewriter=blob_proxy.rewrite) as double:
        yield double


@pytest.fixture
def runner_env(results_double: ResultsDouble, tmp_path: Path) -> dict[str, str]:
    """What the runner gives a container action, aimed at the double."""
    return {
        "ACTIONS_RUNTIME_TOKEN": make_runtime_token(EXAMPLE_RUN_ID, EXAMPLE_JOB_ID),
        "ACTIONS_RESULTS_URL": results_double.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_RUN_ID": "987654321",
        "GITHUB_WORKSPACE": str(tmp_path),
    }


@pytest.fixture
def make_uploader(
    runner_env: dict[str, str],
) -> Iterator[Callable[..., ArtifactUploader]]:
    """Build uploaders from `runner_env` with fast retries and small blocks."""
    made: list[ArtifactUploader] = []

    def build(*, block_size: int = 1024 * 1024, **env: str) -> ArtifactUploader:
        uploader = ArtifactUploader.from_env(
            {**runner_env, **env},
            retry_base_delay=0.01,
            blob_backoff=0.01,
            block_size=block_size,
        )
        assert uploader is not None
        made.append(uploader)
        return uploader

    yield build
    for uploader in made:
        uploader.close()


@pytest.fixture
def sample_file(tmp_path: Path) -> Callable[..., SampleFile]:
    """Write `size` random bytes (a ZIP's magic first) to `<tmp>/<name>`."""

    def write(size: int, name: str = "codearts-check-logs-sample.zip") -> SampleFile:
        data = (b"PK\x03\x04" + os.urandom(size))[:size]
        path = tmp_path / name
        path.write_bytes(data)
        return SampleFile(path, data, hashlib.sha256(data).hexdigest())

    return write
