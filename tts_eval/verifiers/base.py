"""The Verifier interface, and a process reward model read through an engine's Scorer."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tts_eval.engines import ScoredSteps, Scorer

AGGREGATES = ("last", "min", "prod", "mean")
"""How step scores become one solution score; ``last`` is Snell et al.'s choice."""


class Verifier(Protocol):
    """What a strategy may ask of a verifier."""

    def score(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[ScoredSteps]:
        """For each solution (answering the prompt at the same index), one score in [0, 1]
        per step, in order, and the tokens read to get them."""
        ...

    def read_tokens(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[int]:
        """The tokens ``score`` would read for each solution, without reading them: a
        budget checks them before it pays."""
        ...

    @property
    def step_delimiter(self) -> str:
        """Where this verifier's steps end in a generated solution; search strategies stop
        each step there."""
        ...

    @property
    def model_config(self) -> dict[str, Any] | str | None:
        """The verifier model's config, to price what it reads (None: it reads no tokens,
        as an oracle)."""
        ...


def aggregate(scores: Sequence[float], how: str = "last") -> float:
    """One score for a solution from its step scores (no steps: 0, it said nothing)."""
    if how not in AGGREGATES:
        raise ValueError(f"unknown aggregate {how!r}; valid: {', '.join(AGGREGATES)}")
    if not scores:
        return 0.0
    if how == "last":
        return float(scores[-1])
    if how == "min":
        return float(min(scores))
    if how == "prod":
        return float(math.prod(scores))
    return float(sum(scores) / len(scores))


@dataclass(frozen=True)
class StepFormat:
    """How a PRM reads a solution: where its steps end, and the text it is shown.

    ``render(prompt, steps)`` must put ``step_tag`` after every step, exactly once per step:
    the scorer returns one score per tag, and the count is checked. ``delimiter`` is what
    ends a step in the generator's text (what ``split`` splits on).
    """

    step_tag: str
    split: Callable[[str], list[str]]
    render: Callable[[str, list[str]], str]
    delimiter: str = "\n\n"


class ProcessRewardVerifier:
    """A PRM: each solution split into steps, rendered in the model's format, scored per tag."""

    def __init__(self, scorer: Scorer, step_format: StepFormat) -> None:
        self.scorer = scorer
        self.step_format = step_format

    @property
    def model_config(self) -> dict[str, Any] | str:
        return self.scorer.model_config

    @property
    def step_delimiter(self) -> str:
        return self.step_format.delimiter

    def _render(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[str]:
        fmt = self.step_format
        return [fmt.render(prompt, fmt.split(solution))
                for prompt, solution in zip(prompts, solutions, strict=True)]

    def score(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[ScoredSteps]:
        return self.scorer.score_steps(self._render(prompts, solutions),
                                       self.step_format.step_tag)

    def read_tokens(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[int]:
        return [self.scorer.count_tokens(text) for text in self._render(prompts, solutions)]
