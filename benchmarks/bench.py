"""`make bench`: our download and full flow against the raw floor and the two-step peer.

Everything runs on loopback in one go: the CodeArts Check simulator as its own process (serving
incompressible stored ZIPs of 1 MiB, 64 MiB and 512 MiB), Azurite on disk, and the results-service
double. For each size, five times by default, in the same rounds:

1. `curl` to a file: the floor;
2. our CLI, download only (verified, saved; triage gives up at once on these random bytes);
3. our `entrypoint`, the full flow: download, then the artifact upload from the saved ZIP;
4. the peer pipeline: `curl`, then the official `@actions/artifact` client (node) uploading the
   same ZIP raw (`skipArchive`).

`--tree LABEL=DIR` (repeatable; `BENCH_TREES="LABEL=DIR ..."` in the environment does the same)
names the checkouts whose product is measured: each child runs with that checkout's `src` first
on `PYTHONPATH` (and its `.venv` interpreter when it has one), so the code before a change and
after it are measured in the same sitting, their runs interleaved round by round, against the
same curl and peer runs. The bench's own harness (simulator, doubles) is always this checkout's.

Each child's peak RSS comes from GNU time (or `wait4`); for the peer it is the larger of its two
processes. Cold start is the time from starting our process to the moment the simulator read
the first request line. The figures are printed as Markdown, ready for docs/benchmarks.md;
nothing here is a test or asserts a target.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import requests
from devtools.doubles.azurite import Azurite, account_sas
from devtools.doubles.results import (
    CONTAINER,
    EXAMPLE_JOB_ID,
    EXAMPLE_RUN_ID,
    ResultsDouble,
    make_runtime_token,
)
from devtools.runner import FakeRunner

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = ROOT / "tests" / "contract" / "upload_official.mjs"
TOKEN = "MIIBenchToken-not-a-real-IAM-token-0123456789"
MIB = 1024 * 1024
SIZES = {"1 MiB": 1 * MIB, "64 MiB": 64 * MIB, "512 MiB": 512 * MIB}
REPEATS = 5
COLD_STARTS = 7
LISTENING = re.compile(r"listening on (\S+)")


def sub_job_id(index: int) -> str:
    return f"{index:032x}"


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss: int
    """Bytes."""


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def peak_rss(self) -> int:
        return max(s.peak_rss for s in self.samples)


TIME = shutil.which("time", path="/usr/bin:/bin")


def timed(argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> Sample:
    """Run one child to completion; its wall time and peak RSS.

    Through GNU time when installed: the kernel's peak RSS of a child includes the memory of the
    process it was forked from (Linux records the old image's high-water mark at exec), so a
    child forked straight from this Python process would report at least this process's size.
    GNU time is a few MiB, so what it reports is the command's own peak."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *argv] if TIME else list(argv)
        begin = time.perf_counter()
        process = subprocess.Popen(
            wrapped, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output = process.stdout.read() if process.stdout else b""
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - begin
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            text = output.decode(errors="replace")[-3000:]
            raise RuntimeError(f"{argv[0]} failed ({process.returncode}):\n{text}")
        kib = int(rss.read().split()[-1]) if TIME else usage.ru_maxrss
    return Sample(seconds, kib * 1024)


class BenchDouble(ResultsDouble):
    """The results double, finalizing on the blob's size alone: the stock double reads every
    blob back to check its hash, which would add the same second or two to both uploaders and
    hide the difference being measured. The bench checks the hash itself, outside the timing."""

    def finalize_artifact(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name, run_id = body.get("name", ""), body.get("workflow_run_backend_id", "")
        artifact = self._find(name, run_id, finalized=False)
        if artifact is None:
            return 404, {"code": "not_found", "msg": "no artifact is being uploaded"}
        url = f"{self.azurite.blob_url(CONTAINER, artifact.blob)}?{account_sas()}"
        head = requests.head(url, headers={"x-ms-version": "2024-11-04"}, timeout=(2, 30))
        if head.status_code != 200 or head.headers.get("Content-Length") != body.get("size"):
            return 400, {"code": "invalid_argument", "msg": "size does not match the blob"}
        with self._lock:
            artifact.finalized = True
            artifact.size = int(body["size"])
            artifact.digest = str(body.get("hash", ""))
        return 200, {"ok": True, "artifact_id": str(artifact.id)}

    def check_and_clear(self, expected_sha256: str) -> None:
        """The one artifact uploaded since the last call must hold the ZIP; then forget it."""
        with self._lock:
            done = [a for a in self.artifacts if a.finalized]
            self.artifacts.clear()
            self.requests.clear()
        assert len(done) == 1, f"expected one finalized artifact, got {len(done)}"
        artifact = done[0]
        url = f"{self.azurite.blob_url(CONTAINER, artifact.blob)}?{account_sas()}"
        digest = hashlib.sha256()
        with requests.get(
            url, headers={"x-ms-version": "2024-11-04"}, stream=True, timeout=60
        ) as r:
            r.raise_for_status()
            for chunk in r.iter_content(MIB):
                digest.update(chunk)
        assert digest.hexdigest() == expected_sha256, "the artifact differs from the ZIP"
        assert artifact.digest == f"sha256:{expected_sha256}"
        self.azurite.delete_blob(CONTAINER, artifact.blob)


@contextmanager
def simulator(
    sizes: dict[str, int] | None = None, files: dict[str, Path] | None = None
) -> Iterator[str]:
    """The simulator in its own process, serving generated ZIPs of the given sizes and ZIP files
    as they are; yields its base URL."""
    argv = [sys.executable, "-m", "devtools.doubles.codearts", "--port", "0", "--token", TOKEN]
    for sub_job, size in (sizes or {}).items():
        argv += ["--zip-size", f"{sub_job}={size}"]
    for sub_job, path in (files or {}).items():
        argv += ["--zip-file", f"{sub_job}={path}"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT) as process:
        try:
            line = process.stdout.readline() if process.stdout else ""
            match = LISTENING.search(line)
            if not match:
                raise RuntimeError(f"the simulator did not start: {line!r}")
            yield match.group(1)
        finally:
            process.terminate()


def expected_digest(base_url: str, sub_job: str, work: Path) -> str:
    path = work / "reference.zip"
    curl(base_url, sub_job, path, work)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
    path.unlink()
    return digest.hexdigest()


def curl(base_url: str, sub_job: str, dest: Path, cwd: Path) -> Sample:
    url = f"{base_url}/v1/log-file?sub_job_id={sub_job}"
    argv = ["curl", "-sS", "--fail", "-o", str(dest), "-H", f"X-Auth-Token: {TOKEN}", url]
    return timed(argv, env={"PATH": os.environ["PATH"]}, cwd=cwd)


def base_env(home: Path) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
    }


@dataclass(frozen=True)
class Tree:
    """A checkout whose product is measured: its `src` first on the children's `PYTHONPATH`, run
    by its own `.venv` interpreter when it has one (else this one: the dependencies are the
    same), its own `entrypoint` for the full flow."""

    label: str
    root: Path

    @property
    def python(self) -> str:
        own = self.root / ".venv" / "bin" / "python"
        return str(own) if own.exists() else sys.executable

    def env(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, "PYTHONPATH": str(self.root / "src")}

    def cli(self, *args: str) -> list[str]:
        return [self.python, "-m", "codearts_check_logs.entry.cli", *args]

    @property
    def entrypoint(self) -> list[str]:
        return [self.python, str(self.root / "entrypoint")]

    def describe(self) -> str:
        """The commit measured, and whether the tree differs from it."""

        def git(*argv: str) -> str:
            done = subprocess.run(
                ["git", "-C", str(self.root), *argv], capture_output=True, text=True, check=False
            )
            return done.stdout.strip()

        head = git("log", "-1", "--format=%h %s")
        where = f"at {head[:80]}" if head else "(not a git checkout)"
        dirty = " with uncommitted changes" if head and git("status", "--porcelain", "src") else ""
        return f"- {self.label}: `{self.root}` {where}{dirty}; `{self.python}`"


THIS_TREE = Tree("this checkout", ROOT)


def parse_tree(text: str) -> Tree:
    label, equals, folder = text.partition("=")
    if not equals or not label or not folder:
        raise argparse.ArgumentTypeError(f"expected LABEL=DIR, got {text!r}")
    root = Path(folder).expanduser().resolve()
    if not (root / "src" / "codearts_check_logs").is_dir():
        raise argparse.ArgumentTypeError(f"{root} holds no src/codearts_check_logs")
    return Tree(label, root)


def our_cli(base_url: str, sub_job: str, cwd: Path, tree: Tree = THIS_TREE) -> Sample:
    argv = tree.cli(sub_job, "--endpoint", base_url, "-o", "out")
    return timed(argv, env=tree.env(cli_env(cwd)), cwd=cwd)


def cli_env(cwd: Path) -> dict[str, str]:
    return {**base_env(cwd), "CODEARTS_CHECK_TOKEN": TOKEN}


def actions_env(double: ResultsDouble, workspace: Path) -> dict[str, str]:
    return {
        "ACTIONS_RUNTIME_TOKEN": make_runtime_token(EXAMPLE_RUN_ID, EXAMPLE_JOB_ID),
        "ACTIONS_RESULTS_URL": double.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKSPACE": str(workspace),
    }


def our_entrypoint(
    base_url: str,
    sub_job: str,
    double: ResultsDouble,
    workspace: Path,
    tree: Tree = THIS_TREE,
) -> Sample:
    runner = FakeRunner(workspace / ".runner", command=tree.entrypoint)
    inputs = {"sub-job-id": sub_job, "token": TOKEN, "endpoint": base_url}
    env = runner.environment(inputs, actions_env(double, runner.workspace))
    return timed(runner.command, env=tree.env(env), cwd=runner.workspace)


def peer(base_url: str, sub_job: str, double: ResultsDouble, workspace: Path) -> Sample:
    path = workspace / f"{sub_job}.zip"
    download = curl(base_url, sub_job, path, workspace)
    node = shutil.which("node") or "node"
    env = {**base_env(workspace), **actions_env(double, workspace)}
    upload = timed([node, str(OFFICIAL), str(path)], env=env, cwd=ROOT)
    return Sample(download.seconds + upload.seconds, max(download.peak_rss, upload.peak_rss))


def cold_start(base_url: str, run: Callable[[], Sample]) -> float:
    """Seconds from starting the process to the simulator reading its first request line."""
    started = time.time()
    run()
    recorded = requests.get(f"{base_url}/_simulator/requests", timeout=10).json()
    return float(recorded[-1]["at"]) - started


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def machine() -> list[str]:
    def run(*argv: str) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=10)
        except OSError:
            return "not found"
        return (
            (out.stdout or out.stderr).strip().splitlines()[0] if out.stdout or out.stderr else ""
        )

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    return [
        f"- CPU: {cpu}, `nproc` = {os.cpu_count()}",
        f"- Memory (`free -h`): {' '.join(memory.splitlines()[1].split()[1:2])} total",
        f"- Kernel: {platform.release()}",
        f"- Python: {platform.python_version()}; node: {run('node', '--version')}; "
        f"curl: {' '.join(run('curl', '--version').split()[:2])}",
    ]


def load() -> str:
    """The load averages (1, 5, 15 min): how busy the machine was around the runs."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def fmt_rss(value: int) -> str:
    return f"{value / MIB:.0f}"


@dataclass
class Results:
    """Every series of one sitting: per size, curl and the peer once, ours once per tree."""

    trees: list[Tree]
    repeats: int
    curl: dict[str, Series] = field(default_factory=dict)
    peer: dict[str, Series] = field(default_factory=dict)
    cli: dict[tuple[str, str], Series] = field(default_factory=dict)
    """(size label, tree label) → our CLI, download only."""
    full: dict[tuple[str, str], Series] = field(default_factory=dict)
    """(size label, tree label) → our entrypoint, the full flow."""
    colds: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    """(tree label, "CLI" or "entrypoint") → cold starts, seconds."""
    load_before: str = ""
    load_after: str = ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated size labels")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs per size and way")
    parser.add_argument("--cold-starts", type=int, default=COLD_STARTS, help="per tree and way")
    parser.add_argument(
        "--tree",
        action="append",
        type=parse_tree,
        default=[],
        metavar="LABEL=DIR",
        help="a checkout to measure (repeatable; default: this one, or BENCH_TREES)",
    )
    args = parser.parse_args(argv)
    labels = [label.strip() for label in args.sizes.split(",")]
    unknown = [label for label in labels if label not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; known: {', '.join(SIZES)}")
    trees: list[Tree] = args.tree or [
        parse_tree(item) for item in os.environ.get("BENCH_TREES", "").split()
    ]
    results = Results(trees=trees or [THIS_TREE], repeats=args.repeats)
    sitting(results, labels, args.cold_starts)
    print(report(results))
    return 0


def sitting(results: Results, labels: list[str], cold_starts: int) -> None:
    """Every measurement, the trees interleaved in each round so that they share the machine's
    mood: on a shared machine, minutes apart can differ more than the code does."""
    ids = {label: sub_job_id(index + 1) for index, label in enumerate(SIZES)}
    cold_id = sub_job_id(99)
    work = Path(tempfile.mkdtemp(prefix="codearts-bench-"))
    results.load_before = load()
    try:
        serving = {ids[label]: SIZES[label] for label in labels} | {cold_id: MIB}
        with (
            simulator(serving) as base_url,
            Azurite(in_memory=False) as azurite,
            BenchDouble(azurite) as double,
        ):
            for label in labels:
                sub_job = ids[label]
                expected = expected_digest(base_url, sub_job, work)
                curls = results.curl.setdefault(label, Series())
                peers = results.peer.setdefault(label, Series())
                for round_ in range(results.repeats):
                    print(f"{label}: round {round_ + 1} of {results.repeats}", file=sys.stderr)
                    area = fresh(work / "run")
                    curls.samples.append(curl(base_url, sub_job, area / "a.zip", area))
                    for tree in results.trees:
                        area = fresh(work / "run")
                        results.cli.setdefault((label, tree.label), Series()).samples.append(
                            our_cli(base_url, sub_job, area, tree)
                        )
                        area = fresh(work / "run")
                        results.full.setdefault((label, tree.label), Series()).samples.append(
                            our_entrypoint(base_url, sub_job, double, area, tree)
                        )
                        double.check_and_clear(expected)
                    area = fresh(work / "run")
                    peers.samples.append(peer(base_url, sub_job, double, area))
                    double.check_and_clear(expected)
            for _ in range(cold_starts):
                for tree in results.trees:
                    area = fresh(work / "run")
                    cli = tree.cli(cold_id, "--endpoint", base_url, "-o", "out")
                    env = tree.env(cli_env(area))
                    results.colds.setdefault((tree.label, "CLI"), []).append(
                        cold_start(base_url, partial(timed, cli, env=env, cwd=area))
                    )
                    area = fresh(work / "run")
                    results.colds.setdefault((tree.label, "entrypoint"), []).append(
                        cold_start(
                            base_url,
                            partial(our_entrypoint, base_url, cold_id, double, area, tree),
                        )
                    )
                    saved = area / ".runner" / "workspace" / "codearts-check-logs"
                    double.check_and_clear(_sha256_of(saved / f"{cold_id}.zip"))
    finally:
        results.load_after = load()
        shutil.rmtree(work, ignore_errors=True)


def _sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


TRIVIAL_FLOOR = 0.05
"""Below this, curl's time is its own start-up: a ratio to it would measure start-ups."""


def report(results: Results) -> str:
    """The sitting as Markdown: the machine, the trees, then one table each for wall time, peak
    memory and cold start."""
    many = len(results.trees) > 1
    tree_head, tree_rule = ("| tree ", "|---") if many else ("", "")
    lines = ["## Machine", "", *machine()]
    lines += [f"- Load average (1 / 5 / 15 min): {results.load_before} before, "]
    lines[-1] += f"{results.load_after} after"
    lines += ["", "## Measured", "", *(tree.describe() for tree in results.trees), ""]
    lines += [
        f"## Wall time (median of {results.repeats})",
        "",
        f"| ZIP {tree_head}| curl | ours, download only | ours, full | peer | download / curl "
        "| full / peer |",
        f"|---{tree_rule}|---|---|---|---|---|---|",
    ]
    for label in results.curl:
        curl_s, peer_s = results.curl[label].median, results.peer[label].median
        for tree in results.trees:
            cli = results.cli[(label, tree.label)].median
            full = results.full[(label, tree.label)].median
            ratio = f"{cli / curl_s:.2f}" if curl_s >= TRIVIAL_FLOOR else "—"
            name = f"| {tree.label} " if many else ""
            lines.append(
                f"| {label} {name}| {curl_s:.3f} s | {cli:.3f} s | {full:.3f} s | "
                f"{peer_s:.3f} s | {ratio} | {full / peer_s:.2f} |"
            )
    lines += [
        "",
        f"download / curl is left out (—) where curl takes under {TRIVIAL_FLOOR * 1000:.0f} ms: "
        "it would compare start-ups. The peer is curl, then the official `@actions/artifact` "
        "uploader.",
        "",
        "## Peak RSS (largest of the runs)",
        "",
        f"| ZIP {tree_head}| curl | ours, download only | ours, full | peer (larger process) |",
        f"|---{tree_rule}|---|---|---|---|",
    ]
    for label in results.curl:
        for tree in results.trees:
            name = f"| {tree.label} " if many else ""
            lines.append(
                f"| {label} {name}| {fmt_rss(results.curl[label].peak_rss)} MiB | "
                f"{fmt_rss(results.cli[(label, tree.label)].peak_rss)} MiB | "
                f"{fmt_rss(results.full[(label, tree.label)].peak_rss)} MiB | "
                f"{fmt_rss(results.peer[label].peak_rss)} MiB |"
            )
    lines += [
        "",
        "## Cold start: process start to the first request line on the simulator's socket",
        "",
        f"| process {tree_head}| runs | median | min | max |",
        f"|---{tree_rule}|---|---|---|---|",
    ]
    for (tree_label, process), values in results.colds.items():
        if values:
            name = f"| {tree_label} " if many else ""
            lines.append(
                f"| {process} {name}| {len(values)} | {statistics.median(values) * 1000:.0f} ms | "
                f"{min(values) * 1000:.0f} ms | {max(values) * 1000:.0f} ms |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
