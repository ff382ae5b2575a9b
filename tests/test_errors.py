"""Bad input: a clear message naming file and line, a non-zero exit, outputs untouched."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE_BOOK, run_build


@pytest.fixture(scope="module")
def good_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good build of all three editions, copied by each test before it breaks the book."""
    build = tmp_path_factory.mktemp("good") / "out"
    result = run_build(FIXTURE_BOOK, build, "html", "pdf", "epub")
    assert result.returncode == 0, result.stderr
    return build


def published(build: Path) -> dict[str, str]:
    """A digest of every published file of the three editions (not the stage dirs)."""
    return {str(p.relative_to(build)): hashlib.sha256(p.read_bytes()).hexdigest()
            for edition in ("html", "pdf", "epub") for p in sorted((build / edition).rglob("*"))
            if p.is_file()}


def assert_fails_and_keeps_outputs(book: Path, out: Path, good_build: Path,
                                   message: str) -> str:
    shutil.copytree(good_build, out, symlinks=True,
                    ignore=shutil.ignore_patterns(".stage", ".doctrees"))
    before = published(out)
    assert any(k.endswith(".pdf") for k in before) and any(k.endswith(".epub") for k in before)
    result = run_build(book, out, "html", "pdf", "epub")
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "Versions" not in result.stderr
    # the previous good editions are still there, byte for byte
    assert published(out) == before
    return result.stderr


@pytest.fixture()
def broken_book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, book)
    return book


def break_chapter(book: Path, text: str) -> None:
    chapter = book / "two.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


def test_a_failed_build_fails_again_until_fixed(broken_book: Path, tmp_path: Path,
                                                good_build: Path) -> None:
    """No stale success: Sphinx must not take a document that warned as up to date."""
    break_chapter(broken_book, "See {ref}`no-such-label`.")
    assert_fails_and_keeps_outputs(broken_book, tmp_path / "out", good_build,
                                   "undefined label: 'no-such-label'")
    for edition in ("html", "epub", "pdf"):
        again = run_build(broken_book, tmp_path / "out", edition)
        assert again.returncode == 1 and "undefined label: 'no-such-label'" in again.stderr


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
    ("A formula {math}`\\frac{1}{` cut short.", "cannot set the formula"),
    ('<link rel="stylesheet" href="http://127.0.0.1:9/s.css">', "raw HTML refused"),
    ('<span style="background: url(http://127.0.0.1:9/x.png)">x</span>',
     "the attribute style= is not allowed"),
])
def test_bad_input_fails_with_file_and_line(broken_book: Path, tmp_path: Path, good_build: Path,
                                            bad_text: str, message: str) -> None:
    break_chapter(broken_book, bad_text)
    stderr = assert_fails_and_keeps_outputs(broken_book, tmp_path / "out", good_build, message)
    assert "two.md:" in stderr


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
def test_broken_files_are_named(broken_book: Path, tmp_path: Path, good_build: Path,
                                damage, message: str) -> None:
    damage(broken_book)
    assert_fails_and_keeps_outputs(broken_book, tmp_path / "out", good_build, message)
