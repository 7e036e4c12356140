"""The toy models' tokenizer: byte-level BPE whose vocabulary is constructed, not trained.

Why constructed: a trained BPE depends on the corpus and the trainer's tie-breaking, while a
benchmark's tokenizer must be identical on every machine and every run. Here the merges are a pure
function of the task's templates: each template word (with and without a leading space) is one
token, digits are one token each, and any other text round-trips exactly through the 256 byte
tokens. Special tokens: ``<|endoftext|>`` (eos and pad) and ``<extra_0>`` (the PRM step tag, as
in Qwen2.5-Math-PRM).

Why Qwen2's pre-tokenizer and NFC normaliser: for ``model_type == "qwen2"``, transformers 5 (and
so vLLM) always loads the tokenizer as ``Qwen2Tokenizer``, which rebuilds the pipeline from the
vocabulary and merges with exactly these; building it the same way here means training and
serving tokenize identically (a test checks it). It also fixes digits as single tokens.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .problems import ITEMS, NAMES_HE, NAMES_SHE, PHRASES, PROMPT_TEMPLATE, STEP_TAG

EOS_TOKEN = "<|endoftext|>"
SPECIAL_TOKENS = (EOS_TOKEN, STEP_TAG)
# transformers' Qwen2Tokenizer.PRETOKENIZE_REGEX (copied so that importing it is not needed).
QWEN2_PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

_EXTRA_TEXT = (
    "has He She Then he she How many does have The answer is boxed Problem Solution "
    "more times as into equal piles keeps one pile away with up ends First Step So"
)


def template_words(extra_words: str = "") -> list[str]:
    """Every word the problem templates can produce (and ``extra_words``), sorted (the order
    fixes merge ranks)."""
    text = " ".join(
        [*NAMES_HE, *NAMES_SHE, *ITEMS, *(p for ps in PHRASES.values() for p in ps),
         PROMPT_TEMPLATE, _EXTRA_TEXT, extra_words]
    )
    return sorted(set(re.findall(r"[A-Za-z]+", text)))


def _byte_map() -> dict[int, str]:
    from tokenizers.pre_tokenizers import ByteLevel

    # ByteLevel.alphabet() is the GPT-2 byte->unicode table; rebuild its ordered mapping.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = {b: chr(c) for b, c in zip(bs, cs, strict=True)}
    assert set(table.values()) == set(ByteLevel.alphabet())
    return table


def _learn_merges(words: list[list[str]]) -> list[tuple[str, str]]:
    """Plain BPE learning on the word list until every word is one symbol.

    Ties are broken by the pair itself, so the result depends on nothing but the word list;
    encoding a template word with these merges reproduces the word as a single token.
    """
    words = [list(w) for w in words]
    merges: list[tuple[str, str]] = []
    while True:
        counts: dict[tuple[str, str], int] = {}
        for w in words:
            for pair in zip(w, w[1:], strict=False):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            return merges
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        for w in words:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == best:
                    w[i : i + 2] = [w[i] + w[i + 1]]
                i += 1


def build_tokenizer(extra_words: str = "", added_tokens: tuple[str, ...] = ()) -> Any:
    """Build the toy tokenizer as a ``transformers.PreTrainedTokenizerFast``.

    The thinker's tokenizer adds its words (``extra_words``, which changes the merges, so it
    is a tokenizer of its own) and its thinking delimiters as added, non-special tokens:
    decoding keeps them, as Qwen3's ``<think>`` is kept.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
    )
    from transformers import PreTrainedTokenizerFast

    table = _byte_map()
    vocab: dict[str, int] = {}
    for b in range(256):
        vocab[table[b]] = len(vocab)
    words = [[table[b] for b in (pre + w).encode("utf-8")] for w in template_words(extra_words)
             for pre in (" ", "")]
    merges = _learn_merges(words)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    if added_tokens:
        tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in added_tokens])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        additional_special_tokens=[STEP_TAG],
        model_max_length=4096,
        clean_up_tokenization_spaces=False,
    )


def save_tokenizer(out_dir: str | Path) -> Any:
    """Build the tokenizer and write tokenizer.json + tokenizer_config.json into ``out_dir``."""
    tok = build_tokenizer()
    tok.save_pretrained(str(out_dir))
    return tok
