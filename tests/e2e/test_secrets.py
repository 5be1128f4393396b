"""Every secret reaches no channel but its single mask command, whatever the run does, and is
sent only to the service it is for."""

from __future__ import annotations

import pytest
from devtools.doubles.cloud import HuaweiCloud, huawei_cloud
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


# -- every credential of every way: masked once, shown nowhere, sent only to its own service -----

ALLOWED = {
    "password": {"iam"},
    "access-key": {"iam", "codearts"},
    "security-token": {"iam", "codearts"},
    "secret-key": set(),
    "github-request-token": {"github-oidc"},
    "github-id-token": {"iam", "sts"},
}


def allowed_services(label: str) -> set[str]:
    kind = label.split(":", maxsplit=1)[0]
    if kind == "token":
        # IAM v3 federation's unscoped token goes back to IAM only; every other token is for
        # CodeArts Check alone.
        return {"iam"} if label.startswith("token:FederationUser:") else {"codearts"}
    return ALLOWED[kind]


def where_sent(cloud: HuaweiCloud, gateway: Simulator, secret: str) -> set[str]:
    return cloud.where_sent(secret) | ({"codearts"} if gateway.received(secret) else set())


def assert_every_credential_only_masked(
    run: Run, cloud: HuaweiCloud, gateway: Simulator, given: set[str]
) -> None:
    texts = channels(run)
    stdout_lines = run.stdout.splitlines()
    first_other = next(i for i, line in enumerate(stdout_lines) if "::add-mask::" not in line)
    checked = 0
    for label, secret in cloud.secrets().items():
        reached = where_sent(cloud, gateway, secret)
        assert reached <= allowed_services(label), f"{label} reached {reached}"
        holding = [line for line in stdout_lines if secret in line]
        assert holding in ([], [f"::add-mask::{secret}"]), f"{label} was printed"
        if reached or secret in given:  # used for sure: then it must have been masked
            assert holding, f"{label} was used but never masked"
            checked += 1
        if secret in given:  # an input or the environment: masked before anything else
            assert stdout_lines.index(f"::add-mask::{secret}") < first_other, label
        for name, text in texts.items():
            if name != "stdout":
                assert secret not in text, f"{label} leaked into {name}"
    assert checked >= 1


SCENARIOS = [
    "token",
    "aksk",
    "temporary-aksk",
    "password",
    "oidc-iam5",
    "oidc-iam3",
    "auth-action-env",
    "sdk-env",
    "password-refused",
    "sts-refused",
    "iam-refused-echoing",
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_credential_leaks_and_each_reaches_only_its_service(
    run_action: ActionRunner, scenario: str
) -> None:
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        inputs = {"sub-job-id": f"{ID1}\n{ID2}", "endpoint": gateway.base_url}
        inputs["upload-artifact"] = "false"
        env = {"RUNNER_DEBUG": "1", "ACTIONS_STEP_DEBUG": "true"}
        if scenario in {"auth-action-env", "sdk-env"}:
            names = (
                ("HUAWEI_CLOUD_ACCESS_KEY_ID", "HUAWEI_CLOUD_SECRET_ACCESS_KEY")
                if scenario == "auth-action-env"
                else ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK")
            )
            env[names[0]], env[names[1]] = cloud.access_key.access, cloud.access_key.secret
            inputs["iam-endpoint"] = cloud.iam.url
        elif scenario == "password-refused":
            inputs.update(cloud.inputs("password"))
            cloud.iam.fail_next(401, {"error": {"code": 401, "message": cloud.password}})
        elif scenario == "sts-refused":
            inputs.update({**cloud.inputs("oidc-iam5"), "oidc-audience": "not-a-client-id"})
            env.update(cloud.github.env())
        elif scenario == "iam-refused-echoing":
            inputs.update(cloud.inputs("oidc-iam3"))
            env.update(cloud.github.env())
            # A service that echoes a credential back: the echo is scrubbed too.
            echo = {"error_code": "IAM.0001", "error_msg": f"bad {cloud.github.request_token}"}
            cloud.iam.fail_next(401, echo, path="/v3.0/OS-CREDENTIAL/securitytokens")
        else:
            inputs.update(cloud.inputs(scenario))  # type: ignore[arg-type]
            if scenario.startswith("oidc-"):
                env.update(cloud.github.env())
        run = run_action(inputs, env=env)

        assert (run.returncode == 0) == (not scenario.endswith(("refused", "echoing")))
        given = set(inputs.values()) | set(env.values())
        assert_every_credential_only_masked(run, cloud, gateway, given)
