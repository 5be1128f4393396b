"""Triage speed and memory: `python -m benchmarks.triage_bench`, run by `make bench` after the
main bench (not a test; asserts nothing).

First, the two figures that matter to a user, each beside the download of the same ZIP: the
simulator serves the file from disk in its own process on loopback, and for each ZIP the bench
times, a few times each, `curl` to a file (the floor), our CLI with `--no-triage` (download
only) and our CLI as it runs by default (download, then triage), each with its peak RSS from
GNU time. The ZIPs are 64 MiB of text logs and a ZIP bomb (a member of 2 GiB of zeros).

Then the detail: triage alone on each ZIP in a fresh child process, a few times, with the median
time and the child's peak RSS (read by the child itself before and after triage, so the
interpreter's own size shows apart), plus the peak of Python allocations during triage
(tracemalloc, in one more run):

- `logs`: 64 MiB of text logs (three deflated members, every 1000th line a problem): exactly
  the read budget, all of it read; with the built-in pattern and with a user pattern;
- `bomb zeros`: one member of 2 GiB of zeros (deflated at level 9, about 2 MiB), plus a log;
- `bomb text`: the same with 2 GiB of spaces, which would pass the binary check;
- `all problems`: 64 MiB in which every line is a problem, the slowest input per byte.

For scale, the time to read each ZIP file from disk (page cache warm) and to decompress the same
bytes triage reads, without looking at them. A user's pattern (`regex`, with a timeout per line)
is timed beside the built-in one on the same 64 MiB of logs.

Last, verification (every member's CRC-32, as `unzip -t` checks) on a 512 MiB stored ZIP and on
the 64 MiB-of-logs deflated ZIP: the streaming check fed 1 MiB at a time as the receive loop
feeds it, the pass over the members after the download (stored members settled by the stream,
deflated ones inflated), the same pass sharing its inflating with triage, the pass with nothing
streamed (every member read back from disk), and zipfile's `testzip` for reference.

`--scale N` divides every size by N, to see that the bench runs without spending the minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench import Sample, cli_env, curl, fresh, machine, simulator, timed

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
TEXT_MEMBERS = {"codecheck.log": 40, "tools/secbrella.log": 16, "tools/cppcheck.log": 8}
BOMB_MIB = 2048
STORED_MIB = 512
SCALE = 1
"""Every size above is divided by this (`--scale`)."""
_WORDS = (
    *("dispatch", "batch", "files", "done", "checking", "rule", "module", "src", "net", "util"),
    *("socket", "str", "main", "with", "in", "of", "the", "to", "ok", "SEC-C-0012", "null"),
    *("pointer", "buffer", "range", "index", "scan", "report", "upload", "part", "result"),
)


def text_block(seed: int, problem_every: int) -> bytes:
    """About 1 MiB of log lines with timestamps and some variety (deflates about 4:1)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    lines = []
    size = 0
    number = 0
    while size < MIB:
        number += 1
        level = "ERROR" if number % problem_every == 0 else rng.choice(("INFO ", "INFO ", "DEBUG"))
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 14)))
        line = f"2026-02-03 10:{number // 60 % 60:02d}:{number % 60:02d}.{number % 1000:03d} "
        line += f"{level} [worker-{number % 8}] {words}\n"
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()[:MIB]


def write_logs(path: Path, problem_every: int, method: int = zipfile.ZIP_DEFLATED) -> None:
    blocks = [text_block(seed, problem_every) for seed in range(4)]
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, mib in TEXT_MEMBERS.items():
            with archive.open(name, "w") as member:
                for i in range(max(1, mib // SCALE)):
                    member.write(blocks[i % len(blocks)])


def write_stored(path: Path) -> None:
    """`STORED_MIB` of text logs in eight stored members (an archiver told not to compress)."""
    blocks = [text_block(seed, 1000) for seed in range(4)]
    each = max(1, STORED_MIB // SCALE // 8)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for index in range(8):
            with archive.open(f"logs/part-{index}.log", "w", force_zip64=True) as member:
                for i in range(each):
                    member.write(blocks[i % len(blocks)])


def write_bomb(path: Path, fill: bytes) -> None:
    block = fill * MIB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("bomb.log", "w", force_zip64=True) as member:
            for _ in range(max(1, BOMB_MIB // SCALE)):
                member.write(block)
        archive.writestr("codecheck.log", b"INFO started\nERROR after the bomb\n")


def peak_rss() -> int:
    """This process's peak RSS in bytes.

    From `VmHWM` where Linux has it: `getrusage`'s `ru_maxrss` keeps the high-water mark of the
    image a child was forked from (the bench itself), which would hide a smaller child's own
    peak. Elsewhere `ru_maxrss` (KiB on Linux, bytes on macOS: this bench assumes Linux).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(path: str, pattern_text: str, trace: bool) -> None:
    """Run one triage and print what it cost as JSON (with `trace`, the tracemalloc peak)."""
    sys.path.insert(0, str(ROOT / "src"))
    from codearts_check_logs.ziplog.pattern import compile_pattern
    from codearts_check_logs.ziplog.triage import triage

    pattern = compile_pattern(pattern_text)
    before = peak_rss()
    if trace:
        tracemalloc.start()
    begin = time.perf_counter()
    result = triage(Path(path), pattern)
    seconds = time.perf_counter() - begin
    traced = tracemalloc.get_traced_memory()[1] if trace else 0
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_before": before,
                "rss_peak": peak_rss(),
                "traced_peak": traced,
                "bytes_read": result.bytes_read,
                "problems": result.total_problems,
                "notes": result.notes,
            }
        )
    )


@dataclass(frozen=True)
class Figures:
    seconds: float
    rss_before: int
    rss_peak: int
    traced_peak: int
    """Python allocations during triage (tracemalloc, in one more run of its own)."""
    bytes_read: int
    problems: int
    notes: tuple[str, ...]


def measure(path: Path, pattern: str, repeats: int) -> Figures:
    """The median time and the highest peak RSS of `repeats` children."""
    runs = []
    for trace in [False] * repeats + [True]:
        argv = [sys.executable, "-m", "benchmarks.triage_bench", "--child", str(path), pattern]
        argv += ["--trace"] if trace else []
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout))
    timed = runs[:-1]
    return Figures(
        seconds=statistics.median(float(r["seconds"]) for r in timed),
        rss_before=max(int(r["rss_before"]) for r in timed),
        rss_peak=max(int(r["rss_peak"]) for r in timed),
        traced_peak=int(runs[-1]["traced_peak"]),
        bytes_read=int(runs[0]["bytes_read"]),
        problems=int(runs[0]["problems"]),
        notes=tuple(str(note) for note in runs[0]["notes"]),
    )


def read_seconds(path: Path) -> float:
    begin = time.perf_counter()
    with path.open("rb") as handle:
        while handle.read(MIB):
            pass
    return time.perf_counter() - begin


def decompress_seconds(path: Path, budget: int) -> float:
    """Time to decompress the first `budget` bytes of the archive's members, looking at nothing."""
    begin = time.perf_counter()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                while budget > 0 and (data := member.read(min(64 * 1024, budget))):
                    budget -= len(data)
    return time.perf_counter() - begin


def build(folder: Path) -> dict[str, Path]:
    """The ZIPs, written once: text logs, two bombs, and logs in which every line is a problem."""
    names = ("logs", "zeros", "spaces", "dense", "stored")
    zips = {name: folder / f"{name}.zip" for name in names}
    write_logs(zips["logs"], problem_every=1000)
    write_stored(zips["stored"])
    write_bomb(zips["zeros"], b"\x00")
    write_bomb(zips["spaces"], b" ")
    write_logs(zips["dense"], problem_every=1)
    return zips


def cases(zips: dict[str, Path]) -> Iterator[tuple[str, Path, str]]:
    yield "logs, built-in pattern", zips["logs"], ""
    yield "logs, pattern `(?i)error`", zips["logs"], "(?i)error"
    yield "logs, pattern `.*ERROR.*FAILED`", zips["logs"], ".*ERROR.*FAILED"
    yield "bomb zeros (2 GiB member)", zips["zeros"], ""
    yield "bomb text (2 GiB member)", zips["spaces"], ""
    yield "all problems, built-in pattern", zips["dense"], ""


# -- beside the download -------------------------------------------------------------------

LISTENING = re.compile(r"listening on (\S+)")


def our_cli(base_url: str, sub_job: str, cwd: Path, *, triage: bool) -> Sample:
    argv = [sys.executable, "-m", "codearts_check_logs.entry.cli", sub_job, "--endpoint", base_url]
    argv += ["-o", "out", "--triage" if triage else "--no-triage"]
    return timed(argv, env=cli_env(cwd), cwd=cwd)


@dataclass(frozen=True)
class Download:
    curl: list[Sample]
    download_only: list[Sample]
    with_triage: list[Sample]


def downloads(zips: dict[str, Path], repeats: int, work: Path) -> dict[str, Download]:
    """curl, our CLI without triage and our CLI with it, `repeats` times each, per ZIP."""
    ids = {name: f"{index + 1:032x}" for index, name in enumerate(zips)}
    found: dict[str, Download] = {}
    with simulator(files={ids[name]: path for name, path in zips.items()}) as base_url:
        for name in zips:
            sub_job = ids[name]
            runs = Download([], [], [])
            for round_ in range(repeats):
                print(f"download {name}: round {round_ + 1} of {repeats}", file=sys.stderr)
                area = fresh(work / "run")
                runs.curl.append(curl(base_url, sub_job, area / "a.zip", area))
                area = fresh(work / "run")
                runs.download_only.append(our_cli(base_url, sub_job, area, triage=False))
                area = fresh(work / "run")
                runs.with_triage.append(our_cli(base_url, sub_job, area, triage=True))
            found[name] = runs
    return found


def _cell(samples: list[Sample]) -> str:
    seconds = statistics.median(s.seconds for s in samples)
    return f"{seconds:.3f} s, {max(s.peak_rss for s in samples) / MIB:.0f} MiB"


# -- verification ------------------------------------------------------------------------------


def verification_rows(path: Path, repeats: int) -> list[tuple[str, float]]:
    """(what, median seconds) for each way of checking the ZIP at `path`; see the module doc."""
    sys.path.insert(0, str(ROOT / "src"))
    from codearts_check_logs.ziplog.pattern import BUILTIN_PATTERN
    from codearts_check_logs.ziplog.stream_check import StreamCheck, Streamed
    from codearts_check_logs.ziplog.triage import Scan
    from codearts_check_logs.ziplog.verify import verify

    def stream() -> Streamed:
        check = StreamCheck()
        with path.open("rb") as handle:
            while chunk := handle.read(MIB):
                check.feed(chunk)
        return check.result()

    streamed = stream()

    def reference() -> None:
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None

    ways = {
        "streaming check, fed 1 MiB at a time": stream,
        "pass after the download (stream given)": lambda: verify(path, streamed),
        "the same pass, shared with triage": lambda: verify(
            path, streamed, text=Scan(BUILTIN_PATTERN)
        ),
        "pass with nothing streamed (all from disk)": lambda: verify(path, None),
        "zipfile testzip (reference)": reference,
    }
    rows = []
    for label, way in ways.items():
        seconds = []
        for _ in range(repeats):
            begin = time.perf_counter()
            way()
            seconds.append(time.perf_counter() - begin)
        rows.append((label, statistics.median(seconds)))
    return rows


def print_verification(zips: dict[str, Path], repeats: int) -> None:
    print("\n### Verification (CRC-32 of every member)\n")
    print("| ZIP | size | way | time | MiB/s |")
    print("|---|---:|---|---:|---:|")
    for label, key in (("stored logs", "stored"), ("deflated logs", "logs")):
        path = zips[key]
        size = path.stat().st_size
        for way, seconds in verification_rows(path, repeats):
            rate = size / MIB / seconds if seconds else float("inf")
            print(f"| {label} | {size / MIB:.1f} MiB | {way} | {seconds:.3f} s | {rate:.0f} |")


def main(argv: Sequence[str] | None = None) -> int:
    global SCALE  # noqa: PLW0603 - one knob for the whole run, set once from the command line
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1, help="divide every size by this")
    parser.add_argument("--child", nargs=2, metavar=("ZIP", "PATTERN"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], trace=args.trace)
        return 0
    SCALE = max(1, args.scale)
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as folder:
        zips = build(Path(folder))
        shown = {
            f"{64 // SCALE or 1} MiB of text logs": zips["logs"],
            f"ZIP bomb, {BOMB_MIB // SCALE} MiB of zeros": zips["zeros"],
        }
        downloaded = downloads(shown, args.repeats, Path(folder))
        figures = {label: measure(path, "", args.repeats) for label, path in shown.items()}
        print("## Triage (`benchmarks/triage_bench.py`)\n")
        print(*machine(), sep="\n")
        print(f"\n{args.repeats} runs each; median wall time, largest peak RSS.\n")
        print(
            "| ZIP | size | curl download | our CLI, download only | our CLI, download + triage "
            "| triage alone | triage RSS before → peak | traced peak |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, path in shown.items():
            runs, alone = downloaded[label], figures[label]
            print(
                f"| {label} | {path.stat().st_size / MIB:.1f} MiB | {_cell(runs.curl)} "
                f"| {_cell(runs.download_only)} | {_cell(runs.with_triage)} "
                f"| {alone.seconds:.3f} s "
                f"| {alone.rss_before / MIB:.1f} → {alone.rss_peak / MIB:.1f} MiB "
                f"| {alone.traced_peak / MIB:.2f} MiB |"
            )
        print(
            "\n| case | ZIP | read file | decompress | triage | RSS before → peak | traced peak "
            "| read | problems |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, path, pattern in cases(zips):
            detail = measure(path, pattern, args.repeats)
            read = detail.bytes_read
            print(
                f"| {label} | {path.stat().st_size / MIB:.1f} MiB "
                f"| {read_seconds(path):.3f} s | {decompress_seconds(path, read):.2f} s "
                f"| {detail.seconds:.3f} s "
                f"| {detail.rss_before / MIB:.1f} → {detail.rss_peak / MIB:.1f} MiB "
                f"| {detail.traced_peak / MIB:.2f} MiB "
                f"| {read / MIB:.1f} MiB | {detail.problems} |"
            )
            for note in detail.notes:
                print(f"|  | note: {note} | | | | | | | |")
        print_verification(zips, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
