"""Prove two answers different in this process by evaluating plain arithmetic.

Why: almost every symbolic comparison a re-grade asks for ends "not equivalent" (a wrong
number against a gold with a root, pi or a variable; on a 16,000-response MATH-500 re-grade,
577 of 597), and each costs a worker process a LaTeX parse, and the job the start-up of that
process. Answers written in the small subset below are evaluated here at two fixed points
(variables take positive values); values that differ by more than any rounding the symbolic
comparison forgives, and more than floating point could err, prove the answers different, as
the worker's own numeric disproof would. Nothing here ever says "equivalent"; anything
outside the subset is "cannot tell", left to the worker.

The subset: numbers, single letters (optionally subscripted: ``a_1``, ``F_{n+2}`` are one
symbol each, as in the worker), ``+ - * / ^``, ``\\cdot``,
``\\times``, ``\\div``, ``\\frac``, ``\\sqrt``, ``\\sqrt[n]``, ``\\pi``, parentheses and braces,
and implicit multiplication where LaTeX is unambiguous. ``e``, ``E``, ``i`` and ``I`` may be
Euler's number and the imaginary unit or plain variables, depending on the worker's reading:
a pair is called different only if it is different under every reading. Refused as
ambiguous: adjacent letters (a word or a product?), a letter before a digit or ``(`` (a name
or a function?), ``a/bc``, ``x^23``, ``a^b^c``, juxtaposed numbers, mixed numbers
(``2\\frac{5}{8}`` is 21/8). Input is hostile: the text, the token count and the nesting depth
are bounded, exponents are limited, and overflow is "cannot tell".
"""

from __future__ import annotations

import cmath
import itertools
import math
import re
import zlib

from .normalize import split_top_level, wrapped_in

MAX_CHARS = 300
MAX_TOKENS = 200
MAX_DEPTH = 40
MAX_INTEGER_EXPONENT = 10_000
RELATIVE_MARGIN = 1e-5
"""Values closer than this (relative, and at least this much absolute) are never called
different: Math-Verify forgives rounding at the 6th decimal."""
FLOAT_ERROR = 1e-9
"""Floating point may err by this much of the largest magnitude met on the way."""

_TOKEN_RE = re.compile(
    r"(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<var>[A-Za-z](?:_(?:\d|[A-Za-z]|\{[^{}\\\s]{1,16}\}))?)"
    r"|(?P<cmd>\\(?:frac|dfrac|tfrac|sqrt|pi|cdot|times|div)(?![A-Za-z]))"
    r"|(?P<op>[-+*/^(){}\[\]])"
    r"|(?P<space>\s+)"
)
_FRACTIONS = ("\\frac", "\\dfrac", "\\tfrac")
_ATOM_START = {"num", "var", "(", "{", "\\sqrt", "\\pi", *_FRACTIONS}
_CONSTANTS = {"e": math.e, "E": math.e, "i": 1j, "I": 1j}
"""Letters the worker may read as constants (sympy's E and I) rather than as variables."""
MAX_READINGS_LETTERS = 3
_POINTS = 2


class _CannotTell(Exception):
    """The text is outside the subset, ambiguous, or its value is undefined or too large."""


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs: kind is "num", "var", or the operator / command itself."""
    out: list[tuple[str, str]] = []
    pos = 0
    previous = ""
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise _CannotTell
        kind, value = match.lastgroup or "", match.group()
        pos = match.end()
        if kind == "space":
            if previous in ("num", "var") and pos < len(text) and text[pos].isalnum():
                raise _CannotTell  # "2 3", "a b": a product, a list or a typo?
            continue
        if kind in ("cmd", "op"):
            kind = value
        if previous == "var" and kind in ("var", "num", "("):
            raise _CannotTell  # a word, a name such as x2, or a function application f(x)
        if previous == "num" and kind in ("num", *_FRACTIONS):
            raise _CannotTell  # juxtaposed numbers, or a mixed number 2\\frac{5}{8} = 21/8
        out.append((kind, value))
        previous = kind
        if len(out) > MAX_TOKENS:
            raise _CannotTell
    return out


class _Evaluator:
    """Recursive descent over the tokens, evaluating as it goes at one point."""

    def __init__(self, tokens: list[tuple[str, str]], point: int, constants: frozenset[str]):
        self.tokens = tokens
        self.pos = 0
        self.point = point
        self.constants = constants  # letters read as constants
        self.depth = 0
        self.scale = 0.0  # the largest magnitude met, to bound floating point error

    def value(self) -> complex:
        result = self._expr()
        if self.pos != len(self.tokens):
            raise _CannotTell
        return result

    def _peek(self) -> str:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else ""

    def _take(self, kind: str) -> str:
        if self._peek() != kind:
            raise _CannotTell
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def _seen(self, value: complex) -> complex:
        if not cmath.isfinite(value):
            raise _CannotTell
        self.scale = max(self.scale, abs(value))
        return value

    def _expr(self) -> complex:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _CannotTell
        total = self._term()
        while self._peek() in ("+", "-"):
            sign = self._take(self._peek())
            right = self._term()
            total = self._seen(total + right if sign == "+" else total - right)
        self.depth -= 1
        return total

    def _term(self) -> complex:
        product = self._factor()
        divided = False
        while True:
            kind = self._peek()
            if kind in ("*", "\\cdot", "\\times"):
                self.pos += 1
                product = self._seen(product * self._factor())
            elif kind in ("/", "\\div"):
                self.pos += 1
                divided = True
                product = self._seen(_divide(product, self._factor()))
            elif kind in _ATOM_START:
                if divided:
                    raise _CannotTell  # a/bc: a/(bc) or (a/b)c?
                product = self._seen(product * self._power())
            else:
                return product

    def _factor(self) -> complex:
        if self._peek() in ("+", "-"):
            sign = self._take(self._peek())
            value = self._factor()
            return -value if sign == "-" else value
        return self._power()

    def _power(self) -> complex:
        base = self._atom()
        if self._peek() != "^":
            return base
        self.pos += 1
        kind = self._peek()
        if kind == "{":
            exponent = self._group("{", "}")
        elif kind == "num" and len(self.tokens[self.pos][1]) == 1:
            exponent = complex(float(self._take("num")))
        elif kind in ("var", "\\pi"):
            exponent = self._atom()
        else:
            raise _CannotTell  # x^23 (x^2 times 3 in LaTeX), x^-1, x^\\frac..
        if self._peek() == "^":
            raise _CannotTell  # a^b^c
        return self._seen(_power(base, exponent))

    def _group(self, opening: str, closing: str) -> complex:
        self._take(opening)
        value = self._expr()
        self._take(closing)
        return value

    def _atom(self) -> complex:
        kind = self._peek()
        if kind == "num":
            return self._seen(complex(float(self._take("num"))))
        if kind == "var":
            name = self._take("var")
            if name in self.constants:
                return _CONSTANTS[name]
            return _variable(name, self.point)
        if kind == "\\pi":
            self.pos += 1
            return complex(math.pi)
        if kind in ("(", "{"):
            return self._group(kind, ")" if kind == "(" else "}")
        if kind in _FRACTIONS:
            self.pos += 1
            numerator = self._group("{", "}")
            return self._seen(_divide(numerator, self._group("{", "}")))
        if kind == "\\sqrt":
            self.pos += 1
            index = self._group("[", "]") if self._peek() == "[" else 2
            return self._seen(_root(self._group("{", "}"), index))
        raise _CannotTell


def _variable(name: str, point: int) -> complex:
    """A fixed positive value in [0.3, 2.7] per variable name and point. Case is ignored:
    the symbolic comparison counts ``3R^2`` and ``3r^2`` (or ``A`` and ``a``) the same."""
    return complex((300 + zlib.crc32(f"{point}:{name.lower()}".encode()) % 2401) / 1000)


def _real(value: complex) -> float:
    if value.imag != 0:
        raise _CannotTell  # principal complex roots and powers: left to sympy
    return value.real


def _divide(a: complex, b: complex) -> complex:
    if b == 0:
        raise _CannotTell
    return a / b


def _power(base: complex, exponent: complex) -> complex:
    power = _real(exponent)
    if power.is_integer() and abs(power) <= MAX_INTEGER_EXPONENT:
        if base == 0 and power < 0:
            raise _CannotTell
        try:
            return base ** int(power)
        except (OverflowError, ZeroDivisionError):
            raise _CannotTell from None
    real_base = _real(base)
    if real_base <= 0 or abs(power) > MAX_INTEGER_EXPONENT:
        raise _CannotTell  # complex or branch-dependent, or too large
    try:
        return complex(real_base**power)
    except OverflowError:
        raise _CannotTell from None


def _root(radicand: complex, index: complex | int) -> complex:
    n = _real(complex(index))
    value = _real(radicand)
    if not n.is_integer() or not 2 <= n <= 100 or value < 0:
        raise _CannotTell  # sympy takes the principal (complex) root of a negative
    return complex(math.sqrt(value) if n == 2 else value ** (1 / n))


def _values(tokens: list[tuple[str, str]], constants: frozenset[str]) -> list[tuple[complex,
                                                                                     float]]:
    """(value, scale) at each point."""
    out = []
    for point in range(_POINTS):
        evaluator = _Evaluator(tokens, point, constants)
        out.append((evaluator.value(), evaluator.scale))
    return out


def _differ(gold: list[tuple[complex, float]], answer: list[tuple[complex, float]]) -> bool:
    for (g, g_scale), (a, a_scale) in zip(gold, answer, strict=True):
        gap = abs(g - a)
        if gap > RELATIVE_MARGIN * max(1.0, abs(g), abs(a)) and gap > FLOAT_ERROR * max(
            1.0, g_scale, a_scale
        ):
            return True
    return False


def values_differ(gold: str, answer: str) -> bool:
    """True when both are plain arithmetic whose values differ, under every reading of the
    letters that may be constants; False means "cannot tell"."""
    if len(gold) > MAX_CHARS or len(answer) > MAX_CHARS:
        return False
    try:
        gold_tokens, answer_tokens = _tokens(gold), _tokens(answer)
        letters = sorted({v for k, v in gold_tokens + answer_tokens
                          if k == "var" and v in _CONSTANTS})
        if len(letters) > MAX_READINGS_LETTERS:
            return False
        for count in range(len(letters) + 1):
            for chosen in itertools.combinations(letters, count):
                constants = frozenset(chosen)
                if not _differ(_values(gold_tokens, constants),
                               _values(answer_tokens, constants)):
                    return False
        return True
    except (_CannotTell, ValueError, OverflowError, ZeroDivisionError, RecursionError):
        return False


_MATRIX_RE = re.compile(r"^\\begin\{([pbBvV]?matrix)\}(.*)\\end\{\1\}$", re.DOTALL)
_INFINITY_RE = re.compile(r"^[-+]?\\infty$")
_WORD_RE = re.compile(r"^[A-Za-z]*[A-DF-HJ-Za-df-hj-z][A-Za-z]*$")


def _matrix_cells(text: str) -> tuple[str, list[str]] | None:
    match = _MATRIX_RE.match(text)
    if match is None or "\\begin" in match.group(2):
        return None
    rows = [row.split("&") for row in match.group(2).split("\\\\")]
    return f"{match.group(1)}{[len(row) for row in rows]}", [c for row in rows for c in row]


def _bracketed_parts(text: str) -> tuple[str, list[str]] | None:
    """A tuple or interval ``(a, b]``: its brackets and count, and its parts."""
    if len(text) < 2 or text[0] not in "([" or text[-1] not in ")]":
        return None
    if not wrapped_in(text, text[0], text[-1]):
        return None
    parts = [part.strip() for part in split_top_level(text[1:-1], ",")]
    if len(parts) < 2:
        return None
    return f"{text[0]}{text[-1]}{len(parts)}", parts


def _part_differs(gold: str, answer: str) -> bool:
    if gold == answer:
        return False
    gold_infinite = bool(_INFINITY_RE.match(gold))
    answer_infinite = bool(_INFINITY_RE.match(answer))
    if gold_infinite and answer_infinite:
        return False  # -oo against +oo: left to the worker
    if gold_infinite:
        return _finite(answer)
    if answer_infinite:
        return _finite(gold)
    return values_differ(gold, answer)


def _finite(text: str) -> bool:
    """Whether ``text`` is plain arithmetic with a finite value."""
    return values_differ(text, text + "+1")



def parts_differ(gold: str, answer: str) -> bool:
    """Two matrices of one shape with a cell that differs; or two tuples / intervals with the
    same brackets and length where some part of the gold differs from every part of the
    answer (different whether the comparison is in order or as a set)."""
    if len(gold) > 4 * MAX_CHARS or len(answer) > 4 * MAX_CHARS:
        return False
    matrices = _matrix_cells(gold), _matrix_cells(answer)
    if matrices[0] and matrices[1]:
        (gold_shape, gold_cells), (answer_shape, answer_cells) = matrices
        return gold_shape == answer_shape and any(
            _part_differs(g.strip(), a.strip())
            for g, a in zip(gold_cells, answer_cells, strict=True)
        )
    tuples = _bracketed_parts(gold), _bracketed_parts(answer)
    if not (tuples[0] and tuples[1]) or tuples[0][0] != tuples[1][0]:
        return False
    answer_parts = tuples[1][1]
    return any(all(_part_differs(g, a) for a in answer_parts) for g in tuples[0][1])


def is_word(text: str) -> bool:
    """Letters only, with one at least that cannot be a constant (e, E, i, I): as text or as
    a product of variables, never equal to a number."""
    return len(text) >= 2 and bool(_WORD_RE.match(text))
