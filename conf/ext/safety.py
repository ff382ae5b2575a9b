"""Safety: a book reads nothing outside its directory, fetches nothing, runs no script.

Authors' half-finished text and other people's books are built here; the build must
neither leak a file of the machine into an edition nor reach the network. Each refusal is
a warning with file and line (the build runs with warnings as errors, so it stops):

- images, figures and downloads must be files inside the book directory: no ``../``
  climbing out, no ``http://``, ``file://`` or other addresses (``check_paths``);
- ``{include}`` and ``{literalinclude}`` may only read files inside the book, and an
  include cycle is reported instead of recursing for ever;
- ``{raw}`` and ``{csv-table}`` may not read ``:file:`` or fetch ``:url:``;
- raw HTML in a chapter is limited to a small inline subset (``RAW_HTML_TAGS``) with
  harmless attributes; ``<script>``, ``<style>``, event handlers, ``<img>`` and any
  address but ``#fragment``, ``https:``/``http:`` links and ``mailto:`` are refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst.directives.misc import Raw
from docutils.parsers.rst.directives.tables import CSVTable
from lxml import etree
from lxml import html as lxml_html
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.directives.code import LiteralInclude
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
RAW_HTML_TAGS = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "del", "dfn", "em", "i", "ins",
    "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u",
    "var", "wbr",
})
RAW_HTML_ATTRIBUTES = frozenset({"class", "id", "lang", "title", "dir", "href", "datetime",
                                 "cite", "xml:lang"})
LINK_SCHEMES = ("http:", "https:", "mailto:")
INCLUDE_DEPTH_LIMIT = 16


def outside(path: str | Path, root: str | Path) -> bool:
    """True when ``path`` (resolved, symlinks followed) is not inside ``root``."""
    resolved = Path(path).resolve()
    return not resolved.is_relative_to(Path(root).resolve())


def raw_html_problems(html: str) -> list[str]:
    """What is not allowed in a piece of raw HTML (empty when it is harmless)."""
    text = html.strip()
    if not text or re.fullmatch(r"(?s)<!--.*?-->", text):
        return []
    if re.fullmatch(r"</[a-zA-Z][a-zA-Z0-9]*\s*>", text):  # a closing tag of inline markup
        tag = text[2:-1].strip().lower()
        return [] if tag in RAW_HTML_TAGS else [f"<{tag}> is not allowed"]
    problems: list[str] = []
    if re.search(r"<\s*(script|style|iframe|object|embed|link|meta|base|form)\b", text, re.I):
        problems.append("scripts, styles, frames, forms and embedded objects are not allowed")
    try:
        fragments = lxml_html.fragments_fromstring(text)
    except (etree.ParserError, ValueError):
        return problems or ["it cannot be parsed as HTML"]
    for fragment in fragments:
        if isinstance(fragment, str):
            continue
        for element in fragment.iter():
            if not isinstance(element.tag, str):  # comments, processing instructions
                continue
            tag = element.tag.lower()
            if tag not in RAW_HTML_TAGS:
                problems.append(f"<{tag}> is not allowed")
            for name, value in element.attrib.items():
                lname = name.lower()
                if lname.startswith("on"):
                    problems.append(f"the event handler {name}= is not allowed")
                elif lname not in RAW_HTML_ATTRIBUTES:
                    problems.append(f"the attribute {name}= is not allowed")
                elif lname in ("href", "cite") and not _safe_link(value):
                    problems.append(f"the address {value!r} is not allowed")
    return list(dict.fromkeys(problems))


def _safe_link(value: str) -> bool:
    value = value.strip()
    if value.startswith("#"):
        return True
    return value.lower().startswith(LINK_SCHEMES)


class CheckPathsAndRawHTML(SphinxTransform):
    """Refuse images outside the book or at an address, and unsafe raw HTML."""

    default_priority = 100  # before Sphinx collects images (doctree-read)

    def apply(self, **kwargs: Any) -> None:
        srcdir = self.env.srcdir
        for image in list(self.document.findall(nodes.image)):
            uri = image.get("uri", "")
            if uri.startswith("data:"):
                continue
            problem = self._path_problem(uri, srcdir)
            if problem:
                logger.warning(f"image {uri!r}: {problem}", location=image,
                               type="book", subtype="unsafe_path")
                image.parent.remove(image)
        for download in list(self.document.findall(addnodes.download_reference)):
            target = download.get("reftarget", "")
            problem = self._path_problem(target, srcdir)
            if problem:
                logger.warning(f"download {target!r}: {problem}", location=download,
                               type="book", subtype="unsafe_path")
                download.replace_self(nodes.Text(download.astext()))
        for raw in list(self.document.findall(nodes.raw)):
            if "html" not in raw.get("format", "").split():
                continue
            problems = raw_html_problems(raw.astext())
            if problems:
                logger.warning(
                    "raw HTML refused: " + "; ".join(problems)
                    + ". Use Markdown, or only inline tags such as <span>, <abbr>, <sup>.",
                    location=raw, type="book", subtype="raw_html",
                )
                raw.parent.remove(raw)

    def _path_problem(self, uri: str, srcdir: Path) -> str | None:
        if _SCHEME.match(uri) or uri.startswith("//"):
            return ("the build never fetches from an address; put the file inside the book "
                    "directory and refer to it by a relative path")
        if "*" in uri:
            return None  # Sphinx image candidates, e.g. figures/river.*; checked per file
        _rel, absolute = self.env.relfn2path(uri, self.env.docname)
        if outside(absolute, srcdir):
            return f"the file is outside the book directory {srcdir}"
        return None


def on_include_read(app: Sphinx, relative_path: Path, parent_docname: str,
                    content: list[str]) -> None:
    """Refuse includes from outside the book, and stop include cycles."""
    srcdir = app.env.srcdir
    docname = app.env.docname  # myst passes the file's stem, not the docname, as parent
    target = (srcdir / relative_path).resolve()
    if outside(target, srcdir):
        content[0] = ""
        logger.warning(f"include of {relative_path} refused: the file is outside the book "
                       f"directory {srcdir}", location=docname,
                       type="book", subtype="unsafe_path")
        return
    own_source = Path(app.env.doc2path(docname)).resolve()
    counts: dict[Path, int] = app.env.temp_data.setdefault("book_include_counts", {})
    counts[target] = counts.get(target, 0) + 1
    if target == own_source:  # a chapter including itself, directly or through others
        counts[target] = INCLUDE_DEPTH_LIMIT + 1
    if counts[target] > INCLUDE_DEPTH_LIMIT:
        content[0] = ""
        if counts[target] == INCLUDE_DEPTH_LIMIT + 1:
            logger.warning(f"include cycle: {relative_path} includes itself, directly or "
                           "through other includes", location=docname,
                           type="book", subtype="include_cycle")


class SafeLiteralInclude(LiteralInclude):
    """``literalinclude`` restricted to files inside the book."""

    def run(self) -> list[nodes.Node]:
        _rel, filename = self.env.relfn2path(self.arguments[0])
        if outside(filename, self.env.srcdir):
            return [self.state.document.reporter.warning(
                f"literalinclude of {self.arguments[0]!r} refused: the file is outside the "
                "book directory", line=self.lineno)]
        return super().run()


def _without_file_and_url(base: type) -> type:
    class Restricted(base):  # type: ignore[misc, valid-type]
        def run(self) -> list[nodes.Node]:
            for option in ("file", "url"):
                if option in self.options:
                    return [self.state.document.reporter.warning(
                        f"{self.name}: the :{option}: option is not allowed (a build reads "
                        "only the book's own text and fetches nothing)", line=self.lineno)]
            return super().run()

    Restricted.__name__ = f"Safe{base.__name__}"
    return Restricted


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(CheckPathsAndRawHTML)
    app.connect("include-read", on_include_read)
    app.add_directive("literalinclude", SafeLiteralInclude, override=True)
    app.add_directive("raw", _without_file_and_url(Raw), override=True)
    app.add_directive("csv-table", _without_file_and_url(CSVTable), override=True)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
