"""End-to-end tests of the print edition: build real books, check the PDF with poppler/pypdf.

Each book is built once per session with the real command line (``python -m scripts.build
pdf``). Page numbers are checked against the PDF itself: named destinations (WeasyPrint
writes one per id) give the physical page of a chapter, a note or an index target, and
the folios printed in the running heads give the page numbers a reader sees.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURE_BOOK, MINIMAL_BOOK, run_build
from pypdf import PdfReader

EPOCH = {"SOURCE_DATE_EPOCH": "1714521600"}  # 2024-05-01
FACES = {"EB Garamond 12 Regular", "EB Garamond 12 Italic", "Gentium Book Plus Bold",
         "Gentium Book Plus Bold Italic"}


@dataclass
class BuiltPdf:
    path: Path
    stage: Path
    stdout: str
    manifest: dict
    reader: PdfReader
    pages: list[str]  # pdftotext -layout, one string per page

    def dest_page(self, name: str) -> int:
        """0-based physical page of a named destination (an id in the print HTML)."""
        return self.reader.get_destination_page_number(self.reader.named_destinations[name])

    def flat(self, index: int) -> str:
        """A page's text on one line: hyphenation undone, whitespace collapsed."""
        text = re.sub(r"[\u2010-]\n\s*", "", self.pages[index])
        return " ".join(text.split())


def _build(book: Path, build: Path) -> BuiltPdf:
    result = run_build(book, build, "pdf", env=EPOCH)
    assert result.returncode == 0, result.stderr
    [path] = (build / "pdf").glob("*.pdf")
    stage = build / ".stage" / "printhtml"
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return BuiltPdf(path, stage, result.stdout,
                    json.loads((stage / "book.json").read_text(encoding="utf-8")),
                    PdfReader(path), text.split("\f")[:-1])


def _long_book(root: Path) -> Path:
    """A generated book with long chapters: many notes, recto and verso running heads."""
    book = root / "long-book"
    book.mkdir()
    (book / "index.md").write_text(
        "---\ntitle: A Long Book\nauthor: Gen Erator\nlanguage: en\ndate: 2024-05-01\n---\n\n"
        "```{toctree}\n:numbered:\n\nalpha\nbeta\n```\n", encoding="utf-8")
    sentence = ("The river turns slowly through the marsh, and the people who live beside it "
                "have named every bend, every ford and every island after a saint or a "
                "miller. ")
    for name, title in (("alpha", "Alpha Waters"), ("beta", "Beta Marshes")):
        paragraphs = []
        notes = []
        for i in range(1, 31):
            call = f"[^{name}{i}]" if i % 2 else ""
            paragraphs.append(sentence * (2 + i % 3) + f"Paragraph {i} ends here.{call}")
            if call:
                notes.append(f"[^{name}{i}]: Note {i} of {title}: "
                             + "a remark on the sources, " * (1 + i % 4) + "as usual.")
        (book / f"{name}.md").write_text(
            f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n\n" + "\n\n".join(notes) + "\n",
            encoding="utf-8")
    return book


@pytest.fixture(scope="session")
def fixture_pdf(tmp_path_factory: pytest.TempPathFactory) -> BuiltPdf:
    return _build(FIXTURE_BOOK, tmp_path_factory.mktemp("fixture-pdf"))


@pytest.fixture(scope="session")
def minimal_pdf(tmp_path_factory: pytest.TempPathFactory) -> BuiltPdf:
    return _build(MINIMAL_BOOK, tmp_path_factory.mktemp("minimal-pdf"))


@pytest.fixture(scope="session")
def long_pdf(tmp_path_factory: pytest.TempPathFactory) -> BuiltPdf:
    root = tmp_path_factory.mktemp("long")
    return _build(_long_book(root), root / "build")


ALL = ["fixture_pdf", "minimal_pdf", "long_pdf"]


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def folio(pdf: BuiltPdf, page: int) -> str:
    """The page number a reader sees for a 0-based physical page: roman before the first
    body part, then arabic from 1 (the same scheme print.css sets)."""
    first_body = min(pdf.dest_page(p["anchor"]) for p in pdf.manifest["parts"]
                     if p["matter"] == "body")
    return str(page - first_body + 1) if page >= first_body else _roman(page + 1)


# -- notes -----------------------------------------------------------------------------


@pytest.mark.parametrize("book", ALL)
def test_every_note_is_on_the_page_of_its_call(book: str, request: pytest.FixtureRequest
                                               ) -> None:
    pdf: BuiltPdf = request.getfixturevalue(book)
    assert pdf.manifest["notes"], "the book has notes"
    for note in pdf.manifest["notes"]:
        call, body = pdf.dest_page(note["call_id"]), pdf.dest_page(note["note_id"])
        assert call == body, note
        words = " ".join(note["excerpt"].split()[:4])
        assert words in pdf.flat(body), (note, pdf.flat(body))
    assert "on the page of their call" in pdf.stdout and "NOT" not in pdf.stdout


def test_a_page_carries_several_notes_numbered_per_chapter(fixture_pdf: BuiltPdf) -> None:
    notes = fixture_pdf.manifest["notes"]
    one = [n for n in notes if n["docname"] == "one"]
    two = [n for n in notes if n["docname"] == "two"]
    assert [n["label"] for n in one] == ["1", "2", "3", "4", "5"]
    assert [n["label"] for n in two] == ["1", "2"]  # numbering restarts per chapter
    page = fixture_pdf.dest_page(one[0]["note_id"])
    text = fixture_pdf.pages[page]
    for label in ("1", "2", "3", "4"):
        assert re.search(rf"^\s*{label}\.\s", text, re.M), f"note {label} on page {page}"


def test_a_reused_note_is_printed_once_and_both_calls_point_to_it(
        fixture_pdf: BuiltPdf) -> None:
    everything = " ".join(fixture_pdf.flat(i) for i in range(len(fixture_pdf.pages)))
    assert everything.count("The spelling follows the Belarusian form") == 1
    html = (fixture_pdf.stage / "book.html").read_text(encoding="utf-8")
    assert html.count('id="one--names"') == 1
    assert re.search(r'<a class="note-ref[^"]*" href="#one--names"[^>]*>2</a>', html)
    # the second call is a link in the PDF to the note's own page
    page = fixture_pdf.reader.pages[fixture_pdf.dest_page("one--names")]
    dests = [a.get_object().get("/Dest") for a in page.get("/Annots", [])]
    assert "one--names" in [str(d) for d in dests if d is not None]


# -- fonts, tagging, metadata, outline -------------------------------------------------


@pytest.mark.parametrize("book", ALL)
def test_every_font_is_embedded_and_a_real_book_face(book: str,
                                                     request: pytest.FixtureRequest) -> None:
    pdf: BuiltPdf = request.getfixturevalue(book)
    out = subprocess.run(["pdffonts", str(pdf.path)], capture_output=True, text=True,
                         check=True).stdout.splitlines()[2:]
    assert out
    for line in out:
        emb, sub = line.split()[-5:-3]
        assert (emb, sub) == ("yes", "yes"), line
    from scripts.pdf import embedded_fonts

    names = {f.name for f in embedded_fonts(pdf.path)}
    assert names <= FACES, names  # no fallback face (DejaVu …) anywhere
    assert "EB Garamond 12 Regular" in names


@pytest.mark.parametrize("book", ALL)
def test_no_text_runs_off_the_page_or_over_other_text(book: str,
                                                       request: pytest.FixtureRequest) -> None:
    from scripts.validate_pdf import check_text_placement

    pdf: BuiltPdf = request.getfixturevalue(book)
    findings = check_text_placement(pdf.path)
    assert findings.checked > 5 and findings.errors == []


def test_belarusian_and_lacinka_text_is_extractable(fixture_pdf: BuiltPdf,
                                                    minimal_pdf: BuiltPdf) -> None:
    text = " ".join(fixture_pdf.flat(i) for i in range(len(fixture_pdf.pages)))
    for word in ("Прыпяць", "рэчка", "і and ў", "č, ć, ł, ń, ś, š, ŭ, ź and ž", "Ŭładzimiraŭna"):
        assert word in text
    text = " ".join(minimal_pdf.flat(i) for i in range(len(minimal_pdf.pages)))
    assert "Першы раздзел" in text and "сям’я" in text and "Змест" in text


@pytest.mark.parametrize("book", ALL)
def test_tagged_with_metadata(book: str, request: pytest.FixtureRequest) -> None:
    pdf: BuiltPdf = request.getfixturevalue(book)
    root = pdf.reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root
    assert str(root["/Lang"]).lower().startswith(pdf.manifest["language"][:2])
    info = pdf.reader.metadata
    assert info.title == pdf.manifest["title"]
    assert info["/CreationDate"].startswith("D:20240501")


def test_fixture_metadata(fixture_pdf: BuiltPdf) -> None:
    info = fixture_pdf.reader.metadata
    assert info.author == "Test Author"
    assert "fixture" in info["/Keywords"] and info.subject.startswith("A small book")


@pytest.mark.parametrize("book", ALL)
def test_outline_has_every_chapter(book: str, request: pytest.FixtureRequest) -> None:
    pdf: BuiltPdf = request.getfixturevalue(book)

    def titles(items: list) -> list[str]:
        out = []
        for item in items:
            out.extend(titles(item) if isinstance(item, list) else [item.title])
        return out

    outline = titles(pdf.reader.outline)
    for part in pdf.manifest["parts"]:
        expected = f"{part['number']} {part['title']}".strip()
        assert expected in outline, (expected, outline)


# -- contents, index, running heads ----------------------------------------------------


@pytest.mark.parametrize("book", ALL)
def test_contents_gives_the_page_each_part_starts_on(book: str,
                                                     request: pytest.FixtureRequest) -> None:
    pdf: BuiltPdf = request.getfixturevalue(book)
    contents = next(i for i, t in enumerate(pdf.pages)
                    if t.strip() and t.split()[0] in ("Contents", "Змест"))
    text = pdf.pages[contents]
    for part in pdf.manifest["parts"]:
        start = pdf.dest_page(part["anchor"])
        assert pdf.flat(start).startswith(f"{part['number']} {part['title']}".strip()), part
        line = re.search(re.escape(part["title"]) + r"[ .]*\s([0-9ivxlc]+)\s*$", text, re.M)
        assert line, (part["title"], text)
        assert line.group(1) == folio(pdf, start), (part, line.group(0))


@pytest.mark.parametrize("book", ALL)
def test_running_heads_and_folios(book: str, request: pytest.FixtureRequest) -> None:
    """Every page with a head shows the right folio at the outer corner, the book's title
    on versos and its part's title on rectos; openings and blank pages have none."""
    pdf: BuiltPdf = request.getfixturevalue(book)
    starts = sorted((pdf.dest_page(p["anchor"]), p["title"]) for p in pdf.manifest["parts"])
    openings = {page for page, _ in starts}
    checked = 0
    for page in range(starts[0][0], len(pdf.pages)):
        lines = [line for line in pdf.pages[page].splitlines() if line.strip()]
        part = [title for start, title in starts if start <= page][-1]
        head = " ".join(lines[0].split()) if lines else ""
        heads = (f"{folio(pdf, page)} {pdf.manifest['title']}", f"{part} {folio(pdf, page)}")
        if page in openings or not lines:
            assert head not in heads, (page, head)
            continue
        verso = page % 2 == 1  # physical page 1 (0-based 0) is a recto
        if verso:
            assert head == f"{folio(pdf, page)} {pdf.manifest['title']}", (page, head)
        else:
            assert head == f"{part} {folio(pdf, page)}", (page, head)
        checked += 1
    if book == "long_pdf":
        assert checked >= 6


def test_index_gives_pages_that_contain_the_term(fixture_pdf: BuiltPdf) -> None:
    html = (fixture_pdf.stage / "book.html").read_text(encoding="utf-8")
    index_page = fixture_pdf.dest_page("document-genindex")
    index_text = " ".join(fixture_pdf.pages[index_page].split())
    entries = re.findall(r'<li class="index-entry"><p>([^<]+)((?:<a class="index-page[^>]*>'
                         r'</a>)*)', html)
    assert len(entries) >= 4
    checked = 0
    for term, links in entries:
        for href in re.findall(r'href="#([^"]+)"', links):
            page = fixture_pdf.dest_page(href)
            assert term in fixture_pdf.flat(page), (term, page)
            assert f"{term}, {folio(fixture_pdf, page)}" in index_text, (term, index_text)
            checked += 1
    assert checked >= 4


def test_cross_references_print_the_page(fixture_pdf: BuiltPdf) -> None:
    one = fixture_pdf.dest_page("one--sec-marsh")
    two = fixture_pdf.dest_page("two--sec-mouth")
    text = " ".join(fixture_pdf.flat(i) for i in range(len(fixture_pdf.pages)))
    assert f"The marshes (p. {folio(fixture_pdf, one)})" in text
    assert f"Where it ends (p. {folio(fixture_pdf, two)})" in text


def test_title_pages_and_colophon(fixture_pdf: BuiltPdf) -> None:
    assert fixture_pdf.flat(0) == "The River Book"  # half-title
    assert fixture_pdf.flat(1) == ""  # its blank verso
    assert "A Fixture for the Book Builder" in fixture_pdf.flat(2)
    colophon = fixture_pdf.flat(3)
    for words in ("1 May 2024", "Text in the public domain.", "An Atlas of Rivers",
                  "Field Notes from Polesia", "Set in EB Garamond."):
        assert words in colophon, words
    # the colophon names the faces the book is set in: this one has no bold text
    fonts = subprocess.run(["pdffonts", str(fixture_pdf.path)], capture_output=True,
                           text=True, check=True).stdout
    assert "Gentium" not in colophon
    assert "Book-Text" in fonts and "Bold" not in fonts  # no bold face embedded either


# -- the build itself ------------------------------------------------------------------


def test_summary_and_single_output(fixture_pdf: BuiltPdf) -> None:
    assert fixture_pdf.path.name == "the-river-book.pdf"
    assert [p.name for p in fixture_pdf.path.parent.iterdir()] == ["the-river-book.pdf"]
    assert re.search(r"pdf summary: \d+ pages, \d+ KiB, pdf/ua-1", fixture_pdf.stdout)
    assert "fonts: EB Garamond 12 Italic, EB Garamond 12 Regular" in fixture_pdf.stdout


def test_two_builds_are_byte_identical(fixture_pdf: BuiltPdf, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "fixture-book"
    shutil.copytree(FIXTURE_BOOK, copy)  # another BUILD dir and another checkout path
    again = _build(copy, tmp_path / "again")
    assert again.path.read_bytes() == fixture_pdf.path.read_bytes()
