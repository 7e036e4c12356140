"""lm-eval hooks for math500_tts; the logic lives in tts_eval.harness."""

from functools import partial

from tts_eval.harness.task_data import load_dataset_dict
from tts_eval.harness.task_hooks import math_prompt, process_results

load_math500 = partial(load_dataset_dict, "math500")
process_math = partial(process_results, kind="math")

__all__ = ["load_math500", "math_prompt", "process_math"]
