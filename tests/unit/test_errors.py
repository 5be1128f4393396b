"""Typed failures: each carries the code users see, and no registered secret in its text."""

from __future__ import annotations

import pytest

from codearts_check_logs import masking
from codearts_check_logs.errors import (
    ActionError,
    ArtifactUploadFailed,
    AuthFailed,
    Cancelled,
    DownloadTimeout,
    HttpStatusError,
    InternalError,
    InvalidInput,
    InvalidResponse,
    NetworkError,
    ServiceError,
    WriteFailed,
    is_local_code,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput("x"), "INVALID_INPUT"),
        (InvalidResponse("x"), "INVALID_RESPONSE"),
        (NetworkError("x"), "NETWORK_ERROR"),
        (DownloadTimeout("x"), "TIMEOUT"),
        (ArtifactUploadFailed("x"), "ARTIFACT_UPLOAD_FAILED"),
        (Cancelled("x"), "CANCELLED"),
        (WriteFailed("x"), "WRITE_FAILED"),
        (InternalError("KeyError"), "INTERNAL_ERROR"),
        (AuthFailed("x", service="IAM", step="password token"), "AUTH_FAILED"),
        (HttpStatusError(502, "x"), "HTTP_502"),
        (ServiceError("x", code="CC.00000003"), "CC.00000003"),
    ],
)
def test_each_failure_carries_its_code(error: ActionError, code: str) -> None:
    assert error.code == code
    assert str(error).startswith(f"{code}: ")


def test_only_network_errors_are_retryable_by_default() -> None:
    assert NetworkError("x").retryable
    assert not InvalidResponse("x").retryable
    assert InvalidResponse("x", retryable=True).retryable


def test_a_service_code_replaces_auth_failed() -> None:
    error = AuthFailed("refused", service="IAM", step="password token", code="IAM.0004")
    assert (error.code, error.service, error.step) == ("IAM.0004", "IAM", "password token")


def test_an_internal_error_names_the_exception_type_only() -> None:
    assert InternalError("ValueError").message == (
        "unexpected ValueError (a bug); please report it with the step log"
    )


def test_registered_secrets_never_reach_the_text() -> None:
    masking.register("secret-value-123")
    error = ServiceError(
        "echo secret-value-123", code="CC.secret-value-123", request_id="secret-value-123"
    )
    assert "secret-value-123" not in f"{error} {error.code} {error.request_id} {error.args}"


def test_local_codes_are_fixed_values_never_scrubbed() -> None:
    """A secret that happens to be a local code, or a part of one, leaves the code whole."""
    masking.register("INTERNAL")
    masking.register("HTTP_500")
    assert InternalError("KeyError").code == "INTERNAL_ERROR"
    assert HttpStatusError(500, "x").code == "HTTP_500"
    assert ServiceError("x", code="INTERNAL-1").code == "***-1"
    assert is_local_code("HTTP_404")
    assert is_local_code("AUTH_FAILED")
    assert not is_local_code("CC.00000003")
    assert not is_local_code("HTTP_4040")
