"""action.yml as the single source of the inputs' and outputs' names and defaults."""

from __future__ import annotations

from codearts_check_logs.inputs.metadata import action_metadata, input_specs


def test_action_yml_declares_the_interface() -> None:
    specs = input_specs()
    assert list(specs) == [
        "sub-job-id", "region", "endpoint", "iam-endpoint", "sts-endpoint", "token",
        "access-key-id", "secret-access-key", "security-token", "project-id", "iam-user",
        "iam-password", "iam-domain", "oidc-agency-urn", "oidc-provider-urn", "oidc-idp-id",
        "oidc-audience", "path", "upload-artifact", "artifact-name", "retention-days",
        "overwrite", "triage", "triage-pattern", "fail-on-error", "timeout-seconds",
    ]  # fmt: skip
    assert specs["sub-job-id"].required
    assert specs["region"].default == ""
    assert specs["timeout-seconds"].default == "300"
    assert specs["artifact-name"].default == "codearts-check-logs-{sub_job_id}.zip"
    assert tuple(action_metadata()["outputs"]) == (
        "status", "file", "size", "sha256", "artifact-digest", "artifact-id", "artifact-url",
        "error-code", "error-message", "problems", "results",
    )  # fmt: skip
