"""Book metadata: the YAML front matter of ``BOOK/index.md`` → Sphinx config values.

(A book with a mystmd or Jupyter Book project file — ``myst.yml``, ``_toc.yml`` — may
keep its metadata there instead, and name another root document: ``_project.py``.)

Every edition reads the book's title, author, language and the optional fields from one
place, the front matter of the book's root document. This extension reads it when the
configuration is initialised (before any document is parsed), fills Sphinx's own
``project``/``author``/``language``/``copyright`` and stores the whole record as
``app.config.book`` (a :class:`BookMeta`) for the edition builders and templates.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from _project import Project, ProjectFileError, read_project
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.transforms import SphinxTransform

REQUIRED = ("title", "author", "language")
OPTIONAL = (
    "subtitle",
    "identifier",
    "date",
    "publisher",
    "description",
    "cover",
    "rights",
    "colophon",
    "subject",
    "keywords",
)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(\n|\Z)", re.S)


class BookMetaError(ConfigError):
    """The book's front matter is missing, malformed or incomplete."""


@dataclass(frozen=True)
class BookMeta:
    """What the editions need to know about a book, with defaults filled in."""

    title: str
    author: str
    language: str
    subtitle: str = ""
    identifier: str = ""
    date: str = ""
    publisher: str = ""
    description: str = ""
    cover: str = ""
    rights: str = ""
    colophon: str = ""
    subject: str = ""
    keywords: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        """A file name for the book's outputs, from its title (ASCII, lower case)."""
        return slugify(self.title)

    @property
    def year(self) -> str:
        return self.date[:4]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"slug": self.slug, "year": self.year}


# Cyrillic letters of Belarusian, Russian and Ukrainian → Latin, for file names only.
_CYRILLIC = dict(zip(
    "абвгґдеёжзийіїклмнопрстуўфхцчшщъыьэюяє",
    ["a", "b", "v", "h", "g", "d", "e", "io", "zh", "z", "i", "i", "i", "i", "k", "l", "m",
     "n", "o", "p", "r", "s", "t", "u", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y",
     "", "e", "iu", "ia", "ie"], strict=True))


def slugify(text: str) -> str:
    """A file name for ``text``: ASCII, lower case, words joined by hyphens."""
    import unicodedata

    latin = "".join(_CYRILLIC.get(ch, ch) for ch in text.lower())
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "book"


def read_front_matter(path: Path) -> dict[str, Any]:
    """Return the YAML front matter of a MyST file as a dict (empty when it has none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BookMetaError(f"{path}: the book has no root document (index.md)") from None
    except UnicodeDecodeError as err:
        raise BookMetaError(f"{path}: not valid UTF-8 ({err.reason} at byte {err.start})") from None
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 2}" if mark is not None else ""  # +1 for 1-based, +1 for '---'
        problem = getattr(err, "problem", None) or str(err)
        raise BookMetaError(f"{path}{line}: malformed YAML front matter: {problem}") from None
    if not isinstance(data, dict):
        raise BookMetaError(f"{path}:2: the front matter must be a mapping of keys to values")
    return data


def default_date(book_dir: Path) -> str:
    """SOURCE_DATE_EPOCH, else the last commit touching the book, else today (ISO date)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%cs", "--", "."],
            cwd=book_dir,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out or dt.date.today().isoformat()


def load_project(book_dir: Path) -> Project:
    """The book's project file (``myst.yml`` or ``_toc.yml``, see ``_project.py``)."""
    try:
        return read_project(book_dir)
    except ProjectFileError as err:
        raise BookMetaError(str(err)) from None


def load_book_meta(book_dir: Path, project: Project | None = None) -> BookMeta:
    """Read and validate the root document's front matter, filling in what it leaves out
    from the book's project file, if it has one, and defaults."""
    project = project or load_project(book_dir)
    index = book_dir / f"{project.root}.md"
    data = {**project.meta, **read_front_matter(index)}
    if project.path is not None:
        data.setdefault("language", "en")  # mystmd's and Jupyter Book's default
    missing = [key for key in REQUIRED if not data.get(key)]
    if missing and project.path is not None:
        raise BookMetaError(
            f"{index}:1: neither its front matter nor {project.path.name} gives the book's "
            f"{', '.join(missing)}; add them to the front matter, e.g.\n---\n"
            "title: My Book\nauthor: A. Writer\n---"
        )
    if missing:
        raise BookMetaError(
            f"{index}:1: the front matter lacks {', '.join(missing)}; a book needs at least "
            "title, author and language, e.g.\n---\ntitle: My Book\nauthor: A. Writer\n"
            "language: en\n---"
        )
    values: dict[str, Any] = {}
    for key in REQUIRED + OPTIONAL:
        value = data.get(key)
        if value is None:
            continue
        if key == "keywords":
            values[key] = [str(v) for v in value] if isinstance(value, list) else [
                v.strip() for v in str(value).split(",") if v.strip()
            ]
        elif key == "author" and isinstance(value, list):
            values[key] = ", ".join(str(v) for v in value)
        else:
            values[key] = str(value).strip()
    values["language"] = values["language"].replace("_", "-")
    if not values.get("date"):
        values["date"] = default_date(book_dir)
    if not values.get("identifier"):
        values["identifier"] = "urn:uuid:" + str(
            uuid.uuid5(uuid.NAMESPACE_URL, "book:" + values["title"] + "|" + values["author"])
        )
    return BookMeta(**values)


def on_config_inited(app: Sphinx, config: Config) -> None:
    project = load_project(Path(app.srcdir))
    meta = load_book_meta(Path(app.srcdir), project)
    config.book = meta
    config.book_project = project
    config.root_doc = project.root
    if project.path is not None:
        # mystmd and Jupyter Book take a document's title from its front matter
        config.myst_title_to_header = True
    config.project = meta.title
    config.author = meta.author
    config.language = meta.language
    config.copyright = f"{meta.year}, {meta.author}"
    config.html_title = meta.title
    bib = Path(app.srcdir) / "references.bib"
    listed = [Path(app.srcdir) / name for name in project.meta.get("bibliography", [])]
    config.bibtex_bibfiles = [str(p) for p in listed if p.is_file()] or (
        [str(bib)] if bib.is_file() else [])
    context = dict(config.html_context or {})
    context["book"] = meta.as_dict()
    config.html_context = context


class RootTitlePage(SphinxTransform):
    """Give the root document a title from the metadata when it has none of its own.

    A book's ``index.md`` usually holds only front matter and toctrees; without this the
    web edition's landing page would be titled "<no title>". The section gets the title,
    and the subtitle, author and description as paragraphs with classes.
    """

    default_priority = 350  # after docutils' DocInfo (340) turned the front matter into docinfo

    def apply(self, **kwargs: Any) -> None:
        if self.env.docname != self.config.root_doc or self.config.book is None:
            return
        if any(isinstance(child, nodes.section) for child in self.document.children):
            return
        book: BookMeta = self.config.book
        section = nodes.section("", ids=["book-title"], names=["book-title"],
                                classes=["book-title-page"])
        section += nodes.title(book.title, book.title)
        for text, cls in ((book.subtitle, "book-subtitle"), (book.author, "book-author"),
                          (book.description, "book-description")):
            if text:
                section += nodes.paragraph(text, text, classes=[cls])
        keep = [c for c in self.document.children if not isinstance(c, nodes.docinfo)]
        for child in keep:
            self.document.remove(child)
        section.extend(keep)
        self.document += section


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(RootTitlePage)
    app.add_config_value("book", None, "env", types=frozenset({BookMeta, type(None)}))
    app.add_config_value("book_toolchain", "", "env", types=frozenset({str}))
    app.add_config_value("book_project", None, "env", types=frozenset({Project, type(None)}))
    app.connect("config-inited", on_config_inited, priority=100)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
