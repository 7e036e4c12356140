"""lm-eval hooks for aime24_tts and aime25_tts; the logic lives in tts_eval.harness."""

from functools import partial

from tts_eval.harness.task_data import load_dataset_dict
from tts_eval.harness.task_hooks import math_prompt, process_results

load_aime24 = partial(load_dataset_dict, "aime24")
load_aime25 = partial(load_dataset_dict, "aime25")
process_integer = partial(process_results, kind="integer")

__all__ = ["load_aime24", "load_aime25", "math_prompt", "process_integer"]
