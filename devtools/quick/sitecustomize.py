"""Shortens every retry wait of a process started with this folder on PYTHONPATH.

Python imports `sitecustomize` at start-up, before the entrypoint runs, so a test that runs the
real `entrypoint` as a subprocess gets short back-off without the product reading any setting
for it: add `PYTHONPATH=<this folder>` to the step's environment, and optionally
`QUICK_RETRY_FACTOR` (default 0.01: a 3 s wait becomes 30 ms).
"""

from __future__ import annotations

import os

from codearts_check_logs.net import retry

retry.shorten(float(os.environ.get("QUICK_RETRY_FACTOR", "0.01")))
