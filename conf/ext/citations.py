"""Footnoted citations: ``{footcite}`key{locator}``` → one numbered note per citation.

sphinxcontrib-bibtex parses ``references.bib`` and prints the bibliography page; this
extension replaces its ``footcite`` role so that a book can cite the way books do:

- a locator after the key, in braces: ``{footcite}`viasna-biography{"Museum"}```;
  text before the key in braces is a prefix: ``{footcite}`{see}laureate-page```;
- several sources in one note: ``{footcite}`a{"Part 1"},b```;
- every citation is a note of its own, as in a printed book, so that a note stands alone
  when it pops up on an e-reader or sits at the foot of a page; only the same citation
  repeated within one paragraph calls the same note again (like a ``[^label]`` called
  twice), which keeps a page from filling with identical notes;
- inside a discursive footnote the citation is printed inline (no note inside a note);
- the first citation of a source in a chapter is given in full, later ones in short form
  (author and ``shorttitle``) when the entry has a ``shorttitle`` field.

The notes are ordinary docutils ``footnote`` nodes, appended before docutils numbers
footnotes, so MyST's ``[^label]`` notes and citations form one sequence per document,
numbered in order of first call (myst-parser's ``footnote_sort``).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any, cast

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
from docutils import nodes
from docutils.transforms import Transform
from pybtex.database import Entry
from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.template import field, sentence
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

logger = logging.getLogger(__name__)

_TARGET = re.compile(r"\s*(?:\{(?P<pre>[^{}]*)\})?\s*(?P<key>[^{}\s,]+)\s*(?:\{(?P<post>[^{}]*)\})?\s*")
_QUOTED_TITLE_TYPES = {"misc", "article", "online", "inbook", "incollection", "inproceedings"}
_TEMP_KEY = "book_footcite"


class CitationSyntaxError(ValueError):
    """A ``footcite`` target that cannot be parsed."""


@dataclass(frozen=True)
class CitationTarget:
    """One cited source with optional prefix and locator."""

    key: str
    pre: str = ""
    post: str = ""


def parse_targets(text: str) -> list[CitationTarget]:
    """Parse ``{pre}key{post}, key2`` into targets; raise CitationSyntaxError when malformed."""
    targets: list[CitationTarget] = []
    pos = 0
    while True:
        match = _TARGET.match(text, pos)
        if match is None or not match.group("key"):
            raise CitationSyntaxError(
                f"malformed citation {text!r}: expected key, {{prefix}}key or key{{locator}}, "
                "several separated by commas"
            )
        targets.append(
            CitationTarget(
                match.group("key"),
                (match.group("pre") or "").strip(),
                (match.group("post") or "").strip(),
            )
        )
        pos = match.end()
        if pos == len(text):
            return targets
        if text[pos] != ",":
            raise CitationSyntaxError(
                f"malformed citation {text!r}: unexpected {text[pos]!r} at character {pos + 1}"
            )
        pos += 1


def latex_to_text(value: str) -> str:
    """BibTeX field text → plain Unicode (LaTeX accents decoded, grouping braces removed)."""
    try:
        value = codecs.decode(value, "ulatex")
    except ValueError:
        pass
    return value.replace("{", "").replace("}", "").strip()


def entry_authors(entry: Entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [latex_to_text(" ".join(p.first_names + p.middle_names + p.prelast_names
                                    + p.last_names + p.lineage_names)) for p in people]
    if not names:
        org = entry.fields.get("organization") or entry.fields.get("institution")
        return latex_to_text(org) if org else ""
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def format_entry(entry: Entry, short: bool = False) -> list[nodes.Node]:
    """One source as note text (Chicago-style note, British punctuation), without end stop.

    ``short``: the shortened form for a later citation in the same chapter (author and
    ``shorttitle``; ``shortauthor`` when given) — only for entries that have a shorttitle.
    """
    fields = entry.fields
    out: list[nodes.Node] = []
    if short and fields.get("shorttitle"):
        author = latex_to_text(fields.get("shortauthor", "")) or entry_authors(entry)
        if author:
            out.append(nodes.Text(author + ", "))
        out.extend(_title_nodes(entry, latex_to_text(fields["shorttitle"])))
        return out

    def add(part: nodes.Node | str) -> None:
        if out:
            out.append(nodes.Text(", "))
        out.append(nodes.Text(part) if isinstance(part, str) else part)

    author = entry_authors(entry)
    if author:
        add(author)
    title = latex_to_text(fields.get("title", entry.key))
    for node in _title_nodes(entry, title):
        add(node)
    for name in ("journal", "booktitle", "howpublished", "publisher"):
        if fields.get(name):
            add(latex_to_text(fields[name]))
    date = " ".join(latex_to_text(fields[f]) for f in ("month", "year") if fields.get(f))
    if date:
        add(date)
    return out


def _title_nodes(entry: Entry, title: str) -> list[nodes.Node]:
    if title.startswith("[") and title.endswith("]"):
        return [nodes.Text(title)]  # a description supplied for an untitled source
    if entry.type.lower() in _QUOTED_TITLE_TYPES:
        return [nodes.Text(f"\u201c{title}\u201d")]
    return [nodes.emphasis(title, title)]


def format_citation(
    targets: list[tuple[CitationTarget, Entry]], end_stop: bool = True,
    seen: set[str] | None = None,
) -> list[nodes.Node]:
    """Several sources as note text: ``Pre A, locator; B.`` (the stop only for a whole note).

    Keys in ``seen`` (cited earlier in the chapter) get the short form; ``seen`` is updated.
    """
    out: list[nodes.Node] = []
    for index, (target, entry) in enumerate(targets):
        if index:
            out.append(nodes.Text("; "))
        if target.pre:
            out.append(nodes.Text(target.pre + " "))
        out.extend(format_entry(entry, short=seen is not None and entry.key in seen))
        if seen is not None:
            seen.add(entry.key)
        if target.post:
            out.append(nodes.Text(", " + target.post))
    if end_stop:
        out.append(nodes.Text("."))
    return out


def _inside_footnote(node: nodes.Node | None) -> bool:
    while node is not None:
        if isinstance(node, nodes.footnote):
            return True
        node = node.parent
    return False


class pending_citation(nodes.Inline, nodes.Element):
    """A citation whose text is written once the notes are numbered (full or short form)."""


class FootCiteRole(SphinxRole):
    """``{footcite}`key{locator}``` → a footnote reference to a citation note."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        try:
            targets = parse_targets(self.text)
        except CitationSyntaxError as err:
            logger.warning(str(err), location=self.get_location(), type="bibtex",
                           subtype="syntax")
            return [nodes.Text(self.text)], []
        domain = self.env.get_domain("cite")
        entries = domain.bibdata.data.entries  # type: ignore[attr-defined]
        found: list[tuple[CitationTarget, Entry]] = []
        for target in targets:
            entry = entries.get(target.key)
            if entry is None:
                known = ", ".join(sorted(entries)) or "none: the book has no references.bib"
                logger.warning(
                    f'citation key "{target.key}" is not in the bibliography '
                    f"(references.bib keys: {known})",
                    location=self.get_location(), type="bibtex", subtype="key_not_found",
                )
                continue
            found.append((target, entry))
        if not found:
            return [nodes.Text(self.text)], []
        for bibfile in domain.bibdata.bibfiles:  # type: ignore[attr-defined]
            self.env.note_dependency(str(bibfile))

        pending = pending_citation("", targets=[t for t, _ in found])
        parent = getattr(self.inliner, "parent", None)
        if _inside_footnote(parent):
            pending["classes"].append("citation-inline")
            pending["end_stop"] = False
            return [pending], []

        state = self.env.temp_data.setdefault(
            _TEMP_KEY, {"pending": [], "count": 0, "in_paragraph": {}})
        # the same citation again in the same paragraph: the same note, called again
        signature = (id(parent), tuple(t for t, _ in found))
        name = state["in_paragraph"].get(signature)
        document = self.inliner.document
        if name is None:
            state["count"] += 1
            name = nodes.make_id(f"cite-{found[0][0].key}-{state['count']}")
            pending["end_stop"] = True
            footnote = nodes.footnote("", nodes.paragraph("", "", pending),
                                      auto=1, classes=["citation-note"])
            footnote["names"].append(name)
            footnote.source, footnote.line = self.get_source_info()
            document.note_autofootnote(footnote)
            document.note_explicit_target(footnote, footnote)
            state["pending"].append(footnote)
            state["in_paragraph"][signature] = name
        ref = nodes.footnote_reference(self.rawtext, auto=1, refname=name)
        ref.source, ref.line = self.get_source_info()
        document.note_autofootnote_ref(ref)
        document.note_footnote_ref(ref)
        return [ref], []


class InsertCitationNotes(Transform):
    """Append the notes made by ``footcite`` to the document before footnotes are numbered."""

    default_priority = 610  # before myst's SortFootnotes (618) and docutils' Footnotes (620)

    def apply(self, **kwargs: Any) -> None:
        env = getattr(self.document.settings, "env", None)
        if env is None:
            return
        state = cast(dict, env.temp_data.pop(_TEMP_KEY, None))
        if state:
            for footnote in state["pending"]:
                self.document += footnote


class FormatCitations(Transform):
    """Write each citation's text, in note order: the first citation of a source in the
    chapter in full, later ones in short form."""

    default_priority = 640  # after footnotes are numbered (620) and collected (623)

    def apply(self, **kwargs: Any) -> None:
        env = getattr(self.document.settings, "env", None)
        if env is None:
            return
        entries = env.get_domain("cite").bibdata.data.entries
        seen: set[str] = set()
        footnotes = sorted(self.document.findall(nodes.footnote), key=_label_order)
        pending = [p for fn in footnotes for p in fn.findall(pending_citation)]
        pending += [p for p in self.document.findall(pending_citation) if p not in pending]
        for node in pending:
            found = [(t, entries[t.key]) for t in node["targets"]]
            text = format_citation(found, end_stop=node["end_stop"], seen=seen)
            if "citation-inline" in node["classes"]:
                node.replace_self(nodes.inline("", "", *text, classes=["citation-inline"]))
            else:
                node.replace_self(text)


class MarkCitedEntries(SphinxPostTransform):
    """A bibliography entry that an in-text citation (sphinxcontrib-bibtex's ``{cite:p}``,
    printed as its label, "[1]") points to gets the class ``cited``: its label is shown
    in every edition, so that a reader can find it. Entries reached only through notes
    (``footcite``) list their sources without labels."""

    default_priority = 900  # after references are resolved: back-references are known

    def run(self, **kwargs: Any) -> None:
        for citation in self.document.findall(nodes.citation):
            if citation.get("backrefs"):
                citation["classes"].append("cited")


def _label_order(footnote: nodes.footnote) -> tuple[int, str]:
    label = footnote.children[0].astext() if footnote.children else ""
    return (int(label), "") if label.isdigit() else (1 << 30, label)


class BookBibliographyStyle(PlainStyle):
    """pybtex's ``plain`` style, keeping titles as the bibliography spells them
    (``plain`` lower-cases article titles: "Field notes from polesia")."""

    default_sorting_style = "author_year_title"

    def format_title(self, e: Entry, which_field: str, as_sentence: bool = True) -> Any:
        title = field(which_field)
        return sentence[title] if as_sentence else title


register_plugin("pybtex.style.formatting", "book", BookBibliographyStyle)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinxcontrib.bibtex")
    app.add_role("footcite", FootCiteRole(), override=True)
    app.add_transform(InsertCitationNotes)
    app.add_transform(FormatCitations)
    app.add_post_transform(MarkCitedEntries)
    app.add_node(pending_citation)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
