"""Inputs: read from action.yml (names, defaults) and validated before any request is sent.

action.yml is the single source of truth. It is packaged into the wheel; in a source checkout
the copy at the repository root is read instead. Pure: no HTTP here; the only I/O is reading
action.yml and resolving the output folder.
"""

from __future__ import annotations

import errno
import math
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .auth.transport import check_transport
from .auth.ways import REGION_ENV, AuthInputs, choose_way
from .errors import InvalidInput
from .ziplog.triage import PatternError, compile_pattern

SUB_JOB_ID = re.compile(r"[0-9A-Za-z]{32}")
_ID_SEPARATORS = re.compile(r"[,\s]+")
_INTEGER = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
TRUE_WORDS = frozenset({"true", "True", "TRUE"})
FALSE_WORDS = frozenset({"false", "False", "FALSE"})
REGION = re.compile(r"[a-z]{2,}(?:-[a-z0-9]+)*-[0-9]{1,3}")
DEFAULT_REGION = "cn-north-4"
CODEARTS_ENDPOINT = "https://codearts-check.{region}.myhuaweicloud.com"
IAM_ENDPOINT = "https://iam.{region}.myhuaweicloud.com"
STS_ENDPOINT = "https://sts.{region}.myhuaweicloud.com"
ARTIFACT_NAME_FORBIDDEN = {
    '"': "double quote",
    ":": "colon",
    "<": "less than",
    ">": "greater than",
    "|": "vertical bar",
    "*": "asterisk",
    "?": "question mark",
    "\r": "carriage return",
    "\n": "line feed",
    "\\": "backslash",
    "/": "forward slash",
}
"""Characters the artifact service refuses in names (NTFS limits), as the official client lists."""
SUB_JOB_PLACEHOLDER = "{sub_job_id}"
MAX_TIMEOUT_SECONDS = 6 * 60 * 60  # a GitHub-hosted job cannot run longer
MAX_SUB_JOBS = 500
"""GitHub keeps at most 500 artifacts per job, and each sub-job is one artifact."""
NAME_MAX = 255
"""Bytes in one folder name (Linux file systems, and the runner's)."""
PATH_MAX = 4096
"""Bytes in a whole path, the terminating NUL included (Linux)."""
LONGEST_FILE_NAME = len(f".{'0' * 32}.zip.{'0' * 32}.part")
"""The longest name written inside `path`: a download's hidden temporary file."""


@dataclass(frozen=True)
class InputSpec:
    """One input as action.yml declares it."""

    name: str
    description: str
    required: bool
    default: str


@cache
def action_metadata() -> dict[str, Any]:
    """The parsed action.yml: the packaged copy, else the one at the source checkout's root."""
    packaged = resources.files(__package__).joinpath("action.yml")
    if packaged.is_file():
        text = packaged.read_text(encoding="utf-8")
    else:
        text = (Path(__file__).resolve().parents[2] / "action.yml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def input_specs() -> dict[str, InputSpec]:
    """Every declared input, in action.yml order."""
    return {
        name: InputSpec(
            name=name,
            description=" ".join(str(spec.get("description", "")).split()),
            required=bool(spec.get("required", False)),
            default=str(spec.get("default", "")),
        )
        for name, spec in action_metadata()["inputs"].items()
    }


def output_names() -> tuple[str, ...]:
    """Every declared output, in action.yml order."""
    return tuple(action_metadata()["outputs"])


def env_name(input_name: str) -> str:
    """The variable the runner sets for an input: upper-cased, spaces to `_`, hyphens kept."""
    return "INPUT_" + input_name.replace(" ", "_").upper()


def raw_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """Each input's text from `INPUT_*`; absent or blank means the action.yml default.

    The runner passes an empty value as a bare `-e NAME`, so absent and empty are one case.
    """
    values: dict[str, str] = {}
    for name, spec in input_specs().items():
        value = env.get(env_name(name), "").strip()
        values[name] = value or spec.default
    return values


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
    workspace: Path
    directory: Path
    upload_artifact: bool
    artifact_name: str
    retention_days: int | None
    overwrite: bool
    triage: bool
    triage_pattern: re.Pattern[str]
    """The built-in pattern when `triage-pattern` is empty."""
    fail_on_error: bool
    timeout_seconds: float

    def __repr__(self) -> str:
        # Credentials are secrets: keep them out of reprs, tracebacks and debug logs.
        return (
            f"Settings(sub_job_ids={self.sub_job_ids!r}, auth={self.auth!r}, "
            f"base_url={self.base_url!r}, directory={str(self.directory)!r})"
        )

    def zip_path(self, sub_job_id: str) -> Path:
        """Where one sub-job's ZIP is saved."""
        return self.directory / f"{sub_job_id}.zip"

    def display_path(self, path: Path) -> str:
        """`path` relative to the workspace, as outputs and the summary show it."""
        return path.relative_to(self.workspace).as_posix()

    def artifact_name_for(self, sub_job_id: str) -> str:
        """The artifact name for one sub-job: template filled, `.zip` ensured."""
        name = self.artifact_name.replace(SUB_JOB_PLACEHOLDER, sub_job_id)
        return name if name.lower().endswith(".zip") else name + ".zip"


def parse_bool(name: str, value: str) -> bool:
    """A boolean in the YAML 1.2 core schema spellings the runner documents, nothing else."""
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise InvalidInput(f"{name} must be true or false (YAML 1.2 core schema), got {value!r}")


def parse_sub_job_ids(value: str) -> tuple[str, ...]:
    """IDs split on commas, spaces or newlines; duplicates dropped, first order kept."""
    ids = [part for part in _ID_SEPARATORS.split(value) if part]
    if not ids:
        raise InvalidInput("sub-job-id is required: give one or more 32-character sub-job IDs")
    bad = [part for part in ids if not SUB_JOB_ID.fullmatch(part)]
    if bad:
        shown = ", ".join(repr(part[:40]) for part in bad[:3])
        raise InvalidInput(f"sub-job-id must be 32 characters of 0-9, a-z, A-Z; not valid: {shown}")
    unique = tuple(dict.fromkeys(ids))
    if len(unique) > MAX_SUB_JOBS:
        raise InvalidInput(
            f"sub-job-id lists {len(unique)} sub-jobs; at most {MAX_SUB_JOBS} are allowed, since "
            "GitHub keeps at most 500 artifacts per job: split them over several jobs"
        )
    return unique


def parse_retention_days(value: str) -> int | None:
    """None (the repository's default) for an empty value or `0`, as `actions/upload-artifact`
    reads `0`; else a whole number of days from 1 to 90."""
    if not value:
        return None
    if not _INTEGER.fullmatch(value) or not 0 <= int(value) <= 90:
        raise InvalidInput(
            f"retention-days must be a whole number from 1 to 90, or 0 for the repository's "
            f"default, got {value!r}"
        )
    return int(value) or None


def parse_timeout(value: str) -> float:
    """Seconds, greater than 0 and at most six hours."""
    seconds = float(value) if _NUMBER.fullmatch(value) else math.nan
    if not 0 < seconds <= MAX_TIMEOUT_SECONDS:
        raise InvalidInput(
            f"timeout-seconds must be a number above 0 and at most {MAX_TIMEOUT_SECONDS}, "
            f"got {value!r}"
        )
    return seconds


def parse_artifact_name(value: str, sub_job_count: int = 1) -> str:
    """The name template: no character the artifact service refuses, and `{sub_job_id}` in it
    when several sub-jobs would otherwise share one name."""
    if not value.strip():
        raise InvalidInput("artifact-name must not be empty")
    forbidden = [
        f"{label} ({char!r})" for char, label in ARTIFACT_NAME_FORBIDDEN.items() if char in value
    ]
    if forbidden:
        raise InvalidInput(
            "artifact-name contains characters the artifact service refuses: "
            + ", ".join(forbidden)
        )
    if sub_job_count > 1 and SUB_JOB_PLACEHOLDER not in value:
        raise InvalidInput(
            f"artifact-name must contain {SUB_JOB_PLACEHOLDER} when several sub-jobs are given, "
            "or every sub-job would upload under the same name"
        )
    return value


def parse_triage_pattern(value: str) -> re.Pattern[str]:
    """`triage-pattern` compiled now, so a bad one is refused before any request is sent."""
    try:
        return compile_pattern(value)
    except PatternError as exc:
        raise InvalidInput(str(exc)) from None


def parse_directory(value: str, workspace: Path) -> Path:
    """The output folder, resolved: a folder that can be created inside the workspace.

    Judged here, before any request, so that a name the file system refuses (a folder name over
    255 bytes, a loop of symbolic links, a path too long) is INVALID_INPUT rather than a download
    that cannot be saved; control characters are refused too, since the path is shown in logs."""
    shown = _shown(value)
    _check_path_text(value, shown)
    root = workspace.resolve()
    try:
        target = (root / value).resolve()
        if target != root and root not in target.parents:
            raise InvalidInput(f"path must stay inside the workspace, got {shown}")
        if len(os.fsencode(target)) + 1 + LONGEST_FILE_NAME >= PATH_MAX:
            raise InvalidInput(
                f"path {shown} is too long: with the workspace and the file names inside it, it "
                f"would pass the file system's limit of {PATH_MAX} bytes"
            )
        taken = target.exists() and not target.is_dir()
    except RuntimeError:  # Python before 3.13 reports a symlink loop this way
        raise InvalidInput(f"path {shown} runs into a loop of symbolic links") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidInput(f"path {shown} runs into a loop of symbolic links") from None
        raise InvalidInput(f"path {shown} cannot be used: {exc.strerror or exc}") from None
    if taken:
        raise InvalidInput(f"path {shown} exists and is not a folder")
    return target


def _check_path_text(value: str, shown: str) -> None:
    """No control characters or line separators, and no folder name over `NAME_MAX` bytes."""
    bad = sorted({f"U+{ord(ch):04X}" for ch in value if unicodedata.category(ch) in _CONTROL})
    if bad:
        raise InvalidInput(
            f"path {shown} contains control characters ({', '.join(bad[:5])}); use a plain "
            "folder name"
        )
    for part in value.split("/"):
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > NAME_MAX:
            raise InvalidInput(
                f"path {shown} has a folder name of {size} bytes; file systems allow at most "
                f"{NAME_MAX}"
            )


_CONTROL = frozenset({"Cc", "Zl", "Zp"})
"""C0 and C1 controls (NUL, line feed, carriage return, escape, ...) and the Unicode line and
paragraph separators."""


def _shown(value: str, limit: int = 80) -> str:
    """An input value quoted for a message: escaped by `repr`, long ones cut."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def parse_settings(
    raw: Mapping[str, str], workspace: Path, env: Mapping[str, str] | None = None
) -> Settings:
    """Validate every input; one InvalidInput lists every problem at once.

    `env` is the step's environment: the region and, when no auth input is given, the AK/SK
    fall back to it, and the OIDC ways need the runner's ID-token variables from it.
    """
    env = {} if env is None else env
    problems: list[str] = []

    def check(parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except InvalidInput as exc:
            problems.append(exc.message)
            return None

    sub_job_ids = check(parse_sub_job_ids, raw["sub-job-id"])
    region = check(parse_region, raw["region"], env)
    settings = {
        "sub_job_ids": sub_job_ids,
        "auth": check(choose_way, raw, env),
        "region": region,
        "base_url": check(_service_url, "endpoint", CODEARTS_ENDPOINT, region, raw["endpoint"]),
        "iam_url": check(_service_url, "iam-endpoint", IAM_ENDPOINT, region, raw["iam-endpoint"]),
        "sts_url": check(_service_url, "sts-endpoint", STS_ENDPOINT, region, raw["sts-endpoint"]),
        "directory": check(parse_directory, raw["path"], workspace),
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
        raise InvalidInput("; ".join(problems))
    return Settings(workspace=workspace.resolve(), **settings)


def parse_region(value: str, env: Mapping[str, str]) -> str:
    """The region input; empty means `HUAWEI_CLOUD_REGION` (what `huaweicloud/auth-action`
    exports), else cn-north-4."""
    source = "region"
    if not value:
        value, source = env.get(REGION_ENV, "").strip(), REGION_ENV
    if not value:
        return DEFAULT_REGION
    if not REGION.fullmatch(value):
        raise InvalidInput(f"{source} must look like cn-north-4, got {value[:70]!r}")
    return value


def _service_url(name: str, template: str, region: str | None, endpoint: str) -> str:
    if region is None and not endpoint:
        return ""  # the region's own problem is already listed
    try:
        url = service_url(name, template, region or DEFAULT_REGION, endpoint)
        check_transport(url)
    except ValueError as exc:
        text = str(exc)
        raise InvalidInput(text if text.startswith(name) else f"{name}: {text}") from None
    return url


def service_url(name: str, template: str, region: str, endpoint: str) -> str:
    """A service's base URL: the `name` input when given, else `template` for the region."""
    if endpoint:
        if any(ch.isspace() or unicodedata.category(ch) in _CONTROL for ch in endpoint):
            # urlsplit silently drops tabs and line breaks; the raw text would still be used.
            raise ValueError(
                f"{name} must be a URL without spaces or control characters, got {_shown(endpoint)}"
            )
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{name} must be a full http(s) URL, got {endpoint!r}")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError(f"{name} must not carry credentials, a query or a fragment")
        try:
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            raise ValueError(f"{name} has an invalid port: {endpoint!r}") from None
        return endpoint.rstrip("/")
    if not REGION.fullmatch(region):
        raise ValueError(f"region must look like cn-north-4, got {region!r}")
    return template.format(region=region)


def base_url(region: str, endpoint: str) -> str:
    """The CodeArts Check base URL: `endpoint` when given, else the region's public host."""
    return service_url("endpoint", CODEARTS_ENDPOINT, region, endpoint)


def workspace_from(env: Mapping[str, str]) -> Path:
    """`GITHUB_WORKSPACE`, else the working directory (the runner makes them the same)."""
    return Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
