"""End-to-end: the web edition of the test books, as a reader and the validators see it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import html as lxml_html

from scripts.findings import ValidatorMissing
from scripts.validate_html import run_axe, run_vnu


def page(html_dir: Path, name: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring((html_dir / name).read_bytes())


def article(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    return tree.xpath('//article[contains(@class, "bd-article")]')[0]


def test_notes_are_numbered_in_one_sequence_per_chapter(fixture_html: Path) -> None:
    body = article(page(fixture_html, "one.html"))
    numbers = [s.text_content().strip() for s in body.xpath('//span[@class="sidenote"]/sup')]
    assert numbers == ["1", "2", "3", "4", "5"]
    # every citation is a note of its own, even when it repeats an earlier one
    notes = body.xpath('//span[@class="sidenote"]')
    assert sum("“The Marshes”" in n.text_content() for n in notes) == 2
    # chapter two starts again at 1; the same citation twice in a paragraph is one note
    two = article(page(fixture_html, "two.html"))
    assert [s.text_content() for s in two.xpath('//span[@class="sidenote"]/sup')] == ["1", "2"]
    assert len(two.xpath('//a[@href="#cite-field-notes-1"]')) == 1  # the second call


def test_reused_label_is_one_note_with_two_calls(fixture_html: Path) -> None:
    body = article(page(fixture_html, "one.html"))
    notes = [n for n in body.xpath('//span[@class="sidenote"]') if "spelling follows" in
             n.text_content()]
    assert len(notes) == 1
    note_id = notes[0].get("id")
    second_calls = body.xpath(f'//a[@href="#{note_id}"]')
    assert len(second_calls) == 1
    assert second_calls[0].xpath('string(text()[normalize-space()])').strip() == "2"
    # italics and links survive inside the note
    assert notes[0].xpath(".//em") and notes[0].xpath('.//a[@href="#sec-marsh"]')


def test_citations_resolve_with_locators(fixture_html: Path) -> None:
    text = article(page(fixture_html, "one.html")).text_content()
    assert "Hanna Ŭładzimiraŭna Kaściuk, An Atlas of Rivers, Fixture Press, 2001, “The Marshes”." in text
    # a citation inside a discursive note is printed inline, not as a note in a note;
    # after the first, in short form (author and shorttitle), in note order
    assert "compare Hanna Ŭładzimiraŭna Kaściuk, Atlas, “Names”." in text
    # several sources in one note, separated by a semicolon; a source without
    # shorttitle keeps its full form
    assert "Kaściuk, Atlas; The Survey Office, “Field Notes from Polesia”, 1999." in text


def test_bibliography_lists_every_source(fixture_html: Path) -> None:
    text = article(page(fixture_html, "bibliography.html")).text_content()
    assert "An Atlas of Rivers" in text and "Field Notes from Polesia" in text


def test_figure_numbers_and_cross_references(fixture_html: Path) -> None:
    body = article(page(fixture_html, "one.html"))
    assert body.xpath('//figcaption//span[@class="caption-number"]')[0].text.strip() == "Figure 1.1"
    assert body.xpath('//a[@href="#fig-river"]/span[contains(@class, "std-numref")]')[
        0
    ].text_content() == "Figure 1.1"
    assert body.xpath('//a[@href="two.html#sec-mouth"]')
    assert body.xpath('//img[@alt="A blue band winding across a green field."]')


def test_index_and_glossary_pages(fixture_html: Path) -> None:
    index = article(page(fixture_html, "genindex.html")).text_content()
    for term in ("Prypiać", "Minsk", "Dnieper", "polder", "Polesia"):
        assert term in index
    glossary = page(fixture_html, "glossary.html")
    assert glossary.xpath('//dt[@id="term-polder"]')
    assert page(fixture_html, "one.html").xpath('//a[@href="glossary.html#term-polder"]')


def test_glyphs_language_and_metadata(fixture_html: Path) -> None:
    tree = page(fixture_html, "one.html")
    assert tree.get("lang") == "en-GB"
    text = article(tree).text_content()
    for word in ("Прыпяць", "рэчка", "і", "ў", "č, ć, ł, ń, ś, š, ŭ, ź and ž"):
        assert word in text
    assert tree.xpath('//meta[@name="author"]/@content') == ["Test Author"]
    assert "The River Book" in tree.findtext(".//title")


def test_landing_page_has_title_and_no_raw_front_matter(fixture_html: Path) -> None:
    tree = page(fixture_html, "index.html")
    assert article(tree).xpath("//h1")[0].text_content().startswith("The River Book")
    text = article(tree).text_content()
    assert "A Fixture for the Book Builder" in text
    assert "publisher:" not in text and "Fixture Press" not in text


def test_download_links_point_to_the_other_editions(fixture_html: Path) -> None:
    for name in ("index.html", "one.html"):
        links = page(fixture_html, name).xpath('//nav[@class="book-downloads"]//a/@href')
        assert links == ["../pdf/the-river-book.pdf", "../epub/the-river-book.epub"]


def test_minimal_book_builds_with_defaults(minimal_html: Path) -> None:
    tree = page(minimal_html, "first.html")
    assert tree.get("lang") == "be"
    assert "сям’я" in article(tree).text_content()
    assert page(minimal_html, "index.html").findtext(".//title").startswith("Короткая кніга")


@pytest.mark.parametrize("which", ["fixture_html", "minimal_html"])
def test_nu_html_checker_finds_nothing(which: str, request: pytest.FixtureRequest) -> None:
    html_dir = request.getfixturevalue(which)
    try:
        findings = run_vnu(html_dir)
    except ValidatorMissing as err:
        pytest.fail(str(err))
    assert findings.checked >= 5
    assert findings.errors == []


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_axe_core_finds_no_violation(fixture_html: Path) -> None:
    findings = run_axe(fixture_html)
    assert findings.checked >= 5
    assert findings.errors == []


def test_footnote_markup_snapshot(fixture_html: Path) -> None:
    """The side-note markup is an interface (CSS and readers rely on it): review changes."""
    raw = (fixture_html / "two.html").read_text(encoding="utf-8")
    match = re.search(r'<label for="toggle-[^"]+".*?</span></span>', raw, re.S)
    assert match is not None
    snippet = re.sub(r'id="id\d+"', 'id="idN"', match.group(0))
    assert snippet == (
        '<label for="toggle-cite-field-notes-1" class="margin-toggle" id="idN">'
        '<sup class="note-call">1</sup><span class="visually-hidden"> (note 1)</span></label>'
        '<input type="checkbox" id="toggle-cite-field-notes-1" class="margin-toggle" '
        'aria-label="Show note 1"><span class="sidenote" id="cite-field-notes-1" '
        'role="doc-footnote"><sup class="note-number">1</sup> <span class="note-para">'
        'The Survey Office, “Field Notes from Polesia”, 1999, p. 4.</span></span>'
    )
