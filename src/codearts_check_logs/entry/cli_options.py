"""The command line's options: parsed strictly, explained in its own terms, never echoing a value.

Strict because argparse, left to itself, takes `--token VALUE` for an abbreviation of
`--token-env` (the value becomes the name of a variable) and repeats a mistyped argument, value
and all, in its error (`unrecognized arguments: --secret-access-key SECRET`), which other CI
systems keep in their logs unmasked. Here no option is abbreviated, a usage error names the
option and never a value, and an option that looks like a secret is refused with the
environment variable to use instead: a secret on a command line ends up in shell history and
process listings. Every input of action.yml is an option or, for a secret, a variable
(`channel.CLI_SPELLING`); a test keeps the two lists equal.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from ..auth.ways import SECRET_INPUTS
from ..inputs.metadata import input_specs
from ..inputs.values import FALSE_WORDS, TRUE_WORDS
from ..render.channel import CLI, PASSWORD_ENV, SDK_KEY_ENV, TOKEN_ENV

PROG = "codearts-check-logs"
SECRET_FROM_ENV = {"token": TOKEN_ENV, "iam-password": PASSWORD_ENV}
"""Secret inputs read from an environment variable (the option `--<input>-env` renames it)."""
SDK_ONLY = ("access-key-id", "secret-access-key", "security-token")
"""Secret inputs taken from the official SDK's (or huaweicloud/auth-action's) variables."""
SECRET_OPTIONS = {f"--{name}": CLI.spell(name) for name in SECRET_INPUTS}
"""Options a user may try for a secret, and the variable that takes it instead."""

FLAGS = {
    "upload-artifact": "upload",
    "overwrite": "overwrite",
    "triage": "triage",
    "fail-on-error": "fail-on-error",
}
"""Boolean inputs and their flag names (`--name` / `--no-name`)."""
CLI_DEFAULTS = {"upload-artifact": False}
"""Where the command line's default differs from the action's: uploads need GitHub Actions."""

GROUPS = {
    "what to fetch": ("sub-job-id", "region", "endpoint", "iam-endpoint", "sts-endpoint"),
    "authentication (secrets only through the environment, see below)": (
        "token",
        "iam-password",
        "iam-user",
        "iam-domain",
        "project-id",
        "oidc-agency-urn",
        "oidc-provider-urn",
        "oidc-idp-id",
        "oidc-audience",
    ),
    "output": ("path", "upload-artifact", "artifact-name", "retention-days", "overwrite"),
    "behaviour": ("triage", "triage-pattern", "fail-on-error", "timeout-seconds"),
}
"""Where each option is listed in `--help`; the secret keys (AK/SK) are variables only."""

HELP = {
    "sub-job-id": "sub-job IDs, separated by commas or spaces (repeatable; or give them as "
    "arguments)",
    "region": "Huawei Cloud region (default: $HUAWEI_CLOUD_REGION, else cn-north-4)",
    "endpoint": "CodeArts Check base URL instead of the region's (https; http only to loopback)",
    "iam-endpoint": "IAM base URL instead of the region's",
    "sts-endpoint": "STS (IAM 5) base URL instead of the region's",
    "token": f"variable holding an IAM token (default: {TOKEN_ENV})",
    "iam-password": f"variable holding the IAM user's password (default: {PASSWORD_ENV})",
    "iam-user": "IAM user name: with --iam-domain and the password, a token is obtained",
    "iam-domain": "the account (domain) the IAM user belongs to",
    "project-id": "project ID for signed requests (default: looked up from IAM)",
    "oidc-agency-urn": "keyless, IAM 5: the agency to assume with a GitHub ID token (with "
    "--oidc-provider-urn; in a GitHub job with id-token: write)",
    "oidc-provider-urn": "keyless, IAM 5: the OIDC identity provider the agency trusts",
    "oidc-idp-id": "keyless, IAM v3: the identity provider to exchange a GitHub ID token at",
    "oidc-audience": "audience of the GitHub ID token (default: GitHub's)",
    "path": "folder to save <sub-job-id>.zip in, absolute or relative (default: "
    "codearts-check-logs)",
    "upload-artifact": "also upload each ZIP as a workflow artifact (inside GitHub Actions "
    "only; default: off)",
    "artifact-name": "artifact name with --upload; {sub_job_id} is replaced (default: "
    "codearts-check-logs-{sub_job_id}.zip)",
    "retention-days": "days (1-90) to keep an uploaded artifact (default or 0: the repository's)",
    "overwrite": "replace an artifact of the same name in this workflow run (default: off)",
    "triage": "show the problem lines and the end of the main log of each ZIP (default: on)",
    "triage-pattern": "regular expression (Python syntax) that marks a problem line (default: "
    "error, fatal, exception, traceback, failed, failure, panic, 错误, 失败, 异常)",
    "fail-on-error": "exit 1 when a sub-job fails (default: on; --no-fail-on-error exits 0)",
    "timeout-seconds": "time budget per sub-job, retries included (default: 300)",
}
"""Each option's help, in the command line's terms (action.yml speaks of steps and summaries)."""

EPILOG = f"""\
secrets come from the environment, never from options:
  token         {TOKEN_ENV} (or the variable --token-env names)
  AK/SK         {SDK_KEY_ENV["access-key-id"]} and {SDK_KEY_ENV["secret-access-key"]} \
[{SDK_KEY_ENV["security-token"]}],
                or HUAWEI_CLOUD_ACCESS_KEY_ID and HUAWEI_CLOUD_SECRET_ACCESS_KEY
  IAM password  {PASSWORD_ENV} (or the variable --iam-password-env names)
  the two keyless ways (--oidc-*) need a GitHub job with `permissions: id-token: write`

examples:
  export {TOKEN_ENV}="$(cat token.txt)"
  {PROG} 0123456789abcdef0123456789abcdef

  export {SDK_KEY_ENV["access-key-id"]}=... {SDK_KEY_ENV["secret-access-key"]}=...
  {PROG} --region ap-southeast-3 -o /tmp/logs 0123456789abcdef0123456789abcdef

  {PROG} --json -q 0123456789abcdef0123456789abcdef | jq -r '.results[].file'

exit status:
  0    every sub-job was fetched (or --no-fail-on-error)
  1    a sub-job, or the credentials, failed; the output says which and why
  2    the options or the environment are not usable; nothing was sent
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM): partial files are removed
"""


class UsageError(Exception):
    """Options that cannot be used; the message names options, never their values."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _StrictParser(argparse.ArgumentParser):
    """No abbreviations; errors raised (not printed and exited), with quoted values hidden."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(allow_abbrev=False, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        raise UsageError(_without_values(message))


_QUOTED = re.compile(r"'([^']*)'")


def _without_values(message: str) -> str:
    """argparse quotes what it quotes from the command line: keep option names only."""
    return _QUOTED.sub(
        lambda m: m.group(0) if _is_option(m.group(1)) else "(value hidden)", message
    )


def _is_option(word: str) -> bool:
    """Spelled like one of our options (lower-case words, or one letter): safe to repeat. Any
    other word after a dash may be a value, a secret's among them."""
    return re.fullmatch(r"--[a-z][a-z0-9]*(-[a-z0-9]+)*|-[A-Za-z]", word) is not None


def build_parser() -> argparse.ArgumentParser:
    """One option per input of action.yml (a secret's is the name of its variable), grouped as
    `--help` shows them, plus the command line's own."""
    specs = input_specs()
    parser = _StrictParser(
        prog=PROG,
        usage=f"{PROG} [options] SUB_JOB_ID [SUB_JOB_ID ...]",
        description="Download the log packages (ZIP) of CodeArts Check sub-jobs, show what went "
        "wrong inside them, and (in GitHub Actions, with --upload) keep them as artifacts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ids", nargs="*", metavar="SUB_JOB_ID", help="sub-job IDs to fetch")
    groups = {title: parser.add_argument_group(title) for title in GROUPS}
    for title, names in GROUPS.items():
        for name in names:
            _add_input(groups[title], name, specs[name].default)
    output = groups["output"]
    output.add_argument("--json", action="store_true", help="print the outcome as one JSON object")
    loudness = output.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="print only the outcome and errors"
    )
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="also log each request and retry"
    )
    output.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bars or lines (none anyway when stderr is not a terminal or TERM=dumb)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _add_input(group: argparse._ArgumentGroup, name: str, default: str) -> None:
    if name in SECRET_FROM_ENV:
        group.add_argument(
            f"--{name}-env", default=SECRET_FROM_ENV[name], metavar="NAME", help=HELP[name]
        )
    elif name == "sub-job-id":
        group.add_argument(
            "--sub-job-id", dest=name, action="append", default=[], metavar="IDS", help=HELP[name]
        )
    elif name in FLAGS:
        group.add_argument(
            f"--{FLAGS[name]}",
            dest=name,
            action=argparse.BooleanOptionalAction,
            default=CLI_DEFAULTS.get(name, default == "true"),
            help=HELP[name],
        )
    elif name == "path":
        group.add_argument(
            "-o",
            "--output-dir",
            "--path",
            dest=name,
            default=default,
            metavar="DIR",
            help=HELP[name],
        )
    else:
        group.add_argument(
            f"--{name}", dest=name, default=default, metavar="VALUE", help=HELP[name]
        )


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The options, or `UsageError`. A secret given as an option is refused before argparse
    sees it, and an unknown option is named (with the nearest known one), its value not."""
    words = flag_words(refuse_secrets(argv))
    parser = build_parser()
    args, extra = parser.parse_known_args(words)
    if extra:
        raise UsageError(_unknown(extra, parser))
    return args


def refuse_secrets(argv: Sequence[str]) -> list[str]:
    """`argv`, unless it holds an option meant for a secret (`--token`, `--token=...`)."""
    for word in _options_part(argv):
        name = word.split("=", 1)[0]
        if name in SECRET_OPTIONS:
            raise UsageError(
                f"{name} is not an option: a secret on a command line ends up in shell history "
                f"and process listings. Put it in the environment as {SECRET_OPTIONS[name]} "
                "instead (see --help)"
            )
    return list(argv)


def wants_json(argv: Sequence[str]) -> bool:
    """Whether `--json` was asked for, judged before parsing so that a usage error is JSON too."""
    return "--json" in _options_part(argv)


def _options_part(argv: Sequence[str]) -> Sequence[str]:
    words = list(argv)
    return words[: words.index("--")] if "--" in words else words


def _unknown(extra: Sequence[str], parser: argparse.ArgumentParser) -> str:
    options = [word.split("=", 1)[0] for word in extra if word.startswith("-")]
    if not options:
        return "unexpected arguments after the options (not shown)"
    known = [s for action in parser._actions for s in action.option_strings]
    name = options[0]
    if not _is_option(name):
        return "an unknown option (not shown: it may be a value)"
    near = difflib.get_close_matches(name, known, n=1)
    return f"unknown option {name}" + (f"; did you mean {near[0]}?" if near else "")


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
