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
    n = len(clusters)
    if k > n:
        raise ValueError(f"maj@{k} needs at least {k} samples, have {n}")
    n_clusters = len(cluster_correct)
    if n_clusters == 0:
        return 0.0
    ids = np.asarray(clusters, dtype=np.int64)
    subsets = _subsets(n, k)  # (M, k) sample indices, ascending within a row
    chosen = ids[subsets]  # (M, k) cluster ids
    onehot = chosen[:, :, None] == np.arange(n_clusters)[None, None, :]  # (M, k, C)
    counts = onehot.sum(axis=1)
    first = np.where(onehot, subsets[:, :, None], n).min(axis=1)  # earliest member per cluster
    top = counts.max(axis=1, keepdims=True)
    tied_first = np.where((counts == top) & (top > 0), first, n + 1)
    winner = tied_first.argmin(axis=1)
    wins = np.asarray(cluster_correct, dtype=bool)[winner] & (top[:, 0] > 0)
    return float(wins.mean())
