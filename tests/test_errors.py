"""Bad input: a clear message naming file and line, a non-zero exit, outputs untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE_BOOK, run_build


@pytest.fixture(scope="module")
def good_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good build of the fixture book, copied by each test before it breaks the book."""
    build = tmp_path_factory.mktemp("good") / "out"
    result = run_build(FIXTURE_BOOK, build, "html")
    assert result.returncode == 0, result.stderr
    return build


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
    ("![x](/../../../../../../../../etc/hostname)", "is outside the book directory"),
    ("![x](http://127.0.0.1:9/x.png)", "the build never fetches from an address"),
    ('<img src="file:///etc/passwd">', "raw HTML refused: <img> is not allowed"),
    ("<script>alert(1)</script>", "raw HTML refused"),
    ("```{include} /../../../../../../../../etc/hostname\n```", "is outside the book directory"),
    ("```{include} two.md\n```", "include cycle"),
    ("```{raw} html\n:url: http://127.0.0.1:9/\n```", "the :url: option is not allowed"),
    ("```{nosuchdirective}\nx\n```", "Unknown directive type: 'nosuchdirective'"),
    ("(sec-mouth)=\n## Again", 'Duplicate explicit target name: "sec-mouth"'),
])
def test_bad_input_fails_with_file_and_line(broken_book: Path, tmp_path: Path, good_build: Path,
                                            bad_text: str, message: str) -> None:
    shutil.copytree(good_build, tmp_path / "out", symlinks=True)
    good = (tmp_path / "out" / "html" / "index.html").read_bytes()

    break_chapter(broken_book, bad_text)
    result = run_build(broken_book, tmp_path / "out", "html")
    assert result.returncode == 1
    assert "two.md:" in result.stderr, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    # the previous good output is still there, byte for byte
    assert (tmp_path / "out" / "html" / "index.html").read_bytes() == good
    # and building again without fixing the text fails again (no stale success)
    again = run_build(broken_book, tmp_path / "out", "html")
    assert again.returncode == 1 and message in again.stderr


def test_not_a_book_directory(tmp_path: Path) -> None:
    result = run_build(tmp_path, tmp_path / "out", "html")
    assert result.returncode == 1
    assert "not a book directory (no index.md)" in result.stderr


def test_harmless_inline_html_is_kept(broken_book: Path, tmp_path: Path) -> None:
    break_chapter(broken_book,
                  'An <abbr title="Human Rights Center">HRC</abbr> <span lang="be">Вясна</span>.')
    result = run_build(broken_book, tmp_path / "out", "html")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "html" / "two.html").read_text(encoding="utf-8")
    assert '<abbr title="Human Rights Center">HRC</abbr>' in page


def test_nothing_outside_the_book_reaches_the_output(broken_book: Path, tmp_path: Path) -> None:
    break_chapter(broken_book, "![x](/../../../../../../../../etc/hostname)")
    run_build(broken_book, tmp_path / "out", "html")
    leaked = [p for p in (tmp_path / "out").rglob("hostname*")]
    assert leaked == []


@pytest.mark.parametrize(("damage", "message"), [
    (lambda b: (b / "two.md").write_bytes(b"# Two\n\nBad \xff bytes.\n"),
     "two.md:3: not valid UTF-8 (byte 0xff at column 5)"),
    (lambda b: (b / "two.md").write_text(""), "two.md:1: the file is empty"),
    (lambda b: (b / "index.md").write_text((b / "index.md").read_text().replace(
        'title: "The River Book"', "title: [broken")), "index.md:3: malformed YAML front matter"),
    (lambda b: (b / "index.md").write_text((b / "index.md").read_text().replace(
        "\ntwo\n", "\ntwo\nthree\n")), "toctree contains reference to nonexisting document 'three'"),
    (lambda b: (b / "two.md").write_text("---\nmatter: [front\n---\n# Two\n"),
     "two.md:1: WARNING: Malformed YAML"),
    (lambda b: (b / "two.md").write_text("---\nmatter: middle\n---\n# Two\n"),
     "unknown matter 'middle'"),
])
def test_broken_files_are_named(broken_book: Path, tmp_path: Path, damage, message: str) -> None:
    damage(broken_book)
    result = run_build(broken_book, tmp_path / "out", "html")
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "Versions" not in result.stderr
