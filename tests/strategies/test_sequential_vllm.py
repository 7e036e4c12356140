"""Budget forcing and thinking delimiters through real vLLM on a tiny random model.

The model's tokenizer has ``<think>`` and ``</think>`` as tokens; a logit bias on ``</think>``
makes the random model try to end its thinking often, so ignored ends, the cap and the cue
all happen within a few dozen tokens.
"""

from __future__ import annotations

import json

import pytest
from lm_eval.api.instance import Instance

from tts_eval.records import parse_record
from tts_eval.strategies.base import UNCLOSED

pytestmark = pytest.mark.vllm
CAP = 24


@pytest.fixture(scope="module")
def thinking_model(tmp_path_factory):
    from tts_eval.dev.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("thinking-tiny"),
                            extra_tokens=["<think>", "</think>"])


@pytest.fixture(scope="module")
def lm(thinking_model):
    from tts_eval.harness.model import TTSVLLM

    model = TTSVLLM(pretrained=str(thinking_model), strategy="budget_forcing", n=6,
                    think="qwen3", max_thinking_tokens=CAP, num_ignore=2, max_answer_tokens=8,
                    temperature=1.0, enforce_eager=True, max_model_len=512, seed=0)
    yield model
    model.engine.close()


def ask(lm, prompts, **gen_kwargs):
    kwargs = {"until": [], "tts_record": True, "tts_answer_kind": "math", **gen_kwargs}
    out = lm.generate_until([Instance("generate_until", {}, (p, dict(kwargs)), i)
                             for i, p in enumerate(prompts)])
    return [parse_record(r) for r in out]


def test_thinking_stays_under_the_cap_waits_follow_early_ends_and_the_cue_follows(lm):
    end = lm.tokenizer.convert_tokens_to_ids("</think>")
    wait = lm.engine.token_ids("Wait", add_special_tokens=False)
    cue = lm.engine.token_ids("Final Answer:", add_special_tokens=False)
    records = ask(lm, [f"Problem {i}: add {i} and {i}." for i in range(3)],
                  logit_bias={end: 4.0})
    ended = []
    for record in records:
        assert record.strategy == "budget_forcing" and len(record.samples) == 6
        for sample in record.samples:
            # from the ids: <think> (appended to the prompt's end) + inside + </think>
            assert sample.thinking_tokens - 2 <= CAP
            assert sample.text.startswith("<think>") and sample.text.count("</think>") >= 1
            rounds = sample.rounds
            assert rounds[-1]["phase"] == "answer"
            thinking = rounds[:-1]
            waits = [r for r in thinking if r["appended"] == "Wait"]
            assert len(waits) <= 2
            for i, r in enumerate(thinking):
                ended.append(r["ended"])
                if r["appended"] == "Wait":
                    assert r["ended"] in ("end", "eos") and i < 2
                else:  # the last thinking round: closed, with the cue
                    assert i == len(thinking) - 1
                    assert r["appended"] == "</think>Final Answer:"
                    inside = sample.thinking_tokens - 2
                    assert r["ended"] == "cap" or len(waits) == 2 or len(wait) >= CAP - inside
            assert "</think>Final Answer:" in sample.text
            # what follows the end of thinking, counted from ids: the cue and the answer
            assert sample.answer_tokens == len(cue) + rounds[-1]["tokens"]
    assert "end" in ended and "cap" in ended  # both ways out were exercised
    cost = records[0].cost
    assert cost.completion_tokens == sum(r["tokens"] for s in records[0].samples
                                         for r in s.rounds)


def test_an_unclosed_thinking_yields_no_answer(lm, thinking_model):
    from tts_eval.harness.model import TTSVLLM

    sampler = TTSVLLM(engine=lm.engine, pretrained=str(thinking_model), strategy="sample",
                      n=4, think="qwen3", max_gen_toks=12, temperature=1.0)
    (record,) = ask(sampler, ["Problem: 2+2? <think>"])
    unclosed = [s for s in record.samples if "</think>" not in s.text]
    assert unclosed
    for sample in unclosed:
        assert sample.answer is None and sample.answer_rule == UNCLOSED
        assert sample.thinking_tokens == sample.completion_tokens and sample.answer_tokens == 0


@pytest.mark.parametrize("strategy", [
    {"strategy": "budget_forcing", "n": 2, "max_thinking_tokens": 12, "num_ignore": 1,
     "max_answer_tokens": 8},
    {"strategy": "revisions", "n": 1, "revisions": 2},
])
def test_sequential_strategies_run_through_lm_eval_on_every_core_task(
        lm, thinking_model, data_dir, tmp_path, monkeypatch, strategy):
    from tts_eval.harness.evaluate import evaluate
    from tts_eval.harness.model import TTSVLLM

    monkeypatch.setenv("TTS_EVAL_DATA_DIR", str(data_dir))
    args = {"pretrained": str(thinking_model), "think": "qwen3", "max_gen_toks": 12,
            "temperature": 1.0, **strategy}
    results = evaluate(TTSVLLM(engine=lm.engine, **args), args, ["tts_core"], tmp_path,
                       limit=1)
    tasks = ("math500_tts", "aime24_tts", "aime25_tts", "gpqa_diamond_tts")
    for task in tasks:
        metrics = results["results"][task]
        assert 0.0 <= metrics["acc,none"] <= 1.0
        # budget forcing opens the thinking itself; the tiny model never writes <think>
        opened = strategy["strategy"] == "budget_forcing"
        assert (metrics["thinking_tokens,none"] > 0) == opened
    for samples_file in tmp_path.rglob("samples_*.jsonl"):
        for line in samples_file.read_text().splitlines():
            record = parse_record(json.loads(line)["resps"][0][0])
            assert record.strategy == strategy["strategy"]
            if strategy["strategy"] == "revisions":
                assert [s.attempt for s in record.samples] == [0, 1]
            else:
                assert all(r["thinking"] <= 12 for s in record.samples for r in s.rounds
                           if r["phase"] == "thinking")
