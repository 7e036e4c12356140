"""Metrics: estimators of accuracy at k samples (pass@k, maj@k, best-of-k, weighted maj@k),
the per-problem scores tasks aggregate, verifier quality, and the metric catalog."""

from tts_eval.metrics.estimators import (
    best_of_k,
    ks_for,
    majority_at_k,
    pass_at_k,
    weighted_majority_at_k,
)
from tts_eval.metrics.scoring import (
    cost_metrics,
    record_verdicts,
    sample_correctness,
    score_record,
)
from tts_eval.metrics.verifier_quality import auroc

__all__ = ["auroc", "best_of_k", "cost_metrics", "ks_for", "majority_at_k", "pass_at_k",
           "record_verdicts", "sample_correctness", "score_record", "weighted_majority_at_k"]
