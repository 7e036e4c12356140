"""revisions: a model revises its own previous attempts (Snell et al. 2024, sequential).

``n`` chains of ``revisions`` attempts each. The first attempt answers the prompt; each
later one is generated after the prompt, the chain's previous attempts and
``revision_prompt`` between them, continuing from token ids, every chain of the run in one
engine call per attempt. When the context would overflow, the oldest attempts are dropped
first (the prompt stays) and the sample records how many were dropped.

The final answer (``select``): ``majority`` over every attempt of every chain, ``last``
(majority over each chain's last attempt), or with a verifier ``best`` / ``weighted_majority``
over every attempt, as Snell et al. compare. Every attempt is a sample of the record, with
its chain and its place in it, so pass@k and maj@k are over all attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tts_eval.accounting import Budget, BudgetError, Cost
from tts_eval.engines import Completion
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
from tts_eval.strategies.voting import (
    NO_SCORE,
    best_of_n_choice,
    majority_choice,
    weighted_majority_choice,
)
from tts_eval.verifiers import aggregate

SELECTS = ("majority", "last", "best", "weighted_majority")
DEFAULT_REVISION_PROMPT = ("\n\nThe solution above may contain mistakes. Check it step by step "
                           "and write a corrected solution.\n")


@dataclass
class RevisionChain:
    """One chain: its attempts' ids, and what each cost."""

    problem: int
    index: int
    attempts: list[list[int]] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    costs: list[Cost] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)  # attempts left out of each context


class Revisions(Strategy):
    name = "revisions"
    extra_args = ("revisions", "revision_prompt", "select", "aggregate")

    def __init__(self, n: int | None = None, budget: Budget | None = None, revisions: int = 4,
                 revision_prompt: str | None = None, select: str = "majority",
                 aggregate: str = "last") -> None:
        super().__init__(n, budget)
        if revisions < 1:
            raise ValueError(f"strategy 'revisions': revisions must be >= 1 attempts per "
                             f"chain, got {revisions}")
        if select not in SELECTS:
            raise ValueError(f"strategy 'revisions': select={select!r}; valid: "
                             f"{', '.join(SELECTS)}")
        self.revisions = revisions
        self.revision_prompt = revision_prompt  # None: the task's, else the default
        self.select = select
        self.aggregate = aggregate
        self.uses_verifier = select in ("best", "weighted_majority")

    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, "revisions": self.revisions, "select": self.select,
                **({"aggregate": self.aggregate} if self.uses_verifier else {})}

    def record_params(self, problem: Problem) -> dict[str, Any]:
        return {**super().record_params(problem), "revision_prompt": self.prompt_for(problem)}

    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        engine = ctx.engine
        prompt_ids = [engine.token_ids(p.prompt, p.sampling.add_special_tokens)
                      for p in problems]
        cues = [list(engine.token_ids(self.prompt_for(p), add_special_tokens=False))
                for p in problems]
        counts = self._plan(problems, prompt_ids, cues, ctx)
        chains = [RevisionChain(i, j) for i, k in enumerate(counts) for j in range(k)]
        for i, ids in enumerate(prompt_ids):
            ctx.meter.charge_prefill(i, len(ids))
        room = getattr(engine, "max_model_len", None)
        for attempt in range(self.revisions):
            contexts = [self._context(prompt_ids[c.problem], c, cues[c.problem],
                                      problems[c.problem], room) for c in chains]
            specs = [replace(problems[c.problem].sampling, n=1, add_special_tokens=False,
                             seed=derive_seed(problems[c.problem].sampling.seed,
                                              f"revisions:{c.index}:{attempt}"))
                     for c in chains]
            generations = engine.generate(contexts, specs)
            for chain, context, generation in zip(chains, contexts, generations, strict=True):
                (completion,) = generation.completions
                # read, not generated: the new revision prompt, or after a drop everything
                # past the prompt (its positions moved, so nothing of it is cached)
                read = 0
                if attempt:
                    read = (len(context) - len(prompt_ids[chain.problem]) if chain.dropped[-1]
                            else len(cues[chain.problem]))
                cost = ctx.meter.charge(chain.problem,
                                        ctx.meter.pricer.insert(len(context) - read, read))
                cost = cost + ctx.meter.charge_sample(chain.problem, len(context),
                                                      completion.completion_tokens)
                chain.attempts.append(generated_ids(completion, engine.decode))
                chain.completions.append(completion)
                chain.costs.append(cost)
        return self._records(problems, prompt_ids, chains, counts, ctx)

    def _context(self, prompt: list[int], chain: RevisionChain, cue: list[int],
                 problem: Problem, room: int | None) -> list[int]:
        """The prompt, then the chain's attempts each followed by the revision prompt; the
        oldest attempts left out while the next attempt would not fit in ``room``."""
        kept = list(chain.attempts)
        dropped = 0
        if room is not None:
            while kept and (len(prompt) + sum(len(a) + len(cue) for a in kept)
                            + problem.sampling.max_tokens > room):
                kept.pop(0)
                dropped += 1
        chain.dropped.append(dropped)
        ids = list(prompt)
        for attempt in kept:
            ids += attempt + cue
        return ids

    def prompt_for(self, problem: Problem) -> str:
        """The text between attempts: ``revision_prompt`` when given, else the task's own
        (``tts_revision_prompt`` in its generation_kwargs), else the default."""
        return self.revision_prompt or problem.revision_prompt or DEFAULT_REVISION_PROMPT

    def _plan(self, problems, prompt_ids, cues, ctx: Context) -> list[int]:
        """Chains per problem: ``n``, or with a budget as many as fit at full length."""
        if not ctx.meter.budget.is_set:
            return [self.n] * len(problems)
        pricer, planned = ctx.meter.pricer, []
        room = getattr(ctx.engine, "max_model_len", None)
        for i, problem in enumerate(problems):
            cue = cues[i]
            length, prompt = problem.sampling.max_tokens, len(prompt_ids[i])
            fits = room is None or prompt + self.revisions * (length + len(cue)) <= room
            worst, context = Cost(), prompt
            for attempt in range(self.revisions):
                if attempt:  # the cue; or, if attempts may be dropped, a re-read of it all
                    read = len(cue) if fits else context + len(cue) - prompt
                    worst = worst + pricer.insert(context + len(cue) - read, read)
                    context += len(cue)
                worst = worst + pricer.sample(context, length)
                context += length
            fixed = pricer.prefill(len(prompt_ids[i]))
            planned.append(min(self.n, ctx.meter.afford(i, worst, fixed=fixed)))
            if planned[-1] < 1:
                need = fixed + worst
                raise BudgetError(
                    f"budget {self.budget.to_dict()} cannot buy one chain of {self.revisions} "
                    f"attempts for problem {i}: it needs up to {need.total_tokens} tokens / "
                    f"{need.total_flops:.3e} FLOPs. Raise the budget, or lower revisions or "
                    "max_gen_toks. Nothing was generated.")
        return planned

    def _records(self, problems, prompt_ids, chains, counts, ctx: Context) -> list[TTSRecord]:
        by_problem: list[list[RevisionChain]] = [[] for _ in problems]
        for chain in chains:
            by_problem[chain.problem].append(chain)
        draws, answers = [], []
        for i, problem in enumerate(problems):
            draw = ProblemDraws(len(prompt_ids[i]), 0)
            for chain in by_problem[i]:
                draw.completions += chain.completions
                draw.sample_costs += chain.costs
            if ctx.meter.budget.is_set:
                draw.budget = {**self.budget.to_dict(), "planned_samples": counts[i]}
            draws.append(draw)
            answers.append(sample_answers(problem, draw.completions, ctx.engine))
        if self.uses_verifier:
            self.read_draws(problems, draws, ctx)
        clusters = cluster_by_kind(problems, [a.answers for a in answers])
        records = []
        for i, problem in enumerate(problems):
            places = [(c.index, a) for c in by_problem[i] for a in range(len(c.attempts))]
            dropped = [d for c in by_problem[i] for d in c.dropped]
            scored, chosen = None, None
            if self.uses_verifier:
                steps = [None if r is None else r.scores for r in draws[i].readings]
                scores = [None if s is None else aggregate(s, self.aggregate) for s in steps]
                scored = list(zip(scores, steps, strict=True))
                chosen = self._choose(clusters[i], places,
                                      [NO_SCORE if s is None else s for s in scores])
            else:
                chosen = self._choose(clusters[i], places, None)
            record = self.make_record(problem, draws[i], ctx, i,
                                      0 if chosen is None else chosen, clusters[i], answers[i],
                                      scored)
            for sample, (chain, attempt), left_out in zip(record.samples, places, dropped,
                                                          strict=True):
                sample.chain, sample.attempt = chain, attempt
                sample.context_dropped = left_out or None
            records.append(record)
        return records

    def _choose(self, clusters: list[int], places: list[tuple[int, int]],
                scores: list[float] | None) -> int | None:
        if self.select == "best":
            return best_of_n_choice(scores)
        if self.select == "weighted_majority":
            return weighted_majority_choice(clusters, scores)
        if self.select == "last":
            last = {}
            for j, (chain, _) in enumerate(places):
                last[chain] = j
            keep = sorted(last.values())
            inner = majority_choice([clusters[j] for j in keep])
            return None if inner is None else keep[inner]
        return majority_choice(clusters)
