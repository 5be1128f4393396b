"""`python -m codearts_check_logs`: the command line, as the `codearts-check-logs` script runs
it (for a Python without the script on its PATH)."""

import sys

from .entry.cli import main

sys.exit(main())
