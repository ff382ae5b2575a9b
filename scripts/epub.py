"""EPUB edition (not built yet: see the open issue for the epub edition)."""

from __future__ import annotations

from pathlib import Path

from scripts.sphinx_run import BookPaths, BuildError


def build_epub(paths: BookPaths) -> Path:
    raise BuildError("the epub edition is not built yet (make epub: not yet implemented)")
