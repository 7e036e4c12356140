"""Scaling curves: accuracy against compute, from the N samples of each problem of a run.

Drawing k of a problem's N samples gives each estimator's accuracy at k samples and its
expected cost: the prompt once, plus k times the mean sample (and, with a verifier, k
times the mean reading). One N-sample run thus yields the whole curve for every k <= N
without generating again (``metrics/every_k.py``): pass@k (an oracle's upper bound),
maj@k, and, where a verifier scored every sample, best-of-k and weighted maj@k. A search
(a tree whose answers share ancestors) is not k independent samples: it is one point, its
accuracy at what it spent.

Intervals come from a bootstrap over problems: a problem's samples are not independent of
each other, so the problem is what is resampled (all estimators and k with the same
resamples). The Pareto frontier is over what a user can run (pass@k needs a perfect
verifier, so it is drawn but never on the frontier).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tts_eval.metrics import ks_for
from tts_eval.metrics.every_k import best_of_curve, pass_curves, vote_curves
from tts_eval.records import TTSRecord
from tts_eval.report.runs import ProblemResult
from tts_eval.strategies import STRATEGIES

BOOTSTRAP_RESAMPLES = 1000
ORACLE_ESTIMATORS = ("pass@k",)  # upper bounds, not strategies: never on the frontier


@dataclass(frozen=True)
class CurvePoint:
    k: int
    accuracy: float
    flops: float  # mean per problem (actual: prefill shared by the k samples)
    tokens: float  # mean per problem: prompt once + k completions (+ k readings)


@dataclass(frozen=True)
class EstimatePoint:
    """One point of one estimator's curve for one run and task, with its interval."""

    run: str
    task: str
    estimator: str  # pass@k, maj@k, best_of@k, weighted_maj@k, or acc (a search)
    k: int
    accuracy: float
    low: float
    high: float
    tokens: float  # mean per problem, generator + verifier
    flops: float
    pareto: bool = False


@dataclass(frozen=True)
class ProblemCurves:
    """Per-problem accuracy (P, K) of each estimator, and per-problem expected cost at each
    k (P, K): tokens and FLOPs."""

    ks: list[int]
    accuracy: dict[str, np.ndarray]
    problem_tokens: np.ndarray
    problem_flops: np.ndarray

    @property
    def tokens(self) -> np.ndarray:
        """Mean tokens per problem at each k (K,)."""
        return self.problem_tokens.mean(axis=0)

    @property
    def flops(self) -> np.ndarray:
        """Mean FLOPs per problem at each k (K,)."""
        return self.problem_flops.mean(axis=0)


def independent_samples(record: TTSRecord) -> bool:
    """Are the record's samples independent draws (any k of them: its strategy at n=k)?"""
    strategy = STRATEGIES.get(record.strategy)
    return record.tree is None and strategy is not None and strategy.independent_samples


def _scores(problem: ProblemResult, n: int) -> list[float] | None:
    scores = [s.score for s in problem.record.samples[:n]]
    return None if any(s is None for s in scores) else [float(s) for s in scores]


def problem_curves(problems: list[ProblemResult]) -> ProblemCurves:
    """Every estimator the records support, at every k up to the fewest samples any
    problem has (the first N samples of each: samples are exchangeable draws)."""
    if not problems:
        raise ValueError("no problems to draw a curve from")
    records = [p.record for p in problems]
    if not all(independent_samples(r) for r in records):  # a search, chains: one point
        acc = np.array([[float(p.chosen_right)] for p in problems])
        n = int(records[0].params.get("n") or len(records[0].samples))
        spent = np.array([p.spent for p in problems])
        return ProblemCurves([n], {"acc": acc}, spent[:, :1], spent[:, 1:])
    n = min(len(r.samples) for r in records)
    if n == 0:
        raise ValueError("a problem has no samples")
    verdicts = [p.verdicts for p in problems]
    correct = np.array([v[0][:n] for v in verdicts], dtype=bool)
    clusters = np.array([v[1][:n] for v in verdicts], dtype=np.int64)
    cluster_correct = [list(v[2]) for v in verdicts]
    accuracy = {"pass@k": pass_curves(n, correct.sum(axis=1)),
                "maj@k": vote_curves(clusters, cluster_correct)}
    scores = [_scores(p, n) for p in problems]
    if all(s is not None for s in scores):
        weights = np.array(scores, dtype=float)
        accuracy["best_of@k"] = np.array([best_of_curve(w, c)
                                          for w, c in zip(weights, correct, strict=True)])
        accuracy["weighted_maj@k"] = vote_curves(clusters, cluster_correct, weights)
    ks = np.arange(1, n + 1, dtype=float)
    tokens = np.zeros((len(records), n))
    flops = np.zeros((len(records), n))
    for i, record in enumerate(records):
        count = len(record.samples)
        sample_tokens = record.completion_tokens / count
        sample_flops = sum(s.flops or 0.0 for s in record.samples) / count
        cost = record.cost
        reading_tokens = cost.verifier_tokens / count if cost else 0.0
        reading_flops = cost.verifier_flops / count if cost else 0.0
        prefill = (cost.generator_flops if cost else 0.0) - sample_flops * count
        tokens[i] = record.prompt_tokens + ks * (sample_tokens + reading_tokens)
        flops[i] = prefill + ks * (sample_flops + reading_flops)
    return ProblemCurves(list(range(1, n + 1)), accuracy, tokens, flops)


def bootstrap_interval(per_problem: np.ndarray, alpha: float = 0.05,
                       resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval (1 - alpha) of the mean over problems of each column of
    ``per_problem`` (P, K), resampling problems (the same resamples for every column)."""
    problems = per_problem.shape[0]
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(problems, np.full(problems, 1 / problems), size=resamples)
    means = counts @ per_problem / problems  # (resamples, K)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2], axis=0)
    return low, high


def estimate_points(run: str, task: str, problems: list[ProblemResult],
                    alpha: float = 0.05) -> list[EstimatePoint]:
    """Every estimator at every k, with (1 - alpha) bootstrap intervals."""
    curves = problem_curves(problems)
    points = []
    for estimator, per_problem in curves.accuracy.items():
        low, high = bootstrap_interval(per_problem, alpha)
        mean = per_problem.mean(axis=0)
        points += [EstimatePoint(run, task, estimator, k, float(mean[j]), float(low[j]),
                                 float(high[j]), float(curves.tokens[j]), float(curves.flops[j]))
                   for j, k in enumerate(curves.ks)]
    return points


def mark_pareto(points: list[EstimatePoint], x: str = "flops") -> list[EstimatePoint]:
    """The same points, those on the frontier marked: no other runnable point costs no more
    (``x``: flops or tokens) and is no less accurate, and better in one of the two."""
    runnable = [p for p in points if p.estimator not in ORACLE_ESTIMATORS]
    ranked = sorted(runnable, key=lambda p: (getattr(p, x), -p.accuracy))
    front, best = set(), -1.0
    for point in ranked:
        if point.accuracy > best:
            front.add(id(point))
            best = point.accuracy
    return [replace(p, pareto=id(p) in front) for p in points]


def run_curve(problems: list[ProblemResult]) -> list[CurvePoint]:
    """maj@k and its mean cost per problem at k = 1, 2, 4, ..., N (N: fewest samples)."""
    if not problems:
        return []
    curves = problem_curves(problems)
    estimator = "maj@k" if "maj@k" in curves.accuracy else "acc"
    accuracy = curves.accuracy[estimator].mean(axis=0)
    index = {k: j for j, k in enumerate(curves.ks)}
    wanted = ks_for(curves.ks[-1]) if estimator == "maj@k" else curves.ks
    return [CurvePoint(k, float(accuracy[index[k]]), float(curves.flops[index[k]]),
                       float(curves.tokens[index[k]])) for k in wanted]


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
