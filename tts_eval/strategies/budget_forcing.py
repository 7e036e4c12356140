"""budget_forcing: control how long a reasoning model thinks (s1, Muennighoff et al. 2025).

Each of the ``n`` chains of a problem thinks in rounds, all chains of the run in one engine
call per round, each round continuing from the token ids of the last:

- thinking is capped at exactly ``max_thinking_tokens`` tokens over all rounds together
  (what the strategy appends inside the thinking counts too): when the cap is hit, the end
  delimiter and ``answer_cue`` are appended and the answer is generated under its own cap,
  ``max_answer_tokens``. s1's own harness gives every round the whole budget again and cuts
  the text afterwards, so its runs spend up to (rounds + 1) x B and grade text the model
  never saw; here the model is only ever shown what is logged.
- when the model tries to end its thinking (the end delimiter, or end of sequence) before
  ``num_ignore`` attempts were ignored or before ``min_thinking_tokens``, the end is
  suppressed and ``ignore_str`` ("Wait") appended instead.
- a natural end gets the same end delimiter and cue, as in s1.

The chains' answers vote like majority. Each sample keeps its rounds: tokens generated, why
the round ended, and what was appended. With a budget, a problem gets as many chains as fit
if every one of them thinks and answers to its caps, so the budget is never exceeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tts_eval.accounting import Budget, BudgetError, Cost
from tts_eval.engines import Completion, SamplingSpec
from tts_eval.records import TTSRecord
from tts_eval.strategies.base import (
    Context,
    Problem,
    ProblemDraws,
    Strategy,
    derive_seed,
    generated_ids,
    sample_answers,
)
from tts_eval.strategies.sampling import cluster_by_kind
from tts_eval.strategies.thinking import ThinkFormat
from tts_eval.strategies.voting import majority_choice

MAX_ROUNDS = 64  # every round adds at least one token, so the cap ends a chain anyway


@dataclass
class Chain:
    """One chain of thought in progress: every id after the problem's prompt."""

    problem: int
    index: int
    ids: list[int]  # the opening delimiter (if appended), the thinking, what was appended
    thinking: int = 0  # tokens inside the thinking so far, appended ones included
    generated: int = 0  # tokens the model generated (thinking and answer)
    ignored: int = 0
    rounds: list[dict[str, Any]] = field(default_factory=list)
    cost: Cost = field(default_factory=Cost)
    finish_reason: str | None = None


class BudgetForcing(Strategy):
    name = "budget_forcing"
    independent_samples = True
    extra_args = ("max_thinking_tokens", "min_thinking_tokens", "num_ignore", "ignore_str",
                  "answer_cue", "max_answer_tokens")

    def __init__(self, n: int | None = None, budget: Budget | None = None,
                 max_thinking_tokens: int | None = None, min_thinking_tokens: int = 0,
                 num_ignore: int = 0, ignore_str: str = "Wait",
                 answer_cue: str = "Final Answer:", max_answer_tokens: int = 256) -> None:
        super().__init__(n, budget)
        for arg, value, low in (("max_thinking_tokens", max_thinking_tokens, 1),
                                ("min_thinking_tokens", min_thinking_tokens, 0),
                                ("num_ignore", num_ignore, 0),
                                ("max_answer_tokens", max_answer_tokens, 1)):
            if value is not None and value < low:
                raise ValueError(f"strategy 'budget_forcing': {arg} must be >= {low}, got "
                                 f"{value}")
        if (max_thinking_tokens is not None and min_thinking_tokens > max_thinking_tokens):
            raise ValueError(
                f"strategy 'budget_forcing': min_thinking_tokens={min_thinking_tokens} is "
                f"more than max_thinking_tokens={max_thinking_tokens}")
        if (num_ignore or min_thinking_tokens) and not ignore_str:
            raise ValueError("strategy 'budget_forcing': num_ignore/min_thinking_tokens need "
                             "a non-empty ignore_str (e.g. ignore_str=Wait)")
        self.max_thinking_tokens = max_thinking_tokens
        self.min_thinking_tokens = min_thinking_tokens
        self.num_ignore = num_ignore
        self.ignore_str = ignore_str
        self.answer_cue = answer_cue
        self.max_answer_tokens = max_answer_tokens

    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, "max_thinking_tokens": self.max_thinking_tokens,
                "min_thinking_tokens": self.min_thinking_tokens, "num_ignore": self.num_ignore,
                "ignore_str": self.ignore_str, "answer_cue": self.answer_cue,
                "max_answer_tokens": self.max_answer_tokens}

    def cap(self, problem: Problem) -> int:
        """Thinking tokens allowed: ``max_thinking_tokens``, else the task's max tokens."""
        return self.max_thinking_tokens or problem.sampling.max_tokens

    # ------------------------------------------------------------------------------

    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        for problem in problems:
            if problem.think is None:
                raise ValueError(
                    "strategy 'budget_forcing' needs a reasoning model's thinking delimiters: "
                    "set think=qwen3|r1|s1 (or think_start=...,think_end=...) in --model_args")
        engine, meter = ctx.engine, ctx.meter
        prompt_ids = [engine.token_ids(p.prompt, p.sampling.add_special_tokens)
                      for p in problems]
        openers = [[] if _opened(p, ids) else list(p.think.start_ids)
                   for p, ids in zip(problems, prompt_ids, strict=True)]
        cue, ignore = _ids(engine, self.answer_cue), _ids(engine, self.ignore_str)
        closing = [list(p.think.end_ids) + cue for p in problems]
        wait = [ignore for _ in problems]
        chains_per_problem = self._plan(problems, prompt_ids, openers, closing, ctx)
        chains: list[Chain] = []
        for i, count in enumerate(chains_per_problem):
            meter.charge_prefill(i, len(prompt_ids[i]) + len(openers[i]))
            chains += [Chain(i, j, list(openers[i])) for j in range(count)]
        self._think(problems, prompt_ids, chains, wait, closing, ctx)
        self._answer(problems, prompt_ids, chains, ctx)
        return self._records(problems, prompt_ids, chains, chains_per_problem, ctx)

    def _plan(self, problems, prompt_ids, openers, closing, ctx: Context) -> list[int]:
        """Chains per problem: ``n``, or with a budget as many as fit at their caps."""
        if not ctx.meter.budget.is_set:
            return [self.n] * len(problems)
        pricer, planned = ctx.meter.pricer, []
        for i, problem in enumerate(problems):
            start = len(prompt_ids[i]) + len(openers[i])
            thought = start + self.cap(problem)
            worst = (pricer.sample(start, self.cap(problem))
                     + pricer.insert(thought, len(closing[i]))
                     + pricer.sample(thought + len(closing[i]), self.max_answer_tokens))
            fixed = pricer.prefill(start)
            planned.append(min(self.n, ctx.meter.afford(i, worst, fixed=fixed)))
            if planned[-1] < 1:
                need = fixed + worst
                raise BudgetError(
                    f"budget {self.budget.to_dict()} cannot buy one chain for problem {i}: it "
                    f"needs up to {need.total_tokens} tokens / {need.total_flops:.3e} FLOPs "
                    f"(prompt {start}, max_thinking_tokens={self.cap(problem)}, "
                    f"max_answer_tokens={self.max_answer_tokens}). Raise the budget or lower "
                    "the caps. Nothing was generated.")
        return planned

    def _charge_appended(self, ctx: Context, chain: Chain, context: int, tokens: int) -> None:
        cost = ctx.meter.pricer.insert(context, tokens)
        ctx.meter.charge(chain.problem, cost)
        chain.cost = chain.cost + cost

    def _think(self, problems, prompt_ids, chains: list[Chain], wait, closing,
               ctx: Context) -> None:
        """Thinking rounds, every open chain of the run in one engine call per round."""
        engine = ctx.engine
        stop_tokens = [_stop_token(p.think, engine) for p in problems]
        open_chains = list(chains)
        for round_index in range(MAX_ROUNDS):
            if not open_chains:
                break
            specs = [self._thinking_spec(problems[c.problem], c, round_index,
                                         stop_tokens[c.problem]) for c in open_chains]
            generations = engine.generate(
                [prompt_ids[c.problem] + c.ids for c in open_chains], specs)
            still_open = []
            for chain, generation in zip(open_chains, generations, strict=True):
                problem = problems[chain.problem]
                (completion,) = generation.completions
                context = len(prompt_ids[chain.problem]) + len(chain.ids)
                cost = ctx.meter.charge_sample(chain.problem, context,
                                               completion.completion_tokens)
                chain.cost = chain.cost + cost
                chain.generated += completion.completion_tokens
                kept, ended = self._thought_of(completion, engine)
                chain.ids += kept
                chain.thinking += len(kept)
                goes_on = self._ignore(problem, chain, ended, wait[chain.problem])
                appended = wait[chain.problem] if goes_on else closing[chain.problem]
                self._charge_appended(ctx, chain, context + len(kept), len(appended))
                chain.ids += appended
                if goes_on:
                    chain.thinking += len(appended)
                    chain.ignored += 1
                    still_open.append(chain)
                chain.rounds.append({"phase": "thinking", "tokens": completion.completion_tokens,
                                     "ended": ended, "appended": engine.decode(appended),
                                     "thinking": chain.thinking})
            open_chains = still_open
        for chain in open_chains:  # out of rounds (only with a huge cap): close it
            chain.ids += closing[chain.problem]

    def _thinking_spec(self, problem: Problem, chain: Chain, round_index: int,
                       stop_token: int | None) -> SamplingSpec:
        """A round stops at the end of thinking: on its token when the end is one token or
        starts with a special one (decoding skips it, so no stop string could see it)."""
        spec = problem.sampling
        extra = dict(spec.extra)
        stop: tuple[str, ...] = (problem.think.end,)
        if stop_token is not None:
            extra["stop_token_ids"] = [stop_token]
            stop = ()
        return replace(spec, n=1, stop=stop, max_tokens=self.cap(problem) - chain.thinking,
                       seed=derive_seed(spec.seed, f"budget_forcing:{chain.index}:{round_index}"),
                       extra=tuple(extra.items()), add_special_tokens=False)

    @staticmethod
    def _thought_of(completion: Completion, engine) -> tuple[list[int], str]:
        """The round's thinking ids (without the end it tried to write) and why it ended:
        ``cap`` (its token allowance), ``end`` (the end delimiter) or ``eos``."""
        if completion.finish_reason == "length":
            return list(completion.token_ids), "cap"
        ended = "eos" if completion.stop_reason is None else "end"
        return generated_ids(completion, engine.decode), ended

    def _ignore(self, problem: Problem, chain: Chain, ended: str, wait: list[int]) -> bool:
        """Whether the chain's attempt to stop thinking is ignored (``wait`` is appended and
        it thinks on): it stopped by itself, too early, and ``wait`` plus one more token
        still fit under the cap."""
        early = ended != "cap" and (chain.ignored < self.num_ignore
                                    or chain.thinking < self.min_thinking_tokens)
        return early and bool(wait) and len(wait) < self.cap(problem) - chain.thinking

    def _answer(self, problems, prompt_ids, chains: list[Chain], ctx: Context) -> None:
        """Every chain's answer after its closing, in one engine call."""
        specs = []
        for chain in chains:
            spec = problems[chain.problem].sampling
            specs.append(replace(spec, n=1, max_tokens=self.max_answer_tokens,
                                 seed=derive_seed(spec.seed, f"budget_forcing:{chain.index}:a"),
                                 add_special_tokens=False))
        generations = ctx.engine.generate([prompt_ids[c.problem] + c.ids for c in chains],
                                          specs)
        for chain, generation in zip(chains, generations, strict=True):
            (completion,) = generation.completions
            context = len(prompt_ids[chain.problem]) + len(chain.ids)
            cost = ctx.meter.charge_sample(chain.problem, context, completion.completion_tokens)
            chain.cost = chain.cost + cost
            chain.generated += completion.completion_tokens
            chain.ids += list(completion.token_ids)
            chain.finish_reason = completion.finish_reason
            chain.rounds.append({"phase": "answer", "tokens": completion.completion_tokens,
                                 "ended": completion.finish_reason, "appended": ""})

    def _records(self, problems, prompt_ids, chains, counts, ctx: Context) -> list[TTSRecord]:
        engine = ctx.engine
        by_problem: list[list[Chain]] = [[] for _ in problems]
        for chain in chains:
            by_problem[chain.problem].append(chain)
        draws, answers = [], []
        for i, problem in enumerate(problems):
            completions = [Completion(engine.decode(c.ids), c.generated, c.finish_reason,
                                      token_ids=tuple(c.ids)) for c in by_problem[i]]
            draw = ProblemDraws(len(prompt_ids[i]), 0, completions,
                                [c.cost for c in by_problem[i]])
            if ctx.meter.budget.is_set:
                draw.budget = {**self.budget.to_dict(), "planned_samples": counts[i]}
            draws.append(draw)
            answers.append(sample_answers(problem, completions, engine))
        clusters = cluster_by_kind(problems, [a.answers for a in answers])
        records = []
        for i, problem in enumerate(problems):
            chosen = majority_choice(clusters[i])
            record = self.make_record(problem, draws[i], ctx, i,
                                      0 if chosen is None else chosen, clusters[i], answers[i])
            for sample, chain in zip(record.samples, by_problem[i], strict=True):
                sample.rounds = chain.rounds
            records.append(record)
        return records


def _opened(problem: Problem, prompt_ids: Sequence[int]) -> bool:
    """Whether the prompt already opens the thinking (R1's template ends with "<think>\n"),
    so the strategy does not open it again."""
    tail = problem.think.start_ids
    return (problem.prompt.rstrip().endswith(problem.think.start)
            or (bool(tail) and list(prompt_ids[-len(tail):]) == list(tail)))


def _ids(engine, text: str) -> list[int]:
    return list(engine.token_ids(text, add_special_tokens=False)) if text else []


def _stop_token(think: ThinkFormat, engine) -> int | None:
    """The token a thinking round stops on, or None to stop on the end's text."""
    ids = think.end_ids
    if len(ids) == 1 or (ids and engine.decode([ids[0]]) == ""):
        return ids[0]
    return None
