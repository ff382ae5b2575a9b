"""Running Sphinx for an edition, and publishing its output atomically.

``run_sphinx`` builds a book directory with the project's one configuration (``conf/``)
and a given builder, with warnings as errors and nitpicky references; a failure raises
:class:`BuildError` whose message is Sphinx's own ``file:line: what`` list.
``publish_dir`` / ``publish_file`` put a finished output in place in one rename, so a
failed build never leaves a half-written edition where a good one was.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"


class BuildError(Exception):
    """A build failed for a reason the author can fix; the message says what and where."""


@dataclass(frozen=True)
class BookPaths:
    """Where a book is read from and where its editions are written."""

    book: Path
    build: Path

    @classmethod
    def from_args(cls, book: str | os.PathLike[str], build: str | os.PathLike[str]) -> BookPaths:
        book_dir = Path(book).resolve()
        # a book with a mystmd or Jupyter Book project file may name another root
        # (conf/ext/_project.py)
        project_file = any((book_dir / name).is_file() for name in ("myst.yml", "_toc.yml"))
        if not (book_dir / "index.md").is_file() and not project_file:
            raise BuildError(
                f"{book_dir}: not a book directory (no index.md). A book is a directory with "
                "index.md (front matter: title, author, language) and its chapters."
            )
        return cls(book_dir, Path(build).resolve())

    def stage(self, builder: str) -> Path:
        """Sphinx's own output dir for a builder, kept between builds (incremental)."""
        return self.build / ".stage" / builder

    def doctrees(self, builder: str) -> Path:
        return self.build / ".doctrees" / builder


def run_sphinx(paths: BookPaths, builder: str, *, quiet: bool = True) -> Path:
    """Build ``paths.book`` with ``builder`` into its stage dir; return that dir."""
    from sphinx.cmd.build import build_main

    outdir = paths.stage(builder)
    args = [
        "-b", builder,
        "-c", str(CONF),
        "-d", str(paths.doctrees(builder)),
        "-W", "--keep-going", "-n",
        "-j", sphinx_jobs(paths.book),
        str(paths.book), str(outdir),
    ]
    if quiet:
        args.insert(0, "-q")
    from scripts.preflight import check_book

    check_book(paths.book)
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(sys.stdout if not quiet else io.StringIO()):
        status = build_main(args)
    messages = err.getvalue().strip()
    if status != 0:
        forget_incremental_state(paths, builder)
        if "Traceback" in messages or status == 2:
            raise BuildError(_crash_summary(messages, builder))
        raise BuildError(_tidy(messages, paths.book) or f"sphinx-build -b {builder} failed")
    if messages:
        print(messages, file=sys.stderr)
    return outdir


def forget_incremental_state(paths: BookPaths, builder: str) -> None:
    """After a failed build, make the next one start afresh: Sphinx would otherwise take
    the documents it read despite their warnings as up to date, and not warn again."""
    (paths.doctrees(builder) / "environment.pickle").unlink(missing_ok=True)
    (paths.stage(builder) / ".buildinfo").unlink(missing_ok=True)


def run_sphinx_apart(paths: BookPaths, builder: str) -> Path:
    """``run_sphinx`` in a forked process: its memory (the environment, every doctree) is
    given back when it ends, before the caller renders the output (the print edition)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(run_sphinx, paths, builder).result()


# Below this many documents, Sphinx's worker processes (fork, pickle, merge) cost more
# than reading and writing in one process.
PARALLEL_DOCS = 24


def many_documents(book: Path) -> bool:
    """Whether the book has enough documents for work in other processes to pay off."""
    documents = sum(1 for p in book.rglob("*.md") if not any(
        part.startswith((".", "_")) for part in p.relative_to(book).parts))
    return documents >= PARALLEL_DOCS


def sphinx_jobs(book: Path) -> str:
    """``-j`` for Sphinx: ``BOOK_SPHINX_JOBS`` if set, else ``auto`` for a book of many
    documents and 1 for a small one."""
    jobs = os.environ.get("BOOK_SPHINX_JOBS", "").strip()
    if jobs:
        return jobs
    return "auto" if many_documents(book) else "1"


def _crash_summary(messages: str, builder: str) -> str:
    """One paragraph for an unexpected exception instead of Sphinx's version dump."""
    lines = [line.strip() for line in messages.splitlines() if line.strip()]
    cause = next((line for line in reversed(lines)
                  if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b", line)), "")
    log = next((line for line in lines if line.startswith("/") and "sphinx-err" in line), "")
    where = f" (full traceback: {log})" if log else ""
    return (f"the {builder} build stopped on an unexpected error: {cause or lines[-1:]}"
            f"{where}. This is a bug in the book builder or an extension, not in your text; "
            "please report it with the traceback.")


def _tidy(messages: str, book: Path) -> str:
    """Sphinx's warnings with paths shown relative to the current directory, each once."""
    cwd = Path.cwd()
    try:
        shown = str(book.relative_to(cwd))
    except ValueError:
        shown = str(book)
    lines = [line.replace(str(book), shown) for line in messages.splitlines()]
    return "\n".join(dict.fromkeys(lines))  # Sphinx repeats some warnings once per use


def publish_dir(source: Path, target: Path) -> None:
    """Replace ``target`` with a copy of ``source`` in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    shutil.rmtree(fresh)
    shutil.copytree(source, fresh, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        shutil.rmtree(old)
        target.rename(old)
    fresh.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def partial_file(target: Path) -> Path:
    """A new empty ``.<name>.…part`` file beside ``target``, to write an edition into
    before ``publish_file`` moves it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    return Path(name)


def publish_file(data_path: Path, target: Path) -> None:
    """Move a finished file into place atomically, removing other files of its kind and
    the ``.part`` files an interrupted build may have left behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(data_path, target)
    for other in target.parent.glob("*" + target.suffix):
        if other != target:
            other.unlink()
    for part in target.parent.glob(".*.part*"):
        part.unlink(missing_ok=True)
