"""Verifiers by name (``--model_args verifier=NAME``): each preset declares its prompt
format, step separator and how a score is read, so a PRM is never fed a format it was not
trained on.

``toy-prm``: the bundled toy PRM (``tts_eval/toy/models/prm``): the generator prompt, then
each step line followed by ``<extra_0>`` and a newline; token classification at each tag,
P(good) = column 1. (Its tag id is the toy vocabulary's, not Qwen's 151651: it is looked up
in the model's own tokenizer.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tts_eval.verifiers.base import ProcessRewardVerifier, StepFormat

TOY_STEP_TAG = "<extra_0>"


def split_lines(solution: str) -> list[str]:
    """Steps as non-empty lines (the toy world writes one step per line)."""
    return [line.strip() for line in solution.split("\n") if line.strip()]


def _render_tagged_lines(prompt: str, steps: list[str]) -> str:
    return prompt + "".join(f"{step}{TOY_STEP_TAG}\n" for step in steps)


TOY_PRM_FORMAT = StepFormat(step_tag=TOY_STEP_TAG, split=split_lines,
                            render=_render_tagged_lines, delimiter="\n")
"""What the toy PRM was trained on (``toy.problems.format_prm_input``)."""

PRESETS: dict[str, StepFormat] = {"toy-prm": TOY_PRM_FORMAT}


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
