"""IAM double: password tokens, project look-up, and the IAM v3 keyless way (ID token → unscoped
token → temporary AK/SK).

Error bodies come in the three shapes the real IAM uses:

- Keystone style, `{"error": {"code": 401, "message": …, "title": "Unauthorized"}}`, for a
  refused password (wrong password, unknown user or domain all give the same message, as IAM does
  not say which) and for a user with login protection (MFA), who gets no token for a password;
- `{"error_code": "IAM.xxxx", "error_msg": …}` with codes from IAM's error-code table: `IAM.0011`
  "Request body is invalid.", `IAM.0072` "'<key>' is a required property.", `IAM.0007`
  "Request parameter <key> is invalid.", `IAM.0004` "Could not find <target>: <id>.",
  `IAM.0001` (401, the ID token or token is not acceptable), `IAM.0002` (403, no mapping rule
  matches the ID token);
- the API gateway's, for `GET /v3/projects`, which is checked like any other signed or token
  request (`Account.authenticate`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from devtools.doubles.account import Account, GatewayError, IssuedToken, iso_time
from devtools.doubles.base import DoubleServer, RecordedRequest, Reply, gateway_body
from devtools.doubles.idtoken import InvalidIdToken, verify

TOKENS_PATH = "/v3/auth/tokens"
PROJECTS_PATH = "/v3/projects"
ID_TOKEN_PATH = "/v3.0/OS-AUTH/id-token/tokens"
SECURITY_TOKENS_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
SECURITY_TOKEN_DEFAULT_SECONDS = 900
SECURITY_TOKEN_MAX_SECONDS = 24 * 3600
WRONG_PASSWORD = "The username or password is wrong."


def keystone_error(status: int, message: str) -> Reply:
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
    title = titles.get(status, "Internal Server Error")
    return Reply(status, {"error": {"code": status, "message": message, "title": title}})


def iam_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error_code": code, "error_msg": message})


def _invalid_body() -> Reply:
    return iam_error(400, "IAM.0011", "Request body is invalid.")


def _required(key: str) -> Reply:
    return iam_error(400, "IAM.0072", f"'{key}' is a required property.")


def _invalid_parameter(key: str) -> Reply:
    return iam_error(400, "IAM.0007", f"Request parameter {key} is invalid.")


def _dig(value: Any, *path: str) -> Any:
    """`value[path[0]][path[1]]…`, or None where a step is missing or not an object."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


class IamDouble(DoubleServer):
    """IAM on loopback, answering from (and issuing into) `account`."""

    service = "iam"
    server_version = "IAM-double/1.0"

    def __init__(self, account: Account) -> None:
        super().__init__()
        self.account = account

    def fault_body(self, status: int) -> Any:
        if status in {429, 502, 504}:
            return super().fault_body(status)
        message = (
            "An unexpected error prevented the server from fulfilling your request."
            if status >= 500
            else HTTPStatus(status).phrase
        )
        return keystone_error(status, message).body

    def handle(self, request: RecordedRequest) -> Reply:
        routes = {
            ("POST", TOKENS_PATH): self._password_token,
            ("GET", PROJECTS_PATH): self._projects,
            ("POST", ID_TOKEN_PATH): self._id_token,
            ("POST", SECURITY_TOKENS_PATH): self._security_tokens,
        }
        route = routes.get((request.method, request.path))
        if route is None:
            return Reply(
                404,
                gateway_body(
                    "APIGW.0101",
                    "The API does not exist or has not been published in the environment",
                ),
            )
        return route(request)

    # --- POST /v3/auth/tokens ----------------------------------------------------------------

    def _password_token(self, request: RecordedRequest) -> Reply:
        body = _json(request)
        if not isinstance(body, dict):
            return _invalid_body()
        identity = _dig(body, "auth", "identity")
        if not isinstance(identity, dict):
            return _required("identity")
        methods = identity.get("methods")
        user_block = _dig(identity, "password", "user")
        if not isinstance(methods, list) or "password" not in methods:
            return _required("methods")
        if not isinstance(user_block, dict):
            return _required("password")
        name, password = user_block.get("name"), user_block.get("password")
        domain = _dig(user_block, "domain", "name")
        if not all(isinstance(v, str) and v for v in (name, password, domain)):
            return _required("user")
        user = self.account.check_password(str(domain), str(name), str(password))
        if user is None:
            return keystone_error(401, WRONG_PASSWORD)
        if user.mfa:
            return keystone_error(
                401,
                "The user has login protection (MFA) enabled: a verification code is required "
                "in addition to the password.",
            )
        scope = _dig(body, "auth", "scope")
        project_id: str | None = None
        if isinstance(scope, dict) and "project" in scope:
            found = self._scope_project(scope["project"])
            if isinstance(found, Reply):
                return found
            project_id = found
        token = self.account.issue_token(user.name, project_id=project_id)
        catalog = "nocatalog" not in request.params
        return Reply(
            201, self._token_body(token, catalog=catalog), {"X-Subject-Token": token.value}
        )

    def _scope_project(self, project: Any) -> str | Reply:
        if not isinstance(project, dict):
            return _invalid_body()
        if isinstance(project.get("id"), str):
            project_id: str = project["id"]
            if self.account.project_name(project_id) is None:
                return iam_error(404, "IAM.0004", f"Could not find project: {project_id}.")
            return project_id
        if isinstance(project.get("name"), str):
            found = self.account.project_id(project["name"])
            if found is None:
                return iam_error(404, "IAM.0004", f"Could not find project: {project['name']}.")
            return found
        return _required("project")

    def _token_body(self, token: IssuedToken, *, catalog: bool = True) -> dict[str, Any]:
        account = self.account
        domain = {"id": account.domain_id, "name": account.domain_name}
        user: dict[str, Any] = {"id": token.user_id, "name": token.user, "domain": domain}
        body: dict[str, Any] = {
            "expires_at": iso_time(token.expires_at),
            "issued_at": iso_time(token.issued_at),
            "methods": list(token.methods),
            "user": user,
        }
        if token.idp_id is not None:
            idp = account.identity_provider(token.idp_id)
            user["OS-FEDERATION"] = {
                "groups": [{"id": "0" * 32, "name": idp.group if idp else ""}],
                "identity_provider": {"id": token.idp_id},
                "protocol": {"id": "oidc"},
            }
        else:
            user["password_expires_at"] = ""
        if token.project_id is not None:
            body["project"] = {
                "id": token.project_id,
                "name": account.project_name(token.project_id),
                "domain": domain,
            }
            body["roles"] = [{"id": "0" * 32, "name": "codearts_check_viewer"}]
        if catalog:
            body["catalog"] = [
                {
                    "type": "identity",
                    "name": "iam",
                    "id": "0" * 32,
                    "endpoints": [
                        {
                            "id": "0" * 32,
                            "interface": "public",
                            "region": "*",
                            "region_id": "*",
                            "url": f"{self.url}/v3",
                        }
                    ],
                }
            ]
        return {"token": body}

    # --- GET /v3/projects -------------------------------------------------------------------

    def _projects(self, request: RecordedRequest) -> Reply:
        principal = self.account.authenticate(
            request.method, request.path, request.query, request.headers, request.body
        )
        if isinstance(principal, GatewayError):
            return principal.reply()
        wanted = request.params.get("name", [None])[0]
        listed = [
            {
                "id": project_id,
                "name": name,
                "domain_id": self.account.domain_id,
                "parent_id": self.account.domain_id,
                "description": "",
                "enabled": True,
                "is_domain": False,
                "links": {"self": f"{self.url}/v3/projects/{project_id}"},
            }
            for name, project_id in sorted(self.account.projects().items())
            if wanted in {None, name}
        ]
        links = {"self": f"{self.url}{PROJECTS_PATH}", "previous": None, "next": None}
        return Reply(200, {"projects": listed, "links": links})

    # --- POST /v3.0/OS-AUTH/id-token/tokens -------------------------------------------------

    def _id_token(self, request: RecordedRequest) -> Reply:
        idp_id = request.header("X-Idp-Id") or ""
        if not 1 <= len(idp_id) <= 64:
            return _invalid_parameter("X-Idp-Id")
        body = _json(request)
        if not isinstance(body, dict):
            return _invalid_body()
        id_token = _dig(body, "auth", "id_token", "id")
        if not isinstance(id_token, str) or not id_token:
            return _required("id_token")
        idp = self.account.identity_provider(idp_id)
        if idp is None:
            return iam_error(404, "IAM.0004", f"Could not find identity provider: {idp_id}.")
        try:
            claims = verify(
                id_token,
                idp.signing_key,
                issuer=idp.url,
                audiences=[idp.client_id],
                now=self.account.clock(),
            )
        except InvalidIdToken as exc:
            return iam_error(
                401,
                "IAM.0001",
                f"The request you have made requires authentication: {exc.detail}.",
            )
        if not idp.condition.matches(claims):
            return iam_error(
                403,
                "IAM.0002",
                "You are not authorized to perform the requested action: no mapping rule of "
                f"identity provider {idp_id} matches the ID token.",
            )
        project_id: str | None = None
        scope = _dig(body, "auth", "scope")
        if isinstance(scope, dict) and "project" in scope:
            found = self._scope_project(scope["project"])
            if isinstance(found, Reply):
                return found
            project_id = found
        token = self.account.issue_token(
            idp.user_name,
            project_id=project_id,
            methods=("mapped",),
            lifetime=idp.lifetime_seconds,
            idp_id=idp_id,
        )
        return Reply(201, self._token_body(token), {"X-Subject-Token": token.value})

    # --- POST /v3.0/OS-CREDENTIAL/securitytokens --------------------------------------------

    def _security_tokens(self, request: RecordedRequest) -> Reply:
        body = _json(request)
        if not isinstance(body, dict):
            return _invalid_body()
        identity = _dig(body, "auth", "identity")
        if not isinstance(identity, dict):
            return _required("identity")
        if identity.get("methods") != ["token"]:
            return _invalid_parameter("methods")
        # IAM's page: the body's token.id "means the same as X-Auth-Token" and is being phased
        # out in its favour; the SDK sends only the body. Accept either; the header wins.
        value = request.header("X-Auth-Token") or _dig(identity, "token", "id")
        duration = _dig(identity, "token", "duration_seconds")
        if duration is None:
            duration = SECURITY_TOKEN_DEFAULT_SECONDS
        if (
            not isinstance(duration, int)
            or isinstance(duration, bool)
            or not SECURITY_TOKEN_DEFAULT_SECONDS <= duration <= SECURITY_TOKEN_MAX_SECONDS
        ):
            return _invalid_parameter("duration_seconds")
        if not isinstance(value, str) or not value:
            return iam_error(401, "IAM.0001", "The request you have made requires authentication.")
        token = self.account.token(value.strip())
        if token is None or token.expires_at <= self.account.clock():
            return iam_error(
                401,
                "IAM.0001",
                "The request you have made requires authentication: the token is invalid or "
                "has expired.",
            )
        key = self.account.issue_temporary(token.user, duration=duration, origin="securitytokens")
        return Reply(
            201,
            {
                "credential": {
                    "access": key.access,
                    "secret": key.secret,
                    "securitytoken": key.security_token,
                    "expires_at": iso_time(key.expires_at or 0.0),
                }
            },
        )


def _json(request: RecordedRequest) -> Any:
    try:
        return json.loads(request.body) if request.body else None
    except ValueError:
        return None


def password_body(
    user: str, password: str, domain: str, *, project: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The request body for a password token (scoped to `project`, e.g. {"name": region})."""
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"name": user, "password": password, "domain": {"name": domain}}},
        }
    }
    if project is not None:
        auth["scope"] = {"project": dict(project)}
    return {"auth": auth}
