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

from tts_eval.accounting import Cost, known_or_none

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
    answer_rule: str | None = None  # how a choice letter was found, or why a sample has no
    # answer (omitted when None)
    step_scores: list[float] | None = None  # the verifier's score per step (omitted: none)
    node: int | None = None  # a search's leaf this solution ends at (omitted: no tree)
    thinking_tokens: int | None = None  # a reasoning model's tokens up to its end of thinking
    answer_tokens: int | None = None  # ... and after it (both omitted: not a reasoning model)
    rounds: list[dict[str, Any]] | None = None  # budget forcing: each round (omitted: none)
    chain: int | None = None  # revisions: the chain this attempt belongs to (omitted: none)
    attempt: int | None = None  # ... and its place in it, 0 first
    context_dropped: int | None = None  # ... earlier attempts left out of its context


@dataclass
class NodeRecord:
    """One node of a search tree: a step, where it hangs, what it cost, how it scored.

    A node's solution is its ancestors' steps and its own, in order; ``step_scores`` are
    the verifier's scores of that whole path (it reads the path each time).
    """

    id: int
    parent: int | None  # None: a first step (its parent is the prompt)
    depth: int  # 1 for a first step
    text: str  # this step's text
    tokens: int  # generated tokens of this step
    flops: float  # generator FLOPs of this step and its lookahead
    finish_reason: str | None  # None: the step ended at the delimiter and the path goes on
    step_scores: list[float] | None = None  # None: never scored (budget)
    score: float | None = None  # the aggregated score the search ranked it by
    lookahead_tokens: int = 0  # greedy tokens generated past the step, read only for its score
    verifier_tokens: int = 0
    kept: bool = False  # chosen by the search to go on from (or set aside, when finished)


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
    tree: list[NodeRecord] | None = None  # a search's every node (omitted: no search)

    @property
    def answer(self) -> str:
        """The chosen response text ('' when the strategy produced nothing)."""
        if self.chosen_index is None:
            return ""
        return self.samples[self.chosen_index].text

    @property
    def completion_tokens(self) -> int:
        """Tokens generated: a search's every node (pruned ones and lookahead included),
        else every sample."""
        if self.tree is not None:
            return sum(node.tokens + node.lookahead_tokens for node in self.tree)
        return sum(s.completion_tokens for s in self.samples)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for sample in data["samples"]:
            for optional in ("answer_rule", "step_scores", "node", "thinking_tokens",
                             "answer_tokens", "rounds", "chain", "attempt", "context_dropped"):
                if sample.get(optional) is None:
                    sample.pop(optional, None)
        if self.tree is None:
            data.pop("tree")
        if self.cost is not None:
            data["cost"] = self.cost.to_dict()  # with its totals, for readers of the JSON
        data = {"tts_record": SCHEMA_VERSION, "answer": self.answer, **data}
        data["completion_tokens"] = self.completion_tokens
        return _unknown_as_null(data)

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
                  if k in data and k not in ("samples", "cost", "model", "tree")}
        tree = ([NodeRecord(**_known_fields(NodeRecord, node)) for node in data["tree"]]
                if data.get("tree") is not None else None)
        cost = Cost.from_dict(data["cost"]) if data.get("cost") else None
        model = (ModelRecord(**_known_fields(ModelRecord, data["model"])) if data.get("model")
                 else None)
        return cls(samples=samples, cost=cost, model=model, tree=tree, **fields)


def _unknown_as_null(value: Any) -> Any:
    """``value`` with every unknown number (NaN: FLOPs without a model config) as None:
    JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _unknown_as_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknown_as_null(v) for v in value]
    return known_or_none(value)


def parse_record(response: str) -> TTSRecord | None:
    """The record inside a model response, or None if the response is plain text."""
    if not response.startswith('{"tts_record"'):
        return None
    try:
        return TTSRecord.from_dict(json.loads(response))
    except (ValueError, KeyError, TypeError):
        return None
