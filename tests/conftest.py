"""Shared fixtures: the CodeArts simulator on loopback, the artifact service stand-ins, and the
entrypoint run the way the runner runs a container action (`devtools.runner`)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from devtools.doubles.account import ManualClock
from devtools.doubles.azurite import Azurite, BlobProxy
from devtools.doubles.cloud import HuaweiCloud, huawei_cloud
from devtools.doubles.codearts import Simulator
from devtools.doubles.results import (
    EXAMPLE_JOB_ID,
    EXAMPLE_RUN_ID,
    ResultsDouble,
    make_runtime_token,
)
from devtools.runner import FakeRunner, Run

from codearts_check_logs import masking
from codearts_check_logs.artifact import environment
from codearts_check_logs.artifact.upload import ArtifactService
from codearts_check_logs.environment import RunnerEnvironment
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.retry import BLOB, RESULTS
from tests.doubles.helpers import START

TOKEN = "MIIEtestTOKEN-5f2b9c1e_d0a7+4b3c/9e8f=="
ID1 = "a777ff00d3cf4d369d87066806ae0001"
ID2 = "b888ff00d3cf4d369d87066806ae0002"

__all__ = ["ID1", "ID2", "TOKEN", "ActionRunner", "Run", "inputs_for"]


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    masking.clear()
    yield
    masking.clear()


@pytest.fixture
def clock() -> ManualClock:
    """A clock the tests move by hand, for the credential doubles and the code under test."""
    return ManualClock(START)


@pytest.fixture
def cloud(clock: ManualClock) -> Iterator[HuaweiCloud]:
    """Huawei Cloud's credential services (IAM, STS, GitHub's ID token) on loopback."""
    with huawei_cloud(clock=clock) as running:
        yield running


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(token=TOKEN) as simulator:
        yield simulator


class ActionRunner:
    """Runs `entrypoint` to its end, each call in a fresh runner folder under `tmp_path`."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.count = 0

    def runner(self) -> FakeRunner:
        self.count += 1
        return FakeRunner(self.tmp_path / f"run{self.count}")

    def __call__(
        self,
        inputs: dict[str, str],
        *,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        omit_defaults: bool = False,
    ) -> Run:
        return self.runner().run(inputs, env, defaults=not omit_defaults, timeout=timeout)


@pytest.fixture
def run_action(tmp_path: Path) -> ActionRunner:
    return ActionRunner(tmp_path)


def inputs_for(sim: Simulator, *ids: str, **extra: str) -> dict[str, str]:
    """The inputs of a typical step pointed at the simulator, artifacts off."""
    values = {
        "sub-job-id": "\n".join(ids or (ID1,)),
        "token": TOKEN,
        "endpoint": sim.base_url,
        "upload-artifact": "false",
    }
    values.update({k.replace("_", "-"): v for k, v in extra.items()})
    return values


# -- the artifact service: Azurite, a fault proxy in front of it, the results double ---------------


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
def runner_env(results_double: ResultsDouble) -> dict[str, str]:
    """What the runner gives a container action for artifacts, aimed at the double."""
    return {
        "ACTIONS_RUNTIME_TOKEN": make_runtime_token(EXAMPLE_RUN_ID, EXAMPLE_JOB_ID),
        "ACTIONS_RESULTS_URL": results_double.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_RUN_ID": "4242",
    }


@pytest.fixture
def make_service(runner_env: dict[str, str]) -> Callable[..., ArtifactService]:
    """Artifact services on `runner_env` with fast retries and small blocks."""

    def build(
        *, block_size: int = 1024 * 1024, cancel: CancelToken | None = None, **env: str
    ) -> ArtifactService:
        found = environment.from_env(RunnerEnvironment.read({**runner_env, **env}))
        assert found is not None
        return ArtifactService(
            found,
            cancel=cancel or CancelToken(),
            results_policy=replace(RESULTS, initial=0.01),
            blob_policy=replace(BLOB, initial=0.01),
            block_size=block_size,
        )

    return build


@dataclass(frozen=True)
class SampleFile:
    path: Path
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


@pytest.fixture
def sample_file(tmp_path: Path) -> Callable[..., SampleFile]:
    """Write `size` random bytes (a ZIP's magic first) to `<tmp>/<name>`."""

    def write(size: int, name: str = "codearts-check-logs-sample.zip") -> SampleFile:
        data = (b"PK\x03\x04" + os.urandom(size))[:size]
        path = tmp_path / name
        path.write_bytes(data)
        return SampleFile(path, data, hashlib.sha256(data).hexdigest())

    return write
