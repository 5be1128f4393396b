"""A whole Huawei Cloud credential landscape on loopback: one account, IAM, STS and GitHub's
ID-token endpoint, set up so that each of the action's five authentication ways works.

    with huawei_cloud() as cloud:
        env = cloud.action_env("oidc-iam5")  # INPUT_* variables + the runner's OIDC variables
        ...
        assert cloud.where_sent(cloud.password) <= {"iam"}

The CodeArts Check endpoint is not part of this: point the action's `endpoint` input at the
CodeArts double, which authenticates requests through `cloud.account`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, get_args

from devtools.doubles import signing
from devtools.doubles.account import (
    AccessKey,
    Account,
    Agency,
    ClaimCondition,
    Clock,
    Condition,
    IdentityProvider,
    IssuedToken,
    OidcProvider,
    User,
)
from devtools.doubles.base import DoubleServer, RecordedRequest, stop_all
from devtools.doubles.github_oidc import GithubOidcDouble, Trigger
from devtools.doubles.iam import IamDouble
from devtools.doubles.sts import StsDouble

AuthWay = Literal["token", "aksk", "temporary-aksk", "password", "oidc-iam5", "oidc-iam3"]
AUTH_WAYS: tuple[AuthWay, ...] = get_args(AuthWay)
USER = "ci-bot"
MFA_USER = "mfa-bot"
IDP_ID = "github-actions"
IAM3_AUDIENCE = "codearts-check-logs"
"""The client ID of the IAM v3 identity provider: a custom audience the action must request."""


@dataclass
class HuaweiCloud:
    """The running doubles and the account's credentials for every way (see `inputs`)."""

    region: str
    account: Account
    iam: IamDouble
    sts: StsDouble
    github: GithubOidcDouble
    user: User
    mfa_user: User
    access_key: AccessKey
    token: IssuedToken
    temporary: AccessKey
    provider: OidcProvider
    agency: Agency
    idp: IdentityProvider

    @property
    def password(self) -> str:
        return self.user.password

    @property
    def project_id(self) -> str:
        found = self.account.project_id(self.region)
        if found is None:
            raise LookupError(f"the account has no project for {self.region}")
        return found

    def doubles(self) -> list[DoubleServer]:
        return [self.iam, self.sts, self.github]

    def endpoint_inputs(self) -> dict[str, str]:
        return {"region": self.region, "iam-endpoint": self.iam.url, "sts-endpoint": self.sts.url}

    def inputs(self, way: AuthWay, *, project_id: bool = False) -> dict[str, str]:
        """Action inputs (kebab-case names) for `way`, plus the IAM and STS endpoints; with
        `project_id`, the `project-id` input too (else the action looks it up at IAM)."""
        credentials: dict[str, str]
        if way == "token":
            credentials = {"token": self.token.value}
        elif way == "aksk":
            credentials = {
                "access-key-id": self.access_key.access,
                "secret-access-key": self.access_key.secret,
            }
        elif way == "temporary-aksk":
            credentials = {
                "access-key-id": self.temporary.access,
                "secret-access-key": self.temporary.secret,
                "security-token": self.temporary.security_token or "",
            }
        elif way == "password":
            credentials = {
                "iam-user": self.user.name,
                "iam-password": self.user.password,
                "iam-domain": self.account.domain_name,
            }
        elif way == "oidc-iam5":
            credentials = {
                "oidc-provider-urn": self.provider.urn,
                "oidc-agency-urn": self.agency.urn,
            }
        else:
            credentials = {"oidc-idp-id": self.idp.idp_id, "oidc-audience": self.idp.client_id}
        extra = {"project-id": self.project_id} if project_id else {}
        return {**self.endpoint_inputs(), **credentials, **extra}

    def action_env(self, way: AuthWay, *, project_id: bool = False) -> dict[str, str]:
        """Environment for a container action run: `INPUT_<NAME>` for each input (hyphens
        kept, as the runner does) and, for the keyless ways, the runner's OIDC variables."""
        env = {
            f"INPUT_{name.upper()}": value
            for name, value in self.inputs(way, project_id=project_id).items()
        }
        if way.startswith("oidc-"):
            env.update(self.github.env())
        return env

    def secrets(self) -> dict[str, str]:
        """Every credential configured or issued so far, labelled, for leak scans."""
        return {**self.account.secrets(), **self.github.secrets()}

    def requests(self) -> list[RecordedRequest]:
        """Every request any double received, oldest first."""
        return sorted((r for d in self.doubles() for r in d.calls()), key=lambda r: r.at)

    def where_sent(self, secret: str) -> set[str]:
        """The services that received `secret` (`iam`, `sts`, `github-oidc`)."""
        return {double.service for double in self.doubles() if double.received(secret)}

    def sign(
        self, method: str, url: str, *, body: bytes = b"", temporary: bool = False
    ) -> dict[str, str]:
        """Headers for a request signed with the permanent (or temporary) AK/SK, for tests."""
        key = self.temporary if temporary else self.access_key
        return signing.sign(
            key.access,
            key.secret,
            method,
            url,
            body=body,
            date=signing.sdk_date(self.account.clock()),
            security_token=key.security_token,
        )


@contextmanager
def huawei_cloud(
    region: str = "cn-north-4",
    *,
    owner: str = "example-org",
    repo: str = "example-repo",
    ref: str = "refs/heads/main",
    trigger: Trigger | None = None,
    agency_condition: Condition | None = None,
    idp_condition: Condition | None = None,
    clock: Clock = time.time,
    verifier: signing.Verifier = "auto",
) -> Iterator[HuaweiCloud]:
    """Start the account's IAM, STS and GitHub OIDC doubles for `owner/repo`, whose job runs for
    `trigger` (else a push to `ref`).

    The IAM 5 provider accepts GitHub's default audience and its agency trusts tokens under
    `agency_condition` (by default: `repository` is `owner/repo`); the IAM v3 identity provider
    wants the custom audience `codearts-check-logs` and maps tokens under `idp_condition` (by
    default: `sub` is like `repo:owner/repo:*`).
    """
    account = Account(clock=clock, verifier=verifier)
    github = GithubOidcDouble(owner=owner, repo=repo, ref=ref, trigger=trigger, clock=clock)
    repository = f"{owner}/{repo}"
    conditions = (
        agency_condition or ClaimCondition("repository", (repository,)),
        idp_condition or ClaimCondition("sub", (f"repo:{repository}:*",), like=True),
    )
    iam, sts = IamDouble(account), StsDouble(account)
    started: list[DoubleServer] = []
    try:
        for double in (github, iam, sts):
            started.append(double.start())
        yield _set_up(account, region, github, iam, sts, conditions)
    finally:
        stop_all(started)


def _set_up(
    account: Account,
    region: str,
    github: GithubOidcDouble,
    iam: IamDouble,
    sts: StsDouble,
    conditions: tuple[Condition, Condition],
) -> HuaweiCloud:
    project = account.add_project(region)
    account.add_project("cn-south-1" if region != "cn-south-1" else "cn-north-4")
    user = account.add_user(USER, "Pw-" + secrets.token_urlsafe(18))
    mfa_user = account.add_user(MFA_USER, "Pw-" + secrets.token_urlsafe(18), mfa=True)
    provider = account.add_oidc_provider(
        "github", client_ids=[github.default_audience], jwks_url=github.jwks_url
    )
    agency = account.add_agency(
        "codearts-check-logs-reader",
        provider_urn=provider.urn,
        condition=conditions[0],
    )
    idp = account.add_identity_provider(
        IDP_ID,
        client_id=IAM3_AUDIENCE,
        signing_key=github.jwks(),
        condition=conditions[1],
    )
    return HuaweiCloud(
        region=region,
        account=account,
        iam=iam,
        sts=sts,
        github=github,
        user=user,
        mfa_user=mfa_user,
        access_key=account.add_access_key(USER),
        token=account.issue_token(USER, project_id=project),
        temporary=account.issue_temporary(USER, duration=3600, origin="securitytokens"),
        provider=provider,
        agency=agency,
        idp=idp,
    )
