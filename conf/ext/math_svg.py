"""Math for the print and EPUB editions: LaTeX in ``{math}`` roles and directives → inline SVG.

The web edition keeps Sphinx's MathJax. The print HTML and the EPUB's XHTML have no
scripts, so MathJax would leave the LaTeX source on the page; this extension registers an
HTML math renderer (``book_svg``) that the ``printhtml`` and ``bookepub`` builders select.
It sets each formula with ziamath (pure Python, the STIX Two Math font it ships) as an
``<svg>`` drawn in ``currentColor``, sized in ``em`` so that it follows the text around it,
and gives it ``role="img"`` with the LaTeX source as its accessible name (EPUB:
``describedMath``). A numbered display formula gets its number beside it
(``span.eqno``), as on the web.

Sizes are attributes of the ``<svg>`` (its width, height and viewBox); how formulas sit
in the line and in a display is in the editions' CSS (no inline styles).
A formula ziamath cannot parse is a warning with the document and line when the document
is read, in every edition, which fails the build like any other broken input.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from docutils import nodes
from lxml import etree
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number
from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

RENDERER = "book_svg"
# ziamath's units per em: the formula is laid out at this size and scaled to 1em.
_SIZE = 10.0
# Half the x-height of the book faces (EB Garamond: 0.4 em), where CSS's "middle" is.
_MIDDLE = 0.2
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')


class MathError(ValueError):
    """A formula that cannot be set."""


@dataclass(frozen=True)
class SetFormula:
    """One formula set as SVG (ziamath's markup, its viewBox in ziamath's units) and its
    size in em."""

    svg: str
    viewbox: tuple[float, float, float, float]
    width: float
    height: float


@functools.lru_cache(maxsize=4096)
def set_formula(latex: str, display: bool = False) -> SetFormula:
    """Set ``latex`` with ziamath; raise :class:`MathError` when it cannot be parsed.

    An inline formula's box is made to extend as far above the middle of the lower-case
    letters as below it, so that ``vertical-align: middle`` (in the editions' CSS) puts its
    baseline on the line's: no per-formula style is needed."""
    import ziafont
    import ziamath

    ziafont.config.svg2 = False  # plain paths, no <symbol> ids to clash between formulas
    try:
        svg = ziamath.Latex(latex, size=_SIZE, inline=not display, color="currentColor").svg()
    except Exception as err:  # ziamath raises many kinds for bad input
        raise MathError(f"cannot set the formula {latex!r}: {err or type(err).__name__}") from err
    found = _VIEWBOX.search(svg)
    if found is None:
        raise MathError(f"cannot set the formula {latex!r}: no viewBox in ziamath's output")
    x, top, width, height = (float(v) for v in found.groups())
    if not display:
        ascent, depth = -top, height + top  # above and below the baseline (y = 0)
        middle = _MIDDLE * _SIZE
        half = max(ascent - middle, depth + middle)
        top, height = -(middle + half), 2 * half
    return SetFormula(svg=svg, viewbox=(x, top, width, height),
                      width=width / _SIZE, height=height / _SIZE)


def svg_markup(formula: SetFormula, latex: str, classes: str) -> str:
    """The ``<svg>`` element to write into HTML or XHTML, labelled with its source and
    sized in em (ziamath's own width and height are in its units)."""
    svg = etree.fromstring(formula.svg)
    svg.attrib.update({
        "class": classes, "role": "img", "aria-label": " ".join(latex.split()),
        "width": f"{formula.width:.3f}em", "height": f"{formula.height:.3f}em",
        "viewBox": " ".join(f"{v:.3f}" for v in formula.viewbox),
    })
    return etree.tostring(svg, encoding="unicode")


def display_latex(node: nodes.math_block) -> str:
    """The LaTeX of a display block as one formula: several equations (separated by blank
    lines) or one with line breaks become an ``aligned`` block, as MathJax would set it."""
    text = node.astext()
    if node.get("no-wrap", node.get("nowrap", False)):
        return text
    parts = [part.strip() for part in text.split("\n\n") if part.strip()]
    if len(parts) == 1 and r"\\" not in parts[0]:
        return parts[0]
    return r"\begin{aligned}" + r" \\ ".join(parts) + r"\end{aligned}"


def _set_or_warn(self: HTML5Translator, node: nodes.Element, latex: str,
                 display: bool) -> SetFormula | None:
    try:
        return set_formula(latex, display)
    except MathError as err:
        logger.warning(str(err), location=node, type="math", subtype="latex")
        return None


def visit_inline(self: HTML5Translator, node: nodes.math) -> None:
    latex = node.astext()
    formula = _set_or_warn(self, node, latex, display=False)
    self.body.append(self.starttag(node, "span", "", CLASS="math"))
    self.body.append((self.encode(latex) if formula is None
                      else svg_markup(formula, latex, "math-svg")) + "</span>")
    raise nodes.SkipNode


def visit_block(self: HTML5Translator, node: nodes.math_block) -> None:
    latex = display_latex(node)
    self.body.append(self.starttag(node, "div", CLASS="math math-display"))
    if node.get("number"):
        # the print edition numbers its equations before it renames their ids
        number = (node.get("eqnumber") or get_node_equation_number(self, node)
                  or str(node["number"]))
        self.body.append(f'<span class="eqno">({self.encode(number)})</span>')
    formula = _set_or_warn(self, node, latex, display=True)
    if formula is None:
        self.body.append(f"<pre>{self.encode(latex)}</pre>")
    else:
        self.body.append(svg_markup(formula, node.astext(), "math-svg"))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def check_formulas(app: Sphinx, doctree: nodes.document) -> None:
    """doctree-read, every edition: a formula that cannot be set fails the whole build,
    also the web edition (MathJax would only show an error to the reader)."""
    for node in doctree.findall(lambda n: isinstance(n, nodes.math | nodes.math_block)):
        display = isinstance(node, nodes.math_block)
        try:
            set_formula(display_latex(node) if display else node.astext(), display)
        except MathError as err:
            logger.warning(str(err), location=node, type="math", subtype="latex")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_html_math_renderer(RENDERER, (visit_inline, None), (visit_block, None))
    app.connect("doctree-read", check_formulas)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
