"""How a strategy picks one answer from many: majority, score-weighted majority, best score.

Pure functions of answer clusters (``grading.cluster_many``: -1 for a sample without an
answer) and verifier scores, shared by the strategies and by every evaluation that
replays a choice (the toy world's own measurements included), so the two never drift.
Every tie goes to the answer seen first: a choice depends only on the samples, never on
dict or set order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

NO_SCORE = float("-inf")  # the score of a sample the verifier did not read: it never wins


def majority_choice(clusters: Sequence[int]) -> int | None:
    """Index of the sample that answers for the largest answer cluster.

    Unanswered samples (cluster -1) never vote. Ties go to the cluster that appeared
    first, so the choice depends only on the samples, never on dict or set order.
    The representative of the winning cluster is its first member.
    """
    sizes = Counter(c for c in clusters if c >= 0)
    if not sizes:
        return None
    best = max(sizes.values())
    first_seen = {}
    for index, cluster in enumerate(clusters):
        if cluster >= 0:
            first_seen.setdefault(cluster, index)
    winner = min((c for c, size in sizes.items() if size == best), key=first_seen.__getitem__)
    return first_seen[winner]


def weighted_majority_choice(clusters: Sequence[int], scores: Sequence[float]) -> int | None:
    """Index of the first sample of the cluster with the largest sum of scores (Wu et al.
    2024's weighted voting; the sum of PRM scores in search-and-learn)."""
    totals: dict[int, float] = {}
    first_seen: dict[int, int] = {}
    for index, (cluster, score) in enumerate(zip(clusters, scores, strict=True)):
        if cluster >= 0 and score != NO_SCORE:
            totals[cluster] = totals.get(cluster, 0.0) + score
            first_seen.setdefault(cluster, index)
    if not totals:
        return None
    best = max(totals.values())
    winner = min((c for c, total in totals.items() if total == best),
                 key=first_seen.__getitem__)
    return first_seen[winner]


def best_of_n_choice(scores: Sequence[float]) -> int | None:
    """Index of the highest-scored sample (best-of-N with a verifier); ties: the first."""
    if not scores or max(scores) == NO_SCORE:
        return None
    return max(range(len(scores)), key=lambda i: (scores[i], -i))
