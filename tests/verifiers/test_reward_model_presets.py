"""The reward-model presets read real vLLM pooling engines exactly as the models' own code
would: each score is checked against the same model run in transformers, so a preset that
read the wrong position, the wrong tokens or the wrong head would fail here.

Tiny random models of each family's architecture stand in for the real 7B ones: a Mistral
causal LM with an ``ки`` token (Math-Shepherd), a Llama causal LM with a chat template
(RLHFlow), a Qwen2 sequence classifier (an ORM).
"""

from __future__ import annotations

import pytest

from tts_eval.dev.tiny_model import build_tiny_model
from tts_eval.engines import ScoringError
from tts_eval.engines.vllm_scorer import VLLMScorer
from tts_eval.verifiers import make_verifier

pytestmark = pytest.mark.vllm

ENGINE_ARGS = {"dtype": "float32", "enforce_eager": True, "max_model_len": 256}
PROMPT = "<|user|>\nWhat is 3+4*2?<|end|>\n<|assistant|>\n"
SOLUTIONS = ["4*2=8\n3+8=11\nThe answer is 11", "3+4=7\n7*2=14 ки oops\nThe answer is 14"]


def transformers_logits(path, ids):
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    cls = (AutoModelForSequenceClassification if "Sequence" in path.name
           else AutoModelForCausalLM)
    model = cls.from_pretrained(path, dtype=torch.float32)
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0]


def good_share(logits, tokenizer):
    """softmax over the "+" and "-" logits, P("+"): how step-tag and plus-minus PRMs score."""
    import torch

    good, bad = (tokenizer.encode(t, add_special_tokens=False)[0] for t in ("+", "-"))
    return torch.softmax(logits[:, [good, bad]], dim=-1)[:, 0]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("reward-models")
    return {
        "step-tag": build_tiny_model(root / "MistralForCausalLM",
                                     architecture="MistralForCausalLM", extra_tokens=["ки"]),
        "plus-minus": build_tiny_model(root / "LlamaForCausalLM",
                                       architecture="LlamaForCausalLM"),
        "orm": build_tiny_model(root / "Qwen2ForSequenceClassification",
                                architecture="Qwen2ForSequenceClassification"),
    }


def verifier_for(name, models):
    return make_verifier(name, str(models[name]), VLLMScorer, **ENGINE_ARGS)


@pytest.mark.parametrize("name", ["step-tag", "plus-minus"])
def test_step_presets_read_softmax_of_good_and_bad_at_each_step(name, models):
    verifier = verifier_for(name, models)
    solutions = [s.replace("\n", verifier.step_delimiter) for s in SOLUTIONS]  # 3 steps each
    try:
        scored = verifier.score([PROMPT] * 2, solutions)
        for solution, result in zip(solutions, scored, strict=True):
            reading = verifier.reading(0, PROMPT, solution)
            assert len(result.scores) == len(reading.positions) == 3  # one per step
            assert result.tokens == len(reading.token_ids)
            logits = transformers_logits(models[name], reading.token_ids)
            expected = good_share(logits, verifier.scorer.tokenizer)[reading.positions]
            assert result.scores == pytest.approx(expected.tolist(), abs=1e-4)
        assert verifier.read_tokens([PROMPT], solutions[:1]) == [scored[0].tokens]
    finally:
        verifier.scorer.close()


def test_step_tag_reads_at_its_tag_and_a_tag_written_by_the_model_is_removed(models):
    verifier = verifier_for("step-tag", models)
    tag = verifier.scorer.single_token_id("ки")
    reading = verifier.reading(0, PROMPT, SOLUTIONS[1])  # its second step writes "ки" itself
    assert [reading.token_ids[p] for p in reading.positions] == [tag] * 3
    assert reading.token_ids.count(tag) == 3


def test_plus_minus_scores_where_the_assistant_answers_each_step(models):
    verifier = verifier_for("plus-minus", models)
    reading = verifier.reading(0, PROMPT, "a\n\nb\n\nc")
    plus = verifier.scorer.single_token_id("+")
    assert [reading.token_ids[p + 1] for p in reading.positions] == [plus] * 3
    text = verifier.scorer.tokenizer.decode(reading.token_ids)
    assert "What is 3+4*2? a" in text  # the problem opens the first user turn
    # a solution with no steps has nothing to read: nothing is sent, nothing charged
    (empty,) = verifier.score([PROMPT], ["  \n\n "])
    assert empty.scores == [] and empty.tokens == 0
    assert verifier.read_tokens([PROMPT], [""]) == [0] and not verifier.scorer.started


def test_orm_reads_one_sigmoid_reward_per_solution(models):
    import torch

    verifier = verifier_for("orm", models)
    try:
        scored = verifier.score([PROMPT] * 2, SOLUTIONS)
        for solution, result in zip(SOLUTIONS, scored, strict=True):
            ids = verifier.reading(0, PROMPT, solution).token_ids
            (reward,) = transformers_logits(models["orm"], ids)  # HF pools the last token
            assert result.scores == pytest.approx([torch.sigmoid(reward).item()], abs=1e-4)
            assert result.tokens == len(ids)
    finally:
        verifier.scorer.close()


def test_a_model_that_does_not_fit_its_preset_is_a_clear_error_before_any_engine(models,
                                                                                 tiny_model):
    step_tag = make_verifier("step-tag", str(tiny_model), VLLMScorer, **ENGINE_ARGS)
    with pytest.raises(ScoringError, match="has no 'ки' token"):
        step_tag.score([PROMPT], SOLUTIONS[:1])
    assert not step_tag.scorer.started
    no_template = build_tiny_model(models["orm"].parent / "no-template")
    (no_template / "tokenizer_config.json").write_text(
        (no_template / "tokenizer_config.json").read_text().replace('"chat_template"', '"x"'))
    (no_template / "chat_template.jinja").unlink(missing_ok=True)
    orm = make_verifier("orm", str(no_template), VLLMScorer, **ENGINE_ARGS)
    with pytest.raises(ScoringError, match="has no chat template"):
        orm.score([PROMPT], SOLUTIONS[:1])
    assert not orm.scorer.started
