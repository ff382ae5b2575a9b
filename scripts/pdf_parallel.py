"""Chapter-parallel print edition: print HTML → documents of a few parts → workers → one PDF.

WeasyPrint lays a document out in one process, and its time and memory grow with the
document (a forward ``target-counter`` even makes it lay every later page out twice). This
module renders the book in *chunks* of whole parts instead, in worker processes, and joins
the chunk PDFs into one:

1. ``plan_chunks`` cuts ``book.html`` at the part boundaries the manifest records
   (character offsets): the front pages alone, then runs of parts up to a size bound, the
   index alone. Each chunk is a complete document with the book's ``<head>``.
2. **Content pass**: every chunk is laid out once, in a worker process, without running
   heads or folios (margin boxes off), so its pages do not depend on the page it starts
   on. Every link that prints a page number (contents, index, "(p. 42)") gets that number
   in ``data-page`` (print.css prints it where ``target-counter`` would); a link to
   another chunk becomes a ``book-xref:`` URI that the merge turns back into a named
   destination. Numbers not known yet are estimated; the worker keeps the laid-out chunk
   until the chunks before its targets have been laid out (chunks go out in book order,
   the contents and the index last), then fills the real numbers into the laid-out text
   (``fill_numbers``: page numbers are set in tabular figures, so a number of as many
   digits takes the same width) and writes the PDF. A chunk whose numbers do not fit, or
   that needs a chunk nobody is laying out yet, is rendered again with its numbers; if a
   page count changed, the pass repeats. Each chunk but the last ends with an empty
   ``print-chunk-end`` block that breaks to a recto: WeasyPrint adds the same blank verso
   the one-shot render would, and the page that block starts on is not kept.
3. **Margin pass**: for runs of chunks, a document of empty pages with the same parts,
   page names and blank pages, starting at the run's first page number (``@page :first {
   counter-reset: page N }``), renders the running heads and folios by the same
   print.css rules (cheap: no text to lay out). The merge draws each such page over its
   content page as a form XObject marked as an artifact.
4. **Merge** (pikepdf): pages in order; one structure tree (each chunk's ``Document`` element
   children concatenated, ``StructParents`` keys renumbered), one outline, one name tree of
   destinations, the first chunk's catalog entries (language, XMP metadata with the
   PDF/UA identification, viewer preferences, mark info), document information and the
   one-shot render's file identifier.

Chunk layouts (pages, ids) are cached in ``BUILD/.cache/pdf-chunks`` under a hash of the
chunk's HTML, the CSS and the variant, and chunk PDFs under that and the page numbers they
print (margin pages: of their markup and start page): a rebuild after one chapter changed
lays out that chunk again, renders the chunks whose printed page numbers moved, and the
margin pages after it, nothing else.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

XREF_SCHEME = "book-xref:"
CHUNK_END = '<div class="print-chunk-end"></div>\n'
CACHE_VERSION = "5"  # 5: the fonts of each chunk recorded (pdf_fonts)
# A chunk holds whole parts up to about this many characters of print HTML (≈ 55 A5
# pages, ≈ 15 for the smallest): a worker's memory is bounded by it, enough chunks keep
# every core busy, and each render has a fixed cost (stylesheet, fonts) of about 0.1 s.
MAX_CHUNK_CHARS = 150_000
MIN_CHUNK_CHARS = 40_000
MAX_PASSES = 5
UNKNOWN_PAGE = 0  # printed for a link whose target is not in the book


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive parts (or the front pages) rendered as one document."""

    index: int
    names: tuple[str, ...]  # docnames, or ("front pages",)
    html: str
    first_body: bool  # starts with the first body part: print.css restarts folios at 1
    last: bool
    span: tuple[int, int] = (0, 0)  # [start, end) of its parts in the whole print HTML
    lists_pages: bool = False  # the front pages (contents) or an index: numbers of all


@dataclass(frozen=True)
class ChunkJob:
    """What a worker needs to render one chunk or one chunk's margin pages (picklable)."""

    html: str
    write_to: str
    numbers: dict[str, int]  # id → the page number links to it print (maybe an estimate)
    roots: list[str]
    stage: str
    variant: str
    identifier: bytes
    sentinel: bool  # the last page is the chunk-end page: not kept
    hold: bool = False  # keep the laid-out chunk until told its final numbers
    margins_from: int = 0  # > 0: a margin-pages document whose first folio is this


@dataclass
class ChunkResult:
    """What a worker found: pages (the sentinel's page excluded), ids, numbered links."""

    pages: int
    anchors: dict[str, int]  # id → 0-based page in the chunk, first occurrence
    numbered: list[str]  # ids whose page number this chunk prints
    blank: list[bool]  # per page: a blank page made by a break to a recto
    written: bool = True  # False: laid out only, to count pages (its numbers were not known)
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    numbers: dict[str, int] = field(default_factory=dict)  # the numbers it printed
    fonts: dict[str, Any] = field(default_factory=dict)  # pdf_fonts.chunk_fonts of its PDF


@dataclass
class ParallelRender:
    """The merged PDF's facts, for ``scripts/pdf.py``'s summary and note check."""

    pages: int
    anchors: dict[str, int]  # id → 0-based page in the whole book
    warnings: list[str]
    refused: list[str]
    chunks: int
    rendered: int  # chunk layouts done (cache misses only), margin pages not counted
    phases: dict[str, float] = field(default_factory=dict)  # seconds per pass
    filled: int = 0  # chunks laid out once, their page numbers filled in afterwards


def plan_chunks(html: str, manifest: Any, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Cut the print HTML into documents of whole parts (see the module docstring)."""
    front_start, front_end = manifest.front
    head = html[:front_start]
    tail_start = manifest.parts[-1]["span"][1]
    tail = html[tail_start:]
    groups: list[list[dict]] = []
    current: list[dict] = []
    size = 0
    first_body_seen = False
    for part in manifest.parts:
        start, end = part["span"]
        starts_body = part["matter"] == "body" and not first_body_seen
        alone = part["role"] == "index"
        if current and (starts_body or alone or size + end - start > max_chars):
            groups.append(current)
            current, size = [], 0
        first_body_seen = first_body_seen or part["matter"] == "body"
        current.append(part)
        size += end - start
        if alone:
            groups.append(current)
            current, size = [], 0
    if current:
        groups.append(current)
    chunks = [Chunk(0, ("front pages",), head + html[front_start:front_end] + CHUNK_END + tail,
                    False, not groups, (front_start, front_end), True)]
    first_body_done = False
    for number, group in enumerate(groups, start=1):
        last = number == len(groups)
        body = "".join(html[p["span"][0]:p["span"][1]] for p in group)
        is_first_body = not first_body_done and group[0]["matter"] == "body"
        first_body_done = first_body_done or is_first_body
        chunks.append(Chunk(number, tuple(p["docname"] for p in group),
                            head + body + ("" if last else CHUNK_END) + tail,
                            is_first_body, last, (group[0]["span"][0], group[-1]["span"][1]),
                            group[0]["role"] == "index"))
    return chunks


# -- the worker ---------------------------------------------------------------------------


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"),
                           (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                           (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


MARGIN_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner",
                "right-top", "right-middle", "right-bottom", "bottom-right-corner",
                "bottom-right", "bottom-center", "bottom-left", "bottom-left-corner",
                "left-bottom", "left-middle", "left-top")
NO_MARGINS = "@page { " + " ".join(f"@{box} {{ content: none !important }}"
                                   for box in MARGIN_BOXES) + " }"


class _Laid:
    """A chunk laid out in a worker: the WeasyPrint document, its own pages, the job."""

    def __init__(self, job: ChunkJob, document: Any, pages: list[Any], result: ChunkResult,
                 fetcher: Any) -> None:
        self.job, self.document, self.pages, self.result = job, document, pages, result
        self.fetcher = fetcher


def _collecting(messages: list[str]) -> Any:
    import logging

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    return _Collect()


def _lay_out(job: ChunkJob) -> _Laid:
    """Lay out one chunk (or its margin pages): pages, ids, the numbers it prints."""
    from weasyprint import CSS, HTML

    from scripts.pdf import STAGE_URL, BookURLFetcher, check_variant
    from scripts.pdf_notes import render_keeping_notes

    check_variant(job.variant)
    fetcher = BookURLFetcher([Path(r) for r in job.roots], Path(job.stage))
    document_html = HTML(string=job.html, base_url=STAGE_URL, url_fetcher=fetcher.fetcher)
    if job.margins_from:
        numbered: list[str] = []
        css = CSS(string=f"@page :first {{ counter-reset: page {job.margins_from} }}")
        document = document_html.render(stylesheets=[css])
    else:
        numbered = _number_links(document_html.etree_element, job)
        css = CSS(string=NO_MARGINS)
        document = render_keeping_notes(document_html, [css], _content_pages(job)).document
    pages = _content_pages(job)(document)
    anchors: dict[str, int] = {}
    for number, page in enumerate(pages):
        for anchor in page.anchors:
            anchors.setdefault(anchor, number)
    blank = [bool(page._page_box.page_type.blank) for page in pages]
    result = ChunkResult(len(pages), anchors, numbered, blank, False, [], [],
                         numbers={t: job.numbers.get(t, UNKNOWN_PAGE) for t in numbered})
    return _Laid(job, document, pages, result, fetcher)


def _write(laid: _Laid, write_to: str | None = None) -> None:
    from scripts.pdf_fonts import chunk_fonts

    job = laid.job
    laid.document.copy(laid.pages).write_pdf(write_to or job.write_to,
                                             pdf_variant=job.variant,
                                             pdf_tags=not job.margins_from,
                                             pdf_identifier=job.identifier,
                                             custom_metadata=False)
    laid.result.written = True
    laid.result.fonts = chunk_fonts(write_to or job.write_to)


def fill_numbers(pages: list[Any], numbers: dict[str, int]) -> bool:
    """Put the final page numbers into a laid-out chunk's text, where it printed other
    ones. Page numbers are set in tabular figures (print.css), so a number of as many
    digits takes the same width and the layout stays right; returns False, changing
    nothing, when a new number would not take exactly the old one's width (then the chunk
    is laid out again with its numbers)."""
    from weasyprint.text.line_break import Layout, line_size

    def width(text: str, style: Any) -> float:
        layout = Layout(style)
        layout.set_text(text)
        line, _ = layout.get_first_line()
        return line_size(line, style)[0]

    changes = []
    for page in pages:
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if (element is None or not hasattr(box, "text")
                    or not str(getattr(box, "element_tag", "")).endswith("::after")
                    or element.get("data-page") is None):
                continue
            target = _target(element.get("href") or "")
            if target not in numbers:
                continue
            new = numbers[target]
            text = box.text
            for old, fresh in ((element.get("data-page"), str(new)),
                               (element.get("data-page-roman"), _roman(new))):
                if old and old in text:
                    if old != fresh:
                        head, _, tail = text.rpartition(old)
                        changes.append((box, head + fresh + tail))
                    break
    for box, text in changes:
        if " " in text or abs(width(text, box.style) - width(box.text, box.style)) > 1e-6:
            return False
    for box, text in changes:
        box.text = text
        box.pango_layout.text = text
    return True


def _target(href: str) -> str:
    return href[1:] if href.startswith("#") else href.removeprefix(XREF_SCHEME)


def _serve(connection: Any) -> None:
    """A worker: lays chunks out, keeps at most one until its numbers are known.

    Messages: ``("render", job)`` → lay out; write the PDF at once unless ``job.hold`` and
    the chunk prints page numbers (then keep it, ``written`` False); ``("finish",
    (numbers, path))`` → fill the kept chunk's numbers in and write it to ``path`` (``written`` False when
    they do not fit: it is dropped); ``("drop", None)`` → forget the kept chunk (no reply);
    ``("fonts", faces)`` → one program per shared face (``pdf_fonts.build_programs``);
    ``None`` → stop. Every reply is ``(kind, payload, resident MB)``.
    """
    import logging
    import traceback

    from scripts.sphinx_run import BuildError

    logger = logging.getLogger("weasyprint")
    logger.propagate = False
    kept: _Laid | None = None
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        kind, payload = message
        start = time.perf_counter()
        messages: list[str] = []
        handler = _collecting(messages)
        logger.addHandler(handler)
        try:
            if kind == "drop":
                kept = None
                _give_back()
                continue
            if kind == "fonts":
                from scripts.pdf_fonts import build_programs

                connection.send(("result", build_programs(payload), _resident_mb()))
                continue
            if kind == "render":
                kept = None
                laid = _lay_out(payload)
                if payload.hold and laid.result.numbered:
                    kept = laid
                else:
                    _write(laid)
            else:  # finish
                assert kept is not None, "finish without a chunk kept"
                laid, kept = kept, None
                numbers, write_to = payload
                wanted = {t: numbers.get(t, UNKNOWN_PAGE) for t in laid.result.numbered}
                if fill_numbers(laid.pages, wanted):
                    laid.result.numbers = wanted
                    _write(laid, write_to)
            result = laid.result
            result.warnings = result.warnings + messages
            result.refused = list(dict.fromkeys(laid.fetcher.refused))
            result.seconds += time.perf_counter() - start
            reply: Any = ("result", result)
        except BuildError as err:  # a clear message for the user (bad input)
            reply = ("build error", str(err))
            kept = None
        except BaseException:  # reported to the driver, which stops the build
            reply = ("error", traceback.format_exc())
            kept = None
        finally:
            logger.removeHandler(handler)
        if kept is None:
            laid = None  # type: ignore[assignment]
            _give_back()
        connection.send((*reply, _resident_mb()))


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _give_back() -> None:
    """Free a finished chunk's layout and return the freed heap to the system (glibc keeps
    it otherwise, and a worker would grow with every chunk it lays out)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _content_pages(job: ChunkJob) -> Any:
    """The chunk's own pages of a rendered document (without the chunk-end sentinel)."""
    def pages(document: Any) -> list[Any]:
        found = list(document.pages)
        return found[:-1] if job.sentinel and len(found) > 1 else found
    return pages


def _number_links(root: Any, job: ChunkJob) -> list[str]:
    """Links that print a page number get it in ``data-page`` (and ``data-page-roman``);
    links to ids outside this chunk become ``book-xref:`` URIs (internal again after the
    merge). Returns the ids whose numbers this chunk prints."""
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    contents = {id(a) for nav in root.iter("nav") for a in nav.iter("a")}
    numbered: set[str] = set()
    for link in root.iter("a"):
        href = link.get("href") or ""
        if not href.startswith("#"):
            continue
        target = href[1:]
        classes = set((link.get("class") or "").split())
        if classes & {"page-ref", "index-page"} or id(link) in contents:
            numbered.add(target)
            number = job.numbers.get(target, UNKNOWN_PAGE)
            link.set("data-page", str(number))
            link.set("data-page-roman", _roman(number))
        if target not in ids:
            link.set("href", XREF_SCHEME + target)
    return sorted(numbered)


def margin_body(chunk: Chunk, html: str, manifest: Any, result: ChunkResult) -> str:
    """Empty pages with the chunk's parts, page names and blank pages, for its heads and
    folios: each part's own start tag (from the print HTML) around one block per page."""
    spans = {p["docname"]: p["span"] for p in manifest.parts}
    anchors = {p["docname"]: p["anchor"] for p in manifest.parts}
    starts = [result.anchors.get(anchors[name], 0) for name in chunk.names]
    body = []
    for index, name in enumerate(chunk.names):
        start, _ = spans[name]
        first = starts[index]
        last = starts[index + 1] if index + 1 < len(starts) else result.pages
        filled = sum(1 for b in result.blank[first:last] if not b)
        open_tag = html[start:html.index(">", start) + 1]
        body.append(open_tag + MARGIN_PAGE * max(filled, 1) + "</section>\n")
    return "".join(body)


def margin_groups(chunks: list[Chunk], results: list[ChunkResult], groups: int
                  ) -> list[list[int]]:
    """Consecutive chunks (the front pages have no heads) in about ``groups`` runs of
    similar page counts: one margin document each."""
    indexes = [c.index for c in chunks if c.index]
    total = sum(results[i].pages for i in indexes)
    out: list[list[int]] = [[]]
    done = 0
    for i in indexes:
        if out[-1] and done >= total * len(out) / groups:
            out.append([])
        out[-1].append(i)
        done += results[i].pages
    return [g for g in out if g]


MARGIN_PAGE = '<div class="print-margin-page"></div>'


# -- the driver ---------------------------------------------------------------------------


def worker_count() -> int:
    jobs = os.environ.get("BOOK_PDF_JOBS", "")
    if jobs.isdigit() and int(jobs) > 0:
        return int(jobs)
    return max(1, min(len(os.sched_getaffinity(0)), 8))


class _Workers:
    """Worker processes, each laying out one chunk at a time (``_serve``).

    A worker keeps some memory from every chunk it lays out (caches, a fragmented heap):
    one that has grown by ``RENEW_MB`` since its first chunk is replaced by a fresh
    process before its next chunk (about half a second to start one), so a big book's
    workers stay the size of one chunk's layout."""

    RENEW_MB = 16.0

    def __init__(self, count: int) -> None:
        self.context = multiprocessing.get_context("forkserver")
        self.connections: list[Any] = [None] * count
        self.processes: list[Any] = [None] * count
        self.resident = [0.0] * count
        self.first: list[float | None] = [None] * count
        for worker in range(count):
            self._start(worker)

    def _start(self, worker: int) -> None:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(theirs,), daemon=True)
        process.start()
        theirs.close()
        self.connections[worker], self.processes[worker] = ours, process
        self.first[worker] = None

    def _stop(self, worker: int) -> None:
        try:
            self.connections[worker].send(None)
        except OSError:
            pass
        self.processes[worker].join(timeout=10)
        if self.processes[worker].is_alive():
            self.processes[worker].kill()
        self.connections[worker].close()

    def send(self, worker: int, message: Any) -> None:
        first = self.first[worker]
        if (message[0] == "render" and first is not None
                and self.resident[worker] > first + self.RENEW_MB):
            self._stop(worker)
            self._start(worker)
        self.connections[worker].send(message)

    def receive(self, workers: set[int]) -> tuple[int, ChunkResult]:
        """The next reply of one of ``workers``."""
        from multiprocessing.connection import wait

        ready = wait([self.connections[w] for w in workers])[0]
        worker = self.connections.index(ready)
        try:
            kind, payload, resident = ready.recv()
        except (EOFError, OSError):
            raise RuntimeError("a PDF worker process ended unexpectedly") from None
        if kind == "build error":
            from scripts.sphinx_run import BuildError

            raise BuildError(payload)
        if kind != "result":
            raise RuntimeError("a PDF worker failed:\n" + payload)
        self.resident[worker] = resident
        if self.first[worker] is None:
            self.first[worker] = resident
        return worker, payload

    def close(self) -> None:
        for worker in range(len(self.processes)):
            self._stop(worker)


ID_ATTRIBUTE = re.compile(r'\sid="([^"]+)"')
LOCAL_HREF = re.compile(r'\shref="#([^"]+)"')
CHARS_PER_PAGE = 2700  # print HTML per A5 page, before one chunk has been laid out


def render_parallel(html: str, manifest: Any, css_text: str, target: Path, cache: Path,
                    *, roots: list[Path], stage: Path, variant: str, identifier: bytes,
                    jobs: int | None = None) -> ParallelRender:
    """Render the print HTML chunk by chunk into ``target`` (one PDF); see module doc."""
    jobs = jobs or worker_count()
    chunks = plan_chunks(html, manifest, max(MIN_CHUNK_CHARS, min(
        MAX_CHUNK_CHARS, len(html) // (3 * jobs))))
    cache.mkdir(parents=True, exist_ok=True)
    jobs = min(jobs, len(chunks))
    salt = hashlib.sha256((CACHE_VERSION + css_text + variant).encode()
                          + identifier).hexdigest()
    common = {"roots": [str(r) for r in roots], "stage": str(stage), "variant": variant,
              "identifier": identifier}
    used: set[str] = set()
    counter = {"renders": 0, "filled": 0}
    clock = time.perf_counter()
    phases: dict[str, float] = {}

    def key_of(*parts: Any) -> str:
        key = hashlib.sha256(json.dumps([salt, *parts], ensure_ascii=False).encode()
                             ).hexdigest()[:32]
        used.add(key)
        return key

    def cached(key: str) -> ChunkResult | None:
        meta = cache / f"{key}.json"
        if not meta.is_file():
            return None
        known = ChunkResult(**json.loads(meta.read_text("utf-8")))
        return known if not known.written or (cache / f"{key}.pdf").is_file() else None

    def remember(key: str, result: ChunkResult) -> None:
        (cache / f"{key}.json").write_text(json.dumps(asdict(result)), encoding="utf-8")

    texts = [c.html for c in chunks]
    count_keys = [key_of("layout", text) for text in texts]
    results: list[ChunkResult | None] = [cached(k) for k in count_keys]
    pdfs: list[Path | None] = [None] * len(chunks)
    workers = _Workers(jobs)
    try:
        # 1. lay every chunk out once, in worker processes; a worker keeps its chunk until
        # the numbers it prints are known, fills them in and writes it
        _lay_out_all(chunks, html, results, pdfs, workers, jobs, common, cache, key_of,
                     remember, counter)
        phases["layout"] = time.perf_counter() - clock
        # 2. chunks whose numbers did not fit, or changed since: rendered with them
        for _ in range(MAX_PASSES):
            starts, counters, where = _positions(chunks, results)
            todo = []
            for index, result in enumerate(results):
                wanted = {t: where.get(t, UNKNOWN_PAGE) for t in result.numbered}
                if pdfs[index] is not None and result.numbers == wanted:
                    continue
                key = key_of("final", texts[index], sorted(wanted.items()))
                known = cached(key)
                if known is not None and known.written:
                    results[index], pdfs[index] = known, cache / f"{key}.pdf"
                    continue
                todo.append((index, key, wanted))
            if not todo:
                break
            for (index, key, _), result in zip(todo, _run(workers, [
                    _job(chunks[i], texts[i], w, cache / f"{k}.pdf", common)
                    for i, k, w in todo]), strict=True):
                counter["renders"] += 1
                remember(key, result)
                results[index], pdfs[index] = result, cache / f"{key}.pdf"
        phases["numbers"] = time.perf_counter() - clock - phases["layout"]
        starts, counters, where = _positions(chunks, results)
        refused = [u for r in results for u in r.refused]
        if refused:  # the caller reports them; there is nothing to join
            return ParallelRender(0, {}, [], refused, len(chunks), counter["renders"],
                                  phases, counter["filled"])
        # 3. margin pages: a few documents of consecutive chunks (each render has a fixed
        # cost)
        head, tail = html[:manifest.front[0]], html[manifest.parts[-1]["span"][1]:]
        groups = margin_groups(chunks, results, 2 * jobs)
        margin_jobs, margin_results = [], []
        for group in groups:
            last = chunks[group[-1]]
            text = (head + "".join(margin_body(chunks[i], html, manifest, results[i])
                                   for i in group)
                    + ("" if last.last else CHUNK_END) + tail)
            key = key_of("margins", text, counters[group[0]])
            margin_jobs.append((key, _job(last, text, {}, cache / f"{key}.pdf", common,
                                          margins_from=counters[group[0]])))
            margin_results.append(cached(key))
        missing = [i for i, r in enumerate(margin_results) if r is None]
        for i, result in zip(missing, _run(workers, [margin_jobs[i][1] for i in missing]),
                             strict=True):
            remember(margin_jobs[i][0], result)
            margin_results[i] = result
        phases["margins"] = (time.perf_counter() - clock - phases["layout"]
                             - phases["numbers"])
        # 4. one program per face for the whole book, instead of one per chunk
        programs = _font_programs(workers, cache, key_of, [*results, *margin_results])
    finally:
        workers.close()
    clock = time.perf_counter()
    margins: list[tuple[Path, int] | None] = [None] * len(chunks)
    for group, (_, job), margin in zip(groups, margin_jobs, margin_results, strict=True):
        offset = 0
        for i in group:
            margins[i] = (Path(job.write_to), offset)
            offset += results[i].pages
        if margin.pages != offset:
            raise RuntimeError(f"chunks {[chunks[i].names for i in group]}: {offset} pages "
                               f"of text but {margin.pages} of running heads")
    merge_chunks([p for p in pdfs if p is not None], margins, target, identifier, programs)
    phases["merge"] = time.perf_counter() - clock
    _prune(cache, used)
    anchors: dict[str, int] = {}
    for start, result in zip(starts, results, strict=True):
        for name, page in result.anchors.items():
            anchors.setdefault(name, start + page)
    return ParallelRender(sum(r.pages for r in results), anchors,
                          [w for r in results for w in r.warnings],
                          [u for r in results for u in r.refused], len(chunks),
                          counter["renders"], phases, counter["filled"])


def _font_programs(workers: _Workers, cache: Path, key_of: Any,
                   results: list[ChunkResult]) -> dict[str, bytes]:
    """The faces several chunks embed, each subset once to all their glyphs (cached)."""
    import base64

    from scripts.pdf_fonts import shared_faces

    faces = shared_faces([r.fonts for r in results])
    if not faces:
        return {}
    path = cache / f"{key_of('fonts', faces)}.json"
    if path.is_file():
        stored = json.loads(path.read_text("utf-8"))
        return {name: base64.b64decode(data) for name, data in stored.items()}
    workers.send(0, ("fonts", {n: {**f, "widths": dict(f["widths"])} for n, f in faces.items()}))
    _, programs = workers.receive({0})
    path.write_text(json.dumps({name: base64.b64encode(data).decode()
                                for name, data in programs.items()}), encoding="utf-8")
    return programs


def _job(chunk: Chunk, text: str, numbers: dict[str, int], write_to: Path, common: dict,
         *, hold: bool = False, margins_from: int = 0) -> ChunkJob:
    return ChunkJob(text, str(write_to), numbers, sentinel=not chunk.last, hold=hold,
                    margins_from=margins_from, **common)


def _run(workers: _Workers, jobs: list[ChunkJob]) -> list[ChunkResult]:
    """Render ``jobs`` (written at once) on the workers, in order; the results in order."""
    results: dict[int, ChunkResult] = {}
    waiting = list(enumerate(jobs))
    busy: dict[int, int] = {}  # worker → job index
    while waiting or busy:
        for worker in range(len(workers.connections)):
            if worker not in busy and waiting:
                index, job = waiting.pop(0)
                workers.send(worker, ("render", job))
                busy[worker] = index
        worker, result = workers.receive(set(busy))
        results[busy.pop(worker)] = result
    return [results[i] for i in range(len(jobs))]


def _lay_out_all(chunks: list[Chunk], html: str, results: list, pdfs: list,
                 workers: _Workers, jobs: int, common: dict, cache: Path, key_of: Any,
                 remember: Any, counter: dict) -> None:
    """Step 1 of ``render_parallel``: every chunk without a cached layout is laid out once.

    Chunks go out in book order, the front pages (the contents) and the index last: when a
    chunk has been laid out, the numbers it prints are mostly known a moment later (the
    chunks before it are laid out or being laid out). Its worker keeps it until then,
    fills the numbers in and writes it. A chunk that needs the numbers of a chunk nobody
    is laying out yet is dropped and rendered again in step 2 (so is one whose numbers do
    not fit). Chunks whose layout is cached are only counted here. Numbers not known when
    a chunk goes out are estimated from the length of the text before them, so that they
    mostly have as many digits as the real ones.
    """
    offsets: dict[str, int] = {}
    for match in ID_ATTRIBUTE.finditer(html):
        offsets.setdefault(match.group(1), match.start())
    home: dict[str, int] = {}
    for name, offset in offsets.items():
        for index, chunk in enumerate(chunks):
            if chunk.span[0] <= offset < chunk.span[1]:
                home[name] = index
                break
    # a chunk's page counter runs from the last chunk that restarts it (the first body one)
    resets: list[int] = []
    for index, chunk in enumerate(chunks):
        resets.append(index if chunk.first_body or not resets else resets[-1])
    refers = [set(LOCAL_HREF.findall(c.html)) for c in chunks]
    order = sorted(range(len(chunks)),
                   key=lambda i: (chunks[i].lists_pages, i))
    todo = [i for i in order if results[i] is None]
    laying: dict[int, int] = {}  # worker → the chunk it is laying out
    kept: dict[int, int] = {}  # worker → the chunk it keeps, waiting for numbers
    filling: dict[int, tuple[int, str]] = {}  # worker → (chunk, key) it fills in, writes

    def size(index: int) -> int:
        return chunks[index].span[1] - chunks[index].span[0]

    def estimates(wanted: set[str]) -> dict[str, int]:
        done = [(size(i), r.pages) for i, r in enumerate(results) if r is not None]
        per_page = (sum(c for c, _ in done) / max(1, sum(p for _, p in done))
                    if done else CHARS_PER_PAGE)
        firsts, number = [], 1
        for index, chunk in enumerate(chunks):
            number = 1 if chunk.first_body else number
            firsts.append(number)
            result = results[index]
            number += result.pages if result else max(1, round(size(index) / per_page))
        out = {}
        for name in wanted:
            index = home.get(name)
            if index is None:
                continue
            result = results[index]
            local = result.anchors.get(name) if result else None
            if local is None:
                local = int((offsets[name] - chunks[index].span[0]) / per_page)
            out[name] = firsts[index] + local
        return out

    def needs(index: int) -> set[int]:
        """The chunks whose page counts the numbers chunk ``index`` prints depend on."""
        out: set[int] = set()
        for name in results[index].numbered:
            if name in home:
                out.update(range(resets[home[name]], home[name] + 1))
        return out

    def final_key(index: int, numbers: dict[str, int]) -> str:
        return key_of("final", chunks[index].html, sorted(numbers.items()))

    def counted(result: ChunkResult) -> ChunkResult:
        return ChunkResult(**{**asdict(result), "written": False})

    while todo or laying or kept or filling:
        for worker in range(jobs):
            if worker in laying or worker in kept or worker in filling or not todo:
                continue
            index = todo.pop(0)
            job = _job(chunks[index], chunks[index].html, estimates(refers[index]),
                       cache / f"{final_key(index, {})}.pdf", common, hold=True)
            workers.send(worker, ("render", job))
            laying[worker] = index
        worker, result = workers.receive(set(laying) | set(filling))
        if worker in laying:
            index = laying.pop(worker)
            counter["renders"] += 1
            remember(key_of("layout", chunks[index].html), counted(result))
            results[index] = result
            if result.written:  # it prints no page number: final as it is
                remember(final_key(index, {}), result)
                pdfs[index] = cache / f"{final_key(index, {})}.pdf"
            else:
                kept[worker] = index
        else:
            index, key = filling.pop(worker)
            results[index] = result
            if result.written:
                counter["filled"] += 1
                remember(key, result)
                pdfs[index] = cache / f"{key}.pdf"
        # kept chunks whose numbers are known now are filled in; hopeless ones dropped
        for worker, index in list(kept.items()):
            missing = {i for i in needs(index) if results[i] is None}
            if missing and missing <= set(laying.values()):
                continue  # known in a moment
            del kept[worker]
            if missing:
                workers.send(worker, ("drop", None))
                continue
            where = _positions_partial(chunks, results)
            numbers = {t: where.get(t, UNKNOWN_PAGE) for t in results[index].numbered}
            key = final_key(index, numbers)
            workers.send(worker, ("finish", (numbers, str(cache / f"{key}.pdf"))))
            filling[worker] = (index, key)


def _positions_partial(chunks: list[Chunk], results: list[ChunkResult | None]
                       ) -> dict[str, int]:
    """Every id's page number, for the chunks whose page counters are known."""
    where: dict[str, int] = {}
    counter, known = 1, True
    for chunk, result in zip(chunks, results, strict=True):
        if chunk.first_body:
            counter, known = 1, True
        if result is None:
            known = False
            continue
        if known:
            for name, page in result.anchors.items():
                where.setdefault(name, counter + page)
            counter += result.pages
    return where


def _positions(chunks: list[Chunk], results: list[ChunkResult]
               ) -> tuple[list[int], list[int], dict[str, int]]:
    """Each chunk's first physical page (0-based) and page counter, and every id's counter."""
    starts, counters = [], []
    physical, counter = 0, 1
    for chunk, result in zip(chunks, results, strict=True):
        if chunk.first_body:
            counter = 1
        starts.append(physical)
        counters.append(counter)
        physical += result.pages
        counter += result.pages
    where: dict[str, int] = {}
    for index, result in enumerate(results):
        for name, page in result.anchors.items():
            where.setdefault(name, counters[index] + page)
    return starts, counters, where


def _prune(cache: Path, used: set[str]) -> None:
    """Drop cached chunks this build did not use (older versions of the book)."""
    for path in cache.iterdir():
        if path.stem not in used:
            path.unlink(missing_ok=True)


# -- the merge ----------------------------------------------------------------------------


def merge_chunks(paths: list[Path], margins: list[tuple[Path, int] | None], target: Path,
                 identifier: bytes, programs: dict[str, bytes] | None = None) -> None:
    """Join chunk PDFs into one tagged PDF with one outline, name tree and metadata, each
    page under its margin page (running head, folio) drawn as an artifact (pikepdf/qpdf:
    objects are copied once per source, so every reference to a page lands on its copy).

    One chunk is open at a time: once its pages, structure, destinations and outline are
    copied, the streams they use get their (still compressed) data copied too, and the
    chunk is closed, so memory holds the merged book, not every chunk besides. Fonts named
    in ``programs`` (by ``/FontName``) get that one program instead of their own."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    from scripts.pdf_fonts import use_programs

    out = pikepdf.new()
    last_use = {margin[0]: number for number, margin in enumerate(margins) if margin}
    opened: dict[Path, Any] = {}
    kids: list[Any] = []
    nums: list[tuple[int, Any]] = []
    names: dict[str, Any] = {}
    outline: list = []
    catalog: dict[str, Any] = {}
    docinfo: dict[Any, Any] = {}
    version = "1.7"
    annotation_key = 0  # set once the page count is known
    keys_later: list[Any] = []  # annotations whose /StructParent is renumbered at the end
    font_streams: dict[str, Any] = {}
    for number, path in enumerate(paths):
        source = pikepdf.open(path)
        first_page = len(out.pages)
        with warnings.catch_warnings():  # named destinations are merged below
            warnings.simplefilter("ignore")
            out.pages.extend(source.pages)
        key_map: dict[int, Any] = {}
        margin = margins[number]
        if margin is not None and margin[0] not in opened:
            opened[margin[0]] = pikepdf.open(margin[0])
        for local in range(len(source.pages)):
            page = out.pages[first_page + local]
            index = first_page + local
            key_map[local] = index
            page.obj.StructParents = index
            for annot in page.obj.get("/Annots", []):
                action = annot.get("/A")
                uri = str(action.get("/URI", "")) if action is not None else ""
                if uri.startswith(XREF_SCHEME):
                    del annot["/A"]
                    annot.Dest = String(uri[len(XREF_SCHEME):])
                    annot.Contents = String(uri[len(XREF_SCHEME):])
                if "/StructParent" in annot:
                    key_map[int(annot.StructParent)] = annot
                    keys_later.append(annot)
            if margin is not None:
                _draw_over(out, page, opened[margin[0]].pages[margin[1] + local],
                           Name(f"/BookMargin{index}"))
        root = source.Root
        if "/StructTreeRoot" in root:
            tree = root.StructTreeRoot
            document = tree.K[0]
            kids.extend(out.copy_foreign(kid) for kid in document.get("/K", []))
            flat = tree.ParentTree.Nums
            for i in range(0, len(flat), 2):
                old = int(flat[i])
                if old in key_map:
                    value = flat[i + 1]
                    nums.append((key_map[old], out.copy_foreign(value) if value.is_indirect
                                 else Array([out.copy_foreign(x) for x in value])))
        if "/Names" in root and "/Dests" in root.Names:
            flat = root.Names.Dests.Names
            for i in range(0, len(flat), 2):
                name = str(flat[i])
                if name not in names:
                    dest = flat[i + 1]
                    names[name] = Array([out.copy_foreign(dest[0]), *list(dest)[1:]])
        if "/Outlines" in root and "/First" in root.Outlines:
            outline.extend(_read_outline(out, root.Outlines.First))
        if number == 0:
            version = source.pdf_version
            docinfo = dict(source.docinfo.items())  # WeasyPrint's document information
            for key in ("/Lang", "/ViewerPreferences", "/MarkInfo", "/Metadata",
                        "/OutputIntents", "/PageMode"):
                if key in root:
                    value = root[key]
                    if not value.is_indirect and isinstance(value, Dictionary | Array):
                        value = source.make_indirect(value)  # copy_foreign copies these
                    catalog[key] = out.copy_foreign(value) if value.is_indirect else value
            docinfo = {k: out.copy_foreign(v) if v.is_indirect else v
                       for k, v in docinfo.items()}
        new_pages = [out.pages[i].obj for i in range(first_page, len(out.pages))]
        use_programs(out, new_pages, programs or {}, font_streams)
        _own_stream_data(new_pages + (list(catalog.values()) if number == 0 else []))
        source.close()
        if margin is not None and last_use[margin[0]] == number:
            opened.pop(margin[0]).close()

    # annotations' keys follow the pages' keys in the parent tree
    annotation_key = len(out.pages)
    for annot in keys_later:
        annot.StructParent = annotation_key
        annotation_key += 1
    nums = [(key if isinstance(key, int) else int(key.StructParent), value)
            for key, value in nums]
    document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document,
                                            K=Array(kids)))
    struct_root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    document.P = struct_root
    _set_parents(kids, document)
    nums.sort(key=lambda item: item[0])
    struct_root.ParentTree = out.make_indirect(Dictionary(
        Nums=Array([x for key, value in nums for x in (key, value)])))
    struct_root.ParentTreeNextKey = annotation_key
    struct_root.K = Array([document])

    for key, value in catalog.items():
        out.Root[key] = value
    out.Root.StructTreeRoot = struct_root
    if names:
        out.Root.Names = Dictionary(Dests=Dictionary(Names=Array(
            [x for name in sorted(names) for x in (String(name), names[name])])))
    if outline:
        out.Root.Outlines = _write_outline(out, outline)
    for key, value in docinfo.items():
        out.docinfo[key] = value
    out.trailer.ID = Array([String(identifier), String(identifier)])
    out.save(target, min_version=version, deterministic_id=True,
             object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    out.close()


def _own_stream_data(roots: list[Any]) -> None:
    """Give every stream reachable from ``roots`` (pages: not their /Parent) its own copy
    of its data, still encoded: qpdf reads a copied stream's data from its source file
    when it writes, so the source could not be closed before."""
    import pikepdf

    seen: set[tuple[int, int]] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            stack.extend(obj)
            continue
        if isinstance(obj, pikepdf.Stream):
            obj.write(obj.read_raw_bytes(), filter=obj.get("/Filter"),
                      decode_parms=obj.get("/DecodeParms"), type_check=False)
        stack.extend(value for key, value in obj.items() if key not in ("/Parent", "/P"))


def _draw_over(out: Any, page: Any, margin: Any, name: Any) -> None:
    """Draw ``margin`` (a page of another PDF) over ``page`` as a form XObject, marked as
    an artifact: running heads and folios are not part of the text's structure."""
    form = out.copy_foreign(margin.as_form_xobject())
    page.add_resource(form, "/XObject", name)
    page.contents_add(out.make_stream(b"q\n"), prepend=True)
    page.contents_add(out.make_stream(b"Q\n/Artifact BMC q " + bytes(str(name), "ascii")
                                      + b" Do Q EMC\n"))


def _set_parents(kids: list[Any], parent: Any) -> None:
    """Give every structure element its /P: the copied ones still point into their chunk's
    own tree (which, unreferenced, is not written)."""
    from pikepdf import Array, Dictionary

    stack = [(kid, parent) for kid in kids]
    while stack:
        node, up = stack.pop()
        if not isinstance(node, Dictionary) or "/S" not in node:
            continue  # a marked-content or object reference, an MCID
        node.P = up
        children = node.get("/K")
        if children is None:
            continue
        for child in (children if isinstance(children, Array) else [children]):
            stack.append((child, node))


def _read_outline(out: Any, item: Any) -> list:
    """An outline's entries with their destination pages copied into ``out``."""
    from pikepdf import Array

    entries = []
    while item is not None:
        dest = item.Dest
        children = _read_outline(out, item.First) if "/First" in item else []
        entries.append((str(item.Title),
                        Array([out.copy_foreign(dest[0]), *list(dest)[1:]]),
                        int(item.get("/Count", 0)), children))
        item = item.get("/Next")
    return entries


def _write_outline(out: Any, entries: list) -> Any:
    """Outline dictionaries as WeasyPrint writes them (pdf/anchors.py: add_outlines)."""
    from pikepdf import Dictionary, String

    def build(items: list, parent: Any) -> tuple[list[Any], int]:
        made: list[Any] = []
        count = len(items)
        for title, dest, old_count, children in items:
            node = out.make_indirect(Dictionary(Title=String(title), Dest=dest))
            child_nodes, child_count = build(children, node)
            closed = old_count < 0
            node.Count = -child_count if closed else child_count
            if not closed:
                count += child_count
            if made:
                node.Prev = made[-1]
                made[-1].Next = node
            if child_nodes:
                node.First = child_nodes[0]
                node.Last = child_nodes[-1]
            node.Parent = parent
            made.append(node)
        return made, count

    root = out.make_indirect(Dictionary())
    made, count = build(entries, root)
    root.Count = count
    root.First = made[0]
    root.Last = made[-1]
    return root
