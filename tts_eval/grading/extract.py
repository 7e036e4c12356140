"""Find the final answer inside a full model response.

Pure string scanning: nothing here parses mathematics, so nothing here can execute model
text. Every scan is linear in the response (or bounded to its tail), because responses can
be megabytes of junk and extraction runs in the caller's process for every sample.

Precedence for ``math`` / ``integer`` (the first form present wins; inside a form the last
occurrence wins, because models state their final answer last):

1. the last ``\\boxed{...}`` / ``\\fbox{...}`` / ``\\boxed 5`` (adjacent boxes joined: a model
   that boxes two roots separately, ``\\boxed{1}`` and ``\\boxed{-2}``, answered "1, -2");
2. "Final Answer: The final answer is X" (also "Final Answer: The volume ... is X");
3. "the answer is X" / "Answer: X";
4. the last ``$...$`` / ``\\(...\\)`` / ``\\[...\\]`` (again joining ``$1$ and $2$``);
5. a short response with none of the above is its own answer (``-5``, ``\\frac{1}{3}``).
"""

from __future__ import annotations

import re

from .normalize import canonical_integer
from .types import check_kind

TAIL_CHARS = 20_000
"""Phrase and math-environment scans look only at the end of a response (answers come last)."""

BARE_MAX_CHARS = 300
"""How far an answer may run after an answer phrase ("the answer is ...")."""

BARE_ANSWER_MAX_CHARS = 80
BARE_ANSWER_MAX_WORDS = 1
"""A response with no answer marker is its own answer only if it looks like one: one line,
at most this long, with at most this many plain words (3+ letters, outside LaTeX commands
and ``\\text{}``). So ``-5``, ``\\frac{1}{3}``, ``28 pct`` or ``Monday`` are answers; a
truncated chain of thought or a sentence of prose is not, and must not become a voting
candidate."""

_PLAIN_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}")
_TEXT_COMMAND = re.compile(r"\\(?:text|mathrm|textbf|mbox|begin|end)\s*\{[^{}]*\}")

BRACE_SCAN_LIMIT = 4_000
"""A ``\\boxed{`` whose closing brace is further than this is treated as unbalanced."""

MAX_BOXES_EXAMINED = 32
"""How many box commands, from the last one leftwards, may form the final answer. Bounds
the work on hostile input such as ``\\boxed{`` repeated thousands of times."""

_BOX_CMDS = ("\\boxed", "\\fbox")


def extract_answer(response: str, kind: str = "math") -> str | None:
    """Return the final answer stated in ``response`` for an answer ``kind``, or None.

    ``math`` returns the answer as written (LaTeX, not normalised), ``integer`` returns the
    canonical decimal string of an integer 0-999 (``"023"`` -> ``"23"``), ``choice`` returns a
    letter ``A``-``D``.
    """
    check_kind(kind)
    if not isinstance(response, str) or not response.strip():
        return None
    text = _after_thinking(response)
    if kind == "math":
        return extract_math(text)
    if kind == "integer":
        return extract_integer(text)
    return extract_choice(text)


def _after_thinking(text: str) -> str:
    """Drop a reasoning model's ``<think>...</think>`` block when an answer follows it."""
    cut = text.rfind("</think>")
    if cut >= 0 and text[cut + 8 :].strip():
        return text[cut + 8 :]
    return text


# --------------------------------------------------------------------------- math


def extract_math(text: str) -> str | None:
    """Extract a free-form final answer (MATH convention); see the module docstring."""
    boxed = last_boxed(text)
    if boxed:
        return boxed
    tail = text[-TAIL_CHARS:]
    for finder in (_final_answer_phrase, _answer_phrase, _last_math_env):
        found = finder(tail)
        if found:
            return found
    bare = text.strip()
    if _looks_like_bare_answer(bare):
        bare = _strip_trailing_punct(bare)
        return bare or None
    return None


def _looks_like_bare_answer(text: str) -> bool:
    if len(text) > BARE_ANSWER_MAX_CHARS or "\n" in text:
        return False
    words = _PLAIN_WORD.findall(_TEXT_COMMAND.sub(" ", text))
    return len(words) <= BARE_ANSWER_MAX_WORDS


def _match_brace(text: str, open_pos: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``open_pos``, or -1 (escaped braces skipped)."""
    depth = 0
    end = min(len(text), open_pos + BRACE_SCAN_LIMIT)
    i = open_pos
    while i < end:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


_BOX_TOKEN_RE = re.compile(r"[^\s$,;]+")


def _box_at(text: str, start: int) -> tuple[int, str] | None:
    """Parse the box command at ``start``: (end index, content) or None if not a box."""
    cmd = next((c for c in _BOX_CMDS if text.startswith(c, start)), None)
    if cmd is None:
        return None
    j = start + len(cmd)
    if j < len(text) and text[j].isalpha():  # \boxedfoo is another command
        return None
    while j < len(text) and text[j] in " \t":
        j += 1
    if j >= len(text):
        return None
    if text[j] == "{":
        close = _match_brace(text, j)
        if close < 0:
            # Unbalanced: keep the rest of the line, it is still the model's final statement.
            line_end = text.find("\n", j)
            line_end = len(text) if line_end < 0 else line_end
            return line_end, text[j + 1 : min(line_end, j + 1 + BARE_MAX_CHARS)].strip()
        return close + 1, text[j + 1 : close].strip()
    if cmd == "\\boxed" and text[j] != "\\":
        m = _BOX_TOKEN_RE.match(text, j)
        if m:
            return m.end(), _strip_trailing_punct(m.group(0))
    return None


def _previous_box_start(text: str, before: int) -> int:
    return max(text.rfind(cmd, 0, before) for cmd in _BOX_CMDS)


_JOIN_WORD_RE = re.compile(r"\b(?:and|or)\b|[,;]")


def _is_box_joiner(between: str, left: str, right: str) -> bool:
    """Whether text between two boxes means 'these boxes together are the answer'."""
    if len(between) < 10:
        return True
    return left != right and len(between) < 70 and bool(_JOIN_WORD_RE.search(between))


def last_boxed(text: str) -> str | None:
    """Content of the last box, joined with adjacent boxes (``"1, -2"``), or None."""
    pos = len(text)
    parts: list[str] = []
    left_edge = -1  # start of the leftmost box taken so far
    for _ in range(MAX_BOXES_EXAMINED):
        start = _previous_box_start(text, pos)
        if start < 0:
            break
        parsed = _box_at(text, start)
        pos = start
        if parsed is None:
            continue
        end, content = parsed
        if not parts:
            if content:
                parts.append(content)
                left_edge = start
            continue
        if end > left_edge:  # a box enclosing the one already taken: keep the inner one
            continue
        if not content or not _is_box_joiner(text[end:left_edge], content, parts[0]):
            break
        if content != parts[0]:
            parts.insert(0, content)
        left_edge = start
        if len(parts) >= 32:
            break
    return ", ".join(parts) if parts else None


_FINAL_RE = re.compile(r"final\s+answer", re.IGNORECASE)
_ANSWER_RE = re.compile(
    r"\banswer(?:\s++(?:is|would\s+be|will\s+be|should\s+be))?\s*+(?:[:=]|\bis\b)|\banswer\s++is",
    re.IGNORECASE,
)
_IS_RE = re.compile(r"\s(?:is|are|equals|=)\s*+:?", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"\n|\.(?=\s|$)|\bI hope\b|<\|")
_LEAD_RE = re.compile(r"[\s*:：]*+")


def _final_answer_phrase(text: str) -> str | None:
    """'Final Answer: The final answer is X. I hope it is correct.' and relatives."""
    for m in reversed(list(_FINAL_RE.finditer(text))):
        rest = text[m.end() :]
        lead = re.match(r"\s*+(?:is\b|:)?\s*+:?", rest)
        pos = m.end() + (lead.end() if lead else 0)
        value = _read_value(text, pos)
        if value is None:
            continue
        if value[0].isalpha() and not value.startswith("\\"):
            # "Final Answer: The volume of $V$ is 120." -> the part after "is".
            is_m = _IS_RE.search(value)
            if is_m:
                value = _read_value(value, is_m.end()) or value
        return value
    return None


def _answer_phrase(text: str) -> str | None:
    """'the answer is X', 'Answer: X', 'the correct answer is: X'."""
    for m in reversed(list(_ANSWER_RE.finditer(text))):
        value = _read_value(text, m.end())
        if value is not None:
            return value
    return None


def _read_value(text: str, pos: int) -> str | None:
    """Read the value stated at ``pos``: a math environment, a box, or the sentence."""
    lead = _LEAD_RE.match(text, pos)
    pos = lead.end() if lead else pos
    if pos >= len(text):
        return None
    if text.startswith(_BOX_CMDS, pos):
        parsed = _box_at(text, pos)
        return parsed[1] if parsed and parsed[1] else None
    env = _env_at(text, pos)
    if env is not None:
        end, content = env
        parts = [content]
        # "$1$ and $2$": a list of environments is one answer.
        while len(parts) < 10:
            sep = _LIST_SEPARATOR_RE.match(text, end)
            if not sep:
                break
            nxt = _env_at(text, sep.end())
            if nxt is None:
                break
            end, content = nxt
            parts.append(content)
        value = ", ".join(p.strip() for p in parts if p.strip() and not _EMPTY_BOX_RE.fullmatch(p))
        return value or None
    window = text[pos : pos + BARE_MAX_CHARS]
    stop = _SENTENCE_END_RE.search(window)
    value = window[: stop.start()] if stop else window
    value = _strip_trailing_punct(value.strip().strip("*").strip())
    return value or None


_EMPTY_BOX_RE = re.compile(r"\s*\\(?:boxed|fbox)\s*\{\s*\}\s*")
_LIST_SEPARATOR_RE = re.compile(r"\s*+(?:,\s*+)?(?:and|or|,)\s*+")
_ENV_OPENERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))


def _env_at(text: str, pos: int) -> tuple[int, str] | None:
    """If a math environment opens at ``pos``: (end index, content)."""
    for opener, closer in _ENV_OPENERS:
        if text.startswith(opener, pos):
            start = pos + len(opener)
            close = _find_closer(text, start, closer)
            if close < 0:
                return None
            return close + len(closer), text[start:close].strip()
    return None


def _find_closer(text: str, start: int, closer: str) -> int:
    """Index of ``closer`` after ``start`` (C-speed ``str.find``), or -1. An inline ``$``
    environment may not be empty or span a line; an escaped ``\\$`` does not close it."""
    limit = min(len(text), start + BRACE_SCAN_LIMIT)
    if closer != "$":
        return text.find(closer, start, limit)
    i = start
    while True:
        j = text.find("$", i, limit)
        if j < 0 or j == start or text.find("\n", start, j) >= 0:
            return -1
        if text[j - 1] != "\\":
            return j
        i = j + 1


_ENV_TOKEN_RE = re.compile(r"\$\$|\\\[|\\\]|\\\(|\\\)|(?<!\\)\$")
_OPEN_TO_CLOSE = {"$$": "$$", "\\[": "\\]", "\\(": "\\)", "$": "$"}


def _math_envs(text: str) -> list[tuple[int, int, str]]:
    """All math environments of ``text``, left to right, as (start, end, content).

    One pass over the delimiter tokens (linear even for thousands of unclosed ``\\(``)."""
    envs = []
    open_token: str | None = None
    open_at = 0
    for m in _ENV_TOKEN_RE.finditer(text):
        token, at = m.group(0), m.start()
        if open_token is None:
            if token in _OPEN_TO_CLOSE:
                open_token, open_at = token, at
            continue
        closer = _OPEN_TO_CLOSE[open_token]
        if open_token == "$" and text.find("\n", open_at, at) >= 0:
            # A stray "$" earlier on: restart from this token.
            open_token, open_at = (token, at) if token in _OPEN_TO_CLOSE else (None, 0)
            continue
        if token != closer:
            continue
        start = open_at + len(open_token)
        if at - start <= BRACE_SCAN_LIMIT:
            envs.append((open_at, at + len(closer), text[start:at].strip()))
        open_token = None
    return envs


_ENV_JOINER_RE = re.compile(r"\s*+(?:,\s*+)?(?:(?:and|or)\s*+)?,?\s*+")


def _last_math_env(text: str) -> str | None:
    """The last math environment, joined with the ones listed just before it."""
    envs = [e for e in _math_envs(text) if e[2] and not _EMPTY_BOX_RE.fullmatch(e[2])]
    if not envs:
        return None
    parts = [envs[-1][2]]
    for (_, end, content), (start, _, _) in zip(
        reversed(envs[:-1]), reversed(envs[1:]), strict=True
    ):
        between = text[end:start]
        if not between or not _ENV_JOINER_RE.fullmatch(between) or len(parts) >= 10:
            break
        if not re.search(r"and|or|,", between):
            break
        parts.insert(0, content)
    return ", ".join(parts)


def _strip_trailing_punct(value: str) -> str:
    value = value.strip()
    while value and value[-1] in ".,;:!?" and not value.endswith("\\!"):
        value = value[:-1].rstrip()
    return value


# --------------------------------------------------------------------------- integer


def extract_integer(text: str) -> str | None:
    """An AIME answer: the math answer, if it is an integer 0-999, as a canonical string."""
    found = extract_math(text)
    if found is None:
        return None
    return canonical_integer(found)


# --------------------------------------------------------------------------- choice


def extract_choice(text: str) -> str | None:
    """The multiple-choice letter A-D the response commits to (see choice.py), or None."""
    from .choice import find_choice

    return find_choice(text).letter
