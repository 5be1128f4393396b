"""Budgets and caps, end to end through the real entrypoint: a server that never finishes a line
is ended by `timeout-seconds`, an endless error body by the cap on what is read, and the artifact
upload has its own budget of the same length.

Servers here speak raw sockets (`devtools.doubles.slow`): one byte every 50 ms keeps every single
read inside its socket time-out while the status line, a header or a chunk-size line never ends.
"""

from __future__ import annotations

import json

import pytest
from devtools.doubles.codearts import Simulator
from devtools.doubles.results import EXAMPLE_JOB_ID, EXAMPLE_RUN_ID, make_runtime_token
from devtools.doubles.slow import Kind, SlowServer, answer

from codearts_check_logs.codearts import answers
from tests.conftest import ID1, TOKEN, ActionRunner, inputs_for
from tests.e2e.test_faults import SLACK, assert_failed

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("kind", ["status", "headers", "chunk-size"])
def test_a_line_that_never_ends_is_a_timeout_within_the_budget(
    run_action: ActionRunner, kind: Kind
) -> None:
    with SlowServer(answer(kind)) as server:
        run = run_action(
            {
                "sub-job-id": ID1,
                "token": TOKEN,
                "endpoint": server.url,
                "upload-artifact": "false",
                "timeout-seconds": "2",
            }
        )

    entry = assert_failed(run, "TIMEOUT")
    assert "timeout-seconds is 2" in run.outputs["error-message"]
    assert run.seconds < 2 + SLACK
    # A status line or header that never ended is no status at all.
    assert entry["http_status"] == (200 if kind == "chunk-size" else None)
    assert run.saved_files() == {}


def test_an_endless_error_body_keeps_its_status_and_ends_at_the_cap(
    run_action: ActionRunner,
) -> None:
    """It used to be read until the budget ran out (300 s by default), then reported as TIMEOUT
    without the 400 that had arrived at once."""
    endless = answer("body", status=400, content_type="text/html", interval=0, piece=1 << 16)
    with SlowServer(endless) as server:
        run = run_action(
            {
                "sub-job-id": ID1,
                "token": TOKEN,
                "endpoint": server.url,
                "upload-artifact": "false",
                "timeout-seconds": "120",
            }
        )

    entry = assert_failed(run, "HTTP_400")
    assert entry["http_status"] == 400
    message = run.outputs["error-message"]
    assert f"body of {answers.MAX_ERROR_BODY} bytes" in message
    assert "read no further" in message
    assert run.seconds < 30
    assert server.connections == 1, "a 400 is not retried"


def test_a_results_service_that_never_answers_ends_with_the_upload_budget(
    sim: Simulator, run_action: ActionRunner
) -> None:
    with SlowServer(answer("headers")) as results:
        run = run_action(
            inputs_for(sim, ID1, upload_artifact="true", timeout_seconds="2"),
            env={
                "ACTIONS_RUNTIME_TOKEN": make_runtime_token(EXAMPLE_RUN_ID, EXAMPLE_JOB_ID),
                "ACTIONS_RESULTS_URL": results.url + "/",
            },
        )

    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    assert "did not finish within timeout-seconds (2 s)" in run.outputs["error-message"]
    [entry] = json.loads(run.outputs["results"])
    assert entry["file"] == f"codearts-check-logs/{ID1}.zip", "the ZIP stays"
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}
    # The download and the upload each have the budget; the upload's ends it here.
    assert run.seconds < 2 + 2 + SLACK
