"""Book generator: a seed and a page count → a realistic MyST book directory (for the benchmark).

``generate_book(out, pages=300, seed=7)`` writes ``index.md`` (front matter, toctrees), a
preface, chapters of varied length, a glossary, a bibliography page, ``references.bib``
and small PNG figures drawn with Pillow. The prose is built from a grammar of clauses and
a vocabulary of a few hundred words, so no two sentences repeat and the text compresses
like real text, not like lorem ipsum. Every feature the editions handle appears at a
realistic density: footnotes (some called twice), ``{footcite}`` citations with
locators, figures with numbered captions, ``{index}`` directives and roles (with
sub-entries), glossary terms, ``{ref}``/``{numref}`` cross-references within and across
chapters, and Belarusian Cyrillic words. The same seed gives the same book, byte for byte.

    python -m scripts.genbook OUT --pages 100 [--seed 7]
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

# About this many words of text (notes, figures and headings around them) fill an A5 page
# of the print edition (measured: 240 → 98 pages for 100, 870 for 1,000 with front and
# back matter).
WORDS_PER_PAGE = 240
PAGES_PER_CHAPTER = 12

NOUNS = """river marsh village archive letter witness court prison family winter harvest
road bridge station teacher printer newspaper pamphlet meeting council library school
church market forest field border city square office report campaign lawyer trial
sentence verdict appeal petition signature photograph interview memory diary notebook
map ferry island mill barn orchard well chimney kitchen table lamp window door stair
typewriter manuscript translation dictionary grammar poem song choir festival museum
exhibition painter journalist editor publisher reader student professor neighbour
mother father brother sister cousin friend colleague volunteer prisoner guard judge
minister deputy mayor priest doctor nurse driver soldier farmer fisherman carpenter
weaver baker tailor smith""".split()
ADJECTIVES = """quiet old narrow long cold wet green grey patient careful stubborn brave
small distant wooden crowded empty official private secret public famous forgotten
early late difficult simple honest modest regional provincial northern southern
eastern western heavy light bright dark steady uncertain formal informal local
national foreign familiar strange""".split()
VERBS = """remembered described wrote signed carried kept printed collected visited
recorded questioned defended published translated copied hid delivered answered
reported gathered repaired opened closed crossed followed noticed counted read
organised argued explained""".split()
ADVERBS = """slowly quietly carefully openly often rarely later soon again patiently
firmly plainly briefly""".split()
PLACES = """Minsk Vilnius Hrodna Brest Homiel Mahilioŭ Viciebsk Pinsk Navahrudak Lida
Slonim Mazyr Baranavičy Turaŭ Polack""".split()
PEOPLE = """Alena Ihar Natalla Valiancin Hanna Siarhiej Tacciana Uladzimir Maryja Ales
Paŭlina Andrej Iryna Mikalaj Volha""".split()
BELARUSIAN = """вёска рэчка лес поле хата кніга ліст сям’я свабода праца школа памяць
дарога горад сад вечар восень зіма вясна лета""".split()
CONNECTIVES = ["Meanwhile", "Later", "In the spring", "That winter", "Even so",
               "Years afterwards", "At first", "By then", "In the end", "For a time",
               "According to the diary", "On the other hand"]
TERMS = {
    "samizdat": "Texts copied and passed from hand to hand, outside the censor's reach.",
    "voblasć": "A region, the largest administrative division of the country.",
    "rajon": "A district within a region.",
    "hramada": "A community or society; also the name of several associations.",
    "tutejšyja": "“The locals”: how many villagers once named themselves.",
    "kalhas": "A collective farm.",
    "zapaviednik": "A nature reserve closed to farming and building.",
    "łacinka": "The Latin alphabet for Belarusian.",
}
INDEX_TOPICS = ["archives", "courts", "schools", "newspapers", "rivers", "prisons",
                "elections", "letters", "translation", "music", "villages", "railways"]


@dataclass(frozen=True)
class GeneratedBook:
    """What was written: the directory and a few counts for the benchmark's table."""

    path: Path
    chapters: int
    words: int
    notes: int
    figures: int


class Prose:
    """Sentences from a small grammar: varied, readable, deterministic from the rng."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def noun_phrase(self) -> str:
        r = self.rng
        noun = r.choice(NOUNS)
        if r.random() < 0.5:
            noun = f"{r.choice(ADJECTIVES)} {noun}"
        if r.random() < 0.2:
            noun += f" of {r.choice(PLACES)}"
        return ("the " if r.random() < 0.7 else r.choice(["a ", "every ", "one "])) + noun

    def clause(self) -> str:
        r = self.rng
        subject = r.choice([self.noun_phrase(), r.choice(PEOPLE), r.choice(PEOPLE),
                            f"{r.choice(PEOPLE)} and {r.choice(PEOPLE)}"])
        verb = r.choice(VERBS)
        if r.random() < 0.3:
            verb = f"{r.choice(ADVERBS)} {verb}"
        tail = self.noun_phrase()
        if r.random() < 0.35:
            tail += r.choice([" in ", " near ", " beyond ", " outside "]) + r.choice(PLACES)
        if r.random() < 0.08:
            tail += f" (the word was *{r.choice(BELARUSIAN)}*)"
        return f"{subject} {verb} {tail}"

    def sentence(self) -> str:
        r = self.rng
        text = self.clause()
        if r.random() < 0.4:
            text += r.choice([", and ", ", but ", "; ", ", while ", " because "]) + self.clause()
        if r.random() < 0.2:
            text = f"{r.choice(CONNECTIVES)}, {text}"
        if r.random() < 0.05:
            text += f" in {r.randint(1921, 2023)}"
        return text[0].upper() + text[1:] + r.choice([".", ".", ".", ".", "!", "?"][:5])

    def words(self, text: str) -> int:
        return len(text.split())


def _figure_png(path: Path, rng: random.Random) -> None:
    """A small drawing: bands and circles in a few colours (a few KiB, like a line figure)."""
    from PIL import Image, ImageDraw

    width, height = 480, 300
    image = Image.new("RGB", (width, height), (248, 246, 240))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 7)):
        colour = tuple(rng.randint(40, 220) for _ in range(3))
        y = rng.randint(0, height)
        points = [(x, y + rng.randint(-40, 40)) for x in range(0, width + 60, 60)]
        draw.line(points, fill=colour, width=rng.randint(3, 12))
    for _ in range(rng.randint(2, 6)):
        x, y, r = rng.randint(0, width), rng.randint(0, height), rng.randint(8, 40)
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(30, 30, 30), width=2)
    image.save(path, optimize=False, compress_level=6)


def _bibliography(rng: random.Random, count: int = 24) -> tuple[str, list[str]]:
    entries, keys = [], []
    for i in range(count):
        key = f"src{i:02d}"
        keys.append(key)
        author = f"{rng.choice(PEOPLE)} {rng.choice(PLACES)}ski"
        title = " ".join(w.capitalize() for w in
                         [rng.choice(ADJECTIVES), rng.choice(NOUNS), "and", rng.choice(NOUNS)])
        kind = rng.choice(["book", "article", "misc"])
        fields = [f"  author = {{{author}}}", f"  title = {{{title}}}",
                  f"  year = {{{rng.randint(1950, 2024)}}}"]
        if kind == "book":
            fields.append(f"  publisher = {{{rng.choice(PLACES)} Press}}")
        elif kind == "article":
            fields.append(f"  journal = {{{rng.choice(ADJECTIVES).capitalize()} Review}}")
        else:
            fields.append("  note = {A typescript}")
        entries.append(f"@{kind}{{{key},\n" + ",\n".join(fields) + ",\n}\n")
    return "\n".join(entries), keys


def generate_book(out: Path, pages: int, seed: int = 7, title: str | None = None) -> GeneratedBook:
    """Write a book of about ``pages`` A5 pages into ``out`` (created; must be empty)."""
    rng = random.Random(seed * 1_000_003 + pages)
    prose = Prose(rng)
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(exist_ok=True)
    bib, keys = _bibliography(rng)
    (out / "references.bib").write_text(bib, encoding="utf-8")

    chapter_count = max(2, round(pages / PAGES_PER_CHAPTER))
    budget = pages * WORDS_PER_PAGE
    # chapter lengths vary (0.6×–1.4× the mean), then scale to the budget
    weights = [rng.uniform(0.6, 1.4) for _ in range(chapter_count)]
    lengths = [max(150, int(budget * w / sum(weights))) for w in weights]
    names = [f"ch{i + 1:03d}" for i in range(chapter_count)]
    sections: dict[str, list[str]] = {name: [] for name in names}
    figure_count = words_total = notes_total = 0

    (out / "index.md").write_text(
        f"---\ntitle: \"{title or f'A Generated Book of {pages} Pages'}\"\n"
        "author: \"Gen Erator\"\nlanguage: en-GB\ndate: 2024-05-01\n"
        "publisher: \"Benchmark Press\"\n"
        "description: \"A generated book for measuring the book builder.\"\n"
        "keywords: [benchmark, generated]\n---\n\n"
        "```{toctree}\n:caption: Front matter\n:maxdepth: 1\n\npreface\n```\n\n"
        "```{toctree}\n:caption: Chapters\n:maxdepth: 2\n:numbered:\n\n"
        + "\n".join(names) + "\n```\n\n"
        "```{toctree}\n:caption: Back matter\n:maxdepth: 1\n\nglossary\nbibliography\n"
        "genindex\n```\n", encoding="utf-8")
    preface = " ".join(prose.sentence() for _ in range(12))
    (out / "preface.md").write_text(
        f"---\nmatter: front\n---\n\n(preface)=\n# Preface\n\n{preface}"
        f"{{footcite}}`{keys[0]}`\n\nThe chapters begin with {{ref}}`{names[0]}`.\n",
        encoding="utf-8")

    for number, (name, length) in enumerate(zip(names, lengths, strict=True), start=1):
        rng_words = 0
        notes: list[str] = []
        body: list[str] = [f"({name})=", f"# {prose.noun_phrase().split(' ', 1)[1].title()}",
                           "", f"```{{index}} single: {rng.choice(PLACES)}", "```",
                           f"```{{index}} single: {rng.choice(INDEX_TOPICS)}; "
                           f"{rng.choice(NOUNS)}", "```", ""]
        section = 0
        reused_label = ""
        while rng_words < length:
            if rng_words == 0 or rng.random() < 0.07:
                section += 1
                label = f"{name}-s{section}"
                sections[name].append(label)
                heading = prose.noun_phrase().split(" ", 1)[1].capitalize()
                body += [f"({label})=", f"## {heading}", ""]
            sentences = [prose.sentence() for _ in range(rng.randint(3, 8))]
            roll = rng.random()
            if roll < 0.35:  # a note
                label = f"n{len(notes) + 1}"
                note = " ".join(prose.sentence() for _ in range(rng.randint(1, 2)))
                if rng.random() < 0.3:
                    note += f" {{footcite}}`{rng.choice(keys)}`"
                notes.append(f"[^{label}]: {note}")
                sentences[rng.randrange(len(sentences))] += f"[^{label}]"
                reused_label = reused_label or label
                rng_words += prose.words(note)
            elif roll < 0.5:  # a citation, sometimes with a locator
                key = rng.choice(keys)
                cite = (f"{key}{{p. {rng.randint(2, 400)}}}" if rng.random() < 0.5 else key)
                sentences[-1] += f"{{footcite}}`{cite}`"
            elif roll < 0.55 and reused_label:  # the same note called again
                sentences[-1] += f"[^{reused_label}]"
                reused_label = ""
            if rng.random() < 0.12:
                term = rng.choice(list(TERMS))
                sentences[0] += f" The {{term}}`{term}` mattered here."
            if rng.random() < 0.15:
                word = rng.choice(INDEX_TOPICS)
                sentences[-1] += f" The {{index}}`{word}` were part of it."
            if rng.random() < 0.015 and number > 1:  # a reference to an earlier chapter
                other = names[rng.randrange(number - 1)]
                target = rng.choice(sections[other]) if sections[other] else other
                sentences.append(f"See {{ref}}`{target}` in {{numref}}`Chapter %s <{other}>`.")
            elif rng.random() < 0.015 and sections[name]:
                sentences.append(f"Compare {{ref}}`{rng.choice(sections[name])}`.")
            paragraph = " ".join(sentences)
            rng_words += prose.words(paragraph)
            body += [paragraph, ""]
            if rng.random() < 0.04:
                figure_count += 1
                fig = f"fig{figure_count:03d}"
                _figure_png(out / "figures" / f"{fig}.png", rng)
                body += ["```{figure} " + f"figures/{fig}.png", f":name: {fig}",
                         f":alt: A drawing of {prose.noun_phrase()}.", ":width: 70%", "",
                         prose.sentence(), "```", "",
                         f"{{numref}}`{fig}` shows {prose.noun_phrase()}.", ""]
                rng_words += 60  # a figure takes the room of a few lines
            if rng.random() < 0.05:
                body += [f"```{{index}} single: {rng.choice(INDEX_TOPICS)}; "
                         f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}", "```",
                         f"```{{index}} single: {rng.choice(PLACES)}", "```", ""]
            if rng.random() < 0.04:
                body += ["> " + " ".join(prose.sentence() for _ in range(3)), ""]
        words_total += rng_words
        notes_total += len(notes)
        (out / f"{name}.md").write_text("\n".join(body + notes) + "\n", encoding="utf-8")

    glossary = "\n\n".join(f"{term}\n  {text}" for term, text in TERMS.items())
    (out / "glossary.md").write_text(
        "---\nmatter: back\n---\n\n(glossary)=\n# Glossary\n\n```{glossary}\n"
        f"{glossary}\n```\n", encoding="utf-8")
    (out / "bibliography.md").write_text(
        "---\nmatter: back\n---\n\n(bibliography)=\n# Bibliography\n\n```{bibliography}\n"
        ":all:\n```\n", encoding="utf-8")
    return GeneratedBook(out, chapter_count, words_total, notes_total, figure_count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.genbook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="the book directory to write")
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    book = generate_book(Path(args.out), args.pages, args.seed)
    print(f"{book.path}: {book.chapters} chapters, {book.words} words, {book.notes} notes, "
          f"{book.figures} figures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
