"""IAM project lookup: the ID of the project named after the region, for `X-Project-Id` on
signed requests when `project-id` is not given (`GET /v3/projects?name=<region>`, signed with
the run's own keys), as the official SDK does once per client."""

from __future__ import annotations

import re

import requests

from .exchange import IAM, Exchange, unusable

STEP = "project lookup"
PROJECTS_PATH = "/v3/projects"
_PROJECT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def lookup_project_id(
    exchange: Exchange, iam_url: str, credentials: requests.auth.AuthBase, region: str
) -> str:
    """The ID of the project named `region`; AuthFailed when IAM refuses or lists none."""
    answer = exchange.send(
        IAM, STEP, "GET", f"{iam_url}{PROJECTS_PATH}?name={region}", auth=credentials
    )
    listed = answer.document(IAM, STEP).get("projects")
    if not isinstance(listed, list):
        raise unusable(IAM, STEP, "a project list without `projects`")
    for project in listed:
        if isinstance(project, dict) and project.get("name") == region:
            found = project.get("id")
            if isinstance(found, str) and _PROJECT_ID.fullmatch(found):
                return found
            raise unusable(IAM, STEP, f"project {region} without a usable ID")
    raise unusable(
        IAM,
        STEP,
        f"no project named {region} visible to these credentials: check region, or give project-id",
    )
