"""The composition root: validated settings and the environment in, the run's `Outcome` out.

It builds the credentials and the artifact service once per run, then hands every sub-job to the
pipeline, a few at once. Credentials come first: a refused exchange (IAM, STS, GitHub's ID-token
endpoint) fails the whole run before any CodeArts request and before any artifact call. One
failing sub-job never stops the others; a defect in one is reported as INTERNAL_ERROR for that
sub-job alone. Nothing here prints service text or decides how results are shown.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from threading import Event, Lock

from .artifact import environment
from .artifact.upload import ArtifactService
from .auth.resolver import Endpoints, Resolver
from .environment import RunnerEnvironment
from .errors import ArtifactUploadFailed, AuthFailed, Cancelled, InternalError
from .inputs.settings import Settings
from .net.cancel import CancelToken
from .outcome import Outcome, SubJobResult, failure
from .pipeline import Context, Log, Progress, Silent, process

MAX_PARALLEL = 4
CANCEL_GRACE_SECONDS = 3.0
"""After a cancel, how long sub-jobs get to clean up before they are reported as cancelled."""


def run(
    settings: Settings,
    env: RunnerEnvironment,
    *,
    log: Log,
    cancel: CancelToken,
    progress: Progress | None = None,
) -> Outcome:
    """Fetch (and upload) every sub-job; the results keep the input order. `progress` hears how
    far each transfer is (the CLI's bars); the action's log has its own lines."""
    artifacts, warnings = artifact_service(settings, env, cancel)
    ids = settings.sub_job_ids
    unwritable = settings.output.prepare()
    if unwritable is not None:
        results = [failure(sub_job_id, unwritable) for sub_job_id in ids]
        return Outcome(results=tuple(results), warnings=tuple(warnings), cancelled=cancel.cancelled)
    try:
        credentials = resolver_for(settings, cancel=cancel, log=log).credentials()
    except (AuthFailed, Cancelled) as exc:
        return replace(Outcome.failed(exc, warnings=tuple(warnings)), cancelled=cancel.cancelled)
    ctx = Context(
        settings=settings,
        credentials=credentials,
        cancel=cancel,
        log=log,
        artifacts=artifacts,
        progress=progress or Silent(),
    )
    results = _run_all(ctx, ids)
    return Outcome(results=tuple(results), warnings=tuple(warnings), cancelled=cancel.cancelled)


def resolver_for(settings: Settings, *, cancel: CancelToken, log: Log) -> Resolver:
    """The run's credential resolver: `timeout-seconds` is the credential phase's budget."""
    endpoints = Endpoints(
        region=settings.region,
        codearts=settings.base_url,
        iam=settings.iam_url,
        sts=settings.sts_url,
    )
    return Resolver(
        settings.auth, endpoints, cancel=cancel, budget=settings.timeout_seconds, log=log
    )


def artifact_service(
    settings: Settings,
    env: RunnerEnvironment,
    cancel: CancelToken,
) -> tuple[ArtifactService | ArtifactUploadFailed | None, list[str]]:
    """Where ZIPs go: a service, the reason every upload will fail, or nowhere (with a warning
    when the run is outside GitHub Actions)."""
    if not settings.upload_artifact:
        return None, []
    try:
        found = environment.from_env(env)
    except ArtifactUploadFailed as exc:
        return exc, []
    if found is None:
        return None, [environment.NO_RUNTIME_TOKEN]
    return ArtifactService(found, cancel=cancel), []


def _run_all(ctx: Context, ids: tuple[str, ...]) -> list[SubJobResult]:
    """Every sub-job through the pipeline. The run ends the moment its last sub-job does: this
    thread sleeps on one event, set by the last sub-job to finish or by a cancel, and never wakes
    to look. After a cancel, sub-jobs still running when the grace period ends are reported as
    cancelled, and the run does not wait for them."""
    pool = ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(ids)), thread_name_prefix="sub-job")
    over = Event()
    left = _Countdown(len(ids), over.set)
    futures = [pool.submit(_guarded, ctx, sub_job_id) for sub_job_id in ids]
    for future in futures:
        future.add_done_callback(left.one_done)
    forget = ctx.cancel.on_cancel(over.set)
    try:
        over.wait()
        if ctx.cancel.cancelled:
            wait(futures, timeout=CANCEL_GRACE_SECONDS)
        return [
            _result_of(future, sub_job_id) for future, sub_job_id in zip(futures, ids, strict=True)
        ]
    finally:
        forget()
        pool.shutdown(wait=False, cancel_futures=True)


class _Countdown:
    """Calls `then` when `count` sub-jobs have finished (from whichever thread ends the last)."""

    def __init__(self, count: int, then: Callable[[], None]) -> None:
        self._count = count
        self._then = then
        self._lock = Lock()
        if count == 0:
            then()

    def one_done(self, _future: Future[SubJobResult]) -> None:
        with self._lock:
            self._count -= 1
            last = self._count == 0
        if last:
            self._then()


def _guarded(ctx: Context, sub_job_id: str) -> SubJobResult:
    try:
        return process(ctx, sub_job_id)
    except Exception as exc:  # a defect must still end in a report, not a bare traceback
        ctx.log(f"{sub_job_id}: unexpected {type(exc).__name__}")
        return failure(sub_job_id, InternalError(type(exc).__name__))


def _result_of(future: Future[SubJobResult], sub_job_id: str) -> SubJobResult:
    if future.done() and not future.cancelled():
        return future.result()
    return failure(sub_job_id, Cancelled("the job was cancelled before this sub-job finished"))
