"""Limits on what the runner accepts, end to end: 500 sub-jobs (the most the inputs accept), each
failing with a code and a message as long as service text may be and made of the characters that
grow most when escaped. GitHub drops a step summary over 1 MiB whole and refuses outputs over
1 MB; the action's own budgets keep both far below, and still account for every sub-job.
"""

from __future__ import annotations

import json
import re

import pytest
from devtools.doubles.codearts import Simulator, Step

from codearts_check_logs.inputs.values import MAX_SUB_JOBS
from codearts_check_logs.render import markdown, outputs
from codearts_check_logs.render.budget import CUT
from tests.conftest import ActionRunner, inputs_for

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024  # the runner drops a step summary above this, whole
GITHUB_OUTPUT_LIMIT = 1_000_000  # "Outputs are Unicode strings, and can be a maximum of 1 MB"
# `|` is 6 bytes in the summary (`&#124;`), the emoji 12 in JSON (`\ud83d\ude00`).
HOSTILE = ('|<>&@#"\\😀' * 250)[:2000]
CODE = "CC." + "|@#" * 65 + "<>"  # 200 characters, the cap on codes


def test_500_failures_with_hostile_text_stay_within_githubs_limits(
    sim: Simulator, run_action: ActionRunner
) -> None:
    ids = [f"{i:032x}" for i in range(MAX_SUB_JOBS)]
    for sub_job_id in ids:
        sim.script(sub_job_id, Step.json(400, {"error_code": CODE, "error_msg": HOSTILE}))

    run = run_action(inputs_for(sim, *ids), timeout=240)

    assert run.returncode == 1, run.stderr[-2000:]
    summary_bytes = (run.file_commands / "step_summary").stat().st_size
    output_bytes = (run.file_commands / "set_output").stat().st_size
    assert summary_bytes <= markdown.MAX_SUMMARY_BYTES + 1 < MIB
    rows = [line for line in run.summary.splitlines() if line.startswith("| `")]
    more = re.search(r"^_(\d+) more sub-jobs are not in the table above", run.summary, re.M)
    assert more is not None, "the overview table does not fit: the rest are counted"
    assert len(rows) + int(more.group(1)) == len(ids)
    assert "the `results` output lists every one" in run.summary

    assert output_bytes <= outputs.OUTPUT_BYTES < GITHUB_OUTPUT_LIMIT
    entries = json.loads(run.outputs["results"])
    assert [(e["sub_job_id"], e["status"], e["http_status"], e["error_code"]) for e in entries] == [
        (sub_job_id, "failure", 400, CODE) for sub_job_id in ids
    ]
    assert all(e["error_message"].endswith(CUT) for e in entries)
    assert all(HOSTILE.startswith(e["error_message"].removesuffix(CUT)) for e in entries)
    assert run.outputs["error-message"] == HOSTILE
