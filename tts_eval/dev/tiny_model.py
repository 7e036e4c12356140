"""Build a tiny random-weight model (Qwen2 by default) with a locally trained tokenizer.

No hub is reachable on CI machines, yet the whole pipeline (vLLM engine, strategies,
lm-eval tasks, accounting) must be exercised end to end. A 2-layer, hidden-128 Qwen2
loads natively in vLLM (head_dim 32: CPU attention needs >= 32) and generates about
10k tokens/s on two CPU cores. Its answers are noise; it exists to test plumbing.

    python -m tts_eval.dev.tiny_model DIR        # or: tts-eval make-tiny-model DIR
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

# A chat template so --apply_chat_template and --system_instruction work on it.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]


def _training_corpus() -> list[str]:
    """Text covering the prompts of our tasks: English, LaTeX, digits, choices."""
    words = (
        "Solve the following math problem step by step. Put your final answer within "
        "\\boxed{}. Answer with the letter of the correct choice. What is the value of "
        "Let Find the number of How many Compute Suppose that If then Question Choices "
        "Problem Solution The answer is Therefore we have so and of the a an in to is "
        "real positive integer integers prime triangle circle square area probability "
        "\\frac{1}{2} \\sqrt{3} \\pi \\cdot \\left( \\right) \\le \\ge x^2 + y^2 = z "
        "(A) (B) (C) (D) A B C D 0 1 2 3 4 5 6 7 8 9 10 100 1000 + - * / = < > ( ) [ ] { }"
    )
    return [words] * 20 + [" ".join(str(i) for i in range(1000))]


def build_tokenizer(out_dir: Path, vocab_size: int = 1024, extra_tokens: Sequence[str] = ()):
    """Train a byte-level BPE tokenizer (any input text encodes) and save it HF-style;
    ``extra_tokens`` become single tokens (a reward model's step tag)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_training_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    fast.add_tokens(list(extra_tokens))
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out_dir)
    return fast


# Architectures of the reward models people use, for their verifier presets' tests:
# Math-Shepherd is a Mistral causal LM, RLHFlow's PRMs Llama ones, ORMs sequence classifiers.
ARCHITECTURES = ("Qwen2ForCausalLM", "MistralForCausalLM", "LlamaForCausalLM",
                 "Qwen2ForSequenceClassification", "LlamaForSequenceClassification")


def build_tiny_model(
    out_dir: str | Path,
    *,
    architecture: str = "Qwen2ForCausalLM",
    extra_tokens: Sequence[str] = (),
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int = 256,
    max_position_embeddings: int = 4096,
    seed: int = 0,
) -> Path:
    """Write config, random safetensors weights and tokenizer into ``out_dir``.
    A sequence classifier gets one label (a reward head)."""
    import torch
    import transformers

    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture {architecture!r}; valid: {', '.join(ARCHITECTURES)}")

    if hidden_size // num_heads < 32:
        raise ValueError(
            f"head_dim = hidden_size / num_heads = {hidden_size // num_heads}; vLLM's CPU "
            "attention needs >= 32: lower num_heads or raise hidden_size"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(out, extra_tokens=extra_tokens)
    family = architecture.split("For")[0]
    config = getattr(transformers, f"{family}Config")(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        torch_dtype="float32",
        **({"num_labels": 1, "pad_token_id": tokenizer.pad_token_id}
           if architecture.endswith("ForSequenceClassification") else {}),
    )
    torch.manual_seed(seed)
    model = getattr(transformers, architecture)(config)
    if getattr(model, "generation_config", None) is not None:  # a generator
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out, safe_serialization=True)
    (out / "TINY_MODEL.json").write_text(
        json.dumps({"seed": seed, "purpose": "random weights; plumbing tests only"}) + "\n"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        prog="tts-eval make-tiny-model",
        description="Build a tiny random-weight Qwen2 model (for smoke tests; no hub needed).",
    )
    parser.add_argument("out_dir", help="directory to write the model into")
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed")
    parser.add_argument("--architecture", default="Qwen2ForCausalLM", choices=ARCHITECTURES)
    args = parser.parse_args(argv)
    path = build_tiny_model(args.out_dir, seed=args.seed, architecture=args.architecture)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
