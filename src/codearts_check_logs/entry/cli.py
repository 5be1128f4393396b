"""The command line, for Jenkins, GitLab CI and a laptop: the action's options as a Unix tool.

The shared options' names and descriptions come from action.yml, the single source of both;
booleans become flags (`--overwrite`, `--no-triage`; the action's `name true|false` form still
works), `path` is `-o/--output-dir`, and the artifact upload is opt-in (`--upload`), since it only
works inside GitHub Actions. Secrets are never options (a command line ends up in process
listings and shell history): they come from the environment, under the official SDK's names where
it has them. Progress and log lines go to stderr (bars on a terminal), the outcome to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence

from .. import __version__, app, masking
from ..auth.values import maskable
from ..environment import RunnerEnvironment
from ..errors import InternalError, InvalidInput
from ..inputs.metadata import input_specs
from ..inputs.paths import workspace_from
from ..inputs.settings import parse_settings
from ..inputs.values import FALSE_WORDS, TRUE_WORDS
from ..net.cancel import CancelToken
from ..outcome import Outcome
from ..pipeline import Progress
from ..render.json_report import json_report
from ..render.outputs import fixed_value
from ..render.text import render_text
from .library_logs import route_library_logs
from .progress import LineProgress, TerminalProgress
from .signals import Signals, leave

PROG = "codearts-check-logs"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM

TOKEN_ENV = "CODEARTS_CHECK_TOKEN"
PASSWORD_ENV = "CODEARTS_CHECK_IAM_PASSWORD"
SECRET_FROM_ENV = {"token": TOKEN_ENV, "iam-password": PASSWORD_ENV}
"""Secret inputs read from an environment variable (the option `--<input>-env` renames it)."""
SDK_ONLY = ("access-key-id", "secret-access-key", "security-token")
"""Secret inputs taken from the official SDK's (or huaweicloud/auth-action's) variables."""

FLAGS = {
    "upload-artifact": "upload",
    "overwrite": "overwrite",
    "triage": "triage",
    "fail-on-error": "fail-on-error",
}
"""Boolean inputs and their flag names (`--name` / `--no-name`)."""
CLI_DEFAULTS = {"upload-artifact": False}
"""Where the CLI's default differs from the action's: uploads need GitHub Actions."""
RENAMED = {"path": ("-o", "--output-dir", "--path")}

EPILOG = f"""\
credentials (give one way; secrets only through the environment):
  token          {TOKEN_ENV} (or the variable named by --token-env)
  AK/SK          HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK [, HUAWEICLOUD_SDK_SECURITY_TOKEN,
                 HUAWEICLOUD_SDK_PROJECT_ID], or HUAWEI_CLOUD_ACCESS_KEY_ID,
                 HUAWEI_CLOUD_SECRET_ACCESS_KEY [, HUAWEI_CLOUD_PROJECT_ID]; --project-id
  IAM password   --iam-user, --iam-domain, and {PASSWORD_ENV} (or --iam-password-env)
  OIDC, IAM 5    --oidc-agency-urn and --oidc-provider-urn [--oidc-audience]
  OIDC, IAM v3   --oidc-idp-id [--oidc-audience]
                 (both keyless ways need ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN: a `run:`
                 step of a GitHub job with `permissions: id-token: write`)

exit status:
  0    every sub-job was fetched (or --no-fail-on-error)
  1    a sub-job, or the credentials, failed; the output says which and why
  2    the options or the environment are not usable; nothing was sent
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM): partial files are removed
"""


def build_parser() -> argparse.ArgumentParser:
    """One option per shared input (from action.yml), plus the command line's own."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Download the log packages (ZIP) of CodeArts Check sub-jobs, show what went "
        "wrong inside them, and (in GitHub Actions, with --upload) keep them as artifacts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ids", nargs="*", metavar="SUB_JOB_ID", help="sub-job IDs to fetch")
    for spec in input_specs().values():
        help_text = spec.description
        if spec.name in SDK_ONLY:
            continue
        if spec.name in SECRET_FROM_ENV:
            variable = SECRET_FROM_ENV[spec.name]
            parser.add_argument(
                f"--{spec.name}-env",
                default=variable,
                metavar="NAME",
                help=f"environment variable holding the {spec.name} (default: {variable})",
            )
        elif spec.name == "sub-job-id":
            parser.add_argument(
                "--sub-job-id",
                dest=spec.name,
                action="append",
                default=[],
                metavar="IDS",
                help=help_text,
            )
        elif spec.name in FLAGS:
            default = CLI_DEFAULTS.get(spec.name, spec.default == "true")
            parser.add_argument(
                f"--{FLAGS[spec.name]}",
                dest=spec.name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=f"{help_text} (default: {'on' if default else 'off'})",
            )
        else:
            parser.add_argument(
                *RENAMED.get(spec.name, (f"--{spec.name}",)),
                dest=spec.name,
                default=spec.default,
                metavar="VALUE" if spec.name not in RENAMED else "DIR",
                help=f"{help_text} (default: {spec.default or 'empty'})",
            )
    parser.add_argument("--json", action="store_true", help="print the outcome as one JSON object")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def flag_words(argv: Sequence[str]) -> list[str]:
    """The action's `--name true|false` spelling of a boolean, as the flag it means."""
    words = {f"--{name}": flag for name, flag in FLAGS.items()}
    words.update({f"--{flag}": flag for flag in FLAGS.values()})
    out: list[str] = []
    index = 0
    while index < len(argv):
        word, value = argv[index], None
        if "=" in word and word.split("=", 1)[0] in words:
            word, value = word.split("=", 1)
        elif word in words and index + 1 < len(argv):
            value = argv[index + 1] if _is_bool(argv[index + 1]) else None
            index += value is not None
        if word in words and value is not None:
            if not _is_bool(value):
                out.append(f"{word}={value}")  # argparse says what is wrong with it
            else:
                flag = words[word]
                out.append(f"--{flag}" if value in TRUE_WORDS else f"--no-{flag}")
        else:
            out.append(word)
        index += 1
    return out


def _is_bool(word: str) -> bool:
    return word in TRUE_WORDS | FALSE_WORDS


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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, fetch, print the outcome; returns the exit status (see EPILOG)."""
    cancel = CancelToken()
    signals = Signals(cancel)
    args = build_parser().parse_args(flag_words(sys.argv[1:] if argv is None else argv))
    try:
        named = [secret_variable(args, name) for name in SECRET_FROM_ENV]
        code = _run(args, RunnerEnvironment.read(os.environ, named=named), cancel, signals)
    except BrokenPipeError:  # stdout closed early (`| head`): nothing left to tell
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_FAILED
    except Exception as exc:  # a defect still ends in a message and an exit status
        print(f"{PROG}: unexpected {type(exc).__name__} (a bug); please report it", file=sys.stderr)
        code = EXIT_FAILED
    return leave(code)


def _run(
    args: argparse.Namespace, env: RunnerEnvironment, cancel: CancelToken, signals: Signals
) -> int:
    raw = raw_inputs(args, env)
    for value in (*(raw[name] for name in SECRET_FROM_ENV), *env.secret_values()):
        if maskable(value):  # one too short is refused below, never masked first
            masking.register(value.strip())
    try:
        settings = parse_settings(raw, workspace_from(""), env)
    except InvalidInput as exc:
        print(f"{PROG}: error: {masking.redact(exc.message)}", file=sys.stderr)
        return EXIT_BAD_INPUT

    log, progress = _reporters()
    route_library_logs(log)
    try:
        outcome = app.run(settings, env, log=log, cancel=cancel, progress=progress)
    except Exception as exc:  # a defect still ends in a report
        outcome = Outcome.failed(InternalError(type(exc).__name__))
    if args.json:
        report = masking.redact_values(json_report(outcome), fixed_value)  # texts, not values
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(masking.redact(render_text(outcome)), end="")
    sys.stdout.flush()
    return exit_status(outcome, signals.received, fail_on_error=settings.fail_on_error)


def exit_status(outcome: Outcome, received: int | None, *, fail_on_error: bool) -> int:
    if received == signal.SIGINT:
        return EXIT_INTERRUPTED
    if received is not None or outcome.cancelled:
        return EXIT_TERMINATED
    return EXIT_OK if outcome.ok or not fail_on_error else EXIT_FAILED


def _reporters() -> tuple[Callable[[str], None], Progress]:
    """Log lines and progress: bars on a terminal, plain lines anywhere else."""
    if sys.stderr.isatty():
        terminal = TerminalProgress(sys.stderr)
        return lambda line: terminal.write(masking.redact(line)), terminal

    def log(line: str) -> None:
        print(masking.redact(line), file=sys.stderr, flush=True)

    return log, LineProgress(log)


if __name__ == "__main__":
    sys.exit(main())
