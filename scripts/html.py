"""Web edition: book directory → Sphinx ``html`` builder (sphinx-book-theme) → BUILD/html/."""

from __future__ import annotations

from pathlib import Path

from scripts.sphinx_run import BookPaths, publish_dir, run_sphinx


def build_html(paths: BookPaths) -> Path:
    """Build the web edition; return ``BUILD/html/index.html``."""
    stage = run_sphinx(paths, "html")
    target = paths.build / "html"
    publish_dir(stage, target)
    return target / "index.html"
