"""The book's parts in reading order, with their place (front, body, back) and role.

Both the print and the EPUB edition need to know, for every document, where it stands
and what it is: a preface in the front matter, a numbered chapter, a glossary or a
bibliography in the back. An author says it in a document's front matter::

    ---
    matter: front          # front | body | back (default: body)
    role: preface          # optional; see ROLES
    ---

Without ``role``, a document that is mostly a ``{glossary}`` is the glossary, one that is
mostly a ``{bibliography}`` the bibliography (unless it is a numbered chapter of the
body), a front-matter document a preface, a back-matter document an appendix and a body
document a chapter. ``genindex`` in a toctree is the index.

The root document (``index.md``) usually holds only the book's metadata and its toctrees.
When it has text of its own (an introduction, as in many MyST books), it is a part too:
the first of the front matter, role ``introduction``, so that no edition drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)

MATTERS = ("front", "body", "back")
ROLES = (
    "preface", "foreword", "introduction", "prologue", "dedication", "epigraph",
    "acknowledgments", "colophon", "chapter", "part", "conclusion", "epilogue",
    "afterword", "appendix", "glossary", "bibliography", "index", "endnotes",
)
_DEFAULT_ROLE = {"front": "preface", "body": "chapter", "back": "appendix"}


@dataclass(frozen=True)
class BookPart:
    """One document of the book as the editions see it."""

    docname: str
    title: str
    matter: str  # front | body | back
    role: str  # one of ROLES
    number: tuple[int, ...] | None = None  # chapter number when the toctree is :numbered:

    @property
    def number_text(self) -> str:
        return ".".join(str(n) for n in self.number) if self.number else ""


# Paragraphs ext/bookmeta.py adds to a root document that has no heading of its own.
_GENERATED = frozenset({"book-subtitle", "book-author", "book-description"})


def _generated(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Element) and bool(_GENERATED & set(node["classes"]))


def has_own_content(doctree: nodes.Node) -> bool:
    """Whether a document holds more than a title, toctrees and generated title-page text."""
    def scaffolding(node: nodes.Node) -> bool:
        return _generated(node) or isinstance(node, (
            nodes.docinfo, nodes.title, addnodes.toctree, nodes.comment, nodes.target,
            nodes.system_message, nodes.meta))

    tree = doctree.deepcopy()
    for node in list(tree.findall(scaffolding)):
        if node.parent is not None:
            node.parent.remove(node)
    return bool(tree.astext().strip()) or any(True for _ in tree.findall(nodes.image))


def remove_toctrees(doctree: nodes.Node) -> None:
    """Take the toctrees (and their emptied wrappers) out of a document: in print and in the
    EPUB the parts they list follow as parts of their own."""
    for toctree in list(doctree.findall(addnodes.toctree)):
        wrapper = toctree.parent
        wrapper.remove(toctree)
        if isinstance(wrapper, nodes.compound) and not wrapper.children:
            wrapper.parent.remove(wrapper)


def root_part_body(doctree: nodes.Node) -> None:
    """The root document as a part of the print and EPUB editions: its own text, without
    the toctrees and without the title-page lines the web edition adds (those editions
    have a title page of their own)."""
    remove_toctrees(doctree)
    for node in list(doctree.findall(_generated)):
        node.parent.remove(node)


# Characters of text (besides headings) that a glossary or bibliography document may hold.
_OWN_TEXT_LIMIT = 300


def _collect(app: Sphinx, doctree: nodes.document) -> None:
    """doctree-read: note which documents hold a glossary or a bibliography, and whether
    the root document has text of its own."""
    env = app.env
    found = set()
    if env.docname == env.config.root_doc and has_own_content(doctree):
        found.add("content")
    # A document is the glossary or the bibliography when that is most of what it holds;
    # a chapter that ends with a short list of its own references stays a chapter.
    glossaries = list(doctree.findall(addnodes.glossary))
    apart = [*glossaries, *doctree.findall(nodes.title), *doctree.findall(nodes.footnote)]
    own_text = len(doctree.astext()) - sum(len(n.astext()) for n in apart)
    if own_text <= _OWN_TEXT_LIMIT:
        if glossaries:
            found.add("glossary")
        if any(node.__class__.__name__ == "bibliography" for node in doctree.findall(nodes.Element)):
            found.add("bibliography")
    roles: dict[str, set[str]] = env.__dict__.setdefault("book_found_roles", {})
    roles[env.docname] = found


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.__dict__.setdefault("book_found_roles", {}).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: Any, other: BuildEnvironment) -> None:
    mine = env.__dict__.setdefault("book_found_roles", {})
    for docname in docnames:
        mine[docname] = other.__dict__.get("book_found_roles", {}).get(docname, set())


def _check_metadata(app: Sphinx, env: BuildEnvironment) -> None:
    """env-updated: reject unknown ``matter``/``role`` values with file and line."""
    for docname, meta in env.metadata.items():
        for key, allowed in (("matter", MATTERS), ("role", ROLES)):
            value = meta.get(key)
            if value is not None and value not in allowed:
                logger.warning(
                    f"unknown {key} {value!r} in the front matter; use one of: "
                    + ", ".join(allowed),
                    location=(docname, 2), type="book", subtype=key,
                )


def toctree_order(env: BuildEnvironment) -> list[str]:
    """Every document in reading order (depth-first through the toctrees), the root first,
    with ``genindex`` where a toctree lists it."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(docname: str) -> None:
        if docname in seen:
            return
        seen.add(docname)
        order.append(docname)
        try:
            doctree = env.get_doctree(docname)
        except FileNotFoundError:
            return
        for toctree in doctree.findall(addnodes.toctree):
            for _title, ref in toctree["entries"]:
                if ref == "genindex":
                    if ref not in seen:
                        seen.add(ref)
                        order.append(ref)
                elif ref in env.all_docs:
                    visit(ref)

    visit(env.config.root_doc)
    return order


def book_parts(env: BuildEnvironment) -> list[BookPart]:
    """The book's documents in reading order; the root document only when it has text of
    its own (see the module docstring)."""
    found_roles: dict[str, set[str]] = env.__dict__.get("book_found_roles", {})
    parts: list[BookPart] = []
    order = toctree_order(env)
    root = env.config.root_doc
    if "content" in found_roles.get(root, set()):
        title_node = env.titles.get(root)
        parts.append(BookPart(root, title_node.astext() if title_node is not None else root,
                              "front", "introduction"))
    for docname in order[1:]:
        if docname == "genindex":
            parts.append(BookPart("genindex", "Index", "back", "index"))
            continue
        meta = env.metadata.get(docname, {})
        matter = str(meta.get("matter", "body"))
        if matter not in MATTERS:
            matter = "body"
        role = str(meta.get("role", ""))
        number = env.toc_secnumbers.get(docname, {}).get("")
        if role not in ROLES:
            found = found_roles.get(docname, set())
            role = _DEFAULT_ROLE[matter]
            # a numbered document of the body is a chapter, whatever list it ends with
            if matter != "body" or not number:
                role = ("glossary" if "glossary" in found else
                        "bibliography" if "bibliography" in found else role)
        title_node = env.titles.get(docname)
        title = title_node.astext() if title_node is not None else docname
        parts.append(BookPart(docname, title, matter, role, tuple(number) if number else None))
    return parts


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", _collect)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-updated", _check_metadata)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 3}
