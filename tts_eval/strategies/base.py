"""What every test-time scaling strategy shares: batched sampling, accounting, budgets.

A strategy turns a batch of problems into TTS records using only an engine (and,
for verifier-guided strategies, a verifier). It never sees lm-eval or vLLM, so each
new algorithm (beam search, DVTS, REBASE, budget forcing, ...) is one new file.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from tts_eval.accounting.budget import Budget, BudgetError, Cost, Pricer
from tts_eval.engines.base import Completion, Engine, SamplingSpec
from tts_eval.grading import extract_answer
from tts_eval.records import SampleRecord, TTSRecord

# With a budget, samples come in rounds: each round draws as many samples as fit in the
# budget if every one of them ran to max_tokens; samples that stop early leave room for
# another round. These caps keep a generous budget from running away.
MAX_BUDGET_SAMPLES = 1024
MAX_BUDGET_ROUNDS = 32


@dataclass(frozen=True)
class Problem:
    """One request: the prompt, how to sample it, and how to read its answers."""

    prompt: str
    sampling: SamplingSpec
    answer_kind: str = "math"


@dataclass
class Sampled:
    """Every sample one problem got (over one or more rounds) and what each cost."""

    prompt_tokens: int
    cached_prompt_tokens: int
    completions: list[Completion] = field(default_factory=list)
    sample_costs: list[Cost] = field(default_factory=list)
    cost: Cost = field(default_factory=Cost)
    budget: dict[str, Any] | None = None
    model: dict[str, Any] = field(default_factory=dict)


def round_seed(seed: int | None, round_index: int) -> int | None:
    """Round 0 keeps the request's seed (so it matches a fixed-n run); later rounds differ."""
    if seed is None or round_index == 0:
        return seed
    digest = hashlib.sha256(f"{seed}:{round_index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class Strategy(ABC):
    """Base class. Subclasses set ``name`` and implement ``run``."""

    name: ClassVar[str]

    def __init__(self, n: int | None = None, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()
        if n is None:
            n = MAX_BUDGET_SAMPLES if self.budget.is_set else 1
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

    # Sampling ----------------------------------------------------------------------

    def sample_all(
        self, problems: Sequence[Problem], engine: Engine, n: int | None = None,
        **overrides: Any,
    ) -> list[Sampled]:
        """Up to ``n`` samples per problem in batched engine calls, within the budget.

        Without a budget: one engine call, ``n`` samples per prompt sharing its prefix.
        """
        n = n or self.n
        pricer = Pricer(engine.model_config)
        specs = [replace(p.sampling, **overrides) for p in problems]
        prompts = [p.prompt for p in problems]
        if not self.budget.is_set:
            generations = engine.generate(prompts, [replace(s, n=n) for s in specs])
            model = pricer.model_info()
            results = []
            for generation in generations:
                sampled = Sampled(generation.prompt_tokens, generation.cached_prompt_tokens,
                                  cost=pricer.prefill(generation.prompt_tokens), model=model)
                self._add(sampled, generation.completions, pricer)
                results.append(sampled)
            return results
        return self._sample_within_budget(prompts, specs, engine, pricer, n)

    def _add(self, sampled: Sampled, completions: list[Completion], pricer: Pricer) -> None:
        for completion in completions:
            cost = pricer.sample(sampled.prompt_tokens, completion.completion_tokens)
            sampled.completions.append(completion)
            sampled.sample_costs.append(cost)
            sampled.cost = sampled.cost + cost

    def _sample_within_budget(
        self, prompts: list[str], specs: list[SamplingSpec], engine: Engine, pricer: Pricer,
        n: int,
    ) -> list[Sampled]:
        prompt_tokens = [engine.count_tokens(p) for p in prompts]
        prefill = [pricer.prefill(t) for t in prompt_tokens]
        worst = [pricer.sample(t, s.max_tokens) for t, s in zip(prompt_tokens, specs, strict=True)]
        planned = [min(n, self.budget.how_many(Cost(), f, w))
                   for f, w in zip(prefill, worst, strict=True)]
        self._check_one_answer_fits(planned, prefill, worst, specs)
        model = pricer.model_info()
        results = [Sampled(t, 0, cost=f, model=model,
                           budget={**self.budget.to_dict(), "planned_samples": k,
                                   "planned": (f + w.times(k)).to_dict(), "rounds": 0})
                   for t, f, w, k in zip(prompt_tokens, prefill, worst, planned, strict=True)]
        active = list(range(len(prompts)))
        for round_index in range(MAX_BUDGET_ROUNDS):
            wanted = {i: min(n - len(results[i].completions),
                             self.budget.how_many(results[i].cost, Cost(), worst[i]))
                      for i in active}
            active = [i for i in active if wanted[i] >= 1]
            if not active:
                break
            generations = engine.generate(
                [prompts[i] for i in active],
                [replace(specs[i], n=wanted[i], seed=round_seed(specs[i].seed, round_index))
                 for i in active],
            )
            for i, generation in zip(active, generations, strict=True):
                results[i].prompt_tokens = generation.prompt_tokens
                results[i].cached_prompt_tokens += generation.cached_prompt_tokens
                self._add(results[i], generation.completions, pricer)
                results[i].budget["rounds"] = round_index + 1
        for sampled in results:
            assert self.budget.fits(sampled.cost), "budget accounting broke: spent past the limit"
        return results

    def _check_one_answer_fits(self, planned, prefill, worst, specs) -> None:
        short = [i for i, k in enumerate(planned) if k < 1]
        if not short:
            return
        i = short[0]
        need = prefill[i] + worst[i]
        raise BudgetError(
            f"budget {self.budget.to_dict()} cannot buy one answer for {len(short)} of "
            f"{len(planned)} problems: problem {i} needs up to {need.total_tokens} tokens / "
            f"{need.total_flops:.3e} FLOPs for its prompt ({need.prompt_tokens} tokens) plus one "
            f"sample of max_gen_toks={specs[i].max_tokens}. Raise budget_tokens/budget_flops "
            "or lower max_gen_toks. Nothing was generated."
        )

    # Records -----------------------------------------------------------------------

    def make_record(
        self,
        problem: Problem,
        sampled: Sampled,
        chosen_index: int | None,
        clusters: list[int] | None = None,
        answers: list[str | None] | None = None,
    ) -> TTSRecord:
        if answers is None:
            answers = [extract_answer(c.text, problem.answer_kind) for c in sampled.completions]
        samples = [
            SampleRecord(
                text=c.text,
                answer=a,
                prompt_tokens=sampled.prompt_tokens,
                completion_tokens=c.completion_tokens,
                finish_reason=c.finish_reason,
                flops=cost.generator_flops,
            )
            for c, a, cost in zip(sampled.completions, answers, sampled.sample_costs, strict=True)
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
            prompt_tokens=sampled.prompt_tokens,
            cached_prompt_tokens=sampled.cached_prompt_tokens,
            clusters=clusters,
            cost=sampled.cost.to_dict(),
            budget=sampled.budget,
            model=sampled.model,
        )

