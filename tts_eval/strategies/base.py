"""What every test-time scaling strategy shares.

A strategy turns a batch of problems into TTS records using only an engine (and,
for verifier-guided strategies, a verifier). It never sees lm-eval or vLLM, so each
new algorithm (beam search, DVTS, REBASE, budget forcing, ...) is one new file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from tts_eval.engines.base import Engine, Generation, SamplingSpec
from tts_eval.grading import extract_answer
from tts_eval.records import SampleRecord, TTSRecord


@dataclass(frozen=True)
class Problem:
    """One request: the prompt, how to sample it, and how to read its answers."""

    prompt: str
    sampling: SamplingSpec
    answer_kind: str = "math"


class Strategy(ABC):
    """Base class. Subclasses set ``name`` and implement ``run``."""

    name: ClassVar[str]

    def __init__(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError(f"strategy {self.name!r}: n must be >= 1, got n={n}")
        self.n = n

    @property
    def params(self) -> dict[str, Any]:
        """What a record states about how it was produced."""
        return {"n": self.n}

    @abstractmethod
    def run(self, problems: Sequence[Problem], engine: Engine) -> list[TTSRecord]:
        """Solve every problem; one record per problem, in order."""

    # Shared helpers -----------------------------------------------------------

    def sample_all(
        self, problems: Sequence[Problem], engine: Engine, **overrides: Any
    ) -> list[Generation]:
        """One engine call for the whole batch: ``n`` samples per prompt share its prefix."""
        specs = [replace(p.sampling, **overrides) for p in problems]
        return engine.generate([p.prompt for p in problems], specs)

    def make_record(
        self,
        problem: Problem,
        generation: Generation,
        chosen_index: int | None,
        clusters: list[int] | None = None,
        answers: list[str | None] | None = None,
    ) -> TTSRecord:
        if answers is None:
            answers = [extract_answer(c.text, problem.answer_kind) for c in generation.completions]
        samples = [
            SampleRecord(
                text=c.text,
                answer=a,
                prompt_tokens=generation.prompt_tokens,
                completion_tokens=c.completion_tokens,
                finish_reason=c.finish_reason,
            )
            for c, a in zip(generation.completions, answers, strict=True)
        ]
        spec = problem.sampling
        return TTSRecord(
            strategy=self.name,
            params={
                **self.params,
                "temperature": spec.temperature,
                "top_p": spec.top_p,
                "top_k": spec.top_k,
                "max_tokens": spec.max_tokens,
            },
            answer_kind=problem.answer_kind,
            seed=spec.seed,
            samples=samples,
            chosen_index=chosen_index,
            chosen_answer=None if chosen_index is None else answers[chosen_index],
            prompt_tokens=generation.prompt_tokens,
            cached_prompt_tokens=generation.cached_prompt_tokens,
            clusters=clusters,
        )
