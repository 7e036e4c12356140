"""Verifiers by name (``--model_args verifier=NAME``): each preset declares its prompt
format, step separator and how a score is read, so a PRM is never fed a format it was not
trained on.

``toy-prm``: the bundled toy PRM (``tts_eval/toy/models/prm``): the generator prompt, then
each step line followed by ``<extra_0>`` and a newline; token classification at each tag,
P(good) = column 1. (Its tag id is the toy vocabulary's, not Qwen's 151651: it is looked up
in the model's own tokenizer.)

``qwen-prm``: Qwen2.5-Math-PRM-7B / 72B, as their model card feeds them: a ChatML
conversation with the fixed system prompt, the problem as the user turn, and the solution's
steps (split at blank lines) joined and ended by ``<extra_0>`` as the assistant turn; token
classification at each tag, P(good) = column 1. A prompt that a chat template already
rendered gives its last user turn as the problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tts_eval.verifiers.base import ProcessRewardVerifier, StepFormat

QWEN_STEP_TAG = "<extra_0>"  # Qwen2.5-Math-PRM's step tag
TOY_STEP_TAG = QWEN_STEP_TAG  # the toy PRM was trained with the same tag


def split_lines(solution: str) -> list[str]:
    """Steps as non-empty lines (the toy world writes one step per line)."""
    return [line.strip() for line in solution.split("\n") if line.strip()]


def _render_tagged_lines(prompt: str, steps: list[str]) -> str:
    return prompt + "".join(f"{step}{TOY_STEP_TAG}\n" for step in steps)


QWEN_PRM_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
_CHATML_USER_RE = re.compile(r"<\|im_start\|>user\n(.*?)<\|im_end\|>", re.DOTALL)


def split_paragraphs(solution: str) -> list[str]:
    """Steps as blank-line-separated paragraphs (how Qwen2.5-Math and most chat models
    write their steps, and what Qwen's PRM was trained on)."""
    return [step.strip() for step in solution.split("\n\n") if step.strip()]


def problem_text(prompt: str) -> str:
    """The problem a prompt asks: its last ChatML user turn when a chat template rendered
    it, else the prompt itself."""
    turns = _CHATML_USER_RE.findall(prompt)
    return turns[-1].strip() if turns else prompt.strip()


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

PRESETS: dict[str, StepFormat] = {"toy-prm": TOY_PRM_FORMAT, "qwen-prm": QWEN_PRM_FORMAT}


def make_verifier(
    name: str, model: str, scorer_factory: Callable[..., Any], **engine_args: Any
) -> ProcessRewardVerifier:
    """The preset ``name`` reading with the reward model at ``model``; ``scorer_factory``
    builds the model's Scorer (engines.vllm_scorer.VLLMScorer on vLLM)."""
    if name not in PRESETS:
        raise ValueError(f"unknown verifier {name!r}; valid verifiers: "
                         f"{', '.join(sorted(PRESETS))} (set it with --model_args "
                         "verifier=NAME,verifier_model=PATH)")
    return ProcessRewardVerifier(scorer_factory(model, **engine_args), PRESETS[name])
