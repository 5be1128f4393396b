"""GitHub Actions' OIDC ID-token endpoint, and the JWKS that relying parties check tokens with.

What a container action sees, per GitHub's OIDC docs and `@actions/core`'s `getIDToken`: the runner
sets `ACTIONS_ID_TOKEN_REQUEST_URL` (which already carries `?api-version=2.0`) and
`ACTIONS_ID_TOKEN_REQUEST_TOKEN` when the job has `permissions: id-token: write`; the action calls
`GET <url>&audience=<url-encoded audience>` with `Authorization: Bearer <request token>` and gets
`{"value": "<JWT>"}`. Without `audience` the token's `aud` is the owner's URL
(`https://github.com/<owner>`). The JWT is RS256, issuer `https://token.actions.githubusercontent.com`,
with GitHub's claims and a five-minute lifetime. The claims follow the job's `Trigger`, as
GitHub's OIDC reference describes them: `sub` is `repo:<owner>/<repo>:environment:<name>` for a
job with an environment, `repo:<owner>/<repo>:pull_request` for a pull request (whose `ref` is
`refs/pull/<n>/merge`), else `repo:<owner>/<repo>:ref:<ref>` (a branch for `push` and
`workflow_dispatch`, `refs/tags/<tag>` for a tag); `event_name`, `ref_type`, `head_ref`,
`base_ref` and `environment` go with it. A pull request from a fork runs with read-only
permissions, so GitHub gives its job no ID-token request at all (`env()` is empty then).

The JWKS is served at `/.well-known/jwks` (the STS double fetches it, as Huawei fetches GitHub's);
`jwks()` gives the same set to paste into an IAM v3 identity provider. `rotate_key()` starts
signing with a new key, which is how a stale pasted JWKS shows up in tests.

Refusals use the Azure DevOps-style body the Actions service inherits (an inference: GitHub does
not document them): 401 for a missing or wrong bearer token, 400 for a missing or wrong
`api-version` (what a client gets when it appends `?audience=` to a URL that already has a query).
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from devtools.doubles.account import Clock
from devtools.doubles.base import DoubleServer, RecordedRequest, Reply
from devtools.doubles.idtoken import GITHUB_ISSUER, SigningKey, jwks

JWKS_PATH = "/.well-known/jwks"
CONFIGURATION_PATH = "/.well-known/openid-configuration"
API_VERSION = "2.0"
TOKEN_LIFETIME_SECONDS = 300


def vss_error(status: int, type_key: str, message: str) -> Reply:
    return Reply(
        status,
        {
            "$id": "1",
            "innerException": None,
            "message": message,
            "typeName": f"GitHub.Services.WebApi.{type_key}, GitHub.Services.WebApi",
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000,
        },
    )


@dataclass(frozen=True)
class Trigger:
    """What a job runs for, as far as its ID token tells: the event, the ref and the context
    that `sub` names."""

    event_name: str
    ref: str
    context: str
    """What follows `repo:<owner>/<repo>:` in `sub` when the job has no environment."""
    ref_type: str = "branch"
    environment: str | None = None
    head_ref: str = ""
    base_ref: str = ""
    from_fork: bool = False
    """A pull request from a fork: read-only permissions, hence no ID token for the job."""

    @classmethod
    def push(cls, branch: str = "main") -> Trigger:
        ref = f"refs/heads/{branch}"
        return cls("push", ref, f"ref:{ref}")

    @classmethod
    def tag(cls, name: str = "v1.2.3") -> Trigger:
        ref = f"refs/tags/{name}"
        return cls("push", ref, f"ref:{ref}", ref_type="tag")

    @classmethod
    def workflow_dispatch(cls, branch: str = "main") -> Trigger:
        ref = f"refs/heads/{branch}"
        return cls("workflow_dispatch", ref, f"ref:{ref}")

    @classmethod
    def pull_request(
        cls, number: int = 7, *, head: str = "feature", base: str = "main", fork: bool = False
    ) -> Trigger:
        return cls(
            "pull_request",
            f"refs/pull/{number}/merge",
            "pull_request",
            head_ref=head,
            base_ref=base,
            from_fork=fork,
        )

    def in_environment(self, name: str) -> Trigger:
        """The same event for a job that declares `environment: <name>`."""
        return replace(self, environment=name)

    def subject(self, repository: str) -> str:
        context = f"environment:{self.environment}" if self.environment else self.context
        return f"repo:{repository}:{context}"


class GithubOidcDouble(DoubleServer):
    """The ID-token endpoint of one workflow job in `owner/repo` running on `ref`."""

    service = "github-oidc"
    server_version = "GitHub-OIDC-double/1.0"
    unscripted_paths = frozenset({JWKS_PATH, CONFIGURATION_PATH})

    def __init__(
        self,
        *,
        owner: str = "example-org",
        repo: str = "example-repo",
        ref: str = "refs/heads/main",
        trigger: Trigger | None = None,
        clock: Clock = time.time,
        lifetime: int = TOKEN_LIFETIME_SECONDS,
        key: SigningKey | None = None,
        repository_id: str = "123456789",
        owner_id: str = "987654321",
    ) -> None:
        """`trigger` decides the event-dependent claims; without one, a `push` to `ref`."""
        super().__init__()
        self.owner, self.repo, self.ref = owner, repo, ref
        self.trigger = trigger or Trigger("push", ref, f"ref:{ref}")
        self.repository_id, self.owner_id = repository_id, owner_id
        self.clock = clock
        self.lifetime = lifetime
        self.key = key or SigningKey.shared()
        self.request_token = secrets.token_urlsafe(48)
        self.issued: list[str] = []
        self._plan, self._job = uuid.uuid4(), uuid.uuid4()
        self._hub = secrets.token_hex(12)
        self._run_id = str(secrets.randbelow(10**10) + 10**9)

    @property
    def issuer(self) -> str:
        return GITHUB_ISSUER

    @property
    def token_path(self) -> str:
        return (
            f"/{self._hub}/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/"
            f"Actions/plans/{self._plan}/jobs/{self._job}/idtoken"
        )

    @property
    def token_url(self) -> str:
        """What `ACTIONS_ID_TOKEN_REQUEST_URL` holds: it already has a query string."""
        return f"{self.url}{self.token_path}?api-version={API_VERSION}"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}{JWKS_PATH}"

    @property
    def default_audience(self) -> str:
        return f"https://github.com/{self.owner}"

    def env(self) -> dict[str, str]:
        """The variables the runner gives a job with `permissions: id-token: write`; none for
        a pull request from a fork, whose permissions GitHub makes read-only."""
        if self.trigger.from_fork:
            return {}
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.token_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return jwks(self.key)

    def rotate_key(self) -> None:
        """Sign from now on with a fresh key; the served JWKS follows, pasted copies do not."""
        self.key = SigningKey.generate()

    def claims(self, audience: str | None = None, **overrides: Any) -> dict[str, Any]:
        """The claims GitHub puts in this job's ID token; `overrides` replace or add claims."""
        now = int(self.clock())
        repository = f"{self.owner}/{self.repo}"
        trigger = self.trigger
        workflow_ref = f"{repository}/.github/workflows/ci.yml@{trigger.ref}"
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "sub": trigger.subject(repository),
            "aud": audience or self.default_audience,
            "ref": trigger.ref,
            "ref_type": trigger.ref_type,
            "ref_protected": "false",
            "sha": secrets.token_hex(20),
            "repository": repository,
            "repository_id": self.repository_id,
            "repository_owner": self.owner,
            "repository_owner_id": self.owner_id,
            "repository_visibility": "private",
            "run_id": self._run_id,
            "run_number": "7",
            "run_attempt": "1",
            "actor": "octocat",
            "actor_id": "583231",
            "workflow": "ci",
            "workflow_ref": workflow_ref,
            "job_workflow_ref": workflow_ref,
            "event_name": trigger.event_name,
            "head_ref": trigger.head_ref,
            "base_ref": trigger.base_ref,
            "runner_environment": "github-hosted",
            "iss": GITHUB_ISSUER,
            "nbf": now - 5,
            "iat": now,
            "exp": now + self.lifetime,
        }
        if trigger.environment:
            claims["environment"] = trigger.environment
        claims.update(overrides)
        return claims

    def mint(
        self, audience: str | None = None, *, key: SigningKey | None = None, **overrides: Any
    ) -> str:
        """An ID token for this job, signed (by `key` if given), and listed in `issued`."""
        token = (key or self.key).sign(self.claims(audience, **overrides))
        with self._lock:
            self.issued.append(token)
        return token

    def token_requests(self) -> list[RecordedRequest]:
        """The requests for ID tokens, without the JWKS fetches that relying parties made."""
        return self.calls(path=self.token_path)

    def secrets(self) -> dict[str, str]:
        """The request token and every ID token issued, labelled."""
        with self._lock:
            issued = list(self.issued)
        found = {"github-request-token": self.request_token}
        found.update({f"github-id-token:{n}": token for n, token in enumerate(issued, 1)})
        return found

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method == "GET" and request.path == JWKS_PATH:
            return Reply(200, self.jwks())
        if request.method == "GET" and request.path == CONFIGURATION_PATH:
            return Reply(
                200,
                {
                    "issuer": GITHUB_ISSUER,
                    "jwks_uri": self.jwks_url,
                    "subject_types_supported": ["public", "pairwise"],
                    "response_types_supported": ["id_token"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "claims_supported": sorted(self.claims()),
                    "scopes_supported": ["openid"],
                },
            )
        if request.path != self.token_path:
            return Reply(404, {"message": "Not Found"})
        if request.method != "GET":
            return vss_error(405, "HttpMethodNotAllowedException", "Method not allowed.")
        authorization = request.header("Authorization") or ""
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            presented.strip().encode(), self.request_token.encode()
        ):
            return vss_error(
                401,
                "UnauthorizedRequestException",
                "TF400813: The user '' is not authorized to access this resource.",
            )
        if request.params.get("api-version") != [API_VERSION]:
            return vss_error(
                400,
                "VssInvalidApiVersionException",
                f"The api-version query parameter must be {API_VERSION}; got "
                f"{request.params.get('api-version')!r}.",
            )
        audience = request.params.get("audience", [None])[0]
        return Reply(200, {"value": self.mint(audience or None)})
