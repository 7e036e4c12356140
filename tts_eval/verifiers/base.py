"""The Verifier interface, and reward models read through an engine's Scorer."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tts_eval.engines import ScoredSteps, Scorer, ScoringError

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
    the model's score for a step is read at its tag, and the count is checked. ``delimiter``
    is what ends a step in the generator's text (what ``split`` splits on).
    """

    step_tag: str
    split: Callable[[str], list[str]]
    render: Callable[[str, list[str]], str]
    delimiter: str = "\n\n"


@dataclass(frozen=True)
class Reading:
    """What a reward model is sent for one solution: the ids, and the position of each
    step's score in them (None: one score for the whole solution)."""

    token_ids: list[int]
    positions: list[int] | None


class RewardModelVerifier:
    """A verifier that reads a reward model through a Scorer. Subclasses say how a solution
    is shown to the model (``reading``); scoring, counting and pricing are shared."""

    whole_solution = False  # True: one score per solution (an outcome reward model)

    def __init__(self, scorer: Scorer, delimiter: str) -> None:
        self.scorer = scorer
        self._delimiter = delimiter

    @property
    def model_config(self) -> dict[str, Any] | str:
        """The reward model's config: it must be here (None would price its readings as an
        oracle's, free)."""
        config = self.scorer.model_config
        if config is None:
            name = getattr(self.scorer, "pretrained", "the reward model")
            raise ValueError(f"verifier model {name}: its config.json is "
                             "not here, so its readings cannot be priced; give "
                             "verifier_model as a local directory or a model in the HF cache")
        return config

    @property
    def step_delimiter(self) -> str:
        return self._delimiter

    def reading(self, index: int, prompt: str, solution: str) -> Reading:
        raise NotImplementedError

    def _readings(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[Reading]:
        return [self.reading(i, prompt, solution)
                for i, (prompt, solution) in enumerate(zip(prompts, solutions, strict=True))]

    def score(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[ScoredSteps]:
        readings = self._readings(prompts, solutions)
        if self.whole_solution:
            ids = [r.token_ids for r in readings]
            values = self.scorer.score_sequences(ids)
            return [ScoredSteps([v], len(t)) for v, t in zip(values, ids, strict=True)]
        # a solution with no steps has nothing to score: it is not sent (nor charged)
        sent = [i for i, r in enumerate(readings) if r.positions]
        rows = self.scorer.score_positions([readings[i].token_ids for i in sent],
                                           [readings[i].positions or [] for i in sent])
        out = [ScoredSteps([], 0) for _ in readings]
        for i, row in zip(sent, rows, strict=True):
            out[i] = ScoredSteps(row, len(readings[i].token_ids))
        return out

    def read_tokens(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[int]:
        return [len(r.token_ids) if self.whole_solution or r.positions else 0
                for r in self._readings(prompts, solutions)]


class ProcessRewardVerifier(RewardModelVerifier):
    """A PRM that reads a tag token after each step (Qwen2.5-Math-PRM, Math-Shepherd, the
    toy PRM): each solution split into steps, rendered in the model's format, and scored at
    every tag. A tag string inside a generated step is removed first, so a sample cannot
    shift the steps' scores by writing one."""

    def __init__(self, scorer: Scorer, step_format: StepFormat) -> None:
        super().__init__(scorer, step_format.delimiter)
        self.step_format = step_format

    def _ids(self, prompt: str, steps: list[str]) -> list[int]:
        return self.scorer.token_ids(self.step_format.render(prompt, steps))

    def reading(self, index: int, prompt: str, solution: str) -> Reading:
        tag = self.step_format.step_tag
        tag_id = self.scorer.single_token_id(tag)
        steps = [step.replace(tag, "") for step in self.step_format.split(solution)]
        ids = self._ids(prompt, steps)
        positions = [i for i, token in enumerate(ids) if token == tag_id]
        if len(positions) != len(steps):
            bad = next(k for k in range(len(steps))
                       if self._ids(prompt, steps[:k + 1]).count(tag_id) != k + 1)
            raise ScoringError(
                f"solution {index}: {len(steps)} steps but {len(positions)} {tag!r} tags in "
                f"what the reward model reads; step {bad + 1} ({steps[bad][:60]!r}) does not "
                "end in exactly one tag token: the preset's format does not fit this "
                "model's tokenizer")
        return Reading(ids, positions)
