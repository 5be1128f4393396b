"""The CodeArts Check simulator's packages: the realistic default, and a ZIP file served as is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests
from devtools.doubles.codearts import Simulator, small_zip
from devtools.doubles.logs import realistic_log_package

from tests.conftest import ID1, ID2, TOKEN


def fetch(sim: Simulator, sub_job_id: str) -> bytes:
    answer = requests.get(
        f"{sim.base_url}/v1/log-file",
        params={"sub_job_id": sub_job_id},
        headers={"X-Auth-Token": TOKEN},
        timeout=10,
    )
    assert answer.status_code == 200
    return answer.content


def test_the_default_package_is_the_realistic_one(sim: Simulator) -> None:
    assert small_zip(ID1) == realistic_log_package(ID1)
    assert fetch(sim, ID1) == sim.zip_bytes(ID1) == realistic_log_package(ID1)


def test_a_zip_file_is_served_as_it_is(sim: Simulator, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "given.zip"
    path.write_bytes(data)
    sim.set_zip_file(ID2, path)
    assert fetch(sim, ID2) == sim.zip_bytes(ID2) == data
    assert sim.served[ID2][0][0] == len(data)
    assert fetch(sim, ID1) == realistic_log_package(ID1), "other sub-jobs keep the default"


def test_zip_file_option_of_the_command(tmp_path: Path) -> None:
    path = tmp_path / "given.zip"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    with subprocess.Popen(
        [sys.executable, "-m", "devtools.doubles.codearts", "--zip-file", f"{ID1}={path}"],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split()[-1]
            answer = requests.get(f"{url}/v1/log-file", params={"sub_job_id": ID1}, timeout=10)
            assert answer.content == path.read_bytes()
        finally:
            process.terminate()
