"""Checks of a built PDF, for ``make check``: what a print shop and a reader would verify.

- fonts: every font embedded (and subset), as ``pdffonts`` reports them;
- structure: tagged (``/MarkInfo /Marked true``), a language, a title, an outline;
- notes: every footnote body on the page of its call, read from the PDF's named
  destinations and the print manifest (``BUILD/.stage/printhtml/book.json``);
- text placement: no word off the page and no two words printed over each other (a line
  that cannot break runs out of its column, a float over text), from ``pdftotext -bbox``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from scripts.findings import Findings, ValidatorMissing

MANIFEST = Path(".stage") / "printhtml" / "book.json"


def check_fonts(pdf: Path) -> Findings:
    """``pdffonts``: each font must be embedded; subset names start with ``ABCDEF+``."""
    if shutil.which("pdffonts") is None:
        raise ValidatorMissing("pdffonts (poppler-utils) not installed: run `make`")
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                         check=True).stdout.splitlines()[2:]
    findings = Findings("pdffonts", checked=len(out))
    for line in out:
        cols = line.split()
        # name type [encoding words…] emb sub uni object-id gen
        emb, sub = cols[-5], cols[-4]
        if emb != "yes":
            findings.errors.append(f"{pdf}: font {cols[0]} is not embedded")
        elif sub != "yes":
            findings.warnings.append(f"{pdf}: font {cols[0]} is embedded whole, not subset")
    if not out:
        findings.errors.append(f"{pdf}: no fonts at all (is the text missing?)")
    return findings


def check_structure(pdf: Path) -> Findings:
    """Tagged, with a language, a title and an outline."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    findings = Findings("structure", checked=len(reader.pages))
    mark_info = root.get("/MarkInfo")
    if not (mark_info and mark_info.get_object().get("/Marked")):
        findings.errors.append(f"{pdf}: not tagged (no /MarkInfo /Marked true)")
    if "/StructTreeRoot" not in root:
        findings.errors.append(f"{pdf}: no structure tree")
    if not root.get("/Lang"):
        findings.errors.append(f"{pdf}: no document language (/Lang)")
    title = (reader.metadata or {}).get("/Title")
    if not title:
        findings.errors.append(f"{pdf}: no title in the document information")
    if not reader.outline:
        findings.errors.append(f"{pdf}: no bookmarks (outline)")
    return findings


def check_notes(pdf: Path) -> Findings:
    """Every note on the page of its call (the print manifest lists calls and bodies)."""
    from pypdf import PdfReader

    manifest_path = pdf.parent.parent / MANIFEST
    if not manifest_path.is_file():
        raise ValidatorMissing(f"{manifest_path} missing: rebuild the PDF with `make pdf`")
    notes = json.loads(manifest_path.read_text(encoding="utf-8"))["notes"]
    reader = PdfReader(pdf)
    dests = reader.named_destinations
    findings = Findings("notes on their call's page", checked=len(notes))
    for note in notes:
        call, body = dests.get(note["call_id"]), dests.get(note["note_id"])
        if call is None or body is None:
            findings.errors.append(f"{note['docname']}: note {note['label']} is missing from "
                                   "the PDF")
            continue
        call_page = reader.get_destination_page_number(call) + 1
        body_page = reader.get_destination_page_number(body) + 1
        if call_page != body_page:
            findings.errors.append(
                f"{note['docname']}: note {note['label']} called on page {call_page}, "
                f"printed on page {body_page}")
    return findings


PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
WORD = re.compile(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" '
                  r'yMax="([\d.-]+)">(.*?)</word>')
OVERLAP = 0.3  # of the smaller word's box: more is one word printed over another


def check_text_placement(pdf: Path) -> Findings:
    """No word outside the page, no two words over each other (``pdftotext -bbox``)."""
    if shutil.which("pdftotext") is None:
        raise ValidatorMissing("pdftotext (poppler-utils) not installed: run `make`")
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    pages = PAGE.findall(out)
    findings = Findings("text placement", checked=len(pages))
    for number, (width, height, body) in enumerate(pages, start=1):
        words = [(float(a), float(b), float(c), float(d), html.unescape(text))
                 for a, b, c, d, text in WORD.findall(body)]
        for x0, y0, x1, y1, text in words:
            if x0 < 0 or y0 < 0 or x1 > float(width) or y1 > float(height):
                findings.errors.append(f"{pdf.name}: page {number}: {text!r} runs off the page")
        for first, second in overlapping(words):
            findings.errors.append(f"{pdf.name}: page {number}: {first!r} and {second!r} "
                                   "are printed over each other")
    return findings


def overlapping(words: list[tuple[float, float, float, float, str]]) -> list[tuple[str, str]]:
    """Pairs of words whose boxes share more than ``OVERLAP`` of the smaller one."""
    found = []
    ordered = sorted(words)  # by left edge: only words starting before one's right edge
    for i, (x0, y0, x1, y1, text) in enumerate(ordered):
        for u0, v0, u1, v1, other in ordered[i + 1:]:
            if u0 >= x1:
                break
            w, h = min(x1, u1) - max(x0, u0), min(y1, v1) - max(y0, v0)
            if w <= 0 or h <= 0:
                continue
            smaller = min((x1 - x0) * (y1 - y0), (u1 - u0) * (v1 - v0))
            if smaller > 0 and w * h > OVERLAP * smaller:
                found.append((text, other))
    return found


CHECKS: dict[str, Callable[[Path], Findings]] = {
    "pdffonts (embedded, subset)": check_fonts,
    "tagged, language, title, outline": check_structure,
    "notes on their call's page": check_notes,
    "text placement (on the page, no overlaps)": check_text_placement,
}
