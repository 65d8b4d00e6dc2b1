"""``manage.py check_demo_copy SEEDS_DIR``: is every sentence of the demo content our own?

The demo content takes facts from the two source pages the site was specified from
(``shared/seeds``, outside this repository); this compares the words.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic_site.apps import app_modules

# A run of this many consecutive words of a seed sentence counts as copied.
WINDOW = 8


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, punctuation dropped, single spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^\w']+", " ", text).split())


def seed_sentences(seeds: Path) -> list[str]:
    """The seeds' sentences and lines of WINDOW words or more, normalised."""
    fragments = []
    for path in sorted(seeds.glob("*.txt")):
        for piece in re.split(r"[.?!]+(?=\s|$)|\n", path.read_text(encoding="utf-8")):
            normal = normalise(piece)
            if len(normal.split()) >= WINDOW:
                fragments.append(normal)
    return fragments


class _Blocks(HTMLParser):
    """The text of each block element (p, li, h2, h3) on its own."""

    BLOCKS = {"p", "li", "h2", "h3"}

    def __init__(self):
        super().__init__()
        self.blocks: list[str] = []
        self._open: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self._open.append([])

    def handle_endtag(self, tag):
        if tag in self.BLOCKS and self._open:
            self.blocks.append("".join(self._open.pop()))

    def handle_data(self, data):
        if self._open:
            self._open[-1].append(data)


def text_blocks(text: str) -> list[str]:
    """An HTML body split into its blocks (so no match spans two), or plain text as is."""
    if "<" not in text:
        return [text]
    parser = _Blocks()
    parser.feed(text)
    parser.close()
    return parser.blocks


def demo_text() -> list[str]:
    """Every block of text in the apps' demo content (each app's ``demo_content.demo_text``)."""
    units = []
    for module in app_modules("demo_content"):
        for text in getattr(module, "demo_text", list)():
            units += text_blocks(text)
    return [normal for unit in units if (normal := normalise(unit))]


def copied_prose(sentences: list[str], ours: list[str]) -> list[str]:
    """Each run of WINDOW consecutive words of a seed sentence found in our text."""
    haystack = " | ".join(ours)
    return sorted(
        {
            run
            for sentence in sentences
            for words in [sentence.split()]
            for i in range(len(words) - WINDOW + 1)
            if (run := " ".join(words[i : i + WINDOW])) in haystack
        }
    )


class Command(BaseCommand):
    help = (
        "Compare the demo content's text with the source pages it was written from (a folder "
        f"of .txt files): fails when any {WINDOW} consecutive words of theirs appear in ours."
    )

    def add_arguments(self, parser):
        parser.add_argument("seeds", type=Path, help="The folder of seed pages (*.txt).")

    def handle(self, *args, seeds: Path, **options):
        sentences = seed_sentences(seeds)
        if not sentences:
            raise CommandError(f"No seed sentences found in {seeds}/*.txt: nothing to compare.")
        copied = copied_prose(sentences, demo_text())
        if copied:
            lines = "\n".join(f"  {run}" for run in copied)
            raise CommandError(f"The demo content repeats the seeds' words:\n{lines}")
        self.stdout.write(
            f"Our own words: no run of {WINDOW} words from {len(sentences)} seed sentences "
            "appears in the demo content."
        )
