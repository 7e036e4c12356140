"""The narrow interface strategies see: prompts in, sampled completions with token counts out.

Strategies never import vLLM; they batch all problems of a run into one ``generate``
call so the engine can schedule them together (vLLM is only fast when it sees many
requests at once) and share each prompt's KV cache across its ``n`` samples.

The engine speaks tokens: a prompt is text or token ids, every completion carries its
token ids, so continuation strategies (search steps, budget forcing) extend a sequence
without tokenising text again. Whether the tokenizer adds special tokens (BOS) to a text
prompt is part of each request (``SamplingSpec.add_special_tokens``): a prompt a chat
template already rendered must not get them twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class SamplingSpec:
    """How to sample one prompt. ``n`` samples share one prompt (and its prefix cache)."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = disabled
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int | None = None
    extra: tuple[tuple[str, Any], ...] = field(default=())  # other vLLM SamplingParams
    add_special_tokens: bool = True  # for text prompts; False once a chat template ran


Prompt = str | Sequence[int]  # text, or token ids sent as they are


@dataclass(frozen=True)
class Completion:
    """One sampled continuation and what it cost."""

    text: str
    completion_tokens: int
    finish_reason: str | None
    cumulative_logprob: float | None = None
    token_ids: tuple[int, ...] = ()
    stop_reason: str | int | None = None  # the stop string or token that ended it (None: EOS,
    # length, or no stop): a search step that ended at its delimiter is not finished


@dataclass(frozen=True)
class Generation:
    """All completions of one prompt. ``cached_prompt_tokens`` came from the prefix cache."""

    prompt_tokens: int
    cached_prompt_tokens: int
    completions: list[Completion]


class Engine(Protocol):
    """What a strategy may ask of a model."""

    def generate(
        self, prompts: Sequence[Prompt], specs: Sequence[SamplingSpec]
    ) -> list[Generation]:
        """Sample every prompt with its spec; one Generation per prompt, in order."""
        ...

    def count_tokens(self, prompt: Prompt, add_special_tokens: bool = True) -> int:
        """Tokens ``prompt`` takes, exactly as ``generate`` will count it."""
        ...

    def token_ids(self, prompt: Prompt, add_special_tokens: bool = True) -> list[int]:
        """The ids ``generate`` sends for ``prompt``: a search continues a path from them."""
        ...

    def decode(self, token_ids: Sequence[int]) -> str:
        """The text of generated ``token_ids`` (special tokens skipped, as completions are):
        a search path's text is decoded from the ids it was generated as, never pieced
        together from per-step strings."""
        ...

    @property
    def model_config(self) -> dict[str, Any] | str | None:
        """The model's HF config (a dict, or a local model directory for exact parameter
        counts from its safetensors), for FLOPs accounting; None: not here, FLOPs unknown."""
        ...


def check_batch(prompts: Sequence[Prompt], specs: Sequence[SamplingSpec]) -> None:
    if len(prompts) != len(specs):
        raise ValueError(f"{len(prompts)} prompts but {len(specs)} sampling specs")


def in_order(results: Iterable[tuple[int, Generation]], count: int) -> list[Generation]:
    """The (index, Generation) pairs of a ``generate_each``, as ``generate`` returns them."""
    ordered: list[Generation | None] = [None] * count
    for index, generation in results:
        ordered[index] = generation
    return ordered  # type: ignore[return-value]  # every index arrives once


class GeneratesEach:
    """An engine whose own method is ``generate_each``; ``generate`` collects it."""

    def generate_each(self, prompts: Sequence[Prompt],
                      specs: Sequence[SamplingSpec]) -> Iterator[tuple[int, Generation]]:
        raise NotImplementedError

    def generate(self, prompts: Sequence[Prompt],
                 specs: Sequence[SamplingSpec]) -> list[Generation]:
        return in_order(self.generate_each(prompts, specs), len(prompts))


def generate_each(engine: Engine, prompts: Sequence[Prompt],
                  specs: Sequence[SamplingSpec]) -> Iterator[tuple[int, Generation]]:
    """(index, Generation) as each request finishes, from an engine that can say so (its own
    ``generate_each``: vLLM's step loop, a server's answers), else all at the end of one
    ``generate`` call: the run store keeps each result the moment it exists."""
    each = getattr(engine, "generate_each", None)
    if each is not None:
        yield from each(prompts, specs)
    else:
        yield from enumerate(engine.generate(prompts, specs))


@dataclass(frozen=True)
class ScoredSteps:
    """A reward model's reading of one text: P(step is good) per step, and the tokens it
    read to get them (its prefill, which a budget pays for)."""

    scores: list[float]
    tokens: int


class ScoringError(ValueError):
    """A reward model's output does not line up with the steps it was sent, or the model
    cannot read its preset's format (a missing tag or good/bad token, no chat template)."""


class Scorer(Protocol):
    """What a verifier may ask of a reward model: its tokenizer, and P(good) read at chosen
    token positions (a PRM) or for whole texts (an outcome reward model).

    Verifiers render and tokenise; the scorer only reads. Where the steps are in the ids is
    the verifier's business (its preset's format), so one scorer serves every layout.
    """

    def token_ids(self, text: str) -> list[int]:
        """The ids the reward model reads for ``text`` (its tokenizer's special tokens
        added, as the model was trained)."""
        ...

    def chat_token_ids(self, messages: Sequence[dict[str, str]],
                       add_generation_prompt: bool = False) -> list[int]:
        """The ids of ``messages`` rendered by the reward model's chat template (a
        ScoringError when it has none)."""
        ...

    def single_token_id(self, text: str) -> int:
        """The id of ``text`` when it is exactly one token (a step tag, a good/bad token),
        else a ScoringError naming it."""
        ...

    def score_positions(self, token_ids: Sequence[Sequence[int]],
                        positions: Sequence[Sequence[int]]) -> list[list[float]]:
        """For each id sequence, P(good) read at each of its ``positions``, in order."""
        ...

    def score_sequences(self, token_ids: Sequence[Sequence[int]]) -> list[float]:
        """For each id sequence, one P(good) for the whole of it."""
        ...

    @property
    def model_config(self) -> dict[str, Any] | str | None:
        """The reward model's config (as ``Engine.model_config``), to price its FLOPs."""
        ...
