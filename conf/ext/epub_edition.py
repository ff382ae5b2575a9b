"""EPUB edition: the resolved doctree of each book part → one XHTML5 content document.

The ``bookepub`` builder writes, into its output directory, everything an EPUB 3 needs
except the package itself (``scripts/epub.py`` packages it with ebooklib):

- one content document per document of :func:`bookstructure.book_parts`, in reading
  order, with ``xml:lang``/``lang``, ``epub:type`` on ``<body>`` (frontmatter, bodymatter,
  backmatter) and on the part's ``<section>`` (chapter, preface, glossary, …) with the
  matching DPUB-ARIA role;
- the index (``genindex``) as a document of ``index-entry`` lists whose locators link to
  the chapters; a title page, a cover page, a colophon (unless the book has one) and the
  navigation document (table of contents and landmarks);
- ``package.json``: the spine, the table of contents, the landmarks and the metadata the
  packager needs, so the packager never has to guess.

Notes become pop-up footnotes the way Standard Ebooks marks them: each call is
``<a href="#note-N" id="noteref-N" epub:type="noteref" role="doc-noteref">N</a>`` and the
note is an ``<aside id="note-N" epub:type="footnote" role="doc-footnote">`` at the end of
the same chapter with one back-link per call (:func:`footnotes_to_asides`). Image sizes
become classes (:func:`image_sizes_to_classes`). Both are post-transforms restricted to
this builder: the web and print editions never see them. Every written document is
parsed again as XML and rejected if it is not well-formed or carries a script, an event
handler or an inline style (:func:`check_xhtml`).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import math_svg
from bookstructure import BookPart, book_parts, root_part_body
from docutils import nodes
from jinja2 import Environment, FileSystemLoader, select_autoescape
from lxml import etree
from markupsafe import Markup
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.environment.adapters.indexentries import IndexEntries
from sphinx.locale import __
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.osutil import relative_uri
from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

BUILDER = "bookepub"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "epub"
PACKAGE_JSON = "package.json"
CSS_HREF = "css/epub.css"
IMAGE_DIR = "images"
XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"

# epub:type of a part's section → its DPUB-ARIA role (None: the vocabulary has no role).
ARIA_ROLES: dict[str, str | None] = {
    "preface": "doc-preface", "foreword": "doc-foreword", "introduction": "doc-introduction",
    "prologue": "doc-prologue", "dedication": "doc-dedication", "epigraph": "doc-epigraph",
    "acknowledgments": "doc-acknowledgments", "colophon": "doc-colophon",
    "chapter": "doc-chapter", "part": "doc-part", "conclusion": "doc-conclusion",
    "epilogue": "doc-epilogue", "afterword": "doc-afterword", "appendix": "doc-appendix",
    "glossary": "doc-glossary", "bibliography": "doc-bibliography", "index": "doc-index",
    "endnotes": "doc-endnotes", "titlepage": None, "cover": None,
}

# The words the edition adds itself, in the languages the project's books are written in;
# other languages get English, marked as such with lang="en".
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "cover": "Cover", "titlepage": "Title Page", "toc": "Contents",
        "landmarks": "Landmarks", "colophon": "Colophon", "index": "Index",
        "bodymatter": "Start of the text", "published_by": "Published by",
        "typeset": "Set in EB Garamond.", "identifier": "Identifier", "date": "Date",
        "cover_alt": "Cover: {title}, by {author}", "by": "by",
        "backlink": "Back to the text", "backlink_n": "Back to call {n}",
    },
    "be": {
        "cover": "Вокладка", "titlepage": "Тытульны ліст", "toc": "Змест",
        "landmarks": "Арыенціры", "colophon": "Выхадныя звесткі", "index": "Паказальнік",
        "bodymatter": "Пачатак тэксту", "published_by": "Выдавец",
        "typeset": "Набрана шрыфтам EB Garamond.", "identifier": "Ідэнтыфікатар",
        "date": "Дата", "cover_alt": "Вокладка: {title}, {author}", "by": "",
        "backlink": "Назад да тэксту", "backlink_n": "Назад да спасылкі {n}",
    },
}


def labels_for(language: str) -> tuple[dict[str, str], str]:
    """The edition's own words for a book language, and the language they are in."""
    base = language.split("-")[0].lower()
    if base in LABELS:
        return LABELS[base], language
    return LABELS["en"], "en"


# -- Nodes ---------------------------------------------------------------------------------


class note_number(nodes.Inline, nodes.TextElement):
    """The number at the start of a note, as printed in the note."""


class note_backlink(nodes.Inline, nodes.TextElement):
    """A link from a note back to one of its calls (``refid``)."""


# -- Transforms (this builder only) --------------------------------------------------------


def _home_section(document: nodes.Element) -> nodes.Element:
    """Where a document's notes go: the end of its first top-level section."""
    for child in document.children:
        if isinstance(child, nodes.section):
            return child
    return document


def footnotes_to_asides(document: nodes.Element, labels: dict[str, str] | None = None) -> None:
    """Give every footnote and call the ids Standard Ebooks uses and move the notes to the
    end of the chapter, each with its number and one back-link per call.

    A note called twice stays one note: its calls are ``noteref-N`` and ``noteref-N-2``,
    and it gets two back-links. The note's content (italics, links, several paragraphs) is
    kept as it is; only its label becomes a ``note_number`` inside the first paragraph.
    """
    labels = labels or LABELS["en"]
    footnotes = list(document.findall(nodes.footnote))
    if not footnotes:
        return
    by_id = {fid: fn for fn in footnotes for fid in fn["ids"]}
    calls: dict[int, list[nodes.footnote_reference]] = {}
    for ref in document.findall(nodes.footnote_reference):
        footnote = by_id.get(ref.get("refid", ""))
        if footnote is not None:
            calls.setdefault(id(footnote), []).append(ref)
    home = _home_section(document)
    used: set[str] = set()
    for index, footnote in enumerate(footnotes, 1):
        label_node = footnote.children[0] if footnote.children else None
        if isinstance(label_node, nodes.label):
            number = label_node.astext()
            footnote.remove(label_node)
        else:
            number = str(index)
        key = nodes.make_id(number) or str(index)
        while f"note-{key}" in used:
            key += "-x"
        note_id = f"note-{key}"
        used.add(note_id)
        refs = calls.get(id(footnote), [])
        ref_ids = []
        for k, ref in enumerate(refs, 1):
            ref_id = f"noteref-{key}" if k == 1 else f"noteref-{key}-{k}"
            ref["ids"] = [ref_id]
            ref["refid"] = note_id
            ref_ids.append(ref_id)
        footnote["ids"] = [note_id]
        footnote["backrefs"] = ref_ids
        footnote["names"] = []

        first = footnote.children[0] if footnote.children else None
        if not isinstance(first, nodes.paragraph):
            first = nodes.paragraph()
            footnote.insert(0, first)
        first.insert(0, note_number("", number + "."))
        first.insert(1, nodes.Text(" "))
        last = footnote.children[-1]
        if not isinstance(last, nodes.paragraph):
            last = nodes.paragraph()
            footnote.append(last)
        for k, ref_id in enumerate(ref_ids, 1):
            # U+FE0E asks for the text glyph: without it iOS draws the arrow as an emoji
            text = "↩\ufe0e" if len(ref_ids) == 1 else f"↩\ufe0e {k}"
            aria = labels["backlink"] if len(ref_ids) == 1 else labels["backlink_n"].format(n=k)
            last += nodes.Text(" ")
            last += note_backlink("", text, refid=ref_id, label=aria)
        footnote.parent.remove(footnote)
        home += footnote


_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def image_sizes_to_classes(document: nodes.Element) -> list[nodes.image]:
    """Image and figure widths → ``width-NN`` classes (percentages rounded to tens); other
    sizes are dropped so that the reader's screen decides. Returns the images without
    alt text after the figure caption was tried."""
    for figure in document.findall(nodes.figure):
        width = figure.attributes.pop("width", None)
        if width and (match := _PERCENT.match(str(width))):
            figure["classes"].append(_width_class(float(match.group(1))))
    missing: list[nodes.image] = []
    for image in document.findall(nodes.image):
        width = image.attributes.pop("width", None)
        for key in ("height", "scale"):
            image.attributes.pop(key, None)
        if width and (match := _PERCENT.match(str(width))):
            image["classes"].append(_width_class(float(match.group(1))))
        if not image.get("alt", "").strip():
            caption = None
            if isinstance(image.parent, nodes.figure):
                caption = image.parent.next_node(nodes.caption)
            if caption is not None and caption.astext().strip():
                image["alt"] = caption.astext().strip()
            else:
                missing.append(image)
    return missing


def _width_class(percent: float) -> str:
    tens = min(100, max(10, int(round(percent / 10.0)) * 10))
    return f"width-{tens}"


class EpubNotes(SphinxPostTransform):
    """Footnotes → Standard Ebooks pop-up notes (the EPUB edition only)."""

    default_priority = 5
    builders = (BUILDER,)

    def run(self, **kwargs: Any) -> None:
        labels, _lang = labels_for(self.config.language or "en")
        footnotes_to_asides(self.document, labels)


class EpubRootToctrees(SphinxPostTransform):
    """The root document, when it is a part (an introduction), without its toctrees (the
    navigation document lists the parts, and they follow in the reading order) and the
    web edition's title-page lines (the EPUB has its title page)."""

    default_priority = 5
    builders = (BUILDER,)

    def run(self, **kwargs: Any) -> None:
        if self.env.docname == self.config.root_doc:
            root_part_body(self.document)


class EpubImages(SphinxPostTransform):
    """Image sizes → classes; an image with no alt text and no caption is an error."""

    default_priority = 5
    builders = (BUILDER,)

    def run(self, **kwargs: Any) -> None:
        for image in image_sizes_to_classes(self.document):
            logger.warning(
                f"image {image.get('uri', '')!r} has no alt text: give it an :alt: option "
                "(a short description of what it shows) or put it in a figure with a caption",
                location=_located(image), type="epub", subtype="alt",
            )


def _located(node: nodes.Node) -> nodes.Node:
    """The node itself or its nearest ancestor that knows its source line."""
    current: nodes.Node | None = node
    while current is not None:
        if current.line:  # myst gives images line 0
            return current
        current = current.parent
    return node


# -- Translator ------------------------------------------------------------------------------


class EpubTranslator(HTML5Translator):
    """HTML5 translator writing XHTML for e-readers: EPUB semantics, no inline styles."""

    builder: EpubEditionBuilder

    def __init__(self, document: nodes.document, builder: Any) -> None:
        super().__init__(document, builder)
        self._part_section_open = False
        self._glossary_depth = 0

    # Sections: the part's own section carries its epub:type and role.
    def visit_section(self, node: nodes.section) -> None:
        self.section_level += 1
        attrs: dict[str, str] = {}
        if self.section_level == 1 and not self._part_section_open:
            self._part_section_open = True
            part = self.builder.parts.get(self.builder.current_docname)
            if part is not None:
                attrs = section_semantics(part.role)
        self.body.append(self.starttag(node, "section", **attrs))

    # Notes.
    def visit_footnote_reference(self, node: nodes.footnote_reference) -> None:
        self.body.append(self.starttag(
            node, "a", suffix="", href="#" + node["refid"], CLASS="noteref",
            role="doc-noteref", **{"epub:type": "noteref"},
        ))
        self.body.append(self.encode(node.astext()))
        self.body.append("</a>")
        raise nodes.SkipNode

    def visit_footnote(self, node: nodes.footnote) -> None:
        self.body.append(self.starttag(
            node, "aside", CLASS="footnote", role="doc-footnote", **{"epub:type": "footnote"}
        ))

    def depart_footnote(self, node: nodes.footnote) -> None:
        self.body.append("</aside>\n")

    def visit_note_number(self, node: note_number) -> None:
        self.body.append(f'<span class="note-number">{self.encode(node.astext())}</span>')
        raise nodes.SkipNode

    def visit_note_backlink(self, node: note_backlink) -> None:
        self.body.append(self.starttag(
            node, "a", suffix="", href="#" + node["refid"], CLASS="note-backlink",
            role="doc-backlink", **{"epub:type": "backlink", "aria-label": node["label"]},
        ))
        self.body.append(self.encode(node.astext()) + "</a>")
        raise nodes.SkipNode

    # The bibliography: a list of entries, without the labels nothing refers to.
    def visit_citation(self, node: nodes.citation) -> None:
        if not isinstance(node.previous_sibling(), nodes.citation):
            self.body.append('<ul class="bibliography-list">\n')
        self.body.append(self.starttag(node, "li", CLASS="bibliography-entry"))

    def depart_citation(self, node: nodes.citation) -> None:
        self.body.append("</li>\n")
        if not isinstance(node.next_node(descend=False, siblings=True), nodes.citation):
            self.body.append("</ul>\n")

    def visit_label(self, node: nodes.label) -> None:
        if isinstance(node.parent, nodes.citation) and "cited" in node.parent["classes"]:
            # the text cites this entry by its label: "[1]" opens the entry, no back-links
            paragraph = node.parent.next_node(nodes.paragraph)
            if paragraph is not None:
                paragraph.insert(0, nodes.inline("", f"[{node.astext()}] ",
                                                 classes=["bibliography-label"]))
            raise nodes.SkipNode
        if isinstance(node.parent, nodes.citation | nodes.footnote):
            raise nodes.SkipNode
        super().visit_label(node)

    # The glossary: terms and definitions with their EPUB semantics.
    def visit_glossary(self, node: addnodes.glossary) -> None:
        self._glossary_depth += 1

    def depart_glossary(self, node: addnodes.glossary) -> None:
        self._glossary_depth -= 1

    def visit_term(self, node: nodes.term) -> None:
        if self._glossary_depth:
            self.body.append(self.starttag(node, "dt", "", **{"epub:type": "glossterm"}))
            self.body.append("<dfn>")
        else:
            super().visit_term(node)

    def depart_term(self, node: nodes.term) -> None:
        if self._glossary_depth:
            self.body.append("</dfn></dt>")
        else:
            super().depart_term(node)

    def visit_definition(self, node: nodes.definition) -> None:
        if self._glossary_depth:
            self.body.append(self.starttag(node, "dd", "", **{"epub:type": "glossdef"}))
        else:
            super().visit_definition(node)

    # Raw markup for other formats never reaches the EPUB; raw HTML must be well-formed
    # XHTML (check_xhtml rejects the document otherwise).
    def visit_raw(self, node: nodes.raw) -> None:
        if "html" in node.get("format", "").split():
            self.body.append(node.astext())
        raise nodes.SkipNode


# The pages this builder writes itself, besides the book's documents.
OWN_PAGES = frozenset({"cover", "titlepage", "nav", "colophon", "genindex"})
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def epub_file_names(docnames: frozenset[str] | set[str]) -> dict[str, str]:
    """A file name (without suffix) for every document, safe in an EPUB: a docname with
    spaces or letters outside ASCII ("Chapter One", "глава") is not a valid URL there, or
    trips older readers, so such a path segment becomes a slug (``chapter-one``,
    ``hlava``); a name taken by another document or by one of the builder's own pages
    gets a number."""
    from bookmeta import slugify

    taken = {name.casefold() for name in OWN_PAGES}
    names: dict[str, str] = {}
    # names already safe first, so that they keep their name
    for docname in sorted(docnames, key=lambda d: (not _safe(d), d)):
        base = "/".join(part if _SAFE_NAME.fullmatch(part) else slugify(part)
                        for part in docname.split("/"))
        name, n = base, 2
        while name.casefold() in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name.casefold())
        names[docname] = name
    return names


def _safe(docname: str) -> bool:
    return all(_SAFE_NAME.fullmatch(part) for part in docname.split("/"))


def section_semantics(role: str) -> dict[str, str]:
    """``epub:type`` and ARIA ``role`` for a part's section."""
    attrs = {"epub:type": role}
    aria = ARIA_ROLES.get(role)
    if aria:
        attrs["role"] = aria
    return attrs


# -- Checking what was written -----------------------------------------------------------------


@dataclass(frozen=True)
class XhtmlProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def check_xhtml(path: Path, shown: str | None = None) -> list[XhtmlProblem]:
    """Parse a written document as XML; report what an EPUB content document may not have."""
    shown = shown or str(path)
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        return [XhtmlProblem(shown, err.lineno or 0, f"not well-formed XHTML: {err.msg}")]
    problems = []
    for el in tree.iter(etree.Element):
        local = etree.QName(el).localname
        if local == "script":
            problems.append(XhtmlProblem(shown, el.sourceline or 0, "a <script> element"))
        for name in el.attrib:
            attr = etree.QName(name).localname
            if attr == "style":
                problems.append(XhtmlProblem(shown, el.sourceline or 0,
                                             f"an inline style on <{local}>: use a class"))
            elif attr.startswith("on"):
                problems.append(XhtmlProblem(shown, el.sourceline or 0,
                                             f"an event handler {attr} on <{local}>"))
    return problems


# -- The package description ---------------------------------------------------------------


@dataclass
class TocEntry:
    title: str
    href: str
    children: list[TocEntry] = field(default_factory=list)


@dataclass
class SpineItem:
    href: str
    title: str
    matter: str  # front | body | back
    role: str


@dataclass
class Landmark:
    type: str
    href: str
    title: str


@dataclass
class PackageDescription:
    """What ``scripts/epub.py`` needs to package the documents (written as package.json)."""

    book: dict[str, Any]  # BookMeta.as_dict()
    language: str
    spine: list[SpineItem]
    toc: list[TocEntry]
    landmarks: list[Landmark]
    cover_href: str  # where the packager puts the cover image
    cover_source: str  # the book's own cover file, or "" to draw one
    images: list[str]  # other image files, relative to the output directory
    has_index: bool
    has_glossary: bool
    labels: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)


# -- Builder -----------------------------------------------------------------------------------


class EpubEditionBuilder(StandaloneHTMLBuilder):
    """Writes the XHTML content documents of the EPUB edition (see the module docstring)."""

    name = BUILDER
    format = "html"
    epilog = __("The EPUB content documents are in %(outdir)s.")
    default_translator_class = EpubTranslator
    out_suffix = ".xhtml"
    link_suffix = ".xhtml"
    copysource = False
    supported_image_types = ["image/svg+xml", "image/png", "image/gif", "image/jpeg"]
    supported_remote_images = False
    supported_data_uri_images = False
    html_scaled_image_link = False
    add_permalinks = False
    allow_sharp_as_current_path = False
    embedded = True
    download_support = False
    search = False
    use_index = True

    def init(self) -> None:
        super().init()
        self.out_suffix = self.link_suffix = ".xhtml"
        self.imagedir = IMAGE_DIR
        self._images_dir = Path(self.outdir, IMAGE_DIR)
        self.use_index = True
        self.parts: dict[str, BookPart] = {}
        self.xhtml = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(["xhtml", "xml"], default=True),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def get_theme_config(self) -> tuple[str, dict[str, Any]]:
        return "basic", {}

    @property
    def math_renderer_name(self) -> str:
        return math_svg.RENDERER  # an EPUB has no scripts: formulas are set as SVG

    def init_js_files(self) -> None:
        self._js_files = []  # an EPUB without scripts

    def copy_static_files(self) -> None:
        pass  # the stylesheet and fonts are added by the packager

    def gen_pages_from_extensions(self) -> None:
        pass

    def gen_additional_pages(self) -> None:
        pass

    def write_domain_indices(self) -> None:
        pass

    def handle_finish(self) -> None:
        pass  # no search index, no inventory

    # -- documents ----------------------------------------------------------------------

    def prepare_writing(self, docnames: Any) -> None:
        super().prepare_writing(docnames)
        self.parts = {part.docname: part for part in book_parts(self.env)}
        self.labels, self.labels_lang = labels_for(self.config.language or "en")

    def get_target_uri(self, docname: str, typ: str | None = None) -> str:
        if docname in self.env.all_docs:
            return self.file_names().get(docname, docname) + self.link_suffix
        return docname + self.link_suffix  # a page this builder writes: cover, nav, …

    def file_names(self) -> dict[str, str]:
        """Each document's file name in the EPUB (see :func:`epub_file_names`)."""
        docnames = frozenset(self.env.all_docs)
        if getattr(self, "_file_names_for", None) != docnames:
            self._file_names = epub_file_names(docnames)
            self._file_names_for = docnames
        return self._file_names

    def write_doc(self, docname: str, doctree: nodes.document) -> None:
        doctree.settings = self.docsettings
        self.secnumbers = self.env.toc_secnumbers.get(docname, {})
        self.fignumbers = self.env.toc_fignumbers.get(docname, {})
        self.imgpath = relative_uri(self.get_target_uri(docname), self.imagedir)
        self.dlpath = relative_uri(self.get_target_uri(docname), "_downloads")
        self.current_docname = docname
        visitor = self.create_translator(doctree, self)
        doctree.walkabout(visitor)
        part = self.parts.get(docname)
        title_node = self.env.titles.get(docname)
        self.write_xhtml(docname, "content.xhtml", {
            "title": title_node.astext() if title_node is not None else "",
            "body": Markup("".join(visitor.fragment)),
            "matter": part.matter if part else "body",
        })

    def handle_page(self, pagename: str, addctx: dict[str, Any], templatename: str = "page.html",
                    *, outfilename: Path | None = None, event_arg: Any = None) -> None:
        pass  # every document this builder writes goes through write_xhtml

    def write_xhtml(self, pagename: str, template: str, context: dict[str, Any]) -> Path:
        uri = self.get_target_uri(pagename)
        book = self.config.book
        ctx = {
            "book": book,
            "lang": book.language,
            "labels": self.labels,
            "labels_lang": self.labels_lang,
            "css": relative_uri(uri, CSS_HREF),
            "pathto": lambda target: relative_uri(uri, target),
            **context,
        }
        text = self.xhtml.get_template(template).render(ctx)
        path = Path(self.outdir, uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    # -- the index ------------------------------------------------------------------------

    def write_genindex(self) -> None:
        if "genindex" not in self.parts:
            return
        groups = []
        for letter, entries in IndexEntries(self.env).create_index(self):
            items = []
            for name, (links, subitems, _key) in entries:
                items.append({
                    "term": name,
                    "locators": self._locators(links),
                    "subentries": [{"term": sub, "locators": self._locators(sublinks)}
                                   for sub, sublinks in subitems],
                })
            groups.append({"letter": letter, "id": "index-" + nodes.make_id(letter or "x"),
                           "entries": items})
        part = self.parts["genindex"]
        self.write_xhtml("genindex", "genindex.xhtml", {
            "title": self.labels["index"] if part.title == "Index" else part.title,
            "groups": groups, "matter": part.matter,
        })

    def _locators(self, links: list[tuple[Any, str]]) -> list[dict[str, str]]:
        """An entry's links, each shown as the number or title of the chapter it leads to;
        an ebook has no pages, so a second link into the same chapter adds nothing."""
        out: list[dict[str, str]] = []
        seen: set[str] = set()
        for _main, uri in links:
            docname = uri.split("#", 1)[0].removesuffix(self.link_suffix)
            part = self.parts.get(docname)
            text = docname if part is None else (part.number_text or part.title)
            if text not in seen:
                seen.add(text)
                out.append({"href": uri, "text": text})
        return out

    # -- generated documents and the package description ------------------------------------

    def finish(self) -> None:
        super().finish()
        self.finish_tasks.add_task(self.write_book_documents)

    def write_book_documents(self) -> None:
        book = self.config.book
        labels = self.labels
        parts = list(self.parts.values())
        cover_source = ""
        if book.cover:
            cover_path = (Path(self.srcdir) / book.cover).resolve()
            if not cover_path.is_file() or not cover_path.is_relative_to(Path(self.srcdir)):
                logger.warning(f"the cover {book.cover!r} is not a file inside the book",
                               location=("index", 1), type="epub", subtype="cover")
            else:
                cover_source = str(cover_path)
        suffix = Path(cover_source).suffix.lower() if cover_source else ".png"
        cover_href = f"{IMAGE_DIR}/cover{'.jpg' if suffix == '.jpeg' else suffix}"
        cover_alt = labels["cover_alt"].format(title=book.title, author=book.author)

        self.write_xhtml("cover", "cover.xhtml", {
            "title": labels["cover"], "cover_href": cover_href, "cover_alt": cover_alt,
        })
        self.write_xhtml("titlepage", "titlepage.xhtml", {"title": book.title})
        has_colophon = any(p.role == "colophon" for p in parts)
        if not has_colophon:
            self.write_xhtml("colophon", "colophon.xhtml", {"title": labels["colophon"]})

        # The contents page is in the reading order too (after the title page, as in print),
        # so that the landmarks may point at it.
        spine = [SpineItem("cover.xhtml", labels["cover"], "front", "cover"),
                 SpineItem("titlepage.xhtml", book.title, "front", "titlepage"),
                 SpineItem("nav.xhtml", labels["toc"], "front", "toc")]
        toc = [TocEntry(book.title, "titlepage.xhtml")]
        for part in parts:
            href = self.get_target_uri(part.docname)
            title = self._part_title(part)
            spine.append(SpineItem(href, title, part.matter, part.role))
            children = [TocEntry(sub_title, f"{href}#{anchor}")
                        for sub_title, anchor in section_titles(self.env, part.docname)]
            toc.append(TocEntry(title, href, children))
        if not has_colophon:
            spine.append(SpineItem("colophon.xhtml", labels["colophon"], "back", "colophon"))
            toc.append(TocEntry(labels["colophon"], "colophon.xhtml"))

        landmarks = [Landmark("cover", "cover.xhtml", labels["cover"]),
                     Landmark("titlepage", "titlepage.xhtml", labels["titlepage"]),
                     Landmark("toc", "nav.xhtml#toc", labels["toc"])]
        first_body = next((item for item in spine if item.matter == "body"), None)
        if first_body is not None:
            landmarks.append(Landmark("bodymatter", first_body.href, labels["bodymatter"]))
        for item in spine[3:]:
            if item.role in ("preface", "foreword", "introduction", "glossary",
                             "bibliography", "index", "colophon", "appendix", "endnotes"):
                landmarks.append(Landmark(item.role, item.href, item.title))

        self.write_xhtml("nav", "nav.xhtml", {
            "title": labels["toc"], "toc": toc, "landmarks": landmarks,
        })
        description = PackageDescription(
            book=book.as_dict(),
            language=book.language,
            spine=spine,
            toc=toc,
            landmarks=landmarks,
            cover_href=cover_href,
            cover_source=cover_source,
            images=self._images_used(spine, cover_href),
            has_index="genindex" in self.parts,
            has_glossary=any(p.role == "glossary" for p in parts),
            labels=labels,
        )
        Path(self.outdir, PACKAGE_JSON).write_text(description.to_json(), encoding="utf-8")

        problems: list[XhtmlProblem] = []
        for item in spine:
            if item.href == "genindex.xhtml" and not Path(self.outdir, item.href).exists():
                continue
            problems += check_xhtml(Path(self.outdir, item.href), item.href)
        documents = {self.get_target_uri(doc): doc for doc in self.env.all_docs}
        for problem in problems:
            docname = documents.get(problem.path, "")
            location = (docname, problem.line) if docname in self.env.all_docs else None
            logger.warning(f"EPUB: {problem.message} (in {problem.path}:{problem.line})",
                           location=location, type="epub", subtype="xhtml")

    def _images_used(self, spine: list[SpineItem], cover_href: str) -> list[str]:
        """The images the written documents show (all documents, also those an incremental
        build did not rewrite), relative to the output directory."""
        found: set[str] = set()
        for item in spine:
            path = Path(self.outdir, item.href)
            if not path.is_file():
                continue
            try:
                tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False,
                                                              no_network=True))
            except etree.XMLSyntaxError:
                continue  # reported by check_xhtml
            for src in tree.xpath("//x:img/@src", namespaces={"x": XHTML_NS}):
                href = posixpath.normpath(posixpath.join(posixpath.dirname(item.href), src))
                if href != cover_href and Path(self.outdir, href).is_file():
                    found.add(href)
        return sorted(found)

    def _part_title(self, part: BookPart) -> str:
        if part.docname == "genindex":
            return self.labels["index"] if part.title == "Index" else part.title
        return f"{part.number_text}. {part.title}" if part.number_text else part.title


def section_titles(env: Any, docname: str) -> list[tuple[str, str]]:
    """The second-level headings of a document (title with its number, anchor), from the
    environment's table of contents: known for every document, also in an incremental
    build that rewrites only some of them."""
    toc = env.tocs.get(docname)
    if toc is None:
        return []
    secnumbers = env.toc_secnumbers.get(docname, {})
    out = []
    for ref in toc.findall(nodes.reference):
        anchor = ref.get("anchorname", "")
        depth = sum(1 for a in _ancestors(ref) if isinstance(a, nodes.bullet_list))
        if not anchor or depth != 2:
            continue
        text = ref.astext()
        number = secnumbers.get(anchor)
        if number:
            text = ".".join(map(str, number)) + " " + text
        out.append((text, anchor.removeprefix("#")))
    return out


def _ancestors(node: nodes.Node) -> Any:
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("bookstructure")
    app.add_builder(EpubEditionBuilder)
    # Handlers registered under this builder's name: the ``html``-format handlers other
    # extensions register (the web edition's notes and citations) do not apply here.
    app.add_node(note_number, **{BUILDER: (EpubTranslator.visit_note_number, None)})
    app.add_node(note_backlink, **{BUILDER: (EpubTranslator.visit_note_backlink, None)})
    app.add_post_transform(EpubNotes)
    app.add_post_transform(EpubImages)
    app.add_post_transform(EpubRootToctrees)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
