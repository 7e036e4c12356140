"""Reward models through vLLM's pooling runner: P(good) at chosen positions, or per text.

Three kinds of reward model, one reader:
- a token-classification PRM (Qwen2.5-Math-PRM, the toy PRM): P(good) is a column of the
  label probabilities at each position (``positive_label``);
- a causal LM that answers a step with a good or a bad token (Math-Shepherd's "+"/"-" after
  its tag, RLHFlow's "+"/"-" assistant turns): ``good_bad=("+", "-")`` has vLLM turn the two
  rows of its LM head into one classifier (``from_2_way_softmax``), so each position reads
  exactly softmax(logit_good, logit_bad)[good], as these models' own code computes it, for
  every position in one prefill (prompt logprobs would return only the top-k tokens, and
  the bad token is often not among them);
- an outcome reward model (``task="classify"``, a sequence-classification head): one
  probability per text (sigmoid of a single reward logit, or ``positive_label`` of several).

Texts arrive as token ids, unpadded, one request each. A text longer than the model's
context is read up to it; positions past the end score 0 (the model never saw those steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tts_eval.engines.base import ScoredSteps, ScoringError
from tts_eval.engines.model_files import RewardModelTokens
from tts_eval.engines.vllm_engine import VLLMModel

__all__ = ["ScoredSteps", "ScoringError", "VLLMScorer"]

TASKS = ("token_classify", "classify")


class VLLMScorer(RewardModelTokens, VLLMModel):
    """A reward model on vLLM's pooling runner (started on the first score call)."""

    def __init__(self, pretrained: str, *, task: str = "token_classify",
                 good_bad: tuple[str, str] | None = None, positive_label: int = 1,
                 **engine_args: Any) -> None:
        if task not in TASKS:
            raise ValueError(f"unknown scoring task {task!r}; valid: {', '.join(TASKS)}")
        engine_args.setdefault("runner", "pooling")
        super().__init__(pretrained, **engine_args)
        self.task = task
        self.good_bad = good_bad
        self.positive_label = positive_label

    # The engine ------------------------------------------------------------------

    def start(self) -> None:
        if self._llm is None:
            self._configure_pooler()
        super().start()

    def _configure_pooler(self) -> None:
        """Engine arguments for the reading asked for (the user's own ones win)."""
        from vllm.config import PoolerConfig

        args = self.engine_args
        if self.good_bad is not None:
            good, bad = (self.single_token_id(t) for t in self.good_bad)
            tokens = self.tokenizer.convert_ids_to_tokens([bad, good])  # [false, true]
            args.setdefault("convert", "classify")
            args["hf_overrides"] = {"classifier_from_token": tokens,
                                    "method": "from_2_way_softmax",
                                    **(args.get("hf_overrides") or {})}
        if args.get("pooler_config") is None:
            # Every position's row (the verifier picks its steps' rows), as probabilities
            # (some reward heads, e.g. Qwen2ForRewardModel's, default to raw logits).
            token_pooling = {"tok_pooling_type": "ALL"} if self.task == "token_classify" else {}
            args["pooler_config"] = PoolerConfig(task=self.task, use_activation=True,
                                                 **token_pooling)

    def _good(self, row: Any) -> float:
        """P(good) from one row of the head's output (one label: already P(good))."""
        return float(row[0] if row.numel() == 1 else row[self.positive_label])

    def _encode(self, token_ids: Sequence[Sequence[int]], task: str) -> list[Any]:
        if task != self.task:
            raise ScoringError(f"{self.pretrained} was loaded for {self.task}, not {task}")
        limit = self.max_model_len
        outputs = self.llm.encode([{"prompt_token_ids": list(ids[:limit])} for ids in token_ids],
                                  pooling_task=task, use_tqdm=False)
        return [output.outputs.data for output in outputs]

    def score_positions(self, token_ids: Sequence[Sequence[int]],
                        positions: Sequence[Sequence[int]]) -> list[list[float]]:
        if not token_ids:
            return []
        scores = []
        for index, (ids, wanted, data) in enumerate(zip(
                token_ids, positions, self._encode(token_ids, "token_classify"), strict=True)):
            read = min(len(ids), self.max_model_len)
            if data.shape[0] != read:
                raise ScoringError(
                    f"text {index}: {read} tokens sent but {data.shape[0]} rows from "
                    f"{self.pretrained}; its pooler returns only some positions (set "
                    "verifier_pooler_config with tok_pooling_type ALL)")
            scores.append([self._good(data[p]) if p < read else 0.0 for p in wanted])
        return scores

    def score_sequences(self, token_ids: Sequence[Sequence[int]]) -> list[float]:
        if not token_ids:
            return []
        return [self._good(data) for data in self._encode(token_ids, "classify")]
