"""Metrics: estimators of accuracy at k samples and the per-problem scores tasks aggregate."""

from tts_eval.metrics.estimators import ks_for, majority_at_k, pass_at_k
from tts_eval.metrics.scoring import (
    cost_metrics,
    record_verdicts,
    sample_correctness,
    score_record,
)
from tts_eval.metrics.verifier_quality import auroc

__all__ = ["auroc", "cost_metrics", "ks_for", "majority_at_k", "pass_at_k", "record_verdicts",
           "sample_correctness", "score_record"]
