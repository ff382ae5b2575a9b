"""Unit tests of the raw-HTML and path rules (conf/ext/safety.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conf" / "ext"))
from safety import outside, raw_html_problems  # noqa: E402


@pytest.mark.parametrize("html", [
    "<span>", "</span>", '<span class="x" lang="be">', "<!-- a comment -->",
    '<a href="https://example.org/">', '<a href="#sec">', "<abbr title='x'>", "<br>",
])
def test_harmless_inline_html(html: str) -> None:
    assert raw_html_problems(html) == []


@pytest.mark.parametrize(("html", "problem"), [
    ("<script>alert(1)</script>", "scripts"),
    ('<img src="file:///etc/passwd">', "<img> is not allowed"),
    ('<span onclick="x()">', "event handler"),
    ('<a href="javascript:alert(1)">', "address"),
    ('<a href="file:///etc/passwd">', "address"),
    ('<span style="color:red">', "attribute style="),
    ("<iframe src=x></iframe>", "frames"),
    ("</div>", "<div> is not allowed"),
])
def test_unsafe_html(html: str, problem: str) -> None:
    assert any(problem in p for p in raw_html_problems(html))


def test_outside(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    assert not outside(tmp_path / "book" / "a.png", tmp_path / "book")
    assert outside(tmp_path / "book" / ".." / "a.png", tmp_path / "book")
    (tmp_path / "book" / "link").symlink_to("/etc")
    assert outside(tmp_path / "book" / "link" / "hostname", tmp_path / "book")
