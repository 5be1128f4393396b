"""The command line, for Jenkins, GitLab CI and a laptop: the action's inputs as a Unix tool.

The options (`cli_options`) are parsed strictly and never echo a value; secrets come only from
the environment. The outcome goes to stdout, as text or one JSON object whatever happened (a
usage error included); log lines and progress go to stderr: bars on a terminal, plain lines
elsewhere, nothing with `-q` or `--no-progress`. Messages speak of this command, its options and
its exit status (`render.channel.CLI`), not of steps and runners.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence

from .. import app, masking
from ..auth.values import maskable
from ..auth.ways import NO_CREDENTIALS
from ..environment import RunnerEnvironment
from ..errors import InternalError, InvalidInput
from ..inputs.metadata import input_specs
from ..inputs.paths import workspace_from
from ..inputs.settings import parse_settings
from ..net.cancel import CancelToken
from ..outcome import Outcome
from ..pipeline import Progress, Silent
from ..render.channel import CLI, SDK_KEY_ENV
from ..render.json_report import json_report
from ..render.outputs import fixed_value
from ..render.text import render_text
from .cli_options import FLAGS, PROG, SDK_ONLY, SECRET_FROM_ENV, UsageError, parse, wants_json
from .library_logs import route_library_logs
from .progress import LineProgress, TerminalProgress
from .signals import Signals, leave

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM

CLI_NO_CREDENTIALS = (
    "no credentials: give one authentication way: an IAM token in "
    f"{SECRET_FROM_ENV['token']} (or the variable --token-env names); an access key in "
    f"{SDK_KEY_ENV['access-key-id']} and {SDK_KEY_ENV['secret-access-key']} (or "
    "HUAWEI_CLOUD_ACCESS_KEY_ID and HUAWEI_CLOUD_SECRET_ACCESS_KEY); --iam-user and "
    f"--iam-domain with the password in {SECRET_FROM_ENV['iam-password']}; or, in a GitHub job "
    "with id-token: write, --oidc-agency-urn and --oidc-provider-urn (IAM 5) or --oidc-idp-id "
    "(IAM v3)"
)
"""`ways.NO_CREDENTIALS` in the command line's terms: options and environment variables. Already
spelled for the command line, so `CLI.speak` leaves it as it is (a test keeps it so)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, fetch, print the outcome; returns the exit status (see `--help`)."""
    words = list(sys.argv[1:] if argv is None else argv)
    cancel = CancelToken()
    signals = Signals(cancel)
    try:
        try:
            args = parse(words)
        except UsageError as exc:
            code = _refused(exc.message, as_json=wants_json(words))
        else:
            named = [*(secret_variable(args, name) for name in SECRET_FROM_ENV), "TERM"]
            code = _run(args, RunnerEnvironment.read(os.environ, named=named), cancel, signals)
    except BrokenPipeError:  # stdout closed early (`| head`): nothing left to tell
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_FAILED
    except Exception as exc:  # a defect still ends in a message and an exit status
        print(f"{PROG}: unexpected {type(exc).__name__} (a bug); please report it", file=sys.stderr)
        code = EXIT_FAILED
    return leave(code)


def raw_inputs(args: argparse.Namespace, env: RunnerEnvironment) -> dict[str, str]:
    """The options as the action's raw inputs, secrets read from the environment."""
    values = vars(args)
    raw: dict[str, str] = {}
    for name in input_specs():
        if name in SDK_ONLY:
            raw[name] = ""  # the environment fallback reads the SDK's variables
        elif name in SECRET_FROM_ENV:
            raw[name] = env.named.get(secret_variable(args, name), "").strip()
        elif name == "sub-job-id":
            raw[name] = " ".join([*values[name], *args.ids])
        elif name in FLAGS:
            raw[name] = "true" if values[name] else "false"
        else:
            raw[name] = str(values[name]).strip()
    return raw


def secret_variable(args: argparse.Namespace, name: str) -> str:
    """The variable holding secret input `name` (`--token-env`, `--iam-password-env`)."""
    return str(vars(args)[f"{name.replace('-', '_')}_env"])


def _run(
    args: argparse.Namespace, env: RunnerEnvironment, cancel: CancelToken, signals: Signals
) -> int:
    raw = raw_inputs(args, env)
    for value in (*(raw[name] for name in SECRET_FROM_ENV), *env.secret_values()):
        if maskable(value):  # one too short is refused below, never masked first
            masking.register(value.strip())
    try:
        settings = parse_settings(raw, workspace_from(""), env, confined=False)
    except InvalidInput as exc:
        return _refused(masking.redact(spoken_input_error(exc.message)), as_json=args.json)

    log, progress = _reporters(args, term=env.named["TERM"])
    route_library_logs(log, logging.DEBUG if args.verbose else logging.INFO)
    try:
        outcome = app.run(settings, env, log=log, cancel=cancel, progress=progress)
    except Exception as exc:  # a defect still ends in a report
        outcome = Outcome.failed(InternalError(type(exc).__name__))
    if args.json:
        _print_json(outcome)
    else:
        print(masking.redact(render_text(outcome, CLI, brief=args.quiet)), end="")
    sys.stdout.flush()
    return exit_status(outcome, signals.received, fail_on_error=settings.fail_on_error)


def spoken_input_error(message: str) -> str:
    """An input error in the command line's terms: `--timeout-seconds`, the variables."""
    return CLI.speak(message.replace(NO_CREDENTIALS, CLI_NO_CREDENTIALS))


def _refused(message: str, *, as_json: bool) -> int:
    """Options or environment that cannot be used (exit 2): said on stderr, and with `--json`
    as the same JSON object as any other outcome."""
    print(f"{PROG}: error: {message}\nTry '{PROG} --help' for the options.", file=sys.stderr)
    if as_json:
        _print_json(Outcome.failed(InvalidInput(message)))
    return EXIT_BAD_INPUT


def _print_json(outcome: Outcome) -> None:
    report = masking.redact_values(json_report(outcome, CLI), fixed_value)  # texts, not values
    print(json.dumps(report, indent=2, ensure_ascii=False))


def exit_status(outcome: Outcome, received: int | None, *, fail_on_error: bool) -> int:
    if received == signal.SIGINT:
        return EXIT_INTERRUPTED
    if received is not None or outcome.cancelled:
        return EXIT_TERMINATED
    return EXIT_OK if outcome.ok or not fail_on_error else EXIT_FAILED


def _reporters(args: argparse.Namespace, term: str) -> tuple[Callable[[str], None], Progress]:
    """Log lines and progress on stderr: nothing with `-q`; bars on a terminal that can draw
    them (not `TERM=dumb`); elsewhere no progress, except a plain line at each quarter of a
    large transfer with `-v`; none at all with `--no-progress`."""
    if args.quiet:
        return lambda line: None, Silent()
    if args.progress and sys.stderr.isatty() and term != "dumb":
        terminal = TerminalProgress(sys.stderr)
        return lambda line: terminal.write(masking.redact(line)), terminal

    def log(line: str) -> None:
        print(masking.redact(line), file=sys.stderr, flush=True)

    return log, LineProgress(log) if args.progress and args.verbose else Silent()


if __name__ == "__main__":
    sys.exit(main())
