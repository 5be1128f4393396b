"""The GitHub Actions boundary: mask, read inputs, run, publish, and choose the exit status.

Every secret is masked before anything else is printed. Whatever happens — bad inputs, a defect,
a runner file that cannot be written, a cancelled job — the step ends with what could be reported
on every channel still usable and an exit status, never a traceback. Exit status: 0 on success
(or on failure with `fail-on-error: false`), 1 otherwise; a cancelled job, or a runner file that
could not be written, always exits non-zero.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

from .. import app, masking
from ..auth import ways
from ..auth.values import maskable
from ..environment import RunnerEnvironment
from ..errors import InternalError, WriteFailed
from ..github import commands
from ..inputs.paths import workspace_from
from ..inputs.settings import InvalidSettings, parse_settings, raw_inputs
from ..net.cancel import CancelToken
from ..outcome import Outcome
from ..render.markdown import headline, render_markdown
from ..render.outputs import annotations_for, outputs_for
from ..render.wording import counted
from ..textsafe import clean
from .library_logs import route_library_logs
from .signals import Signals, leave


def main() -> int:
    """Run the action with the runner's environment; returns the exit status."""
    env = RunnerEnvironment.read(os.environ)
    cancel = CancelToken()
    try:
        mask_secrets(env)
        route_library_logs(commands.log)
        Signals(cancel)
        outcome, fail_on_error = _run(env, cancel)
    except Exception as exc:  # a defect still ends in a report
        outcome, fail_on_error = Outcome.failed(InternalError(type(exc).__name__)), True
    try:
        outcome = publish(outcome, env, fail_on_error=fail_on_error)
        code = exit_status(outcome, fail_on_error=fail_on_error)
    except Exception as exc:  # a defect while reporting: say so on the one channel left
        commands.annotate("error", f"INTERNAL_ERROR: unexpected {type(exc).__name__} (a bug)")
        code = 1
    return leave(code)


def mask_secrets(env: RunnerEnvironment) -> None:
    """Have every secret input (and the environment's, `environment.SECRET_ENV`) masked by the
    runner and scrubbed by us; secrets learnt later (a derived credential, the signature of a
    signed upload URL) are masked as they arrive. A value too short to be a secret is left alone:
    the parsers refuse it, and masking it would edit every line that holds its characters."""
    masking.on_register(commands.mask)
    given = [env.input(name) for name in ways.SECRET_INPUTS] + env.secret_values()
    for raw in given:
        if maskable(raw):
            masking.register(raw.strip())  # what surrounds it is spaces: not secret


def _run(env: RunnerEnvironment, cancel: CancelToken) -> tuple[Outcome, bool]:
    try:
        settings = parse_settings(raw_inputs(env), workspace_from(env.workspace), env)
    except InvalidSettings as exc:
        return Outcome.failed(exc), exc.fail_on_error
    count = counted(len(settings.sub_job_ids), "CodeArts Check log package")
    commands.group(f"Fetching {count}")
    try:
        outcome = app.run(settings, env, log=commands.log, cancel=cancel)
    finally:
        commands.end_group()
    return outcome, settings.fail_on_error


def publish(outcome: Outcome, env: RunnerEnvironment, *, fail_on_error: bool) -> Outcome:
    """Outputs, then the summary, then annotations and the headline; a channel that fails is
    reported on the ones after it. Returns the outcome with those failures recorded."""
    problems: list[str] = []
    output_path = env.output_file
    if output_path:
        problems += _attempt(lambda: commands.write_outputs(output_path, outputs_for(outcome)))
    summary_path = env.summary_file
    if summary_path:
        described = replace(outcome, channel_errors=tuple(problems))
        problems += _attempt(
            lambda: commands.append_summary(summary_path, render_markdown(described))
        )
    outcome = replace(outcome, channel_errors=tuple(problems))
    for level, message in annotations_for(outcome, fail_on_error=fail_on_error):
        commands.annotate(level, message)
    commands.log(clean(headline(outcome)))
    return outcome


def _attempt(write: Callable[[], None]) -> list[str]:
    try:
        write()
    except WriteFailed as exc:
        return [exc.message]
    return []


def exit_status(outcome: Outcome, *, fail_on_error: bool) -> int:
    if outcome.cancelled or outcome.channel_errors:
        return 1
    return 0 if outcome.ok or not fail_on_error else 1
