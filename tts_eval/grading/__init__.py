"""Answer extraction and equivalence grading, shared by every task, strategy and CLI.

Stand-alone on purpose: importing this package imports neither vLLM, lm-eval, torch nor
even sympy. Symbolic comparisons run in separate worker processes (started on first need)
with a hard timeout each; model text is never executed.

Public API::

    grade(response, gold, kind="math") -> Grade(correct, extracted, reason)
    grade_many([(response, gold), ...], kind="math", workers=None) -> list[Grade]
    extract_answer(response, kind="math") -> str | None
    same_answer(a, b, kind="math") -> bool
    cluster_answers([a, b, None, ...], kind="math") -> [0, 1, -1, ...]
    KINDS == ("math", "integer", "choice")
"""

from .api import cluster_answers, grade, grade_many, same_answer
from .extract import extract_answer
from .types import DEFAULT_TIMEOUT, KINDS, Grade

__all__ = [
    "DEFAULT_TIMEOUT",
    "KINDS",
    "Grade",
    "cluster_answers",
    "extract_answer",
    "grade",
    "grade_many",
    "same_answer",
]
