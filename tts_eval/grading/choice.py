"""The multiple-choice letter a response commits to, and the words that committed it.

A letter counts only when the response commits to it: a box (``\\boxed{C}``), an answer
statement ("the correct option is **A**", "Answer: (B)", "the incorrect statement is D",
"which corresponds to option (B)"), a letter said to be right ("C is the best choice", "B
seems the most plausible"), a choice made ("I'll go with D"), a bold conclusion ending in the
letter, or a response that is nothing but the letter. The last commitment wins (models
revise). Mentions are not commitments: a response that discusses options and chooses none,
hedges between two letters ("either C or D", "the answers are B and D"), or says no option
is correct has no answer, so a hedge never becomes a vote.

Pure string work over the response's tail, linear in its length: responses are hostile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .extract import last_boxed
from .normalize import canonical_choice

TAIL_CHARS = 20_000
"""Commitments are looked for only at the end of a response (answers come last)."""

_SEP = (
    r"(?:\s|\*|_|:|=|\$|\\text(?:bf)?\{|\\mathrm\{|\\mathbf\{|\{"
    r"|\b(?i:option|choice|letter)\b)*+"
)
_LETTER = r"\(?([A-D])\)?(?![\w∞])"
"""A letter standing alone: not the start of a name such as ``D∞h``, ``C2v`` or ``Dimethyl``."""
_WORDS = r"(?:[^.\n?!]|\.(?=\d))"
"""Characters within one sentence (a decimal point does not end it)."""
_NOUN = r"(?i:answer|option|choice|statement|selection|pick|match)"
_VERB = r"(?i:is|are|would\s+be|will\s+be|should\s+be|must\s+be)"
_GOOD = (
    r"(?i:(?:most|best|least)\s+[a-z]+|correct|right|best|plausible|likely|appropriate|"
    r"accurate|closest|true|valid)\b"
)

_INTRODUCED_LETTER = (
    # a letter named as an option, or opening a sentence or line: not a label such as
    # "reactant A" or "TsOH (B)", which GPQA questions use for compounds
    r"(?:(?i:option|choice|answer)\s*[*_]*\(?([A-D])\)?"
    r"|(?:^|(?<=[.:!?,])\s+|\n)[ \t>*_-]*\(?([A-D])\)?)"
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # "the correct option is **A**", "the closest answer to this is option D", "the
    # incorrect statement is C" (the statement the question asks for); not plurals ("the
    # other options are less likely: **A.** ..." lists, not chooses)
    ("answer statement", re.compile(
        r"\b" + _NOUN + r"\b(?:(?![A-D](?![A-Za-z0-9]))" + _WORDS + r"){0,80}?\b" + _VERB + r"\b"
        + _SEP + r"(?:(?i:either)\s+)?" + _SEP + _LETTER
    )),
    # "Answer: (B)", "**Final answer:** D", "Correct option: C"
    ("answer statement", re.compile(
        r"\b(?i:answer|(?:correct|final|best)\s+(?:option|choice))\s*[*_]*:" + _SEP + _LETTER
    )),
    # "C is the best choice", "Option (B) seems the most plausible", "option D is correct",
    # "Option C provides the most efficient route"
    ("letter called right", re.compile(
        _INTRODUCED_LETTER + r"[*_]*(?:\s*\([^()\n]{1,120}\))?(?:,[^,.\n]{1,80},)?\s+"
        r"(?i:is|seems|appears|looks|provides|offers|gives|yields|represents|describes|fits)"
        r"\s+(?:to\s+be\s+)?"
        r"(?:(?i:the|a)\s+)?(?:" + _GOOD + r"|(?:[\w-]+\s+){0,2}(?i:statement)\b)",
        re.MULTILINE,
    )),
    # "I'll go with D", "I choose (B)", "I would reluctantly select:\nB. ..."
    ("choice made", re.compile(
        r"\b(?i:go(?:ing)?\s+with|choose|chose|select|selecting|pick|picking|opt\s+for)\b"
        r"(?:\s+(?i:the))?" + _SEP + _LETTER
    )),
    # "which corresponds to option (B)", "given by option A", "closest to option **D.**"
    ("option named", re.compile(
        r"\b(?i:corresponds?\s+to|correspond(?:ing)?\s+to|given\s+by|matches|matching|"
        r"(?:closest|closer|nearest)\s+(?:match\s+)?to)"
        r"\s+(?i:the\s+)?(?i:option|choice|answer)\s*" + _SEP + _LETTER
    )),
    # "... is:\n\n**B. Warm atomic medium**", "is approximately:\n**Option C: ~ 37.5 days**",
    # "the best approach is Option B, which ...": the stated option
    ("option stated", re.compile(
        r"\b(?:is|are|be|(?i:closest|nearest)\s+to)(?:\s+(?i:most\s+)?[a-z]+ly)?\s*+:?\s*+[*_]*+\s*+"
        r"(?:\(?([A-D])[.):](?=\s)|(?i:option|choice)\s+\(?([A-D])\)?(?![A-Za-z0-9]))"
    )),
    # "the closest answer is 22 (option D)", "the least likely would be the pre-replication
    # complex (Option D)": a value stated as the answer, then its option
    ("option in parentheses", re.compile(
        r"\b(?i:answer|choice|option|match|matches|correct|best|most|least|likely|therefore|"
        r"thus|hence|final)\b" + _WORDS + r"{0,100}?\b(?:is|be|matches)\b" + _WORDS + r"{0,120}?"
        r"\((?i:option|choice)\s+([A-D])\)"
    )),
    # "... is approximately **~2.25 (Option A)**.": the option named as the sentence ends
    ("option in parentheses", re.compile(
        r"\b(?:is|be)\b(?:[^.?!]|\.(?=\d)){0,160}?\((?i:option|choice)\s+([A-D])\)[*_]*[.!]?[*_]*"
        r"[ \t]*(?:\n|$)"
    )),
    # "**Therefore, the final product is B.**": a bold conclusion ending in the letter
    ("bold conclusion", re.compile(
        r"\*\*[^*\n]{0,160}?(?:\b(?:is|be|answer|option|choice)\b|:)\s*\(?([A-D])\)?\.?\*\*"
        r"\.?[ \t]*(?:\n|$)"
    )),
)

_HEDGE_RE = re.compile(
    _WORDS + r"{0,60}?\b(?i:or|and|nor)\b(?:" + _WORDS + r"{0,40}?\b(?i:option|choice)\s+"
    r"|\s+)[*_]*\(?([A-D])\)?(?![A-Za-z0-9])"
)
_BUT_RE = re.compile(_WORDS + r"{0,120}?\b(?i:but|however|although|though|except)\b")
""""B is correct, but the catalyst should be TsOH": a letter considered, then rejected.
(Both are used with ``pattern.match(text, pos)``, which anchors at ``pos``.)"""
_REJECTED_RE = re.compile(
    r"[)*_\s]*(?:,\s*(?i:which|that)\s+|[.;:]\s*(?i:it|this|that)\s+)?"
    r"(?i:is|are|was|seems|would\s+be)\s+"
    r"(?i:not|n't|incorrect|wrong|false|unlikely|ruled\s+out|eliminated|excluded)\b"
)
""""B is not correct": the letter named, then rejected."""
_EITHER_RE = re.compile(r"\b(?i:either)\b")
_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
_ONLY_LETTER_RE = re.compile(
    r"[\s*(\[]*(?:(?i:option|choice|answer)\s*:?\s*)?[A-Da-d][\s*)\].:]*"
)


@dataclass(frozen=True, slots=True)
class ChoiceFinding:
    """The letter (None: no commitment), the rule that found it and the words it came from."""

    letter: str | None
    rule: str
    sentence: str


def _sentence_around(text: str, start: int, end: int) -> str:
    left = max(text.rfind("\n", 0, start), text.rfind(". ", 0, start))
    right_candidates = [i for i in (text.find("\n", end), text.find(". ", end)) if i >= 0]
    right = min(right_candidates) if right_candidates else len(text)
    return " ".join(text[left + 1 : right + 1].split())[:300]


def _hedged(text: str, match: re.Match[str], letter: str, group: int) -> bool:
    """A commitment to two letters at once ("either C or D", "the answers are B and D")."""
    if _EITHER_RE.search(text, max(match.start(), match.start(group) - 25), match.start(group)):
        return True
    other = _HEDGE_RE.match(text, match.end(group))
    return other is not None and other.group(1) != letter


def _box_letter(text: str) -> tuple[int, str] | None:
    boxed = last_boxed(text)
    if not boxed:
        return None
    letter = canonical_choice(boxed)
    if not letter:
        return None
    starts = [m.start() for m in _BOX_RE.finditer(text)]
    return (starts[-1] if starts else 0), letter


def find_choice(response: str) -> ChoiceFinding:
    """The letter ``response`` commits to last, with the rule and sentence that decided."""
    text = response[-TAIL_CHARS:]
    # (where the letter is, where its words start and end, the letter, the rule, hedged):
    # the last letter committed to wins; at one place, the first rule that finds it names it
    best: tuple[int, int, int, str, str, bool] | None = None
    boxed = _box_letter(text)
    if boxed is not None:
        start, letter = boxed
        best = (start, start, start + 7, letter, "boxed letter", False)
    for rule, pattern in _RULES:
        for match in pattern.finditer(text):
            group = next(i for i in range(1, len(match.groups()) + 1) if match.group(i))
            letter, at, end = match.group(group), match.start(group), match.end(group)
            if rule == "letter called right" and _BUT_RE.match(text, match.end()):
                continue
            if _REJECTED_RE.match(text, end):
                continue
            if best is None or at > best[0]:
                hedged = _hedged(text, match, letter, group)
                best = (at, match.start(), end, letter, rule, hedged)
    if best is not None:
        _, start, end, letter, rule, hedged = best
        sentence = _sentence_around(text, start, end)
        if hedged:
            return ChoiceFinding(None, f"hedges between letters ({rule})", sentence)
        return ChoiceFinding(letter, rule, sentence)
    stripped = text.strip()
    if len(stripped) <= 40:
        letter = canonical_choice(stripped)
        # Only a response that is nothing but the letter: "(A) is too small" chooses nothing.
        if letter and _ONLY_LETTER_RE.fullmatch(re.sub(r"\\[a-z]+|[${}]", "", stripped)):
            return ChoiceFinding(letter, "the response is the letter", stripped)
    return ChoiceFinding(None, "no letter committed to", "")


_OPTION_LINE_RE = re.compile(r"^[ \t]*[*_]*\(?([A-D])[).:][*_]*[ \t]+(\S.*?)[ \t]*$", re.MULTILINE)


def options_in_prompt(prompt: str) -> list[str] | None:
    """The option texts of a multiple-choice prompt: its last run of lines lettered A, B, C,
    D in order (``A) 2.4 MeV``, ``(B) ...``, ``C. ...``); None when it has no such run."""
    lines = [(m.group(1), m.group(2)) for m in _OPTION_LINE_RE.finditer(prompt[-TAIL_CHARS:])]
    for start in range(len(lines) - 4, -1, -1):
        run = lines[start : start + 4]
        if [letter for letter, _ in run] == ["A", "B", "C", "D"]:
            return [text for _, text in run]
    return None
