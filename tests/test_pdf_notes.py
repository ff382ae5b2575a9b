"""Unit tests of the note-placement repair (scripts/pdf_notes.py) on a tiny layout that
WeasyPrint gets wrong: it moves a note that fits to the next page to make room for the
first lines of a later paragraph (orphans)."""

from __future__ import annotations

from weasyprint import HTML

from scripts.pdf_notes import misplaced_calls, note_pairs, render_keeping_notes

CSS = """<style>@page { size: 200px 180px; margin: 10px; @footnote { margin-top: 0 } }
html { font-size: 10px; line-height: 1.2; } body { margin: 0; }
p { orphans: 2; widows: 2; margin: 0; } h2 { font-size: 10px; margin: 0 }
.footnote { float: footnote; } .print-push { break-before: page; }</style>"""


def page_html(heading: bool = False) -> str:
    # sizes found by trying: with them WeasyPrint reports the note to the next page
    words = " ".join(f"w{i}" for i in range(10 if heading else 32))
    return (CSS + f"<p>{words}<span class='note-call-mark' id='c1'></span><span "
            "class='footnote' role='doc-footnote' id='n1'>Note one is here and long enough "
            "to take a few lines.</span> end.</p>"
            f"<p>{' '.join(f'm{i}' for i in range(38 if heading else 30))}</p>"
            + ("<h2>A heading</h2>" if heading else "")
            + f"<p>{' '.join(f'z{i}' for i in range(80))}</p>")


def test_note_pairs_are_read_from_the_print_markup() -> None:
    html = HTML(string=page_html())
    assert note_pairs(html.etree_element) == [("c1", "n1")]


def test_weasyprint_alone_moves_the_note_and_the_repair_brings_it_back() -> None:
    plain = HTML(string=page_html())
    assert misplaced_calls(list(plain.render().pages), [("c1", "n1")]) == [0]
    kept = render_keeping_notes(HTML(string=page_html()))
    assert misplaced_calls(list(kept.document.pages), [("c1", "n1")]) == []
    assert kept.rounds == 1 and kept.pushed == ["z0 z1 z2 z3 z4 z5"]


def test_a_heading_goes_with_the_pushed_paragraph() -> None:
    plain = HTML(string=page_html(heading=True))
    assert misplaced_calls(list(plain.render().pages), [("c1", "n1")]) == [0]
    kept = render_keeping_notes(HTML(string=page_html(heading=True)))
    assert misplaced_calls(list(kept.document.pages), [("c1", "n1")]) == []
    assert kept.pushed == ["A heading"]


def test_a_correct_layout_is_rendered_once() -> None:
    html = CSS + "<p>Short.<span class='note-call-mark' id='c'></span><span class='footnote' " \
        "role='doc-footnote' id='n'>Note.</span></p>"
    kept = render_keeping_notes(HTML(string=html))
    assert kept.rounds == 0 and kept.pushed == []
