"""`make demo`: the whole job on this machine, no Huawei or GitHub account needed.

It starts the CodeArts Check simulator, Azurite (the Azure Storage emulator) and a stand-in for
GitHub's artifact service, all on loopback, and runs the real `entrypoint` the way the runner
runs a container action. For each run it shows what a GitHub user would see: the step log as
the run page displays it (masked values as `***`, `::add-mask::` lines hidden, groups as
headings, annotations as `Error:`/`Notice:` lines), then the job summary as text, and it writes
that summary as `summary.md` and rendered as `summary.html` beside the run's workspace.

Runs: the main job (two sub-jobs, one retried after a 503, both uploaded as artifacts); a
failure (an expired token); keyless, the job's OIDC ID token exchanged at STS (IAM 5) for
temporary keys, against stand-ins for Huawei's IAM and STS and GitHub's ID-token endpoint; and
AK/SK, every request signed, which the simulator checks as Huawei's API gateway does.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

from devtools.doubles.azurite import Azurite
from devtools.doubles.cloud import huawei_cloud
from devtools.doubles.codearts import Simulator, Step
from devtools.doubles.results import (
    EXAMPLE_JOB_ID,
    EXAMPLE_RUN_ID,
    Artifact,
    ResultsDouble,
    make_runtime_token,
)
from devtools.runner import FakeRunner, Run
from devtools.runner_log import displayed
from devtools.summary_view import to_html, to_text

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = ROOT / "demo-workspace"
TOKEN = "MIIDemoToken-not-a-real-IAM-token-0123456789"
IDS = ("a777ff00d3cf4d369d87066806ae0001", "b888ff00d3cf4d369d87066806ae0002")


def run_step(name: str, inputs: dict[str, str], extra_env: dict[str, str]) -> Run:
    """Run the entrypoint as the runner would, in `demo-workspace/<name>/`."""
    return FakeRunner(WORKSPACE / name).run(inputs, extra_env)


def banner(title: str) -> None:
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}")


def show(name: str, run: Run) -> None:
    """The step log and the job summary as the run page shows them; the summary saved."""
    view = displayed(run.log)
    print(f"--- step log, as the run page shows it (exit code {run.returncode}) ---")
    print("\n".join(view.lines))
    print("\n--- job summary, as the run page shows it ---")
    print(to_text(run.summary), end="")
    folder = WORKSPACE / name
    markdown, page = folder / "summary.md", folder / "summary.html"
    markdown.write_text(run.summary, encoding="utf-8")
    page.write_text(to_html(run.summary), encoding="utf-8")
    print(f"\nJob summary saved as {rel(markdown)}; open {rel(page)} in a browser to see it")
    print("rendered as on GitHub.")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def credential_runs() -> bool:
    """Runs 3 and 4: no token, credentials obtained from (stand-ins for) IAM, STS and GitHub."""
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        banner("3. Keyless: the job's GitHub OIDC token exchanged at STS (IAM 5), no secret at all")
        keyless = {
            "sub-job-id": IDS[0],
            "endpoint": gateway.base_url,
            "upload-artifact": "false",
            **cloud.inputs("oidc-iam5"),
        }
        print("with:")
        for name, value in keyless.items():
            print(f"  {name}: {value}")
        run3 = run_step("keyless", keyless, cloud.github.env())
        show("keyless", run3)
        print("\n--- requests the credential services received ---")
        for request in cloud.requests():
            path = request.path
            if request.service == "github-oidc" and path.endswith("/idtoken"):
                path = "…/idtoken (ACTIONS_ID_TOKEN_REQUEST_URL)"
            print(f"{request.service:>11}  {request.method} {path}  -> {request.status}")
        ok = run3.returncode == 0 and len(cloud.sts.calls()) == 1

        banner("4. AK/SK: every request signed (SDK-HMAC-SHA256), the project looked up at IAM")
        before = len(cloud.requests())
        signed = {
            "sub-job-id": "\n".join(IDS),
            "endpoint": gateway.base_url,
            "upload-artifact": "false",
            **cloud.inputs("aksk"),
        }
        run4 = run_step("aksk", signed, {})
        show("aksk", run4)
        received = gateway.requests[-1]
        authorization = (received.header("Authorization") or "").replace(
            cloud.access_key.access, "<access key>"
        )
        print("\n--- what CodeArts Check received ---")
        print(f"Authorization: {authorization[:-56]}…")
        for name in ("X-Sdk-Date", "X-Project-Id"):
            print(f"{name}: {received.header(name)}")
        return ok and run4.returncode == 0 and len(cloud.requests()) == before + 1


def main_job(workspace: Path) -> tuple[Run, list[Artifact], bool]:
    """Run 1: two sub-jobs, the second after a transient 503, both uploaded. Returns the run,
    the artifacts the service finalized, and whether each holds its ZIP byte for byte."""
    with Simulator(token=TOKEN) as sim, Azurite() as azurite, ResultsDouble(azurite) as results:
        sim.script(IDS[1], Step.raw(503, b"Service Unavailable", "text/plain"))
        runner_env = {
            "ACTIONS_RUNTIME_TOKEN": make_runtime_token(EXAMPLE_RUN_ID, EXAMPLE_JOB_ID),
            "ACTIONS_RESULTS_URL": results.url,
        }
        inputs = {
            "sub-job-id": "\n".join(IDS),
            "token": TOKEN,
            "endpoint": sim.base_url,
            "retention-days": "7",
        }
        run = FakeRunner(workspace / "main").run(inputs, runner_env)
        finalized = results.finalized()
        ok = run.returncode == 0 and len(finalized) == len(IDS)
        for sub_job_id in IDS:
            data = (run.workspace / "codearts-check-logs" / f"{sub_job_id}.zip").read_bytes()
            ok = ok and data == sim.zip_bytes(sub_job_id)
            ok = ok and any(
                a.digest == "sha256:" + hashlib.sha256(data).hexdigest() for a in finalized
            )
    return run, finalized, ok


def main() -> int:
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir()
    banner("1. The main job: two sub-jobs, logs saved and uploaded as artifacts")
    run, finalized, ok = main_job(WORKSPACE)
    show("main", run)
    print("\n--- step outputs (steps.<id>.outputs.*) ---")
    for name, value in run.outputs.items():
        shown = value if len(value) <= 100 else f"{value[:97]}…"
        print(f"{name} = {shown}")
    print("\n--- artifact service ---")
    for artifact in finalized:
        print(f"artifact {artifact.id} {artifact.name}: {artifact.size} bytes, {artifact.digest}")

    banner("2. What a failure looks like: an expired token (HTTP 401)")
    with Simulator(token=TOKEN) as sim:
        failing = {
            "sub-job-id": IDS[0],
            "token": "expired-token-0123456789",
            "endpoint": sim.base_url,
            "upload-artifact": "false",
        }
        run2 = run_step("failure", failing, {})
    show("failure", run2)
    ok = ok and run2.returncode == 1

    ok = credential_runs() and ok

    banner("Result")
    for path in sorted(WORKSPACE.rglob("*.zip")):
        print(f"ZIP on disk: {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    print("demo OK" if ok else "demo FAILED: see above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
