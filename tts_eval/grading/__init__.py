"""Answer extraction and equivalence grading, shared by every task, strategy and CLI.

Stand-alone on purpose: importing this package imports neither vLLM, lm-eval, torch nor
even sympy. Symbolic comparisons run in separate worker processes (started on first need)
with a hard timeout each; model text is never executed.

Public API::

    grade(response, gold, kind="math", options=None)
        -> Grade(correct, extracted, reason, evidence)
    grade_many([(response, gold), ...], kind="math", workers=None, options=None)
        -> list[Grade]   (options: per pair, the option texts of a multiple-choice row)
    extract_answer(response, kind="math") -> str | None
    read_choices([response, ...], options=None) -> [(letter | None, rule, evidence), ...]
    options_in_prompt(prompt) -> [text of A, B, C, D] | None
    same_answer(a, b, kind="math") -> bool
    same_as_gold([a, b, None, ...], gold, kind="math") -> [bool, ...]   (one batch)
    cluster_answers([a, b, None, ...], kind="math") -> [0, 1, -1, ...]
    cluster_many([[a, b], [c, None], ...], kind="math") -> [[0, 1], [0, -1], ...]
    KINDS == ("math", "integer", "choice")
"""

from .api import (
    cluster_answers,
    cluster_many,
    grade,
    grade_many,
    read_choices,
    same_answer,
    same_as_gold,
    warm_up,
)
from .choice import options_in_prompt
from .extract import extract_answer
from .types import DEFAULT_TIMEOUT, KINDS, Grade

__all__ = [
    "DEFAULT_TIMEOUT",
    "KINDS",
    "Grade",
    "cluster_answers",
    "cluster_many",
    "extract_answer",
    "grade",
    "grade_many",
    "options_in_prompt",
    "read_choices",
    "same_answer",
    "same_as_gold",
    "warm_up",
]
