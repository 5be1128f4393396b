"""One-line fixes for well-known error codes, shown beside the error wherever it is reported.

Written once, as templates: `{machine}`, `{timeout-seconds}` and the like are filled with the
words of the channel that shows the hint (`channel.ACTION` for the step, `channel.CLI` for the
terminal), so the action and the command line give the same advice in their own terms."""

from __future__ import annotations

from .channel import ACTION, Channel

_EXPIRED = (
    "The token has expired or was issued for another region. IAM tokens last 24 hours: request "
    "a fresh project-scoped token for this region, or let {we} obtain one (AK/SK, IAM "
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
    "APIGW.0308": "Requests were throttled; {we} retried. Spread parallel jobs out or retry later.",
    "TIMEOUT": "The download did not finish within {timeout-seconds}: raise it, or check the "
    "network path from {machine} to the endpoint.",
    "NETWORK_ERROR": "{Machine} could not reach the endpoint: check DNS, proxy and firewall "
    "settings, and the {region} or {endpoint} {input}.",
    "INVALID_RESPONSE": "The service did not deliver a complete ZIP. {Rerun}; if it "
    "persists, contact Huawei Cloud support with the request ID.",
    "INVALID_INPUT": "{fix_inputs}; nothing was sent to the service.",
    "AUTH_FAILED": "The credentials were refused, or a credential service answered something "
    "unusable: check {auth_inputs} (docs/authentication.md).",
    "WRITE_FAILED": "A file could not be written: check the {path} {input}, free disk space "
    "and folder permissions{and_file_commands}.",
    "CANCELLED": "{stopped}",
    "INTERNAL_ERROR": "This is a defect of {we}: please report it with {report_with}.",
    # Its message says what to do; the status it carries is the artifact service's, not CodeArts'.
    "ARTIFACT_UPLOAD_FAILED": "",
}
# Failed credential exchanges, by the step that failed (`AuthFailed.step`): the usual causes.
_STEP_HINTS = {
    "password token": "IAM refused the user, password or domain (it does not say which): "
    "{iam-domain} is the account name, not the user's; a user with login protection (MFA) or a "
    "HUAWEI ID gets no token for a password. Use an IAM user without MFA for this, or AK/SK or "
    "OIDC.",
    "project lookup": "IAM refused the signed project lookup or listed no project for the "
    "region: check the access key and secret key (five failures in a row lock the key for five "
    "minutes) and region, or give {project-id}.",
    "ID token": "GitHub gave no ID token: the job needs `permissions: id-token: write` (pull "
    "requests from forks get none); re-run the job if the runner's request token expired.",
    "AssumeAgencyWithOIDC": "STS refused the GitHub ID token: the OIDC provider's URL must be "
    "https://token.actions.githubusercontent.com and its client IDs must include the audience "
    "({oidc-audience}, default https://github.com/<owner>); the agency's trust policy must allow "
    "this repository's `sub` or `repository` claim; check both URNs.",
    "id-token federation": "IAM refused the GitHub ID token: the identity provider's client_id "
    "must equal {oidc-audience}, its signing_key must hold GitHub's current JWKS (paste it again "
    "after GitHub rotates keys), and a mapping rule must match this repository's `sub` claim; "
    "check {oidc-idp-id}.",
    "temporary credentials": "IAM would not turn the federated token into temporary AK/SK: "
    "check that the identity provider allows programmatic access and maps to a user group.",
}
_CODE_HINTS_AT_STEP = {
    # Network trouble and time-outs name the service that could not be reached.
    "NETWORK_ERROR": "{Machine} could not reach the credential service: check "
    "{iam-endpoint}, {sts-endpoint} and {region}, and DNS, proxy and firewall settings.",
    "TIMEOUT": "The credential service did not answer within {timeout-seconds}: check the "
    "network path from {machine} to it, or raise {timeout-seconds}.",
}
_STATUS_HINTS = {
    401: "CC.00000003",
    403: "CC.00050010",
    404: "APIGW.0101",
    429: "APIGW.0308",
}


def hint_for(code: str, http_status: int | None, step: str = "", channel: Channel = ACTION) -> str:
    """A one-line fix for a well-known code (gateway codes match whatever their prefix), else a
    fix for the HTTP status, else nothing, in the words of `channel`. A failed credential
    exchange (`step` given) gets the usual causes of that step instead."""
    return channel.fill(_template(code, http_status, step))


def _template(code: str, http_status: int | None, step: str) -> str:
    if step:
        return _CODE_HINTS_AT_STEP.get(code) or _STEP_HINTS.get(step, "")
    key = code.replace("APIG.", "APIGW.", 1) if code.startswith("APIG.") else code
    if key in _HINTS:
        return _HINTS[key]
    if http_status in _STATUS_HINTS:
        return _HINTS[_STATUS_HINTS[http_status]]
    return ""
