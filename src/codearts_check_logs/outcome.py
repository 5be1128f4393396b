"""What happened: one `SubJobResult` per sub-job, and the run's `Outcome`, the one record that
every renderer (summary, text, outputs, annotations) takes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .errors import ActionError, AuthFailed, is_local_code
from .textsafe import clean
from .ziplog.findings import Triage
from .ziplog.reader import Listing
from .ziplog.verify import Unverified

SUCCESS = "success"
FAILURE = "failure"


@dataclass(frozen=True)
class Failure:
    """A failure as reported: service text already cleaned and capped, ready for any channel."""

    code: str
    message: str
    http_status: int | None = None
    request_id: str = ""
    service: str = ""
    """For failed credential exchanges: which service refused, and at which step."""
    step: str = ""

    @classmethod
    def of(cls, error: ActionError) -> Failure:
        where = error if isinstance(error, AuthFailed) else None
        return cls(
            code=error.code if is_local_code(error.code) else clean(error.code, 200),
            message=clean(error.message),
            http_status=error.http_status,
            request_id=clean(error.request_id, 200),
            service=clean(where.service if where else "", 200),
            step=clean(where.step if where else "", 200),
        )


@dataclass(frozen=True)
class SubJobResult:
    """The outcome for one sub-job. Service text in it is already cleaned and capped; the names in
    `listing` and the lines in `triage` come from the ZIP raw, and each renderer cleans them."""

    sub_job_id: str
    status: str
    file: str = ""
    size: int | None = None
    sha256: str = ""
    artifact_id: str = ""
    artifact_url: str = ""
    artifact_name: str = ""
    http_status: int | None = None
    error_code: str = ""
    error_message: str = ""
    request_id: str = ""
    listing: Listing | None = None
    unverified: tuple[Unverified, ...] = ()
    """Members of the saved ZIP whose data was not checked (a ZIP bomb, encrypted, ...)."""
    triage: Triage | None = None
    """What triage found in the saved ZIP; None when triage is off or no ZIP was saved."""

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS

    @property
    def artifact_digest(self) -> str:
        """The artifact's SHA-256, as `actions/upload-artifact` names it: the ZIP's own digest,
        since the artifact's content is the ZIP; empty when no artifact was uploaded."""
        return self.sha256 if self.artifact_id else ""

    @property
    def problems(self) -> int | None:
        """Problem lines triage found in this sub-job's ZIP; None when it was not triaged."""
        return None if self.triage is None else self.triage.total_problems

    def failed_with(self, error: ActionError) -> SubJobResult:
        """This result marked failed by `error`, keeping what was already achieved."""
        failure = Failure.of(error)
        return replace(
            self,
            status=FAILURE,
            http_status=failure.http_status
            if failure.http_status is not None
            else self.http_status,
            error_code=failure.code,
            error_message=failure.message,
            request_id=failure.request_id or self.request_id,
        )

    def as_json(self) -> dict[str, Any]:
        """The `results` output entry, with exactly the fields the interface names."""
        return {
            "sub_job_id": self.sub_job_id,
            "status": self.status,
            "file": self.file,
            "size": self.size,
            "sha256": self.sha256,
            "artifact_id": self.artifact_id,
            "artifact_url": self.artifact_url,
            "http_status": self.http_status,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "problems": self.problems,
        }


def failure(sub_job_id: str, error: ActionError) -> SubJobResult:
    """A sub-job that produced no ZIP."""
    return SubJobResult(sub_job_id=sub_job_id, status=FAILURE).failed_with(error)


@dataclass(frozen=True)
class Outcome:
    """The whole run: per-sub-job results, or a failure that stopped the run before them."""

    results: tuple[SubJobResult, ...] = ()
    error: Failure | None = None
    """A run-level failure (bad input, refused credentials, a defect): no sub-job was attempted."""
    warnings: tuple[str, ...] = ()
    channel_errors: tuple[str, ...] = ()
    """Runner channels that could not be written (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY)."""
    cancelled: bool = False

    @classmethod
    def failed(cls, error: ActionError, *, warnings: tuple[str, ...] = ()) -> Outcome:
        return cls(error=Failure.of(error), warnings=warnings)

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and not self.channel_errors
            and not self.cancelled
            and all(r.ok for r in self.results)
        )

    @property
    def status(self) -> str:
        return SUCCESS if self.error is None and all(r.ok for r in self.results) else FAILURE

    @property
    def first(self) -> SubJobResult | None:
        return self.results[0] if self.results else None

    @property
    def first_failure(self) -> SubJobResult | None:
        return next((r for r in self.results if not r.ok), None)

    @property
    def failed_count(self) -> int:
        return sum(not r.ok for r in self.results)

    @property
    def problems(self) -> int | None:
        """Problem lines in every triaged ZIP together; None when no ZIP was triaged (triage off,
        or no sub-job saved one)."""
        counts = [r.problems for r in self.results if r.problems is not None]
        return sum(counts) if counts else None
