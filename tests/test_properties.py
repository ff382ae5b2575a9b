"""Property tests: the project's transforms on generated input never crash.

Either a build succeeds, or it fails with the project's clear error (exit 1, a message
naming the file), never with a traceback.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from conftest import FIXTURE_BOOK, run_build
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conf" / "ext"))
from citations import CitationSyntaxError, parse_targets  # noqa: E402
from safety import raw_html_problems  # noqa: E402

KEYS = st.sampled_from(["river-atlas", "field-notes", "no-such-key"])
WORDS = st.text(alphabet=st.sampled_from("abc Прыпяць łś{}\"',.-"), min_size=0, max_size=12)


@given(st.text(max_size=60))
def test_parse_targets_only_raises_its_own_error(text: str) -> None:
    try:
        targets = parse_targets(text)
    except CitationSyntaxError:
        return
    assert targets and all(t.key and "," not in t.key for t in targets)


@given(st.text(max_size=80))
def test_raw_html_check_never_crashes(html: str) -> None:
    assert isinstance(raw_html_problems(html), list)


@given(st.from_regex(r"<[a-z]{1,8}( [a-z]{1,6}=\"[^\"<>]{0,12}\")?>", fullmatch=True))
def test_raw_html_tags_outside_the_subset_are_refused(tag: str) -> None:
    name = tag[1:].split(" ")[0].rstrip(">")
    from safety import RAW_HTML_TAGS

    if name not in RAW_HTML_TAGS:
        assert raw_html_problems(tag)


def citation(key: str, pre: str, post: str) -> str:
    out = key
    if pre:
        out = "{" + pre + "}" + out
    if post:
        out += "{" + post + "}"
    return "{footcite}`" + out + "`"


PIECES = st.one_of(
    WORDS,
    st.builds(citation, KEYS, WORDS, WORDS),
    st.sampled_from(["[^n1]", "[^n2]", "*em*", "{index}`Prypiać`", "{ref}`sec-marsh`",
                     "<span>", "</span>", "<b>x</b>", "{term}`polder`"]),
)
PARAGRAPH = st.lists(PIECES, min_size=1, max_size=8).map(" ".join)
CHAPTER = st.builds(
    lambda paras, notes: "# Generated\n\n" + "\n\n".join(paras) + "\n\n" + notes,
    st.lists(PARAGRAPH, min_size=1, max_size=4),
    st.sampled_from(["", "[^n1]: A note with {footcite}`river-atlas`.\n",
                     "[^n1]: One.\n\n[^n2]: Two *em*.\n"]),
)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(CHAPTER)
def test_generated_chapters_build_or_fail_clearly(tmp_path_factory, chapter: str) -> None:
    root = tmp_path_factory.mktemp("gen")
    book = root / "book"
    shutil.copytree(FIXTURE_BOOK, book)
    (book / "two.md").write_text(chapter, encoding="utf-8")
    result = run_build(book, root / "out", "html")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    if result.returncode == 1:
        assert "two.md" in result.stderr or "index.md" in result.stderr or "one.md" in result.stderr
