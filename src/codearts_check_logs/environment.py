"""The one reader of the process environment: `RunnerEnvironment`, built once at an entry point.

Everything the product takes from the environment — the inputs the runner passes as `INPUT_*`,
the runner's file commands and URLs (`GITHUB_*`), the artifact service and the ID-token endpoint
(`ACTIONS_*`), the region and the AK/SK fallbacks that `huaweicloud/auth-action` or the official
SDK export — is read here into one frozen record, and nothing below the entry points looks at
`os.environ` or takes a raw mapping of it. Reading is all this does: judging the values is the
business of `inputs`, `auth.ways` and `artifact.environment`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

INPUT_PREFIX = "INPUT_"
REGION_ENV = "HUAWEI_CLOUD_REGION"
ID_TOKEN_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
ID_TOKEN_TOKEN_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
HUAWEI_CLOUD_ENV = (
    "HUAWEI_CLOUD_ACCESS_KEY_ID",
    "HUAWEI_CLOUD_SECRET_ACCESS_KEY",
    "",
    "HUAWEI_CLOUD_PROJECT_ID",
)
"""What `huaweicloud/auth-action` exports: AK, SK, (no security token), project ID."""
SDK_ENV = (
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    "HUAWEICLOUD_SDK_PROJECT_ID",
)
"""The official SDK's names: AK, SK, security token, project ID."""
KEY_FAMILIES = (HUAWEI_CLOUD_ENV, SDK_ENV)
"""The AK/SK fallbacks, in the order they are tried."""
SECRET_ENV = (
    *(name for family in KEY_FAMILIES for name in family[:3] if name),
    ID_TOKEN_TOKEN_ENV,
)
"""Environment variables whose values are secrets (masked before anything is printed): the
fallback's keys and security token, and the runner's bearer token for GitHub's ID token."""


def env_name(input_name: str) -> str:
    """The variable the runner sets for an input: upper-cased, spaces to `_`, hyphens kept."""
    return INPUT_PREFIX + input_name.replace(" ", "_").upper()


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, repr=False)
class RunnerEnvironment:
    """What the process environment says, read once; absent variables read as ""."""

    inputs: Mapping[str, str] = field(default_factory=_empty)
    """Every `INPUT_*` variable's text as the runner set it (unstripped), by variable name; see
    `input`."""
    output_file: str = ""
    """GITHUB_OUTPUT: where step outputs go."""
    summary_file: str = ""
    """GITHUB_STEP_SUMMARY: where the job summary goes."""
    workspace: str = ""
    """GITHUB_WORKSPACE: the folder `path` is relative to."""
    server_url: str = ""
    repository: str = ""
    run_id: str = ""
    run_attempt: str = ""
    retention_days: str = ""
    """GITHUB_RETENTION_DAYS: the repository's longest artifact retention."""
    runtime_token: str = ""
    """ACTIONS_RUNTIME_TOKEN: the artifact service's bearer token (a secret)."""
    results_url: str = ""
    """ACTIONS_RESULTS_URL: the artifact service."""
    id_token_url: str = ""
    id_token_bearer: str = ""
    """ACTIONS_ID_TOKEN_REQUEST_TOKEN (a secret)."""
    region: str = ""
    """HUAWEI_CLOUD_REGION, as `huaweicloud/auth-action` exports it."""
    keys: Mapping[str, str] = field(default_factory=_empty)
    """The AK/SK fallback variables (`KEY_FAMILIES`) that are set, by name."""
    named: Mapping[str, str] = field(default_factory=_empty)
    """Variables a command line names (`--token-env NAME`), by name."""

    def __repr__(self) -> str:
        # Values include secrets: name what is set, never what it is.
        given = sorted(name.removeprefix(INPUT_PREFIX) for name, v in self.inputs.items() if v)
        return f"RunnerEnvironment(inputs={given!r}, keys={sorted(self.keys)!r})"

    @classmethod
    def read(cls, environ: Mapping[str, str], *, named: Iterable[str] = ()) -> RunnerEnvironment:
        """The record of `environ` (the entry points pass `os.environ`); `named` adds the
        variables a command line points at."""

        def get(name: str) -> str:
            return environ.get(name, "")

        inputs = {name: value for name, value in environ.items() if name.startswith(INPUT_PREFIX)}
        keys = {name: get(name) for family in KEY_FAMILIES for name in family if get(name)}
        return cls(
            inputs=MappingProxyType(inputs),
            output_file=get("GITHUB_OUTPUT"),
            summary_file=get("GITHUB_STEP_SUMMARY"),
            workspace=get("GITHUB_WORKSPACE"),
            server_url=get("GITHUB_SERVER_URL"),
            repository=get("GITHUB_REPOSITORY"),
            run_id=get("GITHUB_RUN_ID"),
            run_attempt=get("GITHUB_RUN_ATTEMPT"),
            retention_days=get("GITHUB_RETENTION_DAYS"),
            runtime_token=get("ACTIONS_RUNTIME_TOKEN"),
            results_url=get("ACTIONS_RESULTS_URL"),
            id_token_url=get(ID_TOKEN_URL_ENV),
            id_token_bearer=get(ID_TOKEN_TOKEN_ENV),
            region=get(REGION_ENV),
            keys=MappingProxyType(keys),
            named=MappingProxyType({name: get(name) for name in named}),
        )

    def input(self, name: str) -> str:
        """The text the runner set for input `name` ("" when it set none)."""
        return self.inputs.get(env_name(name), "")

    def key(self, name: str) -> str:
        """One AK/SK fallback variable's value ("" when unset, or for the name "")."""
        return self.keys.get(name, "")

    def secret_values(self) -> list[str]:
        """The values of the environment's own secret variables (`SECRET_ENV`) that are set."""
        values = [self.key(name) for name in SECRET_ENV if name != ID_TOKEN_TOKEN_ENV]
        return [value for value in (*values, self.id_token_bearer) if value]
