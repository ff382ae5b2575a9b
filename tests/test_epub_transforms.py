"""Units of the EPUB edition: its doctree transforms, its XHTML check and its packaging
helpers, each on a tiny input."""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from pathlib import Path

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

from scripts import epub as epub_script
from scripts.sphinx_run import CONF

sys.path.insert(0, str(CONF / "ext"))
import epub_edition as ee  # noqa: E402


def _document() -> nodes.document:
    return new_document("test.md", get_default_settings(Parser))


def _note(doc: nodes.document, node_id: str, label: str, *content: nodes.Node) -> nodes.footnote:
    footnote = nodes.footnote("", nodes.label("", label), *content, ids=[node_id])
    doc += footnote
    return footnote


def _call(node_id: str, refid: str, label: str) -> nodes.footnote_reference:
    return nodes.footnote_reference("", label, ids=[node_id], refid=refid)


def test_footnotes_become_numbered_asides_at_the_end_of_the_chapter() -> None:
    doc = _document()
    section = nodes.section("", nodes.title("", "Chapter"), ids=["chapter"])
    para = nodes.paragraph("", "Text.")
    para += _call("id1", "fn-a", "1")
    para += nodes.Text(" More.")
    para += _call("id2", "fn-b", "2")
    para += nodes.Text(" Again.")
    para += _call("id3", "fn-a", "1")
    section += para
    doc += section
    _note(doc, "fn-a", "1", nodes.paragraph("", "", nodes.emphasis("", "Italic"),
                                            nodes.Text(" and "),
                                            nodes.reference("", "a link", refuri="#x")))
    _note(doc, "fn-b", "2", nodes.paragraph("", "Plain."))

    ee.footnotes_to_asides(doc)

    notes = list(doc.findall(nodes.footnote))
    assert [n["ids"] for n in notes] == [["note-1"], ["note-2"]]
    assert all(n.parent is section for n in notes)  # moved into the chapter's section
    calls = list(doc.findall(nodes.footnote_reference))
    assert [(c["ids"], c["refid"]) for c in calls] == [
        (["noteref-1"], "note-1"), (["noteref-2"], "note-2"), (["noteref-1-2"], "note-1")]
    assert notes[0]["backrefs"] == ["noteref-1", "noteref-1-2"]
    # the label became the number inside the note; one back-link per call
    first = notes[0].children[0]
    assert isinstance(first[0], ee.note_number) and first[0].astext() == "1."
    backlinks = list(notes[0].findall(ee.note_backlink))
    assert [b["refid"] for b in backlinks] == ["noteref-1", "noteref-1-2"]
    assert [b.astext() for b in backlinks] == ["↩\ufe0e 1", "↩\ufe0e 2"]
    assert [b.astext() for b in notes[1].findall(ee.note_backlink)] == ["↩\ufe0e"]
    # italics and links inside the note are untouched
    assert list(notes[0].findall(nodes.emphasis)) and list(notes[0].findall(nodes.reference))
    assert not list(doc.findall(nodes.label))


def test_a_note_that_does_not_start_with_a_paragraph_gets_one_for_its_number() -> None:
    doc = _document()
    para = nodes.paragraph("", "Text.")
    para += _call("id1", "fn", "1")
    doc += para
    _note(doc, "fn", "1", nodes.bullet_list("", nodes.list_item("", nodes.paragraph("", "x"))))
    ee.footnotes_to_asides(doc)
    (note,) = doc.findall(nodes.footnote)
    assert isinstance(note[0], nodes.paragraph) and isinstance(note[0][0], ee.note_number)
    assert isinstance(note[-1], nodes.paragraph) and list(note[-1].findall(ee.note_backlink))


def test_image_sizes_become_classes_and_captions_give_alt_text() -> None:
    doc = _document()
    fig = nodes.figure("", nodes.image(uri="a.png", width="58%", height="3cm"),
                       nodes.caption("", "A river."), width="75%")
    doc += fig
    doc += nodes.image(uri="b.png", alt="A field.", scale=50)
    lone = nodes.image(uri="c.png")
    doc += lone
    missing = ee.image_sizes_to_classes(doc)
    images = list(doc.findall(nodes.image))
    assert images[0]["classes"] == ["width-60"] and "height" not in images[0]
    assert images[0]["alt"] == "A river."
    assert fig["classes"] == ["width-80"] and "width" not in fig
    assert "scale" not in images[1] and images[1]["alt"] == "A field."
    assert missing == [lone]


def test_section_semantics_pairs_epub_types_with_aria_roles() -> None:
    assert ee.section_semantics("chapter") == {"epub:type": "chapter", "role": "doc-chapter"}
    assert ee.section_semantics("titlepage") == {"epub:type": "titlepage"}
    for role, aria in ee.ARIA_ROLES.items():
        assert aria is None or aria == "doc-" + role


def test_labels_fall_back_to_english_and_say_so() -> None:
    assert ee.labels_for("be")[1] == "be"
    labels, lang = ee.labels_for("fr-FR")
    assert lang == "en" and labels["toc"] == "Contents"
    assert set(ee.LABELS["be"]) == set(ee.LABELS["en"])


@pytest.mark.parametrize(("markup", "problem"), [
    ("<p>fine</p>", None),
    ("<p>unclosed", "not well-formed"),
    ("<p>&nbsp;</p>", "not well-formed"),
    ('<p style="color: red">x</p>', "inline style"),
    ("<script>alert(1)</script>", "<script>"),
    ('<p onclick="x()">x</p>', "event handler"),
])
def test_check_xhtml_rejects_what_an_epub_may_not_carry(
    tmp_path: Path, markup: str, problem: str | None
) -> None:
    page = tmp_path / "page.xhtml"
    page.write_text(f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{markup}</body></html>',
                    encoding="utf-8")
    problems = ee.check_xhtml(page, "page.xhtml")
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0].message
        assert str(problems[0]).startswith("page.xhtml:")


def test_modification_time_from_source_date_epoch_or_the_book_date(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert epub_script.modification_time("2024-05-01") == dt.datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert epub_script.modification_time("2024-05-01") == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert epub_script.modification_time("1999") == dt.datetime(1999, 1, 1, tzinfo=dt.UTC)


def test_normalise_zip_fixes_times_order_and_compression(tmp_path: Path) -> None:
    raw = tmp_path / "raw.epub"
    with zipfile.ZipFile(raw, "w") as z:
        z.writestr("EPUB/a.xhtml", "a")
        z.writestr("mimetype", "application/epub+zip")
    when = dt.datetime(1970, 1, 2, tzinfo=dt.UTC)  # before 1980: clamped
    first, second = tmp_path / "1.epub", tmp_path / "2.epub"
    epub_script.normalise_zip(raw, first, when)
    epub_script.normalise_zip(raw, second, when)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as z:
        infos = z.infolist()
    assert [i.filename for i in infos] == ["mimetype", "EPUB/a.xhtml"]
    assert infos[0].compress_type == zipfile.ZIP_STORED
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_the_stylesheet_names_exactly_the_fonts_the_build_subsets() -> None:
    css = epub_script.CSS_SOURCE.read_text(encoding="utf-8")
    assert epub_script._css_fonts(css) == list(epub_script.FONT_SOURCES)


def test_subset_font_keeps_the_characters_asked_for() -> None:
    from io import BytesIO

    from fontTools.ttLib import TTFont

    source = epub_script.FONT_SOURCES["EBGaramond-Regular.otf"]
    data = epub_script.subset_font(source, set("Прыпяць ўі Łacinka"))
    assert data == epub_script.subset_font(source, set("Прыпяць ўі Łacinka"))
    cmap = TTFont(BytesIO(data)).getBestCmap()
    assert all(ord(c) in cmap for c in "ПрыпяцьўіŁ")
    assert ord("Ж") not in cmap


def test_generated_cover_is_a_deterministic_png() -> None:
    first = epub_script.draw_cover("A Title Long Enough to Wrap onto Lines", "Sub", "Author",
                                   size=(400, 600))
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert first == epub_script.draw_cover("A Title Long Enough to Wrap onto Lines", "Sub",
                                           "Author", size=(400, 600))


def test_epub_file_names_are_safe_unique_and_leave_safe_names_alone() -> None:
    from epub_edition import epub_file_names

    names = epub_file_names({"index", "one", "part1/Chapter One", "chapter-one", "глава",
                             "cover", "nav", "Notes_2.0"})
    assert names["index"] == "index" and names["one"] == "one"
    assert names["Notes_2.0"] == "Notes_2.0"
    assert names["chapter-one"] == "chapter-one"  # safe: keeps its name
    assert names["part1/Chapter One"] == "part1/chapter-one"
    assert names["глава"] == "hlava"
    assert names["cover"] == "cover-2" and names["nav"] == "nav-2"  # the builder's pages
    assert len(set(names.values())) == len(names)
