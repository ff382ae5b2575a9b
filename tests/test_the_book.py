"""End-to-end: the biography itself (``book/``), built as ``make`` builds it and checked by
everything ``make check`` runs — the validators of each edition and the book-text checks
against ``../shared/sources`` (citations, verbatim quotations, no copied runs)."""

from __future__ import annotations

import pytest

from scripts.check import checks_for
from scripts.findings import ValidatorMissing
from scripts.textcheck import find_sources
from tests.conftest import ROOT, run_build

BOOK = ROOT / "book"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    build = tmp_path_factory.mktemp("the-book")
    result = run_build(BOOK, build, env={"SOURCE_DATE_EPOCH": "1764547200"})
    assert result.returncode == 0, result.stderr
    return build, result.stdout


def test_every_note_is_on_the_page_of_its_call(built) -> None:
    _build, stdout = built
    assert "notes: all " in stdout and "on the page of their call" in stdout, stdout


def test_sources_are_beside_the_repository() -> None:
    # the text checks below would be skipped without them: fail loudly instead
    assert find_sources(None) is not None, "../shared/sources not found"


def test_every_check_of_make_check_passes(built) -> None:
    build, _stdout = built
    failures, missing, ran = [], [], []
    for check in checks_for(build, BOOK):
        try:
            findings = check.run()
        except ValidatorMissing as err:
            missing.append(f"{check.edition} {check.name}: {err}")
            continue
        ran.append(check.name)
        if not findings.ok:
            failures.append(f"{check.edition} {check.name}: "
                            + "; ".join((findings.errors + findings.warnings)[:10]))
    # calibre is installed by `make check` only; every other validator runs here
    assert all("calibre" in line for line in missing), missing
    assert {"EPUBCheck", "Ace by DAISY", "Nu HTML Checker",
            "citations, quotations, copying"} <= set(ran), ran
    assert failures == []
