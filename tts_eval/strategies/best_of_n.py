"""best_of_n: n samples, each read by the verifier; the highest aggregated score wins.

The verifier reads every sample of every problem of the run in one call, and what it read
is charged to the problem apart from the generator's work. With a budget, samples come in
rounds and each round is read before the next is planned, out of the same budget.
``aggregate`` turns a sample's step scores into one (``last``, Snell et al.'s choice;
``min``, ``prod``, ``mean``).
"""

from __future__ import annotations

from collections.abc import Sequence

from tts_eval.accounting import Budget
from tts_eval.records import TTSRecord
from tts_eval.strategies.base import Context, Problem, Strategy, sample_answers
from tts_eval.strategies.sampling import cluster_by_kind
from tts_eval.strategies.voting import NO_SCORE, best_of_n_choice
from tts_eval.verifiers import AGGREGATES, aggregate


class BestOfN(Strategy):
    name = "best_of_n"
    independent_samples = True
    uses_verifier = True
    extra_args = ("aggregate",)

    def __init__(
        self, n: int | None = None, budget: Budget | None = None, aggregate: str = "last"
    ) -> None:
        super().__init__(n, budget)
        if aggregate not in AGGREGATES:
            raise ValueError(f"strategy {self.name!r}: unknown aggregate {aggregate!r}; "
                             f"valid: {', '.join(AGGREGATES)}")
        self.aggregate = aggregate

    @property
    def params(self):
        return {**super().params, "aggregate": self.aggregate}

    def choose(self, clusters: list[int], scores: list[float]) -> int | None:
        return best_of_n_choice(scores)

    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        draws = self.draw(problems, ctx, read=True)
        answers = [sample_answers(p, d.completions, ctx.engine)
                   for p, d in zip(problems, draws, strict=True)]
        clusters = cluster_by_kind(problems, [a.answers for a in answers])
        records = []
        for i, (problem, draw) in enumerate(zip(problems, draws, strict=True)):
            steps = [None if r is None else r.scores for r in draw.readings]
            scores = [None if s is None else aggregate(s, self.aggregate) for s in steps]
            # a sample the budget could not have read never wins
            chosen = self.choose(clusters[i], [NO_SCORE if s is None else s for s in scores])
            records.append(self.make_record(
                problem, draw, ctx, i, 0 if chosen is None else chosen, clusters[i],
                answers[i], list(zip(scores, steps, strict=True)),
            ))
        return records
