"""The token reaches no channel but the single mask command, whatever the run does."""

from __future__ import annotations

import pytest
from devtools.doubles.codearts import Simulator, Step

from tests.conftest import ID1, ID2, TOKEN, ActionRunner, Run, inputs_for

pytestmark = pytest.mark.e2e


def channels(run: Run) -> dict[str, str]:
    texts = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        "summary": run.summary,
        "outputs": "\n".join(f"{k}={v}" for k, v in run.outputs.items()),
    }
    for directory in (run.workspace, run.file_commands):
        for path in directory.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_bytes().decode("latin-1")
    return texts


def assert_token_only_masked(run: Run) -> None:
    mask_line = f"::add-mask::{TOKEN}"
    stdout_lines = run.stdout.splitlines()
    assert stdout_lines[0] == mask_line, "the mask must come before anything else"
    for name, content in channels(run).items():
        text = "\n".join(stdout_lines[1:]) if name == "stdout" else content
        assert TOKEN not in text, f"the token leaked into {name}"
        for part in TOKEN.split("-"):  # no recognisable fragment either
            assert len(part) < 8 or part not in text, f"a token fragment leaked into {name}"


@pytest.mark.parametrize(
    "scenario",
    ["success", "echoed-in-error", "echoed-on-200", "retry-then-fail", "debug-logging"],
)
def test_token_never_leaks(sim: Simulator, run_action: ActionRunner, scenario: str) -> None:
    env: dict[str, str] = {}
    if scenario == "echoed-in-error":
        sim.script(ID1, Step.json(401, {"error_code": "APIGW.0301", "error_msg": f"bad {TOKEN}"}))
    elif scenario == "echoed-on-200":
        sim.script(ID1, Step.json(200, {"errorCode": "CC.1", "errorMsg": f"token={TOKEN}"}))
    elif scenario == "retry-then-fail":
        page = f"<html>upstream saw X-Auth-Token: {TOKEN}</html>".encode()
        sim.script(ID1, *[Step.raw(503, page, "text/html")] * 10)
    elif scenario == "debug-logging":
        env = {"RUNNER_DEBUG": "1", "ACTIONS_STEP_DEBUG": "true"}
        sim.script(ID2, Step.json(500, {"error_code": "X", "error_msg": TOKEN * 3}))
    run = run_action(inputs_for(sim, ID1, ID2, timeout_seconds="3"), env=env)

    assert_token_only_masked(run)


def test_token_never_leaks_on_invalid_input(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action({**inputs_for(sim, "bad"), "endpoint": f"http://x.example/{TOKEN}"})

    assert run.outputs["error-code"] == "INVALID_INPUT"
    assert_token_only_masked(run)


def test_token_never_leaks_across_a_redirect(sim: Simulator, run_action: ActionRunner) -> None:
    with Simulator() as other:
        sim.script(ID1, Step.redirect(f"{other.base_url}/v1/log-file?sub_job_id={ID1}"))
        run = run_action(inputs_for(sim, ID1))
        seen = repr(other.requests)
    assert TOKEN not in seen
    assert_token_only_masked(run)
