"""The one Sphinx configuration for every book and every edition.

``sphinx-build -c conf BOOK OUT`` with a builder per edition: ``html`` (the web site),
and the edition builders defined in ``conf/ext/``. Book metadata (title, author,
language, …) comes from the front matter of ``BOOK/index.md`` (see ``ext/bookmeta.py``);
nothing here is specific to one book.
"""

import hashlib
import sys
from pathlib import Path

CONF = Path(__file__).resolve().parent
sys.path.insert(0, str(CONF / "ext"))

# Every module in conf/ext is a local extension: no list to keep in step with the folder.
_local = sorted(p.stem for p in (CONF / "ext").glob("*.py") if not p.name.startswith("_"))
extensions = ["myst_parser", "sphinxcontrib.bibtex", *_local]

# A digest of this configuration and its extensions: Sphinx re-reads every document when
# it changes, so a build never mixes doctrees made by older code with newer code.
book_toolchain = hashlib.sha256(b"".join(
    p.read_bytes() for p in sorted([Path(__file__), *(CONF / "ext").glob("*.py")])
)).hexdigest()[:16]

# -- Sources ---------------------------------------------------------------------------
root_doc = "index"
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "**/.*", ".*", "**/_build"]
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "smartquotes", "replacements"]
myst_heading_anchors = 3
myst_footnote_transition = False
numfig = True
numfig_format = {"figure": "Figure %s", "table": "Table %s", "code-block": "Listing %s"}
smartquotes = True
nitpicky = True
keep_warnings = False
suppress_warnings: list[str] = []

# -- Citations (bibtex_bibfiles is set from the book dir by ext/bookmeta.py) -----------
bibtex_bibfiles: list[str] = []
bibtex_default_style = "book"  # ext/citations.py: plain, titles kept as spelled
bibtex_reference_style = "label"

# -- Web edition -------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_math_renderer = "mathjax"  # the print and EPUB builders set math as SVG (ext/math_svg.py)
templates_path = [str(CONF / "templates" / "web")]
html_static_path = [str(CONF / "css")]
html_css_files = ["web.css"]
html_copy_source = False
html_show_sourcelink = False
html_show_sphinx = False
html_theme_options = {
    "use_sidenotes": False,  # ext/web_edition.py makes side notes
    "home_page_in_toc": False,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_source_button": False,
    "navigation_with_keys": False,
    # the right margin belongs to the notes; the page's sections are in the left sidebar
    "secondary_sidebar_items": [],
    "show_navbar_depth": 1,
    "max_navbar_depth": 2,
    "collapse_navbar": False,
}
html_sidebars = {
    "**": ["book-title.html", "sbt-sidebar-nav.html",
           "downloads.html"]
}
