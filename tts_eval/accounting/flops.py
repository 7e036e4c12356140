"""Forward FLOPs of a causal LM from its shape: prefill, decode, samples sharing a prompt.

FLOPs (forward pass only; 1 multiply-add = 2 FLOPs)
---------------------------------------------------
For one token at a position with ``n_ctx`` tokens before it (Kaplan et al. 2020, Table 1)::

    C(n_ctx) = 2 * N_active                                  # every weight: one multiply-add
             + 2 * n_layers * min(n_ctx, window) * d_attn    # attention over the context
             + 2 * d_model * n_vocab      [only where logits are computed]   # unembedding

* ``N_active`` is ``ParamCount.active`` (embeddings excluded: a lookup is not a matmul).
* ``d_attn = num_attention_heads * head_dim`` (query heads; GQA/MQA shrink the KV cache, not
  these FLOPs). For DeepSeek MLA, whose query/key and value head sizes differ,
  ``2 * d_attn = H * (qk_nope_head_dim + qk_rope_head_dim) + H * v_head_dim``, counted as HF
  computes it (not the absorbed-weight kernels some engines use).
* The attention term is Kaplan's as published. It counts one multiply-add per (context token,
  attention dimension); counting the score (QK^T) and the weighted sum (AV) products
  separately, as Hoffmann et al. (2022, App. F) do, would double it. We keep Kaplan's so our
  numbers compare with the literature; next to ``2 * N`` it matters once n_ctx nears
  ``12 * d_model`` (Kaplan, Sec. 2.1), e.g. long chains of thought on small models.
* ``window`` is the sliding-window size on layers that use one (Mistral v0.1, Gemma-2/3 local
  layers, Qwen with ``use_sliding_window``), unbounded otherwise.
* The unembedding matmul (``2 * d_model * n_vocab``) is real compute that Kaplan's C_forward
  leaves out; it is large for small models with big vocabularies (Qwen2.5-0.5B: 0.27 GFLOPs
  next to 2N = 0.72 GFLOPs), so we include it, tied or not, *wherever logits are computed*:
  once per generated token. Prompt positions pay none by default, because vLLM computes logits
  only at the positions it samples from (pass ``prompt_logits=True`` when prompt log-probs are
  requested). Models without an LM head (PRM/ORM pooling models) never pay it; their small
  score head is in ``N_active`` instead.
* Not counted: norms, activations, softmax, rotary embeddings, residual adds, top-k routing
  (all O(d_model) per token, under 1%); biases and norm weights enter through ``2 * N``.

A generation with ``P`` prompt and ``C`` completion tokens (closed forms of the sums over
positions, see :func:`forward_flops`)::

    prefill = sum_{i=0}^{P-1} C_body(i)       = 2*N*P + 2*L*d_attn * P*(P-1)/2
    decode  = sum_{j=0}^{C-1} C_full(P + j)   = C*(2*N + 2*d*V) + 2*L*d_attn * (C*P + C*(C-1)/2)

(shown without sliding windows). Each token of the sequence is charged one forward pass at its
own position, the usual "FLOPs per token x tokens" convention; an engine never feeds the last
sampled token back, so this overstates its work by one token's forward (1/(P+C) relative).

``n`` samples of one prompt (vLLM ``SamplingParams.n`` / prefix caching) prefill the prompt
once: :func:`generation_flops` reports ``actual = prefill + sum(decode_i)`` and ``naive =
n * prefill + sum(decode_i)`` (what N independent requests would cost). A verifier scoring
``L`` tokens costs a prefill of ``L`` tokens on the verifier's model (:func:`scoring_flops`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tts_eval.accounting.model_spec import ConfigLike, ModelSpec, load_model_spec

__all__ = [
    "GenerationFlops",
    "SequenceFlops",
    "flops_per_token",
    "forward_flops",
    "generation_flops",
    "scoring_flops",
    "sequence_flops",
]


@dataclass(frozen=True)
class SequenceFlops:
    """Forward FLOPs of one generated sequence, prefill and decode counted separately."""

    prefill: float
    decode: float
    prompt_tokens: int
    completion_tokens: int

    @property
    def total(self) -> float:
        return self.prefill + self.decode

    def __add__(self, other: SequenceFlops) -> SequenceFlops:
        return SequenceFlops(
            self.prefill + other.prefill,
            self.decode + other.decode,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True)
class GenerationFlops:
    """FLOPs of ``n_samples`` completions of one prompt.

    ``prefill`` is one prefill of the prompt, ``decode`` the sum over samples. ``actual`` lets
    the samples share that prefill (prefix cache / ``SamplingParams.n``); ``naive`` prefills
    the prompt once per sample. ``naive >= actual``, equal when ``n_samples == 1``.
    ``completion_tokens`` is the total over samples.
    """

    naive: float
    actual: float
    prefill: float
    decode: float
    n_samples: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def saved(self) -> float:
        """FLOPs the shared prefill saves over independent requests."""
        return self.naive - self.actual

    def __add__(self, other: GenerationFlops) -> GenerationFlops:
        return GenerationFlops(
            self.naive + other.naive,
            self.actual + other.actual,
            self.prefill + other.prefill,
            self.decode + other.decode,
            self.n_samples + other.n_samples,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


# --------------------------------------------------------------------------------------------
# FLOPs
# --------------------------------------------------------------------------------------------


def _context_sum(start: int, count: int, window: int | None) -> int:
    """sum(min(c, window) for c in range(start, start + count)), in closed form."""
    end = start + count
    if window is None or end <= window:
        return (start + end - 1) * count // 2
    split = max(start, window)  # c < split attends to c tokens; c >= split to `window`
    below = split - start
    return (start + split - 1) * below // 2 + (end - split) * window


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _forward_flops_int(spec: ModelSpec, tokens: int, context_len: int, logits_tokens: int) -> int:
    dense = 2 * spec.params.active * tokens
    per_ctx = spec.d_attn_qk + spec.d_attn_v  # = 2 * d_attn: Kaplan's 2 * n_ctx * d_attn per layer
    attention = sum(
        layers * per_ctx * _context_sum(context_len, tokens, window)
        for window, layers in Counter(spec.attention_windows).items()
    )
    return dense + attention + logits_tokens * spec.lm_head_flops


def forward_flops(
    config: ConfigLike, tokens: int, *, context_len: int = 0, logits_tokens: int = 0
) -> float:
    """FLOPs of one forward pass over ``tokens`` new tokens placed after ``context_len`` cached
    ones, computing vocabulary logits at ``logits_tokens`` of them.

    The building block of every other helper, exposed so strategies can price a continuation
    from a cached prefix (a beam step, a budget-forcing "Wait"): token ``i`` of the span sits at
    position ``context_len + i`` and attends to that many earlier tokens. Equals
    ``sum(C(context_len + i) for i in range(tokens))`` with C from the module docstring.
    """
    spec = load_model_spec(config)
    for name, value in (
        ("tokens", tokens),
        ("context_len", context_len),
        ("logits_tokens", logits_tokens),
    ):
        _check_count(name, value)
    if logits_tokens > tokens:
        raise ValueError(f"logits_tokens ({logits_tokens}) cannot exceed tokens ({tokens})")
    return float(_forward_flops_int(spec, tokens, context_len, logits_tokens))


def flops_per_token(config: ConfigLike, context_len: int) -> float:
    """Forward FLOPs of one generated token with ``context_len`` tokens before it, logits
    included: ``2*N_active + 2*n_layers*n_ctx*d_attn + 2*d_model*n_vocab``."""
    return forward_flops(config, 1, context_len=context_len, logits_tokens=1)


def sequence_flops(
    config: ConfigLike, prompt_tokens: int, completion_tokens: int, *, prompt_logits: bool = False
) -> SequenceFlops:
    """Prefill and decode FLOPs of one sequence, closed form (no loop over positions).

    Prefill: prompt positions ``0..P-1``, no logits (vLLM samples only from the last one; that
    logit is charged to the first completion token) unless ``prompt_logits``. Decode:
    completion positions ``P..P+C-1``, each a full forward with logits.
    """
    spec = load_model_spec(config)
    _check_count("prompt_tokens", prompt_tokens)
    _check_count("completion_tokens", completion_tokens)
    prefill = _forward_flops_int(spec, prompt_tokens, 0, prompt_tokens if prompt_logits else 0)
    decode = _forward_flops_int(spec, completion_tokens, prompt_tokens, completion_tokens)
    return SequenceFlops(float(prefill), float(decode), prompt_tokens, completion_tokens)


def generation_flops(
    config: ConfigLike,
    prompt_tokens: int,
    completion_tokens_per_sample: Sequence[int],
    *,
    prompt_logits: bool = False,
) -> GenerationFlops:
    """FLOPs of ``n`` samples drawn from one prompt: shared-prefill (actual) and naive.

    ``actual`` counts the prompt's prefill once, as vLLM does for ``SamplingParams.n`` and
    prefix-cache hits; ``naive`` counts it once per sample.
    """
    spec = load_model_spec(config)
    _check_count("prompt_tokens", prompt_tokens)
    samples = list(completion_tokens_per_sample)
    if not samples:
        raise ValueError("completion_tokens_per_sample is empty: at least one sample is needed")
    for i, c in enumerate(samples):
        _check_count(f"completion_tokens_per_sample[{i}]", c)
    prefill = _forward_flops_int(spec, prompt_tokens, 0, prompt_tokens if prompt_logits else 0)
    decode = sum(_forward_flops_int(spec, c, prompt_tokens, c) for c in samples)
    n = len(samples)
    return GenerationFlops(
        naive=float(n * prefill + decode),
        actual=float(prefill + decode),
        prefill=float(prefill),
        decode=float(decode),
        n_samples=n,
        prompt_tokens=prompt_tokens,
        completion_tokens=sum(samples),
    )


def scoring_flops(config: ConfigLike, tokens: int, *, lm_head_positions: int = 0) -> float:
    """FLOPs of a verifier (PRM/ORM) scoring a sequence of ``tokens`` tokens: one prefill.

    A pooling reward model's score head is part of its non-embedding parameters, so it is in
    ``2*N`` for every token. ``lm_head_positions`` charges vocabulary logits at that many
    positions, for verifiers that read their judgement off LM-head logits.
    """
    return forward_flops(config, tokens, context_len=0, logits_tokens=lm_head_positions)
