"""Tests for scripts.textcheck: small inline texts, then the real book against its sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import textcheck as tc

REPO = Path(__file__).resolve().parents[1]

SOURCE = (
    "He was born in the town of Värtsilä — his parents moved there to work. "
    "“What’s your name?” I answered, “Sasha”. Later he wrote: «It was worth spending "
    "my life on that», and then <…> nothing more about the long years in the colony."
)

BIB = """
@misc{src-a,
  title  = {A},
  source = {a.txt},
}
@misc{src-b,
  title = {B},
  source = {b.txt},
}
@misc{src-c, title = {C}}
"""


def make_doc(tmp_path: Path, text: str, name: str = "chapter.md") -> tc.Document:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return tc.load_document(path)


# --------------------------------------------------------------------------- parsing


def test_parse_cite_keys_plain_locator_prefix_and_several() -> None:
    assert tc.parse_cite_keys("viasna-biography") == ("viasna-biography",)
    assert tc.parse_cite_keys('viasna-biography{"Youth and student life"}') == ("viasna-biography",)
    assert tc.parse_cite_keys('{see}a{"x, y"},b , c{"z"}') == ("a", "b", "c")


def test_parse_cite_keys_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        tc.parse_cite_keys("a b")
    with pytest.raises(ValueError):
        tc.parse_cite_keys("")


def test_parse_bib_maps_keys_to_source_files() -> None:
    assert tc.parse_bib(BIB) == {"src-a": "a.txt", "src-b": "b.txt", "src-c": None}


def test_mask_prose_keeps_lines_and_drops_syntax() -> None:
    raw = (
        "---\nmatter: back\n---\n(ch-x)=\n# Title here\n\n"
        "```{index} single: Minsk\n```\n\n"
        'Text with a note.{footcite}`src-a{"Heading words"}` And [^n] more.\n\n'
        "[^n]: A note {footcite}`src-b`.\n"
    )
    masked = tc.mask_prose(raw)
    assert len(masked) == len(raw)
    assert masked.count("\n") == raw.count("\n")
    assert "matter" not in masked and "ch-x" not in masked and "Minsk" not in masked
    assert "Heading words" not in masked and "[^n]" not in masked
    assert "Title here" in masked and "Text with a note." in masked and "A note" in masked


def test_mask_prose_keeps_glossary_definitions_but_not_options() -> None:
    raw = "```{glossary}\n:sorted:\nViasna\n  The organisation.\n```\n"
    masked = tc.mask_prose(raw)
    assert "sorted" not in masked
    assert "The organisation." in masked


def test_find_quotations_inline_and_block(tmp_path: Path) -> None:
    doc = make_doc(
        tmp_path,
        'He said “one two three” and {footcite}`src-a{"“Quoted” heading"}`.\n\n'
        "> A block quote\n> on two lines.{footcite}`src-a`\n",
    )
    texts = [(q.text, q.block, q.line) for q in doc.quotations]
    assert ("one two three", False, 1) in texts
    assert ("A block quote on two lines.", True, 3) in texts
    assert all("heading" not in t for t, _, _ in texts)  # quotes inside roles are not quotations


def test_front_and_back_matter_are_not_chapters(tmp_path: Path) -> None:
    assert make_doc(tmp_path, "(ch-a)=\n# A\n", "a.md").is_chapter
    assert not make_doc(tmp_path, "---\nmatter: back\n---\n# B\n", "b.md").is_chapter


# --------------------------------------------------------------------------- normalising


def test_normalise_unifies_quotes_dashes_and_space() -> None:
    assert tc.normalise("“What’s  your\nname?”") == tc.normalise('"What\'s your name?"')
    assert tc.normalise("a — b") == tc.normalise("a – b") == tc.normalise("a-b")
    assert tc.normalise("wait…") == "wait..."


def test_quotation_found_verbatim_and_with_omission() -> None:
    assert tc.quotation_found("born in the town of Värtsilä—his parents moved there", SOURCE)
    assert tc.quotation_found("‘What’s your name?’ I answered, ‘Sasha’", SOURCE)
    assert tc.quotation_found("It was worth spending my life on that", SOURCE)
    assert tc.quotation_found("He was born … his parents moved there to work.", SOURCE)
    assert tc.quotation_found(
        "it was worth spending my life on that,", SOURCE
    )  # first letter, end punctuation


def test_quotation_found_rejects_changed_words_and_wrong_order() -> None:
    assert not tc.quotation_found("born in the city of Värtsilä", SOURCE)
    assert not tc.quotation_found("his parents moved there … He was born", SOURCE)


def test_words_drop_case_and_punctuation() -> None:
    assert tc.words("Poet’s HOUSE, in Minsk!") == ["poet", "s", "house", "in", "minsk"]


# --------------------------------------------------------------------------- checks


def test_check_citations_unknown_key_and_uncited_entry(tmp_path: Path) -> None:
    doc = make_doc(tmp_path, "A fact.{footcite}`src-a,src-x`\n")
    bib = tc.parse_bib(BIB)
    messages = [p.message for p in tc.check_citations([doc], bib, tmp_path / "references.bib")]
    assert "unknown citation key 'src-x'" in messages
    assert "bibliography entry 'src-b' is never cited" in messages
    assert "bibliography entry 'src-a' is never cited" not in messages


def test_check_quotations_uses_the_cited_source(tmp_path: Path) -> None:
    bib = {"src-a": "a.txt", "src-b": "b.txt"}
    sources = {"a.txt": SOURCE, "b.txt": "Nothing to see here at all."}
    good = make_doc(tmp_path, "He wrote: “It was worth spending my life on that”.{footcite}`src-a`\n", "g.md")
    wrong = make_doc(
        tmp_path, "He wrote: “It was worth spending my life on that”.{footcite}`src-b`\n", "w.md"
    )
    short = make_doc(tmp_path, "He said “Sasha” once.{footcite}`src-b`\n", "s.md")
    bare = make_doc(tmp_path, "He wrote: “It was worth spending my life on that”.\n", "b.md")
    assert tc.check_quotations([good, short], bib, sources) == []
    [problem] = tc.check_quotations([wrong], bib, sources)
    assert problem.line == 1 and "not found verbatim in b.txt" in problem.message
    [problem] = tc.check_quotations([bare], bib, sources)
    assert "without a citation" in problem.message


def test_check_quotations_in_a_note_may_use_any_cited_source(tmp_path: Path) -> None:
    bib = {"src-a": "a.txt", "src-b": "b.txt"}
    sources = {"a.txt": SOURCE, "b.txt": "Nothing to see here at all, really, no."}
    doc = make_doc(
        tmp_path,
        "Text.[^n]\n\n[^n]: One says “It was worth spending my life on that”; "
        "the other “Nothing to see here at all, really”. {footcite}`src-a`, {footcite}`src-b`\n",
    )
    assert tc.check_quotations([doc], bib, sources) == []


def test_check_quotations_block_quote_cited_in_next_paragraph(tmp_path: Path) -> None:
    bib = {"src-a": "a.txt"}
    sources = {"a.txt": SOURCE}
    doc = make_doc(tmp_path, "> It was worth spending my life on that\n\n{footcite}`src-a`\n")
    assert tc.check_quotations([doc], bib, sources) == []


def test_copy_runs_finds_eight_words_outside_quotations(tmp_path: Path) -> None:
    grams = tc.source_ngrams([SOURCE])
    copied = make_doc(
        tmp_path, "Intro.\n\nSo: he was born in the town of Värtsilä, his parents said.\n", "c.md"
    )
    quoted = make_doc(
        tmp_path, "So: “he was born in the town of Värtsilä” indeed.{footcite}`src-a`\n", "q.md"
    )
    seven = make_doc(tmp_path, "He was born in the town of Värtsilä.\n", "s.md")
    [problem] = tc.copy_runs(copied, grams)
    assert problem.line == 3 and "born in the town of värtsilä his parents" in problem.message
    assert tc.copy_runs(quoted, grams) == []
    assert tc.copy_runs(seven, tc.source_ngrams([SOURCE], n=9)) == []


def test_copy_runs_do_not_bridge_a_quotation(tmp_path: Path) -> None:
    grams = tc.source_ngrams(["alpha beta gamma delta epsilon zeta eta theta"])
    doc = make_doc(tmp_path, "alpha beta gamma delta “x y” epsilon zeta eta theta\n")
    assert tc.copy_runs(doc, grams) == []


def test_copy_runs_ignore_roles_and_directives(tmp_path: Path) -> None:
    grams = tc.source_ngrams(["Belarusian-speaking since the age of 19. Youth and student life"])
    doc = make_doc(
        tmp_path,
        "```{index} single: Belarusian-speaking since the age of 19 Youth and student life\n```\n\n"
        'A fact.{footcite}`a{"Belarusian-speaking since the age of 19. Youth and student life"}`\n',
    )
    assert tc.copy_runs(doc, grams) == []


def test_report_lists_documents_and_totals(tmp_path: Path) -> None:
    doc = make_doc(
        tmp_path,
        "(ch-a)=\n# A\n\nOne two “three four”.{footcite}`src-a`[^d]\n\n[^d]: Note. {footcite}`src-b`\n",
    )
    text = tc.report([doc], {"src-a": "a.txt", "src-b": "b.txt"})
    header, _, row, *_ = text.splitlines()
    assert header.split() == [
        "document",
        "words",
        "notes",
        "src-a",
        "src-b",
        "quotes",
        "short",
        "q.",
        "disagr.",
    ]
    assert row.split() == ["chapter", "*", "5", "2", "1", "1", "0", "1", "1"]


def test_main_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "book"
    sources = tmp_path / "sources"
    book.mkdir()
    sources.mkdir()
    (sources / "a.txt").write_text(SOURCE, encoding="utf-8")
    (book / "references.bib").write_text("@misc{src-a, title={A}, source={a.txt}}\n", encoding="utf-8")
    (book / "ch.md").write_text(
        "(ch)=\n# Ch\n\nHe wrote “It was worth spending my life on that”.{footcite}`src-a`\n"
    )
    assert tc.main(["--book", str(book), "--sources", str(sources), "--report"]) == 0
    assert "all checks passed" in capsys.readouterr().out
    (book / "ch.md").write_text(
        "(ch)=\n# Ch\n\nHe wrote “It was worth spending all my life on that”.{footcite}`src-a`\n"
    )
    assert tc.main(["--book", str(book), "--sources", str(sources)]) == 1
    assert "ch.md:4: quotation not found" in capsys.readouterr().err


# --------------------------------------------------------------------------- the book


BOOK = REPO / "book"
SOURCES = tc.find_sources(None)


@pytest.mark.skipif(SOURCES is None, reason="sources directory not available (set SOURCES)")
def test_the_book_passes_every_check() -> None:
    problems, _ = tc.run(BOOK, SOURCES)
    assert problems == [], "\n".join(map(str, problems))


def test_the_book_citations_resolve_without_sources() -> None:
    bib_path = BOOK / "references.bib"
    bib = tc.parse_bib(bib_path.read_text(encoding="utf-8"))
    assert set(bib) == {
        "essay-unbreakable",
        "news-release-2025",
        "viasna-biography",
        "laureate-page",
        "nyt-oped-2025",
    }
    assert all(bib.values()), "every entry names its source file"
    assert tc.check_citations(tc.load_book(BOOK), bib, bib_path) == []
