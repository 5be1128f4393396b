"""`make demo`'s first run: the picture in the README is of the summary it produces, and its
log reads as the run page would show it."""

from __future__ import annotations

from pathlib import Path

import pytest
from devtools.runner_log import displayed

from devtools import demo

ROOT = Path(__file__).resolve().parents[2]
PICTURED = ROOT / "docs" / "images" / "job-summary.md"

pytestmark = [pytest.mark.e2e, pytest.mark.azurite]


def test_the_readme_picture_is_of_the_summary_the_demo_produces(tmp_path: Path) -> None:
    run, finalized, ok = demo.main_job(tmp_path)
    assert ok, run.log
    assert len(finalized) == 2
    assert run.outputs["artifact-digest"] == run.outputs["sha256"]
    assert f"sha256:{run.outputs['artifact-digest']}" == finalized[0].digest
    assert run.summary == PICTURED.read_text(encoding="utf-8"), (
        "the demo's summary changed: run `make summary-image` and commit docs/images/"
    )
    view = displayed(run.log)
    assert view.lines[0] == "▼ Fetching 2 CodeArts Check log packages"
    assert not any(line.lstrip().startswith("::") for line in view.lines)
    assert not any(demo.TOKEN in line for line in view.lines)
    assert [level for level, _ in view.annotations] == ["notice", "notice"]
