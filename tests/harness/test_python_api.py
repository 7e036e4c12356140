"""The Python API: TTSVLLM driven directly with lm-eval Instances on a real vLLM engine."""

from __future__ import annotations

import pytest
from lm_eval.api.instance import Instance

from tts_eval.records import parse_record

pytestmark = pytest.mark.vllm
GEN_KWARGS = {"until": [], "tts_record": True, "tts_answer_kind": "math"}


@pytest.fixture(scope="module")
def lm(tiny_model):
    from tts_eval.harness.model import TTSVLLM

    model = TTSVLLM(pretrained=str(tiny_model), strategy="majority", n=4, max_gen_toks=16,
                    temperature=1.0, enforce_eager=True, max_model_len=1024, seed=0)
    yield model
    model.engine.close()


def requests(prompts, gen_kwargs=GEN_KWARGS):
    return [Instance("generate_until", {}, (p, dict(gen_kwargs)), i)
            for i, p in enumerate(prompts)]


PROMPTS = [f"Problem {i}: what is {i} + {i}? Please reason step by step." for i in range(6)]


def test_records_count_tokens_like_vllm(lm):
    responses = lm.generate_until(requests(PROMPTS))
    records = [parse_record(r) for r in responses]
    for prompt, record in zip(PROMPTS, records, strict=True):
        assert record.prompt_tokens == len(lm.tokenizer.encode(prompt))
        assert len(record.samples) == 4
        texts = [s.text for s in record.samples]
        assert len(set(texts)) > 1  # temperature 1: n distinct samples, not copies
        for sample in record.samples:
            # vLLM's own count: the token budget is hit exactly unless EOS came first.
            if sample.finish_reason == "length":
                assert sample.completion_tokens == 16
            else:
                assert sample.finish_reason == "stop" and sample.completion_tokens < 16


def test_same_requests_same_samples_whatever_the_batch(lm):
    first = lm.generate_until(requests(PROMPTS))
    again = lm.generate_until(requests(PROMPTS))
    assert first == again
    reversed_batch = lm.generate_until(requests(PROMPTS[::-1]))
    assert reversed_batch[::-1] == first
    alone = lm.generate_until(requests(PROMPTS[2:3]))
    assert alone == first[2:3]


def test_prefix_cache_serves_repeated_prompts(lm):
    # Longer than one KV block (vLLM caches whole blocks only).
    long_prompts = [p + " Think carefully about every step." * 40 for p in PROMPTS[:2]]
    lm.generate_until(requests(long_prompts))
    records = [parse_record(r) for r in lm.generate_until(requests(long_prompts))]
    for record in records:
        assert 0 < record.cached_prompt_tokens <= record.prompt_tokens


def test_plain_requests_get_the_chosen_text_and_gen_kwargs_apply(lm):
    plain = {"until": ["\n"], "max_gen_toks": 5}
    (text,) = lm.generate_until(requests(PROMPTS[:1], plain))
    (as_record,) = lm.generate_until(requests(PROMPTS[:1], plain | {"tts_record": True}))
    record = parse_record(as_record)
    assert parse_record(text) is None
    assert text == record.answer  # same samples either way; text is the chosen one
    assert all(s.completion_tokens <= 5 and "\n" not in s.text for s in record.samples)


def test_budget_flops_is_never_exceeded_and_costs_match_compute(lm, tiny_model):
    from tts_eval.accounting import count_params
    from tts_eval.accounting.budget import Budget, Pricer
    from tts_eval.strategies import get_strategy

    pricer = Pricer(str(tiny_model))
    prompt_tokens = [len(lm.tokenizer.encode(p)) for p in PROMPTS]
    # Room for ~3 worst-case samples of 16 tokens on the longest prompt.
    worst = max(pricer.prefill(t).generator_flops + 3 * pricer.sample(t, 16).generator_flops
                for t in prompt_tokens)
    budget = Budget(flops=worst)
    original = lm.strategy
    lm.strategy = get_strategy("majority", budget=budget)
    try:
        records = [parse_record(r) for r in lm.generate_until(requests(PROMPTS))]
    finally:
        lm.strategy = original
    for tokens, record in zip(prompt_tokens, records, strict=True):
        assert record.cost.total_flops <= budget.flops
        assert record.budget["planned_samples"] >= 3
        assert len(record.samples) >= record.budget["planned_samples"]
        expected = pricer.prefill(tokens)
        for sample in record.samples:
            expected = expected + pricer.sample(tokens, sample.completion_tokens)
        assert record.cost.generator_flops == pytest.approx(expected.generator_flops)
        assert record.cost.completion_tokens == sum(s.completion_tokens for s in record.samples)
    assert records[0].model.params_total == count_params(str(tiny_model)).total


def test_budget_below_one_answer_is_a_clear_error(tiny_model):
    from tts_eval.harness.model import TTSVLLM

    with pytest.raises(ValueError, match="budget_flops=-1.0 must be a positive number"):
        TTSVLLM(pretrained=str(tiny_model), strategy="majority", budget_flops=-1)


def test_verifier_args_are_checked_before_any_engine_starts(tiny_model):
    from tts_eval.harness.model import TTSVLLM
    from tts_eval.toy.oracle import ToyOracleVerifier

    lm = TTSVLLM(pretrained=str(tiny_model), strategy="best_of_n", n=2,
                 verifier="toy-oracle", oracle_noise=0.1)
    assert isinstance(lm.verifier, ToyOracleVerifier) and lm.verifier.noise == 0.1
    assert not lm.engine.started
    with pytest.raises(ValueError, match="needs a verifier: add verifier=NAME"):
        TTSVLLM(pretrained=str(tiny_model), strategy="weighted_majority", n=2)
    with pytest.raises(ValueError, match="unknown verifier 'qwen-prn'; valid names: "
                                         "orm, plus-minus, qwen-prm, step-tag, toy-oracle, "
                                         "toy-prm"):
        TTSVLLM(pretrained=str(tiny_model), strategy="best_of_n", verifier="qwen-prn")
    with pytest.raises(ValueError, match="verifier=qwen-prm needs verifier_model=PATH"):
        TTSVLLM(pretrained=str(tiny_model), strategy="best_of_n", verifier="qwen-prm")
    # toy-prm's model ships with tts-eval; neither engine starts until the first request
    lm = TTSVLLM(pretrained=str(tiny_model), strategy="beam_search", verifier="toy-prm",
                 verifier_kv_cache_memory_bytes=1 << 28, verifier_max_model_len=300)
    assert lm.verifier.scorer.pretrained.endswith("prm") and not lm.verifier.scorer.started
    # verifier_<vLLM arg> sizes the verifier's engine alone
    assert lm.verifier.scorer.engine_args["kv_cache_memory_bytes"] == 1 << 28
    assert lm.verifier.scorer.max_model_len == 300
    assert lm.engine.engine_args.get("kv_cache_memory_bytes") is None
    with pytest.raises(ValueError, match="strategy=majority does not read beam_width "
                                         r"\(read by beam_width: beam_search, dvts\)"):
        TTSVLLM(pretrained=str(tiny_model), strategy="majority", n=4, beam_width=2)
