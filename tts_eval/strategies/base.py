"""What every test-time scaling strategy shares: batched sampling within a budget, records.

A strategy turns a batch of problems into TTS records through three narrow things in its
:class:`Context`: an engine (generate), a verifier (score; None when not configured) and a
meter (each problem's ledger: afford / charge). It never sees lm-eval or vLLM, so each new
algorithm (beam search, DVTS, REBASE, budget forcing, ...) is one new file.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from tts_eval.accounting import Budget, BudgetError, Cost, Meter, Pricer
from tts_eval.engines import Completion, Engine, SamplingSpec, ScoredSteps
from tts_eval.grading import extract_answer, read_choices
from tts_eval.records import ModelRecord, SampleRecord, TTSRecord
from tts_eval.strategies.thinking import (
    ThinkFormat,
    Thought,
    shortest_prefix_with,
    split_thought,
)
from tts_eval.verifiers import Verifier

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
    options: tuple[str, ...] | None = None  # a multiple-choice problem's option texts, A first
    think: ThinkFormat | None = None  # a reasoning model's delimiters (ids filled in)
    revision_prompt: str | None = None  # the task's text between attempts (revisions)


@dataclass
class Context:
    """What a strategy may use while it solves one batch of problems."""

    engine: Engine
    meter: Meter
    verifier: Verifier | None = None


@dataclass
class ProblemDraws:
    """Every sample one problem drew (over one or more rounds) and each sample's cost."""

    prompt_tokens: int
    cached_prompt_tokens: int
    completions: list[Completion] = field(default_factory=list)
    sample_costs: list[Cost] = field(default_factory=list)
    budget: dict[str, Any] | None = None
    readings: list[ScoredSteps | None] = field(default_factory=list)  # None: not read (budget)


UNCLOSED = "no answer: thinking never closed"


@dataclass
class SampleAnswers:
    """The answer read from each sample of one problem, how it was found (or why none was),
    and for a reasoning model where each sample's thinking ended."""

    answers: list[str | None]
    rules: list[str | None]
    thoughts: list[Thought] | None = None

    def __post_init__(self) -> None:
        if self.thoughts is None:
            return
        for j, thought in enumerate(self.thoughts):
            if thought.answer_text is None:  # the thinking never closed
                self.answers[j], self.rules[j] = None, UNCLOSED


def sample_answers(problem: Problem, completions: Sequence[Completion],
                   engine: Engine | None = None) -> SampleAnswers:
    """Each sample's answer, read as the problem's kind reads it: a choice commits to a
    letter or names one of the problem's options (grading.read_choices). A reasoning
    model's answer is read only after its thinking ends (``engine`` decodes the ids)."""
    thoughts = None
    texts = [c.text for c in completions]
    if problem.think is not None:
        if engine is None:
            raise ValueError("reading a reasoning model's answers needs its engine")
        thoughts = [split_thought(problem.think, problem.prompt, c.text, c.token_ids,
                                  engine.decode) for c in completions]
        texts = ["" if t.answer_text is None else t.answer_text for t in thoughts]
    if problem.answer_kind == "choice":
        found = read_choices(texts, [problem.options] * len(texts) if problem.options else None)
        return SampleAnswers([letter for letter, _, _ in found], [rule for _, rule, _ in found],
                             thoughts)
    return SampleAnswers([extract_answer(t, problem.answer_kind) for t in texts],
                         [None] * len(texts), thoughts)


def generated_ids(completion: Completion, decode: Callable[[Sequence[int]], str]) -> list[int]:
    """The ids of what the model wrote, without what ended it: vLLM keeps the EOS or stop
    token as the last id, and a stop string's tokens too, while the text drops them. A
    strategy that feeds a completion back to the model (revisions) must drop them as well."""
    ids = list(completion.token_ids)
    if completion.finish_reason != "stop" or not ids:
        return ids
    if not isinstance(completion.stop_reason, str):
        return ids[:-1]  # EOS, or a stop token
    end = shortest_prefix_with(completion.stop_reason, ids, decode) - 1
    while end > 0 and not completion.text.startswith(decode(ids[:end])):
        end -= 1  # a stop string that began inside an earlier token
    return ids[:end]


def read_within_budget(
    ctx: Context, owners: Sequence[int], prompts: Sequence[str], texts: Sequence[str]
) -> list[ScoredSteps | None]:
    """The verifier reads every text in one call, each charged to the problem that owns
    it. With a budget, each exact reading is paid before it happens, and a text whose
    reading no longer fits is not read (None)."""
    budgeted = ctx.meter.budget.is_set and ctx.verifier.model_config is not None
    read = list(range(len(texts)))
    if budgeted:
        tokens = ctx.verifier.read_tokens(prompts, texts)
        read = []
        for j, owner in enumerate(owners):
            if ctx.meter.afford(owner, ctx.meter.pricer.verify(tokens[j])) >= 1:
                ctx.meter.charge_verifier(owner, tokens[j])
                read.append(j)
    scored = (ctx.verifier.score([prompts[j] for j in read], [texts[j] for j in read])
              if read else [])
    out: list[ScoredSteps | None] = [None] * len(texts)
    for j, steps in zip(read, scored, strict=True):
        if not budgeted:
            ctx.meter.charge_verifier(owners[j], steps.tokens)
        out[j] = steps
    return out


def worst_reading(ctx: Context, prompt: str, solution: str, new_tokens: int) -> Cost:
    """The most a verifier reading is planned to cost once ``new_tokens`` more tokens are
    generated after ``solution``: its exact reading of what exists plus one verifier token
    per new token (the exact count is checked before each reading; what no longer fits
    stays unread). Nothing when the verifier reads no tokens."""
    if ctx.verifier is None or ctx.verifier.model_config is None:
        return Cost()
    (read,) = ctx.verifier.read_tokens([prompt], [solution])
    return ctx.meter.pricer.verify(read + new_tokens)


def model_record(pricer: Pricer) -> ModelRecord | None:
    """The generator's size for a record (None: unknown, its config is not here)."""
    info = pricer.model_info()
    return None if info is None else ModelRecord(**info)


def derive_seed(seed: int | None, label: object) -> int | None:
    """A seed for one labelled request of a problem whose request seed is ``seed``: the
    same (seed, label) always gives the same seed, different labels differ."""
    if seed is None:
        return None
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def round_seed(seed: int | None, round_index: int) -> int | None:
    """Round 0 keeps the request's seed (so it matches a fixed-n run); later rounds differ."""
    return seed if round_index == 0 else derive_seed(seed, round_index)


class Strategy(ABC):
    """Base class. Subclasses set ``name`` and implement ``run``."""

    name: ClassVar[str]
    uses_verifier: ClassVar[bool] = False
    extra_args: ClassVar[tuple[str, ...]] = ()  # what it reads beyond n and the budget
    # Its n samples are independent draws, so any k of them are this strategy at n=k:
    # one run gives the whole curve (reports, calibration). Searches and chains: False.
    independent_samples: ClassVar[bool] = False

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
    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        """Solve every problem; one record per problem, in order."""

    def solve(
        self, problems: Sequence[Problem], engine: Engine, verifier: Verifier | None = None
    ) -> list[TTSRecord]:
        """``run`` with a fresh context: this strategy's budget, priced for ``engine`` (and
        for ``verifier``, whose reading is charged apart from the generator's)."""
        if self.uses_verifier and verifier is None:
            raise ValueError(
                f"strategy {self.name!r} needs a verifier: add verifier=NAME (and, for a "
                "reward model, verifier_model=PATH) to --model_args"
            )
        verifier_config = verifier.model_config if verifier is not None else None
        pricer = Pricer(engine.model_config, verifier_config)
        meter = Meter(pricer, self.budget, len(problems))
        return self.run(problems, Context(engine, meter, verifier))

    def read_draws(
        self, problems: Sequence[Problem], draws: Sequence[ProblemDraws], ctx: Context
    ) -> None:
        """The verifier reads every sample not read yet, of every problem, in one call; what
        it reads is charged to each problem as verifier tokens and FLOPs. With a budget, a
        sample is read only if its exact reading still fits (else its reading stays None)."""
        if ctx.verifier is None:
            raise ValueError(f"strategy {self.name!r} needs a verifier")
        prompts, texts, owners = [], [], []  # owners: (problem, slot in its readings)
        for index, (problem, draw) in enumerate(zip(problems, draws, strict=True)):
            for completion in draw.completions[len(draw.readings):]:
                prompts.append(problem.prompt)
                texts.append(completion.text)
                owners.append((index, len(draw.readings)))
                draw.readings.append(None)
        readings = read_within_budget(ctx, [index for index, _ in owners], prompts, texts)
        for (index, slot), steps in zip(owners, readings, strict=True):
            draws[index].readings[slot] = steps

    def draw(
        self, problems: Sequence[Problem], ctx: Context, n: int | None = None,
        read: bool = False, **overrides: Any,
    ) -> list[ProblemDraws]:
        """Up to ``n`` samples per problem in batched engine calls, within the budget;
        with ``read``, each round's samples are read by the verifier before the next round
        is planned, so its reading is paid for out of the same budget.

        Without a budget: one engine call, ``n`` samples per prompt sharing its prefix.
        """
        n = n or self.n
        specs = [replace(p.sampling, **overrides) for p in problems]
        prompts = [p.prompt for p in problems]
        if not ctx.meter.budget.is_set:
            generations = ctx.engine.generate(prompts, [replace(s, n=n) for s in specs])
            draws = []
            for i, generation in enumerate(generations):
                draw = ProblemDraws(generation.prompt_tokens, generation.cached_prompt_tokens)
                ctx.meter.charge_prefill(i, generation.prompt_tokens)
                self._add(i, draw, generation.completions, ctx.meter)
                draws.append(draw)
            if read:
                self.read_draws(problems, draws, ctx)
            return draws
        return self._draw_within_budget(problems, specs, ctx, n, read)

    @staticmethod
    def _add(i: int, draw: ProblemDraws, completions: list[Completion], meter: Meter) -> None:
        for completion in completions:
            cost = meter.charge_sample(i, draw.prompt_tokens, completion.completion_tokens)
            draw.completions.append(completion)
            draw.sample_costs.append(cost)

    def _draw_within_budget(
        self, problems: Sequence[Problem], specs: list[SamplingSpec], ctx: Context, n: int,
        read: bool,
    ) -> list[ProblemDraws]:
        meter, pricer = ctx.meter, ctx.meter.pricer
        prompts = [p.prompt for p in problems]
        prompt_tokens = [ctx.engine.count_tokens(p, s.add_special_tokens)
                         for p, s in zip(prompts, specs, strict=True)]
        prefill = [pricer.prefill(t) for t in prompt_tokens]
        worst = [pricer.sample(t, s.max_tokens) for t, s in zip(prompt_tokens, specs, strict=True)]
        if read:
            worst = [w + worst_reading(ctx, p, "", s.max_tokens)
                     for w, p, s in zip(worst, prompts, specs, strict=True)]
        planned = [min(n, meter.afford(i, w, fixed=f))
                   for i, (f, w) in enumerate(zip(prefill, worst, strict=True))]
        self._check_one_answer_fits(planned, prefill, worst, specs)
        draws = []
        for i, (t, f, w, k) in enumerate(zip(prompt_tokens, prefill, worst, planned,
                                             strict=True)):
            meter.charge(i, f)
            draws.append(ProblemDraws(t, 0, budget={
                **self.budget.to_dict(), "planned_samples": k,
                "planned": (f + w.times(k)).to_dict(), "rounds": 0}))
        active = list(range(len(prompts)))
        for round_index in range(MAX_BUDGET_ROUNDS):
            wanted = {i: min(n - len(draws[i].completions), meter.afford(i, worst[i]))
                      for i in active}
            active = [i for i in active if wanted[i] >= 1]
            if not active:
                break
            generations = ctx.engine.generate(
                [prompts[i] for i in active],
                [replace(specs[i], n=wanted[i], seed=round_seed(specs[i].seed, round_index))
                 for i in active],
            )
            for i, generation in zip(active, generations, strict=True):
                draws[i].prompt_tokens = generation.prompt_tokens
                draws[i].cached_prompt_tokens += generation.cached_prompt_tokens
                self._add(i, draws[i], generation.completions, meter)
                draws[i].budget["rounds"] = round_index + 1
            if read:
                self.read_draws(problems, draws, ctx)
        return draws

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

    def record_params(self, problem: Problem) -> dict[str, Any]:
        """The strategy's parameters and the problem's sampling, as a record states them."""
        spec = problem.sampling
        return {**self.params, "temperature": spec.temperature, "top_p": spec.top_p,
                "top_k": spec.top_k, "max_tokens": spec.max_tokens}

    def make_record(
        self,
        problem: Problem,
        draws: ProblemDraws,
        ctx: Context,
        index: int,
        chosen_index: int | None,
        clusters: list[int] | None = None,
        answers: SampleAnswers | None = None,
        scored: Sequence[tuple[float, list[float]]] | None = None,
    ) -> TTSRecord:
        """The record of problem ``index`` of the batch; its cost is what the meter charged."""
        if answers is None:
            answers = sample_answers(problem, draws.completions, ctx.engine)
        thoughts = answers.thoughts or [None] * len(draws.completions)
        samples = [
            SampleRecord(
                text=c.text,
                answer=a,
                prompt_tokens=draws.prompt_tokens,
                completion_tokens=c.completion_tokens,
                finish_reason=c.finish_reason,
                flops=cost.generator_flops,
                answer_rule=rule,
                score=None if scored is None else scored[j][0],
                step_scores=None if scored is None else scored[j][1],
                thinking_tokens=None if thought is None else thought.thinking_tokens,
                answer_tokens=None if thought is None else thought.answer_tokens,
            )
            for j, (c, a, rule, cost, thought) in enumerate(zip(
                draws.completions, answers.answers, answers.rules, draws.sample_costs,
                thoughts, strict=True))
        ]
        return TTSRecord(
            strategy=self.name,
            params=self.record_params(problem),
            answer_kind=problem.answer_kind,
            seed=problem.sampling.seed,
            samples=samples,
            chosen_index=chosen_index,
            chosen_answer=None if chosen_index is None else answers.answers[chosen_index],
            prompt_tokens=draws.prompt_tokens,
            cached_prompt_tokens=draws.cached_prompt_tokens,
            clusters=clusters,
            cost=ctx.meter.spent[index],
            budget=draws.budget,
            model=model_record(ctx.meter.pricer),
        )

