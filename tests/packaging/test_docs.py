"""README, action.yml, the interface spec and the code agree on names, defaults and commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codearts_check_logs.inputs.metadata import action_metadata, input_specs
from codearts_check_logs.inputs.settings import parse_settings
from codearts_check_logs.outcome import Outcome
from codearts_check_logs.render.outputs import outputs_for

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SPEC = ROOT.parent / "shared" / "spec" / "action-interface.md"
_ROW = re.compile(r"^\| `(?P<name>[a-z0-9-]+)` \| (?P<second>[^|]*) \|", re.M)


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start : end if end > 0 else len(text)]


def table_rows(text: str) -> dict[str, str]:
    return {m["name"]: m["second"].strip() for m in _ROW.finditer(text)}


def documented_default(cell: str) -> str:
    if cell == "required":
        return cell
    return cell.strip("`").replace('""', "")


def action_yml_defaults() -> dict[str, str]:
    return {
        name: "required" if spec.required else spec.default for name, spec in input_specs().items()
    }


def test_readme_inputs_match_action_yml() -> None:
    rows = table_rows(section(README, "### Inputs"))
    assert {name: documented_default(cell) for name, cell in rows.items()} == action_yml_defaults()


def test_readme_outputs_match_action_yml_and_the_code() -> None:
    rows = table_rows(section(README, "### Outputs"))
    assert list(rows) == list(action_metadata()["outputs"])
    assert list(outputs_for(Outcome())) == list(action_metadata()["outputs"])


def test_every_input_the_code_reads_is_declared(tmp_path: Path) -> None:
    raw = {name: spec.default for name, spec in input_specs().items()}
    raw.update({"sub-job-id": "a" * 32, "token": "t" * 20})
    parse_settings(raw, tmp_path)  # a KeyError here means the code reads an undeclared input


def test_action_yml_inputs_are_documented() -> None:
    for name, spec in input_specs().items():
        assert spec.description, f"{name} has no description"
        assert isinstance(action_metadata()["inputs"][name].get("default", ""), str)
    for name, data in action_metadata()["outputs"].items():
        assert data["description"], f"output {name} has no description"


@pytest.mark.skipif(not SPEC.is_file(), reason="the interface spec lives beside the project")
def test_spec_tables_match_action_yml() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    inputs = table_rows(section(spec, "## Inputs"))
    assert {
        name: documented_default(cell) for name, cell in inputs.items()
    } == action_yml_defaults()
    assert list(table_rows(section(spec, "## Outputs"))) == list(
        tuple(action_metadata()["outputs"])
    )


@pytest.mark.skipif(not SPEC.is_file(), reason="the interface spec lives beside the project")
def test_every_local_error_code_is_documented() -> None:
    text = SPEC.read_text(encoding="utf-8")
    start = text.index("Local codes")
    paragraph = text[start : text.index("\n\n", start)]
    local = set(re.findall(r"`([A-Z_]+(?:<status>)?)`", paragraph))
    assert {"INVALID_INPUT", "TIMEOUT", "NETWORK_ERROR", "ARTIFACT_UPLOAD_FAILED"} <= local
    for code in local:
        assert f"`{code}`" in section(README, "### Error codes")


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    quick = section(README, "## Quick start")
    block = re.search(r"```sh\n(.*?)```", quick, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_entrypoint_is_python_not_a_shell_script() -> None:
    first_line = (ROOT / "entrypoint").read_text().splitlines()[0]
    assert first_line == "#!/usr/bin/env python3"
    assert (ROOT / "entrypoint").stat().st_mode & 0o111


EXAMPLES = ROOT / "docs" / "examples"
# Code-fence language by file name, then by suffix: GitHub workflows (docs/examples/*.yml)
# and the examples for other CI systems (docs/examples/<system>/...).
FENCES = {"Jenkinsfile": "groovy", ".yml": "yaml", ".yaml": "yaml", ".sh": "sh"}


@pytest.mark.parametrize(
    "example",
    sorted(path for path in EXAMPLES.rglob("*") if path.is_file()),
    ids=lambda path: path.relative_to(EXAMPLES).as_posix(),
)
def test_every_example_is_shown_in_full_in_the_readme(example: Path) -> None:
    fence = FENCES.get(example.name) or FENCES[example.suffix]
    assert f"```{fence}\n{example.read_text(encoding='utf-8')}```" in README
