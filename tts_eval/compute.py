"""Token and FLOPs accounting for a causal LM, derived from the model's own HF config.

Every tts-eval result states what it spent. Tokens are counted by the engine; this module turns
tokens into forward-pass FLOPs using only the model's ``config.json`` (and, when the weights are
on disk, the safetensors headers for an exact parameter count). It imports nothing heavy (no
torch, vLLM or lm-eval): safetensors headers are read with ``json`` + ``struct``.

Parameters (:class:`ParamCount`)
--------------------------------
``total``
    Every weight tensor of the language model. From a directory with ``model.safetensors`` (or a
    sharded ``model.safetensors.index.json``) this is the exact element count of the checkpoint
    (method ``"safetensors"``); otherwise it is computed from the config with a per-family layout
    (method ``"config-estimate"``), exact for the families in ``_FAMILIES`` (checked against
    transformers-built models in the tests) and a llama-like guess, said so in ``note``, for
    others. Left out of ``total``: vision/audio towers of multimodal checkpoints (we price text
    tokens), multi-token-prediction layers (DeepSeek ``num_nextn_predict_layers``, unused when
    generating), and non-parameter buffers (``rotary_emb.inv_freq``, GPT-2 causal masks,
    fp8 scale tensors).
``embedding``
    The input token embedding matrix (``vocab x d_model``) plus learned position embeddings
    (GPT-2 ``wpe``), as Kaplan et al. (2020) exclude both.
``lm_head``
    The output (unembedding) matrix when it is *not* tied to the input embedding; 0 when tied.
``non_embedding``
    ``total - embedding - lm_head``. Excluding the untied ``lm_head`` as well matches how model
    cards publish "non-embedding" sizes (Qwen2.5-7B: 7.61B total, 6.53B non-embedding) and makes
    the number independent of tying. Reward/classifier heads (PRM/ORM ``score``) stay in it:
    they run on every scored token.
``active``
    Non-embedding parameters one token passes through: for dense models ``== non_embedding``;
    for mixture-of-experts ``non_embedding`` minus the ``num_experts - num_experts_per_tok``
    routed experts a token skips in each MoE layer (router, shared experts and attention all
    count as active). Model cards often quote active size *with* embeddings (Mixtral-8x7B
    "12.9B active"); that is ``active + embedding + lm_head``.

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

import functools
import json
import math
import os
import re
import struct
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ConfigLike",
    "GenerationFlops",
    "ModelSpec",
    "ParamCount",
    "SequenceFlops",
    "count_params",
    "flops_per_token",
    "forward_flops",
    "generation_flops",
    "load_model_spec",
    "scoring_flops",
    "sequence_flops",
]


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamCount:
    """Parameter counts of a language model (see the module docstring for definitions).

    Invariant: ``total == embedding + lm_head + non_embedding`` and ``active <= non_embedding``.
    """

    total: int
    non_embedding: int
    active: int
    embedding: int
    lm_head: int
    method: Literal["safetensors", "config-estimate"]
    source: str
    note: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """The shape of a model as far as compute accounting needs it; load once per model.

    ``attention_windows`` has one entry per layer: the sliding-window size, or None for full
    attention. ``d_attn_qk`` / ``d_attn_v`` are the total query/key and value widths over all
    query heads (equal, ``num_attention_heads * head_dim``, except for MLA).
    """

    model_type: str
    source: str
    hidden_size: int
    num_layers: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    d_attn_qk: int
    d_attn_v: int
    vocab_size: int
    tie_word_embeddings: bool
    has_lm_head: bool
    intermediate_size: int
    mlp_gated: bool
    num_experts: int
    num_experts_per_tok: int
    moe_intermediate_size: int
    shared_expert_intermediate_size: int
    num_moe_layers: int
    attention_windows: tuple[int | None, ...]
    params: ParamCount
    notes: tuple[str, ...] = field(default=())

    @property
    def d_attn(self) -> float:
        """Kaplan's d_attn (``num_attention_heads * head_dim`` for standard attention)."""
        return (self.d_attn_qk + self.d_attn_v) / 2

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0 and self.num_moe_layers > 0

    @property
    def lm_head_flops(self) -> int:
        """FLOPs of the unembedding matmul for one token (0 for models without an LM head)."""
        return 2 * self.hidden_size * self.vocab_size if self.has_lm_head else 0


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


ConfigLike = ModelSpec | Mapping[str, Any] | str | os.PathLike[str]


# --------------------------------------------------------------------------------------------
# Model families: the parameter layout the config alone cannot tell
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Family:
    """Per-family layout facts, checked against transformers' modeling code.

    Keyed by ``model_type`` rather than guessed from ``hidden_act``: the activation does not
    tell the MLP's shape (Gemma is gated with GELU, GPT-2/NeoX are ungated with GELU).

    ``qkv_bias``: q/k/v projections always carry a bias (Qwen2). ``bias_key``: config key that
    switches a bias on for q, k, v *and* o (Llama's ``attention_bias``). ``norms``: per-layer
    norm count (RMSNorm has one d_model vector; ``norm_bias`` for LayerNorm's second).
    ``moe``: which MoE layout the family uses, if any.
    """

    gated_mlp: bool = True
    tie_default: bool = False
    qkv_bias: bool = False
    bias_key: str | None = "attention_bias"
    mlp_bias_key: str | None = "mlp_bias"
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    norms: int = 2
    norm_bias: bool = False
    learned_positions: bool = False
    mla: bool = False
    moe: Literal["none", "mixtral", "qwen", "deepseek"] = "none"
    router_bias: bool = False
    window_rule: Literal["none", "all", "qwen", "alternate2", "pattern"] = "none"


_LLAMA = _Family()
_FAMILIES: dict[str, _Family] = {
    "llama": _LLAMA,
    "mistral": _Family(window_rule="all"),
    "mixtral": _Family(moe="mixtral", window_rule="all"),
    "qwen2": _Family(qkv_bias=True, bias_key=None, window_rule="qwen"),
    "qwen2_moe": _Family(qkv_bias=True, bias_key=None, moe="qwen", window_rule="qwen"),
    "qwen3": _Family(qk_norm=True, window_rule="qwen"),
    "qwen3_moe": _Family(qk_norm=True, moe="qwen", window_rule="qwen"),
    "gemma": _Family(tie_default=True),
    "gemma2": _Family(tie_default=True, norms=4, window_rule="alternate2"),
    "gemma3_text": _Family(tie_default=True, norms=4, qk_norm=True, window_rule="pattern"),
    "phi3": _Family(window_rule="all"),
    "deepseek_v2": _Family(mla=True, moe="deepseek"),
    "deepseek_v3": _Family(mla=True, moe="deepseek", router_bias=True),
    "gpt2": _Family(
        gated_mlp=False,
        tie_default=True,
        qkv_bias=True,
        bias_key=None,
        mlp_bias_key=None,
        o_bias=True,
        mlp_bias=True,
        norm_bias=True,
        learned_positions=True,
    ),
}
# model_type spellings whose text model has the same layout as a family above.
_ALIASES = {
    "qwen2_vl": "qwen2",
    "qwen2_vl_text": "qwen2",
    "qwen2_5_vl": "qwen2",
    "qwen2_5_vl_text": "qwen2",
    "qwen3_vl_text": "qwen3",
    "gemma3": "gemma3_text",
    "mistral3": "mistral",
}
# Keys accepted for each quantity, first match wins (GPT-2 spells them differently).
_KEYS = {
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "num_layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "num_heads": ("num_attention_heads", "n_head", "num_heads"),
    "vocab_size": ("vocab_size",),
    "intermediate_size": ("intermediate_size", "n_inner", "ffn_dim"),
    "num_experts": ("num_local_experts", "num_experts", "n_routed_experts"),
}
_REWARD_HEADS = {"ForProcessRewardModel": 2, "ForRewardModel": 1}  # vLLM qwen2_rm layout
_TEXT_KEYS = ("text_config", "llm_config", "language_config")


class _Cfg:
    """Typed access to a config mapping; every error names the source file and the key."""

    def __init__(self, raw: Mapping[str, Any], source: str, prefix: str = "") -> None:
        self.raw = raw
        self.source = source
        self.prefix = prefix

    def get(self, *keys: str, default: Any = None) -> Any:
        for key in keys:
            value = self.raw.get(key)
            if value is not None:
                return value
        return default

    def has(self, *keys: str) -> bool:
        return any(self.raw.get(k) is not None for k in keys)

    def int(self, *keys: str, default: int | None = None, minimum: int = 1) -> int:
        value = self.get(*keys)
        if value is None:
            if default is not None:
                return default
            also = f" (also looked for {', '.join(repr(k) for k in keys[1:])})" if keys[1:] else ""
            raise ValueError(
                f"{self.source}: config is missing required key {self.prefix + keys[0]!r}{also}"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            key = next(k for k in keys if self.raw.get(k) is not None)
            raise ValueError(
                f"{self.source}: config key {self.prefix + key!r} must be an integer >= "
                f"{minimum}, got {value!r}"
            )
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ValueError(
                f"{self.source}: config key {self.prefix + key!r} must be true/false, got {value!r}"
            )
        return value


# --------------------------------------------------------------------------------------------
# Config estimate
# --------------------------------------------------------------------------------------------


@dataclass
class _Shape:
    """Everything derived from the config, before weights are looked at."""

    model_type: str
    family: _Family
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    d_qk: int
    d_v: int
    vocab: int
    tie: bool
    has_lm_head: bool
    intermediate: int
    experts: int
    top_k: int
    moe_intermediate: int
    shared_intermediate: int
    moe_layers: list[bool]
    windows: tuple[int | None, ...]
    embedding: int
    lm_head: int
    non_embedding: int
    inactive: int
    notes: list[str]


def _text_config(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """The language-model part of a (possibly multimodal) config, and its key prefix."""
    for key in _TEXT_KEYS:
        sub = raw.get(key)
        if isinstance(sub, Mapping) and sub:
            merged = dict(sub)
            # Tying and architectures are often stated only at the top level.
            for k in ("tie_word_embeddings", "architectures"):
                if merged.get(k) is None and raw.get(k) is not None:
                    merged[k] = raw[k]
            return merged, key + "."
    return raw, ""


def _attention_windows(cfg: _Cfg, fam: _Family, layers: int) -> tuple[int | None, ...]:
    """Sliding-window size per layer (None = full attention), following transformers' rules."""
    window = cfg.get("sliding_window")
    if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
        return (None,) * layers
    types = cfg.get("layer_types")
    if isinstance(types, list) and len(types) == layers:
        return tuple(window if t == "sliding_attention" else None for t in types)
    if "use_sliding_window" in cfg.raw and not cfg.flag("use_sliding_window", False):
        return (None,) * layers
    if fam.window_rule == "all":
        return (window,) * layers
    if fam.window_rule == "qwen":  # layers below max_window_layers keep full attention
        if not cfg.flag("use_sliding_window", False):
            return (None,) * layers
        first = cfg.int("max_window_layers", default=0, minimum=0)
        return tuple(window if i >= first else None for i in range(layers))
    if fam.window_rule == "alternate2":
        return tuple(window if (i + 1) % 2 else None for i in range(layers))
    if fam.window_rule == "pattern":
        pattern = cfg.int("sliding_window_pattern", "_sliding_window_pattern", default=6)
        return tuple(window if (i + 1) % pattern else None for i in range(layers))
    return (None,) * layers


def _shape_from_config(raw: Mapping[str, Any], source: str) -> _Shape:
    """Derive the model shape and a per-family parameter count from the config alone."""
    top_archs = raw.get("architectures") or []
    text, prefix = _text_config(raw)
    cfg = _Cfg(text, source, prefix)
    notes: list[str] = []

    model_type = str(cfg.get("model_type") or raw.get("model_type") or "")
    family_name = _ALIASES.get(model_type, model_type)
    fam = _FAMILIES.get(family_name)
    if fam is None:
        fam = _LLAMA
        notes.append(
            f"model_type {model_type or '(none)'!r} has no known layout: parameters estimated "
            "with the llama-like formula (gated MLP, RMSNorm, no biases)"
        )

    d = cfg.int(*_KEYS["hidden_size"])
    layers = cfg.int(*_KEYS["num_layers"])
    heads = cfg.int(*_KEYS["num_heads"])
    vocab = cfg.int(*_KEYS["vocab_size"])
    kv_heads = cfg.int("num_key_value_heads", default=heads)
    if fam.gated_mlp:
        inter = cfg.int(*_KEYS["intermediate_size"])
    else:
        inter = cfg.int(*_KEYS["intermediate_size"], default=4 * d)

    archs = [str(a) for a in (cfg.get("architectures") or top_archs)]
    reward_labels = next(
        (n for a in archs for suffix, n in _REWARD_HEADS.items() if a.endswith(suffix)), None
    )
    classifier = any(
        a.endswith(("ForSequenceClassification", "ForTokenClassification")) for a in archs
    )
    has_lm_head = reward_labels is None and not classifier
    tie = cfg.flag("tie_word_embeddings", fam.tie_default) if has_lm_head else False
    if has_lm_head and text.get("tie_word_embeddings") is None and family_name not in _FAMILIES:
        notes.append("tie_word_embeddings absent: assumed untied")

    # --- attention ------------------------------------------------------------------------
    attn_bias = fam.bias_key is not None and cfg.flag(fam.bias_key, False)
    qkv_bias = fam.qkv_bias or attn_bias
    if family_name == "qwen2_moe":
        qkv_bias = cfg.flag("qkv_bias", True)
    o_bias = fam.o_bias or attn_bias
    if fam.mla:
        q_rank = cfg.get("q_lora_rank")
        kv_rank = cfg.int("kv_lora_rank")
        nope = cfg.int("qk_nope_head_dim")
        rope = cfg.int("qk_rope_head_dim")
        v_dim = cfg.int("v_head_dim")
        head_dim = nope + rope
        d_qk, d_v = heads * head_dim, heads * v_dim
        if q_rank:
            q_rank = cfg.int("q_lora_rank")
            attn = d * q_rank + (q_rank if attn_bias else 0) + q_rank + q_rank * d_qk
        else:
            attn = d * d_qk
        attn += d * (kv_rank + rope) + ((kv_rank + rope) if attn_bias else 0) + kv_rank
        attn += kv_rank * heads * (nope + v_dim)
        attn += d_v * d + (d if attn_bias else 0)
    else:
        if cfg.get("head_dim") is not None:
            head_dim = cfg.int("head_dim")
        else:
            if d % heads:
                raise ValueError(
                    f"{source}: config has no {prefix + 'head_dim'!r} and hidden_size {d} is not "
                    f"divisible by num_attention_heads {heads}"
                )
            head_dim = d // heads
        d_qk = d_v = heads * head_dim
        kv = kv_heads * head_dim
        attn = d * d_qk + 2 * d * kv + d_qk * d
        attn += (d_qk + 2 * kv) if qkv_bias else 0
        attn += d if o_bias else 0
        attn += 2 * head_dim if fam.qk_norm else 0

    # --- MLP / MoE ------------------------------------------------------------------------
    mlp_bias = fam.mlp_bias or (fam.mlp_bias_key is not None and cfg.flag(fam.mlp_bias_key, False))

    def mlp(width: int, bias: bool = mlp_bias) -> int:
        if fam.gated_mlp:
            return 3 * d * width + ((2 * width + d) if bias else 0)
        return 2 * d * width + ((width + d) if bias else 0)

    experts = cfg.int(*_KEYS["num_experts"], default=0, minimum=0)
    moe_kind = fam.moe
    if experts and moe_kind == "none":
        moe_kind = "qwen" if cfg.has("moe_intermediate_size") else "mixtral"
        notes.append(f"unknown MoE layout: {moe_kind}-style experts assumed")
    top_k = moe_inter = shared_inter = 0
    moe_layers = [False] * layers
    router = shared = 0
    if experts and moe_kind != "none":
        top_k = cfg.int("num_experts_per_tok", "moe_topk", "top_k")
        if top_k > experts:
            raise ValueError(
                f"{source}: num_experts_per_tok {top_k} exceeds the number of experts {experts}"
            )
        router = d * experts + (experts if fam.router_bias else 0)
        if moe_kind == "mixtral":
            moe_inter = inter
            moe_layers = [True] * layers
        elif moe_kind == "qwen":
            moe_inter = cfg.int("moe_intermediate_size")
            step = cfg.int("decoder_sparse_step", default=1)
            dense_only = set(cfg.get("mlp_only_layers") or [])
            moe_layers = [(i not in dense_only) and (i + 1) % step == 0 for i in range(layers)]
            shared_inter = cfg.int("shared_expert_intermediate_size", default=0, minimum=0)
            if shared_inter:
                shared = mlp(shared_inter, False) + d  # + shared_expert_gate (d -> 1)
        else:  # deepseek
            moe_inter = cfg.int("moe_intermediate_size")
            first_dense = cfg.int("first_k_dense_replace", default=0, minimum=0)
            freq = cfg.int("moe_layer_freq", default=1)
            moe_layers = [i >= first_dense and i % freq == 0 for i in range(layers)]
            n_shared = cfg.int("n_shared_experts", default=0, minimum=0)
            shared_inter = moe_inter * n_shared
            if shared_inter:
                shared = mlp(shared_inter, False)
    expert = mlp(moe_inter, False) if moe_inter else 0

    norm = (2 if fam.norm_bias else 1) * d
    dense_layer = attn + mlp(inter) + fam.norms * norm
    moe_layer = attn + router + experts * expert + shared + fam.norms * norm
    n_moe = sum(moe_layers)
    non_embedding = (layers - n_moe) * dense_layer + n_moe * moe_layer + norm
    if reward_labels is not None:  # vLLM: Linear(d, d, bias) -> ReLU -> Linear(d, labels, bias)
        non_embedding += d * d + d + d * reward_labels + reward_labels
        notes.append(f"reward head estimated as {archs[0]} in vLLM (d -> d -> {reward_labels})")
    elif classifier:  # HF heads: Linear(d, labels), biased only for token classification
        labels = len(cfg.get("id2label") or {}) or cfg.int("num_labels", default=2)
        token_level = any(a.endswith("ForTokenClassification") for a in archs)
        non_embedding += d * labels + (labels if token_level else 0)
    inactive = n_moe * (experts - top_k) * expert

    embedding = vocab * d
    if fam.learned_positions:
        embedding += cfg.int("n_positions", "max_position_embeddings") * d
    lm_head = vocab * d if has_lm_head and not tie else 0

    return _Shape(
        model_type=model_type,
        family=fam,
        hidden=d,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        d_qk=d_qk,
        d_v=d_v,
        vocab=vocab,
        tie=tie,
        has_lm_head=has_lm_head,
        intermediate=inter,
        experts=experts if n_moe else 0,
        top_k=top_k if n_moe else 0,
        moe_intermediate=moe_inter,
        shared_intermediate=shared_inter,
        moe_layers=moe_layers,
        windows=_attention_windows(cfg, fam, layers),
        embedding=embedding,
        lm_head=lm_head,
        non_embedding=non_embedding,
        inactive=inactive,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# Safetensors headers: the exact count
# --------------------------------------------------------------------------------------------

_MAX_HEADER = 100 * 1024 * 1024
_EMBED_RE = re.compile(
    r"(?:^|\.)(?:embed_tokens|wte|wpe|embed_in|word_embeddings|tok_embeddings)\.weight$"
)
_LM_HEAD_RE = re.compile(r"(?:^|\.)lm_head\.(?:weight|bias)$|^(?:embed_out|output)\.weight$")
_NON_TEXT_RE = re.compile(
    r"vision|visual|multi_modal_projector|mm_projector|audio|image_newline|patch_embed"
)
_BUFFER_RE = re.compile(r"rotary_emb\.inv_freq$|\.attn\.masked_bias$")
_SCALE_RE = re.compile(r"(?:weight_scale_inv|weight_scale|input_scale|k_scale|v_scale)$")
_LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)\.")


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e


def _safetensors_shapes(path: Path) -> dict[str, list[int]]:
    """Tensor name -> shape from a safetensors header (8-byte length + JSON), no tensor data."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path}: too short to be a safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > _MAX_HEADER:
            raise ValueError(
                f"{path}: not a safetensors file (header length {n}, file size {size}; "
                "a git-lfs pointer?)"
            )
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: unreadable safetensors header ({e})") from e
    if not isinstance(header, dict):
        raise ValueError(f"{path}: safetensors header is not a JSON object")
    shapes: dict[str, list[int]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        shape = info.get("shape") if isinstance(info, dict) else None
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
            raise ValueError(f"{path}: tensor {name!r} has no valid 'shape' in the header")
        shapes[name] = shape
    return shapes


def _weight_files(directory: Path) -> list[Path]:
    """Safetensors files of a HF model directory: the index's shards, or model.safetensors.

    Other ``*.safetensors`` files are ignored on purpose: repos such as Mistral's also ship a
    ``consolidated.safetensors`` holding the same weights again.
    """
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        data = _read_json(index)
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise ValueError(f"{index}: missing or empty 'weight_map'")
        paths = [directory / str(name) for name in sorted(set(weight_map.values()))]
        for p in paths:
            if not p.is_file():
                raise FileNotFoundError(f"{index}: shard {p.name!r} listed in weight_map not found")
        return paths
    single = directory / "model.safetensors"
    return [single] if single.is_file() else []


def _count_checkpoint(
    files: list[Path], raw: Mapping[str, Any], shape: _Shape
) -> tuple[int, int, int, list[str]]:
    """(total, embedding, lm_head, notes) from safetensors headers, text model only."""
    multimodal = any(isinstance(raw.get(k), Mapping) for k in (*_TEXT_KEYS, "vision_config"))
    text, _ = _text_config(raw)
    mtp = bool(text.get("num_nextn_predict_layers"))
    quant = raw.get("quantization_config") or text.get("quantization_config")
    shapes: dict[str, list[int]] = {}
    for path in files:
        shapes.update(_safetensors_shapes(path))
    total = embedding = lm_head = skipped = 0
    for name, dims in shapes.items():
        n = math.prod(dims)
        if (
            _BUFFER_RE.search(name)
            or (name.endswith(".attn.bias") and len(dims) == 4)  # GPT-2 causal mask buffer
            or (quant and _SCALE_RE.search(name))
            or (multimodal and _NON_TEXT_RE.search(name))
            or name.startswith("mtp.")
        ):
            skipped += n
            continue
        m = _LAYER_RE.search(name)
        if mtp and m and int(m.group(1)) >= shape.layers:
            skipped += n
            continue
        total += n
        if _EMBED_RE.search(name):
            embedding += n
        elif _LM_HEAD_RE.search(name):
            lm_head += n
    notes = []
    if shape.tie and lm_head:  # a tied matrix saved twice is still one parameter
        total -= lm_head
        notes.append("tied lm_head stored in the checkpoint counted once")
        lm_head = 0
    if skipped:
        notes.append(f"{skipped} checkpoint elements outside the text model/buffers left out")
    if embedding == 0:
        embedding = shape.embedding
        notes.append("no embedding tensor recognised by name: embedding size taken from config")
    return total, embedding, lm_head, notes


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _build_spec(raw: Mapping[str, Any], source: str, directory: Path | None) -> ModelSpec:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{source}: config must be a JSON object, got {type(raw).__name__}")
    shape = _shape_from_config(raw, source)
    notes = list(shape.notes)
    files = _weight_files(directory) if directory is not None else []
    quant = raw.get("quantization_config") or _text_config(raw)[0].get("quantization_config")
    quant_method = quant.get("quant_method") if isinstance(quant, Mapping) else None
    estimate_total = shape.embedding + shape.lm_head + shape.non_embedding
    if files and quant and quant_method != "fp8":
        notes.append(
            f"quantized checkpoint (quant_method={quant_method!r}): packed tensor sizes are not "
            "parameter counts, so the config estimate is used"
        )
        files = []
    if files:
        total, embedding, lm_head, st_notes = _count_checkpoint(files, raw, shape)
        notes += st_notes
        if estimate_total != total:
            notes.append(
                f"config estimate {estimate_total} differs from the checkpoint by "
                f"{(estimate_total - total) / total:+.3%}"
            )
        non_embedding = total - embedding - lm_head
        params = ParamCount(
            total=total,
            non_embedding=non_embedding,
            active=non_embedding - shape.inactive,
            embedding=embedding,
            lm_head=lm_head,
            method="safetensors",
            source=", ".join(str(f) for f in files),
            note="; ".join(notes),
        )
    else:
        params = ParamCount(
            total=estimate_total,
            non_embedding=shape.non_embedding,
            active=shape.non_embedding - shape.inactive,
            embedding=shape.embedding,
            lm_head=shape.lm_head,
            method="config-estimate",
            source=source,
            note="; ".join(notes),
        )
    return ModelSpec(
        model_type=shape.model_type,
        source=source,
        hidden_size=shape.hidden,
        num_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_kv_heads=shape.kv_heads,
        head_dim=shape.head_dim,
        d_attn_qk=shape.d_qk,
        d_attn_v=shape.d_v,
        vocab_size=shape.vocab,
        tie_word_embeddings=shape.tie,
        has_lm_head=shape.has_lm_head,
        intermediate_size=shape.intermediate,
        mlp_gated=shape.family.gated_mlp,
        num_experts=shape.experts,
        num_experts_per_tok=shape.top_k,
        moe_intermediate_size=shape.moe_intermediate,
        shared_expert_intermediate_size=shape.shared_intermediate,
        num_moe_layers=sum(shape.moe_layers),
        attention_windows=shape.windows,
        params=params,
        notes=tuple(notes),
    )


def _stamp(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=64)
def _load_dir_cached(directory: str, _stamps: tuple[int | None, ...]) -> ModelSpec:
    d = Path(directory)
    config = d / "config.json"
    return _build_spec(_read_json(config), str(config), d)


def _resolve_path(value: str | os.PathLike[str]) -> Path:
    path = Path(value).expanduser()
    if path.exists():
        return path
    text = os.fspath(value)
    if re.fullmatch(r"[\w.-]+/[\w.-]+", text):  # a Hub id: use the local HF cache, never the net
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(text, local_files_only=True))
        except Exception:  # noqa: BLE001 - any failure means "not available locally"
            pass
    raise FileNotFoundError(
        f"{text}: no such file or directory (expected a model directory, its config.json, "
        "or a Hub id already in the local HF cache)"
    )


def load_model_spec(config: ConfigLike) -> ModelSpec:
    """Load a model's shape and parameter count once; pass the result to the FLOPs helpers.

    ``config`` is a config dict, a transformers ``PretrainedConfig``, a ``config.json`` path
    (its directory is searched for safetensors weights, as for a directory), a model directory,
    a Hub id already in the local HF cache, or a ModelSpec (returned as is). Path loads are
    cached on the files' mtimes.
    Raises FileNotFoundError (no such path / no config.json) or ValueError (malformed JSON,
    missing or invalid key, unreadable safetensors header), naming the file and the key.
    """
    if isinstance(config, ModelSpec):
        return config
    if isinstance(config, Mapping):
        return _build_spec(config, "config dict", None)
    to_dict = getattr(config, "to_dict", None)
    if callable(to_dict) and not isinstance(config, str | os.PathLike):
        # A transformers PretrainedConfig (e.g. vLLM's model_config.hf_config), duck-typed so
        # transformers is never imported here.
        return _build_spec(to_dict(), type(config).__name__, None)
    if not isinstance(config, str | os.PathLike):
        raise TypeError(
            f"config must be a dict, a path or a ModelSpec, got {type(config).__name__}"
        )
    path = _resolve_path(config)
    directory = path if path.is_dir() else path.parent
    config_file = directory / "config.json" if path.is_dir() else path
    if not config_file.is_file():
        raise FileNotFoundError(f"{directory}: no config.json in this model directory")
    if path.is_file() and path.name != "config.json":
        # Some other JSON file: read it, but do not guess which weights belong to it.
        return _build_spec(_read_json(path), str(path), None)
    stamps = tuple(
        _stamp(p)
        for p in (
            config_file,
            directory / "model.safetensors.index.json",
            directory / "model.safetensors",
        )
    )
    return _load_dir_cached(str(directory.resolve()), stamps)


def count_params(config: ConfigLike) -> ParamCount:
    """Total, non-embedding and active parameters (see the module docstring for definitions)."""
    return load_model_spec(config).params


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
