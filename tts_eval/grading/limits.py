"""Cheap size limits checked in the caller's process before an answer reaches sympy.

They reject, in microseconds and without a worker round trip, the inputs that exist only
to hang a grader: exponent towers, huge factorials, thousands of nested braces, megabyte
answers. The worker repeats a stricter check on the parsed tree (symbolic.check_size),
and the hard timeout covers whatever slips through both.
"""

from __future__ import annotations

import re

MAX_ANSWER_CHARS = 500
"""No MATH-500 / AIME answer is longer than ~200 characters; longer ones are derivations."""
MAX_NESTING = 30
MAX_CARETS = 30
MAX_EXPONENT_NESTING = 2
"""``a^{b^{c}}`` is fine; ``a^{b^{c^{d}}}`` is a tower that only exists to hang a grader."""
MAX_DIGIT_RUN = 400
MAX_FACTORIAL_DIGITS = 4
"""``9999!`` may go to a worker (which rejects results above 2000 digits); ``10000!`` and
larger are rejected here without one."""

_DIGIT_RUN_RE = re.compile(rf"\d{{{MAX_DIGIT_RUN + 1},}}")
_BIG_FACTORIAL_RE = re.compile(rf"\d{{{MAX_FACTORIAL_DIGITS + 1},}}\s*!")
_GROUP_FACTORIAL_RE = re.compile(r"[})]\s*!\s*!|!\s*!\s*!")


def size_problem(answer: str) -> str | None:
    """Why ``answer`` is too large to compare symbolically, or None if it is fine."""
    if len(answer) > MAX_ANSWER_CHARS:
        return f"longer than {MAX_ANSWER_CHARS} characters"
    if answer.count("^") > MAX_CARETS:
        return f"more than {MAX_CARETS} exponents"
    if _DIGIT_RUN_RE.search(answer):
        return f"a number with more than {MAX_DIGIT_RUN} digits"
    if _BIG_FACTORIAL_RE.search(answer):
        return "factorial of a number with more than 4 digits"
    if _GROUP_FACTORIAL_RE.search(answer):
        return "iterated factorial"
    depth = max_depth = 0
    exponent_depths: list[int] = []  # brace depths at which an exponent group was opened
    after_caret = False
    for ch in answer:
        if ch in "{([":
            depth += 1
            max_depth = max(max_depth, depth)
            if after_caret and ch == "{":
                exponent_depths.append(depth)
                if len(exponent_depths) > MAX_EXPONENT_NESTING:
                    return "an exponent tower"
        elif ch in "})]":
            if exponent_depths and exponent_depths[-1] == depth:
                exponent_depths.pop()
            depth -= 1
            if depth < 0:
                return "unbalanced brackets"
        if ch != " ":
            after_caret = ch == "^"
    if max_depth > MAX_NESTING:
        return f"nested deeper than {MAX_NESTING} levels"
    if depth != 0:
        return "unbalanced brackets"
    return None
