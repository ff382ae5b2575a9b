"""The project file of a book laid out the Jupyter Book way, read without Sphinx.

Our own books keep their metadata in the front matter of ``index.md`` and their order in
toctrees. Books made for other MyST tools keep both in a project file instead, and this
module reads the two common ones so that such a book builds as it is:

- ``myst.yml`` (mystmd, Jupyter Book 2): ``project.title``, ``subtitle``, ``authors``
  (names or ``{name: …}``), ``language``, ``description``, ``keywords``, ``date``,
  ``bibliography``, ``numbering`` (``true`` or ``headings: true``); ``project.toc``:
  entries with ``file``, ``title``, ``children`` and ``pattern``; the first file is the
  root document (without a toc: ``index.md``, then the other files by name).
- ``_toc.yml`` with ``_config.yml`` (Jupyter Book 1): ``title``, ``author``, ``language``
  (or ``sphinx.config.language``), ``description``, ``bibtex_bibfiles``; the toc's
  ``root``, ``chapters`` (with ``sections``) or ``parts`` (with ``caption`` and
  ``chapters``), and ``options: numbered``.

What it gives: metadata to fill in what the root's front matter leaves out, the root
document's name, and the table of contents as :class:`TocEntry` trees, which
``ext/booktoc.py`` writes into the documents as toctrees.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUFFIXES = (".md",)


class ProjectFileError(ValueError):
    """A project file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class TocEntry:
    """One entry of a project file's table of contents: a document (``docname``) or a
    titled group of entries without a document of its own."""

    docname: str | None = None
    title: str | None = None
    children: tuple[TocEntry, ...] = ()


@dataclass(frozen=True)
class TocGroup:
    """Entries listed together under one toctree (a caption for a part)."""

    entries: tuple[TocEntry, ...]
    caption: str | None = None
    numbered: bool = False


@dataclass(frozen=True)
class Project:
    """What a project file says; empty for a book without one."""

    path: Path | None = None
    root: str = "index"
    meta: dict[str, Any] = field(default_factory=dict)
    toc: tuple[TocGroup, ...] = ()
    # toctrees of documents other than the root: docname → its children
    subtocs: dict[str, tuple[TocEntry, ...]] = field(default_factory=dict)


def read_project(book: Path) -> Project:
    """The book's project file (``myst.yml``, else ``_toc.yml``), or an empty Project."""
    if (book / "myst.yml").is_file():
        return _mystmd(book, _load(book / "myst.yml"))
    if (book / "_toc.yml").is_file():
        config = _load(book / "_config.yml") if (book / "_config.yml").is_file() else {}
        return _jupyter_book(book, _load(book / "_toc.yml"), config)
    return Project()


def _load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ProjectFileError(f"{path}{line}: malformed YAML: "
                               f"{getattr(err, 'problem', None) or err}") from None
    except UnicodeDecodeError as err:
        raise ProjectFileError(f"{path}: not valid UTF-8 ({err.reason})") from None
    if not isinstance(data, dict):
        raise ProjectFileError(f"{path}:1: expected a mapping of keys to values")
    return data


def _docname(book: Path, file: str, where: Path) -> str:
    path = Path(str(file))
    name = path.with_suffix("") if path.suffix in SUFFIXES else path
    if not any((book / name).with_suffix(s).is_file() for s in SUFFIXES):
        raise ProjectFileError(f"{where}: the table of contents lists {file!r}, which is not "
                               "a Markdown file of the book")
    return name.as_posix()


def _names(value: Any) -> str:
    """Authors as one string: a name, a list of names, or a list of ``{name: …}``."""
    if isinstance(value, list):
        return ", ".join(_names(v) for v in value if _names(v))
    if isinstance(value, dict):
        return str(value.get("name", "")).strip()
    return str(value or "").strip()


def _mystmd(book: Path, data: dict[str, Any]) -> Project:
    where = book / "myst.yml"
    project = data.get("project") or {}
    if not isinstance(project, dict):
        raise ProjectFileError(f"{where}: 'project' must be a mapping")
    meta = {key: project[key] for key in ("title", "subtitle", "language", "description",
                                          "keywords", "date") if project.get(key)}
    if project.get("authors") or project.get("author"):
        meta["author"] = _names(project.get("authors") or project.get("author"))
    bib = project.get("bibliography")
    if bib:
        meta["bibliography"] = [bib] if isinstance(bib, str) else list(bib)

    def entries(items: Any) -> tuple[TocEntry, ...]:
        out: list[TocEntry] = []
        for item in items or []:
            if not isinstance(item, dict):
                raise ProjectFileError(f"{where}: a toc entry must be a mapping, not {item!r}")
            kids = entries(item.get("children"))
            if item.get("file"):
                out.append(TocEntry(_docname(book, item["file"], where), item.get("title"), kids))
            elif item.get("pattern"):
                for match in sorted(glob.glob(str(book / item["pattern"]), recursive=True)):
                    out.append(TocEntry(_docname(book, str(Path(match).relative_to(book)), where)))
            elif kids:
                out.append(TocEntry(None, item.get("title"), kids))
        return tuple(out)

    toc = entries(project.get("toc"))
    if not toc:  # no toc: the root and every other Markdown file in name order
        files = sorted(p.relative_to(book).with_suffix("").as_posix()
                       for p in book.rglob("*.md") if not _hidden(p.relative_to(book)))
        root = "index" if "index" in files else (files[0] if files else "index")
        toc = (TocEntry(root), *(TocEntry(f) for f in files if f != root))
    if toc[0].docname is None:
        raise ProjectFileError(f"{where}: the first entry of project.toc must be a file "
                               "(the book's root document)")
    root, rest = toc[0].docname, (*toc[0].children, *toc[1:])
    numbering = project.get("numbering")  # mystmd: true, or {headings: true, …}
    numbered = numbering is True or (isinstance(numbering, dict)
                                     and bool(numbering.get("headings")))
    return _project(where, root, meta, rest, numbered=numbered)


def _jupyter_book(book: Path, toc: dict[str, Any], config: dict[str, Any]) -> Project:
    where = book / "_toc.yml"
    if not toc.get("root"):
        raise ProjectFileError(f"{where}: no 'root' (the book's first document)")
    sphinx_config = ((config.get("sphinx") or {}).get("config") or {})
    meta = {key: config[key] for key in ("title", "description") if config.get(key)}
    if config.get("author"):
        meta["author"] = _names(config["author"])
    language = config.get("language") or sphinx_config.get("language")
    if language:
        meta["language"] = language
    if config.get("bibtex_bibfiles"):
        meta["bibliography"] = list(config["bibtex_bibfiles"])

    def entries(items: Any) -> tuple[TocEntry, ...]:
        out: list[TocEntry] = []
        for item in items or []:
            kids = entries(item.get("sections"))
            if item.get("file"):
                out.append(TocEntry(_docname(book, item["file"], where), item.get("title"), kids))
            elif item.get("glob"):
                for match in sorted(glob.glob(str(book / item["glob"]) + ".md")):
                    out.append(TocEntry(_docname(book, str(Path(match).relative_to(book)), where)))
        return tuple(out)

    numbered = bool((toc.get("defaults") or toc.get("options") or {}).get("numbered"))
    root = _docname(book, toc["root"], where)
    if toc.get("parts"):
        groups = tuple(TocGroup(entries(part.get("chapters")), part.get("caption"),
                                numbered or bool(part.get("numbered")))
                       for part in toc["parts"])
        return _project(where, root, meta, (), groups=groups)
    return _project(where, root, meta, entries(toc.get("chapters") or toc.get("sections")),
                    numbered=numbered)


def _project(where: Path, root: str, meta: dict[str, Any], top: tuple[TocEntry, ...],
             numbered: bool = False, groups: tuple[TocGroup, ...] | None = None) -> Project:
    """Top-level entries → toctree groups of the root (a titled entry without a document
    is a captioned group); entries with children → toctrees of those documents."""
    if groups is None:
        found: list[TocGroup] = []
        plain: list[TocEntry] = []
        for entry in top:
            if entry.docname is None:
                if plain:
                    found.append(TocGroup(tuple(plain), None, numbered))
                    plain = []
                found.append(TocGroup(entry.children, entry.title, numbered))
            else:
                plain.append(entry)
        if plain:
            found.append(TocGroup(tuple(plain), None, numbered))
        groups = tuple(found)
    subtocs: dict[str, tuple[TocEntry, ...]] = {}

    def collect(entries: tuple[TocEntry, ...]) -> None:
        for entry in entries:
            if entry.docname is not None and entry.children:
                subtocs[entry.docname] = entry.children
            collect(entry.children)

    for group in groups:
        collect(group.entries)
    return Project(where, root, meta, groups, subtocs)


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def toctree_markdown(entries: tuple[TocEntry, ...], caption: str | None = None,
                     numbered: bool = False) -> str:
    """A MyST toctree directive listing ``entries`` (a titled group without a document
    lists its children in place)."""
    lines = ["", "```{toctree}", ":maxdepth: 2"]
    if caption:
        lines.append(f":caption: {caption}")
    if numbered:
        lines.append(":numbered:")
    lines.append("")

    def add(entry: TocEntry) -> None:
        if entry.docname is None:
            for child in entry.children:
                add(child)
        elif entry.title:
            lines.append(f"{entry.title} </{entry.docname}>")
        else:
            lines.append(f"/{entry.docname}")

    for entry in entries:
        add(entry)
    lines += ["```", ""]
    return "\n".join(lines)
