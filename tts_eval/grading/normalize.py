"""String normalisation of answers, and the exact values the caller can compare without sympy.

Everything here is string and ``fractions`` work, so it runs in the caller's process: most
answers of a real run (integers, fractions, decimals, lists of them, the same expression
written twice) are decided here in microseconds, and only the rest goes to a worker.

Normalisation must be *conservative*: two answers that normalise to the same string must be
equivalent under the MATH convention (see shared/data/README.md), so every rewrite below only
removes presentation: ``\\left``, ``\\dfrac``, ``\\!``, ``{,}``, thousands separators, ``\\$``,
trailing units and ``\\text{...}``, degrees, ``%``. Exact decimals stay exact (``0.5`` is 1/2,
``0.333`` is not 1/3).
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

MAX_NORMALIZE_CHARS = 5_000
"""Longer answers are not normalised (only compared verbatim): no answer is that long."""

# --------------------------------------------------------------------------- helpers

_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _match_close(s: str, i: int) -> int:
    """Index of the bracket closing ``s[i]`` (any of ([{ ), or -1. ``\\{`` counts as {."""
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == "\\" and j + 1 < len(s) and s[j + 1] in "{}":
            c = s[j + 1]
            j += 1
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return j
            if depth < 0:
                return -1
        j += 1
    return -1


def split_top_level(s: str, seps: str = ",") -> list[str]:
    """Split ``s`` at separator characters that are outside every bracket and brace."""
    parts, depth, start = [], 0, 0
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            if s[i + 1] in "{}":
                depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in seps and depth == 0:
            parts.append(s[start:i])
            start = i + 1
        i += 1
    parts.append(s[start:])
    return parts


def wrapped_in(s: str, opener: str, closer: str) -> bool:
    """Whether the whole of ``s`` is one group opened by ``opener`` and closed by ``closer``."""
    if not (s.startswith(opener) and s.endswith(closer)) or len(s) < len(opener) + len(closer):
        return False
    close = _match_close(s, len(opener) - 1)
    return close == len(s) - 1


def _unwrap_command(s: str, command: str) -> str:
    """Replace every ``\\command{X}`` by ``X`` (balanced braces, linear scan)."""
    out = []
    i = 0
    token = command + "{"
    while True:
        j = s.find(token, i)
        if j < 0:
            out.append(s[i:])
            break
        close = _match_close(s, j + len(command))
        if close < 0:
            out.append(s[i:])
            break
        out.append(s[i:j])
        out.append(s[j + len(token) : close])
        i = close + 1
    return "".join(out)


# --------------------------------------------------------------------------- rewrites

_SIMPLE_REPLACEMENTS = [
    ("\u2212", "-"),
    ("\u2013", "-"),
    ("\u00d7", "\\times "),
    ("\u00b7", "\\cdot "),
    ("\u00f7", "\\div "),
    ("\u03c0", "\\pi "),
    ("\u221e", "\\infty "),
    ("\u2264", "\\leq "),
    ("\u2265", "\\geq "),
    ("\u2260", "\\neq "),
    ("\u221a", "\\sqrt"),
    ("\u00b0", "^\\circ"),
    ("{,}", ","),
    ("\\$", ""),
    ("\\%", "%"),
]

_REGEX_REPLACEMENTS = [
    (re.compile(r"\\(?:d|t|c)frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\(?:d|t)binom(?![a-zA-Z])"), r"\\binom"),
    (
        re.compile(
            r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|middle)(?![a-zA-Z])\.?"
        ),
        "",
    ),
    (re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])"), ""),
    (re.compile(r"\\!\s*"), ""),
    (re.compile(r"\\q?quad|(?<!\\)\\[,;:> ]|~"), " "),
    (
        re.compile(
            r"\\(?:mbox|textnormal|textrm|textbf|textit|textsf|texttt|mathrm|mathbf|mathit"
            r"|mathsf|mathtt|mathnormal|textup|emph|boldsymbol|bm)(?![a-zA-Z])"
        ),
        r"\\text",
    ),
    (re.compile(r"\\text\s+\{"), r"\\text{"),
    (re.compile(r"\\(?:leqslant|leqq|le)(?![a-zA-Z])"), r"\\leq"),
    (re.compile(r"\\(?:geqslant|geqq|ge)(?![a-zA-Z])"), r"\\geq"),
    (re.compile(r"\\ne(?![a-zA-Z])"), r"\\neq"),
    (re.compile(r"\\lt(?![a-zA-Z])"), "<"),
    (re.compile(r"\\gt(?![a-zA-Z])"), ">"),
    (re.compile(r"<="), r"\\leq "),
    (re.compile(r">="), r"\\geq "),
    (re.compile(r"!="), r"\\neq "),
    (re.compile(r"\\dots[bcmio]?|\\[lc]dots"), r"\\ldots"),
]
_ARRAY_MATRIX_RE = re.compile(
    r"\[\s*\\begin\{array\}\{[^{}]*\}(.*?)\\end\{array\}\s*\]|"
    r"\(\s*\\begin\{array\}\{[^{}]*\}(.*?)\\end\{array\}\s*\)",
    re.S,
)
_MATRIX_NAME_RE = re.compile(r"\\(begin|end)\{(?:bmatrix|Bmatrix|matrix|smallmatrix|pmatrix)\}")
_TEXT_SEPARATOR_RE = re.compile(r",?\s*+\\text\{\s*+(?:,\s*+)?(?:and|or)\s*+\}\s*+,?")
_WORD_SEPARATOR_RE = re.compile(r"\s*+,?\s*+(?<![A-Za-z\\])(?:and|or)(?![A-Za-z])\s*+,?\s*+")
_WORD_SEPARATOR_PRESENT_RE = re.compile(r"(?<![A-Za-z\\])(?:and|or)(?![A-Za-z])")
_BARE_PI_RE = re.compile(r"(?<![\\A-Za-z])pi(?![A-Za-z])")
_DOUBLE_BACKSLASH_CMD_RE = re.compile(r"\\\\(?=[a-zA-Z])")
_SPACE_RE = re.compile(r"\s+")
_SPACE_DROP_RE = re.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")
_FRAC_DIGITS_RE = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_DIGIT_BRACE_RE = re.compile(r"\\frac\s*([0-9a-zA-Z])\s*\{")
_FRAC_BRACE_DIGIT_RE = re.compile(r"\\frac\s*(\{[^{}]*\})\s*([0-9a-zA-Z])")
_FRAC_TWO_TOKENS_RE = re.compile(r"\\frac\s+([0-9a-zA-Z])\s*([0-9a-zA-Z])")
_SQRT_TOKEN_RE = re.compile(r"\\sqrt\s*([0-9a-zA-Z])")
_SINGLE_CHAR_GROUP_RE = re.compile(r"([_^])\{([A-Za-z0-9])\}")
_LEADING_DECIMAL_RE = re.compile(r"(?<![\d}.])\.(\d)")
_REPEATING_RE = re.compile(r"(\d*)\.(\d*)\\(?:overline|bar)\{(\d+)\}")
_DEGREE_TAIL_RE = re.compile(
    r"\s*+(?:\^\s*+\{?\s*+\\circ\s*+\}?|\\circ|\\degree|\^\s*+\{\s*+\\text\{o\}\s*+\}"
    r"|\\text\{\s*+degrees?\s*+\}|(?<![A-Za-z])degrees?)\s*+$"
)
_PERCENT_WORD_TAIL_RE = re.compile(
    r"(?<=[\d}])\s*+(?:\\text\{\s*+)?(?:percentage|percent|pct)(?:\s*+\})?\s*+$"
)
_TIME_RE = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:\\text\{\s*)?(?:([aApP])\.?\s*[mM]\.?)?(?:\s*\})?$"
)
# Possessive quantifiers (*+, {2,}+): a run of letters is one unit word, never re-split,
# so a failing match cannot backtrack exponentially (checked by the timing tests).
_UNIT_WORD = r"(?:[A-Za-z]{2,}+\.?|\\text\{[^{}]*+\})(?:\s*+\^\s*+\{?[23]\}?)?"
_UNIT_TAIL_RE = re.compile(
    r"^(?P<num>.*?[\d}])\s*+(?P<unit>" + _UNIT_WORD + r"(?:\s*+" + _UNIT_WORD + r")*+)$"
)
_NUMERIC_COMMANDS_RE = re.compile(r"\\(?:frac|sqrt|pi|cdot|times|div)(?![a-zA-Z])")
_NOT_UNITS = {
    "and",
    "or",
    "pi",
    "sqrt",
    "frac",
    "infty",
    "inf",
    "ln",
    "log",
    "sin",
    "cos",
    "tan",
    "sec",
    "csc",
    "cot",
    "exp",
}
_THOUSANDS_COMMA_RE = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_THOUSANDS_SPACE_RE = re.compile(r"^[-+]?\d{1,3}(?: \d{3})+(?:\.\d+)?$")


def _strip_delimiters(s: str) -> str:
    """Remove outer ``$``/``\\(``/``\\[`` delimiters and a whole-answer ``\\boxed{}``."""
    while True:
        t = s.strip()
        for opener, closer in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
            if t.startswith(opener) and t.endswith(closer) and len(t) >= len(opener) + len(closer):
                t = t[len(opener) : len(t) - len(closer)].strip()
                break
        for cmd in ("\\boxed", "\\fbox"):
            if t.startswith(cmd + "{") and wrapped_in(t[len(cmd) :], "{", "}"):
                t = t[len(cmd) + 1 : -1].strip()
        if t == s:
            return t
        s = t


def _repeating_to_fraction(m: re.Match[str]) -> str:
    whole, fixed, rep = m.group(1) or "0", m.group(2), m.group(3)
    if len(fixed) + len(rep) > 30:
        return m.group(0)
    value = Fraction(int(whole)) + (
        Fraction(int(fixed) if fixed else 0, 10 ** len(fixed))
        + Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** len(fixed))
    )
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _canonical_time(s: str) -> str | None:
    """``08:34 \\text{P.M.}`` -> ``20:34``; ``20:34:00`` -> ``20:34``; plain ``h:mm`` untouched."""
    m = _TIME_RE.match(s)
    if not m:
        return None
    hours, minutes, seconds, half = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    if minutes >= 60 or hours > 24 or (seconds and int(seconds) >= 60):
        return None
    if half:
        if hours > 12:
            return None
        hours = hours % 12 + (12 if half.lower() == "p" else 0)
    elif seconds is None or int(seconds):
        return None
    return f"{hours}:{minutes:02d}"


def _is_numeric_text(s: str) -> bool:
    """Whether ``s`` is a number-like expression (digits, fractions, roots, pi), not algebra."""
    body = _NUMERIC_COMMANDS_RE.sub("", s)
    return bool(re.search(r"\d", body)) and not re.search(r"[A-Za-z\\]", body)


def _strip_units(s: str) -> str:
    """``10 \\text{ cm}^2`` -> ``10``; ``125 miles`` -> ``125``; ``5x`` and ``2 \\pi`` untouched."""
    for _ in range(2):
        m = _UNIT_TAIL_RE.match(s)
        if not m or not _is_numeric_text(m.group("num")):
            return s
        words = re.findall(r"[A-Za-z]+", re.sub(r"\\text\{[^{}]*\}", "", m.group("unit")))
        if any(w.lower() in _NOT_UNITS for w in words):
            return s
        s = m.group("num").strip()
    return s


def _strip_outer_groups(s: str) -> str:
    """``{1,2,3}`` (a TeX group, not ``\\{...\\}``) and ``(\\frac13)`` -> the content."""
    while True:
        if s.startswith("{") and wrapped_in(s, "{", "}"):
            s = s[1:-1].strip()
            continue
        if s.startswith("(") and wrapped_in(s, "(", ")") and len(split_top_level(s[1:-1])) == 1:
            inner = s[1:-1].strip()
            if inner and not re.search(r"[<>=]|\\leq|\\geq|\\neq", inner):
                s = inner
                continue
        return s


@lru_cache(maxsize=65_536)
def normalize_math(answer: str) -> str:
    """Canonical string of a free-form answer: presentation removed, meaning untouched."""
    s = answer.strip()
    if len(s) > MAX_NORMALIZE_CHARS:
        return s
    s = _strip_delimiters(s)
    if "matrix" not in s and "array" not in s and "cases" not in s:
        s = _DOUBLE_BACKSLASH_CMD_RE.sub(r"\\", s)
    for old, new in _SIMPLE_REPLACEMENTS:
        s = s.replace(old, new)
    for pattern, repl in _REGEX_REPLACEMENTS:
        s = pattern.sub(repl, s)
    s = _ARRAY_MATRIX_RE.sub(
        lambda m: "\\begin{pmatrix}" + (m.group(1) or m.group(2) or "") + "\\end{pmatrix}", s
    )
    s = _MATRIX_NAME_RE.sub(lambda m: f"\\{m.group(1)}{{pmatrix}}", s)
    s = _unwrap_command(s, "\\boxed")
    s = _TEXT_SEPARATOR_RE.sub(",", s)
    s = s.replace("$", "")
    s = _SPACE_RE.sub(" ", s).strip()
    s = _strip_delimiters(s)
    while s.endswith("\\") and not s.endswith("\\\\"):
        s = s[:-1].rstrip()
    s = s.rstrip(".;").rstrip()
    if s.endswith(",") and not s.endswith("\\,"):
        s = s[:-1].rstrip()
    # "\frac{\sqrt3}{3} \approx 0.577": the exact value is the answer.
    approx = s.find("\\approx")
    if approx > 0:
        s = s[:approx].strip()
    elif approx == 0:
        s = s[len("\\approx") :].strip()
    time = _canonical_time(_unwrap_command(s, "\\text").strip())
    if time is not None:
        return time
    s = _DEGREE_TAIL_RE.sub("", s)
    s = _PERCENT_WORD_TAIL_RE.sub("", s)
    s = s.replace("%", "")
    s = _strip_units(s)
    s = _unwrap_command(s, "\\text")
    if _WORD_SEPARATOR_PRESENT_RE.search(s):
        s = _WORD_SEPARATOR_RE.sub(",", s)
    s = s.strip(" ,")
    s = _SPACE_RE.sub(" ", s).strip()
    if _THOUSANDS_SPACE_RE.match(s):
        s = s.replace(" ", "")
    s = _REPEATING_RE.sub(_repeating_to_fraction, s)
    s = _FRAC_DIGITS_RE.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_TWO_TOKENS_RE.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_DIGIT_BRACE_RE.sub(r"\\frac{\1}{", s)
    s = _FRAC_BRACE_DIGIT_RE.sub(r"\\frac\1{\2}", s)
    s = _SQRT_TOKEN_RE.sub(r"\\sqrt{\1}", s)
    s = _BARE_PI_RE.sub(r"\\pi ", s)  # "pi/2" written without LaTeX
    s = _SPACE_DROP_RE.sub("", s)
    s = _SINGLE_CHAR_GROUP_RE.sub(r"\1\2", s)
    s = _LEADING_DECIMAL_RE.sub(r"0.\1", s)
    if _THOUSANDS_COMMA_RE.match(s):
        s = s.replace(",", "")
    if s.startswith("+") and s[1:2].isdigit():
        s = s[1:]
    s = _strip_outer_groups(s)
    letter = re.fullmatch(r"\(([A-Z])\)", s)
    return letter.group(1) if letter else s


# --------------------------------------------------------------------------- labels

_LABEL_TOKEN = (
    r"(?:[A-Za-z]|\\(?:alpha|beta|gamma|delta|epsilon|theta|lambda|mu|phi|psi|omega"
    r"|rho|sigma|tau|varphi|Delta|Theta|Omega|Phi))"
    r"(?:_(?:\{[A-Za-z0-9,]{1,12}\}|[A-Za-z0-9]))?(?:\([a-z](?:,[a-z]){0,3}\))?"
)
_LABEL_RE = re.compile(
    rf"^(?:{_LABEL_TOKEN}(?:[:/]?{_LABEL_TOKEN})*"
    rf"|\|{_LABEL_TOKEN}+\||\\frac\{{{_LABEL_TOKEN}+\}}\{{{_LABEL_TOKEN}+\}}"
    rf"|\({_LABEL_TOKEN}(?:,{_LABEL_TOKEN})+\))$"
)
_LABEL_SEP_RE = re.compile(r"=|\\in(?![a-zA-Z])")


def _strip_one_label(s: str) -> str:
    m = _LABEL_SEP_RE.search(s)
    if not m or m.start() == 0:
        return s
    lhs, rhs = s[: m.start()], s[m.end() :]
    if not _LABEL_RE.match(lhs) or not rhs or _LABEL_SEP_RE.search(rhs):
        return s
    if re.search(r"<|>|\\leq|\\geq|\\neq", rhs + lhs):
        return s
    return rhs


@lru_cache(maxsize=65_536)
def strip_labels(norm: str) -> str:
    """Drop variable labels from a normalised answer: ``x=5`` -> ``5``,
    ``(p,q)=(3,2)`` -> ``(3,2)``, ``x=1,y=2`` -> ``1,2``, ``p=5,q=2;p=7,q=2`` -> ``(5,2),(7,2)``.

    Only a bare name (``x``, ``a_{37}``, ``f(x)``, ``AB``, ``|AB|``, ``V_1:V_2``) counts as a
    label, never an expression: ``7=11a+c`` keeps its left side.
    """
    whole = _strip_one_label(norm)
    if whole is not norm:
        return whole
    groups = split_top_level(norm, ";")
    if len(groups) > 1 and any(len(split_top_level(g)) > 1 for g in groups):
        # "p=5,q=2;p=7,q=2": semicolons separate solutions, commas their components.
        stripped = [",".join(_strip_one_label(e) for e in split_top_level(g)) for g in groups]
        return ",".join(f"({g})" for g in stripped)
    parts = split_top_level(norm, ",;")
    if len(parts) > 1:
        return ",".join(_strip_one_label(p) for p in parts)
    return norm


# --------------------------------------------------------------------------- exact values

_INT_OR_DEC_RE = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$")
_SLASH_FRAC_RE = re.compile(r"^([-+]?\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)$")
_LATEX_FRAC_RE = re.compile(r"^([-+]?)\\frac\{([-+]?\d+(?:\.\d+)?)\}\{([-+]?\d+(?:\.\d+)?)\}$")
_MIXED_RE = re.compile(r"^([-+]?)(\d+)(?:\\frac\{(\d+)\}\{(\d+)\}| (\d+)/(\d+))$")
_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_BASE_NUMBER_RE = re.compile(r"^\(?([0-9A-F]+)\)?_(?:\{\(?(\d{1,2})\)?\}|(\d))$")
"""MATH's base-b numerals: ``52_8``, ``52_{8}``, ``(52)_8``, ``1A_{16}``, ``52_{(8)}``."""
_MAX_NUMBER_CHARS = 60


def _scalar(s: str) -> Fraction | None:
    """Exact value of a plain number: ``-3``, ``0.25``, ``1/2``, ``\\frac{3}{4}``, ``1\\frac12``."""
    if len(s) > _MAX_NUMBER_CHARS:
        return None
    if _INT_OR_DEC_RE.match(s):
        return Fraction(s)
    m = _SLASH_FRAC_RE.match(s)
    if m:
        den = Fraction(m.group(2))
        return Fraction(m.group(1)) / den if den else None
    m = _LATEX_FRAC_RE.match(s)
    if m:
        den = Fraction(m.group(3))
        if not den:
            return None
        value = Fraction(m.group(2)) / den
        return -value if m.group(1) == "-" else value
    m = _MIXED_RE.match(s)
    if m:
        num, den = (m.group(3), m.group(4)) if m.group(3) else (m.group(5), m.group(6))
        if int(den) == 0 or int(num) >= int(den):
            return None
        value = int(m.group(2)) + Fraction(int(num), int(den))
        return -value if m.group(1) == "-" else value
    return None


def _element(s: str) -> object | None:
    value = _scalar(s)
    if value is not None:
        return value
    for opener, closer in (("(", ")"), ("[", "]")):
        if s.startswith(opener) and s.endswith(closer) and wrapped_in(s, opener, closer):
            items = [_scalar(x) for x in split_top_level(s[1:-1])]
            if len(items) >= 2 and all(x is not None for x in items):
                return (opener + closer, tuple(items))
    return None


@lru_cache(maxsize=65_536)
def exact_value(key: str) -> object | None:
    """A hashable exact value for a normalised, label-stripped answer, or None if it is not a
    plain number, a clock time, a list/set of numbers, or a tuple/interval of numbers.

    Equal values mean equivalent answers and different values mean different answers, so the
    caller decides these pairs without sympy.
    """
    if len(key) > 2_000:
        return None
    clock = _CLOCK_RE.match(key)
    if clock:
        return ("time", int(clock.group(1)), int(clock.group(2)))
    based = _BASE_NUMBER_RE.match(key)
    if based:
        # "204_5" is the base-5 numeral 204: equal only to the same numeral in the same base
        # (the parser ignores subscripts, which would make it equal to 204).
        return ("base", based.group(1).lstrip("0") or "0", int(based.group(2) or based.group(3)))
    value = _element(key)
    if value is not None:
        return value if isinstance(value, tuple) else ("num", value)
    body = key
    if key.startswith("\\{") and key.endswith("\\}"):
        body = key[2:-2]
    parts = split_top_level(body, ",;")
    if len(parts) < 2 and body is key:
        return None
    items = [_element(p) for p in parts]
    if any(x is None for x in items):
        return None
    distinct = frozenset(items)
    if len(distinct) == 1:  # {5} or "5, 5" is the single answer 5
        (only,) = distinct
        return only if isinstance(only, tuple) else ("num", only)
    return ("set", distinct)


_SHAPE_RELATION_RE = re.compile(r"[=<>]|\\(?:leq|geq|neq|in|pm|mp)(?![a-zA-Z])")
_SHAPE_SET_RE = re.compile(r"\\(?:begin|cup|cap|setminus|mathbb|emptyset|varnothing)(?![a-zA-Z])")


@lru_cache(maxsize=65_536)
def answer_shape(key: str) -> str | None:
    """``"one"`` for a single value, ``"many"`` for a tuple, interval, set, matrix or list of
    two or more different parts, None when the string alone cannot tell (a relation, ``\\pm``).

    One value never equals several, so such pairs are decided without sympy.
    """
    if _SHAPE_SET_RE.search(key):
        return "many"
    bodies = [key]
    if key.startswith("\\{") and key.endswith("\\}"):
        bodies.append(key[2:-2])
    elif key[:1] in "([" and key[-1:] in ")]" and _match_close(key, 0) == len(key) - 1:
        bodies.append(key[1:-1])  # a tuple or an interval, (a, b] included
    for body in bodies:
        if len({p.strip() for p in split_top_level(body, ",;")}) > 1:
            return "many"
    if _SHAPE_RELATION_RE.search(key):
        return None
    return "one"


# --------------------------------------------------------------------------- other kinds


@lru_cache(maxsize=65_536)
def canonical_integer(answer: str) -> str | None:
    """An AIME answer as a canonical string: ``"023"`` -> ``"23"``; None unless an integer
    0-999 (``m+n=23`` -> ``"23"``, ``23.0`` -> ``"23"``, ``1,000`` -> None)."""
    s = strip_labels(normalize_math(answer))
    if "=" in s:
        s = s.rsplit("=", 1)[1]
    value = _scalar(s)
    if value is None or value.denominator != 1 or not 0 <= value <= 999:
        return None
    return str(int(value))


_CHOICE_RE = re.compile(
    r"^[\s*$({\[]*+(?:(?i:option|choice|answer)\s*+[:.]?\s*+)?\(?([A-D])\)?(?:[\s.:)*}\]$,]|$)"
)


@lru_cache(maxsize=65_536)
def canonical_choice(answer: str) -> str | None:
    """A multiple-choice letter: ``C``, ``(C)``, ``\\text{(C)}``, ``\\boxed{C}``, ``C. 2.4``
    all give ``C``."""
    s = answer.strip()
    if len(s) > MAX_NORMALIZE_CHARS:
        return None
    s = _strip_delimiters(s)
    for cmd in ("\\boxed", "\\fbox", "\\text", "\\textbf", "\\mathrm", "\\mathbf"):
        s = _unwrap_command(s, cmd)
    s = s.replace("$", "").strip()
    if len(s) == 1 and s.upper() in "ABCD":
        return s.upper()
    m = _CHOICE_RE.match(s)
    return m.group(1) if m else None
