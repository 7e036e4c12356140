"""Process reward models through vLLM's pooling runner: a score per step, one batch per call.

A PRM reads a solution with a tag token after each step and classifies the tag positions
(``token_classify``); vLLM's STEP pooling returns one row of label probabilities per tag.
The tag's id is passed per request, because vLLM's default (151651) is the Qwen2.5-Math-PRM
vocabulary's. Every call checks that each text got one score per tag it holds: silent
misalignment between steps and scores is the known failure of PRM pipelines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tts_eval.engines.base import ScoredSteps
from tts_eval.engines.vllm_engine import VLLMModel


class ScoringError(ValueError):
    """A reward model's output does not line up with the steps it was sent."""


class VLLMScorer(VLLMModel):
    """A PRM on vLLM's pooling runner; ``positive_label`` is the column of P(step is good)."""

    def __init__(self, pretrained: str, *, positive_label: int = 1, **engine_args: Any) -> None:
        engine_args.setdefault("runner", "pooling")
        super().__init__(pretrained, **engine_args)
        self.positive_label = positive_label

    def step_tag_id(self, step_tag: str) -> int:
        """The token id of ``step_tag`` in this model's vocabulary."""
        tokenizer = self.tokenizer
        tag_id = tokenizer.convert_tokens_to_ids(step_tag)
        if tag_id is None or tag_id == getattr(tokenizer, "unk_token_id", None):
            raise ScoringError(f"{self.pretrained}: the tokenizer has no {step_tag!r} token")
        return int(tag_id)

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    def score_steps(self, texts: Sequence[str], step_tag: str) -> list[ScoredSteps]:
        from vllm import PoolingParams

        if not texts:
            return []
        tag_id = self.step_tag_id(step_tag)
        token_ids = [self.token_ids(t) for t in texts]
        outputs = self.llm.encode([{"prompt_token_ids": t} for t in token_ids],
                                  pooling_task="token_classify",
                                  pooling_params=PoolingParams(step_tag_id=tag_id),
                                  use_tqdm=False)
        scores = []
        for index, (ids, output) in enumerate(zip(token_ids, outputs, strict=True)):
            data = output.outputs.data
            rows = [float(row[self.positive_label]) for row in data] if data.numel() else []
            expected = ids.count(tag_id)
            if len(rows) != expected:
                raise ScoringError(
                    f"text {index}: {expected} step tags but {len(rows)} scores from "
                    f"{self.pretrained}; the model's pooler does not read {step_tag!r}"
                )
            scores.append(ScoredSteps(rows, len(ids)))
        return scores
