"""Benchmark: generated books of 10–1,000 pages → each edition's time, CPU, memory, size.

    python -m scripts.bench [--pages 10,100,300,1000] [--editions html,pdf,epub]
                            [--out _build/bench] [--seed 7] [--no-fixture] [--no-one-shot]

For every page count, ``scripts/genbook.py`` writes a book, and each edition is built clean
with the real command line (``python -m scripts.build``) in a subprocess. The process tree
is sampled from ``/proc`` every 50 ms: *peak RSS* is the largest sum of the resident sets
of the build and all its descendants (Sphinx's readers, the PDF workers), *CPU* the user +
system time of all of them. For the PDF, the same print HTML is then rendered one-shot
(one WeasyPrint ``write_pdf`` in one process, as ``BOOK_PDF_PARALLEL=0`` does) and the
table gives the ratios: render time and peak memory of the one-shot render over the
chapter-parallel one. Then one chapter is edited and the edition rebuilt (incremental).
The fixture book (``tests/fixture-book``) is built clean with all three editions in one
command, then one chapter is edited and HTML + EPUB rebuilt; the doctree files Sphinx
rewrote tell which documents it re-read.

The table is printed and written to ``OUT/results.csv`` and ``OUT/results.json`` (with the
machine: CPUs, memory, load average), to compare between commits. A benchmark, not a test:
nothing here fails on a slow figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixture-book"
EPOCH = "1714521600"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One measured command."""

    book: str
    what: str  # e.g. "pdf", "pdf one-shot", "html+epub (1 chapter edited)"
    wall: float
    cpu: float
    peak_rss_mb: float  # the whole process tree, summed
    max_process_mb: float  # the largest single process (sampled)
    pages: int | str
    size_kb: float
    note: str = ""
    ok: bool = True


@dataclass
class Measured:
    wall: float
    cpu: float
    peak_rss: int
    max_process: int
    stdout: str
    stderr: str
    returncode: int


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _sample(root: int) -> tuple[int, int, dict[int, float]]:
    """RSS of ``root`` and its descendants (bytes; their sum and the largest), and each
    one's CPU seconds so far."""
    tree = _children()
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(tree.get(pid, []))
    rss, largest, cpu = 0, 0, {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                own = int(f.read().split()[1]) * PAGE_SIZE
            rss += own
            largest = max(largest, own)
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu[pid] = (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, IndexError, ValueError):
            continue
    return rss, largest, cpu


def measure(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``argv``; sample its process tree until it exits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=os.environ | {"SOURCE_DATE_EPOCH": EPOCH} | (env or {}))
    peak, peak_process, cpu_seen = 0, 0, {}
    out: dict[str, str] = {}

    def drain() -> None:
        out["stdout"], out["stderr"] = proc.communicate()

    reader = threading.Thread(target=drain)
    reader.start()
    while reader.is_alive():
        rss, largest, cpu = _sample(proc.pid)
        peak = max(peak, rss)
        peak_process = max(peak_process, largest)
        cpu_seen.update(cpu)
        reader.join(0.05)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # a process not waited for by its parent (the forkserver) is missing from rusage; one
    # that ended between two samples lost its last 50 ms in the sampled figure
    cpu_total = max(waited, sum(cpu_seen.values()))
    return Measured(wall, cpu_total, peak, peak_process, out.get("stdout", ""),
                    out.get("stderr", ""), proc.returncode)


def build(book: Path, build_dir: Path, *editions: str, env: dict[str, str] | None = None
          ) -> Measured:
    return measure([sys.executable, "-m", "scripts.build", *editions, "--book", str(book),
                    "--build", str(build_dir)], env)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def _edit_one_chapter(book: Path) -> str:
    """Append a sentence to the middle chapter (what an author does between two saves)."""
    chapters = sorted(p for p in book.glob("*.md")
                      if p.stem not in ("index", "preface", "glossary", "bibliography"))
    chapter = chapters[len(chapters) // 2]
    with chapter.open("a", encoding="utf-8") as f:
        f.write(f"\nAn added sentence, written at {time.time():.0f}.\n")
    return chapter.stem


def _reread(build_dir: Path, builder: str, since: float) -> list[str]:
    """Documents whose doctree Sphinx wrote after ``since`` (what it re-read)."""
    doctrees = build_dir / ".doctrees" / builder
    return sorted(p.stem for p in doctrees.glob("*.doctree") if p.stat().st_mtime >= since)


def _mb(n: int) -> float:
    return round(n / 1024 / 1024, 1)


def _run(book: str, what: str, m: Measured, pages: int | str, size: int, note: str = ""
         ) -> Run:
    if m.returncode != 0:
        note = (note + " FAILED: " + m.stderr.strip().splitlines()[-1:][0]
                if m.stderr.strip() else note + " FAILED")
    return Run(book, what, round(m.wall, 2), round(m.cpu, 2), _mb(m.peak_rss),
               _mb(m.max_process), pages, round(size / 1024, 1), note.strip(), m.returncode == 0)


def bench_book(pages: int, out: Path, editions: list[str], seed: int, one_shot: bool
               ) -> list[Run]:
    from scripts.genbook import generate_book

    book = out / "books" / f"p{pages}"
    shutil.rmtree(book, ignore_errors=True)
    generated = generate_book(book, pages, seed)
    name = f"{pages} pages"
    runs: list[Run] = []
    for edition in editions:
        build_dir = out / "builds" / f"p{pages}-{edition}"
        shutil.rmtree(build_dir, ignore_errors=True)
        m = build(book, build_dir, edition)
        output = next(iter((build_dir / edition).glob("*.*")), build_dir / edition) \
            if edition != "html" else build_dir / "html"
        page_count: int | str = _pdf_pages(output) if edition == "pdf" and m.returncode == 0 \
            else f"~{pages}"
        note = f"{generated.chapters} chapters, {generated.notes} notes"
        render = re.search(r"rendered in ([\d.]+) s \(([^)]*)\)", m.stdout)
        if render:
            note += f"; render {render[1]} s: {render[2]}"
        runs.append(_run(name, edition, m, page_count, _size(output) if m.returncode == 0
                         else 0, note))
        if edition == "pdf" and one_shot and m.returncode == 0:
            stage = build_dir / ".stage" / "printhtml"
            target = build_dir / "one-shot.pdf"
            single = measure([sys.executable, "-m", "scripts.bench", "--one-shot-render",
                              str(book), str(stage), str(target)])
            parallel_render = float(render[1]) if render else m.wall
            own = re.search(r"rendered in ([\d.]+) s", single.stdout)
            single_render = float(own[1]) if own else single.wall
            ratio = (f"render {single_render:.1f} s; one-shot ÷ this build: render time "
                     f"{single_render / parallel_render:.2f}×, "
                     f"peak memory {single.peak_rss / max(m.peak_rss, 1):.2f}×")
            runs.append(_run(name, "pdf one-shot render", single,
                             _pdf_pages(target) if single.returncode == 0 else "",
                             _size(target) if single.returncode == 0 else 0, ratio))
        # one chapter edited, the same edition rebuilt
        since = time.time()
        edited = _edit_one_chapter(book)
        again = build(book, build_dir, edition)
        builder = {"html": "html", "pdf": "printhtml", "epub": "bookepub"}[edition]
        reread = _reread(build_dir, builder, since)
        note = f"edited {edited}; re-read: {', '.join(reread) or 'nothing'}"
        render = re.search(r"rendered in ([\d.]+) s \(([^)]*)\)", again.stdout)
        if render:
            note += f"; render {render[1]} s: {render[2]}"
        runs.append(_run(name, f"{edition} (1 chapter edited)", again, "", 0, note))
    return runs


def bench_fixture(out: Path) -> list[Run]:
    book = out / "books" / "fixture"
    shutil.rmtree(book, ignore_errors=True)
    shutil.copytree(FIXTURE, book)
    build_dir = out / "builds" / "fixture"
    shutil.rmtree(build_dir, ignore_errors=True)
    runs = []
    m = build(book, build_dir, "html", "pdf", "epub")
    runs.append(_run("fixture", "html+pdf+epub (clean)", m, "", _size(build_dir / "html")
                     + _size(build_dir / "pdf") + _size(build_dir / "epub"),
                     " ".join(re.findall(r"^(\w+: .*\(\d[\d.]* s\))$", m.stdout, re.M))))
    since = time.time()
    edited = _edit_one_chapter(book)
    m = build(book, build_dir, "html", "epub")
    reread = sorted(set(_reread(build_dir, "html", since) + _reread(build_dir, "bookepub",
                                                                      since)))
    runs.append(_run("fixture", "html+epub (1 chapter edited)", m, "", 0,
                     f"edited {edited}; re-read: {', '.join(reread) or 'nothing'}"))
    return runs


def one_shot_render(book: Path, stage: Path, target: Path) -> None:
    """The whole print HTML in one WeasyPrint render, as ``BOOK_PDF_PARALLEL=0`` does."""
    from weasyprint import HTML

    from scripts.pdf import STAGE_URL, BookURLFetcher, allowed_roots, pdf_variant
    from scripts.sphinx_run import BookPaths

    paths = BookPaths(book.resolve(), stage.parent.parent)
    fetcher = BookURLFetcher(allowed_roots(paths), stage)
    html = (stage / "book.html").read_text(encoding="utf-8")
    start = time.perf_counter()
    HTML(string=html, base_url=STAGE_URL, url_fetcher=fetcher.fetcher).write_pdf(
        target, pdf_variant=pdf_variant(), pdf_tags=True, custom_metadata=False)
    print(f"rendered in {time.perf_counter() - start:.1f} s")


FIELDS = [f for f in Run.__dataclass_fields__]


def table(runs: list[Run]) -> str:
    heads = ["book", "what", "wall s", "CPU s", "peak RSS MB", "max proc MB", "pages",
             "size KB", "note"]
    rows = [[r.book, r.what, f"{r.wall:.1f}", f"{r.cpu:.1f}", f"{r.peak_rss_mb:.0f}",
             f"{r.max_process_mb:.0f}", str(r.pages), f"{r.size_kb:.0f}", r.note]
            for r in runs]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if i < 8 else 0
              for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def machine() -> dict[str, object]:
    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1]) * 1024
    return {"cpus": len(os.sched_getaffinity(0)), "memory_gb": round(total / 2**30, 1),
            "python": platform.python_version(), "load_average": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default="10,100,300,1000",
                        help="page counts, comma-separated (default: 10,100,300,1000)")
    parser.add_argument("--editions", default="html,pdf,epub")
    parser.add_argument("--out", default="_build/bench")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-fixture", action="store_true")
    parser.add_argument("--no-one-shot", action="store_true",
                        help="skip the one-shot PDF render used for the ratios")
    parser.add_argument("--one-shot-render", nargs=3, metavar=("BOOK", "STAGE", "PDF"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_shot_render:
        book, stage, target = map(Path, args.one_shot_render)
        one_shot_render(book, stage, target)
        return 0
    out = (ROOT / args.out).resolve() if not Path(args.out).is_absolute() else Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    editions = [e for e in args.editions.split(",") if e]
    runs: list[Run] = []
    if not args.no_fixture:
        runs += bench_fixture(out)
        print(table(runs), flush=True)
    for pages in [int(p) for p in args.pages.split(",") if p]:
        runs += bench_book(pages, out, editions, args.seed, not args.no_one_shot)
        print(f"\n{table([r for r in runs if r.book == f'{pages} pages'])}", flush=True)
    print("\n" + table(runs))
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(asdict(r) for r in runs)
    (out / "results.json").write_text(json.dumps(
        {"machine": machine(), "runs": [asdict(r) for r in runs]}, indent=1,
        ensure_ascii=False), encoding="utf-8")
    print(f"\nresults: {out / 'results.csv'}, {out / 'results.json'}")
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
