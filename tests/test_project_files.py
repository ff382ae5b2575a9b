"""Books laid out for other MyST tools: a mystmd / Jupyter Book 2 ``myst.yml`` and a
Jupyter Book 1 ``_toc.yml`` + ``_config.yml`` give the metadata and the order
(conf/ext/_project.py, conf/ext/booktoc.py); unit tests of the reader, and both books
built in every edition."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from scripts.validate_epub import run_epubcheck
from tests.conftest import ROOT, run_build

sys.path.insert(0, str(ROOT / "conf" / "ext"))
from _project import ProjectFileError, TocEntry, read_project  # noqa: E402

OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def mystmd_book(root: Path) -> Path:
    return write(root, {
        "myst.yml": "version: 1\nproject:\n  title: Two Authors\n  authors:\n"
                    "    - name: Ada Lovelace\n    - Charles Babbage\n  toc:\n"
                    "    - file: index.md\n    - file: chapters/first.md\n"
                    "    - title: Part Two\n      children:\n"
                    "        - file: chapters/second.md\n          children:\n"
                    "            - file: chapters/second-a.md\n",
        "index.md": "# Welcome\n\nThe landing page.\n",
        "chapters/first.md": "# First chapter\n\nA note.[^1]\n\n[^1]: The note.\n",
        # mystmd style: the title in the front matter, no heading
        "chapters/second.md": "---\ntitle: Second chapter\n---\n\nText.\n",
        "chapters/second-a.md": "# Inside the second\n\nMore.\n",
    })


def jupyter_book(root: Path) -> Path:
    return write(root, {
        "_config.yml": "title: Sample Book\nauthor: The Community\nlanguage: en-GB\n",
        "_toc.yml": "format: jb-book\nroot: intro\ndefaults:\n  numbered: true\nparts:\n"
                    "  - caption: Getting started\n    chapters:\n"
                    "      - file: content/markdown\n        sections:\n"
                    "          - file: content/deeper\n      - file: content/notebooks\n",
        "intro.md": "# Welcome to the book\n\nA small sample.\n",
        "content/markdown.md": "# Markdown files\n\nText.[^a]\n\n[^a]: A note.\n",
        "content/deeper.md": "# Deeper\n\nText.\n",
        "content/notebooks.md": "# Notebooks\n\nText.\n",
    })


def test_myst_yml_gives_metadata_root_and_nested_order(tmp_path: Path) -> None:
    project = read_project(mystmd_book(tmp_path))
    assert project.root == "index"
    assert project.meta["title"] == "Two Authors"
    assert project.meta["author"] == "Ada Lovelace, Charles Babbage"
    first, part = project.toc
    assert [e.docname for e in first.entries] == ["chapters/first"] and first.caption is None
    assert part.caption == "Part Two"
    assert part.entries == (TocEntry("chapters/second", None,
                                     (TocEntry("chapters/second-a"),)),)
    assert project.subtocs == {"chapters/second": (TocEntry("chapters/second-a"),)}
    assert not first.numbered


def test_myst_yml_numbering_and_a_book_without_a_toc(tmp_path: Path) -> None:
    book = write(tmp_path, {"myst.yml": "project:\n  title: T\n  numbering:\n"
                                        "    headings: true\n",
                            "index.md": "# Home\n", "b.md": "# B\n", "a.md": "# A\n",
                            "_build/x.md": "# built\n"})
    project = read_project(book)
    (group,) = project.toc
    assert group.numbered and [e.docname for e in group.entries] == ["a", "b"]


def test_jupyter_book_toc_gives_root_parts_and_numbering(tmp_path: Path) -> None:
    project = read_project(jupyter_book(tmp_path))
    assert project.root == "intro"
    assert project.meta == {"title": "Sample Book", "author": "The Community",
                            "language": "en-GB"}
    (part,) = project.toc
    assert part.caption == "Getting started" and part.numbered
    assert [e.docname for e in part.entries] == ["content/markdown", "content/notebooks"]
    assert project.subtocs == {"content/markdown": (TocEntry("content/deeper"),)}


def test_a_toc_entry_without_its_file_is_an_error_naming_the_project_file(
        tmp_path: Path) -> None:
    book = mystmd_book(tmp_path)
    (book / "chapters" / "second-a.md").unlink()
    with pytest.raises(ProjectFileError, match=r"myst\.yml: .*'chapters/second-a\.md'"):
        read_project(book)


def test_no_project_file_is_an_empty_project(tmp_path: Path) -> None:
    assert read_project(tmp_path).path is None


@pytest.mark.parametrize("make_book", [mystmd_book, jupyter_book])
def test_such_a_book_builds_every_edition_in_its_order(make_book, tmp_path: Path) -> None:
    book = make_book(tmp_path / "book")
    result = run_build(book, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    project = read_project(book)
    assert (tmp_path / "out" / "html" / "index.html").is_file()  # also when the root is intro
    (epub,) = (tmp_path / "out" / "epub").glob("*.epub")
    assert run_epubcheck(epub).errors == []
    with zipfile.ZipFile(epub) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
    assert opf.findtext(".//dc:title", namespaces=OPF) == project.meta["title"]
    assert opf.findtext(".//dc:creator", namespaces=OPF) == project.meta["author"]
    hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:item", OPF)}
    spine = [hrefs[r.get("idref")] for r in opf.iterfind(".//opf:itemref", OPF)]
    documents = [h.removesuffix(".xhtml") for h in spine
                 if h.removesuffix(".xhtml") in {project.root, *_all_docnames(project)}]
    assert documents == [project.root, *_all_docnames(project)]  # the project file's order
    with zipfile.ZipFile(epub) as z:
        nav = z.read("EPUB/nav.xhtml").decode()
    assert "<no title>" not in nav


def _all_docnames(project) -> list[str]:
    names: list[str] = []

    def walk(entries) -> None:
        for entry in entries:
            if entry.docname:
                names.append(entry.docname)
            walk(entry.children)

    for group in project.toc:
        walk(group.entries)
    return names
