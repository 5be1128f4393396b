"""devtools/doubles/azurite: one emulator shared by several processes, ended once by whoever
runs them all (the parallel workers and their controller)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from devtools.doubles.azurite import account_sas, shared_azurite, stop_shared

pytestmark = pytest.mark.azurite


def lists(endpoint: str) -> bool:
    try:
        requests.get(f"{endpoint}?comp=list&{account_sas()}", timeout=(1, 2))
    except requests.ConnectionError:
        return False
    return True


def test_the_first_caller_starts_it_and_the_others_attach(tmp_path: Path) -> None:
    first = shared_azurite(tmp_path)
    try:
        second = shared_azurite(tmp_path)
        assert second.port == first.port
        second.stop()  # an attached handle leaves the emulator running
        assert lists(first.endpoint)
    finally:
        stop_shared(tmp_path)
    assert not (tmp_path / "azurite.json").exists()
    deadline = time.monotonic() + 10
    while lists(first.endpoint):
        assert time.monotonic() < deadline, "the emulator still answers after stop_shared"
        time.sleep(0.05)


def test_stop_shared_without_an_emulator_is_a_no_op(tmp_path: Path) -> None:
    stop_shared(tmp_path)
    assert list(tmp_path.iterdir()) == []
