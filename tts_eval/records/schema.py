"""The TTS record: everything one request's strategy did, so a run can be re-graded,
re-aggregated and turned into a scaling curve without generating again.

tts-vllm returns a record as a JSON string to our own tasks (they ask for it with the
``tts_record`` generation kwarg); lm-eval's ``--log_samples`` then keeps it verbatim in
``resps``. Any other task gets the chosen response text instead.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from tts_eval.accounting import Cost

SCHEMA_VERSION = 1


@dataclass
class SampleRecord:
    """One sampled solution."""

    text: str
    answer: str | None
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    score: float | None = None  # verifier score, for verifier-guided strategies
    flops: float | None = None  # this sample's decode FLOPs (its prompt's prefill is shared)
    answer_rule: str | None = None  # how a choice letter was found (omitted when None)
    step_scores: list[float] | None = None  # the verifier's score per step (omitted: none)


@dataclass
class ModelRecord:
    """The generator's size (``accounting.ParamCount``), for rows that compare models."""

    params_total: int
    params_non_embedding: int
    params_active: int
    params_method: str
    model_type: str


def _known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in cls.__dataclass_fields__}


@dataclass
class TTSRecord:
    """One request: all samples, the chosen one, and the strategy that chose it."""

    strategy: str
    params: dict[str, Any]
    answer_kind: str
    seed: int | None
    samples: list[SampleRecord]
    chosen_index: int | None
    chosen_answer: str | None
    prompt_tokens: int
    cached_prompt_tokens: int
    clusters: list[int] | None = None  # answer-cluster id per sample (voting strategies)
    cost: Cost | None = None  # None: a plain-text response from another model
    budget: dict[str, Any] | None = None  # limits, planned samples and spend, rounds
    model: ModelRecord | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def answer(self) -> str:
        """The chosen response text ('' when the strategy produced nothing)."""
        if self.chosen_index is None:
            return ""
        return self.samples[self.chosen_index].text

    @property
    def completion_tokens(self) -> int:
        return sum(s.completion_tokens for s in self.samples)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for sample in data["samples"]:
            for optional in ("answer_rule", "step_scores"):
                if sample.get(optional) is None:
                    sample.pop(optional, None)
        if self.cost is not None:
            data["cost"] = self.cost.to_dict()  # with its totals, for readers of the JSON
        data = {"tts_record": SCHEMA_VERSION, "answer": self.answer, **data}
        data["completion_tokens"] = self.completion_tokens
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TTSRecord:
        if data.get("tts_record") != SCHEMA_VERSION:
            raise ValueError(
                f"not a tts-eval record of schema {SCHEMA_VERSION}: "
                f"tts_record={data.get('tts_record')!r}"
            )
        samples = [SampleRecord(**s) for s in data["samples"]]
        fields = {k: data[k] for k in cls.__dataclass_fields__
                  if k in data and k not in ("samples", "cost", "model")}
        cost = Cost(**_known_fields(Cost, data["cost"])) if data.get("cost") else None
        model = (ModelRecord(**_known_fields(ModelRecord, data["model"])) if data.get("model")
                 else None)
        return cls(samples=samples, cost=cost, model=model, **fields)


def parse_record(response: str) -> TTSRecord | None:
    """The record inside a model response, or None if the response is plain text."""
    if not response.startswith('{"tts_record"'):
        return None
    try:
        return TTSRecord.from_dict(json.loads(response))
    except (ValueError, KeyError, TypeError):
        return None
