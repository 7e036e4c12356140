"""Symbolic answer equivalence with sympy, latex2sympy2_extended and Math-Verify.

Imported only inside sandboxed worker processes (see worker.py): it pulls in sympy and the
ANTLR LaTeX parser, and every call here may take unbounded time, which only a process that
can be killed may afford.

Safety, by construction and checked by tests:

* LaTeX is parsed with latex2sympy2_extended's ANTLR grammar into sympy objects directly.
  Its two paths that reach ``sympify`` on text (``sympy.Number(str)`` for number tokens and
  ``convert_number`` for ``1,000``) are overridden below to build exact Rationals from digits.
* Math-Verify's own ``parse`` is never used: its plain-expression fallback calls
  ``parse_expr`` (Python ``eval``) on model text. Only its comparison (``verify``) is used,
  on sympy objects built here.
* worker.py additionally disables ``parse_expr``/``eval_expr`` in the worker, so any other
  path to ``sympify(str)`` fails instead of evaluating.
* Size limits reject numbers that cannot be written down (``9^{9^{9^9}}``, ``100000!``)
  before any comparison tries to evaluate them.
"""

from __future__ import annotations

import logging
import math
import random
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from itertools import permutations

import sympy
from antlr4.atn.PredictionMode import PredictionMode
from latex2sympy2_extended.latex2sympy2 import (
    _Latex2Sympy,
    comma_number_regex,
)
from latex2sympy2_extended.math_normalization import NormalizationConfig, normalize_latex
from latex2sympy2_extended.sets import FiniteSet as L2SFiniteSet
from math_verify.grader import (
    is_equation,
    is_relation,
    should_treat_as_complex,
    take_last_relation,
    verify,
)
from sympy.core.function import AppliedUndef

for _name in ("math_verify", "math_verify.grader", "latex2sympy2_extended"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

MAX_DIGITS = 2_000
"""A number with more decimal digits than this is 'too large' (no MATH answer comes close)."""
MAX_SYMBOLIC_EXPONENT = 1_000
"""``(x+1)^{10^6}`` would make simplify expand forever."""
MAX_NODES = 3_000
"""Parsed expression trees bigger than this are not compared."""
MAX_MATRIX_CELLS = 400
MAX_LL_CHARS = 160
"""Full-LL re-parses (slow: tens of ms) only for answers this short. SLL fails on some
short forms (``5r^5``); the long strings it rejects are derivations, not answers."""

_LATEX_CONFIG = NormalizationConfig(
    basic_latex=True,
    units=False,
    malformed_operators=True,
    nits=True,
    boxed="none",
    equations=False,
)
# "x^2" -> "{x}^2": the same tree, but ANTLR's fast SLL mode parses the braced form, while
# a bare letter before "^" always forces the slow full-LL retry (checked on 2,400 MATH
# expressions: identical results). Not for e (e^x is exp) or f^{-1}(x) (a function power).
_LETTER_POWER_RE = re.compile(
    r"(?<![\\A-Za-z{])([A-DF-Za-df-z](?:_\{[^{}]*\}|_[A-Za-z0-9])?)\^(\{[^{}]*\}|[A-Za-z0-9])(?!\s*\()"
)
_NUMBER_TOKEN_RE = re.compile(r"^(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,4})?$")


class TooLarge(ValueError):
    """The answer denotes something too large to compare (reason in the message)."""


class Unparseable(ValueError):
    """The answer is not LaTeX the grammar understands."""


def exact_number(text: str) -> sympy.Rational:
    """An exact sympy number from a number token (``12``, ``0.25``, ``3.2E-4``, ``1,000``).

    Decimals are exact (``0.333`` is 333/1000, not 1/3): the MATH convention counts rounded
    values as different answers. No string ever reaches sympy's parser.
    """
    text = text.replace(",", "").replace(" ", "")
    if not _NUMBER_TOKEN_RE.match(text) or len(text) > MAX_DIGITS:
        raise Unparseable("not a number token")
    try:
        value = Fraction(Decimal(text))
    except (InvalidOperation, ValueError) as exc:
        raise Unparseable("not a number token") from exc
    if max(len(str(value.numerator)), len(str(value.denominator))) > MAX_DIGITS:
        raise TooLarge(f"number with more than {MAX_DIGITS} digits")
    return sympy.Rational(value.numerator, value.denominator)


class SafeLatex2Sympy(_Latex2Sympy):
    """latex2sympy2_extended's converter with its string-to-sympy number paths made exact,
    and ANTLR's standard two-stage parse (fast SLL prediction, full LL only when SLL reports
    a syntax error; an SLL parse without errors is the LL parse), about 5x faster."""

    def parse_number(self, text: str) -> sympy.Rational:  # noqa: D102 - see class docstring
        return exact_number(text)

    def _tree(self, latex_str: str):  # noqa: ANN202 - ANTLR context object
        parser = self.create_parser(latex_str)
        parser._interp.predictionMode = PredictionMode.SLL
        try:
            return parser.math()
        except Exception:  # noqa: BLE001 - the error listener raises plain Exception
            if len(latex_str) > MAX_LL_CHARS:
                raise Unparseable("not LaTeX the grammar understands") from None
            parser = self.create_parser(latex_str)
            parser._interp.predictionMode = PredictionMode.LL
            return parser.math()

    def parse(self, latex_str: str):  # noqa: ANN201 - mirrors the base class
        tree = self._tree(latex_str)
        if tree.set_relation():
            return self.convert_set_relation(tree.set_relation())
        if tree.set_elements():
            if comma_number_regex.match(latex_str):
                return exact_number(latex_str)
            return self.convert_set_elements(tree.set_elements())
        if tree.set_elements_relation():
            return self.convert_set_elements_relation(tree.set_elements_relation())
        raise Unparseable("nothing matched")


# --------------------------------------------------------------------------- size checks


def _ilog10(n: int) -> float:
    """Upper bound on log10(n) for a non-negative int, without converting it to text."""
    return n.bit_length() * 0.30103 + 1e-9


def _log10_bound(expr: sympy.Basic, depth: int = 0) -> float | None:
    """Upper bound on log10 of the size of a numeric subtree (numerator or denominator),
    or None if the subtree is not numeric. Raises TooLarge for hopeless sizes."""
    if depth > 60:
        raise TooLarge("expression nested too deeply")
    if isinstance(expr, sympy.Rational):
        return max(_ilog10(abs(int(expr.p))), _ilog10(int(expr.q)))
    if expr.is_Number or expr in (sympy.pi, sympy.E, sympy.I):
        return 1.0
    if isinstance(expr, sympy.Pow):
        base = _log10_bound(expr.base, depth + 1)
        if base is None:
            return None
        if isinstance(expr.exp, sympy.Rational):
            if _ilog10(abs(int(expr.exp.p))) > 7:
                if expr.base in (sympy.S.One, sympy.S.NegativeOne, sympy.S.Zero):
                    return 1.0
                raise TooLarge("power with an exponent of more than 10^7")
            exponent = abs(float(expr.exp))
        else:
            exp_bound = _log10_bound(expr.exp, depth + 1)
            if exp_bound is None:
                return None
            if exp_bound > 7:
                if expr.base in (sympy.S.One, sympy.S.NegativeOne, sympy.S.Zero):
                    return 1.0
                raise TooLarge("power with an exponent of more than 10^7")
            exponent = 10.0**exp_bound
        return max(base, 1.0) * exponent
    if isinstance(expr, (sympy.factorial, sympy.factorial2, sympy.gamma)):
        arg = _log10_bound(expr.args[0], depth + 1)
        if arg is None:
            return None
        if arg > 5:
            raise TooLarge("factorial of a number above 10^5")
        n = 10.0**arg
        return n * math.log10(max(n, 2.0))
    if isinstance(expr, sympy.binomial):
        top = _log10_bound(expr.args[0], depth + 1)
        if top is None:
            return None
        if top > 5:
            raise TooLarge("binomial of a number above 10^5")
        return 10.0**top * 0.302
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        bounds = [_log10_bound(a, depth + 1) for a in expr.args]
        if any(b is None for b in bounds):
            return None
        if isinstance(expr, sympy.Add):
            return max(bounds) + math.log10(len(bounds))
        return sum(bounds)
    return None


def check_size(expr: object) -> None:
    """Raise TooLarge if comparing ``expr`` could need astronomically large numbers."""
    if isinstance(expr, sympy.MatrixBase):
        if expr.rows * expr.cols > MAX_MATRIX_CELLS:
            raise TooLarge("matrix too large")
        for cell in expr:
            check_size(cell)
        return
    if not isinstance(expr, sympy.Basic):
        return
    count = 0
    for node in sympy.preorder_traversal(expr):
        count += 1
        if count > MAX_NODES:
            raise TooLarge(f"expression with more than {MAX_NODES} nodes")
        if isinstance(node, sympy.Pow) and not node.exp.is_Number and node.exp.free_symbols:
            continue
        if isinstance(node, sympy.Pow) and node.exp.is_Number and node.base.free_symbols:
            if abs(node.exp) > MAX_SYMBOLIC_EXPONENT:
                raise TooLarge(f"power with exponent above {MAX_SYMBOLIC_EXPONENT}")
            continue
        if isinstance(
            node,
            (
                sympy.Pow,
                sympy.factorial,
                sympy.factorial2,
                sympy.gamma,
                sympy.binomial,
                sympy.Integer,
            ),
        ):
            bound = _log10_bound(node)
            if bound is not None and bound > MAX_DIGITS:
                raise TooLarge(f"number with more than {MAX_DIGITS} digits")
        if isinstance(node, sympy.MatrixBase):
            check_size(node)


# --------------------------------------------------------------------------- parsing

_IMAGINARY = sympy.I


@lru_cache(maxsize=4_096)
def parse_answer(latex: str, complex_mode: bool) -> object:
    """Parse one normalised answer to a sympy object (cached per worker)."""
    text = _LETTER_POWER_RE.sub(r"{\1}^\2", normalize_latex(latex, _LATEX_CONFIG))
    converter = SafeLatex2Sympy(is_real=not complex_mode, convert_degrees=True)
    try:
        expr = converter.parse(text)
    except (TooLarge, RecursionError):
        raise
    except Exception as exc:
        # "a = b = 5": the last side of an equation chain is the stated value.
        parts = re.split(r"(?<![<>!\\])=", text)
        if len(parts) > 2 and "," not in text and ";" not in text:
            try:
                expr = SafeLatex2Sympy(is_real=not complex_mode, convert_degrees=True).parse(
                    parts[-1]
                )
            except Exception:
                raise Unparseable(type(exc).__name__) from None
        else:
            raise Unparseable(type(exc).__name__) from None
    if isinstance(expr, sympy.Basic):
        # MATH writes Euler's number as e; complex answers use i for the imaginary unit.
        constants = {s: sympy.E for s in expr.free_symbols if getattr(s, "name", "") == "e"}
        if complex_mode:
            constants.update(
                {s: _IMAGINARY for s in expr.free_symbols if getattr(s, "name", "") == "i"}
            )
        if constants:
            try:
                expr = expr.xreplace(constants)
            except Exception:  # noqa: BLE001 - e.g. "x > i" means nothing once i is imaginary
                pass
    check_size(expr)
    return expr


# --------------------------------------------------------------------------- comparison


def _mv_equal(gold: object, pred: object) -> bool:
    """Math-Verify's comparison (numbers, sets, intervals, relations, matrices)."""
    return bool(verify(gold, pred, timeout_seconds=None, raise_on_error=False))


def _is_label(expr: object) -> bool:
    """A bare name on the left of '=': x, a_{37}, f(x), (p,q), AB, A:B, |AB|."""
    if isinstance(expr, sympy.Symbol):
        return True
    if isinstance(expr, AppliedUndef):
        return all(isinstance(a, sympy.Symbol) for a in expr.args)
    if isinstance(expr, sympy.Tuple):
        return len(expr) > 0 and all(isinstance(a, sympy.Symbol) for a in expr)
    if isinstance(expr, sympy.Abs):
        return _is_label(expr.args[0])
    if isinstance(expr, sympy.Mul):
        return all(_is_label(a) for a in expr.args)
    if isinstance(expr, sympy.Pow):
        return expr.exp == -1 and _is_label(expr.base)
    return False


def _unlabel(expr: object) -> object:
    """``y = 2x+3`` -> ``2x+3`` when the left side is only a label; lists element-wise."""
    if isinstance(expr, sympy.Eq) and _is_label(expr.lhs):
        return expr.rhs
    if isinstance(expr, sympy.FiniteSet):
        args = getattr(expr, "_unsorted_args", expr.args)
        new = [_unlabel(a) for a in args]
        if any(n is not a for n, a in zip(new, args, strict=True)):
            return L2SFiniteSet(*new)
    if isinstance(expr, sympy.Tuple):
        new = [_unlabel(a) for a in expr]
        if any(n is not a for n, a in zip(new, expr, strict=True)):
            return sympy.Tuple(*new)
    return expr


def _set_matching(gold: sympy.FiniteSet, pred: sympy.FiniteSet) -> bool:
    """Unordered lists: every gold element matches a distinct predicted one.

    Math-Verify sorts both sets and compares position by position, which fails when the two
    sides write the same elements differently (``-2(x-1)^2+5`` vs ``-2x^2+4x+3``).
    """
    g, p = list(gold.args), list(pred.args)
    if len(g) != len(p) or len(g) > 8:
        return False
    ok = [[equivalent(a, b, nested=True) for b in p] for a in g]
    if any(not any(row) for row in ok):
        return False
    if len(g) <= 6:
        return any(
            all(ok[i][j] for i, j in enumerate(perm)) for perm in permutations(range(len(p)))
        )
    return all(any(row) for row in ok) and all(any(col) for col in zip(*ok, strict=True))


_RNG_SEED = 20_240_601
_UNEVALUATED = (
    AppliedUndef,
    sympy.Integral,
    sympy.Sum,
    sympy.Product,
    sympy.Limit,
    sympy.Derivative,
)


def _plain_expression(expr: object) -> bool:
    """A scalar expression that can be evaluated at a point (no relation, set, matrix...)."""
    return (
        isinstance(expr, sympy.Expr)
        and not expr.is_Relational
        and not isinstance(expr, (sympy.Tuple, sympy.MatrixBase))
        and not expr.atoms(*_UNEVALUATED)
    )


def _is_branchy(*exprs: sympy.Expr) -> bool:
    """Fractional powers and logs: identities between them may hold only for positive values."""
    return any(
        (isinstance(n, sympy.Pow) and not n.exp.is_integer) or isinstance(n, sympy.log)
        for e in exprs
        for n in sympy.preorder_traversal(e)
    )


def _points(names: list[str], count: int, branchy: bool) -> list[dict[str, sympy.Rational]]:
    rng = random.Random(_RNG_SEED)
    points = []
    for _ in range(count):
        point = {}
        for name in names:
            value = sympy.Rational(rng.randint(300, 2700), 1000)
            if not branchy and rng.random() < 0.5:
                value = -value
            point[name] = value
        points.append(point)
    return points


def _evaluate(expr: sympy.Expr, point: dict[str, sympy.Rational]) -> sympy.Expr | None:
    subs = {s: point[s.name] for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    value = expr.xreplace(subs).evalf(40)
    if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    return value


def _close(a: sympy.Expr, b: sympy.Expr) -> bool:
    diff = abs(sympy.N(a - b, 40))
    scale = max(abs(a), abs(b), sympy.Integer(1))
    return bool(diff.is_number and diff <= scale * sympy.Float("1e-25", 40))


def _symbol_names(expr: sympy.Expr) -> set[str] | None:
    names = {s.name for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    if any(len(n) > 1 and "_" not in n for n in names):
        return None  # a word such as \text{Evelyn}: Math-Verify compares those as text
    return names


def _numerically_different(gold: object, pred: object) -> bool:
    """True when evaluation proves the two answers differ (cheap, sound disproof).

    Two exact expressions whose values differ at some point are different answers, so most
    wrong answers are rejected here without running simplify. Tuples and intervals are
    disproved by their parts (in order), as Math-Verify compares them.
    """
    if isinstance(gold, sympy.Tuple) and isinstance(pred, sympy.Tuple) and len(gold) == len(pred):
        return any(_numerically_different(g, p) for g, p in zip(gold, pred, strict=True))
    if isinstance(gold, sympy.Interval) and isinstance(pred, sympy.Interval):
        if (gold.left_open, gold.right_open) != (pred.left_open, pred.right_open):
            return True
        return _numerically_different(gold.start, pred.start) or _numerically_different(
            gold.end, pred.end
        )
    if not (_plain_expression(gold) and _plain_expression(pred)):
        return False
    names_g, names_p = _symbol_names(gold), _symbol_names(pred)
    if names_g is None or names_p is None:
        return False
    names = sorted(names_g | names_p)
    if len(names) > 6:
        return False
    for point in _points(names, 2 if names else 1, _is_branchy(gold, pred)):
        g_val, p_val = _evaluate(gold, point), _evaluate(pred, point)
        if g_val is not None and p_val is not None and not _close(g_val, p_val):
            return True
    return False


def _numeric_identity(gold: object, pred: object) -> bool:
    """Same function of the same variables, checked at random points to 40 digits.

    Catches identities simplify misses (``\\frac{v_0 (r_0/(r+r_0))^{1/2}}{r+r_0}`` vs
    ``\\frac{v_0}{r_0} (1+r/r_0)^{-3/2}``). Rounded decimals are exact rationals by now, so
    ``x+0.333`` never equals ``x+1/3`` here.
    """
    if not (_plain_expression(gold) and _plain_expression(pred)):
        return False
    names_g, names_p = _symbol_names(gold), _symbol_names(pred)
    if not names_g or names_g != names_p or len(names_g) > 6:
        return False
    checked = 0
    for point in _points(sorted(names_g), 4, _is_branchy(gold, pred)):
        g_val, p_val = _evaluate(gold, point), _evaluate(pred, point)
        if g_val is None or p_val is None:
            continue
        if not _close(g_val, p_val):
            return False
        checked += 1
    return checked >= 2


def _compared_side(gold: object, pred: object) -> object:
    """What Math-Verify compares a plain gold with: the last side of a stated equation."""
    if is_equation(pred) and not is_relation(gold):
        try:
            return take_last_relation(pred).rhs
        except Exception:  # noqa: BLE001
            return pred
    return pred


def _size(expr: object) -> int | None:
    if isinstance(expr, sympy.Tuple):
        return len(expr)
    if isinstance(expr, sympy.FiniteSet):
        return len(expr)
    if isinstance(expr, (sympy.Interval, sympy.Union)):
        return 2
    if isinstance(expr, sympy.MatrixBase):
        return expr.rows * expr.cols + 1
    if _plain_expression(expr):
        return 1
    return None


def _different_shapes(gold: object, pred: object) -> bool:
    """A number can never equal a pair, a set of two, an interval or a matrix."""
    g, p = _size(gold), _size(pred)
    if g is None or p is None:
        return False
    if (g == 1) != (p == 1):
        return True
    both_tuples = isinstance(gold, sympy.Tuple) and isinstance(pred, sympy.Tuple)
    return both_tuples and g != p


def equivalent(gold: object, pred: object, nested: bool = False) -> bool:
    """Whether ``pred`` names the same exact answer as ``gold`` (both already parsed)."""
    side = _compared_side(gold, pred)
    if _different_shapes(gold, side) or _numerically_different(gold, side):
        return False
    if _mv_equal(gold, pred):
        return True
    g2, p2 = _unlabel(gold), _unlabel(pred)
    if (g2 is not gold or p2 is not pred) and _mv_equal(g2, p2):
        return True
    if isinstance(g2, sympy.FiniteSet) and isinstance(p2, sympy.FiniteSet) and not nested:
        if _set_matching(g2, p2):
            return True
    return _numeric_identity(g2, p2)


def compare(gold: str, pred: str) -> tuple[bool, str]:
    """Worker entry point: parse both normalised answers and compare them."""
    complex_mode = should_treat_as_complex(gold) or should_treat_as_complex(pred)
    try:
        g = parse_answer(gold, complex_mode)
    except TooLarge as exc:
        return False, f"gold too large to compare: {exc}"
    except Exception:  # noqa: BLE001 - Unparseable, RecursionError, sympy's own errors
        return False, "gold answer could not be parsed"
    try:
        p = parse_answer(pred, complex_mode)
    except TooLarge as exc:
        return False, f"answer too large to compare: {exc}"
    except Exception:  # noqa: BLE001
        return False, "answer could not be parsed"
    try:
        same = equivalent(g, p)
    except (TooLarge, RecursionError):
        return False, "too large to compare"
    except Exception as exc:  # noqa: BLE001 - sympy raises many types on odd input
        return False, f"not equivalent (comparison error: {type(exc).__name__})"
    return (True, "equivalent (symbolic)") if same else (False, "not equivalent")
