"""Command line for use outside GitHub Actions (Jenkins, GitLab CI, a laptop).

Options mirror the action's inputs (names, defaults and help come from action.yml), except the
secret ones: the token is read from an environment variable, and AK/SK from the official SDK's
variables (`HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`, …) or `huaweicloud/auth-action`'s, so they
stay out of process listings and shell history. Progress goes to stderr, the outcome to stdout.
Exit: 0 success, 1 failure, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from .. import __version__, app, inputs, secrets
from ..artifact.environment import NO_RUNTIME_TOKEN
from ..auth.ways import SECRET_ENV
from ..errors import InternalError, InvalidInput
from ..http import CancelToken
from ..outcome import Outcome
from ..render.text import render_text
from ..render.triage import triage_json
from .library_logs import route_library_logs

TOKEN_ENV = "CODEARTS_CHECK_TOKEN"
SECRET_INPUTS = ("token", "access-key-id", "secret-access-key", "security-token", "iam-password")
"""Inputs that are no options: secrets on a command line end up in process listings."""
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """One option per action input, plus the CLI's own."""
    parser = argparse.ArgumentParser(
        prog="codearts-check-logs",
        description="Download CodeArts Check log packages (ZIP) for one or more sub-jobs.",
    )
    parser.add_argument("ids", nargs="*", metavar="SUB_JOB_ID", help="sub-job IDs to fetch")
    for spec in inputs.input_specs().values():
        if spec.name in SECRET_INPUTS:
            continue
        default = "" if spec.name == "sub-job-id" else spec.default
        parser.add_argument(
            f"--{spec.name}",
            dest=spec.name,
            default=default,
            metavar="VALUE",
            help=f"{spec.description} (default: {spec.default or 'empty'})",
        )
    parser.add_argument(
        "--no-triage",
        dest="triage",
        action="store_const",
        const="false",
        help="save the ZIPs without reading them for problem lines (the same as --triage false)",
    )
    parser.add_argument(
        "--token-env",
        default=TOKEN_ENV,
        metavar="NAME",
        help=f"environment variable holding the IAM token (default: {TOKEN_ENV})",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, fetch, print the outcome; returns the exit status."""
    args = build_parser().parse_args(argv)
    values = vars(args)
    raw = {
        name: "" if name in SECRET_INPUTS else str(values[name]).strip()
        for name in inputs.input_specs()
    }
    raw["sub-job-id"] = " ".join([raw["sub-job-id"], *args.ids])
    raw["token"] = os.environ.get(args.token_env, "").strip()
    for value in (raw["token"], *(os.environ.get(name, "").strip() for name in SECRET_ENV)):
        secrets.register(value)
    try:
        settings = inputs.parse_settings(raw, inputs.workspace_from({}), os.environ)
    except InvalidInput as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def log(message: str) -> None:
        print(secrets.redact(message), file=sys.stderr, flush=True)

    route_library_logs(log)
    try:
        outcome = app.run(settings, os.environ, log=log, cancel=CancelToken())
    except Exception as exc:  # a defect still ends in a report
        outcome = Outcome.failed(InternalError(type(exc).__name__))
    # Outside Actions there is nowhere to upload to; that is expected here, not a warning.
    outcome = replace(outcome, warnings=tuple(w for w in outcome.warnings if w != NO_RUNTIME_TOKEN))
    if args.json:
        entries = [{**r.as_json(), "triage": triage_json(r.triage)} for r in outcome.results]
        print(secrets.redact(json.dumps(entries, indent=2)))
    else:
        print(secrets.redact(render_text(outcome)), end="")
    return EXIT_OK if outcome.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
