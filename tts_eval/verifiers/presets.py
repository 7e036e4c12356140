"""Verifiers by name (``--model_args verifier=NAME``): each preset declares its prompt
format, step separator and how a score is read, so a reward model is never fed a format it
was not trained on.

``toy-prm``: the bundled toy PRM (``tts_eval/toy/models/prm``): the generator prompt, then
each step line followed by ``<extra_0>`` and a newline; token classification at each tag,
P(good) = column 1. (Its tag id is the toy vocabulary's, not Qwen's 151651: it is looked up
in the model's own tokenizer.)

``qwen-prm``: Qwen2.5-Math-PRM-7B / 72B, as their model card feeds them: a ChatML
conversation with the fixed system prompt, the problem as the user turn, and the solution's
steps (split at blank lines) joined and ended by ``<extra_0>`` as the assistant turn; token
classification at each tag, P(good) = column 1. A prompt that a chat template already
rendered gives its last user turn as the problem.

``step-tag``: Math-Shepherd (peiyi9979/math-shepherd-mistral-7b-prm) style: a causal LM
that reads ``problem step1 ки\nstep2 ки...`` (one step per line) and, at each tag, predicts
"+" for a good step and "-" for a bad one; score = softmax over those two logits.

``plus-minus``: RLHFlow (Llama3.1-8B-PRM-Deepseek/Mistral-Data) style: a causal LM shown a
chat in which each step (blank-line separated; the first with the problem) is a user turn the
assistant answers with "+"; score = softmax over the "+"/"-" logits where it answers.

``orm``: an outcome reward model (a sequence-classification head: Skywork-Reward,
Qwen2.5-Math-RM, ...): the problem and the whole solution as a user and an assistant turn of
its chat template, one score per solution (sigmoid of a single reward logit).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tts_eval.engines import Scorer
from tts_eval.verifiers.base import ProcessRewardVerifier, StepFormat, Verifier
from tts_eval.verifiers.chat_turns import ChatTurnVerifier
from tts_eval.verifiers.outcome import OutcomeRewardVerifier

QWEN_STEP_TAG = "<extra_0>"  # Qwen2.5-Math-PRM's step tag
TOY_STEP_TAG = QWEN_STEP_TAG  # the toy PRM was trained with the same tag


def split_lines(solution: str) -> list[str]:
    """Steps as non-empty lines (the toy world writes one step per line)."""
    return [line.strip() for line in solution.split("\n") if line.strip()]


def _render_tagged_lines(prompt: str, steps: list[str]) -> str:
    return prompt + "".join(f"{step}{TOY_STEP_TAG}\n" for step in steps)


QWEN_PRM_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
# The user turn of the chat templates in common use: a reward model is shown the problem,
# not the generator's template markup.
_USER_TURN_RES = tuple(re.compile(pattern, re.DOTALL) for pattern in (
    r"<\|im_start\|>user\n(.*?)<\|im_end\|>",  # ChatML: Qwen, s1, QwQ
    r"<\|start_header_id\|>user<\|end_header_id\|>\n\n(.*?)<\|eot_id\|>",  # Llama 3
    r"<\|user\|>\n?(.*?)<\|end\|>",  # Phi-3
    r"<start_of_turn>user\n(.*?)<end_of_turn>",  # Gemma
    r"<｜User｜>(.*?)<｜Assistant｜>",  # DeepSeek-R1 and its distills
    r"\[INST\](.*?)\[/INST\]",  # Mistral, Llama 2
))


def split_paragraphs(solution: str) -> list[str]:
    """Steps as blank-line-separated paragraphs (how Qwen2.5-Math and most chat models
    write their steps, and what Qwen's PRM was trained on)."""
    return [step.strip() for step in solution.split("\n\n") if step.strip()]


def problem_text(prompt: str) -> str:
    """The problem a prompt asks: its last user turn when a chat template in common use
    rendered it, else the prompt itself."""
    for pattern in _USER_TURN_RES:
        turns = pattern.findall(prompt)
        if turns:
            return turns[-1].strip()
    return prompt.strip()


def _render_qwen_prm(prompt: str, steps: list[str]) -> str:
    answer = "".join(f"{step}{QWEN_STEP_TAG}" for step in steps)
    return (f"<|im_start|>system\n{QWEN_PRM_SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{problem_text(prompt)}<|im_end|>\n"
            f"<|im_start|>assistant\n{answer}<|im_end|>\n")


QWEN_PRM_FORMAT = StepFormat(step_tag=QWEN_STEP_TAG, split=split_paragraphs,
                             render=_render_qwen_prm, delimiter="\n\n")
"""Qwen2.5-Math-PRM's format (its model card's ``make_step_rewards`` input)."""

TOY_PRM_FORMAT = StepFormat(step_tag=TOY_STEP_TAG, split=split_lines,
                            render=_render_tagged_lines, delimiter="\n")
"""What the toy PRM was trained on (``toy.problems.format_prm_input``)."""

MATH_SHEPHERD_TAG = "ки"  # Math-Shepherd's step tag (one token in its Mistral vocabulary)


def _render_math_shepherd(prompt: str, steps: list[str]) -> str:
    return f"{problem_text(prompt)} " + "\n".join(f"{step} {MATH_SHEPHERD_TAG}" for step in steps)


STEP_TAG_FORMAT = StepFormat(step_tag=MATH_SHEPHERD_TAG, split=split_lines,
                             render=_render_math_shepherd, delimiter="\n")
"""Math-Shepherd's format (its README's ``f"{question} {output}"`` with ``ки`` per step)."""

GOOD_BAD = ("+", "-")  # the tokens step-tag and plus-minus models answer a step with


@dataclass(frozen=True)
class Preset:
    """A verifier family: how its reward model is read (``VLLMScorer`` arguments) and the
    verifier that renders solutions for it."""

    build: Callable[[Scorer], Verifier]
    scorer_args: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "toy-prm": Preset(lambda scorer: ProcessRewardVerifier(scorer, TOY_PRM_FORMAT)),
    "qwen-prm": Preset(lambda scorer: ProcessRewardVerifier(scorer, QWEN_PRM_FORMAT)),
    "step-tag": Preset(lambda scorer: ProcessRewardVerifier(scorer, STEP_TAG_FORMAT),
                       {"good_bad": GOOD_BAD}),
    "plus-minus": Preset(lambda scorer: ChatTurnVerifier(scorer, split_paragraphs, problem_text,
                                                         good=GOOD_BAD[0]),
                         {"good_bad": GOOD_BAD}),
    "orm": Preset(lambda scorer: OutcomeRewardVerifier(scorer, problem_text),
                  {"task": "classify"}),
}


def make_verifier(
    name: str, model: str, scorer_factory: Callable[..., Scorer], **engine_args: Any
) -> Verifier:
    """The preset ``name`` reading with the reward model at ``model``; ``scorer_factory``
    builds the model's Scorer (engines.vllm_scorer.VLLMScorer on vLLM) from the preset's
    reading and ``engine_args``."""
    if name not in PRESETS:
        raise ValueError(f"unknown verifier {name!r}; valid verifiers: "
                         f"{', '.join(sorted(PRESETS))} (set it with --model_args "
                         "verifier=NAME,verifier_model=PATH)")
    preset = PRESETS[name]
    return preset.build(scorer_factory(model, **preset.scorer_args, **engine_args))
