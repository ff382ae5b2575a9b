"""Unit tests of the print edition's tree transforms (conf/ext/print_edition.py) and of the
PDF step's guards (scripts/pdf.py), on tiny hand-built doctrees: no Sphinx run."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conf" / "ext"))
from print_edition import (  # noqa: E402
    NoteRecord,
    _local_target,
    declared_font_families,
    place_notes,
    print_note,
    print_note_anchor,
)

from scripts.pdf import BookURLFetcher, misplaced_notes  # noqa: E402


def _footnote(fid: str, label: str, *paragraphs: nodes.Node) -> nodes.footnote:
    footnote = nodes.footnote("", nodes.label("", label), *paragraphs, ids=[fid])
    return footnote


def _ref(fid: str, rid: str, label: str) -> nodes.footnote_reference:
    return nodes.footnote_reference("", label, refid=fid, ids=[rid])


def _chapter() -> nodes.section:
    """Text calling note 1 twice and note 2 once; note 1 has two paragraphs and line breaks."""
    para = nodes.paragraph("", "", nodes.Text("First"), _ref("n1", "r1", "1"),
                           nodes.Text(" second"), _ref("n2", "r2", "2"),
                           nodes.Text(" again"), _ref("n1", "r3", "1"))
    note1 = _footnote("n1", "1",
                      nodes.paragraph("", "", nodes.Text("A note\n   with "),
                                      nodes.emphasis("", "italics"), nodes.Text("\nand more.")),
                      nodes.paragraph("", "Its second paragraph."))
    note2 = _footnote("n2", "2", nodes.paragraph("", "Short."))
    return nodes.section("", nodes.title("", "Chapter"), para, note1, note2, ids=["ch"])


def test_each_note_moves_to_its_first_call() -> None:
    chapter = _chapter()
    records = place_notes(chapter, "one")
    para = chapter[1]
    kinds = [type(child).__name__ for child in para.children]
    assert kinds == ["Text", "print_note_anchor", "print_note", "Text", "print_note_anchor",
                     "print_note", "Text", "reference"]
    assert not list(chapter.findall(nodes.footnote))  # the list at the end is gone
    assert [(r.label, r.call_id, r.note_id) for r in records] == [("1", "r1", "n1"),
                                                                   ("2", "r2", "n2")]


def test_a_second_call_links_to_the_same_note_with_the_same_number() -> None:
    chapter = _chapter()
    place_notes(chapter, "one")
    link = chapter[1][-1]
    assert isinstance(link, nodes.reference)
    assert link["refid"] == "n1" and link.astext() == "1" and "note-ref" in link["classes"]
    assert link["ids"] == ["r3"]
    assert len(list(chapter.findall(print_note))) == 2


def test_note_keeps_markup_and_paragraphs_with_whitespace_collapsed() -> None:
    chapter = _chapter()
    place_notes(chapter, "one")
    note = next(chapter.findall(print_note))
    assert note["label"] == "1" and note["ids"] == ["n1"] and "footnote" in note["classes"]
    paras = [c for c in note.children if "note-para" in c["classes"]]
    assert len(paras) == 2
    assert paras[0].astext() == "A note with italics and more."
    assert list(paras[0].findall(nodes.emphasis))  # italics survive
    anchor = next(chapter.findall(print_note_anchor))
    assert anchor["ids"] == ["r1"]


def test_a_note_called_only_from_inside_another_note_is_placed_after_it() -> None:
    inner_call = _ref("n2", "r2", "2")
    para = nodes.paragraph("", "", nodes.Text("Text"), _ref("n1", "r1", "1"))
    note1 = _footnote("n1", "1", nodes.paragraph("", "", nodes.Text("See"), inner_call))
    note2 = _footnote("n2", "2", nodes.paragraph("", "Inner."))
    section = nodes.section("", para, note1, note2)
    records = place_notes(section, "one")
    notes = list(para.findall(print_note))
    assert [n["label"] for n in notes] == ["1", "2"]
    assert notes[1].parent is para  # a sibling of the outer note, never nested in it
    assert [r.note_id for r in records] == ["n1", "n2"]


def test_local_targets() -> None:
    builder = SimpleNamespace(anchor_docs={"document-one": "one", "document-two": "two"})
    idmap = {("one", "sec"): "one--sec", ("two", "x"): "two--x"}
    assert _local_target("#document-one#sec", "two", idmap, builder) == "one--sec"
    assert _local_target("#document-two", "one", idmap, builder) == "document-two"
    assert _local_target("#x", "two", idmap, builder) == "two--x"


def test_colophon_fonts_come_from_print_css() -> None:
    assert declared_font_families(ROOT / "conf" / "css" / "print.css") == [
        "EB Garamond", "Gentium Book Plus"]
    # a book without bold text is not set in the bold face
    css = ROOT / "conf" / "css" / "print.css"
    assert declared_font_families(css, "<p>Plain <em>and italic</em></p>") == ["EB Garamond"]
    assert declared_font_families(css, "<p>A <strong>bold</strong> word</p>") == [
        "EB Garamond", "Gentium Book Plus"]


def test_misplaced_notes_are_found() -> None:
    pages = [SimpleNamespace(anchors={"c1": 0, "n1": 0, "c2": 0}),
             SimpleNamespace(anchors={"n2": 0, "c2": 0})]
    notes = [NoteRecord("one", "1", "c1", "n1", "fits"),
             NoteRecord("one", "2", "c2", "n2", "too long")]
    [bad] = misplaced_notes(SimpleNamespace(pages=pages), notes)
    assert (bad.label, bad.call_page, bad.note_page) == ("2", 1, 2)
    assert "note 2" in str(bad) and "page 1" in str(bad)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/x.png",
                                 "https://example.org/a.css", "ftp://example.org/f"])
def test_fetcher_refuses_everything_outside_the_book(tmp_path: Path, url: str) -> None:
    fetcher = BookURLFetcher([tmp_path])
    with pytest.raises(ValueError):
        fetcher.fetcher(url)
    assert fetcher.refused == [url]


def test_fetcher_reads_inside_the_book(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text("p {}", encoding="utf-8")
    fetcher = BookURLFetcher([tmp_path])
    assert fetcher.fetcher((tmp_path / "a.css").as_uri()).read() == b"p {}"
    with pytest.raises(ValueError):  # a path that climbs out is refused
        fetcher.fetcher((tmp_path / ".." / "x.css").as_uri())
