"""lm-eval hooks for gpqa_diamond_tts; the logic lives in tts_eval.harness."""

from functools import partial

from tts_eval.harness.task_data import load_dataset_dict
from tts_eval.harness.task_hooks import gpqa_prompt, process_results

load_gpqa_diamond = partial(load_dataset_dict, "gpqa_diamond")
process_choice = partial(process_results, kind="choice")

__all__ = ["gpqa_prompt", "load_gpqa_diamond", "process_choice"]
