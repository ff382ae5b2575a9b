"""End-to-end: a book unlike ours — chapters in a folder, an introduction in the root
document, formulas, code listings, tables, admonitions, SVG and JPEG images, no
bibliography — built in all three editions and checked by the real validators and by what
a reader would see (``tests/features-book/``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from scripts.findings import ValidatorMissing
from scripts.validate_epub import ACE_CLI, run_ace, run_epubcheck
from scripts.validate_html import run_vnu
from tests.conftest import ROOT, run_build

BOOK = ROOT / "tests" / "features-book"
NS = {"x": "http://www.w3.org/1999/xhtml", "svg": "http://www.w3.org/2000/svg",
      "opf": "http://www.idpf.org/2007/opf"}
INTRO = "This book is about small things."


@dataclass
class Editions:
    build: Path

    @property
    def epub(self) -> Path:
        (path,) = (self.build / "epub").glob("*.epub")
        return path

    @property
    def pdf(self) -> Path:
        (path,) = (self.build / "pdf").glob("*.pdf")
        return path

    def pdf_text(self, *options: str) -> str:
        return subprocess.run(["pdftotext", *options, str(self.pdf), "-"], check=True,
                              capture_output=True, text=True).stdout

    def epub_file(self, name: str) -> bytes:
        with zipfile.ZipFile(self.epub) as z:
            return z.read(name)

    def epub_names(self) -> list[str]:
        with zipfile.ZipFile(self.epub) as z:
            return z.namelist()


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> Editions:
    build = tmp_path_factory.mktemp("features")
    result = run_build(BOOK, build, "html", "pdf", "epub",
                       env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    return Editions(build)


def test_epubcheck_reports_nothing(editions: Editions) -> None:
    findings = run_epubcheck(editions.epub)
    assert findings.errors == [] and findings.warnings == []


@pytest.mark.skipif(shutil.which("chromium") is None or not ACE_CLI.exists(),
                    reason="Ace by DAISY or Debian chromium not installed")
def test_ace_finds_no_violation(editions: Editions) -> None:
    findings = run_ace(editions.epub)
    assert findings.errors == []


def test_nu_html_checker_finds_nothing(editions: Editions) -> None:
    try:
        findings = run_vnu(editions.build / "html")
    except ValidatorMissing as err:
        pytest.fail(str(err))
    assert findings.errors == []


def test_formulas_are_svg_named_by_their_source_in_the_epub(editions: Editions) -> None:
    doc = etree.fromstring(editions.epub_file("EPUB/part1/intro.xhtml"))
    formulas = doc.xpath("//svg:svg[contains(@class, 'math-svg')]", namespaces=NS)
    labels = [f.get("aria-label") for f in formulas]
    assert r"e^{i\pi} + 1 = 0" in labels and "a^2 + b^2 = c^2" in labels
    assert all(f.get("role") == "img" for f in formulas)
    assert all(f.xpath(".//svg:path", namespaces=NS) for f in formulas)  # drawn, not text
    assert doc.xpath("//x:div[contains(@class, 'math-display')]/x:span[@class='eqno']/text()",
                     namespaces=NS) == ["(1.1)", "(1.2)"]
    assert r"\(" not in etree.tostring(doc, method="text", encoding="unicode")
    opf = etree.fromstring(editions.epub_file("EPUB/content.opf"))
    (item,) = opf.xpath("//opf:item[@href='part1/intro.xhtml']", namespaces=NS)
    assert "svg" in item.get("properties", "").split()
    features = opf.xpath("//opf:meta[@property='schema:accessibilityFeature']/text()",
                         namespaces=NS)
    assert "describedMath" in features


def test_formulas_are_drawn_in_the_pdf_not_printed_as_latex(editions: Editions) -> None:
    text = editions.pdf_text()
    assert "Equation (1.1) is famous" in text
    for source in (r"\(", r"\pi", "e^{", r"\begin"):
        assert source not in text
    # dollarmath: $…$ and $$…$$ are formulas, a lone dollar is a price
    assert "$x_1" not in text and "$$" not in text and r"\sum" not in text
    assert "a price of $5 stays a price" in text and "Equation (1.2) sums" in text


def test_the_root_documents_own_text_is_in_every_edition(editions: Editions) -> None:
    pdf = editions.pdf_text()
    assert INTRO in pdf
    contents = pdf[pdf.index("Contents"):]
    assert contents.index("About this book") < contents.index("Introduction")
    spine_docs = [n for n in editions.epub_names() if n.endswith(".xhtml")]
    with_intro = [n for n in spine_docs if INTRO in editions.epub_file(n).decode()]
    assert with_intro == ["EPUB/index.xhtml"]
    intro = etree.fromstring(editions.epub_file("EPUB/index.xhtml"))
    # the toctree is the navigation document's job, not repeated on the page
    assert not intro.xpath("//x:a[contains(@href, 'tables.xhtml')]", namespaces=NS)
    opf = etree.fromstring(editions.epub_file("EPUB/content.opf"))
    hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:item", NS)}
    spine = [hrefs[r.get("idref")] for r in opf.iterfind(".//opf:itemref", NS)]
    assert spine.index("index.xhtml") < spine.index("part1/intro.xhtml")


def test_code_listing_line_numbers_stand_apart_from_the_code(editions: Editions) -> None:
    text = editions.pdf_text("-layout")
    assert re.search(r"^\s*1\s+def hello", text, re.M), text  # not "1def"
    doc = etree.fromstring(editions.epub_file("EPUB/code.xhtml"))
    assert doc.xpath("//x:span[@class='linenos']/text()", namespaces=NS)[:3] == ["1", "2", "3"]


def test_a_document_named_with_spaces_gets_a_safe_epub_file_name(editions: Editions) -> None:
    assert "EPUB/names-of-things.xhtml" in editions.epub_names()
    nav = editions.epub_file("EPUB/nav.xhtml").decode()
    assert 'href="names-of-things.xhtml"' in nav and "Names of things" in nav
    contents = editions.pdf_text()
    assert re.search(r"Names of things[ .]*\d+", contents)


def test_entries_cited_by_label_show_the_label_in_every_edition(editions: Editions) -> None:
    text = editions.pdf_text("-layout")
    assert "described by Smith [1]" in text
    assert re.search(r"^\s*\[1\]\s+John Smith\. A Book of Small Things", text, re.M)
    doc = editions.epub_file("EPUB/part1/tables.xhtml").decode()
    assert re.search(r'<span class="bibliography-label">\[1\] </span>John Smith', doc)
    entry = doc[doc.index('<ul class="bibliography-list">'):]
    assert "doc-backlink" not in entry[:entry.index("</ul>")]  # no web back-links
    web = (editions.build / "html" / "part1" / "tables.html").read_text()
    assert re.search(r'class="citation cited"', web)


def test_markdown_column_alignment_reaches_print(editions: Editions) -> None:
    words = [(float(x0), float(x1), text) for x0, x1, text in re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
        editions.pdf_text("-bbox"))]
    header = next(i for i, w in enumerate(words) if w[2] == "Column" and words[i + 1][2] == "C")
    column_c, column_b = words[header + 1], words[header - 1]
    (right,) = [w for w in words if w[2] == "right"]
    (centre,) = [w for w in words if w[2] == "centre"]
    # ---: sets "right" flush with the end of its header "Column C", not at its start
    assert abs(right[1] - column_c[1]) < 1.0
    # :---: centres "centre" in its column, so it ends before the header "Column B" does
    assert centre[1] < column_b[1] - 1.0 and centre[0] > words[header - 2][0] + 1.0


def test_a_numbered_chapter_ending_with_its_references_stays_a_chapter(
        editions: Editions) -> None:
    doc = etree.fromstring(editions.epub_file("EPUB/part1/tables.xhtml"))
    types = doc.xpath("//x:section/@epub:type",
                      namespaces=NS | {"epub": "http://www.idpf.org/2007/ops"})
    assert "chapter" in types and "bibliography" not in types
    nav = editions.epub_file("EPUB/nav.xhtml").decode()
    assert 'epub:type="bibliography"' not in nav


def test_formulas_and_all_keep_the_editions_reproducible(editions: Editions,
                                                         tmp_path: Path) -> None:
    again = run_build(BOOK, tmp_path, "pdf", "epub", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert again.returncode == 0, again.stderr
    twice = Editions(tmp_path)
    assert twice.pdf.read_bytes() == editions.pdf.read_bytes()
    assert twice.epub.read_bytes() == editions.epub.read_bytes()
