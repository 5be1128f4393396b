"""The container's main job inside GitHub Actions: mask, validate, fetch, upload, report.

The token is masked before anything else is printed. Exit status: 0 on success (or on failure
with `fail-on-error: false`), 1 on failure; a cancelled job always exits non-zero.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from types import FrameType

from actions_toolkit import core

from . import config, report, runner, secrets
from .codearts import CancelToken
from .errors import InvalidInput
from .summary import headline


def mask_secrets(env: Mapping[str, str]) -> None:
    """Have every secret masked by the runner and scrubbed by us, starting with the token.

    Secrets learnt later (the signature of a signed upload URL) are masked as they arrive.
    """
    secrets.on_register(core.set_secret)
    raw = env.get(config.env_name("token"), "")
    for value in (raw.strip(), raw):
        if value.strip():
            secrets.register(value)


def main() -> int:
    """Run the action with the runner's environment; returns the exit status."""
    env = os.environ
    mask_secrets(env)
    report.route_library_logs(core.info)
    cancel = CancelToken()
    _cancel_on_signals(cancel)
    raw = config.raw_inputs(env)
    try:
        fail_on_error = config.parse_bool("fail-on-error", raw["fail-on-error"])
    except InvalidInput:
        fail_on_error = True
    try:
        settings = config.parse_settings(raw, config.workspace_from(env))
    except InvalidInput as exc:
        report.publish([], exc, fail_on_error=fail_on_error)
        core.info(headline([], exc))
        return 1 if fail_on_error else 0

    uploader, warnings = runner.select_uploader(settings, env)
    core.start_group(f"Fetching {len(settings.sub_job_ids)} CodeArts Check log package(s)")
    try:
        results = runner.run(settings, log=core.info, uploader=uploader, cancel=cancel)
    finally:
        core.end_group()
    report.publish(results, None, fail_on_error=settings.fail_on_error, warnings=warnings)
    core.info(headline(results, None))
    if cancel.cancelled:
        return 1
    failed = any(not r.ok for r in results)
    return 1 if failed and settings.fail_on_error else 0


def _cancel_on_signals(cancel: CancelToken) -> None:
    """A cancelled job (SIGTERM from the runner, SIGINT) stops downloads and cleans up."""

    def handler(signum: int, frame: FrameType | None) -> None:
        cancel.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)
