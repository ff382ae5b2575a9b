"""Keep every footnote on the page of its call: WeasyPrint layout → repaired layout.

WeasyPrint may move a note that fits to the next page, to make room for a later line of
the same page (``layout/block.py``: when a line overflows and cannot break before, it
*reports* the page's last footnotes), and may even lose one on a re-layout. GCPM allows
the first; a book never does it. After each render we look for notes whose body is not on
the page of their call; for each, the last block that starts on that page is pushed to the
next page (class ``print-push``: ``break-before: page`` in ``print.css``), which frees the
lines the note needs, and the document is laid out again. The cost is a page a few lines
short — what a compositor does by hand — and one more layout for each round of repairs.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

PUSH_CLASS = "print-push"
MAX_ROUNDS = 4
# block elements of the main text that may start a new page
FLOW_BLOCKS = frozenset({"p", "blockquote", "figure", "dl", "ul", "ol", "h2", "h3", "h4",
                         "table", "pre", "div"})

HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})


@dataclass
class KeptNotes:
    """What the repair did: the final document and how many blocks it pushed."""

    document: Any
    pushed: list[str] = field(default_factory=list)  # a few words of each pushed block
    rounds: int = 0


def note_pairs(root: Any) -> list[tuple[str, str]]:
    """(call id, note id) of every note in the print HTML: the note's span has
    ``role="doc-footnote"`` and follows its call mark (``span.note-call-mark``)."""
    pairs = []
    for parent in root.iter():
        children = list(parent)
        for before, child in zip(children, children[1:], strict=False):
            if (child.get("role") == "doc-footnote" and child.get("id")
                    and before.get("class") == "note-call-mark" and before.get("id")):
                pairs.append((before.get("id"), child.get("id")))
    return pairs


def first_pages(pages: Iterable[Any]) -> dict[str, int]:
    """Every id → the 0-based page it first appears on."""
    found: dict[str, int] = {}
    for number, page in enumerate(pages):
        for anchor in page.anchors:
            found.setdefault(anchor, number)
    return found


def misplaced_calls(pages: list[Any], pairs: list[tuple[str, str]]) -> list[int]:
    """0-based pages holding a call whose note is elsewhere (or nowhere)."""
    where = first_pages(pages)
    return sorted({where[call] for call, note in pairs
                   if call in where and where.get(note) != where[call]})


def _inside_note(element: Any, parents: dict[Any, Any]) -> bool:
    while element is not None:
        if element.get("role") == "doc-footnote":
            return True
        element = parents.get(element)
    return False


def block_to_push(pages: list[Any], page_index: int, parents: dict[Any, Any],
                  already: set[int]) -> Any | None:
    """The last main-text block that starts on ``page_index``, not the page's first."""
    seen_before: set[int] = set()
    for page in pages[:page_index]:
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is not None:
                seen_before.add(id(element))
    on_page: list[Any] = []
    for box in pages[page_index]._page_box.descendants():
        element = getattr(box, "element", None)
        if (element is None or getattr(box, "element_tag", None) not in FLOW_BLOCKS
                or any(e is element for e in on_page)):
            continue
        on_page.append(element)
    starting = [e for e in on_page[1:] if id(e) not in seen_before
                and id(e) not in already and not _inside_note(e, parents)]
    if not starting:
        return None
    chosen = starting[-1]
    # never strand a heading at the foot of the page: push it with its text
    index = on_page.index(chosen)
    while index > 1 and on_page[index - 1].tag in HEADINGS and on_page[index - 1] in starting:
        index -= 1
        chosen = on_page[index]
    return chosen


REPORT_RULE = "report = not context.in_column and can_break_now and not could_break_before"


def _notes_stay_layout() -> Any:
    """WeasyPrint's ``_linebox_layout`` without the rule that reports placed notes to the
    next page to fit a later line (None when this WeasyPrint has no such line)."""
    from weasyprint.layout import block

    source = inspect.getsource(block._linebox_layout)
    if source.count(REPORT_RULE) != 1:
        return None
    namespace = dict(vars(block))
    exec(compile(source.replace(REPORT_RULE, "report = False"), block.__file__, "exec"),
         namespace)
    return namespace["_linebox_layout"]


_PATCHED: list[Any] = []


def notes_rule_found() -> bool:
    if not _PATCHED:
        _PATCHED.append(_notes_stay_layout())
    return _PATCHED[0] is not None


@contextlib.contextmanager
def notes_stay_put() -> Iterator[None]:
    """While active, WeasyPrint never moves a placed note to the next page to make room
    for a later line (see the module docstring)."""
    from weasyprint.layout import block

    if not notes_rule_found():
        yield
        return
    original = block._linebox_layout
    block._linebox_layout = _PATCHED[0]
    try:
        yield
    finally:
        block._linebox_layout = original


def render_keeping_notes(html: Any, stylesheets: list[Any] | None = None,
                         page_filter: Any = None, stay_put: bool = True) -> KeptNotes:
    """Render ``html`` (a ``weasyprint.HTML``), repairing misplaced notes.

    ``page_filter``, when given, maps the document to the pages that count (a chunk's
    sentinel page is not one of its pages). ``stay_put``: lay out with ``notes_stay_put``
    (False: WeasyPrint's own rule, for the tests of the repair).
    """
    root = html.etree_element
    pairs = note_pairs(root)
    parents = {child: parent for parent in root.iter() for child in parent}
    switch = notes_stay_put if stay_put and pairs else contextlib.nullcontext

    def render() -> Any:
        with switch():
            return html.render(stylesheets=stylesheets)

    kept = KeptNotes(render())
    pushed_ids: set[int] = set()
    while pairs and kept.rounds < MAX_ROUNDS:
        pages = page_filter(kept.document) if page_filter else list(kept.document.pages)
        targets = []
        for page_index in misplaced_calls(pages, pairs):
            element = block_to_push(pages, page_index, parents, pushed_ids)
            if element is not None:
                targets.append(element)
        if not targets:
            break
        for element in targets:
            pushed_ids.add(id(element))
            classes = (element.get("class") or "").split()
            element.set("class", " ".join([*classes, PUSH_CLASS]))
            kept.pushed.append(" ".join("".join(element.itertext()).split()[:6]))
        kept.rounds += 1
        kept.document = render()
    return kept
