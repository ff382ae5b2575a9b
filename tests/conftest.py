"""Shared test helpers: the test books and a way to build them with the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_BOOK = ROOT / "tests" / "fixture-book"
MINIMAL_BOOK = ROOT / "tests" / "minimal-book"


@dataclass
class BuildResult:
    returncode: int
    stdout: str
    stderr: str
    build: Path


def run_build(book: Path, build: Path, *editions: str, env: dict[str, str] | None = None,
              timeout: float = 600) -> BuildResult:
    """Run ``python -m scripts.build`` as a user would; never raises on failure."""
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.build", *editions, "--book", str(book),
         "--build", str(build)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env=os.environ | (env or {}),
    )
    return BuildResult(proc.returncode, proc.stdout, proc.stderr, build)


@pytest.fixture(scope="session")
def fixture_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture book's web edition, built once per test session."""
    build = tmp_path_factory.mktemp("fixture-html")
    result = run_build(FIXTURE_BOOK, build, "html")
    assert result.returncode == 0, result.stderr
    return build / "html"


@pytest.fixture(scope="session")
def minimal_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("minimal-html")
    result = run_build(MINIMAL_BOOK, build, "html")
    assert result.returncode == 0, result.stderr
    return build / "html"
