"""The metrics a tts task reports, named once: what they are and which direction is better.

The tasks' YAML ``metric_list`` blocks are generated from here (``python -m
tts_eval.metrics.catalog MAX_K`` prints one), and a test fails when a task file differs;
``scoring.score_record`` emits exactly these names.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from tts_eval.metrics.estimators import ks_for

# Cost metrics, means per problem; lower is better.
COST_METRICS = ("prompt_tokens", "completion_tokens", "thinking_tokens", "answer_tokens",
                "total_tokens", "verifier_tokens", "samples", "flops", "flops_naive",
                "generator_flops", "verifier_flops", "params_total", "params_active")
RUN_TOTAL = "flops_run_total"  # summed over the problems evaluated, not averaged


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    aggregation: str = "mean"  # or "run_total": tasks' utils.run_total (a sum)


def task_metrics(max_k: int) -> list[Metric]:
    """Every metric of a task whose runs have at most ``max_k`` samples per problem."""
    ks = ks_for(max_k)
    return [
        Metric("acc", True),
        *(Metric(f"pass@{k}", True) for k in ks),
        *(Metric(f"maj@{k}", True) for k in ks),
        *(Metric(f"best_of@{k}", True) for k in ks),  # runs whose samples a verifier scored
        *(Metric(f"weighted_maj@{k}", True) for k in ks),
        *(Metric(name, False) for name in COST_METRICS),
        Metric(RUN_TOTAL, False, "run_total"),
    ]


def metric_list_yaml(max_k: int) -> str:
    """The ``metric_list`` block of a task YAML, as lm-eval reads it."""
    lines = ["metric_list:"]
    for metric in task_metrics(max_k):
        aggregation = ("!function utils.run_total" if metric.aggregation == "run_total"
                       else metric.aggregation)
        lines += [f'  - metric: "{metric.name}"', f"    aggregation: {aggregation}",
                  f"    higher_is_better: {str(metric.higher_is_better).lower()}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(metric_list_yaml(int(sys.argv[1]) if len(sys.argv) > 1 else 256), end="")
