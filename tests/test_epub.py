"""End-to-end: the EPUB edition of the test books, as EPUBCheck and a reviewer see it.

Each book is built once per session with a fixed ``SOURCE_DATE_EPOCH``; the fixture book a
second time, into another directory, to prove the bytes are reproducible.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from scripts.epub import FONT_SOURCES
from scripts.validate_epub import run_epubcheck
from tests.conftest import FIXTURE_BOOK, MINIMAL_BOOK, run_build

EPOCH = "1700000000"  # 2023-11-14T22:13:20Z
NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class Epub:
    path: Path
    language: str

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.path) as z:
            return z.namelist()

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(self.path) as z:
            return z.read(name)

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.read(name))

    @property
    def opf(self) -> etree._Element:
        return self.xml("EPUB/content.opf")

    def documents(self) -> list[str]:
        """The spine's documents, as zip names."""
        opf = self.opf
        hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:item", NS)}
        return ["EPUB/" + hrefs[ref.get("idref")] for ref in opf.iterfind(".//opf:itemref", NS)]


def _build(book: Path, build: Path, language: str) -> Epub:
    result = run_build(book, build, "epub", env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stderr
    epubs = list((build / "epub").glob("*.epub"))
    assert len(epubs) == 1, epubs
    return Epub(epubs[0], language)


@pytest.fixture(scope="session")
def fixture_epub(tmp_path_factory: pytest.TempPathFactory) -> Epub:
    return _build(FIXTURE_BOOK, tmp_path_factory.mktemp("fixture-epub"), "en-GB")


@pytest.fixture(scope="session")
def minimal_epub(tmp_path_factory: pytest.TempPathFactory) -> Epub:
    return _build(MINIMAL_BOOK, tmp_path_factory.mktemp("minimal-epub"), "be")


@pytest.fixture(scope="session", params=["fixture", "minimal"])
def any_epub(request: pytest.FixtureRequest) -> Epub:
    return request.getfixturevalue(f"{request.param}_epub")


def test_one_epub_named_after_the_book(fixture_epub: Epub) -> None:
    assert fixture_epub.path.name == "the-river-book.epub"
    assert fixture_epub.names()[0] == "mimetype"


def test_epubcheck_reports_nothing(any_epub: Epub) -> None:
    findings = run_epubcheck(any_epub.path)
    assert findings.errors == [] and findings.warnings == []
    assert findings.checked > 5


def test_every_noteref_points_to_an_aside_footnote_in_the_same_document(any_epub: Epub) -> None:
    seen = 0
    for name in any_epub.documents():
        doc = any_epub.xml(name)
        for ref in doc.iterfind(".//x:a", NS):
            if ref.get(EPUB_TYPE) != "noteref":
                continue
            seen += 1
            assert ref.get("role") == "doc-noteref"
            href = ref.get("href")
            assert href.startswith("#note-"), href
            assert re.fullmatch(r"noteref-\d+(-\d+)?", ref.get("id"))
            (aside,) = doc.xpath(f'//x:aside[@id="{href[1:]}"]', namespaces=NS)
            assert aside.get(EPUB_TYPE) == "footnote" and aside.get("role") == "doc-footnote"
            # the note links back to this very call
            backlinks = aside.xpath('.//x:a[@role="doc-backlink"]/@href', namespaces=NS)
            assert "#" + ref.get("id") in backlinks
            assert ref.text == href.removeprefix("#note-")
    assert seen >= 3


def test_reused_label_is_one_aside_with_two_noterefs(fixture_epub: Epub) -> None:
    doc = fixture_epub.xml("EPUB/one.xhtml")
    asides = [a for a in doc.iterfind(".//x:aside", NS)
              if "spelling follows" in "".join(a.itertext())]
    assert len(asides) == 1
    note = asides[0]
    calls = doc.xpath(f'//x:a[@href="#{note.get("id")}"]', namespaces=NS)
    assert [c.get("id") for c in calls] == ["noteref-2", "noteref-2-2"]
    assert len(note.xpath('.//x:a[@epub:type="backlink"]', namespaces=NS)) == 2
    # italics and links survive inside the note
    assert note.xpath(".//x:em", namespaces=NS)
    assert note.xpath('.//x:a[@href="#sec-marsh"]', namespaces=NS)


def test_a_footnote_reads_as_standard_ebooks_marks_it(fixture_epub: Epub) -> None:
    """A snapshot of one note and its call: change it only on purpose."""
    text = fixture_epub.read("EPUB/one.xhtml").decode()
    assert ('<a class="noteref" epub:type="noteref" href="#note-4" id="noteref-4" '
            'role="doc-noteref">4</a>') in text
    assert (
        '<aside class="citation-note footnote" epub:type="footnote" id="note-4" '
        'role="doc-footnote">\n<p><span class="note-number">4.</span> The Survey Office, '
        '“Field Notes from Polesia”, 1999. <a aria-label="Back to the text" '
        'class="note-backlink" epub:type="backlink" href="#noteref-4" role="doc-backlink">'
        '↩\ufe0e</a></p>\n</aside>'
    ) in text


def test_nav_lists_every_part_and_has_landmarks(fixture_epub: Epub) -> None:
    nav = fixture_epub.xml("EPUB/nav.xhtml")
    (toc,) = nav.xpath('//x:nav[@epub:type="toc"]', namespaces=NS)
    toc_hrefs = toc.xpath(".//x:a/@href", namespaces=NS)
    for part in ("preface", "one", "two", "glossary", "bibliography", "genindex", "colophon"):
        assert f"{part}.xhtml" in toc_hrefs
    assert "one.xhtml#sec-marsh" in toc_hrefs  # sections too
    titles = toc.xpath(".//x:a/text()", namespaces=NS)
    assert "1. The Source of the River" in titles
    (landmarks,) = nav.xpath('//x:nav[@epub:type="landmarks"]', namespaces=NS)
    types = {a.get(EPUB_TYPE): a.get("href") for a in landmarks.iterfind(".//x:a", NS)}
    assert types["bodymatter"] == "one.xhtml"
    assert types["toc"] == "nav.xhtml#toc"
    assert {"cover", "titlepage", "index", "glossary", "bibliography", "colophon"} <= set(types)
    # and the NCX for older readers lists the chapters too
    ncx = fixture_epub.read("EPUB/toc.ncx").decode()
    assert 'src="one.xhtml"' in ncx and 'src="two.xhtml"' in ncx


def test_spine_in_reading_order(fixture_epub: Epub) -> None:
    assert [n.removeprefix("EPUB/") for n in fixture_epub.documents()] == [
        "cover.xhtml", "titlepage.xhtml", "nav.xhtml", "preface.xhtml", "one.xhtml",
        "two.xhtml", "glossary.xhtml", "bibliography.xhtml", "genindex.xhtml",
        "colophon.xhtml",
    ]


def test_sections_carry_epub_semantics_and_aria_roles(fixture_epub: Epub) -> None:
    expected = {
        "preface.xhtml": ("frontmatter", "preface", "doc-preface"),
        "one.xhtml": ("bodymatter", "chapter", "doc-chapter"),
        "glossary.xhtml": ("backmatter", "glossary", "doc-glossary"),
        "bibliography.xhtml": ("backmatter", "bibliography", "doc-bibliography"),
        "genindex.xhtml": ("backmatter", "index", "doc-index"),
        "colophon.xhtml": ("backmatter", "colophon", "doc-colophon"),
    }
    for name, (matter, kind, role) in expected.items():
        doc = fixture_epub.xml("EPUB/" + name)
        body = doc.find("x:body", NS)
        assert body.get(EPUB_TYPE) == matter, name
        section = body.find("x:section", NS)
        assert section.get(EPUB_TYPE) == kind and section.get("role") == role, name
    title = fixture_epub.xml("EPUB/titlepage.xhtml").find(".//x:section", NS)
    assert title.get(EPUB_TYPE) == "titlepage"


def test_metadata_is_complete_and_has_no_placeholders(any_epub: Epub) -> None:
    opf = any_epub.opf
    meta = opf.find("opf:metadata", NS)
    assert opf.get(XML_LANG) == any_epub.language
    values = {el.tag.split("}")[1] for el in meta if el.tag.startswith("{" + NS["dc"])}
    assert {"identifier", "title", "language", "creator", "date"} <= values
    for el in meta:
        text = (el.text or "").strip()
        if el.get("property") == "schema:accessibilityHazard":
            continue  # "none" is the vocabulary's word for no hazard
        assert text.lower() not in {"unknown", "none", "null", "todo", "untitled"}, \
            etree.tostring(el)
        if el.tag.startswith("{" + NS["dc"]):
            assert text, etree.tostring(el)
    (identifier,) = meta.iterfind("dc:identifier", NS)
    assert identifier.text.startswith("urn:uuid:")
    assert meta.findtext("dc:language", namespaces=NS) == any_epub.language
    props = [(m.get("property"), m.text) for m in meta.iterfind("opf:meta", NS)]
    assert ("dcterms:modified", "2023-11-14T22:13:20Z") in props
    names = {p for p, _ in props}
    for prop in ("schema:accessMode", "schema:accessModeSufficient",
                 "schema:accessibilityFeature", "schema:accessibilityHazard",
                 "schema:accessibilitySummary", "dcterms:conformsTo"):
        assert prop in names, prop


def test_fixture_metadata_comes_from_the_front_matter(fixture_epub: Epub) -> None:
    meta = fixture_epub.opf.find("opf:metadata", NS)
    assert meta.findtext("dc:title", namespaces=NS) == "The River Book"
    assert meta.findtext("dc:creator", namespaces=NS) == "Test Author"
    assert meta.findtext("dc:publisher", namespaces=NS) == "Fixture Press"
    assert meta.findtext("dc:date", namespaces=NS) == "2024-05-01"
    assert meta.findtext("dc:description", namespaces=NS).startswith("A small book")


def test_every_document_has_its_language(any_epub: Epub) -> None:
    for name in any_epub.documents():
        root = any_epub.xml(name)
        assert root.get(XML_LANG) == any_epub.language, name
        assert root.get("lang") == any_epub.language, name


def test_fonts_are_embedded_and_subset(any_epub: Epub) -> None:
    fonts = [n for n in any_epub.names() if n.startswith("EPUB/fonts/")]
    assert sorted(posixpath.basename(n) for n in fonts) == sorted(FONT_SOURCES)
    css = any_epub.read("EPUB/css/epub.css").decode()
    manifest = any_epub.opf.xpath("//opf:item/@href", namespaces=NS)
    for name in fonts:
        assert f'url("../fonts/{posixpath.basename(name)}")' in css
        assert name.removeprefix("EPUB/") in manifest
        subset = TTFont(io.BytesIO(any_epub.read(name)))
        full = TTFont(str(FONT_SOURCES[posixpath.basename(name)]))
        assert len(subset.getGlyphOrder()) < len(full.getGlyphOrder()) / 2
        cmap = subset.getBestCmap()
        assert ord("a") in cmap
    if any_epub.language == "be":
        cmap = TTFont(io.BytesIO(any_epub.read("EPUB/fonts/EBGaramond-Regular.otf"))).getBestCmap()
        assert ord("ў") in cmap and ord("і") in cmap


def test_links_between_documents_resolve(any_epub: Epub) -> None:
    names = set(any_epub.names())
    ids: dict[str, set[str]] = {}
    for name in any_epub.documents():
        ids[name] = set(any_epub.xml(name).xpath("//@id"))
    for name in any_epub.documents():
        for href in any_epub.xml(name).xpath("//x:a/@href | //x:img/@src", namespaces=NS):
            if re.match(r"[a-z]+:", href):
                continue
            path, _, fragment = href.partition("#")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path)) \
                if path else name
            assert target in names, f"{name}: {href}"
            if fragment:
                assert fragment in ids[target], f"{name}: {href}"


def test_no_scripts_no_inline_styles_and_images_have_alt(any_epub: Epub) -> None:
    for name in any_epub.documents():
        doc = any_epub.xml(name)
        assert not doc.xpath("//x:script", namespaces=NS), name
        assert not doc.xpath("//@style", namespaces=NS), name
        for img in doc.iterfind(".//x:img", NS):
            assert img.get("alt", "").strip(), name


def test_index_and_glossary_are_documents_with_working_links(fixture_epub: Epub) -> None:
    index = fixture_epub.xml("EPUB/genindex.xhtml")
    locators = index.xpath('//x:a[@epub:type="index-locator"]', namespaces=NS)
    assert {a.get("href").split("#")[0] for a in locators} >= {"one.xhtml", "two.xhtml"}
    glossary = fixture_epub.xml("EPUB/glossary.xhtml")
    terms = glossary.xpath('//x:dt[@epub:type="glossterm"]', namespaces=NS)
    assert [t.xpath("string()") for t in terms] == ["polder", "Polesia"]
    one = fixture_epub.read("EPUB/one.xhtml").decode()
    assert 'href="glossary.xhtml#term-polder"' in one


def test_cover_is_an_image_with_a_page(fixture_epub: Epub) -> None:
    opf = fixture_epub.opf
    (cover,) = opf.xpath('//opf:item[@properties="cover-image"]', namespaces=NS)
    assert fixture_epub.read("EPUB/" + cover.get("href"))[:8] == b"\x89PNG\r\n\x1a\n"
    page = fixture_epub.xml("EPUB/cover.xhtml")
    (img,) = page.iterfind(".//x:img", NS)
    assert img.get("src") == cover.get("href") and "The River Book" in img.get("alt")


def test_same_source_date_epoch_gives_the_same_bytes(
    fixture_epub: Epub, tmp_path_factory: pytest.TempPathFactory
) -> None:
    again = _build(FIXTURE_BOOK, tmp_path_factory.mktemp("fixture-epub-again"), "en-GB")
    differing = [name for name in fixture_epub.names()
                 if name not in again.names() or again.read(name) != fixture_epub.read(name)]
    assert differing == []
    assert again.path.read_bytes() == fixture_epub.path.read_bytes()
    with zipfile.ZipFile(again.path) as z:
        assert {info.date_time for info in z.infolist()} == {(2023, 11, 14, 22, 13, 20)}
        assert z.getinfo("mimetype").compress_type == zipfile.ZIP_STORED


def test_an_incremental_rebuild_gives_the_same_bytes(
    fixture_epub: Epub, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Rewriting only the edited chapter still packages every chapter, section and image."""
    book = tmp_path_factory.mktemp("book-copy") / "book"
    shutil.copytree(FIXTURE_BOOK, book)
    build = tmp_path_factory.mktemp("fixture-epub-incremental")
    first = _build(book, build, "en-GB")
    assert first.path.read_bytes() == fixture_epub.path.read_bytes()
    os.utime(book / "two.md")  # "edited": only two.md is rewritten
    again = _build(book, build, "en-GB")
    assert again.path.read_bytes() == fixture_epub.path.read_bytes()


def test_an_image_without_alt_text_fails_the_build_with_file_and_line(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    book = tmp_path_factory.mktemp("no-alt") / "book"
    shutil.copytree(MINIMAL_BOOK, book)
    shutil.copy(FIXTURE_BOOK / "figures" / "river.png", book / "river.png")
    with (book / "second.md").open("a", encoding="utf-8") as f:
        f.write("\n![](river.png)\n")
    build = tmp_path_factory.mktemp("no-alt-build")
    result = run_build(book, build, "epub")
    assert result.returncode == 1
    assert re.search(r"second\.md:\d+: .*image 'river\.png' has no alt text", result.stderr)
    assert not (build / "epub").exists()
    # the same problem, built again without a change, is reported again (not taken as done)
    again = run_build(book, build, "epub")
    assert again.returncode == 1 and "has no alt text" in again.stderr


GOLDEN = Path(__file__).parent / "golden" / "epub"


@pytest.mark.parametrize("name", ["content.opf", "nav.xhtml", "toc.ncx"])
def test_package_files_match_their_snapshots(fixture_epub: Epub, name: str) -> None:
    """The fixture's OPF, nav and NCX as reviewed; after a deliberate change, refresh them
    with ``UPDATE_GOLDEN=1 make test`` and review the diff like code."""
    actual = fixture_epub.read(f"EPUB/{name}").decode("utf-8")
    golden = GOLDEN / f"fixture-{name}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")
