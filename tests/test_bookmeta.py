"""Unit tests of the book metadata reader (conf/ext/bookmeta.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conf" / "ext"))
from bookmeta import BookMetaError, load_book_meta, slugify  # noqa: E402


def write_book(tmp_path: Path, front_matter: str) -> Path:
    (tmp_path / "index.md").write_text(f"---\n{front_matter}---\n\n# Hi\n", encoding="utf-8")
    return tmp_path


def test_minimal_front_matter_gets_defaults(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    meta = load_book_meta(write_book(tmp_path, "title: A Book\nauthor: Me\nlanguage: en\n"))
    assert (meta.title, meta.author, meta.language) == ("A Book", "Me", "en")
    assert meta.date == "2023-11-14"
    assert meta.identifier.startswith("urn:uuid:")
    # stable: the same title and author give the same identifier
    assert load_book_meta(tmp_path).identifier == meta.identifier
    assert meta.slug == "a-book"


def test_identifier_changes_with_title(tmp_path: Path) -> None:
    a = load_book_meta(write_book(tmp_path, "title: A\nauthor: Me\nlanguage: en\n"))
    b = load_book_meta(write_book(tmp_path, "title: B\nauthor: Me\nlanguage: en\n"))
    assert a.identifier != b.identifier


def test_missing_required_keys_are_named(tmp_path: Path) -> None:
    with pytest.raises(BookMetaError, match=r"index.md:1: the front matter lacks author, language"):
        load_book_meta(write_book(tmp_path, "title: A Book\n"))


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    book = write_book(tmp_path, "title: A Book\nauthor: [unclosed\nlanguage: en\n")
    with pytest.raises(BookMetaError, match=r"index\.md:\d+: malformed YAML front matter"):
        load_book_meta(book)


def test_keywords_and_language_are_normalised(tmp_path: Path) -> None:
    meta = load_book_meta(write_book(
        tmp_path, "title: T\nauthor: [A, B]\nlanguage: en_GB\nkeywords: x, y\n"))
    assert meta.language == "en-GB"
    assert meta.author == "A, B"
    assert meta.keywords == ["x", "y"]


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_bytes(b"---\ntitle: \xff\n---\n")
    with pytest.raises(BookMetaError, match="not valid UTF-8"):
        load_book_meta(tmp_path)


@pytest.mark.parametrize(("title", "slug"), [
    ("Ales Bialiatski", "ales-bialiatski"),
    ("Łacinka: Žyćcio!", "acinka-zyccio"),
    ("Кніга", "kniha"),
    ("Короткая кніга: A Minimal Book", "korotkaia-kniha-a-minimal-book"),
    ("!!!", "book"),
])
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug
