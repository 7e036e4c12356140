"""Tests for tts_eval.accounting: parameter counts and forward FLOPs from a model's config.

Parameter counts are checked against real tensors (tiny models built with transformers and
saved to disk, so both the safetensors path and the config-only estimate are exercised) and
against the published sizes of real model families. FLOPs are checked against hand
computations and brute-force sums over positions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tts_eval.accounting import (
    GenerationFlops,
    ModelSpec,
    SequenceFlops,
    count_params,
    flops_per_token,
    forward_flops,
    generation_flops,
    load_model_spec,
    scoring_flops,
    sequence_flops,
)

# --------------------------------------------------------------------------------------------
# Real configs (values of the published config.json files)
# --------------------------------------------------------------------------------------------


def _qwen25(hidden, inter, layers, heads, kv, vocab, tie):
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "hidden_act": "silu",
        "hidden_size": hidden,
        "intermediate_size": inter,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "vocab_size": vocab,
        "tie_word_embeddings": tie,
        "max_position_embeddings": 32768,
        "max_window_layers": layers,
        "sliding_window": 131072,
        "use_sliding_window": False,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
    }


def _llama(hidden, inter, layers, heads, kv, tie, head_dim=None):
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "hidden_size": hidden,
        "intermediate_size": inter,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "vocab_size": 128256,
        "tie_word_embeddings": tie,
        "attention_bias": False,
        "mlp_bias": False,
        "max_position_embeddings": 131072,
        "rms_norm_eps": 1e-05,
    }
    if head_dim is not None:
        cfg["head_dim"] = head_dim
    return cfg


QWEN25_05B = _qwen25(896, 4864, 24, 14, 2, 151936, True)
QWEN25_15B = _qwen25(1536, 8960, 28, 12, 2, 151936, True)
QWEN25_7B = _qwen25(3584, 18944, 28, 28, 4, 152064, False)
QWEN25_32B = _qwen25(5120, 27648, 64, 40, 8, 152064, False)
LLAMA31_8B = _llama(4096, 14336, 32, 32, 8, False, head_dim=128)
LLAMA31_70B = _llama(8192, 28672, 80, 64, 8, False)  # no head_dim key: 8192 // 64
LLAMA32_1B = _llama(2048, 8192, 16, 32, 8, True, head_dim=64)
LLAMA32_3B = _llama(3072, 8192, 28, 24, 8, True, head_dim=128)
MIXTRAL_8X7B = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "hidden_act": "silu",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_local_experts": 8,
    "num_experts_per_tok": 2,
    "vocab_size": 32000,
    "tie_word_embeddings": False,
    "sliding_window": None,
}
QWEN3_30B_A3B = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "hidden_size": 2048,
    "intermediate_size": 6144,
    "moe_intermediate_size": 768,
    "num_experts": 128,
    "num_experts_per_tok": 8,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "num_hidden_layers": 48,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "head_dim": 128,
    "vocab_size": 151936,
    "tie_word_embeddings": False,
    "attention_bias": False,
}
QWEN15_MOE_A27B = {
    "architectures": ["Qwen2MoeForCausalLM"],
    "model_type": "qwen2_moe",
    "hidden_size": 2048,
    "intermediate_size": 5632,
    "moe_intermediate_size": 1408,
    "shared_expert_intermediate_size": 5632,
    "num_experts": 60,
    "num_experts_per_tok": 4,
    "decoder_sparse_step": 1,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "vocab_size": 151936,
    "tie_word_embeddings": False,
}
DEEPSEEK_V3 = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 3,
    "moe_layer_freq": 1,
    "num_hidden_layers": 61,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "q_lora_rank": 1536,
    "kv_lora_rank": 512,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "vocab_size": 129280,
    "tie_word_embeddings": False,
    "num_nextn_predict_layers": 1,
}
GPT2_SMALL = {
    "model_type": "gpt2",
    "architectures": ["GPT2LMHeadModel"],
    "n_embd": 768,
    "n_layer": 12,
    "n_head": 12,
    "n_inner": None,
    "n_positions": 1024,
    "vocab_size": 50257,
}
MISTRAL_7B_V01 = {
    "model_type": "mistral",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 32000,
    "tie_word_embeddings": False,
    "sliding_window": 4096,
}

B = 1e9
# name, config, published total, published non-embedding, published active (incl. embeddings),
# tolerance. Published figures are the model cards' rounded numbers.
PUBLISHED = [
    ("Qwen2.5-0.5B", QWEN25_05B, 0.49 * B, 0.36 * B, None, 0.01),
    ("Qwen2.5-1.5B", QWEN25_15B, 1.54 * B, 1.31 * B, None, 0.01),
    ("Qwen2.5-7B", QWEN25_7B, 7.61 * B, 6.53 * B, None, 0.01),
    ("Qwen2.5-32B", QWEN25_32B, 32.5 * B, 31.0 * B, None, 0.01),
    ("Llama-3.1-8B", LLAMA31_8B, 8.03 * B, None, None, 0.01),
    ("Llama-3.1-70B", LLAMA31_70B, 70.6 * B, None, None, 0.01),
    ("Llama-3.2-1B", LLAMA32_1B, 1.24 * B, None, None, 0.01),
    ("Llama-3.2-3B", LLAMA32_3B, 3.21 * B, None, None, 0.01),
    ("Mixtral-8x7B", MIXTRAL_8X7B, 46.7 * B, None, 12.9 * B, 0.01),
    ("Qwen3-30B-A3B", QWEN3_30B_A3B, 30.5 * B, 29.9 * B, 3.3 * B, 0.02),
    ("Qwen1.5-MoE-A2.7B", QWEN15_MOE_A27B, 14.3 * B, None, 2.7 * B, 0.01),
    # "37B activated" is rounded hard; we get 37.55B (+1.5%).
    ("DeepSeek-V3", DEEPSEEK_V3, 671 * B, None, 37 * B, 0.02),
    ("GPT-2", GPT2_SMALL, 124e6, 85e6, None, 0.01),
]

# Exact counts of the published checkpoints (sum of their safetensors tensor sizes).
EXACT = [
    ("Qwen2.5-0.5B", QWEN25_05B, 494_032_768),
    ("Qwen2.5-1.5B", QWEN25_15B, 1_543_714_304),
    ("Qwen2.5-7B", QWEN25_7B, 7_615_616_512),
    ("Llama-3.1-8B", LLAMA31_8B, 8_030_261_248),
    ("Llama-3.1-70B", LLAMA31_70B, 70_553_706_496),
    ("Llama-3.2-1B", LLAMA32_1B, 1_235_814_400),
    ("Llama-3.2-3B", LLAMA32_3B, 3_212_749_824),
    ("Mixtral-8x7B", MIXTRAL_8X7B, 46_702_792_704),
    ("GPT-2", GPT2_SMALL, 124_439_808),
]


@pytest.mark.parametrize(
    ("name", "cfg", "total", "non_emb", "active", "tol"), PUBLISHED, ids=[p[0] for p in PUBLISHED]
)
def test_published_sizes(name, cfg, total, non_emb, active, tol):
    p = count_params(cfg)
    assert p.method == "config-estimate"
    assert p.total == p.embedding + p.lm_head + p.non_embedding
    assert p.total == pytest.approx(total, rel=tol), name
    if non_emb is not None:
        assert p.non_embedding == pytest.approx(non_emb, rel=tol), name
    if active is not None:  # model cards quote active size with the embeddings
        assert p.active + p.embedding + p.lm_head == pytest.approx(active, rel=tol), name
        assert p.active < p.non_embedding
    else:
        assert p.active == p.non_embedding


@pytest.mark.parametrize(("name", "cfg", "total"), EXACT, ids=[e[0] for e in EXACT])
def test_exact_published_checkpoint_sizes(name, cfg, total):
    assert count_params(cfg).total == total


def test_embedding_and_lm_head_split():
    # Untied: both the input embedding and lm_head are left out of non_embedding.
    p = count_params(QWEN25_7B)
    assert p.embedding == p.lm_head == 152064 * 3584
    assert p.non_embedding == 7_615_616_512 - 2 * 152064 * 3584
    # Tied: one matrix, counted once, as the embedding.
    p = count_params(QWEN25_05B)
    assert (p.embedding, p.lm_head) == (151936 * 896, 0)
    # GPT-2: learned position embeddings are embeddings too (Kaplan's 85M non-embedding).
    p = count_params(GPT2_SMALL)
    assert p.embedding == (50257 + 1024) * 768


def test_model_spec_fields_and_defaults():
    s = load_model_spec(QWEN25_7B)
    assert isinstance(s, ModelSpec)
    assert (s.num_layers, s.hidden_size, s.num_attention_heads, s.num_kv_heads) == (28, 3584, 28, 4)
    assert s.head_dim == 128  # head_dim absent: hidden_size // num_attention_heads
    assert s.d_attn == 28 * 128
    assert (s.tie_word_embeddings, s.mlp_gated, s.is_moe, s.has_lm_head) == (
        False,
        True,
        False,
        True,
    )
    assert s.attention_windows == (None,) * 28  # use_sliding_window: false

    assert load_model_spec(LLAMA32_1B).head_dim == 64  # explicit head_dim wins
    no_kv = {k: v for k, v in LLAMA31_70B.items() if k != "num_key_value_heads"}
    assert load_model_spec(no_kv).num_kv_heads == 64  # absent -> num_attention_heads

    # tie_word_embeddings absent: each family's transformers default.
    assert load_model_spec({**QWEN25_7B, "tie_word_embeddings": None}).tie_word_embeddings is False
    gemma = {"model_type": "gemma", "hidden_size": 2048, "intermediate_size": 16384,
             "num_hidden_layers": 18, "num_attention_heads": 8, "num_key_value_heads": 1,
             "head_dim": 256, "vocab_size": 256000}  # fmt: skip
    assert load_model_spec(gemma).tie_word_embeddings is True
    assert count_params(gemma).total == pytest.approx(2.51e9, rel=0.01)  # Gemma-2B

    mix = load_model_spec(MIXTRAL_8X7B)
    assert (mix.num_experts, mix.num_experts_per_tok, mix.num_moe_layers) == (8, 2, 32)
    assert mix.is_moe

    ds = load_model_spec(DEEPSEEK_V3)
    assert (ds.num_moe_layers, ds.num_experts, ds.shared_expert_intermediate_size) == (
        58,
        256,
        2048,
    )
    assert (ds.d_attn_qk, ds.d_attn_v) == (128 * 192, 128 * 128)

    gpt2 = load_model_spec(GPT2_SMALL)
    assert (gpt2.mlp_gated, gpt2.intermediate_size, gpt2.tie_word_embeddings) == (False, 3072, True)


def test_unknown_model_type_is_llama_estimate_and_says_so():
    cfg = {**LLAMA31_8B, "model_type": "my_new_llm"}
    p = count_params(cfg)
    assert p.method == "config-estimate"
    assert "my_new_llm" in p.note and "llama-like" in p.note
    assert p.total == 8_030_261_248


def test_multimodal_text_config_is_read():
    cfg = {
        "model_type": "llava",
        "architectures": ["LlavaForConditionalGeneration"],
        "text_config": LLAMA31_8B,
        "vision_config": {"model_type": "clip_vision_model", "hidden_size": 1024},
    }
    assert count_params(cfg).total == 8_030_261_248
    assert load_model_spec(cfg).model_type == "llama"


def test_reward_model_has_score_head_and_no_lm_head():
    prm = {**QWEN25_7B, "architectures": ["Qwen2ForProcessRewardModel"]}
    p = count_params(prm)
    d = 3584
    # vLLM's Qwen2 PRM head: Linear(d, d, bias) -> ReLU -> Linear(d, 2, bias); no lm_head.
    assert p.lm_head == 0
    assert p.non_embedding == count_params(QWEN25_7B).non_embedding + d * d + d + 2 * d + 2
    spec = load_model_spec(prm)
    assert not spec.has_lm_head and spec.lm_head_flops == 0


# --------------------------------------------------------------------------------------------
# Tiny models built locally: counts must equal the real tensors, on both paths
# --------------------------------------------------------------------------------------------


def _numel(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _save(model, path: Path, **kwargs) -> tuple[Path, dict]:
    model.save_pretrained(path, **kwargs)
    return path, json.loads((path / "config.json").read_text())


@pytest.fixture(scope="module")
def tf():
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return transformers


@pytest.mark.parametrize("tie", [True, False])
def test_tiny_qwen2_exact_on_both_paths(tf, tmp_path, tie):
    cfg = tf.Qwen2Config(
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=256,
        vocab_size=512,
        tie_word_embeddings=tie,
    )
    model = tf.Qwen2ForCausalLM(cfg)
    real = _numel(model)
    directory, cfg_dict = _save(model, tmp_path)

    from_weights = count_params(directory)
    assert from_weights.method == "safetensors"
    assert from_weights.total == real
    from_config_json = count_params(directory / "config.json")
    assert from_config_json.total == real
    from_dict = count_params(cfg_dict)
    assert from_dict.method == "config-estimate"
    assert from_dict.total == real
    assert from_weights == load_model_spec(str(directory)).params

    emb = 512 * 128
    for p in (from_weights, from_dict):
        assert p.embedding == emb
        assert p.lm_head == (0 if tie else emb)
        assert p.non_embedding == real - emb * (1 if tie else 2)
        assert p.active == p.non_embedding


def _dense_builders(tf):
    small = dict(
        hidden_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=96,
        vocab_size=100,
    )
    return {
        "llama": lambda: tf.LlamaForCausalLM(tf.LlamaConfig(**small)),
        "llama-biases": lambda: tf.LlamaForCausalLM(
            tf.LlamaConfig(**small, attention_bias=True, mlp_bias=True)
        ),
        "llama-tied": lambda: tf.LlamaForCausalLM(
            tf.LlamaConfig(**small, tie_word_embeddings=True)
        ),
        "mistral": lambda: tf.MistralForCausalLM(tf.MistralConfig(**small)),
        "qwen3": lambda: tf.Qwen3ForCausalLM(tf.Qwen3Config(**small, head_dim=32)),
        "gemma": lambda: tf.GemmaForCausalLM(tf.GemmaConfig(**small, head_dim=32)),
        "gemma2": lambda: tf.Gemma2ForCausalLM(tf.Gemma2Config(**small, head_dim=32)),
        "gemma3_text": lambda: tf.Gemma3ForCausalLM(tf.Gemma3TextConfig(**small, head_dim=32)),
        "phi3": lambda: tf.Phi3ForCausalLM(tf.Phi3Config(**small, pad_token_id=0)),
        "gpt2": lambda: tf.GPT2LMHeadModel(
            tf.GPT2Config(n_embd=64, n_layer=3, n_head=4, vocab_size=100, n_positions=32)
        ),
        "qwen2-token-classifier": lambda: tf.Qwen2ForTokenClassification(
            tf.Qwen2Config(**small, num_labels=3)
        ),
        "qwen2-seq-classifier": lambda: tf.Qwen2ForSequenceClassification(
            tf.Qwen2Config(**small, num_labels=1)
        ),
    }


DENSE = [
    "llama",
    "llama-biases",
    "llama-tied",
    "mistral",
    "qwen3",
    "gemma",
    "gemma2",
    "gemma3_text",
    "phi3",
    "gpt2",
    "qwen2-token-classifier",
    "qwen2-seq-classifier",
]


@pytest.mark.parametrize("family", DENSE)
def test_tiny_dense_families_exact(tf, tmp_path, family):
    model = _dense_builders(tf)[family]()
    real = _numel(model)
    directory, cfg_dict = _save(model, tmp_path)
    st, est = count_params(directory), count_params(cfg_dict)
    assert (st.method, est.method) == ("safetensors", "config-estimate")
    assert st.total == real
    assert est.total == real, est.note
    assert st.non_embedding == est.non_embedding
    assert st.active == st.non_embedding


def _moe_builders(tf):
    small = dict(
        hidden_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=96,
        vocab_size=100,
    )
    mla = dict(kv_lora_rank=16, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16)
    return {
        "mixtral": lambda: tf.MixtralForCausalLM(
            tf.MixtralConfig(**small, num_local_experts=4, num_experts_per_tok=2)
        ),
        "qwen2_moe": lambda: tf.Qwen2MoeForCausalLM(
            tf.Qwen2MoeConfig(
                **small,
                num_experts=4,
                num_experts_per_tok=2,
                moe_intermediate_size=32,
                shared_expert_intermediate_size=48,
                mlp_only_layers=[1],  # one dense layer among MoE layers
            )
        ),
        "qwen3_moe": lambda: tf.Qwen3MoeForCausalLM(
            tf.Qwen3MoeConfig(
                **small, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32, head_dim=32
            )
        ),
        "deepseek_v2": lambda: tf.DeepseekV2ForCausalLM(
            tf.DeepseekV2Config(
                **small,
                **mla,
                n_routed_experts=4,
                num_experts_per_tok=2,
                n_shared_experts=2,
                moe_intermediate_size=32,
                first_k_dense_replace=1,
                q_lora_rank=None,
            )
        ),
        "deepseek_v3": lambda: tf.DeepseekV3ForCausalLM(
            tf.DeepseekV3Config(
                **small,
                **mla,
                n_routed_experts=4,
                num_experts_per_tok=2,
                n_shared_experts=1,
                moe_intermediate_size=32,
                first_k_dense_replace=1,
                q_lora_rank=24,
                n_group=2,
                topk_group=1,
            )
        ),
    }


@pytest.mark.parametrize(
    "family", ["mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3"]
)
def test_tiny_moe_exact_and_active(tf, tmp_path, family):
    model = _moe_builders(tf)[family]()
    real = _numel(model)
    # DeepSeek-V3's routing bias is a persistent buffer: in the checkpoint, not in parameters().
    real += sum(
        b.numel() for n, b in model.named_buffers() if n.endswith("e_score_correction_bias")
    )
    directory, cfg_dict = _save(model, tmp_path)
    st, est = count_params(directory), count_params(cfg_dict)
    assert st.total == real
    assert est.total == real, est.note

    # Active, computed independently from the module tree: each MoE layer's routed-expert
    # tensors are stacked (experts x ...); a token uses num_experts_per_tok of them.
    spec = load_model_spec(cfg_dict)
    e, k = spec.num_experts, spec.num_experts_per_tok
    routed = sum(p.numel() for n, p in model.named_parameters() if ".mlp.experts." in n)
    inactive = routed * (e - k) // e
    emb = model.get_input_embeddings().weight.numel()
    head = 0 if spec.tie_word_embeddings else model.get_output_embeddings().weight.numel()
    assert st.active == est.active == real - emb - head - inactive
    assert st.active < st.non_embedding


def test_tiny_llava_counts_text_model_only(tf, tmp_path):
    text = tf.LlamaConfig(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=96,
        vocab_size=100,
    )
    vision = tf.CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    model = tf.LlavaForConditionalGeneration(tf.LlavaConfig(text_config=text, vision_config=vision))
    text_params = _numel(model.model.language_model) + _numel(model.lm_head)
    assert text_params < _numel(model)
    directory, cfg_dict = _save(model, tmp_path)
    assert count_params(directory).total == text_params
    assert count_params(cfg_dict).total == text_params
    assert count_params(directory).embedding == 100 * 64


def test_sharded_checkpoint(tf, tmp_path):
    model = tf.LlamaForCausalLM(
        tf.LlamaConfig(
            hidden_size=64,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=96,
            vocab_size=100,
        )
    )
    directory, _ = _save(model, tmp_path, max_shard_size="40KB")
    assert (directory / "model.safetensors.index.json").is_file()
    assert len(list(directory.glob("model-*.safetensors"))) > 1
    p = count_params(directory)
    assert (p.method, p.total) == ("safetensors", _numel(model))
    assert len(p.source.split(", ")) > 1  # every shard was read


def test_tied_head_saved_twice_counts_once(tf, tmp_path):
    from safetensors.torch import load_file, save_file

    model = tf.Qwen2ForCausalLM(
        tf.Qwen2Config(
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=96,
            vocab_size=100,
            tie_word_embeddings=True,
        )
    )
    directory, _ = _save(model, tmp_path)
    tensors = load_file(directory / "model.safetensors")
    assert "lm_head.weight" not in tensors
    tensors["lm_head.weight"] = tensors["model.embed_tokens.weight"].clone()
    save_file(tensors, directory / "model.safetensors", metadata={"format": "pt"})
    p = count_params(directory)
    assert (p.total, p.lm_head) == (_numel(model), 0)
    assert "counted once" in p.note


def test_quantized_checkpoint_falls_back_to_estimate(tf, tmp_path):
    model = tf.Qwen2ForCausalLM(
        tf.Qwen2Config(
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=96,
            vocab_size=100,
        )
    )
    directory, cfg = _save(model, tmp_path)
    cfg["quantization_config"] = {"quant_method": "gptq", "bits": 4}
    (directory / "config.json").write_text(json.dumps(cfg))
    p = count_params(directory)
    assert p.method == "config-estimate" and "quantized" in p.note
    assert p.total == _numel(model)


# --------------------------------------------------------------------------------------------
# FLOPs
# --------------------------------------------------------------------------------------------

TINY = {  # small enough to count by hand
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 100,
    "tie_word_embeddings": True,
}


def test_flops_per_token_by_hand_tiny():
    # Per layer: q 64*64 + k 64*32 + v 64*32 + o 64*64 = 12288; MLP 3*64*128 = 24576;
    # two RMSNorms 128  -> 36992; two layers 73984; final norm 64 -> N = 74048.
    assert count_params(TINY).non_embedding == 74048
    # 2N = 148096; attention 2 * n_layers * n_ctx * d_attn = 2*2*10*64 = 2560;
    # unembedding 2 * d_model * vocab = 2*64*100 = 12800.
    assert flops_per_token(TINY, 10) == 148096 + 2560 + 12800 == 163456
    assert flops_per_token(TINY, 0) == 148096 + 12800


def test_flops_per_token_by_hand_qwen25_05b():
    # N_non-embedding = 24 layers * 14,912,384 + 896 (final norm) = 357,898,112, where one
    # layer = q (896*896 + 896) + k,v 2*(896*128 + 128) + o 896*896 + MLP 3*896*4864 + 2*896.
    assert count_params(QWEN25_05B).non_embedding == 357_898_112
    two_n = 2 * 357_898_112  # 715,796,224
    attention = 2 * 24 * 1000 * (14 * 64)  # 43,008,000 at 1000 tokens of context
    unembed = 2 * 896 * 151936  # 272,269,312: tied, but the matmul still runs
    assert flops_per_token(QWEN25_05B, 1000) == two_n + attention + unembed == 1_031_073_536


def test_flops_per_token_moe_uses_active_params():
    # Mixtral-8x7B, 2 of 8 experts: per layer attention 41,943,040 + router 32,768 + 2 experts
    # 2 * 176,160,768 + norms 8,192; 32 layers + final norm -> 12,617,781,248 active.
    assert count_params(MIXTRAL_8X7B).active == 12_617_781_248
    assert flops_per_token(MIXTRAL_8X7B, 0) == 2 * 12_617_781_248 + 2 * 4096 * 32000


def test_flops_attention_term_mla_and_windows():
    # MLA: 2*d_attn = H*(qk_nope+qk_rope) + H*v_head = 128*192 + 128*128 = 40960 per layer.
    ds = flops_per_token(DEEPSEEK_V3, 1000) - flops_per_token(DEEPSEEK_V3, 0)
    assert ds == 61 * 40960 * 1000
    # Mistral-7B-v0.1: every layer attends to at most sliding_window = 4096 tokens.
    base = flops_per_token(MISTRAL_7B_V01, 0)
    assert flops_per_token(MISTRAL_7B_V01, 3000) - base == 2 * 32 * 3000 * 4096
    assert flops_per_token(MISTRAL_7B_V01, 10000) - base == 2 * 32 * 4096 * 4096
    # Qwen with use_sliding_window only above max_window_layers.
    qwen = {**TINY, "model_type": "qwen2", "use_sliding_window": True, "sliding_window": 8,
            "max_window_layers": 1}  # fmt: skip
    assert load_model_spec(qwen).attention_windows == (None, 8)
    extra = flops_per_token(qwen, 100) - flops_per_token(qwen, 0)
    assert extra == 2 * 64 * 100 + 2 * 64 * 8  # layer 0 full, layer 1 windowed
    # Gemma-2 alternates local (even index) and global layers.
    gemma2 = {**TINY, "model_type": "gemma2", "num_hidden_layers": 4, "sliding_window": 16}
    assert load_model_spec(gemma2).attention_windows == (16, None, 16, None)
    # An explicit layer_types list wins.
    typed = {**TINY, "sliding_window": 5, "layer_types": ["full_attention", "sliding_attention"]}
    assert load_model_spec(typed).attention_windows == (None, 5)


def _brute_sequence(cfg, p, c, prompt_logits=False):
    head = load_model_spec(cfg).lm_head_flops
    prefill = sum(flops_per_token(cfg, i) - (0 if prompt_logits else head) for i in range(p))
    decode = sum(flops_per_token(cfg, p + j) for j in range(c))
    return prefill, decode


WINDOWED_TINY = {**TINY, "model_type": "mistral", "sliding_window": 7}
MLA_TINY = {**DEEPSEEK_V3, "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
            "q_lora_rank": 16, "kv_lora_rank": 8, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4,
            "v_head_dim": 8, "intermediate_size": 96, "moe_intermediate_size": 16,
            "n_routed_experts": 4, "num_experts_per_tok": 2, "first_k_dense_replace": 1,
            "vocab_size": 50}  # fmt: skip


@pytest.mark.parametrize(
    "cfg",
    [TINY, QWEN25_05B, WINDOWED_TINY, MLA_TINY],
    ids=["tiny", "qwen2.5-0.5b", "windowed", "mla"],
)
@pytest.mark.parametrize(("p", "c"), [(0, 0), (0, 5), (1, 1), (7, 3), (13, 20), (40, 1)])
def test_sequence_flops_equals_sum_over_positions(cfg, p, c):
    s = sequence_flops(cfg, p, c)
    assert isinstance(s, SequenceFlops)
    prefill, decode = _brute_sequence(cfg, p, c)
    assert s.prefill == pytest.approx(prefill, rel=1e-12, abs=0)
    assert s.decode == pytest.approx(decode, rel=1e-12, abs=0)
    assert s.total == pytest.approx(prefill + decode, rel=1e-12, abs=0)
    assert (s.prompt_tokens, s.completion_tokens) == (p, c)
    with_logits = sequence_flops(cfg, p, c, prompt_logits=True)
    assert with_logits.prefill == pytest.approx(_brute_sequence(cfg, p, c, True)[0], rel=1e-12)


def test_sequence_flops_closed_form_by_hand():
    # TINY, P=3, C=2. Body per token 2N = 148096; attention per context token 2*2*64 = 256.
    # Prefill contexts 0,1,2: 3*148096 + 256*(0+1+2) = 445056.
    # Decode contexts 3,4 with logits: 2*(148096 + 12800) + 256*(3+4) = 323584.
    s = sequence_flops(TINY, 3, 2)
    assert (s.prefill, s.decode) == (445056, 323584)


def test_sequence_flops_is_closed_form_for_long_sequences():
    s = sequence_flops(QWEN25_7B, 10**7, 10**7)  # a loop over positions would take seconds
    assert s.decode > s.prefill > 0


def test_forward_flops_spans_add_up():
    # Continuing from a cached prefix: the pieces sum to the whole.
    whole = forward_flops(WINDOWED_TINY, 30, context_len=4, logits_tokens=0)
    parts = forward_flops(WINDOWED_TINY, 11, context_len=4) + forward_flops(
        WINDOWED_TINY, 19, context_len=15
    )
    assert whole == parts
    s = sequence_flops(TINY, 12, 9)
    assert s.decode == forward_flops(TINY, 9, context_len=12, logits_tokens=9)


def test_generation_flops_shared_prefill():
    lens = [5, 0, 17, 9]
    g = generation_flops(QWEN25_05B, 40, lens)
    assert isinstance(g, GenerationFlops)
    prefill = _brute_sequence(QWEN25_05B, 40, 0)[0]
    decode = sum(_brute_sequence(QWEN25_05B, 40, c)[1] for c in lens)
    assert g.prefill == pytest.approx(prefill, rel=1e-12)
    assert g.decode == pytest.approx(decode, rel=1e-12)
    assert g.actual == pytest.approx(prefill + decode, rel=1e-12)
    assert g.naive == pytest.approx(4 * prefill + decode, rel=1e-12)
    assert g.naive > g.actual
    assert g.saved == pytest.approx(3 * prefill, rel=1e-12)
    assert (g.n_samples, g.prompt_tokens, g.completion_tokens) == (4, 40, 31)
    # Naive is exactly n independent sequences.
    assert g.naive == pytest.approx(sum(sequence_flops(QWEN25_05B, 40, c).total for c in lens))


def test_generation_flops_single_sample_naive_equals_actual():
    g = generation_flops(TINY, 25, [11])
    assert g.naive == g.actual == sequence_flops(TINY, 25, 11).total
    total = g + generation_flops(TINY, 25, [3])
    assert total.n_samples == 2 and total.actual == g.actual + sequence_flops(TINY, 25, 3).total


def test_scoring_flops_is_a_prefill():
    assert scoring_flops(QWEN25_05B, 300) == sequence_flops(QWEN25_05B, 300, 0).prefill
    head = load_model_spec(QWEN25_05B).lm_head_flops
    assert scoring_flops(QWEN25_05B, 300, lm_head_positions=300) == pytest.approx(
        scoring_flops(QWEN25_05B, 300) + 300 * head
    )
    prm = {**QWEN25_05B, "architectures": ["Qwen2ForProcessRewardModel"]}
    n = count_params(prm).active
    assert scoring_flops(prm, 1) == 2 * n  # score head inside N, no vocabulary logits


def test_transformers_config_object_is_accepted(tf):
    cfg = tf.Qwen2Config(**{k: v for k, v in QWEN25_7B.items() if k != "architectures"})
    assert count_params(cfg).total == 7_615_616_512
    moe = tf.Qwen3MoeConfig(**{k: v for k, v in QWEN3_30B_A3B.items() if k != "architectures"})
    # transformers 5 renames num_experts to num_local_experts in to_dict(): both are read.
    got, want = count_params(moe), count_params(QWEN3_30B_A3B)
    assert (got.total, got.non_embedding, got.active) == (
        want.total,
        want.non_embedding,
        want.active,
    )
    assert got.source == "Qwen3MoeConfig"


def test_flops_accept_spec_path_and_dict_alike(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(QWEN25_7B))
    spec = load_model_spec(tmp_path)
    assert spec.params.method == "config-estimate"  # no weights in the directory
    for cfg in (QWEN25_7B, spec, tmp_path, str(tmp_path / "config.json")):
        assert flops_per_token(cfg, 123) == flops_per_token(QWEN25_7B, 123)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_missing_path_and_missing_config(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_model"):
        count_params(tmp_path / "no_such_model")
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        count_params(tmp_path)


def test_uncached_hub_id_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="Hub id"):
        count_params("tts-eval-test-no-such-org/no-such-model-xyz")


def test_malformed_json_names_the_file(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"config\.json: not valid JSON"):
        count_params(tmp_path)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        count_params(tmp_path)


def test_missing_key_names_file_and_key(tmp_path):
    cfg = {k: v for k, v in QWEN25_7B.items() if k != "hidden_size"}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"config\.json: config is missing required key "
                       r"'hidden_size'") as e:  # fmt: skip
        count_params(tmp_path)
    assert str(tmp_path) in str(e.value)
    with pytest.raises(ValueError, match="'text_config.num_hidden_layers'"):
        count_params({"model_type": "llava", "text_config": {"hidden_size": 8, "vocab_size": 4}})
    with pytest.raises(ValueError, match="'num_attention_heads' must be an integer"):
        count_params({**QWEN25_7B, "num_attention_heads": "28"})
    with pytest.raises(ValueError, match="not divisible"):
        count_params({**QWEN25_7B, "num_attention_heads": 5})
    with pytest.raises(ValueError, match="'moe_intermediate_size'"):
        count_params({k: v for k, v in QWEN3_30B_A3B.items() if k != "moe_intermediate_size"})


def test_bad_weights_are_reported(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    (tmp_path / "model.safetensors").write_text("version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ValueError, match=r"model\.safetensors: not a safetensors file"):
        count_params(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    index = {"weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(FileNotFoundError, match="model-00001-of-00002.safetensors"):
        count_params(tmp_path)


def test_bad_token_counts():
    with pytest.raises(ValueError, match="prompt_tokens"):
        sequence_flops(TINY, -1, 3)
    with pytest.raises(ValueError, match="completion_tokens_per_sample"):
        generation_flops(TINY, 3, [])
    with pytest.raises(ValueError, match=r"completion_tokens_per_sample\[1\]"):
        generation_flops(TINY, 3, [2, -4])
    with pytest.raises(ValueError, match="logits_tokens"):
        forward_flops(TINY, 2, logits_tokens=3)


def test_import_is_light():
    code = (
        "import sys, tts_eval.accounting; "
        "heavy = [m for m in ('torch', 'transformers', 'vllm', 'lm_eval', 'numpy') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
