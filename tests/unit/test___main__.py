"""`python -m codearts_check_logs` is the command line."""

from __future__ import annotations

import subprocess
import sys

from codearts_check_logs import __version__


def test_python_dash_m_runs_the_command_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "codearts_check_logs", "--version"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout.strip()) == (0, f"codearts-check-logs {__version__}")
