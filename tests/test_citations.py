"""Unit tests of the citation syntax and note formatting (conf/ext/citations.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pybtex.database import Entry, Person

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conf" / "ext"))
from citations import (  # noqa: E402
    CitationSyntaxError,
    CitationTarget,
    format_citation,
    latex_to_text,
    parse_targets,
)


def test_plain_key() -> None:
    assert parse_targets("viasna-biography") == [CitationTarget("viasna-biography")]


def test_locator_prefix_and_several_keys() -> None:
    assert parse_targets('{see}a{"Museum"}, b{p. 4},c') == [
        CitationTarget("a", "see", '"Museum"'),
        CitationTarget("b", "", "p. 4"),
        CitationTarget("c"),
    ]


@pytest.mark.parametrize("bad", ["", "a b", "a{x", "a,,b", "{only-pre}"])
def test_malformed_targets_raise(bad: str) -> None:
    with pytest.raises(CitationSyntaxError):
        parse_targets(bad)


def test_latex_is_decoded() -> None:
    assert latex_to_text(r"Ka\'{s}ciuk {Viasna}") == "Kaściuk Viasna"


def test_note_text_for_misc_and_book() -> None:
    misc = Entry("misc", fields={"title": "A Page", "year": "2022"},
                 persons={"author": [Person("{Viasna Human Rights Center}")]})
    book = Entry("book", fields={"title": "A Book", "publisher": "P", "year": "2001"},
                 persons={"author": [Person("Hanna Kaściuk")]})
    nodes_ = format_citation([(CitationTarget("m", post="“Museum”"), misc),
                              (CitationTarget("b", pre="see"), book)])
    text = "".join(n.astext() for n in nodes_)
    assert text == ("Viasna Human Rights Center, “A Page”, 2022, “Museum”; "
                    "see Hanna Kaściuk, A Book, P, 2001.")
    # a book title is set in italics
    assert any(n.tagname == "emphasis" and n.astext() == "A Book" for n in nodes_)


def test_inline_citation_has_no_end_stop() -> None:
    entry = Entry("misc", fields={"title": "T"})
    text = "".join(n.astext() for n in format_citation([(CitationTarget("k"), entry)],
                                                       end_stop=False))
    assert text == "“T”"


def test_descriptive_title_is_not_quoted() -> None:
    entry = Entry("misc", fields={"title": "{[News report on the release]}", "year": "2025"})
    text = "".join(n.astext() for n in format_citation([(CitationTarget("k"), entry)]))
    assert text == "[News report on the release], 2025."
