"""One font program per face in a joined PDF (the chapter-parallel print edition).

Each chunk of the chapter-parallel render embeds its own subset of every face it uses, so
a joined book carries the same face twenty times over. WeasyPrint subsets with the
glyph ids kept (``retain-gids``) and draws with Identity-H CIDs that are those ids, so
one subset of the original font file holding every chunk's glyphs can stand in for all
of them. Each chunk's fonts are read when it is written (``chunk_fonts``: the glyphs
its fonts use, from their ``/W`` widths), the faces several chunks share are collected
(``shared_faces``), the installed font file of each is subset to all their glyphs as
WeasyPrint subsets (``build_programs``, fontTools: ids kept, no hinting, no layout
tables) and the join points every chunk's font descriptor at that one program
(``use_programs``). Each chunk keeps its own font dictionaries, widths and
``ToUnicode`` map, so text and extraction are unchanged. A face whose file cannot be
found (by its PostScript name, through fontconfig) or whose widths differ from the
embedded subset's (another version of the font) is left as it was.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from typing import Any

PROGRAM_KEYS = ("/FontFile3", "/FontFile2")


def installed_fonts() -> dict[str, str]:
    """PostScript name → font file, from fontconfig (empty without ``fc-list``)."""
    if shutil.which("fc-list") is None:
        return {}
    out = subprocess.run(["fc-list", "--format", "%{postscriptname}\t%{file}\t%{index}\n"],
                         capture_output=True, text=True, check=False).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        name, _, rest = line.partition("\t")
        path, _, index = rest.partition("\t")
        if name and path and index in ("", "0"):
            found.setdefault(name, path)
    return found


def used_glyphs(widths: Any) -> dict[int, float]:
    """Glyph id (here: the CID) → width, from a ``/W`` array: ``c [w1 w2 …]`` or
    ``c_first c_last w``."""
    import pikepdf

    found: dict[int, float] = {}
    items = list(widths)
    i = 0
    while i + 1 < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            for offset, width in enumerate(items[i + 1]):
                found[first + offset] = float(width)
            i += 2
        else:
            for gid in range(first, int(items[i + 1]) + 1):
                found[gid] = float(items[i + 2])
            i += 3
    return found


def type0_fonts(page: Any) -> Any:
    """The Type0 fonts a page uses, in its resources and in the forms it draws."""
    stack = [page.get("/Resources")]
    seen: set[tuple[int, int]] = set()
    while stack:
        resources = stack.pop()
        if resources is None:
            continue
        for font in (resources.get("/Font") or {}).values():
            if font.get("/Subtype") == "/Type0" and "/DescendantFonts" in font:
                if font.objgen not in seen:
                    seen.add(font.objgen)
                    yield font
        for xobject in (resources.get("/XObject") or {}).values():
            if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                stack.append(xobject.get("/Resources"))


def _descriptor(font: Any) -> tuple[Any, Any, str | None]:
    """(CID font, descriptor, program key) of a Type0 font; key None: nothing to share
    (no program, or a ``/CIDSet`` that lists the subset's glyphs, as PDF/A-1 wants)."""
    cid_font = font.DescendantFonts[0]
    descriptor = cid_font.get("/FontDescriptor")
    if descriptor is None or "/CIDSet" in descriptor or "/W" not in cid_font:
        return cid_font, descriptor, None
    return cid_font, descriptor, next((k for k in PROGRAM_KEYS if k in descriptor), None)


def chunk_fonts(path: Any) -> dict[str, dict[str, Any]]:
    """The embedded faces of one chunk PDF, by ``/FontName``: the program's PostScript
    name, where the program is (``/FontFile3`` or ``/FontFile2``) and the widths of the
    glyphs used (``[[gid, width], …]``: JSON, for the chunk cache)."""
    import pikepdf
    from fontTools.ttLib import TTFont

    out: dict[str, dict[str, Any]] = {}
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for font in type0_fonts(page.obj):
                cid_font, descriptor, key = _descriptor(font)
                if key is None:
                    continue
                name = str(descriptor.get("/FontName", ""))
                if name not in out:
                    try:
                        program = TTFont(io.BytesIO(descriptor[key].read_bytes()), lazy=True)
                        postscript = str(program["name"].getDebugName(6) or "")
                    except Exception:  # not an sfnt: leave it alone
                        continue
                    out[name] = {"postscript": postscript, "key": key, "widths": {}}
                out[name]["widths"].update(used_glyphs(cid_font.W))
    for face in out.values():
        face["widths"] = sorted(face["widths"].items())
    return out


def shared_faces(documents: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The faces embedded by more than one document, with every glyph any of them uses;
    a face whose documents disagree (program, key or a glyph's width) is left out."""
    faces: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    dropped: set[str] = set()
    for fonts in documents:
        for name, face in fonts.items():
            counts[name] = counts.get(name, 0) + 1
            known = faces.setdefault(name, {"postscript": face["postscript"],
                                            "key": face["key"], "widths": {}})
            if (known["postscript"], known["key"]) != (face["postscript"], face["key"]):
                dropped.add(name)
            for gid, width in face["widths"]:
                if abs(known["widths"].setdefault(int(gid), width) - width) > 0.01:
                    dropped.add(name)
    return {name: face for name, face in faces.items()
            if counts[name] > 1 and name not in dropped and face["postscript"]}


def build_programs(faces: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """FontName → one program with every glyph of the face's documents (the installed
    font file subset as WeasyPrint subsets: ids kept, no hinting, no layout tables);
    faces whose file is not found, or whose widths it does not give, are left out."""
    files = installed_fonts()
    out = {}
    for name, face in faces.items():
        path = files.get(face["postscript"])
        if path is not None:
            data = _subset(path, face["widths"])
            if data is not None:
                out[name] = data
    return out


def _subset(path: str, widths: dict[int, float]) -> bytes | None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(path)
        order, metrics = font.getGlyphOrder(), font["hmtx"].metrics
        scale = 1000 / font["head"].unitsPerEm
        for gid, width in widths.items():
            if gid >= len(order) or abs(metrics[order[gid]][0] * scale - width) > 0.01:
                return None  # another version of the font than the one embedded
        options = subset.Options(retain_gids=True, passthrough_tables=True,
                                 ignore_missing_glyphs=True, hinting=False,
                                 desubroutinize=True, notdef_outline=True)
        options.drop_tables += ["GSUB", "GPOS", "SVG "]
        subsetter = subset.Subsetter(options)
        subsetter.populate(gids=sorted(set(widths) | {0}))
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
        return out.getvalue()
    except Exception:  # a font fontTools cannot read or write: keep the embedded ones
        return None


def use_programs(pdf: Any, pages: list[Any], programs: dict[str, bytes],
                 streams: dict[str, Any]) -> None:
    """Point the descriptors of the fonts ``pages`` use at the shared programs (made into
    streams of ``pdf`` once, kept in ``streams``)."""
    for page in pages:
        for font in type0_fonts(page):
            _, descriptor, key = _descriptor(font)
            name = str(descriptor.get("/FontName", "")) if key is not None else ""
            if name not in programs:
                continue
            if name not in streams:
                stream = pdf.make_stream(programs[name])
                if key == "/FontFile3":
                    stream.Subtype = descriptor[key].get("/Subtype")
                else:
                    stream.Length1 = len(programs[name])
                streams[name] = stream
            descriptor[key] = streams[name]
