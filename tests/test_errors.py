"""Bad input: a clear message naming file and line, a non-zero exit, outputs untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import FIXTURE_BOOK, run_build


@pytest.fixture()
def broken_book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, book)
    return book


def break_chapter(book: Path, text: str) -> None:
    chapter = book / "two.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


@pytest.mark.parametrize(("bad_text", "message"), [
    ("A claim.{footcite}`no-such-key`", 'citation key "no-such-key" is not in the bibliography'),
    ("See {ref}`no-such-label`.", "undefined label: 'no-such-label'"),
    ("A note call with no note.[^missing]", "missing"),
    ("```{figure} figures/missing.png\nA caption.\n```", "missing.png"),
])
def test_bad_input_fails_with_file_and_line(broken_book: Path, tmp_path: Path,
                                            bad_text: str, message: str) -> None:
    result = run_build(broken_book, tmp_path / "out", "html")
    assert result.returncode == 0, result.stderr
    good = (tmp_path / "out" / "html" / "index.html").read_bytes()

    break_chapter(broken_book, bad_text)
    result = run_build(broken_book, tmp_path / "out", "html")
    assert result.returncode == 1
    assert "two.md:" in result.stderr, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    # the previous good output is still there, byte for byte
    assert (tmp_path / "out" / "html" / "index.html").read_bytes() == good


def test_not_a_book_directory(tmp_path: Path) -> None:
    result = run_build(tmp_path, tmp_path / "out", "html")
    assert result.returncode == 1
    assert "not a book directory (no index.md)" in result.stderr
