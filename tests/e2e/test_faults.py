"""Issue 5's fault matrix, end to end through the real entrypoint: network and service faults,
hostile service text, hostile inputs. Local faults and secrets are in test_hardening_local.py.

Every run must leave a complete report (outputs, summary, one annotation) and nothing that the
runner would read as a command: no line of stdout or stderr starts with `::` except our own
commands, and the legacy `##[` form appears nowhere.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import struct
import time
import zlib
from pathlib import Path

import pytest
from actions_toolkit.command import escape_data
from devtools.doubles.codearts import Simulator, Step, small_zip

from codearts_check_logs import masking, textsafe
from codearts_check_logs.codearts import answers
from codearts_check_logs.net.retry import CODEARTS
from tests.conftest import ID1, ID2, TOKEN, ActionRunner, Run, inputs_for

pytestmark = pytest.mark.e2e

SLACK = 5.0  # seconds on top of timeout-seconds: interpreter start, reporting, a loaded CI box
OUR_COMMANDS = ("::add-mask::", "::group::", "::endgroup::", "::error ", "::warning ", "::notice ")
ANNOTATION = re.compile(r"::(error|warning|notice) title=CodeArts Check logs::")
MAX_SUMMARY = 1024 * 1024  # GitHub drops a step summary above 1 MiB
TOKEN_MASKS = {f"::add-mask::{escape_data(form)}" for form in masking.spellings(TOKEN)}
"""The token's mask commands: one for each spelling in which a service may echo it."""


# -- what every run must satisfy --------------------------------------------------------------


def assert_inert(run: Run) -> None:
    """Nothing on stdout/stderr is a command we did not mean to issue."""
    for name, stream in (("stdout", run.stdout), ("stderr", run.stderr)):
        assert "##[" not in stream, f"legacy command form on {name}"
        assert "\x1b" not in stream, f"an escape sequence reached {name}"
        # The runner splits on \r as well as \n (.NET ReadLine); splitlines covers both and more.
        for line in stream.splitlines():
            text = line.lstrip()
            if not text.startswith("::"):
                continue
            assert text.startswith(OUR_COMMANDS), f"injected command on {name}: {line!r}"
            if text.startswith("::add-mask::"):
                assert text in TOKEN_MASKS, f"unexpected mask on {name}: {line!r}"
            if text.startswith(("::error ", "::warning ", "::notice ")):
                assert ANNOTATION.match(text), f"annotation with foreign properties: {line!r}"
    for name, value in run.outputs.items():
        assert "\n" not in value, f"output {name} is not one line"
        assert "\r" not in value, f"output {name} is not one line"
    assert len(run.summary.encode()) < MAX_SUMMARY


def assert_failed(run: Run, code: str, *, returncode: int = 1) -> dict[str, object]:
    """A complete failure report for the first sub-job, with `code`."""
    assert run.returncode == returncode, run.stdout + run.stderr
    assert run.outputs["status"] == "failure"
    assert run.outputs["error-code"] == code, run.outputs["error-message"]
    entry: dict[str, object] = json.loads(run.outputs["results"])[0]
    assert entry["error_code"] == code
    assert textsafe.md(code) in run.summary
    level = "error" if returncode else "warning"
    assert any(line.startswith(f"::{level} ") for line in run.stdout.splitlines())
    assert not list(run.workspace.rglob("*.part")), "a temporary file was left behind"
    assert_inert(run)
    return entry


def assert_saved(run: Run, sim: Simulator, sub_job_id: str = ID1) -> None:
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.saved_files() == {f"codearts-check-logs/{sub_job_id}.zip": sim.zip_bytes(sub_job_id)}
    assert_inert(run)


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- ZIPs built byte by byte --------------------------------------------------------------------


def crafted_zip(names: list[bytes], *, utf8: bool = True, claimed_size: int | None = None) -> bytes:
    """A stored ZIP whose members have exactly these raw names (no validation, no encoding).

    `claimed_size` makes each central-directory entry claim that uncompressed size (a bomb's
    claim; the data itself stays tiny)."""
    flags = 0x800 if utf8 else 0
    body = bytearray()
    central = bytearray()
    for name in names:
        data = b"log line\n"
        crc = zlib.crc32(data)
        offset = len(body)
        body += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, flags, 0, 0, 0x21, crc, len(data), len(data),
            len(name), 0,
        ) + name + data  # fmt: skip
        size = len(data) if claimed_size is None else claimed_size
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, 0, 0, 0x21, crc, len(data), size,
            len(name), 0, 0, 0, 0, 0, offset,
        ) + name  # fmt: skip
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(names), len(names), len(central), len(body), 0
    )
    return bytes(body + central + end)


def zip64_pointing_past_the_file() -> bytes:
    """A ZIP64 end locator whose record offset is far beyond any file (2**64 - 1)."""
    head = crafted_zip([b"a.log"])
    body = head[: head.index(b"PK\x01\x02")]
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 2**64 - 1, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + locator + end


def zip_step(data: bytes) -> Step:
    return Step.raw(200, data, "application/zip")


# -- network faults -----------------------------------------------------------------------------


def test_connection_refused_is_a_network_error_within_the_budget(
    run_action: ActionRunner,
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    run = run_action(
        {
            "sub-job-id": ID1,
            "token": TOKEN,
            "endpoint": endpoint,
            "upload-artifact": "false",
            "timeout-seconds": "3",
        }
    )

    entry = assert_failed(run, "NETWORK_ERROR")
    assert "connection refused" in run.outputs["error-message"]
    assert entry["http_status"] is None
    assert "retrying in" in run.stdout, "a refused connection is retried while time is left"
    assert run.seconds < 3 + SLACK
    assert "check DNS, proxy and firewall" in run.summary


def test_reset_mid_body_then_whole(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.reset(0.5))
    run = run_action(inputs_for(sim, ID1))

    assert_saved(run, sim)
    assert len(sim.requests_for()) == 2
    assert "attempt 1 failed" in run.stdout


def test_reset_mid_body_every_time(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, *[Step.reset(0.5)] * 10)
    run = run_action(inputs_for(sim, ID1, timeout_seconds="3"))

    # Whether the reset or the short body is seen first depends on the kernel's timing.
    code = run.outputs["error-code"]
    assert code in {"NETWORK_ERROR", "INVALID_RESPONSE"}
    entry = assert_failed(run, code)
    assert entry["file"] == ""
    assert run.saved_files() == {}, "no partial file under the final name"
    assert 2 <= len(sim.requests_for()) <= CODEARTS.attempts
    assert run.seconds < 3 + SLACK


def test_chunked_body_cut_short_then_whole(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.truncate(0.4, chunked=True))
    run = run_action(inputs_for(sim, ID1))

    assert_saved(run, sim)
    assert len(sim.requests_for()) == 2
    assert "attempt 1 failed with INVALID_RESPONSE" in run.stdout


def test_chunked_body_cut_short_every_time(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, *[Step.truncate(0.4, chunked=True)] * 10)
    run = run_action(inputs_for(sim, ID1, timeout_seconds="3"))

    assert_failed(run, "INVALID_RESPONSE")
    assert "truncated" in run.outputs["error-message"]
    assert run.saved_files() == {}
    assert run.seconds < 3 + SLACK


def test_close_delimited_body_cut_short(sim: Simulator, run_action: ActionRunner) -> None:
    """No length and no chunking: only the ZIP's own end record shows the body is incomplete."""
    sim.script(ID1, *[Step.close_delimited_cut(0.5)] * 10)
    run = run_action(inputs_for(sim, ID1, timeout_seconds="3"))

    assert_failed(run, "INVALID_RESPONSE")
    assert run.saved_files() == {}


@pytest.mark.realtime
def test_stall_after_headers_hits_the_budget(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.stall(30, after_headers=True))
    run = run_action(inputs_for(sim, ID1, timeout_seconds="1"))

    entry = assert_failed(run, "TIMEOUT")
    assert "still arriving" in run.outputs["error-message"]
    assert "timeout-seconds is 1" in run.outputs["error-message"]
    assert entry["http_status"] == 200, "the status that had arrived is kept"
    assert run.saved_files() == {}
    assert run.seconds < 1 + SLACK


@pytest.mark.parametrize(
    ("retry_after", "budget"),
    [
        (None, 4),
        # The real wait, honoured: 1 s, twice at most within 2.5 s (no attempt with under 1 s).
        pytest.param("1", 2.5, marks=pytest.mark.realtime),
        ("http-date", 4),
        ("99999999999", 4),
        ("9" * 400, 4),
    ],
    ids=["absent", "seconds", "http-date", "absurd", "overflowing"],
)
def test_429_that_never_ends_stays_in_the_budget(
    sim: Simulator, run_action: ActionRunner, retry_after: str | None, budget: float
) -> None:
    headers = {}
    if retry_after == "http-date":
        headers["Retry-After"] = email.utils.formatdate(time.time() + 2, usegmt=True)
    elif retry_after is not None:
        headers["Retry-After"] = retry_after
    sim.script(ID1, *[Step.raw(429, b"slow down", "text/plain", headers)] * 10)
    # Short waits shorten the cap on Retry-After too, which would bring an absurd one back
    # within the budget: those, and the one whose wait is checked, run with the real policy.
    real = retry_after in {"1", "99999999999", "9" * 400}
    run = run_action(inputs_for(sim, ID1, timeout_seconds=str(budget)), quick=not real)

    entry = assert_failed(run, "HTTP_429")
    assert entry["http_status"] == 429
    assert run.seconds < budget + SLACK
    attempts = len(sim.requests_for())
    if retry_after in {"99999999999", "9" * 400}:
        # Capped at MAX_RETRY_AFTER, which is still past the budget: give up at once.
        assert attempts == 1
        assert "retrying" not in run.stdout
    else:
        assert 2 <= attempts <= CODEARTS.attempts
    if retry_after == "1":
        assert "retrying in 1.0 s" in run.stdout


@pytest.mark.realtime
def test_429_with_an_http_date_is_honoured(sim: Simulator, run_action: ActionRunner) -> None:
    when = int(time.time()) + 2  # a whole second, the resolution of an HTTP date
    retry_after = email.utils.formatdate(when, usegmt=True)
    sim.script(ID1, Step.raw(429, b"", "text/plain", {"Retry-After": retry_after}))
    run = run_action(inputs_for(sim, ID1, timeout_seconds="10"), quick=False)

    assert_saved(run, sim)
    wait = re.search(r"retrying in ([0-9.]+) s", run.stdout)
    assert wait is not None, run.stdout
    # Measured from the answer, however late a busy machine sent the first request.
    first, second = sim.requests_for()
    assert float(wait.group(1)) == pytest.approx(when - first.at, abs=0.3)
    assert second.at >= when - 0.3, "the retry waited for the date"


def test_5xx_that_never_recovers(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, *[Step.raw(500, b"", "text/plain")] * 10)
    run = run_action(inputs_for(sim, ID1, timeout_seconds="2"))

    entry = assert_failed(run, "HTTP_500")
    assert entry["http_status"] == 500
    assert "empty body" in run.outputs["error-message"]
    assert 2 <= len(sim.requests_for()) <= CODEARTS.attempts
    assert run.seconds < 2 + SLACK


def test_200_with_an_html_page(sim: Simulator, run_action: ActionRunner) -> None:
    page = b"<!doctype html><html><body><h1>Sign in</h1><script>alert(1)</script></body></html>"
    sim.script(ID1, Step.raw(200, page, "text/html; charset=utf-8"))
    run = run_action(inputs_for(sim, ID1))

    entry = assert_failed(run, "INVALID_RESPONSE")
    assert entry["http_status"] == 200
    assert "text/html" in run.outputs["error-message"]
    assert "<script>" not in run.summary
    assert "<html>" not in run.summary
    assert run.saved_files() == {}
    assert len(sim.requests_for()) == 1, "a wrong kind of answer is not retried"


def test_200_with_an_empty_body(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, Step.raw(200, b"", "application/zip"))
    run = run_action(inputs_for(sim, ID1))

    entry = assert_failed(run, "INVALID_RESPONSE")
    assert entry["http_status"] == 200
    assert "empty body" in run.outputs["error-message"]
    assert run.saved_files() == {}


def _damaged_directories() -> dict[str, bytes]:
    whole = small_zip(ID1)
    cd = whole.index(b"PK\x01\x02")
    return {
        "end-record-missing": whole[:-22],
        "entry-signature-overwritten": whole[:cd] + b"XX" + whole[cd + 2 :],
        "directory-offset-past-the-end": whole[:-6] + struct.pack("<L", 0x7FFFFFF0) + whole[-2:],
        "more-entries-than-room": whole[:-12] + struct.pack("<H", 0xFFF0) + whole[-10:],
        "zip64-locator-past-the-end": zip64_pointing_past_the_file(),
    }


@pytest.mark.parametrize("damage", list(_damaged_directories()))
def test_zip_with_a_damaged_central_directory(
    sim: Simulator, run_action: ActionRunner, damage: str
) -> None:
    sim.script(ID1, *[zip_step(_damaged_directories()[damage])] * 10)
    run = run_action(inputs_for(sim, ID1, timeout_seconds="3"))

    entry = assert_failed(run, "INVALID_RESPONSE")
    assert entry["http_status"] == 200
    assert "ZIP" in run.outputs["error-message"]
    assert run.saved_files() == {}
    assert run.seconds < 3 + SLACK


def test_zip_bomb_is_saved_and_listed_from_its_claims(
    sim: Simulator, run_action: ActionRunner
) -> None:
    names = [f"{ID1}/part-{i:05d}.log".encode() for i in range(5000)]
    bomb = crafted_zip(names, claimed_size=0xFFFFFFFE)
    sim.script(ID1, zip_step(bomb))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": bomb}, "kept byte for byte"
    assert "(5000 files)" in run.summary
    assert "and 4980 more" in run.summary
    assert "4.0 GiB" in run.summary
    assert len(run.summary.encode()) < 64 * 1024
    assert_inert(run)


# -- hostile text from the service ------------------------------------------------------------

HOSTILE_MESSAGES = {
    "commands": "start\n::add-mask::visible\n::set-output name=status::success\n"
    "::stop-commands::pwned\n::error::fake\n  ::warning::indented",
    "carriage-returns": "a\r::warning::after-cr\r\n::notice::crlf\n\r\n##[error]legacy ##[group]g",
    "ansi": "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x1b[2J\x1bc",
    "markdown": "@octocat @octo-org/security #123 GH-1 <img src=x onerror=alert(1)> "
    "| a | b |\n|---|---|\n`code` **bold** [x](https://evil.example) :+1: $x$",
    "invisible": "\u202eevil\u202c zero\u200bwidth nul\x00 bell\x07 c1\x85 ls\u2028 end",
    "lone-surrogates": "before \ud800 middle \udfff after",
}


def hostile_body(message: str) -> bytes:
    return json.dumps({"error_code": "CC.00050099", "error_msg": message}).encode()


@pytest.mark.parametrize("kind", list(HOSTILE_MESSAGES))
def test_hostile_error_msg_stays_inert(sim: Simulator, run_action: ActionRunner, kind: str) -> None:
    sim.script(ID1, Step.raw(400, hostile_body(HOSTILE_MESSAGES[kind]), "application/json"))
    sim.script(ID2, Step.raw(400, hostile_body("plain words"), "application/json"))
    run = run_action(inputs_for(sim, ID1, ID2))

    assert_failed(run, "CC.00050099")
    message = run.outputs["error-message"]
    assert "\x1b" not in message
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u202e]", message)
    assert "@octocat" not in run.summary
    assert "<img" not in run.summary
    assert "\x1b" not in run.summary
    assert not any(line.lstrip().startswith("::") for line in run.summary.splitlines())
    # Same shape as the benign sub-job's section: no line added or removed.
    first, second = run.summary.split(f"### ❌ `{ID2}`")
    section = first.split(f"### ❌ `{ID1}`")[1]
    assert len(section.splitlines()) == len(second.splitlines())


def test_invalid_utf8_in_an_error_body(sim: Simulator, run_action: ActionRunner) -> None:
    body = b'{"error_code": "CC.00050099", "error_msg": "bad \xff\xfe bytes \xc3("}'
    sim.script(ID1, Step.raw(400, body, "application/json"))
    run = run_action(inputs_for(sim, ID1))

    assert_failed(run, "CC.00050099")
    assert run.outputs["error-message"].startswith("bad \ufffd\ufffd bytes")


def test_an_error_msg_of_half_a_mib(sim: Simulator, run_action: ActionRunner) -> None:
    """As long as an error body can be and still be parsed (under MAX_ERROR_BODY)."""
    line = "::error::boom @octocat <b>x</b> | \x1b[31m\r\n"
    length = answers.MAX_ERROR_BODY // 2
    message = (line * (length // len(line) + 1))[:length]
    assert len(hostile_body(message)) < answers.MAX_ERROR_BODY
    sim.script(ID1, Step.raw(400, hostile_body(message), "application/json"))
    run = run_action(inputs_for(sim, ID1))

    assert_failed(run, "CC.00050099")
    assert len(run.summary.encode()) < 64 * 1024
    shown = run.outputs["error-message"]
    assert len(shown) <= 2000
    assert re.search(r"…\[cut: \d+ characters in all\]$", shown), shown[-80:]
    assert json.loads(run.outputs["results"])[0]["error_message"] == shown
    assert "cut&#58; " in run.summary
    [annotation] = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert len(annotation) < 4096, "the runner cuts annotations at 4096 characters"


def test_an_error_message_larger_than_the_cap(sim: Simulator, run_action: ActionRunner) -> None:
    """Beyond MAX_ERROR_BODY nothing is read: the code that came before the cut is kept, and the
    message, cut, says how large the body was."""
    body = hostile_body("x" * (answers.MAX_ERROR_BODY + 1024))
    sim.script(ID1, Step.raw(400, body, "application/json"))
    run = run_action(inputs_for(sim, ID1))

    assert_failed(run, "CC.00050099")
    assert "application/json body" in run.outputs["error-message"]
    assert "read no further" in run.outputs["error-message"]


def test_an_error_body_larger_than_the_cap_keeps_its_code_and_message(
    sim: Simulator, run_action: ActionRunner
) -> None:
    """The service's `error_code` and `error_msg` stand at the start of a body that runs past
    the 1 MiB cap: they are what the user sees, not HTTP_400."""
    body = {
        "error_code": "CC.00000400",
        "error_msg": "The request parameter is invalid.",
        "details": ["x" * 1000] * (answers.MAX_ERROR_BODY // 1000 + 10),
    }
    sim.script(ID1, Step.json(400, body))
    run = run_action(inputs_for(sim, ID1))

    assert_failed(run, "CC.00000400")
    assert run.outputs["error-message"] == "The request parameter is invalid."


def test_a_redirect_whose_location_is_not_text_is_not_followed(
    sim: Simulator, run_action: ActionRunner
) -> None:
    """`Location` with a byte that is not UTF-8: `requests` would fail decoding it even with
    redirects off; the user sees the status and that the redirect was not followed."""
    sim.script(ID1, Step.redirect("/v1/log-file?next=\xff\xfe", status=307))
    run = run_action(inputs_for(sim, ID1, ID2))

    result = assert_failed(run, "HTTP_307")
    assert "the redirect was not followed" in str(result["error_message"])
    assert len(sim.requests) == 2


HOSTILE_NAMES = [
    b"::add-mask::visible.log",
    b"\n::warning::newline.log",
    b"a\r\n::error::crlf.log\r::notice::cr",
    b"##[set-output name=status;]success.log",
    b"\x1b[31mred\x1b[0m.log",
    b"@octocat please look #123.log",
    b"| pipe | `tick` <b>bold</b> **x** [l](https://evil.example).log",
    b"invalid \xff\xfe utf-8.log",
    b"\xe2\x80\xaeevil\xe2\x80\x8b.log",
]


@pytest.mark.parametrize("utf8", [True, False], ids=["utf8-flag", "cp437"])
def test_hostile_member_names_stay_inert(
    sim: Simulator, run_action: ActionRunner, utf8: bool
) -> None:
    archive = crafted_zip(HOSTILE_NAMES, utf8=utf8)
    sim.script(ID1, zip_step(archive))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": archive}
    assert_inert(run)
    listing = run.summary.split("Contents of")[1]
    rows = [line for line in listing.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(HOSTILE_NAMES), "one table row per member, plus the header"
    names_shown = run.summary.split("**Triage:**")[1]  # the triage part names members too
    for fragment in ("@octocat", "<b>", "\x1b", "::", "##[", "`"):
        assert fragment not in names_shown, fragment


# -- hostile or broken inputs -----------------------------------------------------------------


def assert_refused(run: Run, sim: Simulator, *fragments: str) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["error-code"] == "INVALID_INPUT"
    for fragment in fragments:
        assert fragment in run.outputs["error-message"]
    assert run.outputs["results"] == "[]"
    assert sim.requests == [], "nothing may reach the service"
    assert run.saved_files() == {}
    assert_inert(run)


@pytest.mark.parametrize(
    "ids",
    [
        "a" * 30 + "%2F",
        "a" * 16 + "/" + "a" * 15,
        "a" * 29 + "/..",
        f"{ID1}&sub_job_id={ID2}",
        f"{ID1}#frag",
        f"{ID1}?x=1",
        f"{ID1};rm",
        f"{ID1[:16]}\u00a0{ID1[16:]}",
        f"{ID1[:31]}\u0430",  # Cyrillic a: looks right, is not
    ],
)
def test_hostile_sub_job_ids_are_refused(
    sim: Simulator, run_action: ActionRunner, ids: str
) -> None:
    run = run_action(inputs_for(sim, ids))
    assert_refused(run, sim, "sub-job-id must be 32 characters")


def test_ids_with_odd_whitespace_and_duplicates(sim: Simulator, run_action: ActionRunner) -> None:
    text = f"  {ID1}\t,\r\n {ID2} ,,{ID1}\n\n{ID2} "
    run = run_action(inputs_for(sim, text))

    assert run.returncode == 0, run.stdout + run.stderr
    assert [r["sub_job_id"] for r in json.loads(run.outputs["results"])] == [ID1, ID2]
    assert sorted(r.query["sub_job_id"] for r in sim.requests_for()) == [ID1, ID2]
    assert_inert(run)


def test_path_that_is_an_existing_file(
    sim: Simulator, run_action: ActionRunner, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "logs").write_text("I am a file")
    run = run_action(inputs_for(sim, ID1, path="logs"), env={"GITHUB_WORKSPACE": str(workspace)})

    assert run.returncode == 1
    assert run.outputs["error-code"] == "INVALID_INPUT"
    assert "exists and is not a folder" in run.outputs["error-message"]
    assert sim.requests == []
    assert (workspace / "logs").read_text() == "I am a file"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("retention-days", "91"),
        ("retention-days", "abc"),
        ("retention-days", "90.0"),
        ("timeout-seconds", "-1"),
        ("timeout-seconds", "1e9"),
        ("timeout-seconds", "9" * 400),
        ("timeout-seconds", "nan"),
        ("timeout-seconds", "0x10"),
    ],
)
def test_numbers_out_of_range(
    sim: Simulator, run_action: ActionRunner, name: str, value: str
) -> None:
    run = run_action({**inputs_for(sim, ID1), name: value})
    assert_refused(run, sim, name)


@pytest.mark.parametrize("word", ["true", "True", "TRUE", "false", "False", "FALSE"])
def test_every_yaml_core_boolean_spelling(
    sim: Simulator, run_action: ActionRunner, word: str
) -> None:
    sim.script(ID1, Step.json(404, {"error_code": "APIGW.0101", "error_msg": "API not found"}))
    run = run_action(
        {**inputs_for(sim, ID1), "upload-artifact": word, "overwrite": word, "fail-on-error": word}
    )

    truth = word.lower() == "true"
    assert_failed(run, "APIGW.0101", returncode=1 if truth else 0)


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("upload-artifact", "yes"),
        ("upload-artifact", "1"),
        ("overwrite", "on"),
        ("overwrite", "tRuE"),
        ("fail-on-error", "no"),
        ("fail-on-error", "false!"),
        ("fail-on-error", "~"),
    ],
)
def test_junk_booleans_are_refused(
    sim: Simulator, run_action: ActionRunner, name: str, word: str
) -> None:
    run = run_action({**inputs_for(sim, ID1), name: word})
    assert_refused(run, sim, f"{name} must be true or false")


def test_more_than_500_sub_jobs_are_refused(sim: Simulator, run_action: ActionRunner) -> None:
    """GitHub keeps at most 500 artifacts per job."""
    ids = "\n".join(f"{index:032x}" for index in range(501))
    run = run_action(inputs_for(sim, ids))
    assert_refused(run, sim, "501 sub-jobs; at most 500")


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("a" * 256, "a folder name of 256 bytes"),
        ("logs\n::error::injected", "control characters (U+000A)"),
        ("logs\r::warning::cr", "control characters (U+000D)"),
        ("##[error]x\u2028y", "control characters (U+2028)"),
        ("loop/logs", "loop of symbolic links"),
    ],
    ids=["long-name", "newline", "carriage-return", "line-separator", "symlink-loop"],
)
def test_paths_that_cannot_be_created_are_refused_before_any_request(
    sim: Simulator, run_action: ActionRunner, tmp_path: Path, path: str, fragment: str
) -> None:
    """Once a traceback (a long name, a loop) or a folder named after a workflow command."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "loop").symlink_to("loop")
    run = run_action(inputs_for(sim, ID1, path=path), env={"GITHUB_WORKSPACE": str(workspace)})
    assert_refused(run, sim, "path ", fragment)
    assert sorted(p.name for p in workspace.iterdir()) == ["loop"]


def test_a_path_with_command_lookalikes_is_saved_and_logged_inert(
    sim: Simulator, run_action: ActionRunner
) -> None:
    path = "::error::x/##[warning]y"
    run = run_action(inputs_for(sim, ID1, path=path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.saved_files() == {f"{path}/{ID1}.zip": sim.zip_bytes(ID1)}
    assert_inert(run)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("artifact-name", "x\n::error::from-artifact-name"),
        ("retention-days", "1\n::warning::from-retention"),
        ("timeout-seconds", "5\r::error::from-timeout ##[error]legacy"),
        ("fail-on-error", "true\n::error::from-bool"),
        ("endpoint", "http://127.0.0.1:1/\n::error::from-endpoint"),
        ("sub-job-id", f"{ID1}\n::error::{'x' * 32}"),
    ],
)
def test_refused_values_are_quoted_inert(
    sim: Simulator, run_action: ActionRunner, name: str, value: str
) -> None:
    """Input error messages quote the value with repr(); then the same cleaning as service text,
    so no line of the log or of the annotation starts a workflow command."""
    run = run_action({**inputs_for(sim, ID1), name: value})
    assert_refused(run, sim, name)
    assert "\n" not in run.outputs["error-message"]


def test_http_to_a_localhost_name_that_does_not_resolve_is_refused(
    sim: Simulator, run_action: ActionRunner
) -> None:
    """`*.localhost` is loopback only when it resolves so; by its name alone it is not."""
    host = "codearts-check-no-such-host.localhost"
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        pass
    else:
        pytest.skip(f"{host} resolves on this machine")
    run = run_action(inputs_for(sim, ID1, endpoint=f"http://{host}:{free_port()}"))
    assert_refused(run, sim, "only https://", host)
