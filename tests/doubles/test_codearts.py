"""The CodeArts Check simulator: its two ways of checking credentials (a fixed token, or the API
gateway's rules through a shared account), the realistic default package, and a ZIP file served
as it is."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import HuaweiCloud
from devtools.doubles.codearts import Simulator, small_zip
from devtools.doubles.logs import realistic_log_package

from tests.conftest import ID1, ID2, TOKEN

ID = "a777ff00d3cf4d369d87066806ae0001"


@pytest.fixture
def gateway(cloud: HuaweiCloud) -> Iterator[Simulator]:
    with Simulator(account=cloud.account) as sim:
        yield sim


def url_of(sim: Simulator) -> str:
    return f"{sim.base_url}/v1/log-file?sub_job_id={ID}"


def test_token_mode_is_unchanged() -> None:
    with Simulator(token="the-token-0123") as sim:
        assert requests.get(url_of(sim), headers={"X-Auth-Token": "the-token-0123"}, timeout=5).ok
        refused = requests.get(url_of(sim), headers={"X-Auth-Token": "other"}, timeout=5)
        assert (refused.status_code, refused.json()["error_code"]) == (401, "CC.00000003")


def test_account_mode_checks_like_the_gateway(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock
) -> None:
    url = url_of(gateway)
    signed = cloud.sign("GET", url)
    assert requests.get(url, headers=signed, timeout=5).status_code == 200
    token = requests.get(url, headers={"X-Auth-Token": cloud.token.value}, timeout=5)
    assert token.status_code == 200

    bare = requests.get(url, timeout=5)
    assert (bare.status_code, bare.json()["error_code"]) == (401, "APIGW.0301")
    clock.advance(16 * 60)
    stale = requests.get(url, headers=signed, timeout=5)
    assert (stale.status_code, stale.json()["error_code"]) == (401, "APIGW.0303")
    assert gateway.received(cloud.access_key.access)
    assert not gateway.received(cloud.access_key.secret)


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
