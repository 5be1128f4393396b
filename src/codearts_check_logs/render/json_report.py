"""The outcome for machines: the CLI's `--json`, one object whose shape does not depend on what
happened. Pure. Texts are cleaned as everywhere else; the caller scrubs secrets on the way out."""

from __future__ import annotations

from typing import Any

from ..outcome import Outcome
from ..textsafe import clean
from .triage_section import triage_json

SCHEMA_VERSION = 1


def json_report(outcome: Outcome) -> dict[str, Any]:
    """`status`, `cancelled`, `problems`, `error` (a failure that stopped the whole run, else
    null), `warnings`, and `results`: the action's `results` entries, each with its `triage`."""
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
            "message": error.message,
            "http_status": error.http_status,
            "request_id": error.request_id,
            "service": error.service,
            "step": error.step,
        },
        "warnings": [clean(warning) for warning in outcome.warnings],
        "results": [{**r.as_json(), "triage": triage_json(r.triage)} for r in outcome.results],
    }
