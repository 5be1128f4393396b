"""Every secret reaches no channel but its single mask command, whatever the run does, and is
sent only to the service it is for."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, quote_plus

import pytest
from devtools.doubles.cloud import HuaweiCloud, huawei_cloud
from devtools.doubles.codearts import Simulator, Step
from devtools.doubles.iam import TOKENS_PATH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codearts_check_logs import masking
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
    masks = [line for line in stdout_lines if line.startswith("::add-mask::")]
    assert stdout_lines[: len(masks)] == masks, "every spelling is masked before anything else"
    for name, content in channels(run).items():
        text = "\n".join(stdout_lines[len(masks) :]) if name == "stdout" else content
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


# -- every spelling of a secret a service may echo: masked, and scrubbed from every channel ----

_ECHOED = st.sampled_from(list("\"\\+&<>'/%=#?;:~ äöß€中文密码错误失败😀𝄞"))
_ANY = st.characters(min_codepoint=0x21, max_codepoint=0x2FFFF, blacklist_categories=("Cs", "Cc"))
PASSWORDS = st.text(st.one_of(_ECHOED, _ANY), min_size=8, max_size=24).filter(
    lambda p: p == p.strip() and len(p.strip()) >= 8
)
TOKENS = st.text(
    st.one_of(
        st.sampled_from(list("\"\\+&<>'/%=#?;:~")),
        st.characters(min_codepoint=0x21, max_codepoint=0x7E),
    ),
    min_size=12,
    max_size=40,
).map(lambda t: "MIIE" + t)


def judged_spellings(secret: str) -> set[str]:
    """The spellings a reader would recognise, worked out here with the standard library alone
    (not with the code under test)."""
    forms = {secret}
    for ascii_only in (True, False):
        body = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        upper = re.sub(r"(\\\\)|\\u([0-9a-f]{4})", lambda m: m[1] or "\\u" + m[2].upper(), body)
        forms |= {body, upper}
    forms |= {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    forms |= {html.escape(secret), html.escape(secret, quote=False)}
    numeric = "".join(ch if ch.isalnum() and ch.isascii() else f"&#{ord(ch)};" for ch in secret)
    hexadecimal = "".join(
        ch if ch.isalnum() and ch.isascii() else f"&#x{ord(ch):X};" for ch in secret
    )
    return forms | {numeric, hexadecimal}


def assert_no_spelling_leaks(run: Run, secret: str) -> None:
    """No spelling of `secret` on any channel but the mask commands, and each spelling of it a
    service echoed was masked with the runner too."""
    forms = judged_spellings(secret)
    masks = {  # the command's data as the runner reads it back (`%`, CR and LF escaped)
        line.removeprefix("::add-mask::")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
        for line in run.stdout.splitlines()
        if line.startswith("::add-mask::")
    }
    for name, content in channels(run).items():
        lines = content.splitlines()
        if name == "stdout":
            lines = [line for line in lines if not line.startswith("::add-mask::")]
        text = "\n".join(lines)
        for form in forms:
            assert form not in text, f"{form!r} (a spelling of {secret!r}) leaked into {name}"
    assert forms <= masks, f"not masked: {forms - masks}"


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(password=PASSWORDS)
def test_a_password_iam_quotes_back_in_its_refusal_is_scrubbed_in_every_spelling(
    run_action: ActionRunner, password: str
) -> None:
    """IAM quotes the request body (JSON-escaped: `\\u00e4`, `\\"`, `\\\\`, surrogate pairs)
    back in its refusal."""
    masking.clear()
    with huawei_cloud() as cloud:
        cloud.iam.echo_next(400, "IAM.0011", path=TOKENS_PATH)
        inputs = {**cloud.inputs("password"), "iam-password": password}
        run = run_action({"sub-job-id": f"{ID1}\n{ID2}", **inputs, "endpoint": cloud.iam.url})
        echoed = cloud.iam.calls(TOKENS_PATH)[0].response.decode()

    assert run.outputs["error-code"] == "IAM.0011"
    assert run.outputs["status"] == "failure"
    assert json.dumps(password)[1:-1] in json.loads(echoed)["error_msg"] or password.isascii()
    assert_no_spelling_leaks(run, password)


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(token=TOKENS)
def test_a_token_a_service_echoes_html_url_or_json_escaped_is_scrubbed(
    run_action: ActionRunner, token: str
) -> None:
    """CodeArts refuses with an error page that HTML-escapes the token (`+` as `&#43;`), a
    message that quotes it URL-encoded, and one that quotes it JSON-escaped."""
    masking.clear()
    page = (
        f"<html><body><p>X-Auth-Token: {html.escape(token)}</p><p>"
        + "".join(f"&#{ord(ch)};" if not ch.isalnum() else ch for ch in token)
        + f"</p><a href='/retry?token={quote_plus(token)}'>retry</a></body></html>"
    )
    with Simulator(token=token) as sim:
        sim.script(ID1, Step.json(403, {"error_code": "APIGW.0302", "error_msg": page}))
        sim.script(ID2, Step.json(400, {"error_code": "X.1", "error_msg": json.dumps(token)}))
        run = run_action(inputs_for(sim, ID1, ID2, token=token))
        assert len(sim.requests) == 2

    codes = [entry["error_code"] for entry in json.loads(run.outputs["results"])]
    assert codes == ["APIGW.0302", "X.1"], "the echoing answers were served"
    assert run.outputs["status"] == "failure"
    assert_no_spelling_leaks(run, token)


# -- a value refused as a secret is refused before it is masked; no secret edits a fixed value ---


@pytest.mark.parametrize("token", ["e", "fail", "failure"])
def test_a_token_too_short_is_refused_before_it_is_masked(
    sim: Simulator, run_action: ActionRunner, token: str
) -> None:
    run = run_action(inputs_for(sim, ID1, token=token))

    assert run.outputs["error-code"] == "INVALID_INPUT"
    assert run.outputs["status"] == "failure"
    assert "::add-mask::" not in run.stdout
    assert "token is shorter than 8 characters" in run.outputs["error-message"]
    assert sim.requests == []


def test_the_password_failure_is_refused_and_leaves_status_alone(run_action: ActionRunner) -> None:
    with huawei_cloud() as cloud:
        inputs = {**cloud.inputs("password"), "iam-password": "failure"}
        run = run_action({"sub-job-id": ID1, **inputs})
        sent = cloud.requests()

    assert sent == []
    assert run.outputs["status"] == "failure"
    assert run.outputs["error-code"] == "INVALID_INPUT"
    assert "iam-password is shorter than 8 characters" in run.outputs["error-message"]
    assert "::add-mask::failure" not in run.stdout


def test_a_secret_that_is_a_fixed_value_does_not_change_it(run_action: ActionRunner) -> None:
    """A token that happens to be a local code (`HTTP_404`), and a service that echoes it: the
    code and the status stay whole."""
    token = "HTTP_404"
    with Simulator(token=token) as sim:
        page = f"<html>upstream saw {token}</html>".encode()
        sim.script(ID1, Step.raw(404, page, "text/html"))
        run = run_action(inputs_for(sim, ID1, token=token))

    assert run.outputs["error-code"] == "HTTP_404"
    assert run.outputs["status"] == "failure"
    results = json.loads(run.outputs["results"])
    assert (results[0]["error_code"], results[0]["status"]) == ("HTTP_404", "failure")
