"""Per-problem metrics of one TTS record against its gold answer: acc, pass@k, maj@k, cost.

lm-eval aggregates them (means over problems) through the tasks' ``process_results``;
reports read the same functions, so a table and a task result never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from tts_eval.grading import cluster_answers, same_as_gold
from tts_eval.metrics.estimators import (
    best_of_k,
    ks_for,
    majority_at_k,
    pass_at_k,
    weighted_majority_at_k,
)
from tts_eval.records import TTSRecord


def sample_correctness(answers: Sequence[str | None], gold: str, kind: str) -> list[bool]:
    """Is each extracted answer equivalent to gold? Each distinct answer is compared once,
    all in one grading batch."""
    return same_as_gold(answers, gold, kind)


def cost_metrics(record: TTSRecord) -> dict[str, float]:
    """What the problem cost (``accounting.Cost``) and the generator's size, per problem."""
    cost, model = record.cost, record.model
    if cost is None:  # a plain-text response from another model: nothing is known
        return {}
    metrics = {
        "verifier_tokens": float(cost.verifier_tokens),
        "total_tokens": float(cost.total_tokens),
    }
    if cost.flops_known:  # else left out: lm-eval reports no FLOPs rather than NaN
        metrics |= {
            "flops": float(cost.total_flops),
            "flops_run_total": float(cost.total_flops),  # summed over problems, not averaged
            "flops_naive": float(cost.generator_flops_naive + cost.verifier_flops),
            "generator_flops": float(cost.generator_flops),
            "verifier_flops": float(cost.verifier_flops),
        }
    if model is not None:
        metrics["params_total"] = float(model.params_total)
        metrics["params_active"] = float(model.params_active)
    return metrics


def record_verdicts(record: TTSRecord, gold: str) -> tuple[list[bool], list[int], list[bool]]:
    """Per sample: correct or not, and its answer cluster; per cluster: correct or not.

    The record's own clusters are used when its strategy voted; otherwise they are computed.
    """
    kind = record.answer_kind
    answers = [s.answer for s in record.samples]
    correct = sample_correctness(answers, gold, kind)
    clusters = record.clusters if record.clusters is not None else cluster_answers(answers, kind)
    cluster_correct = [False] * (max(clusters, default=-1) + 1)
    for cluster, ok in zip(clusters, correct, strict=True):
        if cluster >= 0 and ok:
            cluster_correct[cluster] = True
    return correct, clusters, cluster_correct


def score_record(
    record: TTSRecord,
    gold: str,
    verdicts: tuple[list[bool], list[int], list[bool]] | None = None,
) -> dict[str, float]:
    """All per-problem metrics lm-eval aggregates (means over problems).

    ``verdicts``: the record's ``record_verdicts``, when the caller already graded it.
    """
    correct, clusters, cluster_correct = verdicts or record_verdicts(record, gold)
    n = len(correct)
    chosen = record.chosen_index
    metrics: dict[str, float] = {
        "acc": float(chosen is not None and correct[chosen]),
        "prompt_tokens": float(record.prompt_tokens),
        "completion_tokens": float(record.completion_tokens),
        "samples": float(n),
        **cost_metrics(record),
    }
    thinking = [s.thinking_tokens for s in record.samples]
    if n and all(t is not None for t in thinking):  # a reasoning model: its tokens split
        metrics["thinking_tokens"] = float(sum(thinking))
        metrics["answer_tokens"] = float(sum(s.answer_tokens or 0 for s in record.samples))
    scores = [s.score for s in record.samples]
    scored = n > 0 and all(score is not None for score in scores)
    for k in ks_for(n) if n else []:
        metrics[f"pass@{k}"] = pass_at_k(n, sum(correct), k)
        metrics[f"maj@{k}"] = majority_at_k(clusters, cluster_correct, k)
        if scored:  # a verifier read every sample: its curves from the same run
            metrics[f"best_of@{k}"] = best_of_k(scores, correct, k)
            metrics[f"weighted_maj@{k}"] = weighted_majority_at_k(
                clusters, scores, cluster_correct, k)
    return metrics
