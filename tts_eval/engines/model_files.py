"""A model's tokenizer and config, loaded the way vLLM loads them, without an engine.

Why apart from the engine: arguments, data and budgets are checked against them in seconds,
before a 30-80 s engine start; and a client of remote servers needs exactly these locally
(prompt token ids for the store and for continuations, the config for FLOPs) and no engine.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from tts_eval.engines.base import Prompt, ScoringError

log = logging.getLogger(__name__)

# Config keys that bound a model's context, as vLLM reads them.
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length",
                 "max_sequence_length", "model_max_length")


class ModelFiles:
    """``pretrained`` (a local directory or hub id) read under ``engine_args`` (its
    ``revision``, ``tokenizer``, ``tokenizer_mode``, ``trust_remote_code``, ``max_model_len``).
    ``config``: the model's config.json, or a directory holding it, when ``pretrained`` has
    none here (a model on servers, known here by its tokenizer)."""

    def __init__(self, pretrained: str, engine_args: dict[str, Any],
                 config: str | None = None) -> None:
        self.pretrained = pretrained
        self.engine_args = engine_args
        self.config = config
        if config is not None and not _config_file(config).is_file():
            raise ValueError(f"model_config={config}: no such config file; give the model's "
                             "config.json or the directory that holds it")

    @cached_property
    def tokenizer(self):
        """The tokenizer vLLM will use, loaded the way vLLM loads it."""
        from vllm.tokenizers import get_tokenizer

        args = self.engine_args
        options = {k: args[k] for k in ("tokenizer_mode",) if args.get(k) is not None}
        return get_tokenizer(
            args.get("tokenizer") or self.pretrained,
            revision=args.get("tokenizer_revision") or args.get("revision"),
            trust_remote_code=bool(args.get("trust_remote_code")),
            **options,
        )

    @cached_property
    def hf_config(self) -> dict[str, Any]:
        """The model's config.json as a dict (``config``, else from the directory, else the
        local HF cache)."""
        for given in (self.config, self.pretrained):
            if given is not None and _config_file(given).is_file():
                return json.loads(_config_file(given).read_text())
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(
            self.pretrained, revision=self.engine_args.get("revision"),
            trust_remote_code=bool(self.engine_args.get("trust_remote_code")),
        )
        return config.to_dict()

    @cached_property
    def model_config(self) -> dict[str, Any] | str | None:
        """What FLOPs are priced from: a local model directory (exact parameter count from
        its safetensors), else the config as a dict; None when there is none here (FLOPs
        unknown, tokens still counted)."""
        for given in (self.config, self.pretrained):
            if given is not None and Path(given, "config.json").is_file():
                return given
        try:
            return self.hf_config
        except (OSError, ValueError) as error:  # not a local dir, not in the HF cache
            log.warning("tts-eval: no config for %s here (%s): FLOPs are recorded as unknown; "
                        "pass model_config=PATH (its config.json) to count them",
                        self.pretrained, str(error).splitlines()[0] if str(error) else error)
            return None

    @property
    def max_model_len(self) -> int:
        if self.engine_args.get("max_model_len"):
            return int(self.engine_args["max_model_len"])
        return _context_length(self.hf_config)

    def max_new_tokens(self, wanted: int, prompt_tokens: int) -> int:
        """``wanted`` new tokens, or fewer if the context ends first; an error naming the fix
        when a prompt leaves no room at all."""
        room = self.max_model_len - prompt_tokens
        if room < 1:
            raise ValueError(
                f"prompt of {prompt_tokens} tokens leaves no room to generate within "
                f"max_model_len={self.max_model_len}; raise max_model_len in model_args"
            )
        return min(wanted, room)

    def token_ids(self, prompt: Prompt, add_special_tokens: bool = True) -> list[int]:
        """The ids vLLM is sent for ``prompt`` (token-id prompts pass through unchanged)."""
        if isinstance(prompt, str):
            return self.tokenizer.encode(prompt, add_special_tokens=add_special_tokens)
        return list(prompt)

    def count_tokens(self, prompt: Prompt, add_special_tokens: bool = True) -> int:
        return len(self.token_ids(prompt, add_special_tokens))

    def decode(self, token_ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(token_ids), skip_special_tokens=True)


def _config_file(given: str) -> Path:
    """A config.json named directly, or the one inside a directory."""
    path = Path(given)
    return path / "config.json" if path.is_dir() else path


def _context_length(config: dict[str, Any]) -> int:
    """The longest context the config allows, read as vLLM reads it (smallest bound)."""
    scopes = [config, config.get("text_config") or {}]
    found = [int(scope[key]) for scope in scopes for key in _CONTEXT_KEYS
             if isinstance(scope.get(key), int) and scope[key] > 0]
    if not found:
        raise ValueError(
            "the model's config states no context length; set max_model_len in model_args"
        )
    return min(found)


class RewardModelTokens:
    """What a verifier asks of a reward model's tokenizer (``Scorer``'s tokenizer side),
    wherever the model runs: in process or on a server."""

    pretrained: str
    tokenizer: Any

    def single_token_id(self, text: str) -> int:
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        if len(ids) != 1:
            raise ScoringError(f"{self.pretrained}: the tokenizer has no {text!r} token "
                               f"(it reads as {len(ids)} tokens); this reward model does not "
                               "fit the verifier preset")
        return int(ids[0])

    def chat_token_ids(self, messages: Sequence[dict[str, str]],
                       add_generation_prompt: bool = False) -> list[int]:
        if not getattr(self.tokenizer, "chat_template", None):
            raise ScoringError(f"{self.pretrained}: the tokenizer has no chat template, which "
                               "this verifier preset renders its steps with")
        ids = self.tokenizer.apply_chat_template(
            list(messages), tokenize=True, add_generation_prompt=add_generation_prompt)
        if hasattr(ids, "keys"):  # transformers >= 5 returns a BatchEncoding
            ids = ids["input_ids"]
        return [int(i) for i in ids]

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))
