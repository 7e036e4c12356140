"""A model's shape and parameter counts, derived from its own config (and weights, if any).

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
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tts_eval.accounting.checkpoint import count_tensors, read_json, weight_files

__all__ = ["ConfigLike", "ModelSpec", "ParamCount", "count_params", "load_model_spec"]


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



def _count_checkpoint(
    files: list[Path], raw: Mapping[str, Any], shape: _Shape
) -> tuple[int, int, int, list[str]]:
    """(total, embedding, lm_head, notes) from safetensors headers, text model only."""
    text, _ = _text_config(raw)
    counted = count_tensors(
        files,
        layers=shape.layers,
        multimodal=any(isinstance(raw.get(k), Mapping) for k in (*_TEXT_KEYS, "vision_config")),
        mtp=bool(text.get("num_nextn_predict_layers")),
        quantized=bool(raw.get("quantization_config") or text.get("quantization_config")),
    )
    total, embedding, lm_head = counted.total, counted.embedding, counted.lm_head
    notes = []
    if shape.tie and lm_head:  # a tied matrix saved twice is still one parameter
        total -= lm_head
        notes.append("tied lm_head stored in the checkpoint counted once")
        lm_head = 0
    if counted.skipped:
        notes.append(f"{counted.skipped} checkpoint elements outside the text model/buffers "
                     "left out")
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
    files = weight_files(directory) if directory is not None else []
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
    return _build_spec(read_json(config), str(config), d)


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
        return _build_spec(read_json(path), str(path), None)
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
