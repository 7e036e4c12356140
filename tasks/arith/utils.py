"""lm-eval hooks for arith_tts: toy-world problems generated on the fly, no data files."""

from functools import partial

import datasets

from tts_eval.harness.task_hooks import process_results as _process_results
from tts_eval.harness.task_hooks import run_total
from tts_eval.toy.problems import ARITH_TTS_PROBLEMS_PER_LEVEL as PROBLEMS_PER_LEVEL
from tts_eval.toy.problems import EVAL_SEED, format_prompt, make_problems


def load_level(level: int, **_metadata):
    rows = [{"id": p["id"], "problem": p["problem"], "answer": p["answer"], "level": level}
            for p in make_problems(PROBLEMS_PER_LEVEL, level, EVAL_SEED)]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


load_level1, load_level2, load_level3, load_level4, load_level5 = (
    partial(load_level, level) for level in range(1, 6)
)


def prompt(doc: dict) -> str:
    return format_prompt(doc["problem"])


process_results = partial(_process_results, kind="math")

__all__ = ["prompt", "process_results", "run_total"]
