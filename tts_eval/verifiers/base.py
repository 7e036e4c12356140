"""The Verifier interface, and a process reward model read through an engine's Scorer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tts_eval.engines import Scorer


class Verifier(Protocol):
    """What a strategy may ask of a verifier."""

    def score(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[list[float]]:
        """For each solution (answering the prompt at the same index), one score in [0, 1]
        per step, in order."""
        ...


@dataclass(frozen=True)
class StepFormat:
    """How a PRM reads a solution: where its steps end, and the text it is shown.

    ``render(prompt, steps)`` must put ``step_tag`` after every step, exactly once per step:
    the scorer returns one score per tag, and the count is checked.
    """

    step_tag: str
    split: Callable[[str], list[str]]
    render: Callable[[str, list[str]], str]


class ProcessRewardVerifier:
    """A PRM: each solution split into steps, rendered in the model's format, scored per tag."""

    def __init__(self, scorer: Scorer, step_format: StepFormat) -> None:
        self.scorer = scorer
        self.step_format = step_format

    def score(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[list[float]]:
        fmt = self.step_format
        texts = [fmt.render(prompt, fmt.split(solution))
                 for prompt, solution in zip(prompts, solutions, strict=True)]
        return self.scorer.score_steps(texts, fmt.step_tag)
