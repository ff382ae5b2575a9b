"""Web edition: book directory → Sphinx ``html`` builder (sphinx-book-theme) → BUILD/html/."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from scripts.sphinx_run import CONF, BookPaths, publish_dir, run_sphinx


def root_document(book: Path) -> str:
    """The book's root docname: ``index``, or the one its project file names."""
    sys.path.insert(0, str(CONF / "ext"))
    try:
        from _project import read_project

        return read_project(book).root
    finally:
        sys.path.remove(str(CONF / "ext"))


def build_html(paths: BookPaths) -> Path:
    """Build the web edition; return ``BUILD/html/index.html`` (a copy of the root page
    when a project file names another root document, as Jupyter Book's ``intro``)."""
    stage = run_sphinx(paths, "html")
    root = root_document(paths.book)
    if root != "index":
        shutil.copyfile(stage / f"{root}.html", stage / "index.html")
    target = paths.build / "html"
    publish_dir(stage, target)
    return target / "index.html"
