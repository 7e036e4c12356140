"""The tasks' metric lists are the catalog's, and scoring emits exactly the catalog's names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tts_eval.accounting import Cost
from tts_eval.metrics.catalog import metric_list_yaml, task_metrics
from tts_eval.records import ModelRecord, SampleRecord, TTSRecord

TASKS = Path(__file__).resolve().parents[2] / "tasks"


@pytest.mark.parametrize(("common_yaml", "max_k"), [("_shared/_tts_common_yaml", 256),
                                                    ("arith/_arith_common_yaml", 64)])
def test_task_metric_lists_are_generated_from_the_catalog(common_yaml, max_k):
    text = (TASKS / common_yaml).read_text()
    block = text[text.index("metric_list:"):text.index("metadata:")]
    assert block == metric_list_yaml(max_k), (
        f"{common_yaml}: regenerate with python -m tts_eval.metrics.catalog {max_k}")


def test_score_record_emits_the_catalog_names():
    from tts_eval.metrics import score_record

    record = TTSRecord(
        strategy="majority", params={"n": 4}, answer_kind="math", seed=0,
        samples=[SampleRecord(f"\\boxed{{{a}}}", a, 5, 3, "stop", flops=1.0)
                 for a in ("1", "2", "1", "1")],
        chosen_index=0, chosen_answer="1", prompt_tokens=5, cached_prompt_tokens=0,
        clusters=[0, 1, 0, 0],
        cost=Cost(5, 12, 0, 9.0, 20.0, 0.0),
        model=ModelRecord(10, 9, 8, "safetensors", "qwen2"),
    )
    verifier_curves = {m.name for m in task_metrics(4)
                       if m.name.startswith(("best_of@", "weighted_maj@"))}
    reasoning = {"thinking_tokens", "answer_tokens"}
    assert verifier_curves and reasoning <= {m.name for m in task_metrics(4)}
    assert set(score_record(record, "1")) == ({m.name for m in task_metrics(4)}
                                              - verifier_curves - reasoning)
    for sample in record.samples:
        sample.thinking_tokens, sample.answer_tokens = 2, 1
    assert set(score_record(record, "1")) == {m.name for m in task_metrics(4)} - verifier_curves
    assert score_record(record, "1")["thinking_tokens"] == 8.0
    for sample, score in zip(record.samples, (0.9, 0.2, 0.4, 0.7), strict=True):
        sample.score = score  # a verifier read every sample: its curves are reported too
    assert set(score_record(record, "1")) == {m.name for m in task_metrics(4)}
