"""Validators for the web edition: the Nu HTML Checker and axe-core in headless Chromium.

Both run on the built pages of ``BUILD/html`` (theme assets under ``_static`` are not
pages) and return a :class:`Findings` with one message per problem.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from scripts.findings import Findings, ValidatorMissing
from scripts.sphinx_run import ROOT

NODE_MODULES = ROOT / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_SCRIPT = ROOT / "scripts" / "axe_check.mjs"


def html_pages(html_dir: Path) -> list[Path]:
    """The edition's pages: every .html file outside ``_static``/``_sources``."""
    return sorted(p for p in html_dir.rglob("*.html")
                  if not {"_static", "_sources", "_images"} & set(p.relative_to(html_dir).parts))


def run_vnu(html_dir: Path) -> Findings:
    """Nu HTML Checker (npm vnu-jar, run with Java) on every page: errors fail; its
    warnings ("consider using…") are kept as advice."""
    if not VNU_JAR.is_file():
        raise ValidatorMissing(f"{VNU_JAR} not found: run `make check` (npm ci) first")
    pages = html_pages(html_dir)
    proc = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always",
         *map(str, pages)],
        capture_output=True, text=True, timeout=600,
    )
    findings = Findings("Nu HTML Checker", checked=len(pages))
    report = json.loads(proc.stderr or proc.stdout or '{"messages": []}')
    for msg in report.get("messages", []):
        where = msg.get("url", "").replace("file:", "")
        text = f"{where}:{msg.get('lastLine', '?')}: {msg.get('message')}"
        if msg.get("type") == "error":
            findings.errors.append(text)
        elif msg.get("subType") == "warning":
            # the checker's own "consider…" advice (much of it about the theme's markup)
            findings.advice.append(text)
    return findings


def run_axe(html_dir: Path) -> Findings:
    """axe-core in headless Chromium on every page: each violation is an error."""
    if not (NODE_MODULES / "axe-core").is_dir():
        raise ValidatorMissing("axe-core not installed: run `make check` (npm ci) first")
    chromium = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium")
    if not chromium:
        raise ValidatorMissing("chromium not found: run `make check` to install it")
    pages = html_pages(html_dir)
    proc = subprocess.run(
        ["node", str(AXE_SCRIPT), *map(str, pages)],
        capture_output=True, text=True, timeout=600,
        env=os.environ | {"PUPPETEER_EXECUTABLE_PATH": chromium},
    )
    findings = Findings("axe-core", checked=len(pages))
    seen = 0
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            continue
        result = json.loads(line)
        seen += 1
        for v in result["violations"]:
            findings.errors.append(
                f"{result['page']}: {v['id']} ({v['impact']}): {v['help']} at "
                + ", ".join(v["nodes"])
            )
    if seen != len(pages):
        findings.errors.append(f"axe-core did not finish: {proc.stderr.strip()[-2000:]}")
    return findings
