"""Size vLLM's KV cache on CPU when the user does not, so a plain ``lm_eval`` run starts.

On CPU, vLLM reads ``gpu_memory_utilization`` (default 0.9) as a share of the memory node's
*total* memory and refuses to start when less than that is free, which is the usual state
of a shared machine. Setting ``kv_cache_memory_bytes`` bypasses that check. We size it from
what the run needs (every concurrent sequence at full ``max_model_len``) and cap it by what
the machine can give (half of the memory left free after the weights load), never below one
full-length sequence. The user's own ``VLLM_CPU_KVCACHE_SPACE``, ``kv_cache_memory_bytes``
or ``gpu_memory_utilization`` always win.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from tts_eval.accounting import ModelSpec

MiB = 1 << 20
GiB = 1 << 30
DEFAULT_MAX_NUM_SEQS = 256  # vLLM's default for the offline LLM class on CPU
SHARE_OF_FREE = 0.5  # the rest stays for activations, grading workers and the OS
USER_SETTINGS = ("kv_cache_memory_bytes", "gpu_memory_utilization")
ENV_SETTING = "VLLM_CPU_KVCACHE_SPACE"


class KVCacheError(ValueError):
    """The machine cannot hold one full-length sequence of this model."""


@dataclass(frozen=True)
class KVCachePlan:
    bytes: int
    bytes_per_token: int
    max_model_len: int
    free_bytes: int
    weight_bytes: int

    @property
    def tokens(self) -> int:
        return self.bytes // self.bytes_per_token

    def describe(self) -> str:
        return (
            f"tts-eval: CPU KV cache {self.bytes / GiB:.2f} GiB ({self.tokens:,} tokens, "
            f"{self.tokens // self.max_model_len} sequences of max_model_len="
            f"{self.max_model_len}), sized from the model within "
            f"{self.free_bytes / GiB:.1f} GiB free; set {ENV_SETTING}=GiB or "
            "kv_cache_memory_bytes= to choose"
        )


def user_chose_kv_cache(engine_args: dict[str, Any]) -> bool:
    """True when the user sized the KV cache (or vLLM's memory share) themselves."""
    if os.environ.get(ENV_SETTING, "") != "":
        return True
    return any(engine_args.get(key) is not None for key in USER_SETTINGS)


def dtype_bytes(dtype: str | None, kv_cache_dtype: str | None = None) -> int:
    """Bytes per KV element: fp8 caches take 1, float32 models 4, everything else 2."""
    if kv_cache_dtype and kv_cache_dtype.startswith("fp8"):
        return 1
    return 4 if str(dtype).removeprefix("torch.") in ("float32", "float") else 2


def plan_kv_cache(
    spec: ModelSpec,
    *,
    max_model_len: int,
    max_num_seqs: int,
    element_bytes: int,
    free_bytes: int,
    weight_bytes: int,
) -> KVCachePlan:
    """How many bytes of KV cache to ask vLLM for (see the module docstring)."""
    per_token = 2 * spec.num_layers * spec.num_kv_heads * spec.head_dim * element_bytes
    one_sequence = per_token * max_model_len
    room = free_bytes - weight_bytes
    if one_sequence > room:
        raise KVCacheError(
            f"one sequence of max_model_len={max_model_len} needs "
            f"{one_sequence / GiB:.2f} GiB of KV cache, but only {max(room, 0) / GiB:.2f} GiB "
            f"are free after the weights ({weight_bytes / GiB:.2f} GiB). Lower max_model_len "
            f"in model_args, or free memory and set {ENV_SETTING}=GiB yourself"
        )
    wanted = one_sequence * max_num_seqs
    cap = int(room * SHARE_OF_FREE)
    chosen = max(one_sequence, min(wanted, cap))
    chosen = -(-chosen // MiB) * MiB  # whole MiB, rounded up
    return KVCachePlan(chosen, per_token, max_model_len, free_bytes, weight_bytes)


def free_memory_bytes() -> int:
    """Free memory on the node vLLM's CPU worker allocates from (it checks the same)."""
    try:
        from vllm.utils.cpu_resource_utils import get_allowed_cpu_list, get_memory_node_info

        node = get_allowed_cpu_list()[0].numa_node
        return int(get_memory_node_info(node).available_memory)
    except Exception:  # other vLLM releases: fall back to the whole machine
        import psutil

        return int(psutil.virtual_memory().available)
