"""The chapter-parallel PDF against the one-shot render, its chunk cache, the book generator.

The fixture book is built twice with the real command line: ``BOOK_PDF_PARALLEL=1`` (chunks
of parts in worker processes, joined with pikepdf) and ``BOOK_PDF_PARALLEL=0`` (one
WeasyPrint render). They must agree page for page: the same number of pages, the same text
on each page (pdftotext, whitespace collapsed), the same outline with the same target
pages, the same named destinations on the same pages, and the same tagging and metadata.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURE_BOOK, MINIMAL_BOOK, run_build
from pypdf import PdfReader

EPOCH = {"SOURCE_DATE_EPOCH": "1714521600"}


def _build(book: Path, build: Path, parallel: str) -> tuple[Path, str]:
    result = run_build(book, build, "pdf", env=EPOCH | {"BOOK_PDF_PARALLEL": parallel})
    assert result.returncode == 0, result.stderr
    [path] = (build / "pdf").glob("*.pdf")
    return path, result.stdout


def _pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")[:-1]]


def _outline(reader: PdfReader, items: list | None = None) -> list:
    out = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            out.append(_outline(reader, item))
        else:
            out.append((item.title, reader.get_destination_page_number(item)))
    return out


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    root = tmp_path_factory.mktemp("parallel")
    return {"parallel": _build(FIXTURE_BOOK, root / "parallel", "1"),
            "one-shot": _build(FIXTURE_BOOK, root / "one-shot", "0")}


def test_the_parallel_render_is_used_and_reported(both: dict) -> None:
    assert re.search(r"\(chapter-parallel: \d+ chunks", both["parallel"][1])
    assert "(one-shot)" in both["one-shot"][1]


def test_same_pages_and_text_per_page(both: dict) -> None:
    parallel, single = _pages(both["parallel"][0]), _pages(both["one-shot"][0])
    assert len(parallel) == len(single)
    for number, (a, b) in enumerate(zip(parallel, single, strict=True)):
        assert a == b, f"page {number + 1}:\n{a}\n---\n{b}"


def test_same_outline_and_destinations(both: dict) -> None:
    parallel, single = PdfReader(both["parallel"][0]), PdfReader(both["one-shot"][0])
    assert _outline(parallel) == _outline(single)
    assert parallel.named_destinations.keys() == single.named_destinations.keys()
    for name, dest in single.named_destinations.items():
        assert (parallel.get_destination_page_number(parallel.named_destinations[name])
                == single.get_destination_page_number(dest)), name


def test_same_tagging_and_metadata(both: dict) -> None:
    parallel, single = PdfReader(both["parallel"][0]), PdfReader(both["one-shot"][0])
    assert parallel.metadata == single.metadata
    assert parallel.trailer["/ID"][0] == single.trailer["/ID"][0]  # the book's file id
    for reader in (parallel, single):
        root = reader.trailer["/Root"]
        assert bool(root["/MarkInfo"]["/Marked"]) and str(root["/Lang"]) == "en-GB"
        assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    structure = parallel.trailer["/Root"]["/StructTreeRoot"].get_object()
    [document] = structure["/K"]
    kids = document.get_object()["/K"]
    assert len(kids) == len(single.trailer["/Root"]["/StructTreeRoot"]["/K"][0]
                            .get_object()["/K"])
    pages = {page.indirect_reference.idnum: n for n, page in enumerate(parallel.pages)}
    for kid in kids:  # every element points at a page of this file and at its parent
        element = kid.get_object()
        assert element.raw_get("/P").idnum == document.idnum
        if "/Pg" in element:
            assert element.raw_get("/Pg").idnum in pages
    # every page's marked content is in the parent tree under the page's own key
    nums = structure["/ParentTree"].get_object()["/Nums"]
    keys = [int(k) for k in nums[::2]]
    assert keys == sorted(keys)
    assert [int(p["/StructParents"]) for p in parallel.pages] == list(range(len(pages)))


def test_a_belarusian_book_renders_the_same(tmp_path: Path) -> None:
    """Page references in another language's words ("с. 3"), roman folios, Cyrillic heads."""
    parallel, _ = _build(MINIMAL_BOOK, tmp_path / "parallel", "1")
    single, _ = _build(MINIMAL_BOOK, tmp_path / "one-shot", "0")
    assert _pages(parallel) == _pages(single)
    assert _outline(PdfReader(parallel)) == _outline(PdfReader(single))


def test_links_across_chunks_are_internal(both: dict) -> None:
    reader = PdfReader(both["parallel"][0])
    dests = set(reader.named_destinations)
    links = [annot.get_object() for page in reader.pages for annot in page.get("/Annots", [])]
    assert links
    for link in links:
        assert "/A" not in link or "book-xref" not in str(link["/A"].get("/URI", ""))
        if "/Dest" in link:
            assert str(link["/Dest"]) in dests, link


def test_rebuild_uses_the_chunk_cache_and_is_byte_identical(tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, book)
    first, _ = _build(book, tmp_path / "build", "1")
    data = first.read_bytes()
    again, stdout = _build(book, tmp_path / "build", "1")
    assert again.read_bytes() == data
    assert re.search(r"chunks, 0 renders", stdout), stdout
    # a chapter edited: its chunk is rendered again, the untouched ones are not
    with (book / "two.md").open("a", encoding="utf-8") as f:
        f.write("\nA sentence added at the end of the chapter.\n")
    _, stdout = _build(book, tmp_path / "build", "1")
    chunks, renders = map(int, re.search(r"(\d+) chunks, (\d+) renders", stdout).groups())
    assert 0 < renders < 2 * chunks, stdout


def test_chunks_are_whole_parts_with_the_front_pages_and_index_apart(tmp_path: Path) -> None:
    import sys

    from scripts.pdf_parallel import plan_chunks

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conf" / "ext"))
    from print_edition import PrintManifest

    _build(FIXTURE_BOOK, tmp_path, "1")
    stage = tmp_path / ".stage" / "printhtml"
    manifest = PrintManifest.load(stage / "book.json")
    html = (stage / "book.html").read_text(encoding="utf-8")
    chunks = plan_chunks(html, manifest, max_chars=1)
    assert chunks[0].names == ("front pages",)
    assert [c.names for c in chunks[1:]] == [(p["docname"],) for p in manifest.parts]
    assert [c.first_body for c in chunks] == [False, False, True, False, False, False, False]
    assert chunks[-1].last and chunks[-1].names == ("genindex",)
    for chunk in chunks:
        assert chunk.html.startswith("<!DOCTYPE html>") and chunk.html.endswith("</html>\n")
        assert chunk.html.count("<section class=\"part") == (0 if chunk.index == 0 else 1)
        assert ('class="print-chunk-end"' in chunk.html) != chunk.last
    whole = plan_chunks(html, manifest)
    assert [c.names for c in whole][-1] == ("genindex",)
    assert sum(len(c.names) for c in whole[1:]) == len(manifest.parts)
    json.dumps([c.names for c in whole])


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    from scripts.genbook import generate_book

    one = generate_book(tmp_path / "one", 30, seed=3)
    two = generate_book(tmp_path / "two", 30, seed=3)
    files = sorted(p.relative_to(one.path) for p in one.path.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two.path) for p in two.path.rglob("*") if p.is_file())
    for name in files:
        assert (one.path / name).read_bytes() == (two.path / name).read_bytes(), name
    assert one.notes and one.figures and one.chapters >= 2
    text = " ".join(p.read_text(encoding="utf-8") for p in one.path.glob("ch*.md"))
    assert "{footcite}" in text and "{index}" in text and "{term}" in text
    assert "```{index} single:" in text and re.search(r"[а-яёіў]", text)
    sentences = re.findall(r"[A-Z][^.!?]{20,}[.!?]", text)
    assert len(set(sentences)) > 0.95 * len(sentences)  # no lorem-ipsum repetition


def _after_texts(pages: list) -> list[str]:
    return [box.text for page in pages for box in page._page_box.descendants()
            if str(getattr(box, "element_tag", "")).endswith("::after") and hasattr(box, "text")]


def test_page_numbers_are_filled_in_only_where_they_take_the_same_width() -> None:
    """The parallel render lays a chunk out once with estimated page numbers and fills in
    the real ones; a number that would change the width of its line is refused."""
    from weasyprint import HTML

    from scripts.pdf_parallel import fill_numbers

    def laid_out(figures: str, number: str) -> list:
        html = (f"<style>body {{ font-family: 'EB Garamond 12' }} "
                f"a::after {{ content: '\\00a0p.\\00a0' attr(data-page); "
                f"font-variant-numeric: oldstyle-nums {figures} }}</style><p>See <a "
                f"href='#x' data-page='{number}' data-page-roman='x'>this</a>.</p>"
                "<h2 id='x'>X</h2>")
        return list(HTML(string=html).render().pages)

    pages = laid_out("tabular-nums", "188")
    assert fill_numbers(pages, {"x": 231})
    assert _after_texts(pages) == ["\xa0p.\xa0231"]
    assert fill_numbers(pages, {"y": 5})  # a number it does not print: nothing to do
    # a shorter number, or proportional figures of other widths: laid out again instead
    pages = laid_out("tabular-nums", "188")
    assert not fill_numbers(pages, {"x": 7})
    assert _after_texts(pages) == ["\xa0p.\xa0188"]
    pages = laid_out("proportional-nums", "111")
    assert not fill_numbers(pages, {"x": 888})
    assert _after_texts(pages) == ["\xa0p.\xa0111"]


@pytest.mark.parametrize("parallel", ["0", "1"])
def test_an_unknown_pdf_variant_is_a_clear_error(tmp_path: Path, parallel: str) -> None:
    result = run_build(MINIMAL_BOOK, tmp_path, "pdf", env=EPOCH | {
        "BOOK_PDF_PARALLEL": parallel, "BOOK_PDF_VARIANT": "pdf/z-9"})
    assert result.returncode == 1
    assert "BOOK_PDF_VARIANT='pdf/z-9' is not a PDF variant" in result.stderr
    assert "pdf/ua-1" in result.stderr and "Traceback" not in result.stderr
    assert not list((tmp_path / "pdf").glob("*.pdf"))


def test_files_the_workers_may_not_read_are_reported_not_joined(both: dict,
                                                                 tmp_path: Path) -> None:
    """The fetcher in each worker refuses what is outside the allowed roots (here: the
    stage itself, so print.css); the driver returns the refusals for the build to report."""
    import sys

    from scripts.pdf import FONT_DIRS, pdf_identifier
    from scripts.pdf_parallel import render_parallel

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conf" / "ext"))
    from _print_manifest import PRINT_CSS, PrintManifest

    stage = both["parallel"][0].parent.parent / ".stage" / "printhtml"
    manifest = PrintManifest.load(stage / "book.json")
    html = (stage / manifest.html).read_text(encoding="utf-8")
    target = tmp_path / "out.pdf"
    result = render_parallel(html, manifest, PRINT_CSS.read_text(encoding="utf-8"), target,
                             tmp_path / "cache", roots=[*FONT_DIRS], stage=stage,
                             variant="pdf/ua-1", identifier=pdf_identifier(manifest))
    assert any(url.endswith("print.css") for url in result.refused), result.refused
    assert not target.exists()


def test_every_page_looks_the_same_as_the_one_shot_render(both: dict, tmp_path: Path) -> None:
    """Pixels, not only text: glyphs from the shared font programs, running heads drawn
    over the pages, filled-in page numbers."""
    from PIL import Image, ImageChops

    for name in ("parallel", "one-shot"):
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(both[name][0]),
                        str(tmp_path / name)], check=True)
    parallel = sorted(tmp_path.glob("parallel-*.png"))
    single = sorted(tmp_path.glob("one-shot-*.png"))
    assert len(parallel) == len(single) > 10
    for a, b in zip(parallel, single, strict=True):
        difference = ImageChops.difference(Image.open(a).convert("L"), Image.open(b).convert("L"))
        assert difference.getbbox() is None, f"{a.name} differs in {difference.getbbox()}"


def test_each_face_is_embedded_once(both: dict) -> None:
    import pikepdf

    from scripts.pdf_fonts import type0_fonts

    programs: dict[str, set] = {}
    with pikepdf.open(both["parallel"][0]) as pdf:
        for page in pdf.pages:
            for font in type0_fonts(page.obj):
                descriptor = font.DescendantFonts[0].FontDescriptor
                program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
                programs.setdefault(str(descriptor.FontName), set()).add(program.objgen)
    assert len(programs) >= 2  # regular and italic at least
    assert all(len(found) == 1 for found in programs.values()), programs
    size = both["parallel"][0].stat().st_size
    assert size < 1.3 * both["one-shot"][0].stat().st_size


def test_font_widths_and_shared_faces() -> None:
    import pikepdf

    from scripts.pdf_fonts import shared_faces, used_glyphs

    widths = pikepdf.Array([1, pikepdf.Array([200, 285]), 9, 11, 500])
    assert used_glyphs(widths) == {1: 200, 2: 285, 9: 500, 10: 500, 11: 500}
    face = {"postscript": "EBGaramond12-Regular", "key": "/FontFile3"}
    one = {"ABCDEF+Text": {**face, "widths": [[1, 200.0], [5, 300.0]]}}
    two = {"ABCDEF+Text": {**face, "widths": [[5, 300.0], [7, 410.0]]},
           "GHIJKL+Only-Here": {**face, "widths": [[3, 100.0]]}}
    shared = shared_faces([one, two])
    assert list(shared) == ["ABCDEF+Text"]  # a face of one document is left as it is
    assert shared["ABCDEF+Text"]["widths"] == {1: 200.0, 5: 300.0, 7: 410.0}
    other = {"ABCDEF+Text": {**face, "widths": [[5, 333.0]]}}  # another font version
    assert shared_faces([one, other]) == {}
