"""The image recipe and the action's metadata, proved without a Docker engine.

No Docker engine runs here, so the image cannot be built. Instead the first test replays
the Dockerfile: it reads the builder stage's ENV, WORKDIR, COPY and RUN instructions and
the final stage's COPY and ENTRYPOINT, moves every absolute path under a temporary
root, and runs the very same commands (same lock files, `--require-hashes`, `--no-deps`,
no build isolation, the venv without pip), with a clean pip configuration as in the
container. It then runs the installed entrypoint the way the runner runs the container:
workspace as working directory, `file_commands` files for outputs and summary, inputs as
hyphenated `INPUT_*` variables, against the simulator. The same replayed image shows that
every module of the package, and every module they name, loads from the venv alone; that
the venv holds exactly the locked packages and stays small; that the wheel holds only the
product; and that the sdist holds only sources and builds the same wheel. The other tests
check that action.yml, the Dockerfile, .dockerignore, the lock files and pyproject.toml agree.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from devtools.doubles.codearts import Simulator
from devtools.runner import FakeRunner

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
ACTION_YML = ROOT / "action.yml"
SUB_JOB_ID = "0123456789abcdefABCDEF0123456789"
TOKEN = "packaging-test-token-5f1c"
FROM_LINE = re.compile(r"^python:(?P<minor>3\.\d+)-slim@sha256:[0-9a-f]{64}(?: AS \w+)?$")
RELEASED_IMAGE = re.compile(
    r"^docker://ghcr\.io/[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*@sha256:[0-9a-f]{64}$"
)
# Absolute paths the Dockerfile uses inside the image; the replay moves them under a root.
IMAGE_PATH = re.compile(r"(?<![\w./-])/(?:opt|dist|src)(?=/|\s|$|\")")
PACKAGE = "codearts_check_logs"
REQUIREMENTS = ROOT / "requirements"
# Locks installed into the image's venv, each with --require-hashes --no-deps.
RUNTIME_LOCKS = ("runtime", "runtime-nodeps")
# The target for the installed size of /opt/venv (`du -sb`), in bytes. It was 10 MB (8.4 MB
# installed) until `regex` came in: 3.6 MB, most of it its compiled engine, the matcher that
# lets a user's triage-pattern be stopped at its time budget (see ziplog/pattern.py).
VENV_SIZE_LIMIT = 12_500_000


# --- reading the Dockerfile ------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def read_stages(text: str) -> list[Stage]:
    """The Dockerfile's stages, each a list of (KEYWORD, arguments) with lines joined."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = " ".join(args.split())
        if keyword == "FROM":
            base, _, name = args.partition(" AS ")
            stages.append(Stage(base=base, name=name or None))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, args))
    return stages


def parse_env(args: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(args))


def copy_args(args: str) -> tuple[str | None, list[str], str]:
    """(`--from` stage or None, sources, destination) of a COPY instruction."""
    parts = args.split()
    source_stage = None
    while parts and parts[0].startswith("--"):
        option = parts.pop(0)
        if option.startswith("--from="):
            source_stage = option.removeprefix("--from=")
    assert len(parts) >= 2, f"COPY needs a source and a destination: {args!r}"
    return source_stage, parts[:-1], parts[-1]


def entrypoint_argv(stage: Stage) -> list[str]:
    entrypoints = stage.all("ENTRYPOINT")
    assert len(entrypoints) == 1, "the final stage needs exactly one ENTRYPOINT"
    argv = json.loads(entrypoints[0])
    assert isinstance(argv, list), "ENTRYPOINT must be in exec (JSON) form"
    assert all(isinstance(item, str) for item in argv)
    return [str(item) for item in argv]


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return read_stages(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# --- replaying the Dockerfile ------------------------------------------------------------


def image_python(minor: str) -> str:
    """An interpreter of the image's Python minor version, else the one running the tests."""
    found = shutil.which(f"python{minor}")
    candidates = [Path(found)] if found else []
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(pyenv_root.glob(f"versions/{minor}.*/bin/python{minor}"), reverse=True)
    for candidate in candidates:
        probe = subprocess.run(
            [str(candidate), "-c", "import venv"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return str(candidate)
    return sys.executable


def clean_pip_env(root: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of a RUN step: no local pip configuration, only the stage's ENV."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "INPUT_", "GITHUB_"))
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    if "PIP_CERT" in os.environ:  # the machine's CA bundle, when it sits behind a TLS proxy
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    env.update(extra)
    env["HOME"] = str(root / "root")
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def in_root(root: Path, text: str) -> str:
    return IMAGE_PATH.sub(lambda match: f"{root}{match.group(0)}", text)


def copy_into(sources: list[str], dest: Path, *, into_directory: bool) -> None:
    """COPY's rules: a directory's contents go into `dest`; a file goes to `dest`, or into
    it when `dest` names a directory (ends in `/`, or several sources are given)."""
    for source in sources:
        paths = sorted(ROOT.glob(source.rstrip("/")))
        assert paths, f"COPY source {source!r} does not exist"
        for path in paths:
            if path.is_dir():
                shutil.copytree(
                    path, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                target = dest / path.name if into_directory else dest
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


def copy_destination(root: Path, workdir: Path, sources: list[str], dest: str) -> tuple[Path, bool]:
    target = Path(in_root(root, dest)) if dest.startswith("/") else workdir / dest
    return target, dest.endswith("/") or dest in {".", "./"} or len(sources) > 1


def replay(stages: list[Stage], root: Path) -> list[str]:
    """Run the Dockerfile's stages under `root`; returns the ENTRYPOINT moved under it."""
    builder, final = stages[0], stages[-1]
    minor_match = FROM_LINE.match(builder.base)
    assert minor_match, builder.base
    python = image_python(minor_match["minor"])
    env: dict[str, str] = {}
    workdir = root
    for keyword, args in builder.instructions:
        if keyword == "ENV":
            env.update(parse_env(args))
        elif keyword == "WORKDIR":
            workdir = Path(in_root(root, args))
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            source_stage, sources, dest = copy_args(args)
            assert source_stage is None
            target, into_directory = copy_destination(root, workdir, sources, dest)
            copy_into(sources, target, into_directory=into_directory)
        elif keyword == "RUN":
            command = in_root(root, args)
            command = re.sub(
                r"(^|&& )python ", lambda m: f"{m.group(1)}{shlex.quote(python)} ", command
            )
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", command],
                cwd=workdir,
                env=clean_pip_env(root, env),
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, f"RUN {args}\n{result.stdout}\n{result.stderr}"
        else:
            pytest.fail(f"the replay does not know builder instruction {keyword}")
    for keyword, args in final.instructions:
        if keyword != "COPY":
            continue
        source_stage, sources, dest = copy_args(args)
        if source_stage is not None:
            assert [in_root(root, s) for s in sources] == [in_root(root, dest)], (
                "COPY --from must keep the path (the venv is not relocatable)"
            )
            continue
        target, into_directory = copy_destination(root, root, sources, dest)
        copy_into(sources, target, into_directory=into_directory)
    return [in_root(root, item) for item in entrypoint_argv(final)]


@dataclass(frozen=True)
class Image:
    """The Dockerfile replayed under `root`: its ENTRYPOINT argv, venv and built wheel."""

    root: Path
    argv: list[str]

    @property
    def venv_python(self) -> Path:
        return Path(self.argv[0])

    @property
    def venv(self) -> Path:
        return self.venv_python.parents[1]

    @property
    def build_python(self) -> Path:
        return self.root / "opt" / "build" / "bin" / "python"

    @property
    def wheel(self) -> Path:
        wheels = list((self.root / "dist").glob("*.whl"))
        assert len(wheels) == 1, wheels
        return wheels[0]


@pytest.fixture(scope="module")
def image(stages: list[Stage], tmp_path_factory: pytest.TempPathFactory) -> Image:
    """One replay for every test of the image layout (it takes most of this file's time)."""
    root = tmp_path_factory.mktemp("image")
    return Image(root=root, argv=replay(stages, root))


@pytest.mark.e2e
def test_image_recipe_installs_and_the_entrypoint_downloads(image: Image, tmp_path: Path) -> None:
    argv = image.argv

    # The wheel carries the same action.yml the runner reads, and the venv has no pip.
    with zipfile.ZipFile(image.wheel) as wheel:
        packaged = wheel.read("codearts_check_logs/action.yml")
    assert packaged == ACTION_YML.read_bytes()
    venv_bin = Path(argv[0]).parent
    assert not (venv_bin / "pip").exists()

    # The container's view: /github/workspace is the working directory, /github/file_commands
    # holds the per-step files, and inputs arrive with their hyphens (FakeRunner does all three).
    runner = FakeRunner(tmp_path / "github", command=argv)
    with Simulator(token=TOKEN) as sim:
        inputs = {
            "sub-job-id": SUB_JOB_ID,
            "token": TOKEN,
            "endpoint": sim.base_url,
            "upload-artifact": "false",
            "timeout-seconds": "60",
        }
        # What a workflow's env could set for PATH; the image's ENTRYPOINT does not depend on it.
        result = runner.run(inputs, {"PATH": "/usr/bin:/bin", "GITHUB_REPOSITORY": "octo/demo"})
        expected = sim.zip_bytes(SUB_JOB_ID)
        served = sim.requests_for()

    assert result.returncode == 0, result.log
    assert len(served) == 1
    assert served[0].headers.get("X-Auth-Token") == TOKEN
    assert result.saved_files() == {f"codearts-check-logs/{SUB_JOB_ID}.zip": expected}
    outputs = result.outputs
    assert outputs["status"] == "success"
    assert outputs["file"] == f"codearts-check-logs/{SUB_JOB_ID}.zip"
    assert outputs["size"] == str(len(expected))
    results = json.loads(outputs["results"])
    assert [item["sub_job_id"] for item in results] == [SUB_JOB_ID]
    assert SUB_JOB_ID in result.summary
    written = runner.output_file.read_text(encoding="utf-8")
    for text in (result.stdout, result.stderr, result.summary, written):
        assert TOKEN not in text.replace(f"::add-mask::{TOKEN}", "")


# --- the image's venv: every module loads, only the locked packages, small ---------------

# Run by the venv's interpreter, isolated (-I), from an empty directory with a bare
# environment, so nothing from the checkout or the test's own venv can be found. It imports
# every module of the package (found by walking it, since modules move), every module that
# any of them names in an import statement, anywhere in the file (imports inside functions
# too; not those under `if TYPE_CHECKING:`), and every console script's target, then
# reports, as JSON, what failed and where each loaded module came from.
IMPORT_EVERYTHING = r"""
import ast, importlib, importlib.util, json, os, pkgutil, sys, sysconfig
from importlib import metadata

package, distribution = sys.argv[1], sys.argv[2]
also = json.loads(sys.argv[3])
failures = {}


def attempt(label, load):
    try:
        load()
    except BaseException as error:  # a module may even call sys.exit at import
        failures[label] = f"{type(error).__name__}: {error}"


def is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def named_imports(tree, package_of_module):
    # (module, names taken from it) for every import statement outside TYPE_CHECKING blocks.
    found = []
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package_of_module)
            found.append((base, [a.name for a in node.names if a.name != "*"]))
        pending.extend(ast.iter_child_nodes(node))
    return found


def import_from(base, names):
    module = importlib.import_module(base)
    for name in names:
        if not hasattr(module, name):
            importlib.import_module(f"{base}.{name}")


root = importlib.import_module(package)
modules = [package] + [
    info.name for info in pkgutil.walk_packages(root.__path__, package + ".")
]
for name in modules:
    if not name.endswith(".__main__"):  # importing __main__ would run it
        attempt(name, lambda name=name: importlib.import_module(name))
named = set(also)
for name in modules:
    spec = importlib.util.find_spec(name)
    source = spec.loader.get_source(name)
    own_package = name if spec.submodule_search_locations is not None else name.rpartition(".")[0]
    for base, names in named_imports(ast.parse(source), own_package):
        named.add(base)
        label = f"from {base} import {', '.join(names)}" if names else f"import {base}"
        attempt(f"{name}: {label}", lambda b=base, n=names: import_from(b, n))
for name in sorted(named):
    attempt(name, lambda name=name: importlib.import_module(name))
scripts = [
    ep for ep in metadata.distribution(distribution).entry_points if ep.group == "console_scripts"
]
for ep in scripts:
    attempt(f"console script {ep.name}", ep.load)

site = os.path.realpath(sysconfig.get_paths()["purelib"])
stdlib = {os.path.realpath(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib")}
origins = {"site-packages": set(), "stdlib": 0, "elsewhere": []}
for name, module in sorted(sys.modules.items()):
    file = getattr(module, "__file__", None)
    if not file:
        continue  # built in, frozen, or a namespace package
    file = os.path.realpath(file)
    if file.startswith(site + os.sep):
        origins["site-packages"].add(os.path.relpath(file, site).split(os.sep)[0])
    elif any(file.startswith(d + os.sep) for d in stdlib) and "site-packages" not in file:
        origins["stdlib"] += 1
    else:
        origins["elsewhere"].append(f"{name}: {file}")
origins["site-packages"] = sorted(origins["site-packages"])
installed = sorted(d.metadata["Name"] for d in metadata.distributions())
top_level = metadata.packages_distributions()
print(json.dumps({
    "modules": modules,
    "named": sorted(named),
    "scripts": [ep.name for ep in scripts],
    "failures": failures,
    "origins": origins,
    "installed": installed,
    "loaded_distributions": sorted(
        {dist for top in origins["site-packages"] for dist in top_level.get(top.split(".")[0], [])}
    ),
}))
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_names(lock: Path) -> dict[str, str]:
    """{normalized name: version} of the packages a pip-compile lock pins."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", lock.read_text("utf-8"), re.M)
    return {canonical(name): version for name, version in pins}


def entrypoint_imports() -> list[str]:
    """Modules the image's `entrypoint` script imports (it is not part of the wheel)."""
    tree = ast.parse((ROOT / "entrypoint").read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.fixture(scope="module")
def loaded(image: Image, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What IMPORT_EVERYTHING reports from the replayed image's venv."""
    empty = tmp_path_factory.mktemp("empty-cwd")
    result = subprocess.run(
        [
            str(image.venv_python),
            "-I",
            "-c",
            IMPORT_EVERYTHING,
            PACKAGE,
            "codearts-check-logs",
            json.dumps(entrypoint_imports()),
        ],
        cwd=empty,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


@pytest.mark.e2e
def test_every_product_module_and_everything_it_names_loads_in_the_image_venv(
    image: Image, loaded: dict[str, Any]
) -> None:
    assert loaded["failures"] == {}
    # The walk reached every module the wheel installs.
    wheel_modules = {
        name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for name in _wheel_names(image.wheel)
        if name.endswith(".py")
    }
    assert set(loaded["modules"]) == wheel_modules
    assert set(entrypoint_imports()) <= set(loaded["named"])
    assert "codearts-check-logs" in loaded["scripts"]
    # Every module came from the venv or the interpreter's standard library: none from
    # the checkout, the test's venv or the base interpreter's site-packages.
    assert loaded["origins"]["elsewhere"] == []
    assert PACKAGE in loaded["origins"]["site-packages"]


@pytest.mark.e2e
def test_image_venv_holds_exactly_the_locked_packages_and_stays_small(
    image: Image, loaded: dict[str, Any]
) -> None:
    locked: dict[str, str] = {}
    for name in RUNTIME_LOCKS:
        locked |= locked_names(REQUIREMENTS / f"{name}.txt")
    installed = {canonical(name) for name in loaded["installed"]}
    assert installed == set(locked) | {"codearts-check-logs"}
    for unused in ("pygithub", "cryptography", "pynacl", "pyjwt", "cffi"):
        assert unused not in installed
    # Everything the product loaded from site-packages belongs to a locked package.
    assert {canonical(d) for d in loaded["loaded_distributions"]} <= installed

    du = subprocess.run(["du", "-sb", str(image.venv)], capture_output=True, text=True, check=True)
    size = int(du.stdout.split()[0])
    print(f"image venv: {size} bytes (du -sb); wheel: {image.wheel.stat().st_size} bytes")
    assert size <= VENV_SIZE_LIMIT, f"/opt/venv would hold {size} bytes"


def _wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


@pytest.mark.e2e
def test_wheel_holds_only_the_product(image: Image, pyproject: dict[str, Any]) -> None:
    version = pyproject["project"]["version"]
    dist_info = f"{PACKAGE}-{version}.dist-info/"
    names = _wheel_names(image.wheel)
    outside = [n for n in names if not n.startswith((f"{PACKAGE}/", dist_info))]
    assert outside == [], "the wheel installs only the package and its metadata"
    sources = {
        path.relative_to(ROOT / "src").as_posix()
        for path in (ROOT / "src" / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert {n for n in names if n.startswith(f"{PACKAGE}/")} == sources | {f"{PACKAGE}/action.yml"}
    for name in names:
        parts = set(name.split("/"))
        assert not parts & {"devtools", "tests", "node_modules", "__pycache__"}, name


@pytest.mark.e2e
def test_no_simulator_or_test_double_ships_in_the_wheel(image: Image) -> None:
    names = _wheel_names(image.wheel)
    doubles = [n for n in names if re.search(r"simulat|double|fake|stub", n, re.I)]
    assert doubles == []
    with zipfile.ZipFile(image.wheel) as archive:
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    assert re.findall(r"^([\w.-]+) = ", scripts, re.M) == ["codearts-check-logs"]


@pytest.mark.e2e
def test_sdist_holds_only_sources_and_builds_the_same_wheel(image: Image, tmp_path: Path) -> None:
    """tools/build-dists.sh (the release's build) offline, with the image's build backend."""
    out = tmp_path / "dist"
    result = subprocess.run(
        [str(ROOT / "tools" / "build-dists.sh"), str(out)],
        env=clean_pip_env(tmp_path, {"BUILD_PYTHON": str(image.build_python)}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    sdists = list(out.glob("*.tar.gz"))
    wheels = list(out.glob("*.whl"))
    assert len(sdists) == 1
    assert len(wheels) == 1
    with tarfile.open(sdists[0]) as sdist:
        members = [m.name.split("/", 1)[1] for m in sdist.getmembers() if m.isfile()]
    allowed_top = {"src", "action.yml", "LICENSE", "README.md", "SECURITY.md"}
    allowed_top |= {"pyproject.toml", "PKG-INFO", ".gitignore"}
    assert {member.split("/")[0] for member in members} <= allowed_top
    assert all(m.startswith(f"src/{PACKAGE}/") for m in members if m.startswith("src/"))
    assert not [m for m in members if "__pycache__" in m or m.endswith(".pyc")]

    # The wheel from the sdist has the same files, byte for byte, as the image's.
    def contents(wheel: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(wheel) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    assert contents(wheels[0]) == contents(image.wheel)


# --- action.yml, Dockerfile, .dockerignore, locks and pyproject agree ----------------------


def test_dockerfile_stages_share_one_digest_pinned_slim_base(stages: list[Stage]) -> None:
    assert len(stages) == 2, "builder + final"
    assert stages[0].name, "the first stage is the named builder"
    assert stages[1].name is None
    assert stages[0].base == stages[1].base
    assert FROM_LINE.match(stages[0].base), stages[0].base
    for stage in stages:
        assert not stage.all("USER"), "GitHub runs container actions as root: no USER"
    env = parse_env(" ".join(stages[1].all("ENV")))
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR"):
        assert env.get(name) == "1", name


def test_entrypoint_path_and_interpreter_come_from_the_dockerfile(stages: list[Stage]) -> None:
    builder, final = stages
    argv = entrypoint_argv(final)
    assert all(item.startswith("/") for item in argv), "absolute paths only (WORKDIR is not kept)"
    interpreter, script = argv[0], argv[-1]

    copied = {
        dest: sources
        for source_stage, sources, dest in map(copy_args, final.all("COPY"))
        if source_stage is None
    }
    assert copied.get(script) == ["entrypoint"], "ENTRYPOINT must run the copied entrypoint"
    venv = str(Path(interpreter).parents[1])
    assert any(f"venv --without-pip {venv}" in run for run in builder.all("RUN"))
    assert (f"--from={builder.name}", venv, venv) in [
        (args.split()[0], *args.split()[1:]) for args in final.all("COPY")
    ]

    entrypoint = ROOT / "entrypoint"
    text = entrypoint.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env python3\n"), "a Python script, not /bin/sh"
    assert "from codearts_check_logs.entry.action import main" in text
    assert entrypoint.stat().st_mode & stat.S_IXUSR, "entrypoint must be executable"


def test_action_yml_runs_the_dockerfile_or_a_digest_pinned_release_image(
    action: dict[str, Any],
) -> None:
    runs = action["runs"]
    assert runs["using"] == "docker"
    image = runs["image"]
    assert image == "Dockerfile" or RELEASED_IMAGE.match(image), (
        f"runs.image must be Dockerfile (main) or a GHCR image by digest (release): {image!r}"
    )
    assert "entrypoint" not in runs, "the image's ENTRYPOINT runs the action"
    assert "args" not in runs, "the action reads INPUT_* variables, not arguments"
    for text in (image, ACTION_YML.read_text(encoding="utf-8")):
        assert not re.search(r"<[A-Z_ ]+>|REPLACE_ME|TODO|@sha256:0{64}", text)


def test_every_input_has_a_description_and_a_string_default_or_is_required(
    action: dict[str, Any],
) -> None:
    inputs = action["inputs"]
    assert inputs
    for name, spec in inputs.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), f"input {name!r} is not kebab-case"
        assert isinstance(spec.get("description"), str), name
        assert spec["description"].strip(), name
        if spec.get("required") is True:
            assert "default" not in spec, f"required input {name!r} has a default"
        else:
            assert isinstance(spec.get("default"), str), f"{name!r}: default must be a string"
    for name, spec in action["outputs"].items():
        assert isinstance(spec.get("description"), str), name
        assert spec["description"].strip(), name


def test_dockerignore_lets_every_copied_file_into_the_context(stages: list[Stage]) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def included(relative: str) -> bool:
        keep = True
        for pattern in patterns:
            negated = pattern.startswith("!")
            glob = pattern.removeprefix("!").rstrip("/")
            if fnmatch.fnmatch(relative, glob) or relative.startswith(glob + "/"):
                keep = negated
        return keep

    for stage in stages:
        for source_stage, sources, _ in map(copy_args, stage.all("COPY")):
            if source_stage is not None:
                continue
            for source in sources:
                paths = [p for p in ROOT.glob(source.rstrip("/")) if p.exists()]
                assert paths, f"COPY source {source!r} does not exist"
                for path in paths:
                    files = (
                        [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
                    )
                    for file in files:
                        relative = file.relative_to(ROOT).as_posix()
                        if "__pycache__" in relative:
                            continue
                        assert included(relative), f"{relative} is excluded by .dockerignore"


def _requirement_lines(path: Path) -> list[str]:
    return sorted(
        "".join(line.split()).lower()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def _normalized(requirements: list[str]) -> list[str]:
    return sorted("".join(d.split()).lower() for d in requirements)


def test_requirement_inputs_mirror_pyproject(pyproject: dict[str, Any]) -> None:
    """runtime.in is what the CLI needs, runtime-nodeps.in the `action` extra: the lean
    install from PyPI and the image take the same packages, each from its own list."""
    project = pyproject["project"]
    assert _requirement_lines(REQUIREMENTS / "runtime.in") == _normalized(project["dependencies"])
    action = project["optional-dependencies"]["action"]
    assert _requirement_lines(REQUIREMENTS / "runtime-nodeps.in") == _normalized(action)
    build = sorted("".join(d.split()).lower() for d in pyproject["build-system"]["requires"])
    assert _requirement_lines(ROOT / "requirements" / "build.in") == build


@pytest.mark.parametrize("name", [*RUNTIME_LOCKS, "build"])
def test_locks_pin_every_package_with_hashes(name: str) -> None:
    text = (ROOT / "requirements" / f"{name}.txt").read_text(encoding="utf-8")
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace():
            blocks[-1].append(line)
        else:
            blocks.append([line])
    assert blocks
    for block in blocks:
        head = block[0].split()[0]
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[^\s\\]+", head), head
        assert any(re.search(r"--hash=sha256:[0-9a-f]{64}", line) for line in block), head
    for local_source in ("file://", "--find-links", "--index-url", "--extra-index-url"):
        assert local_source not in text


def test_nodeps_lock_pins_exactly_its_inputs_and_nothing_of_the_main_lock() -> None:
    """What goes in with --no-deps is pinned (==) in its .in, and its lock adds nothing."""
    inputs = _requirement_lines(REQUIREMENTS / "runtime-nodeps.in")
    assert inputs
    pinned = {}
    for line in inputs:
        name, sep, version = line.partition("==")
        assert sep, f"pin {line!r} to one version (==)"
        assert re.fullmatch(r"[\w.]+", version), line
        pinned[canonical(name)] = version
    nodeps = locked_names(REQUIREMENTS / "runtime-nodeps.txt")
    assert nodeps == pinned
    assert not set(nodeps) & set(locked_names(REQUIREMENTS / "runtime.txt"))


def test_dockerfile_copies_and_installs_every_runtime_lock(stages: list[Stage]) -> None:
    builder = stages[0]
    copied = [source for _, sources, _ in map(copy_args, builder.all("COPY")) for source in sources]
    installs = " ".join(builder.all("RUN"))
    on_disk = sorted(p.stem for p in REQUIREMENTS.glob("runtime*.txt"))
    assert on_disk == sorted(RUNTIME_LOCKS)
    for name in RUNTIME_LOCKS:
        assert f"requirements/{name}.txt" in copied
        assert f"-r requirements/{name}.txt" in installs
    assert "--require-hashes --no-deps" in installs


def test_lock_subset_keeps_the_header_and_only_the_named_blocks(tmp_path: Path) -> None:
    full = tmp_path / "full.txt"
    full.write_text(
        "#\n# autogenerated\n#\n"
        "actions-toolkit==0.1.15 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "    # via -r requirements/runtime-nodeps.in\n"
        "pygithub==2.10.0 \\\n    --hash=sha256:cc\n    # via actions-toolkit\n"
        "Requests==2.34.2 \\\n    --hash=sha256:dd\n    # via\n    #   actions-toolkit\n",
        encoding="utf-8",
    )
    wanted = tmp_path / "wanted.in"
    wanted.write_text("# comment\nActions_Toolkit==0.1.15  # why\nrequests>=2\n", "utf-8")
    tool = [sys.executable, str(ROOT / "tools" / "lock_subset.py"), str(full), str(wanted)]
    done = subprocess.run(tool, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "#\n# autogenerated\n#\n"
        "actions-toolkit==0.1.15 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "    # via -r requirements/runtime-nodeps.in\n"
        "Requests==2.34.2 \\\n    --hash=sha256:dd\n    # via\n    #   actions-toolkit\n"
    )
    wanted.write_text("absent==1.0\n", encoding="utf-8")
    refused = subprocess.run(tool, capture_output=True, text=True, check=False)
    assert refused.returncode == 1
    assert "absent" in refused.stderr


def test_image_version_label_defaults_to_the_package_version(
    stages: list[Stage], pyproject: dict[str, Any]
) -> None:
    args = dict(arg.split("=", 1) for arg in stages[-1].all("ARG") if "=" in arg)
    assert args.get("VERSION") == pyproject["project"]["version"]
    labels = " ".join(stages[-1].all("LABEL"))
    for key in ("source", "version", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert f'licenses="{pyproject["project"]["license"]}"' in labels


def test_release_tool_writes_a_digest_reference_and_refuses_tags(tmp_path: Path) -> None:
    copy = tmp_path / "action.yml"
    shutil.copy(ACTION_YML, copy)
    tool = [sys.executable, str(ROOT / "tools" / "set_action_image.py"), "--file", str(copy)]
    ref = "docker://ghcr.io/octo/codearts-check-logs@sha256:" + "ab" * 32

    refused = subprocess.run(
        [*tool, "docker://ghcr.io/octo/codearts-check-logs:v1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1
    assert copy.read_bytes() == ACTION_YML.read_bytes()

    done = subprocess.run([*tool, ref], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rewritten = yaml.safe_load(copy.read_text(encoding="utf-8"))
    original = yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))
    assert rewritten["runs"]["image"] == ref
    rewritten["runs"]["image"] = original["runs"]["image"]
    assert rewritten == original, "only runs.image may change"
    before = ACTION_YML.read_text(encoding="utf-8").splitlines()
    after = copy.read_text(encoding="utf-8").splitlines()
    assert [pair for pair in zip(before, after, strict=True) if pair[0] != pair[1]] == [
        ("  image: Dockerfile", f"  image: {ref}")
    ] or RELEASED_IMAGE.match(original["runs"]["image"])
