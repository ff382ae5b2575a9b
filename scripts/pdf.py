"""Print edition: book directory → print HTML (Sphinx ``printhtml``) → WeasyPrint → PDF.

``build_pdf`` runs the print builder (``conf/ext/print_edition.py``) into the stage dir,
renders ``book.html`` + ``print.css`` with WeasyPrint, checks that every footnote landed
on the page of its call (WeasyPrint cannot split a note, Kozea/WeasyPrint#1833), writes a
tagged PDF (``pdf/ua-1``; ``BOOK_PDF_VARIANT=pdf/a-3a`` for an archival one) and moves
it into ``BUILD/pdf/<slug>.pdf`` in one rename. WeasyPrint may only read files inside the
book, ``conf/``, the stage dir, installed packages and installed fonts; anything else
(another ``file:`` path, any network address) is refused and fails the build. Dates and
the PDF id come from the book's date or ``SOURCE_DATE_EPOCH``, so two builds of the same
sources are byte-identical. ``BOOK_STRICT=1`` fails the build when a note is misplaced.

A book of more than about 185 pages is rendered chapter-parallel
(``scripts/pdf_parallel.py``: chunks of parts in worker processes, cached per chunk,
joined with pikepdf); ``BOOK_PDF_PARALLEL=0`` forces the one-shot render of the whole
document in this process, ``BOOK_PDF_PARALLEL=1`` the parallel one for any book.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from scripts.sphinx_run import (
    CONF,
    BookPaths,
    BuildError,
    many_documents,
    partial_file,
    publish_file,
    run_sphinx,
    run_sphinx_apart,
)

BUILDER = "printhtml"
DEFAULT_VARIANT = "pdf/ua-1"
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# The print HTML is rendered with this base URL, mapped to the stage dir by the fetcher:
# WeasyPrint names images by the md5 of their URL, so a path that depends on BUILD would
# make two builds of the same book differ.
STAGE_URL = "file:///print-edition-stage/"
# Below this much print HTML (≈ 185 A5 pages) the one-shot render is used: chunks would
# save little (this book, 77 pages: 9.3 s against 10.3 s for the build) and cost more
# memory (three processes with WeasyPrint loaded: 298 MB against 230 MB) and some size
# (525 KiB against 458 KiB).
PARALLEL_MIN_CHARS = 500_000


@dataclass(frozen=True)
class MisplacedNote:
    """A note whose body WeasyPrint put on another page than its call."""

    docname: str
    label: str
    call_page: int  # 1-based physical page numbers
    note_page: int
    excerpt: str

    def __str__(self) -> str:
        where = (f"printed on page {self.note_page}" if self.note_page else
                 "not printed at all (lost by WeasyPrint's page layout)")
        return (f"{self.docname}: note {self.label} is called on PDF page {self.call_page} "
                f"but {where} ({self.excerpt!r}); shorten the note or move its call "
                "earlier in the paragraph")


@dataclass(frozen=True)
class FontInfo:
    """One font in the PDF: the name in the font program itself, and how it is stored."""

    name: str
    embedded: bool
    subset: bool


@dataclass
class PdfSummary:
    """What the build reports at the end."""

    path: Path
    pages: int
    size: int
    variant: str
    seconds: float
    notes: int
    method: str = "one-shot"
    fonts: list[FontInfo] = field(default_factory=list)
    misplaced: list[MisplacedNote] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        fonts = ", ".join(f.name + ("" if f.embedded else " (NOT EMBEDDED)")
                          for f in self.fonts) or "none"
        out = [
            f"pdf summary: {self.pages} pages, {self.size / 1024:.0f} KiB, {self.variant}, "
            f"rendered in {self.seconds:.1f} s ({self.method})",
            f"  fonts: {fonts}",
        ]
        if self.misplaced:
            out.append(f"  notes: {len(self.misplaced)} of {self.notes} NOT on the page of "
                       "their call:")
            out.extend(f"    {m}" for m in self.misplaced)
        else:
            out.append(f"  notes: all {self.notes} on the page of their call")
        out.extend(f"  warning: {w}" for w in self.warnings)
        return out


class BookURLFetcher:
    """A WeasyPrint URL fetcher that reads local files under the allowed roots only."""

    def __init__(self, roots: list[Path], stage: Path | None = None) -> None:
        from weasyprint.urls import URLFetcher

        self.roots = [r.resolve() for r in roots]
        self.stage_uri = stage.resolve().as_uri().rstrip("/") + "/" if stage else None
        self.refused: list[str] = []
        outer = self

        class _Fetcher(URLFetcher):
            def fetch(self, url: str, headers: dict | None = None):  # type: ignore[override]
                url = outer.real_url(url)
                outer.check(url)
                return super().fetch(url, headers)

        self.fetcher = _Fetcher(allowed_protocols=("file", "data"), timeout=1)

    def real_url(self, url: str) -> str:
        if self.stage_uri and url.startswith(STAGE_URL):
            return self.stage_uri + url[len(STAGE_URL):]
        return url

    def check(self, url: str) -> None:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return
        if scheme == "file":
            path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
            if any(path.is_relative_to(root) for root in self.roots):
                return
        self.refused.append(url)
        raise ValueError(f"the print edition may not read {url}")


def allowed_roots(paths: BookPaths) -> list[Path]:
    """Where the renderer may read: the book, conf/, the stage, packages, system fonts."""
    roots = [paths.book, CONF, paths.stage(BUILDER)]
    for key in ("purelib", "platlib", "stdlib"):
        roots.append(Path(sysconfig.get_paths()[key]))
    roots.extend(d for d in FONT_DIRS if d.is_dir())
    return roots


def pdf_variant(check: bool = True) -> str:
    """``BOOK_PDF_VARIANT`` (default pdf/ua-1); ``check``: fail if WeasyPrint has no such
    variant (this imports WeasyPrint: the chapter-parallel render checks in its workers)."""
    variant = os.environ.get("BOOK_PDF_VARIANT", DEFAULT_VARIANT).strip().lower()
    if check:
        check_variant(variant)
    return variant


def check_variant(variant: str) -> None:
    from weasyprint.pdf import VARIANTS

    if variant not in VARIANTS:
        raise BuildError(f"BOOK_PDF_VARIANT={variant!r} is not a PDF variant WeasyPrint can "
                         f"write; use one of: {', '.join(sorted(VARIANTS))}")


def build_pdf(paths: BookPaths) -> Path:
    """Build the print edition; return ``BUILD/pdf/<slug>.pdf``."""
    summary = render_pdf(paths, strict=os.environ.get("BOOK_STRICT") == "1")
    for line in summary.lines():
        print(line)
    return summary.path


def render_pdf(paths: BookPaths, *, strict: bool = False,
               variant: str | None = None) -> PdfSummary:
    """Print HTML → PDF, placed atomically; the summary says what came out."""
    sys.path.insert(0, str(CONF / "ext"))
    try:
        from _print_manifest import MANIFEST_NAME, PrintManifest
    finally:
        sys.path.remove(str(CONF / "ext"))

    variant = variant or pdf_variant(check=False)  # checked where WeasyPrint is loaded
    # a big book's Sphinx run is given its own process, so its memory is returned before
    # the render; for a small one the fork costs more than it frees
    stage = (run_sphinx_apart if many_documents(paths.book) else run_sphinx)(paths, BUILDER)
    manifest = PrintManifest.load(stage / MANIFEST_NAME)
    html = (stage / manifest.html).read_text(encoding="utf-8")
    target = paths.build / "pdf" / f"{manifest.slug}.pdf"
    tmp = partial_file(target)
    start = time.perf_counter()
    try:
        if use_parallel(html, manifest):
            pages, first_page, warnings, method = _render_chunks(
                paths, stage, html, manifest, tmp, variant)
        else:
            pages, first_page, warnings = _render_one_shot(paths, stage, html, manifest, tmp,
                                                           variant)
            method = "one-shot"
        misplaced = misplaced_on(first_page, manifest.notes)
        if strict and misplaced:
            raise BuildError("BOOK_STRICT=1: notes not on the page of their call:\n  "
                             + "\n  ".join(map(str, misplaced)))
        fonts = embedded_fonts(tmp)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp makes it private; a PDF is for reading
        publish_file(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return PdfSummary(target, pages, target.stat().st_size, variant,
                      time.perf_counter() - start, len(manifest.notes), method, fonts,
                      misplaced, warnings)


def use_parallel(html: str, manifest: Any) -> bool:
    """``BOOK_PDF_PARALLEL``: 1 always, 0 never, unset: for books past a few dozen pages."""
    mode = os.environ.get("BOOK_PDF_PARALLEL", "").strip()
    if mode == "0" or not getattr(manifest, "front", None):
        return False
    return mode == "1" or len(html) >= PARALLEL_MIN_CHARS


def _refused(urls: list[str]) -> BuildError:
    return BuildError("the print edition refers to files it may not read (only files "
                      "inside the book directory are allowed):\n  "
                      + "\n  ".join(dict.fromkeys(urls)))


def _render_one_shot(paths: BookPaths, stage: Path, html: str, manifest: Any, out: Path,
                     variant: str) -> tuple[int, dict[str, int], list[str]]:
    """The whole print document in one WeasyPrint render, in this process."""
    from weasyprint import HTML

    from scripts.pdf_notes import render_keeping_notes

    check_variant(variant)
    fetcher = BookURLFetcher(allowed_roots(paths), stage)
    with _weasyprint_warnings() as warnings:
        kept = render_keeping_notes(
            HTML(string=html, base_url=STAGE_URL, url_fetcher=fetcher.fetcher))
        document = kept.document
        if fetcher.refused:
            raise _refused(fetcher.refused)
        document.write_pdf(out, pdf_variant=variant, pdf_tags=True,
                           pdf_identifier=pdf_identifier(manifest), custom_metadata=False)
    return len(document.pages), first_pages(document), warnings


def _render_chunks(paths: BookPaths, stage: Path, html: str, manifest: Any, out: Path,
                   variant: str) -> tuple[int, dict[str, int], list[str], str]:
    """Chapter-parallel: chunks of parts in worker processes, joined into one PDF."""
    from scripts.pdf_parallel import render_parallel, worker_count

    sys.path.insert(0, str(CONF / "ext"))
    try:
        from _print_manifest import PRINT_CSS
    finally:
        sys.path.remove(str(CONF / "ext"))
    result = render_parallel(html, manifest, PRINT_CSS.read_text(encoding="utf-8"), out,
                             paths.build / ".cache" / "pdf-chunks",
                             roots=allowed_roots(paths), stage=stage, variant=variant,
                             identifier=pdf_identifier(manifest))
    if result.refused:
        raise _refused(result.refused)
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.phases.items())
    method = (f"chapter-parallel: {result.chunks} chunks, {result.rendered} renders, "
              f"{result.filled} filled in, {worker_count()} workers; {phases}")
    # 1-based, as misplaced_on expects
    return result.pages, {k: v + 1 for k, v in result.anchors.items()}, result.warnings, method


def pdf_identifier(manifest: object) -> bytes:
    """A stable file id: the same book at the same date gives the same id."""
    ident = getattr(manifest, "identifier", "") + "|" + getattr(manifest, "date", "")
    return hashlib.md5(ident.encode(), usedforsecurity=False).hexdigest().encode()


def first_pages(document: object) -> dict[str, int]:
    """Every id of a rendered document → the 1-based page it first appears on."""
    from scripts.pdf_notes import first_pages as zero_based

    return {name: page + 1 for name, page in zero_based(document.pages).items()}  # type: ignore[attr-defined]


def misplaced_notes(document: object, notes: list) -> list[MisplacedNote]:
    """Notes whose body is not on the page of its call (first page each id appears on)."""
    return misplaced_on(first_pages(document), notes)


def misplaced_on(first_page: dict[str, int], notes: list) -> list[MisplacedNote]:
    """Notes whose body is not on the page of its call, from each id's first page."""
    out = []
    for note in notes:
        call, body = first_page.get(note.call_id), first_page.get(note.note_id)
        if call is None or body is None or call != body:
            out.append(MisplacedNote(note.docname, note.label, call or 0, body or 0,
                                     note.excerpt))
    return out


def embedded_fonts(pdf: Path) -> list[FontInfo]:
    """Every font of the PDF, named by its own font program (not the CSS family)."""
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    found: dict[str, FontInfo] = {}
    reader = PdfReader(pdf)
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources else None
        for ref in (fonts.get_object().values() if fonts else []):
            font = ref.get_object()
            base = str(font.get("/BaseFont", "?"))
            if base in found:
                continue
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            program = next((descriptor[k] for k in ("/FontFile", "/FontFile2", "/FontFile3")
                            if k in descriptor), None)
            name = base.lstrip("/")
            if program is not None:
                try:
                    tt = TTFont(io.BytesIO(program.get_object().get_data()))
                    name = tt["name"].getDebugName(4) or name
                except Exception:  # a bare CFF program has no name table
                    pass
            found[base] = FontInfo(name, program is not None, "+" in base[:8])
    return sorted(found.values(), key=lambda f: f.name)


class _weasyprint_warnings:
    """Collect WeasyPrint's warnings (bad CSS, missing images) for the summary."""

    def __enter__(self) -> list[str]:
        self.messages: list[str] = []
        self.logger = logging.getLogger("weasyprint")
        messages = self.messages

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.levelno >= logging.WARNING:
                    messages.append(record.getMessage())

        self.handler = _Handler()
        self.logger.addHandler(self.handler)
        self.old_propagate = self.logger.propagate
        self.logger.propagate = False
        return self.messages

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = self.old_propagate
