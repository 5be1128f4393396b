"""Command line for use outside GitHub Actions (Jenkins, GitLab CI, a laptop).

Options mirror the action's inputs (names, defaults and help come from action.yml). The token
is read from an environment variable by default, so it stays out of process listings and
shell history. Progress goes to stderr, the outcome to stdout. Exit: 0 success, 1 failure,
2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from . import __version__, config, report, runner, secrets
from .codearts import CancelToken
from .errors import InvalidInput
from .summary import render_text

TOKEN_ENV = "CODEARTS_CHECK_TOKEN"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """One option per action input, plus the CLI's own."""
    parser = argparse.ArgumentParser(
        prog="codearts-check-logs",
        description="Download CodeArts Check log packages (ZIP) for one or more sub-jobs.",
    )
    parser.add_argument("ids", nargs="*", metavar="SUB_JOB_ID", help="sub-job IDs to fetch")
    for spec in config.input_specs().values():
        if spec.name == "token":
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
    raw = {name: str(values[name]).strip() for name in config.input_specs() if name != "token"}
    raw["sub-job-id"] = " ".join([raw["sub-job-id"], *args.ids])
    raw["token"] = os.environ.get(args.token_env, "").strip()
    secrets.register(raw["token"])
    if not raw["token"]:
        print(f"error: set {args.token_env} to an IAM token", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        settings = config.parse_settings(raw, config.workspace_from({}))
    except InvalidInput as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report.route_library_logs(log)

    uploader, warnings = runner.select_uploader(settings, os.environ)
    # Outside Actions there is nowhere to upload to; that is expected here, not a warning.
    warnings = [w for w in warnings if w != runner.NO_RUNTIME_TOKEN]
    results = runner.run(settings, log=log, uploader=uploader, cancel=CancelToken())
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=2))
    else:
        print(secrets.redact(render_text(results, None, warnings)), end="")
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
