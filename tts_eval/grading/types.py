"""Small shared vocabulary of the grading package: answer kinds, the Grade verdict, limits.

Kept free of heavy imports: this module is imported by every caller of the grader,
including processes that never parse a formula.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS: tuple[str, ...] = ("math", "integer", "choice")
"""Answer kinds the grader understands: free-form MATH answers, AIME integers, GPQA letters."""

DEFAULT_TIMEOUT: float = 5.0
"""Hard wall-clock limit, in seconds, for one symbolic comparison in a worker process."""


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is one of :data:`KINDS`, else raise a ValueError naming them.

    Every public entry point calls this first, so a typo fails loudly instead of
    silently grading with the wrong rules.
    """
    if kind not in KINDS:
        raise ValueError(
            f"unknown answer kind {kind!r}: valid kinds are {', '.join(map(repr, KINDS))}"
        )
    return kind


@dataclass(frozen=True, slots=True)
class Grade:
    """The verdict on one (response, gold) pair.

    ``extracted`` is the final answer found in the response (None when there is none),
    ``reason`` says in words why the verdict was reached (useful when re-grading a run),
    ``evidence`` quotes the words the answer came from, where the grader keeps them (the
    sentence a choice letter was committed in).
    """

    correct: bool
    extracted: str | None
    reason: str
    evidence: str = ""
