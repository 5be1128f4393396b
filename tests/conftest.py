"""Shared fixtures: the CodeArts simulator on loopback, the artifact service stand-ins, and the
entrypoint run the way the runner runs a container action (`devtools.runner`)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from devtools.doubles.account import ManualClock
from devtools.doubles.azurite import Azurite, BlobProxy, shared_azurite, stop_shared
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that wait for real time run first, so that parallel workers fill the rest of
    the run with short tests instead of one worker finishing a long wait alone at the end. The
    order within each part is kept."""
    items.sort(key=lambda item: item.get_closest_marker("realtime") is None)


_ONE_WORKER = ("tests/packaging/test_image.py",)
"""Modules whose tests share one costly module-scoped fixture (the image replay builds a venv
from the locks): run on one worker, it is built once rather than once per worker."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's `load` schedule, but each module of `_ONE_WORKER` as one unit of work.

    (`--dist loadgroup` would do it with a mark, but the xdist release in use cannot rename a
    node under pytest 9, so the group never forms.) Other `--dist` modes are left as asked."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no types
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in _ONE_WORKER else nodeid

    return Scheduling(config, log)


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


QUICK_RETRIES = {
    "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "devtools" / "quick"),
    "QUICK_RETRY_FACTOR": "0.001",
}
"""A step environment whose entrypoint waits a thousandth of every retry wait (the cap on
Retry-After and the least time an attempt needs included): `devtools/quick/sitecustomize.py`
shortens the retry policies as Python starts. 3 s becomes 3 ms; a Retry-After of 60 s, 60 ms."""


class ActionRunner:
    """Runs `entrypoint` to its end, each call in a fresh runner folder under `tmp_path`.

    Retry waits are short (`QUICK_RETRIES`) unless `quick=False`: for the few tests about the
    waits themselves (a Retry-After honoured, a signal during a wait), marked `realtime`."""

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
        quick: bool = True,
    ) -> Run:
        step_env = {**(QUICK_RETRIES if quick else {}), **(env or {})}
        return self.runner().run(inputs, step_env, defaults=not omit_defaults, timeout=timeout)


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


_SHARED_AZURITE = "azurite_dir"
"""The `workerinput` key under which parallel workers learn the folder of the shared emulator."""


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, in the controlling process: give every worker the same emulator folder."""
    config = node.config
    if not hasattr(config, _SHARED_AZURITE):
        setattr(config, _SHARED_AZURITE, tempfile.mkdtemp(prefix="pytest-azurite-"))
    node.workerinput[_SHARED_AZURITE] = getattr(config, _SHARED_AZURITE)


def pytest_unconfigure(config: pytest.Config) -> None:
    """In the controlling process, once every worker is done: end the shared emulator."""
    folder = getattr(config, _SHARED_AZURITE, None)
    if folder is not None:
        stop_shared(Path(folder))
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def azurite(request: pytest.FixtureRequest) -> Iterator[Azurite]:
    """One emulator for the whole run, shared by the parallel workers (whichever needs it first
    starts it: one start instead of one per worker); each test uses fresh blob names."""
    workerinput: dict[str, Any] | None = getattr(request.config, "workerinput", None)
    if workerinput is not None and _SHARED_AZURITE in workerinput:
        yield shared_azurite(Path(workerinput[_SHARED_AZURITE]))
        return
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
