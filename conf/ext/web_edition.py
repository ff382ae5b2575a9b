"""Web edition: notes beside the text, download links and page metadata.

- ``WebNotes`` (post-transform, ``html`` builder only) turns each footnote into a side
  note at its first call: in the margin on a wide screen, opened by tapping its number on
  a phone (sphinx-book-theme's ``.sidenote`` styles). The note keeps its italics and
  links, all of its paragraphs, and its id, so a second call of the same note links to it.
- ``html-page-context`` adds the relative links to ``../pdf`` and ``../epub`` of the same
  build, and the book's author, description and keywords as ``<meta>`` tags.
"""

from __future__ import annotations

import posixpath
from html import escape
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.writers.html5 import HTML5Translator

WEB_BUILDERS = ("html", "dirhtml")


class web_note(nodes.Inline, nodes.Element):
    """A note shown beside its call: toggle label + checkbox + the note body."""


class web_note_body(nodes.Inline, nodes.TextElement):
    """The note's content, as inline content (it sits inside the calling paragraph)."""


def visit_web_note(self: HTML5Translator, node: web_note) -> None:
    toggle = node["toggle_id"]
    self.body.append(
        f'<label for="{toggle}" class="margin-toggle" id="{node["ref_id"]}">'
        f'<sup class="note-call">{escape(node["label"])}</sup>'
        f'<span class="visually-hidden"> (note {escape(node["label"])})</span></label>'
        f'<input type="checkbox" id="{toggle}" class="margin-toggle" '
        f'aria-label="Show note {escape(node["label"])}">'
    )


def depart_web_note(self: HTML5Translator, node: web_note) -> None:
    pass


def visit_web_note_body(self: HTML5Translator, node: web_note_body) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="sidenote", role="doc-footnote"))
    self.body.append(f'<sup class="note-number">{escape(node["label"])}</sup> ')


def depart_web_note_body(self: HTML5Translator, node: web_note_body) -> None:
    self.body.append("</span>")


def visit_citation(self: HTML5Translator, node: nodes.citation) -> None:
    """A bibliography entry as a list item (docutils' ``doc-biblioentry`` role is
    deprecated in DPUB-ARIA 1.1 and not allowed inside ``role="list"``)."""
    if not isinstance(node.previous_sibling(), nodes.citation):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self: HTML5Translator, node: nodes.citation) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), nodes.citation):
        self.body.append("</div>\n")


def note_body_as_inline(footnote: nodes.footnote) -> list[nodes.Node]:
    """A footnote's paragraphs as inline spans (block markup may not sit inside a <p>)."""
    out: list[nodes.Node] = []
    for child in footnote.children:
        if isinstance(child, nodes.label):
            continue
        if isinstance(child, nodes.paragraph):
            out.append(nodes.inline("", "", *child.children, classes=["note-para"]))
        else:  # a list or quote inside a note: keep its text, lose its block layout
            out.append(nodes.inline("", child.astext(), classes=["note-para"]))
    return out


class WebNotes(SphinxPostTransform):
    """Footnotes → side notes at their first call (web edition only)."""

    default_priority = 5
    formats = ("html",)

    def is_supported(self) -> bool:
        return self.app.builder.name in WEB_BUILDERS and super().is_supported()

    def run(self, **kwargs: Any) -> None:
        footnotes = {fid: fn for fn in self.document.findall(nodes.footnote)
                     for fid in fn["ids"]}
        placed: set[str] = set()
        for ref in list(self.document.findall(nodes.footnote_reference)):
            footnote = footnotes.get(ref.get("refid", ""))
            if footnote is None or footnote["ids"][0] in placed:
                continue  # later calls stay links to the note placed at the first call
            if any(isinstance(a, nodes.footnote) for a in _ancestors(ref)):
                continue  # a note called from inside a note stays a link
            placed.add(footnote["ids"][0])
            label = footnote.children[0].astext() if footnote.children else "?"
            note = web_note(toggle_id=f"toggle-{footnote['ids'][0]}", ref_id=ref["ids"][0],
                            label=label)
            body = web_note_body("", "", *note_body_as_inline(footnote), label=label,
                                 ids=list(footnote["ids"]))
            body["backrefs"] = []
            ref.replace_self([note, body])
            footnote.parent.remove(footnote)


def _ancestors(node: nodes.Node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def on_html_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    root = "../" * pagename.count("/")
    book = app.config.book
    if book is None:
        return
    extra = [f'<meta name="author" content="{_attr(book.author)}">']
    if book.description:
        extra.append(f'<meta name="description" content="{_attr(book.description)}">')
    if book.keywords:
        extra.append(f'<meta name="keywords" content="{_attr(", ".join(book.keywords))}">')
    context["metatags"] = context.get("metatags", "") + "\n".join(extra) + "\n"
    context["book_downloads"] = {
        "pdf": posixpath.join(root, "..", "pdf", book.slug + ".pdf"),
        "epub": posixpath.join(root, "..", "epub", book.slug + ".epub"),
    }


def _attr(text: str) -> str:
    return escape(" ".join(text.split()), quote=True)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(web_note, html=(visit_web_note, depart_web_note))
    app.add_node(web_note_body, html=(visit_web_note_body, depart_web_note_body))
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    app.add_post_transform(WebNotes)
    app.connect("html-page-context", on_html_page_context)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
