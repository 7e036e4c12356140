"""Metrics: estimators of accuracy at k samples and the per-problem scores tasks aggregate."""

from tts_eval.metrics.estimators import ks_for, majority_at_k, pass_at_k
from tts_eval.metrics.scoring import (
    cost_metrics,
    record_verdicts,
    sample_correctness,
    score_record,
)

__all__ = ["cost_metrics", "ks_for", "majority_at_k", "pass_at_k", "record_verdicts",
           "sample_correctness", "score_record"]
