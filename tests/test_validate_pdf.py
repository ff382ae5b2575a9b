"""The text-placement check of ``make check`` (scripts/validate_pdf.py) on small PDFs made
with WeasyPrint: a list that cannot break runs out of its column over the next one."""

from __future__ import annotations

from pathlib import Path

from weasyprint import HTML

from scripts.validate_pdf import check_text_placement, overlapping

COLUMNS = ("<style>@page {{ size: A6; margin: 10mm }} div {{ columns: 2; column-gap: 4mm; "
           "font: 9pt serif }}</style><div><p>{first}</p><p>{second}</p></div>")


def _pdf(tmp_path: Path, separator: str) -> Path:
    numbers = separator.join(str(n) for n in range(100, 160, 3))
    words = " ".join(f"word{n}" for n in range(60))
    path = tmp_path / "columns.pdf"
    HTML(string=COLUMNS.format(first="archives" + separator + numbers, second=words)
         ).write_pdf(path)
    return path


def test_a_line_that_cannot_break_is_found_over_the_next_column(tmp_path: Path) -> None:
    findings = check_text_placement(_pdf(tmp_path, ",\u00a0"))
    assert findings.checked == 1
    assert any("printed over each other" in e for e in findings.errors), findings.errors


def test_a_list_that_breaks_after_its_commas_is_clean(tmp_path: Path) -> None:
    findings = check_text_placement(_pdf(tmp_path, ", "))
    assert findings.errors == [] and findings.checked == 1


def test_overlap_needs_a_real_share_of_the_smaller_word() -> None:
    assert overlapping([(0, 0, 10, 10, "a"), (9.5, 0, 20, 10, "b")]) == []  # kerning
    assert overlapping([(0, 0, 10, 10, "a"), (5, 2, 12, 9, "b")]) == [("a", "b")]
    assert overlapping([(0, 0, 10, 10, "a"), (0, 20, 10, 30, "b")]) == []  # lines apart
