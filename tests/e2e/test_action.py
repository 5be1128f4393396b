"""End to end: the real entrypoint, the runner's environment, the simulator on loopback."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from devtools.doubles.codearts import BAD_REQUEST_BODY, Simulator, Step

from tests.conftest import ID1, ID2, TOKEN, ActionRunner, Run, inputs_for

pytestmark = pytest.mark.e2e


def assert_failed(run: Run, code: str, *, returncode: int = 1) -> dict[str, object]:
    assert run.returncode == returncode, run.stdout + run.stderr
    assert run.outputs["status"] == "failure"
    assert run.outputs["error-code"] == code
    results = json.loads(run.outputs["results"])
    assert results[0]["status"] == "failure"
    assert results[0]["error_code"] == code
    level = "error" if returncode else "warning"
    assert any(line.startswith(f"::{level} ") for line in run.stdout.splitlines())
    assert not list(run.workspace.rglob("*.part")), "a temporary file was left behind"
    entry: dict[str, object] = results[0]
    return entry


def test_one_sub_job(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout + run.stderr
    expected = sim.zip_bytes(ID1)
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": expected}
    assert run.outputs["status"] == "success"
    assert run.outputs["file"] == f"codearts-check-logs/{ID1}.zip"
    assert run.outputs["size"] == str(len(expected))
    assert run.outputs["sha256"] == hashlib.sha256(expected).hexdigest()
    assert run.outputs["error-code"] == run.outputs["error-message"] == ""
    assert f"`{ID1}`" in run.summary
    assert "codecheck.log" in run.summary  # the member list
    [request] = sim.requests_for()
    assert request.query == {"sub_job_id": ID1}
    assert request.headers["X-Auth-Token"] == TOKEN
    assert run.stdout.splitlines()[0] == f"::add-mask::{TOKEN}"


def test_two_sub_jobs_and_duplicates(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action(inputs_for(sim, ID1, ID2, ID1))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.saved_files() == {
        f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1),
        f"codearts-check-logs/{ID2}.zip": sim.zip_bytes(ID2),
    }
    results = json.loads(run.outputs["results"])
    assert [r["sub_job_id"] for r in results] == [ID1, ID2]
    assert all(r["status"] == "success" for r in results)
    assert set(results[0]) == {
        "sub_job_id", "status", "file", "size", "sha256", "artifact_id",
        "artifact_url", "http_status", "error_code", "error_message", "problems",
    }  # fmt: skip
    assert run.outputs["file"] == results[0]["file"]
    assert len(sim.requests_for()) == 2


def test_one_failure_does_not_stop_the_other(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID2, Step.json(404, {"error_code": "APIGW.0101", "error_msg": "API not found"}))
    run = run_action(inputs_for(sim, ID1, ID2))

    assert run.returncode == 1
    results = {r["sub_job_id"]: r for r in json.loads(run.outputs["results"])}
    assert results[ID1]["status"] == "success"
    assert results[ID2]["error_code"] == "APIGW.0101"
    assert run.outputs["status"] == "failure"
    assert (run.workspace / f"codearts-check-logs/{ID1}.zip").is_file()
    assert "check the sub-job ID, region and endpoint" in run.summary


def test_400_documented_body(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.json(400, BAD_REQUEST_BODY))
    run = run_action(inputs_for(sim, ID1))

    entry = assert_failed(run, "CC.xxxxxxxx.400")
    assert entry["http_status"] == 400
    assert run.outputs["error-message"] == BAD_REQUEST_BODY["error_msg"]
    assert "CC.xxxxxxxx.400" in run.summary
    assert "Verify request parameter failed" in run.summary
    assert len(sim.requests_for()) == 1, "400 is never retried"


def test_401_documented_body_for_a_wrong_token(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action(inputs_for(sim, ID1, token="not-the-right-token-0123456789"))

    entry = assert_failed(run, "CC.00000003")
    assert entry["http_status"] == 401
    assert entry["error_message"] == "Authentication information expired."
    assert "Authentication information expired." in run.summary
    assert "IAM tokens last 24 hours" in run.summary
    assert len(sim.requests_for()) == 1, "401 is never retried"


def test_error_json_on_200(sim: Simulator, run_action: ActionRunner) -> None:
    body = {"error_code": "CC.00050010", "error_msg": "current user does not have permission"}
    sim.script(ID1, Step.json(200, body))
    run = run_action(inputs_for(sim, ID1))

    entry = assert_failed(run, "CC.00050010")
    assert entry["http_status"] == 200
    assert "current user does not have permission" in run.summary
    assert "codeartscheck:task:get" in run.summary
    assert run.saved_files() == {}


def test_v1_wrapped_error_on_200(sim: Simulator, run_action: ActionRunner) -> None:
    body = {"status": "error", "error": {"code": "CC.00050013", "message": "project not exist"}}
    sim.script(ID1, Step.json(200, body))
    run = run_action(inputs_for(sim, ID1))

    assert_failed(run, "CC.00050013")
    assert run.outputs["error-message"] == "project not exist"


def test_403_gateway_error_keeps_the_request_id(sim: Simulator, run_action: ActionRunner) -> None:
    body = {
        "error_code": "APIGW.0302",
        "error_msg": "The IAM user is not authorized to access the API.",
        "request_id": "7f3c2b1a9e8d4c5b6a7f8e9d0c1b2a3f",
    }
    sim.script(ID1, Step.json(403, body))
    run = run_action(inputs_for(sim, ID1))

    entry = assert_failed(run, "APIGW.0302")
    assert entry["http_status"] == 403
    assert "7f3c2b1a9e8d4c5b6a7f8e9d0c1b2a3f" in run.summary
    assert "codeartscheck:task:get" in run.summary
    assert len(sim.requests_for()) == 1, "403 is never retried"


def test_429_then_200_honours_retry_after(sim: Simulator, run_action: ActionRunner) -> None:
    throttled = {
        "error_code": "APIGW.0308",
        "error_msg": "The throttling threshold has been reached",
    }
    sim.script(ID1, Step.json(429, throttled, {"Retry-After": "1"}))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout
    assert len(sim.requests_for()) == 2
    assert "attempt 1 failed with APIGW.0308; retrying in 1.0 s" in run.stdout
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}


def test_503_then_200(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.raw(503, b"Service Unavailable", "text/plain"))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout
    assert len(sim.requests_for()) == 2


def test_502_html_that_never_recovers(sim: Simulator, run_action: ActionRunner) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1><script>alert(1)</script></body></html>"
    sim.script(ID1, *[Step.raw(502, page, "text/html")] * 10)
    run = run_action(inputs_for(sim, ID1, timeout_seconds="4"))

    entry = assert_failed(run, "HTTP_502")
    assert entry["http_status"] == 502
    assert "text/html" in run.outputs["error-message"]
    assert "<script>" not in run.summary
    assert "<html>" not in run.summary
    assert 2 <= len(sim.requests_for()) <= 5
    assert run.seconds < 4 + 5


def test_non_zip_200(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.raw(200, b"plain text, not a zip", "text/plain"))
    run = run_action(inputs_for(sim, ID1))

    entry = assert_failed(run, "INVALID_RESPONSE")
    assert entry["http_status"] == 200
    assert len(sim.requests_for()) == 1
    assert run.saved_files() == {}


def test_truncated_body_then_whole(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.truncate(0.5))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout
    assert len(sim.requests_for()) == 2
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}


def test_truncated_body_every_time(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, *[Step.truncate(0.6)] * 10)
    run = run_action(inputs_for(sim, ID1, timeout_seconds="4"))

    assert_failed(run, "INVALID_RESPONSE")
    assert "truncated" in run.outputs["error-message"]
    assert run.saved_files() == {}, "no partial file under the final name"


def test_stall_hits_timeout_seconds(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.stall(60))
    run = run_action(inputs_for(sim, ID1, timeout_seconds="2"))

    assert_failed(run, "TIMEOUT")
    assert "timeout-seconds is 2" in run.outputs["error-message"]
    assert run.seconds < 2 + 5


def test_slow_trickle_hits_timeout_seconds(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.trickle(60))
    run = run_action(inputs_for(sim, ID1, timeout_seconds="2"))

    assert_failed(run, "TIMEOUT")
    assert "still arriving" in run.outputs["error-message"]
    assert run.seconds < 2 + 5
    assert run.saved_files() == {}


def test_cross_host_redirect_drops_the_token(sim: Simulator, run_action: ActionRunner) -> None:
    with Simulator() as other:  # another origin (its own port), no token required
        sim.script(ID1, Step.redirect(f"{other.base_url}/v1/log-file?sub_job_id={ID1}"))
        run = run_action(inputs_for(sim, ID1))

        assert run.returncode == 0, run.stdout
        [followed] = other.requests_for()
        assert "X-Auth-Token" not in followed.headers
        assert TOKEN not in json.dumps([r.__dict__ for r in other.requests])
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": other.zip_bytes(ID1)}


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"sub-job-id": "too-short"}, "sub-job-id must be 32 characters"),
        ({"sub-job-id": "../" + "a" * 29}, "sub-job-id must be 32 characters"),
        ({"sub-job-id": "a" * 31 + "&"}, "sub-job-id must be 32 characters"),
        ({"sub-job-id": ""}, "sub-job-id is required"),
        ({"token": ""}, "no credentials: give one authentication way"),
        ({"endpoint": "", "region": "Not A Region"}, "region must look like cn-north-4"),
        ({"endpoint": "http://codearts.example.com"}, "only https:// endpoints"),
        ({"endpoint": "ftp://127.0.0.1/"}, "endpoint must be a full http(s) URL"),
        ({"timeout-seconds": "abc"}, "timeout-seconds must be a number"),
        ({"timeout-seconds": "-5"}, "timeout-seconds must be a number"),
        ({"retention-days": "91"}, "retention-days must be a whole number from 1 to 90"),
        ({"overwrite": "yes"}, "overwrite must be true or false"),
        ({"upload-artifact": "1"}, "upload-artifact must be true or false"),
        ({"path": "../outside"}, "path must stay inside the workspace"),
        ({"path": "/etc"}, "path must stay inside the workspace"),
        ({"artifact-name": "logs:{sub_job_id}"}, "artifact-name contains characters"),
    ],
)
def test_invalid_input_sends_nothing(
    sim: Simulator, run_action: ActionRunner, inputs: dict[str, str], fragment: str
) -> None:
    run = run_action({**inputs_for(sim, ID1), **inputs})

    assert run.returncode == 1
    assert run.outputs["status"] == "failure"
    assert run.outputs["error-code"] == "INVALID_INPUT"
    assert fragment in run.outputs["error-message"]
    assert run.outputs["results"] == "[]"
    assert "INVALID&#95;INPUT" in run.summary  # escaped like any code, so it shows literally
    assert any(line.startswith("::error ") for line in run.stdout.splitlines())
    assert sim.requests == [], "nothing may reach the service"


def test_every_problem_is_listed_at_once(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action({**inputs_for(sim, "bad"), "token": "", "retention-days": "91"})

    message = run.outputs["error-message"]
    for name in ("sub-job-id", "token", "retention-days"):
        assert name in message


def test_absent_inputs_take_the_action_yml_defaults(
    sim: Simulator, run_action: ActionRunner
) -> None:
    # The runner passes empty values as a bare `-e NAME`: they arrive absent.
    run = run_action(
        {"sub-job-id": ID1, "token": TOKEN, "endpoint": sim.base_url, "upload-artifact": ""},
        omit_defaults=True,
    )

    assert run.returncode == 0, run.stdout
    assert run.outputs["file"] == f"codearts-check-logs/{ID1}.zip"
    assert "Artifact upload skipped" in run.stdout  # upload-artifact defaulted to true


def test_fail_on_error_false_reports_but_succeeds(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action(inputs_for(sim, ID1, token="expired-token-0123456789", fail_on_error="false"))

    assert_failed(run, "CC.00000003", returncode=0)
    assert not any(line.startswith("::error") for line in run.stdout.splitlines())
    assert "Authentication information expired." in run.summary


def test_fail_on_error_false_with_invalid_input(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action({**inputs_for(sim, "bad", fail_on_error="false")})

    assert run.returncode == 0
    assert run.outputs["error-code"] == "INVALID_INPUT"
    assert any(line.startswith("::warning ") for line in run.stdout.splitlines())


def test_error_outputs_describe_the_first_sub_job_that_failed(
    sim: Simulator, run_action: ActionRunner
) -> None:
    sim.script(ID2, Step.json(403, {"error_code": "CC.00050010", "error_msg": "no permission"}))
    run = run_action(inputs_for(sim, ID1, ID2))

    assert run.returncode == 1
    assert run.outputs["status"] == "failure"
    assert run.outputs["file"] == f"codearts-check-logs/{ID1}.zip", "file describes the first"
    assert run.outputs["error-code"] == "CC.00050010"
    assert run.outputs["error-message"] == "no permission"


# -- one failure boundary: a runner file that cannot be written --------------------------------


@pytest.mark.parametrize("fail_on_error", ["true", "false"])
def test_a_summary_path_that_is_a_folder_is_reported_on_the_other_channels(
    sim: Simulator, run_action: ActionRunner, tmp_path: Path, fail_on_error: str
) -> None:
    folder = tmp_path / "summary-folder"
    folder.mkdir()
    run = run_action(
        inputs_for(sim, ID1, fail_on_error=fail_on_error),
        env={"GITHUB_STEP_SUMMARY": str(folder)},
    )

    assert run.returncode == 1, "the step fails whatever fail-on-error says"
    assert "Traceback" not in run.log
    assert run.outputs["status"] == "success", "the download itself succeeded"
    assert (
        "::error title=CodeArts Check logs::GITHUB_STEP_SUMMARY could not be written" in run.stdout
    )
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}


@pytest.mark.parametrize("output", ["folder", "missing-parent"])
def test_an_output_file_that_cannot_be_opened_is_reported_on_the_other_channels(
    sim: Simulator, run_action: ActionRunner, tmp_path: Path, output: str
) -> None:
    path = tmp_path / "out-folder" if output == "folder" else tmp_path / "no" / "such" / "file"
    if output == "folder":
        path.mkdir()
    run = run_action(inputs_for(sim, ID1, fail_on_error="false"), env={"GITHUB_OUTPUT": str(path)})

    assert run.returncode == 1
    assert "Traceback" not in run.log
    assert "GITHUB&#95;OUTPUT could not be written" in run.summary
    assert "::error title=CodeArts Check logs::GITHUB_OUTPUT could not be written" in run.stdout
