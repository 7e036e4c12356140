"""Every estimator at every k = 1..N at once, batched over problems: what a scaling curve
needs (``report/curves.py``), fast enough for 500 problems x 256 samples in seconds.

Each function returns, per problem, the expected accuracy of the estimator at each k when k
of the problem's N samples are drawn at random (the same quantities as ``estimators.py``,
which computes one k for lm-eval's task metrics):
- pass@k and best-of-k: exact, in closed form (cumulative products, log-binomials);
- maj@k and weighted maj@k: exact by enumerating every k-subset when N <= ``EXACT_UP_TO``;
  above, exact at k = 1 and k = N, and in between the mean over seeded random
  orderings of the samples, whose first k samples are a uniform random k-subset for every k
  at once. Adding a sample changes only its own cluster's vote, so the leader after each
  sample is the old leader or that cluster: one pass over N samples gives every k.
  Ties go to the answer seen first, as in the voting strategies and ``estimators.py``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from tts_eval.metrics.estimators import _vote_at_k

EXACT_UP_TO = 11  # C(11, 5) = 462 subsets: every k enumerated
# Random orderings per problem: enough that the Monte Carlo error of a curve's mean over
# problems is at most 0.5 / sqrt(ORDERED_DRAWS) = 0.002, and of one problem at most 0.016.
ORDERED_DRAWS = 65536
MIN_ORDERINGS, MAX_ORDERINGS = 128, 1024
CHUNK = 64  # problems per batch (bounds memory: CHUNK x orderings x N)


def pass_curves(n: int, correct_counts: np.ndarray) -> np.ndarray:
    """(P, n): 1 - C(n - c, k) / C(n, k) for k = 1..n (Chen et al. 2021)."""
    c = np.asarray(correct_counts, dtype=float)[:, None]
    i = np.arange(n, dtype=float)[None, :]
    ratio = np.clip((n - c - i) / (n - i), 0.0, None)  # P(draw i+1 misses | i missed)
    return 1.0 - np.cumprod(ratio, axis=1)


def _log_comb(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def best_of_curve(scores: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """(n,): best-of-k for k = 1..n; the sample ranked r-th (0 = best score, ties: earlier
    sample first) is chosen when the other k - 1 come from the n - 1 - r ranked below it."""
    n = len(scores)
    ranked = np.lexsort((np.arange(n), -np.asarray(scores, dtype=float)))
    ranks = np.flatnonzero(np.asarray(correct, dtype=bool)[ranked]).astype(float)
    if ranks.size == 0:
        return np.zeros(n)
    k = np.arange(1, n + 1, dtype=float)
    below = n - 1 - ranks[:, None]
    log_terms = _log_comb(np.maximum(below, k - 1), k - 1) - _log_comb(float(n), k)[None, :]
    terms = np.where(below >= k - 1, np.exp(log_terms), 0.0)
    return np.minimum(terms.sum(axis=0), 1.0)


def _exact_vote_curve(clusters, cluster_correct, weights, n: int) -> np.ndarray:
    return np.array([_vote_at_k(clusters, cluster_correct, k, weights, "vote")
                     for k in range(1, n + 1)])


def vote_curves(clusters: np.ndarray, cluster_correct: list[list[bool]],
                weights: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """(P, n): maj@k (``weights`` None) or weighted maj@k for k = 1..n.

    ``clusters``: (P, n) answer-cluster ids (-1: no answer, never votes);
    ``cluster_correct``: per problem, per cluster, is its answer right; ``weights``: (P, n).
    """
    clusters = np.asarray(clusters, dtype=np.int64)
    problems, n = clusters.shape
    if n <= EXACT_UP_TO:
        return np.array([_exact_vote_curve(clusters[p], cluster_correct[p],
                                           None if weights is None
                                           else np.asarray(weights[p], float), n)
                         for p in range(problems)]).reshape(problems, n)
    rng = np.random.default_rng(seed)
    orderings = min(MAX_ORDERINGS, max(MIN_ORDERINGS, -(-ORDERED_DRAWS // problems)))
    out = np.empty((problems, n))
    for start in range(0, problems, CHUNK):
        stop = min(start + CHUNK, problems)
        chunk_weights = None if weights is None else np.asarray(weights[start:stop], float)
        out[start:stop] = _ordering_estimate(clusters[start:stop], cluster_correct[start:stop],
                                             chunk_weights, rng, orderings)
    for p in range(problems):  # the ends exactly: one sample's own answer, and all of them
        w = None if weights is None else np.asarray(weights[p], float)
        answered = clusters[p] >= 0
        right = np.array([bool(cluster_correct[p][c]) if c >= 0 else False for c in clusters[p]])
        out[p, 0] = float((answered & right).mean())
        out[p, n - 1] = _vote_at_k(clusters[p], cluster_correct[p], n, w, "vote")
    return out


def _ordering_estimate(clusters: np.ndarray, cluster_correct: list[list[bool]],
                       weights: np.ndarray | None, rng: np.random.Generator,
                       orderings: int) -> np.ndarray:
    """(P, n): share of ``orderings`` random orderings whose first-k leader is right.
    Rows are (problem, ordering) pairs, flattened, with time as the leading axis, so each
    step is a few one-dimensional gathers and scatters."""
    problems, n = clusters.shape
    width = max((len(c) for c in cluster_correct), default=0) + 1  # last column: no answer
    none = width - 1
    ids = np.where(clusters >= 0, clusters, none)
    right = np.zeros((problems, width), dtype=bool)
    for p, flags in enumerate(cluster_correct):
        right[p, :len(flags)] = flags
    votes_of = np.ones((problems, n)) if weights is None else weights
    rows = problems * orderings
    order = rng.permuted(np.tile(np.arange(n), (rows, 1)), axis=1)  # (rows, n)
    owner = np.repeat(np.arange(problems), orderings)  # each row's problem
    sample_t = np.ascontiguousarray(order.T)  # (n, rows)
    cluster_t = np.ascontiguousarray(ids[owner[None, :], sample_t])
    weight_t = np.ascontiguousarray(votes_of[owner[None, :], sample_t])
    base = np.arange(rows) * width
    right_flat = np.repeat(right, orderings, axis=0).ravel()
    votes = np.zeros(rows * width)
    first = np.full(rows * width, n, dtype=np.int64)
    leader = base + none
    hits = np.empty((n, problems))
    for t in range(n):
        cell = base + cluster_t[t]
        votes[cell] += weight_t[t]
        first[cell] = np.minimum(first[cell], sample_t[t])
        mine, theirs = votes[cell], votes[leader]
        ahead = (mine > theirs) | ((mine == theirs) & (first[cell] < first[leader]))
        take = (cluster_t[t] != none) & ((leader == base + none) | ahead)
        leader = np.where(take, cell, leader)
        hits[t] = right_flat[leader].reshape(problems, orderings).mean(axis=1)
    return hits.T
