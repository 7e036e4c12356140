"""Run lm-eval on a ready tts-vllm model and save the run as ``lm_eval --output_path`` does.

Python callers (the demo, benchmarks) build a :class:`TTSVLLM` themselves, for instance to
run several strategies on one engine. The saved results still name the model and every
model_arg (a dict, as a CLI run records them), so that leaderboards and comparisons read
them from the run, not from a folder name.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts_eval.harness.hook import MODEL_NAME
from tts_eval.harness.model import TTSVLLM


def task_manager():
    """An lm-eval TaskManager with lm-eval's tasks and ours (build once, reuse per run)."""
    from lm_eval.tasks import TaskManager

    return TaskManager()


def _verbosity() -> str:
    """lm-eval resets its loggers to the level it is given: keep a quieter one we set."""
    level = max(logging.getLogger("lm_eval").getEffectiveLevel(), logging.WARNING)
    return logging.getLevelName(level)


def evaluate(
    lm: TTSVLLM,
    model_args: dict[str, Any],
    task_names: Sequence[str],
    out_dir: str | Path,
    *,
    limit: int | None = None,
    samples: dict[str, list[int]] | None = None,
    tasks=None,
) -> dict[str, Any]:
    """Evaluate ``lm`` on ``task_names`` with samples logged; returns lm-eval's results.

    ``model_args``: everything ``lm`` was built from (engine arguments included), recorded
    under ``config`` as ``lm_eval --model tts-vllm --model_args ...`` would record them.
    ``samples``: only these documents of each task (lm_eval's ``--samples``).
    """
    import lm_eval
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(out_dir))
    results = lm_eval.simple_evaluate(model=lm, model_args=dict(model_args),
                                      tasks=list(task_names), limit=limit, samples=samples,
                                      log_samples=True,
                                      task_manager=tasks or task_manager(),
                                      evaluation_tracker=tracker, verbosity=_verbosity())
    results["config"]["model"] = MODEL_NAME
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for task_name in results["configs"]:
        tracker.save_results_samples(task_name=task_name, samples=samples[task_name])
    return results
