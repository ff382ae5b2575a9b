"""Command line: build the editions of a MyST book.

    python -m scripts.build [html|pdf|epub|all ...] [--book DIR] [--build DIR]

Each edition has its own module (``scripts/html.py``, ``pdf.py``, ``epub.py``) that turns
the book directory into ``BUILD/<edition>/``. Errors are printed as ``file:line: what``
and exit with status 1; the previous outputs stay as they were. Several editions are built
side by side in worker processes when the machine has more than one core (each has its own
Sphinx stage and doctree directories); ``BOOK_EDITIONS_PARALLEL=0`` builds them in turn.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from scripts.sphinx_run import BookPaths, BuildError


def _editions() -> dict[str, Callable[[BookPaths], Path]]:
    from scripts.epub import build_epub
    from scripts.html import build_html
    from scripts.pdf import build_pdf

    return {"html": build_html, "pdf": build_pdf, "epub": build_epub}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # a plain string: argparse checks a default list against the choices as one value
    parser.add_argument("editions", nargs="*", default="all",
                        choices=["html", "pdf", "epub", "all"], metavar="EDITION",
                        help="html, pdf, epub or all (default: all)")
    parser.add_argument("--book", default="book", help="the book directory (default: book)")
    parser.add_argument("--build", default="_build", help="output directory (default: _build)")
    args = parser.parse_args(argv)
    chosen = [args.editions] if isinstance(args.editions, str) else args.editions
    wanted = ["html", "pdf", "epub"] if "all" in chosen else chosen
    editions = _editions()
    try:
        paths = BookPaths.from_args(args.book, args.build)
        names = list(dict.fromkeys(wanted))
        with build_lock(paths.build):
            if len(names) > 1 and _side_by_side():
                failed = None
                _preload()
                context = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(max_workers=len(names), mp_context=context) as pool:
                    for done in [pool.submit(build_edition, name, paths) for name in names]:
                        result = done.result()
                        print(result.stdout, end="")
                        if result.error is not None:
                            failed = failed or result.error
                            continue
                        print(f"{result.name}: {_shown(result.output)} "
                              f"({result.seconds:.1f} s)")
                if failed is not None:
                    raise BuildError(failed)
            else:
                for name in names:
                    start = time.perf_counter()
                    output = editions[name](paths)
                    print(f"{name}: {_shown(output)} ({time.perf_counter() - start:.1f} s)")
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the previous outputs are unchanged", file=sys.stderr)
        return 130
    return 0


@dataclass
class EditionResult:
    """One edition built in a worker process: its output, or the error to report."""

    name: str
    output: Path | None
    stdout: str
    error: str | None
    seconds: float


def build_edition(name: str, paths: BookPaths) -> EditionResult:
    """Build one edition, its report captured (runs in a worker process)."""
    buffer = io.StringIO()
    start = time.perf_counter()
    try:
        with redirect_stdout(buffer):
            output = _editions()[name](paths)
    except BuildError as err:
        return EditionResult(name, None, buffer.getvalue(), str(err),
                             time.perf_counter() - start)
    return EditionResult(name, output, buffer.getvalue(), None, time.perf_counter() - start)


def _preload() -> None:
    """Import what every edition's Sphinx run imports once, before the editions are forked:
    each would spend about half a second of CPU on it (the cores are shared)."""
    import myst_parser.parsers.sphinx_  # noqa: F401
    import sphinx.application  # noqa: F401
    import sphinx.builders.html  # noqa: F401
    import sphinxcontrib.bibtex  # noqa: F401


def _side_by_side() -> bool:
    if os.environ.get("BOOK_EDITIONS_PARALLEL", "").strip() == "0":
        return False
    return len(os.sched_getaffinity(0)) > 1


@contextmanager
def build_lock(build: Path) -> Iterator[None]:
    """Serialise builds into the same BUILD dir (two builds into two dirs run side by side)."""
    build.mkdir(parents=True, exist_ok=True)
    with open(build / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting: another build is writing to {_shown(build)}", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
