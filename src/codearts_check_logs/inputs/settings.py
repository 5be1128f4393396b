"""The Settings record: every input validated before any request is sent, one `InvalidInput`
listing every problem at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..auth.ways import AuthInputs, choose_way
from ..environment import REGION_ENV, RunnerEnvironment
from ..errors import InvalidInput
from ..ziplog.pattern import TriagePattern
from .endpoints import CODEARTS_ENDPOINT, IAM_ENDPOINT, STS_ENDPOINT, parse_service_url
from .metadata import input_specs
from .paths import OutputFolder, parse_directory
from .values import (
    SUB_JOB_PLACEHOLDER,
    parse_artifact_name,
    parse_bool,
    parse_region,
    parse_retention_days,
    parse_sub_job_ids,
    parse_timeout,
    parse_triage_pattern,
)


def raw_inputs(environment: RunnerEnvironment) -> dict[str, str]:
    """Each input's text from `INPUT_*`; absent or blank means the action.yml default.

    The runner passes an empty value as a bare `-e NAME`, so absent and empty are one case.
    """
    values: dict[str, str] = {}
    for name, spec in input_specs().items():
        value = environment.input(name).strip()
        values[name] = value or spec.default
    return values


class InvalidSettings(InvalidInput):
    """Inputs that cannot be used, with `fail-on-error` as far as it could be read (True when it
    is itself invalid), so that the step still ends with the status the user asked for."""

    def __init__(self, message: str, *, fail_on_error: bool) -> None:
        super().__init__(message)
        self.fail_on_error = fail_on_error


@dataclass(frozen=True)
class Settings:
    """Validated inputs, in the types the rest of the action works with."""

    sub_job_ids: tuple[str, ...]
    auth: AuthInputs
    """The authentication way and its parameters (secrets hidden from its repr)."""
    region: str
    base_url: str
    """CodeArts Check."""
    iam_url: str
    sts_url: str
    output: OutputFolder
    """The `path` folder (inside the workspace, except on the command line)."""
    upload_artifact: bool
    artifact_name: str
    retention_days: int | None
    overwrite: bool
    triage: bool
    triage_pattern: TriagePattern
    """The built-in pattern when `triage-pattern` is empty."""
    fail_on_error: bool
    timeout_seconds: float

    def __repr__(self) -> str:
        # Credentials are secrets: keep them out of reprs, tracebacks and debug logs.
        return (
            f"Settings(sub_job_ids={self.sub_job_ids!r}, auth={self.auth!r}, "
            f"base_url={self.base_url!r}, directory={str(self.output.directory)!r})"
        )

    def artifact_name_for(self, sub_job_id: str) -> str:
        """The artifact name for one sub-job: template filled, `.zip` ensured."""
        name = self.artifact_name.replace(SUB_JOB_PLACEHOLDER, sub_job_id)
        return name if name.lower().endswith(".zip") else name + ".zip"


def parse_settings(
    raw: Mapping[str, str],
    workspace: Path,
    environment: RunnerEnvironment | None = None,
    *,
    confined: bool = True,
) -> Settings:
    """Validate every input; one `InvalidSettings` lists every problem at once.

    `confined=False` lets `path` leave `workspace` (the command line's working directory).

    `environment` is the step's: the region and, when no auth input is given, the AK/SK fall
    back to it, and the OIDC ways need the runner's ID-token variables from it.
    """
    environment = environment or RunnerEnvironment()
    problems: list[str] = []

    def check(parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except InvalidInput as exc:
            problems.append(exc.message)
            return None

    sub_job_ids = check(parse_sub_job_ids, raw["sub-job-id"])
    region = check(parse_region, raw["region"], environment.region, REGION_ENV)
    url = parse_service_url
    directory = partial(parse_directory, confined=confined)
    settings = {
        "sub_job_ids": sub_job_ids,
        "auth": check(choose_way, raw, environment),
        "region": region,
        "base_url": check(url, "endpoint", CODEARTS_ENDPOINT, region, raw["endpoint"]),
        "iam_url": check(url, "iam-endpoint", IAM_ENDPOINT, region, raw["iam-endpoint"]),
        "sts_url": check(url, "sts-endpoint", STS_ENDPOINT, region, raw["sts-endpoint"]),
        "output": _output_folder(workspace, check(directory, raw["path"], workspace)),
        "upload_artifact": check(parse_bool, "upload-artifact", raw["upload-artifact"]),
        "artifact_name": check(parse_artifact_name, raw["artifact-name"], len(sub_job_ids or ())),
        "retention_days": check(parse_retention_days, raw["retention-days"]),
        "overwrite": check(parse_bool, "overwrite", raw["overwrite"]),
        "triage": check(parse_bool, "triage", raw["triage"]),
        "triage_pattern": check(parse_triage_pattern, raw["triage-pattern"]),
        "fail_on_error": check(parse_bool, "fail-on-error", raw["fail-on-error"]),
        "timeout_seconds": check(parse_timeout, raw["timeout-seconds"]),
    }
    if problems:
        fail_on_error = settings["fail_on_error"] is not False  # an invalid one reads as true
        raise InvalidSettings("; ".join(problems), fail_on_error=fail_on_error)
    return Settings(**settings)


def _output_folder(workspace: Path, directory: Path | None) -> OutputFolder | None:
    return None if directory is None else OutputFolder(workspace.resolve(), directory)
