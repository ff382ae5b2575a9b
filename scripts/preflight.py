"""Checks of a book directory before Sphinx reads it, for errors Sphinx reports badly.

Sphinx crashes with a traceback on a chapter that is not UTF-8 and prints a configuration
dump for a broken ``index.md`` front matter; an empty chapter only shows up as knock-on
warnings. These checks say what is wrong, where, and how to fix it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scripts.sphinx_run import CONF, BuildError

SOURCE_SUFFIXES = (".md", ".bib")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def check_book(book: Path) -> None:
    """Raise :class:`BuildError` listing every problem found in ``book``."""
    problems: list[str] = []
    for path in sorted(book.rglob("*")):
        if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
            continue
        if any(part.startswith((".", "_build")) for part in path.relative_to(book).parts):
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
            problems.append(
                f"{_shown(path)}:{line}: not valid UTF-8 (byte 0x{data[err.start]:02x} at "
                f"column {column}); save the file as UTF-8"
            )
            continue
        if path.suffix == ".md" and not text.strip():
            problems.append(
                f"{_shown(path)}:1: the file is empty; write at least a '# Title' line, "
                "or delete the file and its toctree entry"
            )
    sys.path.insert(0, str(CONF / "ext"))
    try:
        from bookmeta import BookMetaError, load_book_meta

        load_book_meta(book)
    except BookMetaError as err:
        problems.append(str(err).replace(str(book / "index.md"), _shown(book / "index.md")))
    finally:
        sys.path.remove(str(CONF / "ext"))
    if problems:
        raise BuildError("\n".join(problems))
