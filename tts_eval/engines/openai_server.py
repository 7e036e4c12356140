"""Engines on OpenAI-compatible servers (``vllm serve``, SGLang, TGI): how one evaluation
spreads over many machines. ``ServerEngine`` generates through ``/completions``;
``ServerScorer`` reads a reward model through vLLM's ``/pooling``.

The client keeps what a strategy relies on: prompts go as token ids (so continuations and
the run store see exactly what was sent), completions come back with their token ids where
the server offers them (vLLM's ``return_token_ids``; otherwise the text is tokenised
locally), every request carries its own seed, and token counts come from what was sent and
returned. Concurrency, retries and failover are the pool's (``server_pool``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tts_eval.engines.base import (
    Completion,
    GeneratesEach,
    Generation,
    Prompt,
    SamplingSpec,
    check_batch,
)
from tts_eval.engines.model_files import ModelFiles, RewardModelTokens
from tts_eval.engines.server_pool import ServerError, ServerPool, parse_base_urls

__all__ = ["ServerEngine", "ServerError", "ServerScorer", "parse_base_urls"]

POOL_ARGS = ("served_model", "max_concurrency", "request_timeout", "max_retries",
             "backoff_seconds")


class ServedModel(ModelFiles):
    """A model on servers: its files read locally, its requests through a ``ServerPool``
    (``args`` in ``POOL_ARGS`` go to the pool, the rest are ``ModelFiles``')."""

    def __init__(self, pretrained: str, base_urls: Sequence[str], *,
                 model_config: str | None = None, **args: Any) -> None:
        super().__init__(pretrained, {k: v for k, v in args.items() if k not in POOL_ARGS},
                         model_config)
        self.pool = ServerPool(base_urls, **{k: v for k, v in args.items() if k in POOL_ARGS})

    @property
    def max_model_len(self) -> int:
        """``max_model_len`` when given, else the servers', else the config's."""
        if self.engine_args.get("max_model_len"):
            return int(self.engine_args["max_model_len"])
        return int(self.pool.max_model_len or super().max_model_len)


class ServerEngine(GeneratesEach, ServedModel):
    """The Engine protocol over servers that serve ``pretrained``."""

    def generate_each(self, prompts: Sequence[Prompt],
                      specs: Sequence[SamplingSpec]) -> Iterator[tuple[int, Generation]]:
        """(index, Generation) as each request's answer arrives."""
        check_batch(prompts, specs)
        token_ids = [self.token_ids(p, s.add_special_tokens)
                     for p, s in zip(prompts, specs, strict=True)]
        bodies = [self._body(ids, spec) for ids, spec in zip(token_ids, specs, strict=True)]
        for index, answer in self.pool.run("/completions", bodies):
            yield index, self._generation(token_ids[index], answer)

    def _body(self, ids: list[int], spec: SamplingSpec) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.pool.served_model, "prompt": ids, "n": spec.n,
            "temperature": spec.temperature, "top_p": spec.top_p,
            "max_tokens": self.max_new_tokens(spec.max_tokens, len(ids)),
            "return_token_ids": True,
        }
        if spec.top_k > 0:
            body["top_k"] = spec.top_k
        if spec.stop:
            body["stop"] = list(spec.stop)
        if spec.seed is not None:
            body["seed"] = spec.seed
        body.update(dict(spec.extra))
        return body

    def _generation(self, prompt_ids: list[int], answer: dict[str, Any]) -> Generation:
        completions = []
        for choice in sorted(answer["choices"], key=lambda c: c.get("index", 0)):
            ids = choice.get("token_ids")
            if ids is None:  # a server without token ids: the text, tokenised here
                ids = self.token_ids(choice["text"], add_special_tokens=False)
            completions.append(Completion(
                text=choice["text"], completion_tokens=len(ids),
                finish_reason=choice.get("finish_reason"), token_ids=tuple(ids),
                stop_reason=choice.get("stop_reason")))
        usage = answer.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        return Generation(prompt_tokens=len(prompt_ids),
                          cached_prompt_tokens=int(details.get("cached_tokens") or 0),
                          completions=completions)


class ServerScorer(RewardModelTokens, ServedModel):
    """A reward model on vLLM servers started with ``--runner pooling`` and the pooler its
    verifier preset reads (a token-classification PRM: ``--pooler-config
    '{"task": "token_classify", "tok_pooling_type": "ALL", "use_activation": true}'``; a
    good/bad-token PRM also needs the ``--hf-overrides`` that ``VLLMScorer`` sets, see the
    README: ``good_bad`` is the server's to apply, not ours). Texts go as token ids, one
    request each; P(good) is read from the rows back."""

    def __init__(self, pretrained: str, base_urls: Sequence[str], *,
                 task: str = "token_classify", good_bad: tuple[str, str] | None = None,
                 positive_label: int = 1, **args: Any) -> None:
        super().__init__(pretrained, base_urls, **args)
        self.task = task
        self.positive_label = positive_label

    def _read(self, token_ids: Sequence[Sequence[int]], task: str) -> list[Any]:
        if task != self.task:
            raise ServerError(f"{self.pretrained} is read for {self.task}, not {task}")
        limit = self.max_model_len
        bodies = [{"model": self.pool.served_model, "input": list(ids[:limit]), "task": task,
                   "use_activation": True} for ids in token_ids]
        rows: list[Any] = [None] * len(bodies)
        for index, answer in self.pool.run("//pooling", bodies):
            rows[index] = answer["data"][0]["data"]
        return rows

    def _good(self, row: Any) -> float:
        values = row if isinstance(row, list) else [row]
        return float(values[0] if len(values) == 1 else values[self.positive_label])

    def score_positions(self, token_ids: Sequence[Sequence[int]],
                        positions: Sequence[Sequence[int]]) -> list[list[float]]:
        rows = self._read(token_ids, "token_classify")
        return [[self._good(data[p]) if p < len(data) else 0.0 for p in wanted]
                for data, wanted in zip(rows, positions, strict=True)]

    def score_sequences(self, token_ids: Sequence[Sequence[int]]) -> list[float]:
        return [self._good(data) for data in self._read(token_ids, "classify")]
