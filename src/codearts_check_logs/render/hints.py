"""One-line fixes for well-known error codes, shown beside the error wherever it is reported."""

from __future__ import annotations

_EXPIRED = (
    "The token has expired or was issued for another region. IAM tokens last 24 hours: request "
    "a fresh project-scoped token for this region, or let the action obtain one (AK/SK, IAM "
    "password or OIDC)."
)
_HINTS = {
    "CC.00000003": _EXPIRED,
    "APIGW.0307": _EXPIRED,
    "APIGW.0301": "The credentials were not accepted: pass the X-Subject-Token header of IAM's "
    "token API unchanged, or check the access key and secret key.",
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
    "WRITE_FAILED": "A file could not be written: check the path input, free disk space and "
    "folder permissions, and that the runner's file commands are usable.",
    "CANCELLED": "The job was cancelled (or timed out at the job level) before this finished.",
    "INTERNAL_ERROR": "This is a defect of the action: please report it with the step log.",
    # Its message says what to do; the status it carries is the artifact service's, not CodeArts'.
    "ARTIFACT_UPLOAD_FAILED": "",
}
_STATUS_HINTS = {
    401: "CC.00000003",
    403: "CC.00050010",
    404: "APIGW.0101",
    429: "APIGW.0308",
}


def hint_for(code: str, http_status: int | None) -> str:
    """A one-line fix for a well-known code (gateway codes match whatever their prefix), else a
    fix for the HTTP status, else nothing."""
    key = code.replace("APIG.", "APIGW.", 1) if code.startswith("APIG.") else code
    if key in _HINTS:
        return _HINTS[key]
    if http_status in _STATUS_HINTS:
        return _HINTS[_STATUS_HINTS[http_status]]
    return ""
