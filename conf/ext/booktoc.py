"""Tables of contents from a project file (``myst.yml``, ``_toc.yml``) → toctrees.

A book made for mystmd or Jupyter Book lists its documents in a project file, not in
toctree directives (see ``ext/_project.py``). When the book has such a file, this
extension writes the toctrees into the documents' sources as Sphinx reads them
(``source-read``): the root document gets one toctree per group (a part's title as its
caption), and a document with children gets a toctree of its children. A document that
already has a toctree of its own is left as it is. Every edition then sees the book's
order as it would for a book written with toctrees.
"""

from __future__ import annotations

from typing import Any

from _project import Project, toctree_markdown
from sphinx.application import Sphinx


def add_toctrees(app: Sphinx, docname: str, source: list[str]) -> None:
    project: Project | None = app.config.book_project
    if project is None or project.path is None or "{toctree}" in source[0]:
        return
    if docname == project.root:
        source[0] += "".join(toctree_markdown(g.entries, g.caption, g.numbered)
                             for g in project.toc)
    elif docname in project.subtocs:  # numbered or not as the root's toctree says
        source[0] += toctree_markdown(project.subtocs[docname])


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("bookmeta")
    app.connect("source-read", add_toctrees)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
