"""The TTS record survives its JSON round trip, typed, with the cost fields Cost writes."""

from __future__ import annotations

import json

from tts_eval.accounting import Cost
from tts_eval.records import ModelRecord, SampleRecord, TTSRecord, parse_record


def record() -> TTSRecord:
    cost = Cost(prompt_tokens=5, completion_tokens=7, generator_flops=3.0,
                generator_flops_naive=4.0)
    return TTSRecord(
        strategy="majority", params={"n": 2}, answer_kind="math", seed=3,
        samples=[SampleRecord("\\boxed{1}", "1", 5, 3, "stop", flops=1.0),
                 SampleRecord("\\boxed{2}", "2", 5, 4, "length", flops=2.0)],
        chosen_index=0, chosen_answer="1", prompt_tokens=5, cached_prompt_tokens=0,
        clusters=[0, 1], cost=cost,
        model=ModelRecord(10, 9, 8, "safetensors", "qwen2"),
    )


def test_json_round_trip_gives_the_same_typed_record():
    original = record()
    again = parse_record(original.to_json())
    assert again == original
    assert isinstance(again.cost, Cost) and isinstance(again.model, ModelRecord)


def test_the_json_cost_holds_exactly_what_accounting_writes():
    data = json.loads(record().to_json())
    assert list(data["cost"]) == list(Cost().to_dict())
    assert data["cost"]["total_tokens"] == 12 and data["model"]["params_active"] == 8


def test_a_record_without_cost_parses_and_plain_text_is_not_a_record():
    data = json.loads(record().to_json()) | {"cost": {}, "model": {}}
    parsed = parse_record(json.dumps(data))
    assert parsed.cost is None and parsed.model is None
    assert parse_record("The answer is 4.") is None
