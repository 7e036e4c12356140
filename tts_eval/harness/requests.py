"""Turn one lm-eval request's ``gen_kwargs`` into a sampling spec for a strategy.

Precedence: what the request says (the task's ``generation_kwargs`` and the user's
``--gen_kwargs``) overrides the sampling defaults given in ``--model_args``. Our own
tasks set no sampling keys, so model_args decide there. Three keys are ours, not
vLLM's, and are removed before sampling: ``tts_record`` (return a JSON TTS record
instead of text), ``tts_answer_kind`` (how to read answers: math/integer/choice) and
``tts_revision_prompt`` (the task's own text between attempts for ``strategy=revisions``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from tts_eval.engines.base import SamplingSpec

_MAX_TOKEN_KEYS = ("max_gen_toks", "max_new_tokens", "max_tokens", "max_completion_tokens")
# Keys lm-eval or HF generation configs use that have no vLLM meaning.
_IGNORED_KEYS = {"do_sample", "until", "num_beams", "use_cache"}


@dataclass(frozen=True)
class SamplingDefaults:
    temperature: float = 0.8
    top_p: float = 1.0
    top_k: int = 0
    max_gen_toks: int = 2048


@dataclass(frozen=True)
class RequestSpec:
    """What tts-vllm needs to know about one request besides its prompt."""

    sampling: SamplingSpec
    want_record: bool
    answer_kind: str
    revision_prompt: str | None = None


def request_seed(seed: int, prompt: str, gen_kwargs: dict[str, Any]) -> int:
    """A per-request seed that depends only on the run seed and the request itself.

    So results do not change with batch order, ``--limit`` or other tasks in the run.
    """
    blob = json.dumps([seed, prompt, gen_kwargs], sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(blob.encode()).digest()[:4], "big") & 0x7FFFFFFF


def resolve_request(
    prompt: str,
    gen_kwargs: dict[str, Any],
    defaults: SamplingDefaults,
    *,
    n: int,
    seed: int,
    eos: str | None,
    default_answer_kind: str,
) -> RequestSpec:
    kwargs = dict(gen_kwargs)
    want_record = bool(kwargs.pop("tts_record", False))
    answer_kind = str(kwargs.pop("tts_answer_kind", default_answer_kind))
    revision_prompt = kwargs.pop("tts_revision_prompt", None)

    until = kwargs.get("until") or []
    if isinstance(until, str):
        until = [until]
    stop = [s for s in until if s]
    if eos and eos not in stop:
        stop.append(eos)

    max_tokens = defaults.max_gen_toks
    for key in _MAX_TOKEN_KEYS:
        if kwargs.get(key) is not None:
            max_tokens = int(kwargs[key])
            break

    temperature = float(kwargs.get("temperature", defaults.temperature))
    if kwargs.get("do_sample") is False:
        temperature = 0.0
    extra = {
        k: v
        for k, v in kwargs.items()
        if k not in _IGNORED_KEYS and k not in _MAX_TOKEN_KEYS
        and k not in ("temperature", "top_p", "top_k", "seed")
    }
    spec = SamplingSpec(
        n=n,
        temperature=temperature,
        top_p=float(kwargs.get("top_p", defaults.top_p)),
        top_k=int(kwargs.get("top_k", defaults.top_k) or 0),
        max_tokens=max_tokens,
        stop=tuple(stop),
        # Our private keys are left out: asking for a record must not change the samples.
        seed=request_seed(int(kwargs.get("seed", seed)), prompt, kwargs),
        extra=tuple(sorted(extra.items())),
    )
    return RequestSpec(sampling=spec, want_record=want_record, answer_kind=answer_kind,
                       revision_prompt=revision_prompt)
