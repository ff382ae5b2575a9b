"""Checks that keep the book's text honest to its sources.

Run as ``python -m scripts.textcheck [--book book] [--sources DIR] [--report]``.

The checks, each over every Markdown document in the book directory:

1. **Citations.** Every key cited with ``{footcite}`` exists in ``references.bib``, and
   every entry of ``references.bib`` is cited somewhere.
2. **Quotations.** Every quotation—text between double curly quotes of six words or
   more, and every block quote—occurs verbatim in the source file that its citation
   names. The citation of a quotation is the first ``{footcite}`` after it in the same
   paragraph (for a block quote, also the paragraph after it); failing that, any
   ``{footcite}`` of the paragraph. In a footnote definition (a discursive note, which
   quotes the sources it compares) any source the note cites will do. Each bibliography
   entry names its source file in a custom ``source = {...}`` field. The comparison
   ignores differences of whitespace, quotation marks and apostrophes, dashes and
   ellipses; an ellipsis in a quotation marks an omission, so each part is looked up on
   its own, in order.
3. **Copying.** No run of eight consecutive words outside marked quotations also occurs
   in a source (compared without case and punctuation).

``--report`` prints, per document: words of running text (footnotes not counted), notes,
citations per source, quotations (checked ones, and short quoted words and titles), and
discursive notes (MyST footnotes, used for disagreements and transliteration).

Checks 2 and 3 need the sources: ``--sources``, else the ``SOURCES`` environment
variable, else ``../shared/sources`` next to the repository. Without them, those checks
are skipped with a notice. The exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NGRAM = 8
MIN_QUOTE_WORDS = 6

# ``{footcite}`a{"loc"},{pre}b` `` and other roles; the target may not contain a backtick.
ROLE_RE = re.compile(r"\{(?P<name>[a-zA-Z][\w:-]*)\}`(?P<target>[^`]*)`")
CITE_TARGET_RE = re.compile(
    r"\s*(?:\{(?P<pre>[^{}]*)\})?\s*(?P<key>[^{}\s,]+)\s*(?:\{(?P<post>[^{}]*)\})?\s*"
)
QUOTE_RE = re.compile(r"“([^“”]*)”")
FENCE_RE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?:\{(?P<name>[\w:-]+)\})?.*$")
LABEL_RE = re.compile(r"^\([\w:.-]+\)=\s*$")
FOOTDEF_RE = re.compile(r"^\[\^(?P<label>[^\]\s]+)\]:")
FOOTREF_RE = re.compile(r"\[\^[^\]\s]+\](?!:)")
HEADING_RE = re.compile(r"^#{1,6}\s")
WORD_RE = re.compile(r"[^\W_]+")
BIB_ENTRY_RE = re.compile(r"@(?P<type>\w+)\s*\{\s*(?P<key>[^,\s]+)\s*,")
BIB_SOURCE_RE = re.compile(r"\bsource\s*=\s*\{(?P<value>[^{}]*)\}")
ELLIPSIS_RE = re.compile(r"\s*(?:\[\s*(?:…|\.\.\.)\s*\]|<\s*(?:…|\.\.\.)\s*>|…|\.\.\.)\s*")

QUOTE_CHARS = "\"“”„‟«»‘’‚‛'`´"
DASH_CHARS = "‐‑‒–—―−"


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Citation:
    """One ``{footcite}`` call: its keys, where it is, and its span in the text."""

    keys: tuple[str, ...]
    line: int
    start: int
    end: int
    raw: str


@dataclass(frozen=True)
class Quotation:
    """A marked quotation: inline (“…”) or a block quote."""

    text: str
    line: int
    start: int
    end: int
    block: bool


@dataclass
class Document:
    """A Markdown document with the views the checks need."""

    path: Path
    raw: str
    prose: str = ""  # raw with everything that is not running text blanked out
    is_chapter: bool = False
    citations: list[Citation] = field(default_factory=list)
    quotations: list[Quotation] = field(default_factory=list)
    footnote_labels: list[str] = field(default_factory=list)


def parse_cite_keys(target: str) -> tuple[str, ...]:
    """Keys of a footcite target ``{pre}key{post}, key2``; ValueError when malformed."""
    keys: list[str] = []
    pos = 0
    while True:
        match = CITE_TARGET_RE.match(target, pos)
        if match is None or not match.group("key"):
            raise ValueError(f"malformed citation target {target!r}")
        keys.append(match.group("key"))
        pos = match.end()
        if pos == len(target):
            return tuple(keys)
        if target[pos] != ",":
            raise ValueError(f"malformed citation target {target!r} at character {pos + 1}")
        pos += 1


def line_of(text: str, pos: int) -> int:
    """1-based line number of character offset ``pos``."""
    return text.count("\n", 0, pos) + 1


def blank(text: str) -> str:
    """Replace every character except newlines by a space (keeps offsets and lines)."""
    return re.sub(r"[^\n]", " ", text)


def mask_prose(raw: str) -> str:
    """Blank out front matter, directives, labels, roles and Markdown syntax.

    The result has the same length and line structure as ``raw``; what remains is the
    running text (including the text of footnotes and of glossary definitions).
    """
    lines = raw.split("\n")
    out: list[str] = []
    i = 0
    if lines and lines[0].strip() == "---":
        end = next((j for j in range(1, len(lines)) if lines[j].strip() == "---"), None)
        if end is not None:
            out.extend(blank(line) for line in lines[: end + 1])
            i = end + 1
    while i < len(lines):
        line = lines[i]
        fence = FENCE_RE.match(line.strip())
        if fence:
            marker = fence.group("fence")
            name = fence.group("name") or ""
            j = i + 1
            while j < len(lines) and lines[j].strip() != marker:
                j += 1
            out.append(blank(line))
            for body in lines[i + 1 : j]:
                keep = name == "glossary" and not body.lstrip().startswith(":")
                out.append(body if keep else blank(body))
            if j < len(lines):
                out.append(blank(lines[j]))
            i = j + 1
            continue
        if LABEL_RE.match(line.strip()):
            out.append(blank(line))
        elif HEADING_RE.match(line):
            hashes = len(line) - len(line.lstrip("#"))
            out.append(" " * hashes + line[hashes:])
        else:
            out.append(line)
        i += 1
    text = "\n".join(out)
    text = ROLE_RE.sub(lambda m: blank(m.group(0)), text)
    text = FOOTREF_RE.sub(lambda m: blank(m.group(0)), text)
    text = re.sub(r"(?m)^\[\^[^\]\s]+\]:", lambda m: blank(m.group(0)), text)
    text = re.sub(r"(?m)^(\s*)(>)", lambda m: m.group(1) + " ", text)
    text = re.sub(
        r"(?m)^(\s*)([-*+]|\d+\.)(\s)", lambda m: m.group(1) + " " * len(m.group(2)) + m.group(3), text
    )
    text = re.sub(r"[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}", lambda m: blank(m.group(0)), text)
    return text


def paragraphs(raw: str) -> list[tuple[int, int]]:
    """(start, end) offsets of blank-line separated blocks of ``raw``."""
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"(?:[^\n]*\S[^\n]*(?:\n|$))+", raw):
        spans.append((match.start(), match.end()))
    return spans


def find_citations(raw: str) -> list[Citation]:
    """Every ``{footcite}`` call in ``raw``."""
    found: list[Citation] = []
    for match in ROLE_RE.finditer(raw):
        if match.group("name") != "footcite":
            continue
        keys = parse_cite_keys(match.group("target"))
        found.append(Citation(keys, line_of(raw, match.start()), match.start(), match.end(), match.group(0)))
    return found


def find_quotations(raw: str, prose: str) -> list[Quotation]:
    """Inline quotations (in the masked prose) and block quotes (from the raw text)."""
    found: list[Quotation] = []
    for match in QUOTE_RE.finditer(prose):
        text = " ".join(match.group(1).split())
        found.append(Quotation(text, line_of(prose, match.start()), match.start(), match.end(), False))
    for match in re.finditer(r"(?m)(?:^[ \t]*>[^\n]*(?:\n|$))+", raw):
        body = prose[match.start() : match.end()]
        text = " ".join(body.split())
        if text:
            found.append(Quotation(text, line_of(raw, match.start()), match.start(), match.end(), True))
    return sorted(found, key=lambda q: q.start)


def load_document(path: Path) -> Document:
    """Read and parse one Markdown document."""
    raw = path.read_text(encoding="utf-8")
    doc = Document(path=path, raw=raw)
    doc.prose = mask_prose(raw)
    doc.is_chapter = not raw.lstrip().startswith("---") and path.stem != "index"
    doc.citations = find_citations(raw)
    doc.quotations = find_quotations(raw, doc.prose)
    doc.footnote_labels = [m.group(1) for m in re.finditer(r"(?m)^\[\^([^\]\s]+)\]:", raw)]
    return doc


def load_book(book: Path) -> list[Document]:
    """All Markdown documents of the book, in chapter order where the toctree gives it."""
    docs = {p.stem: load_document(p) for p in sorted(book.glob("*.md"))}
    order: list[str] = []
    index = book / "index.md"
    if index.exists():
        for block in re.findall(r"```\{toctree\}(.*?)```", index.read_text(encoding="utf-8"), re.S):
            for line in block.splitlines():
                name = line.strip()
                if name and not name.startswith(":") and name in docs:
                    order.append(name)
    rest = [name for name in docs if name not in order]
    return [docs[name] for name in order + rest]


def parse_bib(text: str) -> dict[str, str | None]:
    """Bibliography keys mapped to their ``source`` field (None when absent)."""
    entries: dict[str, str | None] = {}
    matches = list(BIB_ENTRY_RE.finditer(text))
    for n, match in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
        body = text[match.end() : end]
        source = BIB_SOURCE_RE.search(body)
        entries[match.group("key")] = source.group("value").strip() if source else None
    return entries


# --------------------------------------------------------------------------- normalising


def normalise(text: str) -> str:
    """Text for verbatim comparison: quotes dropped, dashes and ellipses unified."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("…", "...")
    text = "".join(" - " if ch in DASH_CHARS or ch == "-" else ch for ch in text if ch not in QUOTE_CHARS)
    text = re.sub(r"\s*-\s*", "-", text)
    text = re.sub(r"\s*-(\s*-)+\s*", "-", text)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """Lower-case words, punctuation dropped (for n-gram comparison)."""
    return [w.lower() for w in WORD_RE.findall(unicodedata.normalize("NFKC", text))]


def quotation_found(quote: str, source: str) -> bool:
    """Whether ``quote`` (possibly with … for omissions) occurs verbatim in ``source``."""
    norm_source = normalise(ELLIPSIS_RE.sub(" … ", source))
    parts = [p for p in ELLIPSIS_RE.split(quote) if p.strip(" .,;:")]
    pos = 0
    for part in parts:
        frag = normalise(part).strip(" ,;:")
        frag = frag.rstrip(".!?,;:") if frag.rstrip(".!?,;:") else frag
        if not frag:
            continue
        candidates = [frag, frag[0].swapcase() + frag[1:]]
        hits = [norm_source.find(c, pos) for c in candidates]
        hits = [h for h in hits if h >= 0]
        if not hits:
            return False
        pos = min(hits) + len(frag)
    return True


def source_ngrams(texts: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    """All word n-grams of the sources."""
    grams: set[tuple[str, ...]] = set()
    for text in texts:
        toks = words(text)
        grams.update(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return grams


# --------------------------------------------------------------------------- checks


@dataclass
class Problem:
    """A failed check, located in the book."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        try:
            where = self.path.relative_to(Path.cwd())
        except ValueError:
            where = self.path
        return f"{where}:{self.line}: {self.message}"


def check_citations(docs: list[Document], bib: dict[str, str | None], bib_path: Path) -> list[Problem]:
    """Check 1: cited keys exist; every entry is cited."""
    problems: list[Problem] = []
    cited: set[str] = set()
    for doc in docs:
        for cit in doc.citations:
            for key in cit.keys:
                cited.add(key)
                if key not in bib:
                    problems.append(Problem(doc.path, cit.line, f"unknown citation key {key!r}"))
    for key in bib:
        if key not in cited:
            problems.append(Problem(bib_path, 1, f"bibliography entry {key!r} is never cited"))
    return problems


def quotation_keys(doc: Document, quote: Quotation) -> tuple[str, ...]:
    """Keys of the citation that vouches for ``quote`` (see the module docstring)."""
    spans = paragraphs(doc.raw)
    para = next(((s, e) for s, e in spans if s <= quote.start < e), (quote.start, quote.end))
    inside = [c for c in doc.citations if para[0] <= c.start < para[1]]
    if FOOTDEF_RE.match(doc.raw[para[0] : para[1]]):
        # a discursive note quotes the sources it compares and cites them all at its end
        return tuple(dict.fromkeys(k for c in inside for k in c.keys))
    after = [c for c in inside if c.start >= quote.end - 1]
    if after:
        return after[0].keys
    if quote.block:
        following = [(s, e) for s, e in spans if s >= para[1]]
        if following:
            nxt = [c for c in doc.citations if following[0][0] <= c.start < following[0][1]]
            if nxt:
                return nxt[0].keys
    return tuple(k for c in inside for k in c.keys)


def checked_quotations(doc: Document) -> list[Quotation]:
    """The quotations that must be verified: block quotes and inline ones of 6+ words."""
    return [q for q in doc.quotations if q.block or len(words(q.text)) >= MIN_QUOTE_WORDS]


def check_quotations(
    docs: list[Document], bib: dict[str, str | None], sources: dict[str, str]
) -> list[Problem]:
    """Check 2: quotations are verbatim in the source their citation names."""
    problems: list[Problem] = []
    for doc in docs:
        for quote in checked_quotations(doc):
            keys = quotation_keys(doc, quote)
            short = quote.text if len(quote.text) < 90 else quote.text[:87] + "..."
            if not keys:
                problems.append(Problem(doc.path, quote.line, f"quotation without a citation: “{short}”"))
                continue
            files = [bib.get(k) for k in keys]
            texts = [sources[f] for f in files if f and f in sources]
            if not texts:
                problems.append(
                    Problem(doc.path, quote.line, f"no source file for {', '.join(keys)}: “{short}”")
                )
            elif not any(quotation_found(quote.text, t) for t in texts):
                problems.append(
                    Problem(
                        doc.path,
                        quote.line,
                        f"quotation not found verbatim in {', '.join(f or '?' for f in files)}: “{short}”",
                    )
                )
    return problems


def copy_runs(doc: Document, grams: set[tuple[str, ...]], n: int = NGRAM) -> list[Problem]:
    """Check 3 for one document: runs of n words outside quotations shared with a source."""
    text = list(doc.prose)
    for quote in doc.quotations:
        for k in range(quote.start, quote.end):
            if text[k] != "\n":
                text[k] = "\x00"  # a barrier: n-grams do not bridge a quotation
    masked = "".join(text)
    problems: list[Problem] = []
    for s, e in paragraphs(doc.prose):
        for segment in re.finditer(r"[^\x00]+", masked[s:e]):
            toks = [
                (m.group(0).lower(), s + segment.start() + m.start())
                for m in WORD_RE.finditer(segment.group(0))
            ]
            i = 0
            while i <= len(toks) - n:
                if tuple(t for t, _ in toks[i : i + n]) in grams:
                    j = i + n
                    while j < len(toks) and tuple(t for t, _ in toks[j - n + 1 : j + 1]) in grams:
                        j += 1
                    run = " ".join(t for t, _ in toks[i:j])
                    problems.append(
                        Problem(
                            doc.path,
                            line_of(masked, toks[i][1]),
                            f"{j - i} words copied from a source: {run!r}",
                        )
                    )
                    i = j
                else:
                    i += 1
    return problems


def uncited_paragraphs(doc: Document) -> list[Problem]:
    """Paragraphs of running text in a chapter without any note (a warning, not a failure)."""
    found: list[Problem] = []
    for s, e in paragraphs(doc.raw):
        block = doc.raw[s:e]
        if not doc.prose[s:e].strip() or HEADING_RE.match(block):
            continue
        if "{footcite}" in block or FOOTREF_RE.search(block) or FOOTDEF_RE.match(block):
            continue
        if len(words(doc.prose[s:e])) < 12:
            continue
        found.append(Problem(doc.path, line_of(doc.raw, s), "paragraph without a note"))
    return found


# --------------------------------------------------------------------------- report


def notes_count(doc: Document) -> int:
    """Rendered notes: distinct footcite calls outside footnotes, plus MyST footnotes."""
    defs = [(s, e) for s, e in paragraphs(doc.raw) if FOOTDEF_RE.match(doc.raw[s:e])]
    outside = {c.raw for c in doc.citations if not any(s <= c.start < e for s, e in defs)}
    return len(outside) + len(set(doc.footnote_labels))


def running_words(doc: Document) -> int:
    """Words of running text, not counting footnotes."""
    total = 0
    for s, e in paragraphs(doc.raw):
        if not FOOTDEF_RE.match(doc.raw[s:e]):
            total += len(words(doc.prose[s:e]))
    return total


def report(docs: list[Document], bib: dict[str, str | None]) -> str:
    """A table per document: words, notes, citations per source, quotations, discursive notes."""
    keys = list(bib)
    head = ["document", "words", "notes", *keys, "quotes", "short q.", "disagr."]
    rows: list[list[str]] = []
    totals: Counter[str] = Counter()
    for doc in docs:
        per_key = Counter(k for c in doc.citations for k in c.keys)
        row = {
            "words": running_words(doc),
            "notes": notes_count(doc),
            **{k: per_key.get(k, 0) for k in keys},
            "quotes": len(checked_quotations(doc)),
            "short q.": len(doc.quotations) - len(checked_quotations(doc)),
            "disagr.": len(set(doc.footnote_labels)),
        }
        if doc.is_chapter:
            totals.update(row)
        name = doc.path.stem + (" *" if doc.is_chapter else "")
        rows.append([name, *(str(row[h]) for h in head[1:])])
    rows.append(["chapters (*)", *(str(totals[h]) for h in head[1:])])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [head, *rows]
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def find_sources(arg: str | None) -> Path | None:
    """The sources directory: the argument, else $SOURCES, else ../shared/sources."""
    for candidate in (arg, os.environ.get("SOURCES"), str(REPO.parent / "shared" / "sources")):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def run(book: Path, sources_dir: Path | None, want_report: bool = False) -> tuple[list[Problem], list[str]]:
    """Run every check; return problems and informational lines."""
    info: list[str] = []
    bib_path = book / "references.bib"
    bib = parse_bib(bib_path.read_text(encoding="utf-8"))
    docs = load_book(book)
    problems = check_citations(docs, bib, bib_path)
    if sources_dir is None:
        info.append("sources not found: quotation and copy checks skipped (set --sources or SOURCES)")
    else:
        sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(sources_dir.glob("*.txt"))}
        for key, name in bib.items():
            if name is None or name not in sources:
                problems.append(
                    Problem(
                        bib_path, 1, f"entry {key!r} names no source file found in {sources_dir}: {name!r}"
                    )
                )
        problems += check_quotations(docs, bib, sources)
        grams = source_ngrams(list(sources.values()))
        for doc in docs:
            problems += copy_runs(doc, grams)
    for doc in docs:
        if doc.is_chapter:
            info += [f"warning: {p}" for p in uncited_paragraphs(doc)]
    if want_report:
        info.append(report(docs, bib))
    return problems, info


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m scripts.textcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--book", default="book", help="book directory (default: book)")
    parser.add_argument("--sources", default=None, help="directory of the source texts")
    parser.add_argument("--report", action="store_true", help="print the per-document report")
    args = parser.parse_args(argv)
    book = Path(args.book)
    if not (book / "references.bib").exists():
        print(f"textcheck: {book / 'references.bib'} not found", file=sys.stderr)
        return 2
    problems, info = run(book, find_sources(args.sources), args.report)
    for line in info:
        print(line)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"textcheck: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("textcheck: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
