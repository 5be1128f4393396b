"""Parsers of single input values: booleans, sub-job IDs, retention, the time budget, the
artifact name, the triage pattern and the region. Pure; each refuses with an `InvalidInput`."""

from __future__ import annotations

import math
import re

from ..errors import InvalidInput
from ..ziplog.pattern import PatternError, TriagePattern, compile_pattern

SUB_JOB_ID = re.compile(r"[0-9A-Za-z]{32}")
_ID_SEPARATORS = re.compile(r"[,\s]+")
_INTEGER = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
TRUE_WORDS = frozenset({"true", "True", "TRUE"})
FALSE_WORDS = frozenset({"false", "False", "FALSE"})
REGION = re.compile(r"[a-z]{2,}(?:-[a-z0-9]+)*-[0-9]{1,3}")
DEFAULT_REGION = "cn-north-4"
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


def parse_triage_pattern(value: str) -> TriagePattern:
    """`triage-pattern` compiled now, so a bad one is refused before any request is sent."""
    # A call into ziplog before the run gets there (the pipeline's triage returns to it later):
    # the pattern is triage's own grammar, and only triage can judge it before the first request.
    try:
        return compile_pattern(value)
    except PatternError as exc:
        raise InvalidInput(str(exc)) from None


def parse_region(value: str, fallback: str = "", fallback_name: str = "") -> str:
    """The region input; empty means `fallback` (`HUAWEI_CLOUD_REGION`, what
    `huaweicloud/auth-action` exports, named `fallback_name`), else cn-north-4."""
    source = "region"
    if not value:
        value, source = fallback.strip(), fallback_name
    if not value:
        return DEFAULT_REGION
    if not REGION.fullmatch(value):
        raise InvalidInput(f"{source} must look like cn-north-4, got {value[:70]!r}")
    return value


def shown(value: str, limit: int = 80) -> str:
    """An input value quoted for a message: escaped by `repr`, long ones cut."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


CONTROL = frozenset({"Cc", "Zl", "Zp"})
"""Unicode categories refused in paths and URLs: C0 and C1 controls (NUL, line feed, carriage
return, escape, ...) and the Unicode line and paragraph separators."""
