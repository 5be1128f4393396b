"""devtools/quick: a subprocess started with it on PYTHONPATH has every retry wait shortened."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import devtools

QUICK = Path(devtools.__file__).parent / "quick"
SHOW = (
    "from codearts_check_logs.net import retry; "
    "print(retry.policy_for('results').initial, retry.policy_for('codearts').min_attempt)"
)


def run(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.split()


def test_the_waits_are_shortened_in_the_child_only() -> None:
    assert run({"PYTHONPATH": str(QUICK)}) == ["0.03", "0.01"]
    assert run({"PYTHONPATH": str(QUICK), "QUICK_RETRY_FACTOR": "0.5"}) == ["1.5", "0.5"]
    assert run({}) == ["3.0", "1.0"]
