"""The tests mirror the package: every module has one test file a newcomer finds by name."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "codearts_check_logs"


def test_every_module_has_its_test_file() -> None:
    missing = []
    for module in sorted(PACKAGE.rglob("*.py")):
        if module.name == "__init__.py":
            continue
        relative = module.relative_to(PACKAGE)
        expected = ROOT / "tests" / "unit" / relative.parent / f"test_{relative.name}"
        if not expected.is_file():
            missing.append(str(expected.relative_to(ROOT)))
    assert missing == []


def test_every_test_folder_is_a_package() -> None:
    """Same-named test files in different folders (test_upload.py, …) need package paths."""
    folders = {path.parent for path in (ROOT / "tests").rglob("test_*.py")}
    assert [str(f) for f in sorted(folders) if not (f / "__init__.py").is_file()] == []
