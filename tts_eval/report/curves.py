"""Scaling curves: accuracy against compute, from the N samples of one run.

Subsampling k of a problem's N samples gives the strategy's accuracy at k samples
(maj@k for voting and sampling runs) and its expected cost: the prompt's prefill once
plus k times the mean sample cost. One N-sample run thus yields the whole curve for
k = 1, 2, 4, ..., N without generating again.
"""

from __future__ import annotations

from dataclasses import dataclass

from tts_eval.metrics import ks_for, majority_at_k
from tts_eval.report.runs import ProblemResult


@dataclass(frozen=True)
class CurvePoint:
    k: int
    accuracy: float
    flops: float  # mean per problem (actual: prefill shared by the k samples)
    tokens: float  # mean per problem: prompt once + k completions


def _problem_curve(problem: ProblemResult, ks: list[int]) -> list[tuple[float, float, float]]:
    record = problem.record
    _, clusters, cluster_correct = problem.verdicts
    n = len(record.samples)
    sample_flops = sum(s.flops or 0.0 for s in record.samples)
    prefill_flops = (record.cost.generator_flops if record.cost else 0.0) - sample_flops
    mean_tokens = record.completion_tokens / n
    return [(majority_at_k(clusters, cluster_correct, k), prefill_flops + k * sample_flops / n,
             record.prompt_tokens + k * mean_tokens) for k in ks]


def run_curve(problems: list[ProblemResult]) -> list[CurvePoint]:
    """Mean accuracy and cost per problem at k = 1, 2, 4, ..., N (N: fewest samples)."""
    if not problems:
        return []
    n = min(len(p.record.samples) for p in problems)
    ks = ks_for(n)
    per_problem = [_problem_curve(p, ks) for p in problems]
    points = []
    for j, k in enumerate(ks):
        acc, flops, tokens = (sum(row[j][i] for row in per_problem) / len(problems)
                              for i in range(3))
        points.append(CurvePoint(k, acc, flops, tokens))
    return points


def accuracy_at(curve: list[CurvePoint], flops: float) -> float | None:
    """Best accuracy reachable within ``flops`` per problem (None: not even k=1 fits)."""
    fitting = [p.accuracy for p in curve if p.flops <= flops * (1 + 1e-9)]
    return max(fitting) if fitting else None


def break_even(
    cheap: list[CurvePoint], costly: list[CurvePoint]
) -> tuple[CurvePoint, float] | None:
    """Where the cheaper run first matches the costlier run's single-sample accuracy.

    Returns the cheaper run's point and its FLOPs as a multiple of the costlier run's
    k=1 FLOPs (Snell et al.: a small model plus test-time compute against a larger
    model's one answer). None if no k of the cheaper run reaches that accuracy.
    """
    target = costly[0]
    for point in cheap:
        if point.accuracy >= target.accuracy:
            return point, point.flops / target.flops
    return None
