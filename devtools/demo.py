"""`make demo`: the whole job on this machine, no Huawei or GitHub account needed.

It starts the CodeArts Check simulator, Azurite (the Azure Storage emulator) and a stand-in for
GitHub's artifact service, all on loopback; runs the real `entrypoint` the way the runner runs a
container action; then prints the step log, the job summary and the outputs, and leaves the
ZIPs in `demo-workspace/`. A second, shorter run shows what a failure looks like. Two more runs
authenticate without a token, against stand-ins for Huawei's IAM and STS and for GitHub's
ID-token endpoint: keyless, with the job's OIDC ID token exchanged at STS (IAM 5) for temporary
keys, and with an AK/SK; both sign their CodeArts requests, which a simulator checks as Huawei's
API gateway does.
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
    ResultsDouble,
    make_runtime_token,
)
from devtools.runner import FakeRunner

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = ROOT / "demo-workspace"
TOKEN = "MIIDemoToken-not-a-real-IAM-token-0123456789"
IDS = ("a777ff00d3cf4d369d87066806ae0001", "b888ff00d3cf4d369d87066806ae0002")


def run_step(
    name: str, inputs: dict[str, str], extra_env: dict[str, str]
) -> tuple[int, str, str, dict[str, str]]:
    """Run the entrypoint as the runner would; returns exit code, log, summary and outputs."""
    runner = FakeRunner(WORKSPACE / name)
    run = runner.run(inputs, extra_env)
    return run.returncode, run.log, run.summary, run.outputs


def banner(title: str) -> None:
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}")


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
        code3, log3, summary3, _ = run_step("keyless", keyless, cloud.github.env())
        print(f"--- step log (exit code {code3}) ---\n{log3}")
        print(f"--- job summary (Markdown) ---\n{summary3}")
        print("--- requests the credential services received ---")
        for request in cloud.requests():
            path = request.path
            if request.service == "github-oidc" and path.endswith("/idtoken"):
                path = "…/idtoken (ACTIONS_ID_TOKEN_REQUEST_URL)"
            print(f"{request.service:>11}  {request.method} {path}  -> {request.status}")
        ok = code3 == 0 and len(cloud.sts.calls()) == 1

        banner("4. AK/SK: every request signed (SDK-HMAC-SHA256), the project looked up at IAM")
        before = len(cloud.requests())
        signed = {
            "sub-job-id": "\n".join(IDS),
            "endpoint": gateway.base_url,
            "upload-artifact": "false",
            **cloud.inputs("aksk"),
        }
        code4, log4, summary4, _ = run_step("aksk", signed, {})
        print(f"--- step log (exit code {code4}) ---\n{log4}")
        print(f"--- job summary (Markdown) ---\n{summary4}")
        received = gateway.requests[-1]
        authorization = (received.header("Authorization") or "").replace(
            cloud.access_key.access, "<access key>"
        )
        print("--- what CodeArts Check received ---")
        print(f"Authorization: {authorization[:-56]}…")
        for name in ("X-Sdk-Date", "X-Project-Id"):
            print(f"{name}: {received.header(name)}")
        return ok and code4 == 0 and len(cloud.requests()) == before + 1


def main() -> int:
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir()
    with Simulator(token=TOKEN) as sim, Azurite() as azurite, ResultsDouble(azurite) as results:
        # A transient 503 on the second sub-job shows the retry in the log.
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
        banner("1. The main job: two sub-jobs, logs saved and uploaded as artifacts")
        code, log, summary, outputs = run_step("main", inputs, runner_env)
        print(f"--- step log (exit code {code}) ---\n{log}")
        print(f"--- job summary (Markdown) ---\n{summary}")
        print("--- outputs ---")
        for name, value in outputs.items():
            print(f"{name} = {value}")
        finalized = results.finalized()
        print("\n--- artifact service ---")
        for artifact in finalized:
            print(
                f"artifact {artifact.id} {artifact.name}: {artifact.size} bytes, {artifact.digest}"
            )
        ok = code == 0 and len(finalized) == len(IDS)
        for sub_job_id in IDS:
            data = (
                WORKSPACE / "main" / "workspace" / "codearts-check-logs" / f"{sub_job_id}.zip"
            ).read_bytes()
            ok = ok and data == sim.zip_bytes(sub_job_id)
            ok = ok and any(
                a.digest == "sha256:" + hashlib.sha256(data).hexdigest() for a in finalized
            )

        banner("2. What a failure looks like: an expired token (HTTP 401)")
        failing = {**inputs, "sub-job-id": IDS[0], "token": "expired-token-0123456789"}
        code2, log2, summary2, _ = run_step("failure", {**failing, "upload-artifact": "false"}, {})
        print(f"--- step log (exit code {code2}) ---\n{log2}")
        print(f"--- job summary (Markdown) ---\n{summary2}")
        ok = ok and code2 == 1

    ok = credential_runs() and ok

    banner("Result")
    for path in sorted(WORKSPACE.rglob("*.zip")):
        print(f"ZIP on disk: {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    print("demo OK" if ok else "demo FAILED: see above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
