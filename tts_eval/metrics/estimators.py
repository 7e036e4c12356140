"""Estimators of a strategy's accuracy at k samples, from the N samples of one record.

Every k <= N comes from the same N samples, so one run yields a whole scaling curve:
- pass@k: the unbiased estimator of Chen et al. 2021, 1 - C(N-c, k) / C(N, k).
- maj@k: the expected accuracy of majority voting over a random k-subset of the N
  samples. Exact (every subset) when there are few subsets, otherwise the mean over
  a fixed set of random subsets (seeded, so re-scoring a run gives the same numbers).
  Ties go to the answer that appeared first, as in the majority strategy, so maj@N
  equals that strategy's accuracy on the same samples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

MAX_EXACT_SUBSETS = 512
RANDOM_SUBSETS = 512


def ks_for(n: int) -> list[int]:
    """1, 2, 4, ... up to n, plus n itself."""
    ks = [1 << i for i in range(n.bit_length()) if 1 << i <= n]
    return ks if ks[-1] == n else [*ks, n]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c correct) is correct."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, have {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _subsets(n: int, k: int) -> np.ndarray:
    if math.comb(n, k) <= MAX_EXACT_SUBSETS:
        return np.array(list(itertools.combinations(range(n), k)), dtype=np.int64)
    rng = np.random.default_rng(n * 1000 + k)
    return np.sort(rng.permuted(np.tile(np.arange(n), (RANDOM_SUBSETS, 1)), axis=1)[:, :k], axis=1)


def majority_at_k(clusters: Sequence[int], cluster_correct: Sequence[bool], k: int) -> float:
    """Expected accuracy of a k-sample majority vote (unanswered samples never vote)."""
    return _vote_at_k(clusters, cluster_correct, k, None, "maj")


def weighted_majority_at_k(clusters: Sequence[int], scores: Sequence[float],
                           cluster_correct: Sequence[bool], k: int) -> float:
    """Expected accuracy of a k-sample vote in which each sample weighs its verifier score
    (the choice of ``strategies.voting.weighted_majority_choice``)."""
    if len(scores) != len(clusters):
        raise ValueError(f"{len(scores)} scores for {len(clusters)} samples")
    return _vote_at_k(clusters, cluster_correct, k, np.asarray(scores, dtype=float), "wmaj")


def best_of_k(scores: Sequence[float], correct: Sequence[bool], k: int) -> float:
    """Expected accuracy of keeping the best-scored of k samples drawn from the n (ties: the
    earlier sample, as ``strategies.voting.best_of_n_choice``). Exact: the sample ranked r-th
    (0 = best) is chosen when the other k - 1 come from the n - 1 - r below it."""
    n = len(scores)
    if len(correct) != n:
        raise ValueError(f"{len(correct)} verdicts for {n} scores")
    if k > n:
        raise ValueError(f"best-of-{k} needs at least {k} samples, have {n}")
    ranked = sorted(range(n), key=lambda i: (-scores[i], i))
    total = math.comb(n, k)
    return sum(math.comb(n - 1 - r, k - 1) for r, i in enumerate(ranked) if correct[i]) / total


def _vote_at_k(clusters: Sequence[int], cluster_correct: Sequence[bool], k: int,
               weights: np.ndarray | None, label: str) -> float:
    n = len(clusters)
    if k > n:
        raise ValueError(f"{label}@{k} needs at least {k} samples, have {n}")
    n_clusters = len(cluster_correct)
    if n_clusters == 0:
        return 0.0
    ids = np.asarray(clusters, dtype=np.int64)
    subsets = _subsets(n, k)  # (M, k) sample indices, ascending within a row
    chosen = ids[subsets]  # (M, k) cluster ids
    onehot = chosen[:, :, None] == np.arange(n_clusters)[None, None, :]  # (M, k, C)
    answered = onehot.any(axis=1)  # (M, C): the cluster has a member in the subset
    if weights is None:
        votes = onehot.sum(axis=1)
    else:
        votes = np.where(onehot, weights[subsets][:, :, None], 0.0).sum(axis=1)
    votes = np.where(answered, votes, -np.inf)
    first = np.where(onehot, subsets[:, :, None], n).min(axis=1)  # earliest member per cluster
    top = votes.max(axis=1, keepdims=True)
    tied_first = np.where((votes == top) & answered, first, n + 1)
    winner = tied_first.argmin(axis=1)
    wins = np.asarray(cluster_correct, dtype=bool)[winner] & answered.any(axis=1)
    return float(wins.mean())
