"""An engine (and a reward-model scorer) that answers from the run store what it generated
before, and stores each new result the moment the engine returns it.

Why at the engine and not per strategy: every strategy, single call or many rounds (budget
forcing's rounds, a search's steps, a verifier's readings), reaches the model only through
``generate`` and the scorer's reads. Requests are deterministic given what came back before
(prompt token ids, sampling parameters, per-request seed), so replaying stored results
makes a restarted run issue the very same requests, answer the stored ones at once, and
generate only the rest: its records equal those of a run that was never interrupted.

A key is the digest of the model's fingerprint, the prompt's token ids and every sampling
parameter (seed included); ``n`` samples of a request are one entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

from tts_eval.engines.base import (
    Completion,
    Engine,
    GeneratesEach,
    Generation,
    Prompt,
    SamplingSpec,
    Scorer,
    check_batch,
    generate_each,
)
from tts_eval.store import RunStore


def request_key(fingerprint: str, kind: str, payload: Any) -> str:
    text = json.dumps([fingerprint, kind, payload], separators=(",", ":"), sort_keys=True,
                      default=list)
    return hashlib.sha256(text.encode()).hexdigest()


def _generation_json(generation: Generation) -> dict[str, Any]:
    return asdict(generation)


def _generation_from_json(body: dict[str, Any]) -> Generation:
    return Generation(
        prompt_tokens=body["prompt_tokens"],
        cached_prompt_tokens=body["cached_prompt_tokens"],
        completions=[Completion(**{**c, "token_ids": tuple(c["token_ids"])})
                     for c in body["completions"]])


class StoredEngine(GeneratesEach):
    """``engine`` behind ``store``: the Engine protocol, plus what the wrapped engine offers
    (its tokenizer, ``max_model_len``, ``close``) passed through."""

    def __init__(self, engine: Engine, store: RunStore, fingerprint: str) -> None:
        self.engine = engine
        self.store = store
        self.fingerprint = fingerprint
        self.reused = 0
        self.generated = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def count_tokens(self, prompt: Prompt, add_special_tokens: bool = True) -> int:
        return self.engine.count_tokens(prompt, add_special_tokens)

    def token_ids(self, prompt: Prompt, add_special_tokens: bool = True) -> list[int]:
        return self.engine.token_ids(prompt, add_special_tokens)

    def decode(self, token_ids: Sequence[int]) -> str:
        return self.engine.decode(token_ids)

    @property
    def model_config(self) -> dict[str, Any] | str | None:
        return self.engine.model_config

    def _key(self, ids: Sequence[int], spec: SamplingSpec) -> str:
        params = {k: v for k, v in asdict(spec).items() if k != "add_special_tokens"}
        return request_key(self.fingerprint, "generation", [list(ids), params])

    def generate_each(self, prompts: Sequence[Prompt],
                      specs: Sequence[SamplingSpec]) -> Iterator[tuple[int, Generation]]:
        """Stored results first, then the engine's as they finish (each stored first).
        Identical requests in one batch (same ids, parameters and seed: the same samples)
        are generated once."""
        check_batch(prompts, specs)
        ids = [self.engine.token_ids(p, s.add_special_tokens)
               for p, s in zip(prompts, specs, strict=True)]
        keys = [self._key(i, s) for i, s in zip(ids, specs, strict=True)]
        stored = self.store.get_many(keys)
        reused = sum(key in stored for key in keys)
        self.reused += reused
        self.store.count_reused(reused)
        waiting: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            if key in stored:
                yield index, _generation_from_json(stored[key].body)
            else:
                waiting.setdefault(key, []).append(index)
        todo = [indices[0] for indices in waiting.values()]
        for j, generation in generate_each(self.engine, [ids[i] for i in todo],
                                           [specs[i] for i in todo]):
            key = keys[todo[j]]
            self.store.put(key, "generation", self.fingerprint,
                           items=len(generation.completions),
                           tokens=sum(c.completion_tokens for c in generation.completions),
                           body=_generation_json(generation))
            self.generated += 1
            for index in waiting[key]:
                yield index, generation


class StoredScorer:
    """A reward model's readings through the run store (a search's verifier calls are as
    costly to repeat as its generations)."""

    def __init__(self, scorer: Scorer, store: RunStore, fingerprint: str) -> None:
        self.scorer = scorer
        self.store = store
        self.fingerprint = fingerprint

    def __getattr__(self, name: str) -> Any:
        return getattr(self.scorer, name)

    def token_ids(self, text: str) -> list[int]:
        return self.scorer.token_ids(text)

    def chat_token_ids(self, messages: Sequence[dict[str, str]],
                       add_generation_prompt: bool = False) -> list[int]:
        return self.scorer.chat_token_ids(messages, add_generation_prompt)

    def single_token_id(self, text: str) -> int:
        return self.scorer.single_token_id(text)

    @property
    def model_config(self) -> dict[str, Any] | str | None:
        return self.scorer.model_config

    def score_positions(self, token_ids: Sequence[Sequence[int]],
                        positions: Sequence[Sequence[int]]) -> list[list[float]]:
        payloads = [[list(t), list(p)] for t, p in zip(token_ids, positions, strict=True)]
        return self._read("positions", payloads, lambda todo: self.scorer.score_positions(
            [token_ids[i] for i in todo], [positions[i] for i in todo]))

    def score_sequences(self, token_ids: Sequence[Sequence[int]]) -> list[float]:
        payloads = [list(t) for t in token_ids]
        return self._read("sequence", payloads, lambda todo: self.scorer.score_sequences(
            [token_ids[i] for i in todo]))

    def _read(self, kind: str, payloads: list[Any], score) -> list[Any]:
        keys = [request_key(self.fingerprint, f"scores:{kind}", p) for p in payloads]
        stored = self.store.get_many(keys)
        todo = [i for i, key in enumerate(keys) if key not in stored]
        self.store.count_reused(len(keys) - len(todo))
        fresh = dict(zip(todo, score(todo) if todo else [], strict=True))
        for i, value in fresh.items():
            tokens = len(payloads[i][0] if kind == "positions" else payloads[i])
            self.store.put(keys[i], "scores", self.fingerprint, items=1, tokens=tokens,
                           body=value)
        return [fresh[i] if i in fresh else stored[keys[i]].body for i in range(len(keys))]
