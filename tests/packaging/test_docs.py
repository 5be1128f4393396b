"""README, docs/, action.yml, the interface spec and the code agree on names, defaults and
commands; the README stays short, links what it mentions and names no path that is gone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codearts_check_logs.inputs.metadata import action_metadata, input_specs
from codearts_check_logs.inputs.settings import parse_settings
from codearts_check_logs.inputs.values import parse_retention_days
from codearts_check_logs.outcome import Outcome
from codearts_check_logs.render.outputs import outputs_for

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
REFERENCE = (ROOT / "docs" / "inputs-and-outputs.md").read_text(encoding="utf-8")
ERRORS = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
README_MAX_LINES = 400
SPEC = ROOT.parent / "shared" / "spec" / "action-interface.md"
_ROW = re.compile(r"^\| `(?P<name>[a-z0-9-]+)` \| (?P<second>[^|]*) \|", re.M)


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start : end if end > 0 else len(text)]


def row(text: str, heading: str, name: str) -> str:
    """The whole table row of `name` in the section under `heading`."""
    (line,) = [
        line for line in section(text, heading).splitlines() if line.startswith(f"| `{name}` |")
    ]
    return line


def chapter(text: str, heading: str) -> str:
    """From a `## ` heading to the next one, subsections included."""
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
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


@pytest.mark.parametrize("text", [README, REFERENCE], ids=["README", "inputs-and-outputs"])
def test_inputs_tables_match_action_yml(text: str) -> None:
    rows = table_rows(section(text, "## Inputs"))
    assert {name: documented_default(cell) for name, cell in rows.items()} == action_yml_defaults()


@pytest.mark.parametrize("text", [README, REFERENCE], ids=["README", "inputs-and-outputs"])
def test_outputs_tables_match_action_yml_and_the_code(text: str) -> None:
    rows = table_rows(section(text, "## Outputs"))
    assert list(rows) == list(action_metadata()["outputs"])
    assert list(outputs_for(Outcome())) == list(action_metadata()["outputs"])


def test_artifact_digest_and_retention_zero_agree_everywhere() -> None:
    metadata = action_metadata()
    assert "artifact-digest" in metadata["outputs"]
    assert "actions/upload-artifact" in metadata["outputs"]["artifact-digest"]["description"]
    assert "0 uses the repository's default" in " ".join(
        metadata["inputs"]["retention-days"]["description"].split()
    )
    for text in (README, REFERENCE):
        assert "or `0`: the repository's default" in row(text, "## Inputs", "retention-days")
        assert "`sha256`" in row(text, "## Outputs", "artifact-digest")
    assert parse_retention_days("0") is None


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
        assert f"| `{code}`" in ERRORS, f"docs/errors.md has no row for {code}"


def test_error_codes_and_troubleshooting_are_one_table() -> None:
    tables = [line for line in ERRORS.splitlines() if line.startswith("|---")]
    assert len(tables) == 1


def test_try_it_is_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    quick = section(README, "## Try it without an account")
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
_LINK = re.compile(r"\]\((?P<target>[^)#\s]+)(?:#[^)]*)?\)")
_PATH = re.compile(
    r"`(?P<path>(?:tests|docs|devtools|tools|src|requirements|benchmarks)/[\w./-]+)`"
)
DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_readme_is_short_and_in_the_order_a_newcomer_needs() -> None:
    assert len(README.splitlines()) < README_MAX_LINES
    order = ["## Use it in a workflow", "## Try it without an account", "## Inputs", "## Outputs"]
    assert [README.index(h) for h in order] == sorted(README.index(h) for h in order)
    use = chapter(README, "## Use it in a workflow")
    assert use.index("access-key-id") < use.index("oidc-agency-urn"), "AK/SK first, keyless second"
    assert "make demo" in README
    assert "make test" in README


def test_the_readme_shows_the_demos_job_summary() -> None:
    assert "](docs/images/job-summary.png)" in README
    assert (ROOT / "docs" / "images" / "job-summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "example",
    sorted(path for path in EXAMPLES.rglob("*") if path.is_file()),
    ids=lambda path: path.relative_to(EXAMPLES).as_posix(),
)
def test_every_example_is_linked_from_the_readme_not_pasted(example: Path) -> None:
    relative = example.relative_to(ROOT).as_posix()
    assert f"]({relative})" in README
    first_lines = "\n".join(example.read_text(encoding="utf-8").splitlines()[:3])
    assert first_lines not in README


@pytest.mark.parametrize(
    "page", [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *DOCS], ids=lambda page: page.name
)
def test_no_stale_link_or_path(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    missing = []
    for found in _LINK.finditer(text):
        target = found["target"]
        if "://" in target or target.startswith("mailto:"):
            continue
        if not (page.parent / target).exists():
            missing.append(target)
    for found in _PATH.finditer(text):
        path = found["path"].rstrip(".")
        if "<" in path or "*" in path:
            continue
        if not (ROOT / path).exists():
            missing.append(path)
    assert missing == []
