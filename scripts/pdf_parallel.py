"""Chapter-parallel print edition: print HTML → documents of a few parts → workers → one PDF.

WeasyPrint lays a document out in one process, and its time and memory grow with the
document (a forward ``target-counter`` even makes it lay every later page out twice). This
module renders the book in *chunks* of whole parts instead, in worker processes, and joins
the chunk PDFs into one:

1. ``plan_chunks`` cuts ``book.html`` at the part boundaries the manifest records
   (character offsets): the front pages alone, then runs of parts up to a size bound, the
   index alone. Each chunk is a complete document with the book's ``<head>``.
2. **Content pass**: every chunk is rendered without running heads or folios (margin
   boxes off), so its pages do not depend on the page it starts on. Every link that
   prints a page number (contents, index, "(p. 42)") gets that number in ``data-page``
   (print.css prints it where ``target-counter`` would); a link to another chunk becomes
   a ``book-xref:`` URI that the merge turns back into a named destination. Numbers not
   yet known get a placeholder, so a chunk with such links is rendered a second time once
   every chunk's page count and ids' pages are known (the contents, the index, chapters
   with page references); the others are final after one render. If a page count
   changed, the pass repeats. Each chunk but the last ends with an empty
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

Chunk PDFs are cached in ``BUILD/.cache/pdf-chunks`` under a hash of the chunk's HTML, the
page numbers it was given, the CSS and the variant (margin pages: of their markup and start
page): a rebuild after one chapter changed re-renders that chunk, the chunks whose printed
page numbers moved, and the margin pages after it, nothing else.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

XREF_SCHEME = "book-xref:"
CHUNK_END = '<div class="print-chunk-end"></div>\n'
CACHE_VERSION = "3"  # 3: notes stay put (pdf_notes.notes_stay_put)
# A chunk holds whole parts up to about this many characters of print HTML (≈ 55 A5
# pages, ≈ 15 for the smallest): a worker's memory is bounded by it, enough chunks keep
# every core busy, and each render has a fixed cost (stylesheet, fonts) of about 0.1 s.
MAX_CHUNK_CHARS = 150_000
MIN_CHUNK_CHARS = 40_000
MAX_PASSES = 5


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive parts (or the front pages) rendered as one document."""

    index: int
    names: tuple[str, ...]  # docnames, or ("front pages",)
    html: str
    first_body: bool  # starts with the first body part: print.css restarts folios at 1
    last: bool


@dataclass(frozen=True)
class ChunkJob:
    """What a worker needs to render one chunk or one chunk's margin pages (picklable)."""

    html: str
    write_to: str
    numbers: dict[str, int]  # id → the page number links to it print
    placeholder: int  # the number printed for ids not in ``numbers`` (not known yet)
    roots: list[str]
    stage: str
    variant: str
    identifier: bytes
    sentinel: bool  # the last page is the chunk-end page: not kept
    final: bool = True  # False: write the PDF only if it prints no page number
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


@dataclass
class ParallelRender:
    """The merged PDF's facts, for ``scripts/pdf.py``'s summary and note check."""

    pages: int
    anchors: dict[str, int]  # id → 0-based page in the whole book
    warnings: list[str]
    refused: list[str]
    chunks: int
    rendered: int  # chunk renders done (cache misses only), margin pages not counted
    phases: dict[str, float] = field(default_factory=dict)  # seconds per pass


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
                    False, not groups)]
    first_body_done = False
    for number, group in enumerate(groups, start=1):
        last = number == len(groups)
        body = "".join(html[p["span"][0]:p["span"][1]] for p in group)
        is_first_body = not first_body_done and group[0]["matter"] == "body"
        first_body_done = first_body_done or is_first_body
        chunks.append(Chunk(number, tuple(p["docname"] for p in group),
                            head + body + ("" if last else CHUNK_END) + tail,
                            is_first_body, last))
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


def render_chunk(job: ChunkJob) -> ChunkResult:
    """Render one chunk (or its margin pages) to ``job.write_to``; runs in a worker."""
    import gc
    import logging

    from weasyprint import CSS, HTML

    from scripts.pdf import STAGE_URL, BookURLFetcher
    from scripts.pdf_notes import render_keeping_notes

    start = time.perf_counter()
    warnings: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        fetcher = BookURLFetcher([Path(r) for r in job.roots], Path(job.stage))
        document_html = HTML(string=job.html, base_url=STAGE_URL, url_fetcher=fetcher.fetcher)
        if job.margins_from:
            numbered: list[str] = []
            css = CSS(string=f"@page :first {{ counter-reset: page {job.margins_from} }}")
        else:
            numbered = _number_links(document_html.etree_element, job)
            css = CSS(string=NO_MARGINS)
        if job.margins_from:
            document = document_html.render(stylesheets=[css])
        else:
            document = render_keeping_notes(document_html, [css], _content_pages(job)).document
        pages = _content_pages(job)(document)
        anchors: dict[str, int] = {}
        for number, page in enumerate(pages):
            for anchor in page.anchors:
                anchors.setdefault(anchor, number)
        blank = [bool(page._page_box.page_type.blank) for page in pages]
        # a chunk printing page numbers it was not given is laid out to count its pages;
        # writing it would be wasted, it is rendered again with the numbers
        written = job.final or not numbered
        if written:
            document.copy(pages).write_pdf(job.write_to, pdf_variant=job.variant,
                                           pdf_tags=not job.margins_from,
                                           pdf_identifier=job.identifier,
                                           custom_metadata=False)
        result = ChunkResult(len(pages), anchors, numbered, blank, written, warnings,
                             list(dict.fromkeys(fetcher.refused)))
    finally:
        logger.removeHandler(handler)
    del document
    gc.collect()
    result.seconds = time.perf_counter() - start
    return result


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
            number = job.numbers.get(target, job.placeholder)
            link.set("data-page", str(number))
            link.set("data-page-roman", _roman(number))
        if target not in ids:
            link.set("href", XREF_SCHEME + target)
    return sorted(numbered)


def margin_body(chunk: Chunk, html: str, manifest: Any, result: ChunkResult) -> str:
    """Empty pages with the chunk's parts, page names and blank pages, for its heads and
    folios: each part's own start tag (from the print HTML) around one block per page."""
    spans = {p["docname"]: p["span"] for p in manifest.parts}
    starts = [result.anchors.get(doc_anchor(name), 0) for name in chunk.names]
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


def doc_anchor(docname: str) -> str:
    return "document-" + docname.replace("/", "-")


# -- the driver ---------------------------------------------------------------------------


def worker_count() -> int:
    jobs = os.environ.get("BOOK_PDF_JOBS", "")
    if jobs.isdigit() and int(jobs) > 0:
        return int(jobs)
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def render_parallel(html: str, manifest: Any, css_text: str, target: Path, cache: Path,
                    *, roots: list[Path], stage: Path, variant: str, identifier: bytes,
                    jobs: int | None = None) -> ParallelRender:
    """Render the print HTML chunk by chunk into ``target`` (one PDF); see module doc."""
    jobs = jobs or worker_count()
    chunks = plan_chunks(html, manifest, max(MIN_CHUNK_CHARS, min(
        MAX_CHUNK_CHARS, len(html) // (3 * jobs))))
    cache.mkdir(parents=True, exist_ok=True)
    jobs = min(jobs, len(chunks))
    # the number printed before the real one is known: as wide as a typical page number
    placeholder = max(10, len(html) // 8000)
    salt = hashlib.sha256((CACHE_VERSION + css_text + variant).encode()
                          + identifier).hexdigest()
    common = {"roots": [str(r) for r in roots], "stage": str(stage), "variant": variant,
              "identifier": identifier}
    used: set[str] = set()
    rendered = 0

    def job_for(chunk: Chunk, text: str, numbers: dict[str, int], margins_from: int = 0,
                final: bool = True) -> tuple[ChunkJob, str]:
        key = hashlib.sha256(json.dumps(
            [salt, text, sorted(numbers.items()), placeholder, margins_from, final],
            ensure_ascii=False).encode()).hexdigest()[:32]
        used.add(key)
        return ChunkJob(text, str(cache / f"{key}.pdf"), numbers, placeholder,
                        sentinel=not chunk.last, final=final, margins_from=margins_from,
                        **common), key

    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:

        def run(batch: list[tuple[ChunkJob, str]], count: bool = True) -> list[ChunkResult]:
            nonlocal rendered
            out: dict[int, ChunkResult] = {}
            futures = {}
            for index, (job, key) in enumerate(batch):
                meta = cache / f"{key}.json"
                if meta.is_file():
                    known = ChunkResult(**json.loads(meta.read_text("utf-8")))
                    if not known.written or Path(job.write_to).is_file():
                        out[index] = known
                        continue
                futures[index] = (pool.submit(render_chunk, job), meta)
            for index, (future, meta) in futures.items():
                result = future.result()
                rendered += count
                meta.write_text(json.dumps(asdict(result)), encoding="utf-8")
                out[index] = result
            return [out[i] for i in range(len(batch))]

        # content pass: numbers not known yet are placeholders
        clock = time.perf_counter()
        phases: dict[str, float] = {}
        batch = [job_for(c, c.html, {}, final=False) for c in chunks]
        results = run(batch)
        phases["content"] = time.perf_counter() - clock
        for _ in range(MAX_PASSES):
            starts, counters, where = _positions(chunks, results)
            wanted = [{t: where[t] for t in r.numbered if t in where} for r in results]
            again = [not r.written or job.numbers != numbers
                     for (job, _), r, numbers in zip(batch, results, wanted, strict=True)]
            if not any(again):
                break
            batch = [job_for(c, c.html, numbers) if redo else old
                     for c, redo, numbers, old in zip(chunks, again, wanted, batch, strict=True)]
            results = run(batch)
        phases["numbers"] = time.perf_counter() - clock - phases["content"]
        starts, counters, where = _positions(chunks, results)
        # margin pages: a few documents of consecutive chunks (each render has a fixed cost)
        head, tail = html[:manifest.front[0]], html[manifest.parts[-1]["span"][1]:]
        groups = margin_groups(chunks, results, 2 * jobs)
        margin_jobs = []
        for group in groups:
            last = chunks[group[-1]]
            text = (head + "".join(margin_body(chunks[i], html, manifest, results[i])
                                   for i in group)
                    + ("" if last.last else CHUNK_END) + tail)
            margin_jobs.append(job_for(last, text, {}, counters[group[0]]))
        margin_results = run(margin_jobs, count=False)
        phases["margins"] = time.perf_counter() - clock - phases["content"] - phases["numbers"]
    clock = time.perf_counter()
    margins: list[tuple[Path, int] | None] = [None] * len(chunks)
    for group, (job, _), margin in zip(groups, margin_jobs, margin_results, strict=True):
        offset = 0
        for i in group:
            margins[i] = (Path(job.write_to), offset)
            offset += results[i].pages
        if margin.pages != offset:
            raise RuntimeError(f"chunks {[chunks[i].names for i in group]}: {offset} pages "
                               f"of text but {margin.pages} of running heads")
    merge_chunks([Path(job.write_to) for job, _ in batch], margins, target, identifier)
    phases["merge"] = time.perf_counter() - clock
    _prune(cache, used)
    anchors: dict[str, int] = {}
    for start, result in zip(starts, results, strict=True):
        for name, page in result.anchors.items():
            anchors.setdefault(name, start + page)
    return ParallelRender(sum(r.pages for r in results), anchors,
                          [w for r in results for w in r.warnings],
                          [u for r in results for u in r.refused], len(chunks), rendered,
                          phases)


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
                 identifier: bytes) -> None:
    """Join chunk PDFs into one tagged PDF with one outline, name tree and metadata, each
    page under its margin page (running head, folio) drawn as an artifact (pikepdf/qpdf:
    objects are copied once per source, so every reference to a page lands on its copy)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    out = pikepdf.new()
    sources = [pikepdf.open(path) for path in paths]
    opened: dict[Path, Any] = {}
    for margin in margins:
        if margin is not None and margin[0] not in opened:
            opened[margin[0]] = pikepdf.open(margin[0])
    total = sum(len(source.pages) for source in sources)
    kids: list[Any] = []
    nums: list[tuple[int, Any]] = []
    names: dict[str, Any] = {}
    outline: list = []
    annotation_key = total
    for number, source in enumerate(sources):
        first_page = len(out.pages)
        with warnings.catch_warnings():  # named destinations are merged below
            warnings.simplefilter("ignore")
            out.pages.extend(source.pages)
        key_map: dict[int, int] = {}
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
                    key_map[int(annot.StructParent)] = annotation_key
                    annot.StructParent = annotation_key
                    annotation_key += 1
            margin = margins[number]
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

    first = sources[0]
    for key in ("/Lang", "/ViewerPreferences", "/MarkInfo", "/Metadata", "/OutputIntents",
                "/PageMode"):
        if key in first.Root:
            value = first.Root[key]
            if not value.is_indirect and isinstance(value, Dictionary | Array):
                value = first.make_indirect(value)  # copy_foreign copies indirect objects
            out.Root[key] = out.copy_foreign(value) if value.is_indirect else value
    out.Root.StructTreeRoot = struct_root
    if names:
        out.Root.Names = Dictionary(Dests=Dictionary(Names=Array(
            [x for name in sorted(names) for x in (String(name), names[name])])))
    if outline:
        out.Root.Outlines = _write_outline(out, outline)
    for key, value in first.docinfo.items():  # WeasyPrint's document information
        out.docinfo[key] = value
    out.trailer.ID = Array([String(identifier), String(identifier)])
    out.save(target, min_version=first.pdf_version, deterministic_id=True,
             object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    for pdf in [*sources, *opened.values(), out]:
        pdf.close()


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
