"""A reward model is shown the problem, not the generator's chat-template markup."""

from __future__ import annotations

import pytest

from tts_eval.verifiers.presets import problem_text


@pytest.mark.parametrize("prompt", [
    "<|im_start|>system\nBe careful.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
    "<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n",
    "<bos><start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
    "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n",
    "<s>[INST] What is 2+2? [/INST]",
    "  What is 2+2?\n",
])
def test_the_problem_is_the_last_user_turn_of_any_common_template(prompt):
    assert problem_text(prompt) == "What is 2+2?"


def test_a_few_shot_chat_gives_its_last_question():
    prompt = ("<|im_start|>user\nWhat is 1+1?<|im_end|>\n<|im_start|>assistant\n2<|im_end|>\n"
              "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")
    assert problem_text(prompt) == "What is 2+2?"
