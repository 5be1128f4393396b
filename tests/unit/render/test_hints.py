"""Hints: well-known codes and statuses get a one-line fix; local codes keep their own."""

from __future__ import annotations

from codearts_check_logs.render.channel import ACTION, CLI
from codearts_check_logs.render.hints import _CODE_HINTS_AT_STEP, _HINTS, _STEP_HINTS, hint_for


def test_hints() -> None:
    assert "24 hours" in hint_for("APIG.0307", 401)
    assert "codeartscheck:task:get" in hint_for("HTTP_403", 403)
    assert "region and endpoint" in hint_for("HTTP_404", 404)
    assert hint_for("CC.99999999", 500) == ""


def test_an_artifact_failure_gets_no_hint_meant_for_codearts() -> None:
    assert hint_for("ARTIFACT_UPLOAD_FAILED", 403) == ""


def test_a_failed_exchange_gets_the_usual_causes_of_its_step() -> None:
    assert "MFA" in hint_for("AUTH_FAILED", 401, "password token")
    assert "iam-domain is the account name" in hint_for("AUTH_FAILED", 401, "password token")
    assert "project-id" in hint_for("APIGW.0301", 401, "project lookup")
    assert "id-token: write" in hint_for("AUTH_FAILED", 401, "ID token")
    sts = hint_for("STS5.3001", 403, "AssumeAgencyWithOIDC")
    assert "trust policy" in sts
    assert "client IDs must include the audience" in sts
    federation = hint_for("IAM.0001", 401, "id-token federation")
    assert "client_id must equal oidc-audience" in federation
    assert "JWKS" in federation
    # Not the CodeArts token hint that the status alone would pick.
    assert "24 hours" not in hint_for("AUTH_FAILED", 401, "password token")


def test_an_unreachable_credential_service_gets_a_network_hint() -> None:
    assert "iam-endpoint" in hint_for("NETWORK_ERROR", None, "password token")
    assert "timeout-seconds" in hint_for("TIMEOUT", None, "AssumeAgencyWithOIDC")


def test_a_sub_job_refused_for_an_earlier_refusal() -> None:
    assert "authentication inputs" in hint_for("AUTH_FAILED", None)


def test_one_template_two_phrasings() -> None:
    assert hint_for("NETWORK_ERROR", None).startswith("The runner could not reach the endpoint")
    assert hint_for("NETWORK_ERROR", None, channel=CLI).startswith("This machine could not")
    assert "the --region or --endpoint option" in hint_for("NETWORK_ERROR", None, channel=CLI)
    assert "raise it" in hint_for("TIMEOUT", None, channel=CLI)
    assert "--timeout-seconds" in hint_for("TIMEOUT", None, channel=CLI)
    assert "let the action obtain one" in hint_for("CC.00000003", 401)
    assert "let the command obtain one" in hint_for("CC.00000003", 401, channel=CLI)
    assert hint_for("CANCELLED", None, channel=CLI).startswith("The command was interrupted")
    assert "the step log" in hint_for("INTERNAL_ERROR", None, channel=ACTION)
    assert "-v" in hint_for("INTERNAL_ERROR", None, channel=CLI)
    assert "--output-dir" in hint_for("WRITE_FAILED", None, channel=CLI)
    assert "file commands" in hint_for("WRITE_FAILED", None, channel=ACTION)


def test_no_hint_speaks_of_the_runner_on_the_command_line_unless_github_is_the_cause() -> None:
    for code in _HINTS:
        text = hint_for(code, None, channel=CLI)
        for word in ("runner", "the step", "with: inputs", "job summary", "the action"):
            assert word not in text, (code, word)
        assert "{" not in text, "every field filled"
    for step in _STEP_HINTS:
        assert "{" not in hint_for("X", None, step, CLI) + hint_for("X", None, step, ACTION)
    for code in _CODE_HINTS_AT_STEP:
        assert "runner" not in hint_for(code, None, "x", CLI)
