"""The trust conditions that docs/oidc-trust.md documents admit each keyless example's trigger,
and refuse forks.

The rules are read from the page's table, substituted for a repository, and given to the IAM 5
agency and the IAM v3 identity provider of the doubles; the GitHub ID-token double issues the
claims GitHub issues for the trigger. Each keyless example then runs through the real
entrypoint with its own `with:` inputs, as its trigger would run it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from devtools.doubles.account import AllOf, ClaimCondition
from devtools.doubles.cloud import HuaweiCloud, huawei_cloud
from devtools.doubles.codearts import Simulator
from devtools.doubles.github_oidc import GithubOidcDouble, Trigger
from devtools.doubles.iam import ID_TOKEN_PATH
from devtools.doubles.sts import ASSUME_PATH, assume_body

from tests.conftest import ID1, ActionRunner

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "oidc-trust.md"
EXAMPLES = ROOT / "docs" / "examples"
OWNER, REPO, REPO_ID = "example-org", "example-repo", "123456789"
ACTION = "codearts-check-logs/codearts-check-logs@"

TRIGGERS = {
    "push-branch": Trigger.push("main"),
    "tag": Trigger.tag("v1.2.3"),
    "pull_request": Trigger.pull_request(7),
    "workflow_dispatch": Trigger.workflow_dispatch("main"),
    "environment": Trigger.tag("v1.2.3").in_environment("release"),
}
_ROW = re.compile(
    r"^\| `(?P<rule>[\w-]+)` \| [^|]+ \| (?P<conditions>[^|]+) \|(?P<examples>[^|]*)\|$"
)
_CONDITION = re.compile(r"^`(?P<claim>\w+)` = `(?P<value>[^`]+)`$")


def documented_rules() -> dict[str, tuple[AllOf, list[str]]]:
    """Each rule of the page: its conditions (for OWNER/REPO) and the examples it is for."""
    rules = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        row = _ROW.match(line)
        if row is None:
            continue
        conditions = []
        for item in row["conditions"].split(";"):
            found = _CONDITION.match(item.strip())
            assert found is not None, f"unreadable condition {item!r} in rule {row['rule']}"
            value = (
                found["value"].replace("OWNER/REPO", f"{OWNER}/{REPO}").replace("REPO_ID", REPO_ID)
            )
            conditions.append(ClaimCondition(found["claim"], (value,)))
        examples = re.findall(r"\(examples/([\w.-]+)\)", row["examples"])
        rules[row["rule"]] = (AllOf(tuple(conditions)), examples)
    return rules


RULES = documented_rules()


def keyless_examples() -> dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, str]]]:
    """name → (workflow, job, the action step's `with:`) for each example using an OIDC way."""
    found = {}
    for path in sorted(EXAMPLES.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                inputs = step.get("with", {})
                if str(step.get("uses", "")).startswith(ACTION) and any(
                    name.startswith("oidc-") for name in inputs
                ):
                    found[path.name] = (workflow, job, inputs)
    return found


def trigger_of(workflow: dict[str, Any], job: dict[str, Any]) -> str:
    """The rule a workflow's trigger needs (PyYAML reads the key `on` as True)."""
    events = workflow["on"] if "on" in workflow else workflow[True]  # type: ignore[index]
    assert isinstance(events, dict), events
    if "environment" in job:
        return "environment"
    if "pull_request" in events:
        return "pull_request"
    if "workflow_dispatch" in events:
        return "workflow_dispatch"
    push = events["push"] or {}
    return "tag" if "tags" in push else "push-branch"


def test_the_page_has_a_rule_for_every_trigger_kind() -> None:
    assert set(RULES) == set(TRIGGERS)
    for rule, (conditions, _) in RULES.items():
        claims = {c.claim for c in conditions.conditions}
        assert "repository_id" in claims, f"{rule} must pin the repository's ID"


@pytest.mark.parametrize("rule", sorted(TRIGGERS))
def test_each_rule_admits_its_trigger_and_only_its_repository(rule: str) -> None:
    conditions, _ = RULES[rule]
    own = GithubOidcDouble(owner=OWNER, repo=REPO, trigger=TRIGGERS[rule]).claims()
    assert conditions.matches(own)
    fork = GithubOidcDouble(
        owner="someone-else", repo=REPO, trigger=TRIGGERS[rule], repository_id="555", owner_id="5"
    ).claims()
    assert not conditions.matches(fork)
    others = {
        name: t for name, t in TRIGGERS.items() if t.subject("x") != TRIGGERS[rule].subject("x")
    }
    for name, trigger in others.items():
        claims = GithubOidcDouble(owner=OWNER, repo=REPO, trigger=trigger).claims()
        if conditions.matches(claims):
            # Only `tag` admits another kind: the environment job also runs for a tag.
            assert (rule, name) == ("tag", "environment"), f"{rule} admits {name}"


def test_every_keyless_example_has_the_rule_of_its_trigger() -> None:
    examples = keyless_examples()
    assert set(examples) == {"basic.yml", "pull-request-check.yml", "release-pipeline.yml"}
    for name, (workflow, job, _) in examples.items():
        rule = trigger_of(workflow, job)
        assert name in RULES[rule][1], f"docs/oidc-trust.md: rule {rule} should list {name}"


def cloud_for(rule: str, *, fork: bool = False) -> Any:
    conditions = RULES[rule][0]
    trigger = TRIGGERS[rule]
    if fork:
        trigger = Trigger.pull_request(fork=True)
    return huawei_cloud(
        owner=OWNER,
        repo=REPO,
        trigger=trigger,
        agency_condition=conditions,
        idp_condition=conditions,
    )


def example_inputs(
    inputs: dict[str, str], cloud: HuaweiCloud, gateway: Simulator
) -> dict[str, str]:
    """The example's `with:`, its `${{ … }}` values replaced by what the doubles set up."""
    given = cloud.inputs("oidc-iam5" if "oidc-agency-urn" in inputs else "oidc-iam3")
    values = {
        name: given.get(name, value) for name, value in inputs.items() if name.startswith("oidc-")
    }
    values.update(
        {
            "sub-job-id": ID1,
            "endpoint": gateway.base_url,
            "region": cloud.region,
            "iam-endpoint": cloud.iam.url,
            "sts-endpoint": cloud.sts.url,
            "upload-artifact": "false",
        }
    )
    return values


@pytest.mark.e2e
@pytest.mark.parametrize("example", sorted(keyless_examples()))
def test_each_keyless_example_runs_under_the_documented_conditions(
    example: str, run_action: ActionRunner
) -> None:
    workflow, job, inputs = keyless_examples()[example]
    rule = trigger_of(workflow, job)
    with cloud_for(rule) as cloud, Simulator(account=cloud.account) as signed:
        run = run_action(example_inputs(inputs, cloud, signed), env=cloud.github.env())
        assert run.returncode == 0, run.log + run.summary
        assert run.outputs["status"] == "success"
        exchanges = cloud.sts.calls() if "oidc-agency-urn" in inputs else cloud.iam.calls()
        assert exchanges


@pytest.mark.e2e
def test_a_pull_request_from_a_fork_is_refused(run_action: ActionRunner) -> None:
    _, _, inputs = keyless_examples()["pull-request-check.yml"]
    with cloud_for("pull_request", fork=True) as cloud, Simulator(account=cloud.account) as sim:
        run = run_action(example_inputs(inputs, cloud, sim), env=cloud.github.env())
        assert run.returncode == 1
        assert run.outputs["error-code"] == "INVALID_INPUT"
        assert "id-token" in run.outputs["error-message"]
        assert cloud.requests() == [], "nothing may reach GitHub, STS or IAM"


@pytest.mark.parametrize("rule", sorted(TRIGGERS))
def test_the_forks_own_token_is_refused_by_sts_and_iam(rule: str) -> None:
    with cloud_for(rule) as cloud:
        fork = GithubOidcDouble(
            owner="someone-else", repo=REPO, trigger=TRIGGERS[rule], repository_id="555"
        )
        # The same audience as the repository's own jobs: any workflow may ask for any.
        iam5 = fork.mint(cloud.github.default_audience)
        sts = requests.post(
            cloud.sts.url + ASSUME_PATH,
            json=assume_body(cloud.provider.urn, cloud.agency.urn, iam5),
            timeout=10,
        )
        assert (sts.status_code, sts.json()["error_code"]) == (403, "STS5.3001")
        iam3 = fork.mint(cloud.idp.client_id)
        iam = requests.post(
            cloud.iam.url + ID_TOKEN_PATH,
            headers={"X-Idp-Id": cloud.idp.idp_id},
            json={"auth": {"id_token": {"id": iam3}}},
            timeout=10,
        )
        assert (iam.status_code, iam.json()["error_code"]) == (403, "IAM.0002")
        own = cloud.github.mint(cloud.github.default_audience)
        admitted = requests.post(
            cloud.sts.url + ASSUME_PATH,
            json=assume_body(cloud.provider.urn, cloud.agency.urn, own),
            timeout=10,
        )
        assert admitted.status_code == 200
