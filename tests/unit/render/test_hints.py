"""Hints: well-known codes and statuses get a one-line fix; local codes keep their own."""

from __future__ import annotations

from codearts_check_logs.render.hints import hint_for


def test_hints() -> None:
    assert "24 hours" in hint_for("APIG.0307", 401)
    assert "codeartscheck:task:get" in hint_for("HTTP_403", 403)
    assert "region and endpoint" in hint_for("HTTP_404", 404)
    assert hint_for("CC.99999999", 500) == ""


def test_an_artifact_failure_gets_no_hint_meant_for_codearts() -> None:
    assert hint_for("ARTIFACT_UPLOAD_FAILED", 403) == ""
