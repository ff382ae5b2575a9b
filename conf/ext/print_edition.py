"""Print edition: the book's doctrees → one print HTML document (``printhtml`` builder).

The builder assembles every document of the book in reading order (``book_parts``) into one
tree, one ``print_part`` per document, and writes ``BUILD/.stage/printhtml/book.html`` with
its own minimal template (``conf/templates/print/book.html``: half-title, title page,
colophon, contents; no theme, no scripts) next to ``print.css`` and a manifest
(``book.json``) that ``scripts/pdf.py`` reads to check where the notes landed. The manifest
also gives, for the front pages and for every part, where its markup starts and ends in
``book.html`` (character offsets), so the chapter-parallel PDF (``scripts/pdf_parallel.py``)
can compose documents of a few parts without parsing the whole book.

Post-transforms, for this builder only (the web and EPUB editions never see them):

- ``PrintUniqueIds``: every id gets its document's prefix (``one--id3``), because each
  chapter numbers its own footnotes and ``index-0`` targets; references written as
  ``#document-x#y`` become plain ``#x--y`` links, and section and figure numbers are
  attached to the nodes before the ids they were keyed by change.
- ``PrintNotes``: each footnote's body is moved to its first call as a ``print_note``
  (``float: footnote`` in ``print.css``), labelled with the chapter's own number so call
  and note always agree; a label called again becomes a link to the same note; whitespace
  inside notes is collapsed (WeasyPrint would keep the source's line breaks).
- ``PrintPageRefs``: cross-references to sections, figures and parts get the class
  ``page-ref`` ("(p. 42)" is added by CSS with ``target-counter``).

The index (from the Sphinx index entries and glossary terms) is built as a part of the
tree where the toctree lists ``genindex``; its page numbers come from ``target-counter``.
Transforms set classes only; all presentation is in ``conf/css/print.css``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import math_svg
from _print_manifest import MANIFEST_NAME, PRINT_CSS, NoteRecord, PrintManifest
from bookstructure import BookPart, book_parts, remove_toctrees, root_part_body
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.singlehtml import SingleFileHTMLBuilder
from sphinx.environment.adapters.indexentries import IndexEntries
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset_file
from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

CONF = Path(__file__).resolve().parent.parent
TEMPLATES = CONF / "templates" / "print"
BUILDER = "printhtml"
HTML_NAME = "book.html"

# Words the print template and CSS-free parts of the tree need, by language (fallback: en).
LABELS: dict[str, dict[str, str]] = {
    "en": {"contents": "Contents", "index": "Index", "edition": "This edition",
           "sources": "Sources of the text", "set_in": "Set in", "and": "and",
           "made_with": "Typeset with WeasyPrint from MyST Markdown sources."},
    "be": {"contents": "Змест", "index": "Паказальнік", "edition": "Гэта выданне",
           "sources": "Крыніцы тэксту", "set_in": "Набрана шрыфтамі", "and": "і",
           "made_with": "Звёрстана WeasyPrint з крыніц у MyST Markdown."},
    "ru": {"contents": "Содержание", "index": "Указатель", "edition": "Это издание",
           "sources": "Источники текста", "set_in": "Набрано шрифтами", "and": "и",
           "made_with": "Свёрстано WeasyPrint из исходников MyST Markdown."},
}


def labels_for(language: str) -> dict[str, str]:
    return LABELS.get(language.split("-")[0].lower(), LABELS["en"])


def doc_anchor(docname: str) -> str:
    """The id of a document's part in the print document (the manifest records it for
    scripts/pdf_parallel.py)."""
    return "document-" + id_prefix(docname)


def id_prefix(docname: str) -> str:
    """A docname as it can stand in an id: no slashes, no white space."""
    return re.sub(r"[/\s]", "-", docname)


# -- Nodes -----------------------------------------------------------------------------


class print_part(nodes.General, nodes.Element):
    """One document of the book: a front-, body- or back-matter part with its role."""


class print_note(nodes.Inline, nodes.Element):
    """A footnote's body at its call (floated to the foot of the page by print.css)."""


class print_note_anchor(nodes.Inline, nodes.Element):
    """An empty mark at a note's call that keeps the call's id (to find its page)."""


# -- Transforms ------------------------------------------------------------------------


class PrintUniqueIds(SphinxPostTransform):
    """Prefix every id with its document, and point every internal link at the new id."""

    default_priority = 20  # after ReferencesResolver (10): links are resolved by now
    builders = (BUILDER,)

    def run(self, **kwargs: Any) -> None:
        idmap: dict[tuple[str, str], str] = {}
        std = self.env.domains.standard_domain
        numfig_format = self.config.numfig_format
        for part in self.document.findall(print_part):
            docname = part["docname"]
            prefix = id_prefix(docname)
            secnums = self.env.toc_secnumbers.get(docname, {})
            fignums = self.env.toc_fignumbers.get(docname, {})
            first_section = True
            for node in part.findall(nodes.Element):
                if node is part:
                    continue
                if isinstance(node, nodes.section) and node.children and isinstance(
                        node[0], nodes.title):
                    number = secnums.get("#" + node["ids"][0]) if node["ids"] else None
                    if number is None and first_section:
                        number = secnums.get("")
                    first_section = False
                    if number:
                        node[0]["secnumber"] = tuple(number)
                if isinstance(node, nodes.math_block) and node.get("number") and node["ids"]:
                    number = fignums.get("displaymath", {}).get(node["ids"][0])
                    if number:  # as the {eq} role prints it: (1.1)
                        node["eqnumber"] = self.config.math_numsep.join(
                            ".".join(map(str, number)).rsplit(".", 1))
                figtype = std.get_enumerable_node_type(node)
                if figtype and node["ids"] and figtype in numfig_format:
                    number = fignums.get(figtype, {}).get(node["ids"][0])
                    if number:
                        node["print_fignumber"] = numfig_format[figtype] % ".".join(
                            map(str, number))
                fresh = []
                for old in node["ids"]:
                    new = f"{prefix}--{old}"
                    idmap[(docname, old)] = new
                    fresh.append(new)
                node["ids"] = fresh
        for part in self.document.findall(print_part):
            docname = part["docname"]
            for node in part.findall(nodes.Element):
                if node.get("refid"):
                    node["refid"] = idmap.get((docname, node["refid"]), node["refid"])
                if node.get("backrefs"):
                    node["backrefs"] = [idmap.get((docname, b), b) for b in node["backrefs"]]
                refuri = node.get("refuri")
                if isinstance(refuri, str) and refuri.startswith("#"):
                    target = _local_target(refuri, docname, idmap, self.app.builder)
                    if target:
                        del node["refuri"]
                        node["refid"] = target
                        node["internal"] = True
        self.app.builder.print_ids = idmap  # type: ignore[attr-defined]


def _local_target(refuri: str, docname: str, idmap: dict[tuple[str, str], str],
                  builder: Any) -> str | None:
    """``#document-x#y`` / ``#document-x`` / ``#y`` → the id in the print document."""
    pieces = refuri.split("#")[1:]
    anchors: dict[str, str] = getattr(builder, "anchor_docs", {})
    if pieces and pieces[0] in anchors:
        target_doc = anchors[pieces[0]]
        if len(pieces) == 1 or not pieces[1]:
            return pieces[0]
        return idmap.get((target_doc, pieces[1]), pieces[1])
    if len(pieces) == 1:
        return idmap.get((docname, pieces[0]), pieces[0])
    return None


class PrintNotes(SphinxPostTransform):
    """Footnotes → ``print_note`` at their first call; later calls link to that note."""

    default_priority = 30
    builders = (BUILDER,)

    def run(self, **kwargs: Any) -> None:
        records: list[NoteRecord] = []
        for part in self.document.findall(print_part):
            records.extend(place_notes(part, part["docname"]))
        self.app.builder.print_notes = records  # type: ignore[attr-defined]


def place_notes(root: nodes.Element, docname: str) -> list[NoteRecord]:
    """Move each footnote of ``root`` to its first call; return where each note went."""
    footnotes = {fid: fn for fn in root.findall(nodes.footnote) for fid in fn["ids"]}
    records: list[NoteRecord] = []
    placed: dict[str, print_note] = {}
    pending: list[tuple[nodes.footnote_reference, nodes.footnote]] = []
    for ref in list(root.findall(nodes.footnote_reference)):
        footnote = footnotes.get(ref.get("refid", ""))
        if footnote is None:
            continue
        label = note_label(footnote, ref)
        key = footnote["ids"][0]
        if key in placed or _inside(ref, (nodes.footnote, print_note)):
            # a second call, or a call inside a note (notes cannot nest): a link to the note
            link = nodes.reference("", label, refid=key, internal=True,
                                   ids=list(ref["ids"]), classes=["note-ref"])
            if key not in placed:  # called from inside a note: placed after that note
                pending.append((link, footnote))
            ref.replace_self(link)
            continue
        note = footnote_to_note(footnote, label)
        placed[key] = note
        ref.replace_self([print_note_anchor("", ids=list(ref["ids"])), note])
        records.append(NoteRecord(docname, label, ref["ids"][0] if ref["ids"] else "", key,
                                  note.astext()[:60]))
    for link, footnote in pending:  # called only from inside other notes
        key = footnote["ids"][0]
        if key in placed:
            continue
        outer = _outermost_note(link)
        if outer is None:
            continue
        note = footnote_to_note(footnote, note_label(footnote, link))
        anchor_id = f"{key}-call"
        outer.parent.insert(outer.parent.index(outer) + 1,
                            [print_note_anchor("", ids=[anchor_id]), note])
        placed[key] = note
        records.append(NoteRecord(docname, note["label"], anchor_id, key, note.astext()[:60]))
    for key, footnote in footnotes.items():
        if key in placed and footnote.parent is not None:
            footnote.parent.remove(footnote)
    return records


def _outermost_note(node: nodes.Node) -> print_note | None:
    """The placed note that now holds ``node`` (a call from inside another note)."""
    found = None
    node = node.parent
    while node is not None:
        if isinstance(node, print_note):
            found = node
        node = node.parent
    return found


def note_label(footnote: nodes.footnote, ref: nodes.Node) -> str:
    if footnote.children and isinstance(footnote[0], nodes.label):
        return footnote[0].astext()
    return ref.astext()


def footnote_to_note(footnote: nodes.footnote, label: str) -> print_note:
    """A footnote's content as an inline ``print_note`` (it will sit inside a paragraph)."""
    note = print_note("", ids=list(footnote["ids"]), label=label,
                      classes=["footnote", *footnote["classes"]])
    # the children move (not copies), so a call inside this note can still be found
    for child in list(footnote.children):
        if isinstance(child, nodes.label):
            continue
        note += block_as_inline(child)
    collapse_whitespace(note)
    return note


def block_as_inline(node: nodes.Node) -> nodes.Node:
    """Block markup → spans with classes, so a note's body can sit inside a ``<p>``."""
    if isinstance(node, nodes.Text) or isinstance(node, nodes.Inline | nodes.TextElement) \
            and not isinstance(node, nodes.paragraph):
        return node
    if isinstance(node, nodes.paragraph):
        return nodes.inline("", "", *node.children, classes=["note-para", *node["classes"]])
    assert isinstance(node, nodes.Element)
    span = nodes.inline("", "", classes=["note-block", f"note-{node.tagname}",
                                         *node["classes"]])
    for child in node.children:
        span += block_as_inline(child)
    return span


def collapse_whitespace(note: nodes.Element) -> None:
    """Runs of whitespace (source line breaks) → one space; none at the note's edges."""
    texts = list(note.findall(nodes.Text))
    for index, text in enumerate(texts):
        value = re.sub(r"\s+", " ", str(text))
        if index == 0:
            value = value.lstrip()
        if index == len(texts) - 1:
            value = value.rstrip()
        if value != str(text):
            text.parent.replace(text, nodes.Text(value))


def _inside(node: nodes.Node, kinds: tuple[type, ...]) -> bool:
    node = node.parent
    while node is not None:
        if isinstance(node, kinds):
            return True
        node = node.parent
    return False


class PrintPageRefs(SphinxPostTransform):
    """Links to sections, figures, tables and parts get ``page-ref`` ("p. 42" in CSS)."""

    default_priority = 40
    builders = (BUILDER,)

    def run(self, **kwargs: Any) -> None:
        std = self.env.domains.standard_domain
        targets: set[str] = set()
        for node in self.document.findall(nodes.Element):
            if isinstance(node, nodes.section | print_part) or (
                    std.get_enumerable_node_type(node) is not None):
                targets.update(node["ids"])
        for ref in self.document.findall(nodes.reference):
            if ref.get("refid") in targets and not {"note-ref", "index-page"} & set(
                    ref["classes"]) and not _inside(ref, (nodes.title,)):
                ref["classes"].append("page-ref")


# -- Builder ---------------------------------------------------------------------------


class PrintTranslator(HTML5Translator):
    """HTML5 for print: no permalinks, chapter numbers apart, notes as spans."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # docname → [first, last) index into self.body of its part's markup
        self.part_marks: dict[str, list[int]] = {}

    def visit_start_of_file(self, node: nodes.Element) -> None:
        self.docnames.append(node["docname"])  # the part carries the document's id

    def get_secnumber(self, node: nodes.Element) -> tuple[int, ...] | None:
        return node.get("secnumber") or None

    def add_secnumber(self, node: nodes.Element) -> None:
        number = self.get_secnumber(node)
        if not number:
            return
        text = ".".join(map(str, number))
        if len(number) == 1 and isinstance(node.parent, nodes.section) and isinstance(
                node.parent.parent, addnodes.start_of_file):
            self.body.append(f'<span class="chapter-number">{text}</span> ')
        else:
            self.body.append(f'<span class="section-number">{text}</span> ')

    def add_fignumber(self, node: nodes.Element) -> None:
        if node.get("print_fignumber"):
            self.body.append(
                f'<span class="caption-number">{self.encode(node["print_fignumber"])}</span> ')


def visit_print_part(self: HTML5Translator, node: print_part) -> None:
    classes = ["part", f"{node['matter']}-matter", f"role-{node['role']}"]
    if node.get("first_body"):
        classes.append("first-body")
    marks = getattr(self, "part_marks", None)
    if marks is not None:
        marks[node["docname"]] = [len(self.body)]
    self.body.append(self.starttag(node, "section", "", CLASS=" ".join(classes),
                                   ids=[doc_anchor(node["docname"])],
                                   **{"data-running-head": node["title"]}))


def depart_print_part(self: HTML5Translator, node: print_part) -> None:
    self.body.append("</section>\n")
    marks = getattr(self, "part_marks", None)
    if marks is not None:
        marks[node["docname"]].append(len(self.body))


def visit_print_note(self: HTML5Translator, node: print_note) -> None:
    self.body.append(self.starttag(node, "span", "", role="doc-footnote",
                                   **{"data-label": node["label"]}))


def depart_print_note(self: HTML5Translator, node: print_note) -> None:
    self.body.append("</span>")


def visit_print_note_anchor(self: HTML5Translator, node: print_note_anchor) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="note-call-mark") + "</span>")
    raise nodes.SkipNode


class PrintHTMLBuilder(SingleFileHTMLBuilder):
    """The whole book as one HTML document for print (rendered to PDF by WeasyPrint)."""

    name = BUILDER
    format = "html"
    epilog = "The print HTML is in %(outdir)s."
    search = False
    add_permalinks = False
    default_translator_class = PrintTranslator

    def init(self) -> None:
        super().init()
        self.print_ids: dict[tuple[str, str], str] = {}
        self.print_notes: list[NoteRecord] = []
        self.anchor_docs: dict[str, str] = {}

    def get_theme_config(self) -> tuple[str, dict[str, Any]]:
        return "basic", {}  # never the web theme: its chrome and scripts must not leak

    @property
    def math_renderer_name(self) -> str:
        return math_svg.RENDERER  # no scripts in print: formulas are set as SVG

    def init_js_files(self) -> None:
        self.script_files = []

    def init_css_files(self) -> None:
        self.css_files = []

    def get_target_uri(self, docname: str, typ: str | None = None) -> str:
        return "#" + doc_anchor(docname)

    def parts(self) -> list[BookPart]:
        return book_parts(self.env)

    def assemble_doctree(self) -> nodes.document:
        root = self.config.root_doc
        tree = self.env.get_doctree(root)
        del tree[:]  # the root document's toctrees become the parts below
        tree["docname"] = root
        labels = labels_for(self.config.book.language)
        first_body = True
        self.anchor_docs = {doc_anchor(p.docname): p.docname for p in self.parts()}
        for part_info in self.parts():
            title = labels["index"] if part_info.role == "index" else part_info.title
            part = print_part("", docname=part_info.docname, matter=part_info.matter,
                              role=part_info.role, title=title)
            if part_info.matter == "body" and first_body:
                part["first_body"] = True
                first_body = False
            start = addnodes.start_of_file(docname=part_info.docname)
            if part_info.docname == "genindex":
                start += self.index_section(title)
            else:
                doctree = self.env.get_doctree(part_info.docname)
                if part_info.docname == root:
                    root_part_body(doctree)
                else:
                    remove_toctrees(doctree)
                start.extend(doctree.children)
                for section in start.findall(nodes.section):
                    section.setdefault("docname", part_info.docname)
            part += start
            tree += part
        self.env.resolve_references(tree, root, self)
        return tree

    def index_section(self, title: str) -> nodes.section:
        """The book's index: index entries and glossary terms, pages by target-counter."""
        section = nodes.section("", nodes.title(title, title), ids=["index"])
        entries = IndexEntries(self.env).create_index(self)
        order = {doc_anchor(p.docname): i for i, p in enumerate(self.parts())}

        def in_reading_order(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
            """Page references in reading order (Sphinx lists main entries first)."""
            def key(link: tuple[str, str]) -> tuple[int, int, str]:
                _, anchor, target = (link[1].split("#") + ["", ""])[:3]
                number = re.search(r"(\d+)$", target)
                return order.get(anchor, len(order)), int(number[1]) if number else -1, target
            return sorted(dict.fromkeys(links), key=key)
        body = nodes.container(classes=["index-entries"])
        for letter, items in entries:
            group = nodes.container(classes=["index-group"])
            group += nodes.rubric(letter, letter, classes=["index-letter"])
            listing = nodes.bullet_list(classes=["index-list"])
            for name, (links, subitems, _key) in items:
                item = nodes.list_item(classes=["index-entry"])
                item += nodes.paragraph("", "", nodes.Text(name),
                                        *_index_links(in_reading_order(links)))
                if subitems:
                    sub = nodes.bullet_list(classes=["index-sublist"])
                    for subname, sublinks in subitems:
                        sub += nodes.list_item(
                            "", nodes.paragraph("", "", nodes.Text(subname),
                                                *_index_links(in_reading_order(sublinks))),
                            classes=["index-subentry"])
                    item += sub
                listing += item
            group += listing
            body += group
        section += body
        return section

    def write_documents(self, _docnames: Any) -> None:
        self.prepare_writing(self.env.all_docs.keys())
        doctree = self.assemble_doctree()
        self.imgpath = "_images"
        self.post_process_images(doctree)
        self.write_doc(self.config.root_doc, doctree)

    def write_doc(self, docname: str, doctree: nodes.document) -> None:
        doctree.settings = self.docsettings
        self.secnumbers = {}
        self.fignumbers = {}
        self.imgpath = "_images"
        self.current_docname = docname
        visitor = self.create_translator(doctree, self)
        doctree.walkabout(visitor)
        pieces: list[str] = visitor.fragment  # type: ignore[attr-defined]
        offsets = [0]
        for piece in pieces:
            offsets.append(offsets[-1] + len(piece))
        spans = {doc: (offsets[first], offsets[last]) for doc, (first, last)
                 in visitor.part_marks.items()}  # type: ignore[attr-defined]
        self.write_print_document("".join(pieces), spans)

    def write_print_document(self, body: str,
                             spans: dict[str, tuple[int, int]] | None = None) -> None:
        import jinja2
        from markupsafe import Markup

        book = self.config.book
        labels = labels_for(book.language)
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                                 autoescape=True, keep_trailing_newline=True)
        parts = [
            {"anchor": doc_anchor(p.docname), "docname": p.docname,
             "title": labels["index"] if p.role == "index" else p.title,
             "number": p.number_text, "matter": p.matter, "role": p.role}
            for p in self.parts()
        ]
        # the template is rendered around two marks, so the front pages and the body
        # (and each part in it) can be found in the file by offset
        front_mark, body_mark = "\x00front\x00", "\x00body\x00"
        shell = env.get_template(HTML_NAME).render(
            book=book.as_dict(), labels=labels, parts=parts, body=Markup(body_mark),
            front_mark=Markup(front_mark),
            date_text=format_date(book.date, book.language), created=created_date(book.date),
            subject=book.subject or book.description, keywords=", ".join(book.keywords),
            sources=[Markup(s) for s in self.source_entries()],
            fonts=declared_font_families(PRINT_CSS, body), labels_and=labels["and"],
        )
        front_start = shell.index(front_mark)
        shell = shell.replace(front_mark, "", 1)
        body_start = shell.index(body_mark)
        html = shell[:body_start] + body + shell[body_start + len(body_mark):]
        for part in parts:
            start, end = (spans or {}).get(part["docname"], (0, 0))
            part["span"] = [body_start + start, body_start + end]
        outdir = Path(self.outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / HTML_NAME).write_text(html, encoding="utf-8")
        PrintManifest(book.slug, book.title, book.date, book.identifier, book.language,
                      HTML_NAME, parts, self.print_notes,
                      [front_start, body_start]).dump(outdir / MANIFEST_NAME)

    def source_entries(self) -> list[str]:
        """The bibliography's entries as HTML fragments, for the colophon."""
        from citations import format_entry

        try:
            domain = self.env.get_domain("cite")
            entries = domain.bibdata.data.entries  # type: ignore[attr-defined]
        except Exception:  # no bibliography in this book
            return []
        out = []
        for key in sorted(entries, key=lambda k: _sort_key(format_entry(entries[k]))):
            paragraph = nodes.paragraph("", "", *format_entry(entries[key]), nodes.Text("."))
            out.append(self.render_partial(paragraph)["fragment"].strip())
        return out

    def copy_assets(self) -> None:
        pass  # no theme, no static files, no scripts: print.css is copied in finish()

    def finish(self) -> None:
        self.copy_image_files()
        copy_asset_file(PRINT_CSS, self.outdir, force=True)

    def cleanup(self) -> None:
        pass


def _sort_key(parts: list[nodes.Node]) -> str:
    return "".join(p.astext() for p in parts).casefold()


def _index_links(links: list[tuple[str, str]]) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    for main, uri in links:
        classes = ["index-page"] + (["index-main"] if main == "main" else [])
        out.append(nodes.reference("", "", refuri=uri, internal=True, classes=classes))
    return out


def format_date(iso: str, language: str) -> str:
    """``2024-05-01`` → ``1 May 2024`` in the book's language (the ISO date if unknown)."""
    try:
        import datetime as dt

        from babel.dates import format_date as babel_format

        return babel_format(dt.date.fromisoformat(iso[:10]), "long",
                            locale=language.replace("-", "_"))
    except Exception:
        return iso


def created_date(iso: str) -> str:
    """A W3C date-time for the PDF's dates: SOURCE_DATE_EPOCH if set, else the book's date."""
    import datetime as dt
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    else:
        try:
            moment = dt.datetime.fromisoformat(iso[:10]).replace(tzinfo=dt.UTC)
        except ValueError:
            moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_LOCAL_FONT = re.compile(r"""local\(\s*["']([^"']+)["']\s*\)""")
_STYLE_WORDS = re.compile(r"(\s+\d+)?(\s+(Regular|Italic|Bold|Medium|SemiBold|Book))+$")


_BOLD_FACE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)\b")
# Markup print.css sets in a bold face.
_BOLD_TEXT = re.compile(r"<(strong|b)\b")


def declared_font_families(css_path: Path, body: str | None = None) -> list[str]:
    """The families of the faces print.css declares (``local("EB Garamond 12 Regular")``
    → ``EB Garamond``), for the colophon: read from the stylesheet, never listed by hand.
    Given the book's ``body`` markup, a bold face counts only when the book has bold text
    (the colophon names the faces the book is set in)."""
    import tinycss2

    families: list[str] = []
    bold_text = body is None or bool(_BOLD_TEXT.search(body))
    rules = tinycss2.parse_stylesheet(css_path.read_text(encoding="utf-8"),
                                      skip_comments=True, skip_whitespace=True)
    for rule in rules:
        if rule.type == "at-rule" and rule.lower_at_keyword == "font-face":
            declaration = tinycss2.serialize(rule.content or [])
            if not bold_text and _BOLD_FACE.search(declaration):
                continue
            for name in _LOCAL_FONT.findall(declaration):
                family = _STYLE_WORDS.sub("", name).strip()
                if family not in families:
                    families.append(family)
    return families


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_builder(PrintHTMLBuilder)
    app.add_node(print_part, html=(visit_print_part, depart_print_part))
    app.add_node(print_note, html=(visit_print_note, depart_print_note))
    app.add_node(print_note_anchor, html=(visit_print_note_anchor, None))
    app.add_post_transform(PrintUniqueIds)
    app.add_post_transform(PrintNotes)
    app.add_post_transform(PrintPageRefs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
