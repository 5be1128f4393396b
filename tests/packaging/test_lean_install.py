"""The install a CLI user gets: `pip install codearts-check-logs` (or pipx) into a fresh venv.

The wheel is built the way the Dockerfile builds it (hatchling from its hash-checked lock, no
build isolation), then installed with the dependencies it declares, resolved from the package
index as pip does for a user, into a venv that has no pip of its own. That venv must run the
command line (`--help` and a real download against the CodeArts simulator) without the
`action` extra, hold none of the action's GitHub tree, and stay small.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from devtools.doubles.codearts import Simulator

from tests.packaging.test_image import clean_pip_env

ROOT = Path(__file__).resolve().parents[2]
SUB_JOB_ID = "0123456789abcdefABCDEF0123456789"
TOKEN = "lean-install-token-7e2a"
# What `pip install codearts-check-logs` may occupy, every file counted (`du -sb`), with no
# pip in the venv. The declared dependencies come to about 11 MB today, 3.6 MB of it the
# `regex` engine; the PyGithub tree that the `action` extra brings would add about 25 MB.
LEAN_VENV_LIMIT = 15_000_000
# Distributions that only the action's GitHub side needs (actions-toolkit and its tree).
ACTION_ONLY = ("actions-toolkit", "pygithub", "cryptography", "pynacl", "pyjwt", "cffi")


def run(argv: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)


def tree_size(folder: Path) -> int:
    """Bytes in every regular file under `folder`, as `du -sb` counts them (links not followed)."""
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def lean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel and only the dependencies it declares."""
    root = tmp_path_factory.mktemp("lean")
    env = clean_pip_env(root, {"PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    build = root / "build"
    steps = [
        [sys.executable, "-m", "venv", str(build)],
        [str(build / "bin" / "python"), "-m", "pip", "install", "--require-hashes",
         "--no-deps", "-r", str(ROOT / "requirements" / "build.txt")],
        [str(build / "bin" / "python"), "-m", "pip", "wheel", "--no-deps",
         "--no-build-isolation", "--wheel-dir", str(root / "dist"), str(ROOT)],
        [sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
    ]  # fmt: skip
    for argv in steps:
        done = run(argv, env=env, cwd=root)
        assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    [wheel] = (root / "dist").glob("*.whl")
    # The user's command: the wheel with its declared dependencies, nothing pinned by us.
    install = [sys.executable, "-m", "pip", "--python", str(root / "venv" / "bin" / "python"),
               "install", str(wheel)]  # fmt: skip
    done = run(install, env=env, cwd=root)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return root / "venv"


def user_env(home: Path) -> dict[str, str]:
    """A terminal's environment with none of the runner's variables and the token set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INPUT_", "ACTIONS_", "GITHUB_", "HUAWEI", "PYTHON", "VIRTUAL_"))
    }
    return env | {"HOME": str(home), "CODEARTS_CHECK_TOKEN": TOKEN}


@pytest.mark.e2e
def test_lean_venv_holds_no_action_only_package_and_stays_small(lean_venv: Path) -> None:
    listed = run(
        [str(lean_venv / "bin" / "python"), "-I", "-c",
         "from importlib import metadata; "
         "print('\\n'.join(sorted(d.metadata['Name'].lower() for d in metadata.distributions())))"],
        env=clean_pip_env(lean_venv.parent, {}),
        cwd=lean_venv.parent,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    installed = set(listed.stdout.split())
    assert "codearts-check-logs" in installed
    assert installed.isdisjoint(ACTION_ONLY), installed
    assert not (lean_venv / "bin" / "pip").exists()

    size = tree_size(lean_venv)
    print(f"lean venv: {size} bytes in {len(installed)} distributions: {sorted(installed)}")
    assert size <= LEAN_VENV_LIMIT, f"pip install codearts-check-logs would take {size} bytes"


@pytest.mark.e2e
def test_lean_install_runs_help_and_a_download(lean_venv: Path, tmp_path: Path) -> None:
    script = str(lean_venv / "bin" / "codearts-check-logs")
    env = user_env(tmp_path)

    helped = run([script, "--help"], env=env, cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: codearts-check-logs")

    with Simulator(token=TOKEN) as sim:
        fetched = run(
            [script, SUB_JOB_ID, "--endpoint", sim.base_url, "-o", str(tmp_path / "logs")],
            env=env,
            cwd=tmp_path,
        )
        expected = sim.zip_bytes(SUB_JOB_ID)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert (tmp_path / "logs" / f"{SUB_JOB_ID}.zip").read_bytes() == expected
    assert fetched.stdout.startswith("CodeArts Check logs: 1 sub-job fetched\n")
    assert TOKEN not in fetched.stdout + fetched.stderr

    # `python -m` runs the same command from the lean venv.
    module = run([str(lean_venv / "bin" / "python"), "-m", "codearts_check_logs", "--version"],
                 env=env, cwd=tmp_path)  # fmt: skip
    assert module.returncode == 0, module.stderr
    assert module.stdout.startswith("codearts-check-logs ")
