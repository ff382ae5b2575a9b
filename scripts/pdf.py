"""PDF edition (not built yet: see the open issue for the pdf edition)."""

from __future__ import annotations

from pathlib import Path

from scripts.sphinx_run import BookPaths, BuildError


def build_pdf(paths: BookPaths) -> Path:
    raise BuildError("the pdf edition is not built yet (make pdf: not yet implemented)")
