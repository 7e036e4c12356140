"""An answer stated by an option's text or value instead of its letter.

Many multiple-choice responses end with the value ("\\boxed{10^{-4} eV}", "the answer is 8")
rather than the letter. When the options are known, the stated answer names the option it
is equivalent to, by the same equivalence the math grader uses, with units and "about"
marks dropped on both sides; exactly one equivalent option gives its letter, none or several
give no answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .equivalence import decide_many, prepare

LETTERS = "ABCD"
MAX_OPTION_CHARS = 500

_APPROX_RE = re.compile(r"^(?:~|\\sim|\\approx|≈|about|approximately|roughly)\s*", re.IGNORECASE)
_UNIT_RE = re.compile(
    r"^(?P<value>.*?[\d}])\s*(?:\\,|\\;|\\ |~)?\s*"
    r"(?:\\(?:text|mathrm)\{[^{}]*\}|[A-Za-zµΩÅ°%]+(?:[/^·*.-]?[A-Za-zµΩÅ°0-9{}-]+)*)\s*$"
)
_ARTICLE_RE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_PROSE_RE = re.compile(r"^[A-Za-z][A-Za-z ,'()-]*$")
"""Words only: compared as text, never sent to a symbolic comparison."""


def comparable(text: str) -> str:
    """``~ 10^{-4} eV`` -> ``10^{-4}``; ``The Golgi.`` -> ``golgi``-like text for equality."""
    value = " ".join(text.split()).strip().rstrip(".").strip("*$ ")
    value = _APPROX_RE.sub("", value)
    match = _UNIT_RE.match(value)
    if match and any(c.isdigit() for c in match.group("value")):
        value = match.group("value")
    return _ARTICLE_RE.sub("", value).strip()


def options_named(
    stated: Sequence[str], options: Sequence[Sequence[str]], timeout: float,
    workers: int | None = None,
) -> list[tuple[str | None, str]]:
    """For each stated answer and its options: (the one equivalent option's letter, or None,
    and why). All comparisons of all rows go to the equivalence check as one batch."""
    pairs = []
    where: list[tuple[int, int]] = []
    same_text: set[tuple[int, int]] = set()
    for row, (answer, row_options) in enumerate(zip(stated, options, strict=True)):
        mine = comparable(answer)
        for index, option in enumerate(row_options[: len(LETTERS)]):
            theirs = comparable(option[:MAX_OPTION_CHARS])
            if not mine or not theirs:
                continue
            if mine.casefold() == theirs.casefold():
                same_text.add((row, index))
                continue
            if _PROSE_RE.match(mine) or _PROSE_RE.match(theirs):
                continue
            pairs.append((prepare(theirs), prepare(mine)))
            where.append((row, index))
    equivalent = set(same_text)
    for spot, (ok, _) in zip(where, decide_many(pairs, timeout, workers), strict=True):
        if ok:
            equivalent.add(spot)
    out = []
    for row, answer in enumerate(stated):
        count = min(len(options[row]), len(LETTERS))
        letters = [LETTERS[i] for i in range(count) if (row, i) in equivalent]
        shown = answer if len(answer) <= 60 else answer[:59] + "\u2026"
        if len(letters) == 1:
            out.append((letters[0], f"stated answer {shown!r} is option {letters[0]}"))
        elif letters:
            out.append((None, f"stated answer {shown!r} matches options {', '.join(letters)}"))
        else:
            out.append((None, f"stated answer {shown!r} matches no option"))
    return out
