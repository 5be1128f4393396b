"""Choosing the way: exactly one, from the inputs or else the environment, and every
INVALID_INPUT case of the interface before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from codearts_check_logs.auth.ways import (
    AkSkAuth,
    AuthInputs,
    IdTokenRequest,
    OidcIam3Auth,
    OidcIam5Auth,
    PasswordAuth,
    TokenAuth,
    choose_way,
    session_name,
)
from codearts_check_logs.environment import SECRET_ENV, RunnerEnvironment
from codearts_check_logs.errors import InvalidInput
from codearts_check_logs.inputs.metadata import input_specs

TOKEN = "MIIEtoken-0123456789abcdef"
AK = "HPUAEXAMPLEACCESSKEY"
SK = "exampleSecretKey0123456789abcdefghijklmn"
ST = "gQpjbi1securitytoken-0123456789"
PASSWORD = "Pw-correct horse battery"
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
AGENCY = "iam::0123:agency:reader"
PROVIDER = "iam::0123:oidcProvider:github"
OIDC_ENV = {
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.actions.githubusercontent.com/x?api-version=2.0",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token-0123456789",
}


def choose(raw: Mapping[str, str], env: Mapping[str, str]) -> AuthInputs:
    return choose_way(raw, RunnerEnvironment.read(env))


def raw(**given: str) -> dict[str, str]:
    values = {name: spec.default for name, spec in input_specs().items()}
    values.update({k.replace("_", "-"): v for k, v in given.items()})
    return values


def refused(given: dict[str, str], env: dict[str, str] | None = None) -> str:
    with pytest.raises(InvalidInput) as caught:
        choose(raw(**given), env or {})
    return caught.value.message


# -- each way from its inputs --------------------------------------------------------------------


def test_token() -> None:
    assert choose(raw(token=TOKEN), {}) == TokenAuth(TOKEN)


def test_aksk_with_and_without_security_token_and_project() -> None:
    assert choose(raw(access_key_id=AK, secret_access_key=SK), {}) == AkSkAuth(AK, SK)
    chosen = choose(
        raw(access_key_id=AK, secret_access_key=SK, security_token=ST, project_id=PROJECT), {}
    )
    assert chosen == AkSkAuth(AK, SK, ST, PROJECT)


def test_iam_password() -> None:
    chosen = choose(raw(iam_user="ci-bot", iam_password=PASSWORD, iam_domain="acme"), {})
    assert chosen == PasswordAuth("ci-bot", PASSWORD, "acme")


def test_oidc_iam5() -> None:
    env = {**OIDC_ENV, "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "2"}
    chosen = choose(raw(oidc_agency_urn=AGENCY, oidc_provider_urn=PROVIDER), env)
    assert chosen == OidcIam5Auth(
        AGENCY,
        PROVIDER,
        IdTokenRequest(OIDC_ENV["ACTIONS_ID_TOKEN_REQUEST_URL"], "request-token-0123456789"),
        session_name="codearts-check-logs-4242-2",
    )


def test_oidc_iam3_with_audience_and_project() -> None:
    chosen = choose(
        raw(oidc_idp_id="github", oidc_audience="codearts", project_id=PROJECT), OIDC_ENV
    )
    assert isinstance(chosen, OidcIam3Auth)
    assert (chosen.idp_id, chosen.audience, chosen.project_id) == ("github", "codearts", PROJECT)


def test_secrets_stay_out_of_reprs() -> None:
    ways = [
        choose(raw(token=TOKEN), {}),
        choose(raw(access_key_id=AK, secret_access_key=SK, security_token=ST), {}),
        choose(raw(iam_user="ci-bot", iam_password=PASSWORD, iam_domain="acme"), {}),
        choose(raw(oidc_idp_id="github"), OIDC_ENV),
    ]
    for way in ways:
        text = repr(way)
        for secret in (TOKEN, AK, SK, ST, PASSWORD, OIDC_ENV["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]):
            assert secret not in text
    assert "ci-bot" in repr(ways[2])
    assert "github" in repr(ways[3])


# -- the environment fallback ---------------------------------------------------------------------

AUTH_ACTION_ENV = {
    "HUAWEI_CLOUD_ACCESS_KEY_ID": AK,
    "HUAWEI_CLOUD_SECRET_ACCESS_KEY": SK,
    "HUAWEI_CLOUD_PROJECT_ID": PROJECT,
}
SDK_ENV = {
    "HUAWEICLOUD_SDK_AK": "SDKEXAMPLEACCESSKEY0",
    "HUAWEICLOUD_SDK_SK": "sdkSecretKey0123456789abcdefghijklmnopqr",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN": ST,
    "HUAWEICLOUD_SDK_PROJECT_ID": "f" * 32,
}


def test_auth_action_variables_first() -> None:
    chosen = choose(raw(), {**SDK_ENV, **AUTH_ACTION_ENV})
    assert isinstance(chosen, AkSkAuth)
    assert (chosen.access_key, chosen.secret_key, chosen.security_token) == (AK, SK, "")
    assert chosen.project_id == PROJECT
    assert chosen.source == "HUAWEI_CLOUD_ACCESS_KEY_ID, HUAWEI_CLOUD_SECRET_ACCESS_KEY"


def test_sdk_variables_next() -> None:
    chosen = choose(raw(), SDK_ENV)
    assert chosen == AkSkAuth(
        SDK_ENV["HUAWEICLOUD_SDK_AK"],
        SDK_ENV["HUAWEICLOUD_SDK_SK"],
        ST,
        "f" * 32,
        source="HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK",
    )


def test_the_project_id_input_wins_over_the_environments() -> None:
    chosen = choose(raw(project_id=PROJECT), SDK_ENV)
    assert isinstance(chosen, AkSkAuth)
    assert chosen.project_id == PROJECT


def test_any_auth_input_turns_the_environment_off() -> None:
    assert choose(raw(token=TOKEN), {**AUTH_ACTION_ENV, **SDK_ENV}) == TokenAuth(TOKEN)


def test_the_secret_environment_variables() -> None:
    assert set(SECRET_ENV) == {
        "HUAWEI_CLOUD_ACCESS_KEY_ID",
        "HUAWEI_CLOUD_SECRET_ACCESS_KEY",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    }


# -- INVALID_INPUT --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"token": TOKEN, "access_key_id": AK, "secret_access_key": SK}, ["token", "AK/SK"]),
        ({"access_key_id": AK, "oidc_idp_id": "github"}, ["AK/SK", "OIDC, IAM v3"]),
        ({"iam_user": "u", "oidc_agency_urn": AGENCY}, ["IAM password", "OIDC, IAM 5"]),
        ({"security_token": ST, "token": TOKEN}, ["token", "AK/SK"]),
    ],
)
def test_two_ways_at_once(given: dict[str, str], named: list[str]) -> None:
    message = refused(given, OIDC_ENV)
    assert "more than one authentication way" in message
    for way in named:
        assert way in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"access_key_id": AK}, "access-key-id needs secret-access-key"),
        ({"secret_access_key": SK}, "secret-access-key needs access-key-id"),
        ({"security_token": ST}, "security-token needs access-key-id and secret-access-key"),
        ({"iam_user": "u", "iam_password": PASSWORD}, "needs iam-domain"),
        ({"iam_password": PASSWORD}, "iam-password needs iam-user and iam-domain"),
        ({"oidc_agency_urn": AGENCY}, "oidc-agency-urn needs oidc-provider-urn"),
        ({"oidc_provider_urn": PROVIDER}, "oidc-provider-urn needs oidc-agency-urn"),
        ({"oidc_audience": "codearts"}, "oidc-audience is given without an OIDC way"),
    ],
)
def test_an_incomplete_way(given: dict[str, str], expected: str) -> None:
    assert expected in refused(given, OIDC_ENV)


def test_nothing_anywhere_names_the_ways() -> None:
    message = refused({})
    assert message.startswith("no credentials")
    for name in (
        "token",
        "access-key-id",
        "iam-user",
        "oidc-agency-urn",
        "oidc-idp-id",
        "HUAWEI_CLOUD_ACCESS_KEY_ID",
        "HUAWEICLOUD_SDK_AK",
    ):
        assert name in message


@pytest.mark.parametrize(
    "given",
    [
        {"oidc_idp_id": "github"},
        {"oidc_agency_urn": AGENCY, "oidc_provider_urn": PROVIDER},
    ],
)
@pytest.mark.parametrize("missing", list(OIDC_ENV))
def test_oidc_without_the_runners_id_token_variables(given: dict[str, str], missing: str) -> None:
    env = {k: v for k, v in OIDC_ENV.items() if k != missing}
    assert "permissions: id-token: write" in refused(given, env)


def test_oidc_refuses_an_id_token_url_in_clear_text() -> None:
    env = {**OIDC_ENV, "ACTIONS_ID_TOKEN_REQUEST_URL": "http://runner.example/idtoken?x=1"}
    assert "ACTIONS_ID_TOKEN_REQUEST_URL: only https://" in refused({"oidc_idp_id": "g"}, env)


@pytest.mark.parametrize(
    ("given", "env", "name"),
    [
        ({"token": "MIIE123"}, {}, "token"),
        ({"access_key_id": "AK12345", "secret_access_key": SK}, {}, "access-key-id"),
        ({"access_key_id": AK, "secret_access_key": "sk12345"}, {}, "secret-access-key"),
        (
            {"access_key_id": AK, "secret_access_key": SK, "security_token": "st12345"},
            {},
            "security-token",
        ),
        ({}, {"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": "short"}, "HUAWEICLOUD_SDK_SK"),
        (
            {},
            {"HUAWEI_CLOUD_ACCESS_KEY_ID": "x", "HUAWEI_CLOUD_SECRET_ACCESS_KEY": SK},
            "HUAWEI_CLOUD_ACCESS_KEY_ID",
        ),
    ],
)
def test_secrets_shorter_than_8_characters(
    given: dict[str, str], env: dict[str, str], name: str
) -> None:
    assert f"{name} is shorter than 8 characters" in refused(given, env)


def test_an_incomplete_environment() -> None:
    message = refused({}, {"HUAWEICLOUD_SDK_AK": AK})
    assert message == "HUAWEICLOUD_SDK_AK is set in the environment without HUAWEICLOUD_SDK_SK"
    message = refused({}, {"HUAWEICLOUD_SDK_SECURITY_TOKEN": ST})
    assert "without HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK" in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"token": TOKEN, "project_id": PROJECT}, "project-id is not used with token"),
        ({"token": TOKEN, "oidc_audience": "x"}, "oidc-audience applies only to the OIDC ways"),
        ({"token": "has a space in it"}, "token contains spaces"),
        ({"access_key_id": "AK,0123456789", "secret_access_key": SK}, "without commas"),
        ({"access_key_id": AK, "secret_access_key": SK, "project_id": "a/b"}, "project-id"),
        ({"iam_user": "u\nv", "iam_password": PASSWORD, "iam_domain": "d"}, "iam-user"),
        ({"iam_user": "u", "iam_password": "failure", "iam_domain": "d"}, "shorter than 8"),
        ({"oidc_idp_id": "x" * 65}, "at most 64 characters"),
        ({"oidc_agency_urn": "a b", "oidc_provider_urn": PROVIDER}, "oidc-agency-urn"),
    ],
)
def test_values_that_cannot_be_sent(given: dict[str, str], expected: str) -> None:
    assert expected in refused(given, OIDC_ENV)


def test_session_names_keep_to_what_sts_accepts() -> None:
    assert session_name(RunnerEnvironment.read({})) == "codearts-check-logs"
    assert session_name(
        RunnerEnvironment.read({"GITHUB_RUN_ID": "12;rm -rf", "GITHUB_RUN_ATTEMPT": "1"})
    ) == ("codearts-check-logs-12rm-rf-1")
    assert len(session_name(RunnerEnvironment.read({"GITHUB_RUN_ID": "9" * 300}))) == 128
