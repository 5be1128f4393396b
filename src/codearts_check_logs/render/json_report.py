"""The outcome for machines: the CLI's `--json`, one object whose shape does not depend on what
happened. Pure. Texts are cleaned as everywhere else; the caller scrubs secrets on the way out."""

from __future__ import annotations

from typing import Any

from ..outcome import Outcome, SubJobResult
from ..textsafe import clean
from .channel import CLI, Channel
from .hints import hint_for
from .text import spoken
from .triage_section import triage_json

SCHEMA_VERSION = 1


def json_report(outcome: Outcome, channel: Channel = CLI) -> dict[str, Any]:
    """`status`, `cancelled`, `problems`, `error` (a failure that stopped the whole run, else
    null), `warnings`, and `results`: the action's `results` entries, each with its `triage`,
    and what the text output shows of a failure besides (`request_id`, `hint`)."""
    error = outcome.error
    return {
        "schema": SCHEMA_VERSION,
        "status": outcome.status,
        "cancelled": outcome.cancelled,
        "problems": outcome.problems,
        "error": None
        if error is None
        else {
            "code": error.code,
            "message": spoken(channel, error.code, error.message),
            "http_status": error.http_status,
            "request_id": error.request_id,
            "service": error.service,
            "step": error.step,
            "hint": hint_for(error.code, error.http_status, error.step, channel) or None,
        },
        "warnings": [clean(warning) for warning in outcome.warnings],
        "results": [_result(r, channel) for r in outcome.results],
    }


def _result(r: SubJobResult, channel: Channel) -> dict[str, Any]:
    entry = {**r.as_json(), "request_id": r.request_id or None, "hint": None}
    if not r.ok:
        entry["error_message"] = spoken(channel, r.error_code, r.error_message)
        entry["hint"] = hint_for(r.error_code, r.http_status, channel=channel) or None
    return {**entry, "triage": triage_json(r.triage)}
