"""What happened to each sub-job: the one record that outputs, summary and annotations read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .errors import ActionError
from .logzip import Listing
from .textsafe import clean

SUCCESS = "success"
FAILURE = "failure"

_HINTS = {
    "CC.00000003": "The token has expired or was issued for another region. IAM tokens last "
    "24 hours: request a fresh project-scoped token for this region.",
    "APIGW.0307": "The token has expired or was issued for another region. IAM tokens last "
    "24 hours: request a fresh project-scoped token for this region.",
    "APIGW.0301": "The token is not a valid IAM token: pass the X-Subject-Token header of IAM's "
    "token API, unchanged.",
    "CC.00050010": "The IAM user needs the codeartscheck:task:get permission for this project.",
    "CC.00050011": "The IAM user is not a member of any CodeArts project: add it to the project.",
    "APIGW.0101": "No such API at this address: check the sub-job ID, region and endpoint.",
    "APIGW.0308": "Requests were throttled; the action retried. Spread parallel jobs out or "
    "retry later.",
    "TIMEOUT": "The download did not finish within timeout-seconds: raise it, or check the "
    "runner's network path to the endpoint.",
    "NETWORK_ERROR": "The runner could not reach the endpoint: check DNS, proxy and firewall "
    "settings, and the region or endpoint input.",
    "INVALID_RESPONSE": "The service did not deliver a complete ZIP. Re-run the job; if it "
    "persists, contact Huawei Cloud support with the request ID.",
    "INVALID_INPUT": "Fix the step's with: inputs; nothing was sent to the service.",
    "WRITE_FAILED": "The ZIP could not be written: check the path input, free disk space and "
    "folder permissions.",
}
_STATUS_HINTS = {
    401: "CC.00000003",
    403: "CC.00050010",
    404: "APIGW.0101",
    429: "APIGW.0308",
}


def hint_for(code: str, http_status: int | None) -> str:
    """A one-line fix for well-known codes (gateway codes match whatever their prefix)."""
    key = code.replace("APIG.", "APIGW.", 1) if code.startswith("APIG.") else code
    if key in _HINTS:
        return _HINTS[key]
    if http_status in _STATUS_HINTS:
        return _HINTS[_STATUS_HINTS[http_status]]
    return ""


@dataclass(frozen=True)
class SubJobResult:
    """The outcome for one sub-job. Service text in it is already cleaned and capped."""

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
    hint: str = ""
    listing: Listing | None = None

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS

    def failed_with(self, error: ActionError) -> SubJobResult:
        """This result marked failed by `error`, keeping what was already achieved."""
        return replace(
            self,
            status=FAILURE,
            http_status=error.http_status if error.http_status is not None else self.http_status,
            error_code=clean(error.code, 200),
            error_message=clean(error.message),
            request_id=clean(error.request_id, 200) or self.request_id,
            hint=hint_for(error.code, error.http_status),
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
        }


def failure(sub_job_id: str, error: ActionError) -> SubJobResult:
    """A sub-job that produced no ZIP."""
    return SubJobResult(sub_job_id=sub_job_id, status=FAILURE).failed_with(error)
