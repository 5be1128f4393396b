# Image of the codearts-check-logs container action.
#
# Released versions of the action do not build this file: their action.yml names the
# image that .github/workflows/release.yml built from it and pushed to GHCR, by digest.
# On main, action.yml says `image: Dockerfile`, so `uses: ./` (the self-test) and
# anyone pinning a main commit build it here.
#
# Base image: python:3.13-slim (Python 3.13.16 on Debian 13 "trixie"), pinned by tag
# and by the digest of its multi-platform index, so linux/amd64 and linux/arm64 both
# resolve to fixed bits. Bump tag and digest together (Dependabot's docker updates do):
#   docker buildx imagetools inspect python:3.13-slim
# The same digest stands in both FROM lines; tests/packaging/test_image.py checks that.
#
# Python packages: every one comes from requirements/*.txt, which pin one version and
# the SHA-256 hashes of its files (pip --require-hashes refuses anything else).
# Regenerate them with tools/lock-requirements.sh after editing requirements/*.in.
# Only what the product imports is installed: runtime.txt locks the full closure of
# requests, PyYAML and tenacity; runtime-nodeps.txt locks actions-toolkit alone, whose
# declared PyGithub (with cryptography, PyNaCl, PyJWT: ~25 MB) no module we load needs.
#
# No USER: GitHub runs container actions as root so that the mounted workspace is
# writable. No WORKDIR is relied upon at run time: the runner mounts the workspace
# and makes it the working directory, so ENTRYPOINT uses absolute paths only, and it
# names the interpreter so that a workflow-level PATH cannot change which Python runs.

# --- builder: wheel of this project, then a virtual environment holding it ---------
FROM python:3.13-slim@sha256:70729b46c69b4f1e97c4822c1af3df53a1476cf5ddc6c087c0c10bc3a5678c2f AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src

# The build backend (hatchling) from its own hash-checked lock, in a throwaway venv.
COPY requirements/build.txt requirements/runtime.txt requirements/runtime-nodeps.txt \
     requirements/
RUN python -m venv /opt/build \
    && /opt/build/bin/python -m pip install --require-hashes --no-deps \
        -r requirements/build.txt

COPY pyproject.toml README.md LICENSE action.yml ./
COPY src/ src/

# The wheel is built without build isolation, so nothing unpinned is downloaded for it.
# The runtime venv has no pip of its own: the base image's pip installs into it
# (--python), first the locked dependencies (--require-hashes), then the wheel alone
# (--no-deps; it was built here, so it has no published hash to check). `pip check`
# would object to the absent PyGithub, so instead every module of the package is
# imported, isolated (-I), to prove the venv holds all that they load (a __main__
# module would run, so it is left out).
# tests/packaging/test_image.py runs these same commands on the CI machine.
RUN /opt/build/bin/python -m pip wheel --no-deps --no-build-isolation \
        --wheel-dir /dist . \
    && python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --require-hashes --no-deps \
        -r requirements/runtime.txt -r requirements/runtime-nodeps.txt \
    && python -m pip --python /opt/venv/bin/python install --no-deps /dist/*.whl \
    && /opt/venv/bin/python -I -c "import importlib, pkgutil, codearts_check_logs as p; \
[importlib.import_module(m.name) for m in pkgutil.walk_packages(p.__path__, 'codearts_check_logs.') \
if not m.name.endswith('.__main__')]"

# --- final: the base image, the venv and the entrypoint; nothing used to build -----
FROM python:3.13-slim@sha256:70729b46c69b4f1e97c4822c1af3df53a1476cf5ddc6c087c0c10bc3a5678c2f

# The release workflow passes the tag's version and the repository's URL.
ARG VERSION=1.0.0
ARG SOURCE=https://github.com/codearts-check-logs/codearts-check-logs

LABEL org.opencontainers.image.title="codearts-check-logs" \
      org.opencontainers.image.description="GitHub Action: download Huawei Cloud CodeArts Check sub-job logs and keep them as workflow artifacts" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH="/opt/venv/bin:${PATH}"

COPY --from=builder /opt/venv /opt/venv
COPY entrypoint /opt/codearts-check-logs/entrypoint

ENTRYPOINT ["/opt/venv/bin/python", "/opt/codearts-check-logs/entrypoint"]
