"""lm-eval hooks for the tts_core tasks; the logic lives in the tts_eval package."""

from functools import partial

from tts_eval.harness.task_data import load_dataset_dict
from tts_eval.harness.task_hooks import gpqa_prompt, math_prompt, process_results, run_total

load_math500 = partial(load_dataset_dict, "math500")
load_aime24 = partial(load_dataset_dict, "aime24")
load_aime25 = partial(load_dataset_dict, "aime25")
load_gpqa_diamond = partial(load_dataset_dict, "gpqa_diamond")

process_math = partial(process_results, kind="math")
process_integer = partial(process_results, kind="integer")
process_choice = partial(process_results, kind="choice")

__all__ = ["gpqa_prompt", "math_prompt", "run_total"]
