"""``make check``: run every validator a publisher would run on the built editions.

Reads ``BUILD/html``, ``BUILD/pdf/*.pdf`` and ``BUILD/epub/*.epub`` (build them first with
``make``), runs the validators of each edition and prints one table, a row per check.
Exit status 1 when any check finds an error or a warning, or an edition is missing.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts.findings import Findings, ValidatorMissing
from scripts.validate_html import run_axe, run_vnu


@dataclass
class Check:
    edition: str
    name: str
    run: Callable[[], Findings]


def checks_for(build: Path, book: Path) -> list[Check]:
    html = build / "html"
    if (html / "index.html").is_file():
        found: list[Check] = [
            Check("html", "Nu HTML Checker", lambda: run_vnu(html)),
            Check("html", "axe-core (Chromium)", lambda: run_axe(html)),
        ]
    else:
        found = [Check("html", "built", lambda: _missing("html", build))]
    if _has_source_texts(book):
        found.append(Check("book", "citations, quotations, copying", lambda: _textcheck(book)))
    for edition, suffix in (("epub", ".epub"), ("pdf", ".pdf")):
        built = sorted((build / edition).glob("*" + suffix))
        if not built:
            found.append(Check(edition, "built", _bind(lambda b, e=edition: _missing(e, b), build)))
            continue
        validators = importlib.import_module(f"scripts.validate_{edition}")
        found += [Check(edition, name, _bind(fn, built[0])) for name, fn in validators.CHECKS.items()]
    return found


def _has_source_texts(book: Path) -> bool:
    """The text checks apply to a book whose bibliography names its source texts
    (a ``source = {file.txt}`` field), as the biography's does."""
    from scripts import textcheck

    bib = book / "references.bib"
    return bib.is_file() and any(textcheck.parse_bib(bib.read_text(encoding="utf-8")).values())


def _textcheck(book: Path) -> Findings:
    from scripts import textcheck

    sources = textcheck.find_sources(None)
    problems, info = textcheck.run(book, sources)
    findings = Findings("book text (scripts/textcheck.py)", checked=len(textcheck.load_book(book)),
                        errors=[str(p) for p in problems],
                        warnings=[line for line in info if line.startswith("warning")])
    findings.advice = [line for line in info if not line.startswith("warning")]
    return findings


def _bind(fn: Callable[[Path], Findings], path: Path) -> Callable[[], Findings]:
    return lambda: fn(path)


def _missing(edition: str, build: Path) -> Findings:
    return Findings("built", errors=[f"no {edition} in {build}/{edition}: run `make` first"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.check", description=__doc__)
    parser.add_argument("--book", default="book")
    parser.add_argument("--build", default="_build")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every message")
    args = parser.parse_args(argv)
    build, book = Path(args.build), Path(args.book)
    rows: list[tuple[str, str, str, Findings | None]] = []
    for check in checks_for(build, book):
        try:
            findings = check.run()
            status = "ok" if findings.ok else "FAIL"
        except ValidatorMissing as err:
            findings = Findings(check.name, errors=[str(err)])
            status = "MISSING"
        rows.append((check.edition, check.name, status, findings))
    width = max(len(r[1]) for r in rows)
    print(f"{'edition':8} {'check':{width}} {'result':7} errors warnings checked")
    for edition, name, status, f in rows:
        assert f is not None
        print(f"{edition:8} {name:{width}} {status:7} {len(f.errors):6} {len(f.warnings):8} "
              f"{f.checked:7}")
    for *_, f in rows:
        if f is not None and f.advice:
            print(f"\n{f.tool}: {len(f.advice)} pieces of advice (not failures)"
                  + ("" if args.verbose else "; run with -v to see them"))
            if args.verbose:
                for msg in f.advice:
                    print(f"  {msg}")
    failed = [f for *_, f in rows if f is not None and not f.ok]
    for f in failed:
        shown = f.errors + f.warnings
        limit = None if args.verbose else 10
        print(f"\n{f.tool}:")
        for msg in shown[:limit]:
            print(f"  {msg}")
        if limit and len(shown) > limit:
            print(f"  … {len(shown) - limit} more (run with -v)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
