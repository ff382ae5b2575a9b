"""Unit tests of note placement (scripts/pdf_notes.py) on a tiny layout that WeasyPrint
gets wrong: it moves a note that fits to the next page to make room for the first lines
of a later paragraph (orphans). ``notes_stay_put`` turns that rule off; the repair (pushing
a block to the next page) is tested with WeasyPrint's own rule."""

from __future__ import annotations

from weasyprint import HTML

from scripts.pdf_notes import (
    misplaced_calls,
    note_pairs,
    notes_rule_found,
    notes_stay_put,
    render_keeping_notes,
)

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
    kept = render_keeping_notes(HTML(string=page_html()), stay_put=False)
    assert misplaced_calls(list(kept.document.pages), [("c1", "n1")]) == []
    assert kept.rounds == 1 and kept.pushed == ["z0 z1 z2 z3 z4 z5"]


def test_a_heading_goes_with_the_pushed_paragraph() -> None:
    plain = HTML(string=page_html(heading=True))
    assert misplaced_calls(list(plain.render().pages), [("c1", "n1")]) == [0]
    kept = render_keeping_notes(HTML(string=page_html(heading=True)), stay_put=False)
    assert misplaced_calls(list(kept.document.pages), [("c1", "n1")]) == []
    assert kept.pushed == ["A heading"]


def test_a_correct_layout_is_rendered_once() -> None:
    html = CSS + "<p>Short.<span class='note-call-mark' id='c'></span><span class='footnote' " \
        "role='doc-footnote' id='n'>Note.</span></p>"
    kept = render_keeping_notes(HTML(string=html))
    assert kept.rounds == 0 and kept.pushed == []


def test_with_the_rule_off_the_note_stays_and_the_paragraph_moves() -> None:
    assert notes_rule_found(), "WeasyPrint's note-reporting line changed: see pdf_notes"
    for heading in (False, True):
        with notes_stay_put():
            pages = list(HTML(string=page_html(heading)).render().pages)
        assert misplaced_calls(pages, [("c1", "n1")]) == []
        # the paragraph that did not fit starts the next page, whole (orphans: 2)
        second = "".join(text for text in _texts(pages[1]))
        assert second.startswith("A heading" if heading else "z0 z1")
        kept = render_keeping_notes(HTML(string=page_html(heading)))
        assert kept.rounds == 0 and kept.pushed == []
    # the switch is undone afterwards: WeasyPrint's own rule again
    assert misplaced_calls(list(HTML(string=page_html()).render().pages), [("c1", "n1")]) == [0]


def _texts(page) -> list[str]:
    return [box.text for box in page._page_box.descendants() if hasattr(box, "text")]
