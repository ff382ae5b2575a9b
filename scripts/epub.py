"""EPUB edition: book directory → ``bookepub`` XHTML documents → ebooklib → BUILD/epub/<slug>.epub.

``conf/ext/epub_edition.py`` (the Sphinx builder) writes one XHTML content document per
book part, the title page, cover page, colophon, navigation document and ``package.json``
(spine, table of contents, landmarks, metadata). This module adds what is not Sphinx's
business and packages the whole:

- the cover image: the book's own ``cover`` file, or one drawn with Pillow from the title
  and author (:func:`draw_cover`);
- the book face, EB Garamond, subset with fontTools to the characters the book uses
  (:func:`subset_font`), and ``conf/css/epub.css``;
- the OPF metadata (title, author, language, identifier, publisher, date, description,
  ``dcterms:modified`` from ``SOURCE_DATE_EPOCH``) with EPUB Accessibility 1.1 metadata,
  the manifest, the spine in reading order and an NCX for older readers (ebooklib);
- a reproducible zip (:func:`normalise_zip`): fixed entry times and order, so two builds
  with the same ``SOURCE_DATE_EPOCH`` give the same bytes.

The file is put in place in one rename (``publish_file``): a failed build leaves the
previous EPUB as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.sphinx_run import CONF, BookPaths, BuildError, partial_file, publish_file, run_sphinx

BUILDER = "bookepub"
CSS_SOURCE = CONF / "css" / "epub.css"
CSS_HREF = "css/epub.css"
FONT_DIR = Path("/usr/share/fonts/opentype/ebgaramond")
# The files epub.css names (fonts/<name>) → the installed fonts they are subset from.
FONT_SOURCES = {
    "EBGaramond-Regular.otf": FONT_DIR / "EBGaramond12-Regular.otf",
    "EBGaramond-Italic.otf": FONT_DIR / "EBGaramond12-Italic.otf",
}
MEDIA_TYPES = {
    ".xhtml": "application/xhtml+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".css": "text/css",
}
ZIP_EPOCH_MIN = 315532800  # 1980-01-01, the earliest time a zip entry can carry
COVER_SIZE = (1600, 2400)


@dataclass(frozen=True)
class Accessibility:
    """What the EPUB Accessibility 1.1 metadata says about this edition."""

    access_modes: tuple[str, ...]
    sufficient: tuple[str, ...]
    features: tuple[str, ...]
    hazards: tuple[str, ...] = ("none",)
    conforms_to: str = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"

    def summary(self) -> str:
        parts = [
            "This publication conforms to EPUB Accessibility 1.1 at WCAG 2.2 Level AA.",
            "It has a table of contents, a logical reading order and structural headings;",
            "notes are linked from their calls and back;",
        ]
        if "alternativeText" in self.features:
            parts.append("every image has a text description;")
        parts.append("text can be resized and restyled by the reader. No hazards.")
        return " ".join(parts)


def build_epub(paths: BookPaths) -> Path:
    """Build the EPUB edition; return ``BUILD/epub/<slug>.epub``."""
    stage = run_sphinx(paths, BUILDER)
    package = json.loads((stage / "package.json").read_text(encoding="utf-8"))
    target = paths.build / "epub" / f"{package['book']['slug']}.epub"
    tmp = partial_file(target)
    tmp_name = str(tmp)
    try:
        modified = modification_time(package["book"]["date"])
        raw = Path(tmp_name + ".raw")
        try:
            write_package(stage, package, raw, modified)
            normalise_zip(raw, tmp, modified)
        finally:
            raw.unlink(missing_ok=True)
        tmp.chmod(0o644)
        publish_file(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def modification_time(book_date: str) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set, else midnight (UTC) of the book's date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except ValueError:
            raise BuildError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None
    match = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", book_date or "")
    if not match:
        raise BuildError(f"the book's date {book_date!r} is not an ISO date (YYYY-MM-DD)")
    year, month, day = (int(g) if g else 1 for g in match.groups())
    return dt.datetime(year, month, day, tzinfo=dt.UTC)


# -- Packaging -------------------------------------------------------------------------------


def write_package(stage: Path, package: dict[str, Any], out: Path, modified: dt.datetime) -> None:
    """Package the builder's documents and our assets with ebooklib into ``out``."""
    from ebooklib import epub

    meta = package["book"]
    book = epub.EpubBook()
    book.FOLDER_NAME = "EPUB"
    book.set_identifier(meta["identifier"])
    book.set_title(meta["title"])
    book.set_language(meta["language"])
    book.add_author(meta["author"], role="aut", uid="creator")
    book.metadata.get(epub.NAMESPACES["OPF"], {}).pop("generator", None)
    for name in ("publisher", "description", "rights"):
        if meta.get(name):
            book.add_metadata("DC", name, " ".join(meta[name].split()))
    if meta.get("date"):
        book.add_metadata("DC", "date", meta["date"])
    for subject in _subjects(meta):
        book.add_metadata("DC", "subject", subject)

    documents = [item["href"] for item in package["spine"]]  # the nav document among them
    texts: list[str] = []
    ids = _Ids()
    items: dict[str, Any] = {}
    has_math = False
    for href in documents:
        data = (stage / href).read_bytes()
        texts.append(_visible_text(data))
        item = epub.EpubItem(uid=ids.make(href), file_name=href,
                             media_type=MEDIA_TYPES[".xhtml"], content=data)
        # formulas are inline SVG (conf/ext/math_svg.py), which the manifest declares
        has_math = has_math or b'class="math-svg"' in data
        item.properties = (["nav"] if href == "nav.xhtml" else []) + (
            ["svg"] if b"<svg" in data else [])
        items[href] = item
    has_images = bool(package["images"]) or has_math
    access = Accessibility(
        access_modes=("textual", "visual") if has_images else ("textual",),
        sufficient=("textual",),
        features=tuple(f for f, on in (
            ("structuralNavigation", True), ("tableOfContents", True),
            ("readingOrder", True), ("alternativeText", has_images),
            ("describedMath", has_math),
            ("index", package["has_index"]), ("displayTransformability", True),
        ) if on),
    )
    _add_accessibility(book, access, meta)

    # The cover image (and the <meta name="cover"> older readers look for).
    cover_data = _cover_image(package, meta)
    book.set_cover(package["cover_href"], cover_data, create_page=False)

    for href in documents:
        book.add_item(items[href])
    book.add_item(epub.EpubNcx())

    css = CSS_SOURCE.read_text(encoding="utf-8")
    book.add_item(epub.EpubItem(uid="css", file_name=CSS_HREF, media_type="text/css",
                                content=css.encode("utf-8")))
    characters = set("".join(texts))
    for name in _css_fonts(css):
        source = FONT_SOURCES.get(name)
        if source is None:
            raise BuildError(f"{CSS_SOURCE}: font {name!r} is not one the EPUB build knows "
                             f"(known: {', '.join(FONT_SOURCES)})")
        if not source.is_file():
            raise BuildError(f"{source}: font missing; install it with "
                             "`bash scripts/setup-system.sh build` (fonts-ebgaramond)")
        book.add_item(epub.EpubItem(uid=ids.make("font-" + name), file_name=f"fonts/{name}",
                                    media_type=MEDIA_TYPES[Path(name).suffix],
                                    content=cached_subset(source, characters,
                                                          stage.parent.parent / ".cache")))
    for href in package["images"]:
        book.add_item(epub.EpubImage(uid=ids.make(href), file_name=href,
                                     media_type=MEDIA_TYPES.get(Path(href).suffix.lower(),
                                                                "application/octet-stream"),
                                     content=(stage / href).read_bytes()))

    book.spine = [items[href] for href in documents]
    book.toc = [_toc_entry(entry, ids) for entry in package["toc"]]
    writer = _writer_class()(str(out), book, {"mtime": modified.replace(tzinfo=None),
                                              "epub3_landmark": False, "epub2_guide": False})
    writer.process()
    writer.write()


def _writer_class() -> type:
    """ebooklib's writer, with the book's language on ``<package>`` and on the NCX too
    (Ace requires it on the package; ebooklib sets it nowhere)."""
    from ebooklib import epub
    from lxml import etree

    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"

    class BookWriter(epub.EpubWriter):
        def _write_opf_file(self, root: Any) -> None:
            root.set(xml_lang, self.book.language)
            super()._write_opf_file(root)

        def _get_ncx(self) -> bytes:
            root = etree.fromstring(super()._get_ncx())
            root.set(xml_lang, self.book.language)
            return etree.tostring(root, pretty_print=True, encoding="utf-8",
                                  xml_declaration=True)

    return BookWriter


def _subjects(meta: dict[str, Any]) -> list[str]:
    subjects = [meta["subject"]] if meta.get("subject") else []
    return subjects + [k for k in meta.get("keywords") or [] if k not in subjects]


def _add_accessibility(book: Any, access: Accessibility, meta: dict[str, Any]) -> None:
    def prop(name: str, value: str) -> None:
        book.add_metadata(None, "meta", value, {"property": name})

    for mode in access.access_modes:
        prop("schema:accessMode", mode)
    for sufficient in access.sufficient:
        prop("schema:accessModeSufficient", sufficient)
    for feature in access.features:
        prop("schema:accessibilityFeature", feature)
    for hazard in access.hazards:
        prop("schema:accessibilityHazard", hazard)
    prop("schema:accessibilitySummary", access.summary())
    prop("dcterms:conformsTo", access.conforms_to)
    prop("a11y:certifiedBy", meta.get("publisher") or meta["author"])


class _Ids:
    """Manifest ids from file names: valid XML names, unique, stable."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, name: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "item"
        if not re.match(r"[A-Za-z_]", base):
            base = "x-" + base
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}-{n}", n + 1
        self.used.add(candidate)
        return candidate


def _toc_entry(entry: dict[str, Any], ids: _Ids) -> Any:
    from ebooklib import epub

    link = epub.Link(entry["href"], entry["title"], ids.make("nav-" + entry["href"]))
    if entry["children"]:
        return (link, [_toc_entry(child, ids) for child in entry["children"]])
    return link


def _visible_text(data: bytes) -> str:
    """The text a document shows (what the embedded font has to cover)."""
    from lxml import etree

    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    return "".join(root.itertext())


def _css_fonts(css: str) -> list[str]:
    """The font files the stylesheet asks for, in order (``url("../fonts/NAME")``)."""
    return list(dict.fromkeys(re.findall(r"""url\(\s*["']?\.\./fonts/([^"')]+)["']?\s*\)""", css)))


# -- Fonts -----------------------------------------------------------------------------------


def subset_characters(characters: set[str]) -> set[str]:
    """The characters a subset keeps: the book's (no line breaks or tabs), and the digits
    and punctuation a reading system may show (page lists, footnote numbers)."""
    kept = {c for c in characters if not c.isspace() or c in " \u00a0"}
    return kept | set(" \u00a0-.,:;!?'\"()[]0123456789")


def cached_subset(source: Path, characters: set[str], cache: Path) -> bytes:
    """``subset_font``, kept in ``cache/epub-fonts`` under a hash of the font and the
    characters: an edit that adds no new character does not subset the fonts again
    (the slowest step of an incremental EPUB build)."""
    import hashlib

    stat = source.stat()
    key = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}|".encode()
                         + "".join(sorted(subset_characters(characters))).encode()
                         ).hexdigest()[:32]
    folder = cache / "epub-fonts"
    path = folder / f"{source.stem}-{key}{source.suffix}"
    if path.is_file():
        return path.read_bytes()
    data = subset_font(source, characters)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{source.stem}-*{source.suffix}"):
        old.unlink(missing_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


def subset_font(source: Path, characters: set[str]) -> bytes:
    """The font reduced to the glyphs for ``characters`` (with their OpenType features:
    kerning, ligatures, small capitals), deterministic for the same input."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.drop_tables += ["DSIG", "FFTM"]
    # the full font's bounding boxes still enclose every glyph kept; recomputing them for
    # the subset (every outline drawn) took half the subsetting time
    font = TTFont(str(source), recalcTimestamp=False, recalcBBoxes=False, lazy=False)
    wanted = {ord(c) for c in subset_characters(characters)}
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


# -- Cover -----------------------------------------------------------------------------------


def _cover_image(package: dict[str, Any], meta: dict[str, Any]) -> bytes:
    if package["cover_source"]:
        return Path(package["cover_source"]).read_bytes()
    return draw_cover(meta["title"], meta.get("subtitle", ""), meta["author"])


def draw_cover(title: str, subtitle: str, author: str, size: tuple[int, int] = COVER_SIZE
               ) -> bytes:
    """A plain typographic cover (PNG): the title, subtitle and author in the book face."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = size
    background, ink, accent = (38, 52, 71), (244, 238, 226), (201, 169, 110)
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    regular = FONT_SOURCES["EBGaramond-Regular.otf"]
    italic = FONT_SOURCES["EBGaramond-Italic.otf"]
    margin = width // 10

    def font(path: Path, px: int) -> Any:
        return ImageFont.truetype(str(path), px)

    def lines_for(text: str, path: Path, px: int) -> tuple[list[str], Any]:
        face = font(path, px)
        lines: list[str] = []
        for word in text.split():
            trial = f"{lines[-1]} {word}" if lines else word
            if lines and draw.textlength(trial, font=face) <= width - 2 * margin:
                lines[-1] = trial
            else:
                lines.append(word)
        return lines, face

    def fit(text: str, path: Path, px: int, max_lines: int) -> tuple[list[str], Any, int]:
        while True:
            lines, face = lines_for(text, path, px)
            too_wide = any(draw.textlength(line, font=face) > width - 2 * margin
                           for line in lines)
            if (len(lines) <= max_lines and not too_wide) or px <= 40:
                return lines, face, px
            px = int(px * 0.9)

    def centred(lines: list[str], face: Any, px: int, top: int, fill: tuple[int, ...]) -> int:
        for line in lines:
            w = draw.textlength(line, font=face)
            draw.text(((width - w) / 2, top), line, font=face, fill=fill)
            top += int(px * 1.2)
        return top

    draw.rectangle([margin // 2, margin // 2, width - margin // 2, height - margin // 2],
                   outline=accent, width=6)
    title_lines, title_face, title_px = fit(title, regular, width // 8, 4)
    y = centred(title_lines, title_face, title_px, height // 5, ink)
    if subtitle:
        sub_lines, sub_face, sub_px = fit(subtitle, italic, width // 18, 3)
        y = centred(sub_lines, sub_face, sub_px, y + title_px // 2, ink)
    draw.line([(width / 2 - margin, y + margin / 2), (width / 2 + margin, y + margin / 2)],
              fill=accent, width=4)
    author_lines, author_face, author_px = fit(author, regular, width // 14, 2)
    centred(author_lines, author_face, author_px,
            height - height // 5 - author_px * len(author_lines), ink)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# -- A reproducible zip ------------------------------------------------------------------------


def normalise_zip(source: Path, target: Path, modified: dt.datetime) -> None:
    """Rewrite an EPUB with fixed entry times, permissions and compression: ``mimetype``
    first and stored, then the other entries in ebooklib's (deterministic) order."""
    stamp = max(int(modified.timestamp()), ZIP_EPOCH_MIN)
    date_time = dt.datetime.fromtimestamp(stamp, dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(source) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    names = [name for name, _ in entries]
    if len(set(names)) != len(names):
        raise BuildError("EPUB packaging wrote a file twice: " + ", ".join(
            sorted({n for n in names if names.count(n) > 1})))
    entries.sort(key=lambda entry: entry[0] != "mimetype")
    with zipfile.ZipFile(target, "w") as zout:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
                zout.writestr(info, data)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                zout.writestr(info, data, compresslevel=9)
