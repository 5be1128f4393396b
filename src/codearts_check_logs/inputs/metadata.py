"""action.yml, the single source of the inputs' and outputs' names and defaults.

It is packaged into the wheel; in a source checkout the copy at the repository root is read
instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class InputSpec:
    """One input as action.yml declares it."""

    name: str
    description: str
    required: bool
    default: str


@cache
def action_metadata() -> dict[str, Any]:
    """The parsed action.yml: the packaged copy, else the one at the source checkout's root."""
    packaged = resources.files("codearts_check_logs").joinpath("action.yml")
    if packaged.is_file():
        text = packaged.read_text(encoding="utf-8")
    else:
        text = (Path(__file__).resolve().parents[3] / "action.yml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    return data


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (the image's has): action.yml is parsed before the
first request of every run, in about 1.5 ms instead of the pure-Python loader's 10 ms or more."""


def input_specs() -> dict[str, InputSpec]:
    """Every declared input, in action.yml order."""
    return {
        name: InputSpec(
            name=name,
            description=" ".join(str(spec.get("description", "")).split()),
            required=bool(spec.get("required", False)),
            default=str(spec.get("default", "")),
        )
        for name, spec in action_metadata()["inputs"].items()
    }
