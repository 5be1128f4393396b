"""Verification end to end: a ZIP is saved and uploaded only when every member's data matches
its CRC-32, as `unzip -t` would say; a member that is not inflated is said to be unverified."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from devtools.doubles.codearts import Simulator
from devtools.doubles.results import ResultsDouble

from tests.conftest import ID1, ActionRunner, inputs_for
from tests.e2e.test_faults import zip_step

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024
LOG = b"".join(b"2026-02-03 10:00:%02d INFO step %d done\n" % (i % 60, i) for i in range(4000))


def package(method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("codecheck.log", LOG + b"ERROR rule SEC-1 failed\n")
        archive.writestr("tools/cppcheck.log", b"INFO ok\n" * 100)
    return buffer.getvalue()


def damaged(method: int) -> bytes:
    """The same package, complete at full length, with one byte of member data changed."""
    data = bytearray(package(method))
    data[30 + len("codecheck.log") + 500] ^= 0x20
    return bytes(data)


def with_upload(sim: Simulator, **extra: str) -> dict[str, str]:
    return {**inputs_for(sim, ID1, **extra), "upload-artifact": "true"}


@pytest.mark.azurite
@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"]
)
def test_damaged_member_data_is_invalid_and_never_reaches_the_artifact_service(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
    method: int,
) -> None:
    data = damaged(method)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() == "codecheck.log", "zipfile agrees that it is damaged"
    sim.script(ID1, zip_step(data))
    run = run_action(with_upload(sim), env=runner_env)

    assert run.returncode == 1, run.log
    assert run.outputs["error-code"] == "INVALID_RESPONSE"
    message = run.outputs["error-message"]
    assert "complete but damaged" in message
    assert "codecheck.log" in message
    assert "not retried" in message
    assert len(sim.requests_for()) == 1, "not retried"
    assert results_double.calls() == [], "CreateArtifact only after verification"
    assert run.saved_files() == {}


@pytest.mark.azurite
@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"]
)
def test_a_stored_and_a_deflated_zip_pass_and_are_uploaded(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
    method: int,
) -> None:
    data = package(method)
    sim.script(ID1, zip_step(data))
    run = run_action(with_upload(sim), env=runner_env)

    assert run.returncode == 0, run.log
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": data}
    assert [a.size for a in results_double.finalized()] == [len(data)]
    assert run.outputs["problems"] == "1"
    assert "not verified" not in run.summary


def bomb_package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.log", bytes(64 * MiB))
        archive.writestr("codecheck.log", b"INFO started\nFATAL: out of memory\n")
    return buffer.getvalue()


def test_a_bomb_member_is_reported_as_not_verified(
    sim: Simulator, run_action: ActionRunner
) -> None:
    sim.script(ID1, zip_step(bomb_package()))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.log
    assert "1 member not verified (data not checked against its CRC-32): zeros.log (ZIP bomb)" in (
        run.summary
    )
    assert json.loads(run.outputs["results"])[0]["status"] == "success"
    assert run.outputs["problems"] == "1"
