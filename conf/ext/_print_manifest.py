"""The print builder's manifest (``book.json``): what ``scripts/pdf.py`` needs to know about
the print document it renders, readable without Sphinx (the PDF build's main process
loads it before the render and keeps its memory small)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PRINT_CSS = Path(__file__).resolve().parent.parent / "css" / "print.css"
MANIFEST_NAME = "book.json"


@dataclass(frozen=True)
class NoteRecord:
    """Where a note is called and where its body is, for the PDF's placement check."""

    docname: str
    label: str
    call_id: str
    note_id: str
    excerpt: str


@dataclass(frozen=True)
class PrintManifest:
    """What ``scripts/pdf.py`` needs to know about the print document it renders."""

    slug: str
    title: str
    date: str
    identifier: str
    language: str
    html: str
    parts: list[dict[str, Any]]  # each with "span": [start, end) in the HTML text
    notes: list[NoteRecord]
    front: list[int] = field(default_factory=list)  # [start, end) of the front pages

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1),
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> PrintManifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["notes"] = [NoteRecord(**n) for n in data["notes"]]
        return cls(**data)
