"""Strategies that only sample: greedy, plain sampling (for pass@k), majority voting.

Majority voting is self-consistency (Wang et al. 2022): sample n solutions, cluster
their final answers by mathematical equivalence, answer with the largest cluster.
"""

from __future__ import annotations

from collections.abc import Sequence

from tts_eval.accounting import Budget
from tts_eval.grading import cluster_many
from tts_eval.records import TTSRecord
from tts_eval.strategies.base import Context, Problem, Strategy, sample_answers
from tts_eval.strategies.voting import majority_choice


class Greedy(Strategy):
    """One sample at temperature 0: the baseline every scaling curve starts from."""

    name = "greedy"

    def __init__(self, n: int | None = None, budget: Budget | None = None) -> None:
        if n not in (None, 1):
            raise ValueError(
                f"strategy 'greedy' draws exactly one sample (got n={n}); "
                "use strategy=sample or strategy=majority for n > 1"
            )
        super().__init__(1, budget)

    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        draws = self.draw(problems, ctx, n=1, temperature=0.0)
        return [self.make_record(p, d, ctx, i, 0)
                for i, (p, d) in enumerate(zip(problems, draws, strict=True))]


class PlainSampling(Strategy):
    """n samples; the first one is the answer. Its records feed pass@k and maj@k."""

    name = "sample"
    independent_samples = True
    choose_first = True

    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        draws = self.draw(problems, ctx)
        answers = [sample_answers(p, d.completions, ctx.engine)
                   for p, d in zip(problems, draws, strict=True)]
        clusters = cluster_by_kind(problems, [a.answers for a in answers])
        records = []
        for i, (problem, d, a, c) in enumerate(zip(problems, draws, answers, clusters,
                                                   strict=True)):
            chosen = 0 if self.choose_first else majority_choice(c)
            if chosen is None:  # nothing answered: keep the first sample as the response
                chosen = 0
            records.append(self.make_record(problem, d, ctx, i, chosen, c, a))
        return records


def cluster_by_kind(
    problems: Sequence[Problem], answers: list[list[str | None]]
) -> list[list[int]]:
    """Answer clusters of every problem, one batched grading call per answer kind."""
    out: list[list[int]] = [[] for _ in problems]
    by_kind: dict[str, list[int]] = {}
    for index, problem in enumerate(problems):
        by_kind.setdefault(problem.answer_kind, []).append(index)
    for kind, indices in by_kind.items():
        for index, clusters in zip(indices, cluster_many([answers[i] for i in indices], kind),
                                   strict=True):
            out[index] = clusters
    return out


class Majority(PlainSampling):
    """Self-consistency: the most common final answer among n samples."""

    name = "majority"
    choose_first = False
