"""Every ``--model_args`` key of tts-vllm, declared once: type, default, meaning.

Validation, the "did you mean" hint for a misspelt key and the README's model_args table
all come from :class:`ModelArgs` (a test fails when the README's table and this class
differ). Keys that are not declared here must be vLLM engine arguments; vLLM's own names
are checked inside ``engines/``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

# lm-eval passes these to every model (from --batch_size, --device, ...); vLLM batches itself.
LM_EVAL_ARGS = frozenset({"batch_size", "max_batch_size", "device"})
ENGINE = "engine"  # group of the args passed straight to vllm.LLM
VERIFIER_ENGINE_PREFIX = "verifier_"  # verifier_<vLLM engine arg>: for the verifier's engine


def _arg(default: Any, help: str, *, group: str = "tts", shown: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "group": group, "shown": shown})


@dataclass(frozen=True)
class ModelArgs:
    """The arguments of ``lm_eval --model tts-vllm --model_args key=value,...``."""

    pretrained: str = _arg(None, "HF model id or local directory", shown="required")
    strategy: str = _arg("greedy", "test-time scaling strategy (below)")
    n: int | None = _arg(None, "samples per problem",
                         shown="`1` (with a budget: cap, default 1024; searches: `16`)")
    temperature: float = _arg(0.8, "sampling temperature (when the task does not set one)")
    top_p: float = _arg(1.0, "nucleus sampling")
    top_k: int = _arg(0, "top-k sampling (`0`: off)")
    max_gen_toks: int = _arg(2048, "max new tokens per sample (when the task does not set one)")
    answer_kind: str = _arg("math", "how other tasks' answers are read for voting: `math`, "
                                    "`integer`, `choice`")
    seed: int = _arg(0, "run seed; each request's vLLM seed is derived from (seed, prompt, "
                        "gen_kwargs)")
    budget_tokens: float | None = _arg(None, "per-problem token budget (prompt once + all "
                                             "completions + verifier tokens), instead of a "
                                             "fixed `n`")
    budget_flops: float | None = _arg(None, "per-problem FLOPs budget (e.g. `2e14`; actual "
                                            "FLOPs, below), instead of a fixed `n`")
    verifier: str | None = _arg(None, "verifier for `best_of_n`, `weighted_majority`, "
                                      "`beam_search`, `dvts`, `rebase` (below)")
    verifier_model: str | None = _arg(None, "the verifier's reward model (HF id or local "
                                            "directory)",
                                      shown="`toy-prm`: the bundled toy PRM")
    aggregate: str = _arg("last", "step scores -> one solution score: `last`, `min`, `prod`, "
                                  "`mean`")
    oracle_noise: float = _arg(0.0, "`toy-oracle`: probability that each step label flips")
    beam_width: int = _arg(4, "`beam_search`: keep n / beam_width beams per step, expand each "
                              "beam_width times; `dvts`: n / beam_width subtrees")
    lookahead: int = _arg(0, "search: greedy steps past each candidate, read only for its "
                             "score")
    max_steps: int = _arg(40, "search: most steps per solution (the last one runs to the end)")
    step_delimiter: str | None = _arg(
        None, "search: what ends a step (escapes such as `\\n` allowed)",
        shown="the verifier's: a newline for `toy-prm`, `toy-oracle`, `step-tag`; a "
              "blank line for the others")
    select: str | None = _arg(
        None, "the final answer: for a search, among finished solutions, `weighted_majority` "
              "or `best`; for `revisions`, among attempts, `majority`, `last` (each chain's "
              "last attempt votes), `best` or `weighted_majority` (with a verifier)",
        shown="search: `weighted_majority`; `revisions`: `majority`")
    revisions: int = _arg(4, "`revisions`: attempts per chain (the first and its revisions)")
    revision_prompt: str | None = _arg(
        None, "`revisions`: text between an attempt and the next (escapes such as `\\n` "
              "allowed)", shown="\"The solution above may contain mistakes. Check it step by "
                                "step and write a corrected solution.\"")
    rebase_temperature: float = _arg(0.1, "`rebase`: softmax temperature sharing the width "
                                          "among nodes")
    max_thinking_tokens: int | None = _arg(
        None, "`budget_forcing`: thinking tokens over all rounds together (the cap B)",
        shown="the task's max tokens")
    min_thinking_tokens: int = _arg(0, "`budget_forcing`: an end of thinking before this many "
                                       "tokens is ignored (`ignore_str` appended)")
    num_ignore: int = _arg(0, "`budget_forcing`: ignore the model's first N ends of thinking")
    ignore_str: str = _arg("Wait", "`budget_forcing`: appended when an end is ignored "
                                   "(escapes such as `\\n` allowed)")
    answer_cue: str = _arg("Final Answer:", "`budget_forcing`: appended after the end of "
                                            "thinking, before the answer (empty: none)")
    max_answer_tokens: int = _arg(256, "`budget_forcing`: tokens for the answer after "
                                       "thinking")
    calibration: str | None = _arg(None, "`adaptive`: the file `tts-eval calibrate` wrote "
                                   "(which strategy per difficulty bin and budget)")
    think: str = _arg("auto", "a reasoning model's thinking delimiters: `qwen3`, `r1` "
                              "(`<think>`/`</think>`), `s1` (`<|im_start|>think`/"
                              "`<|im_start|>answer`), `none`, or `auto` (from the chat "
                              "template); the answer is read after the end only")
    think_start: str | None = _arg(None, "custom start of thinking (with `think_end`)")
    think_end: str | None = _arg(None, "custom end of thinking (with `think_start`)")
    model_config: str | None = _arg(None, "the model's config.json (or its directory), to "
                                    "count FLOPs when `pretrained` has none here (a model on "
                                    "servers, known here by its tokenizer); without any "
                                    "config FLOPs are recorded as unknown (null)")
    store: str | None = _arg(None, "run store directory: every result is kept as it is "
                             "generated, and the same command run again reuses it and "
                             "generates only what is missing; `off`: no store",
                             shown="`tts-store/` in `--output_path` when given, else off")
    base_url: str | None = _arg(None, "OpenAI-compatible completion servers instead of an "
                                "in-process engine: one URL or several with `;` between (lm-eval "
                                "splits model_args at commas), e.g. "
                                "`http://127.0.0.1:8000/v1`; `pretrained` is still read "
                                "for its tokenizer and config; the key comes from "
                                "`$OPENAI_API_KEY`")
    verifier_base_url: str | None = _arg(
        None, "the verifier's reward model on OpenAI-compatible servers (vLLM's `/pooling`; "
              "`;` between several), started with `--runner pooling` and its preset's pooler; "
              "`verifier_model` is still read for its tokenizer and config")
    served_model: str | None = _arg(None, "`base_url`: the model name the servers serve",
                                    shown="the first one they list")
    max_concurrency: int = _arg(64, "`base_url`: requests in flight at once, over all servers")
    request_timeout: float = _arg(600.0, "`base_url`: seconds one request may take")
    max_retries: int = _arg(6, "`base_url`: attempts after the first for a request that "
                               "fails (connection, timeout, 5xx), on another server when "
                               "there is one, with exponential backoff and jitter")
    revision: str | None = _arg(None, "model revision (branch, tag or commit)", group=ENGINE)
    tokenizer: str | None = _arg(None, "tokenizer id or directory, if not the model's",
                                 group=ENGINE)
    dtype: str = _arg("auto", "weight and activation dtype", group=ENGINE)
    tensor_parallel_size: int = _arg(1, "GPUs per model replica (tensor parallel)",
                                     group=ENGINE)
    data_parallel_size: int = _arg(1, "model replicas (data parallel)", group=ENGINE)
    gpu_memory_utilization: float | None = _arg(
        None, "share of GPU memory vLLM may use (on CPU: of the memory node)", group=ENGINE,
        shown="vLLM's (0.9); on CPU unset: the KV cache is sized for the run")
    kv_cache_memory_bytes: int | None = _arg(
        None, "KV cache size in bytes", group=ENGINE,
        shown="on CPU: sized for the run (below)")
    max_model_len: int | None = _arg(None, "context length (prompt + generation)",
                                     group=ENGINE, shown="the model's")
    enforce_eager: bool = _arg(False, "skip CUDA graphs / compilation (faster start)",
                               group=ENGINE)
    trust_remote_code: bool = _arg(False, "run the model repository's own code", group=ENGINE)
    enable_prefix_caching: bool = _arg(True, "share prompt KV cache across samples and "
                                             "requests", group=ENGINE)

    @classmethod
    def names(cls, group: str | None = None) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)
                if group is None or f.metadata["group"] == group]

    @classmethod
    def parse(cls, values: dict[str, Any]) -> tuple[ModelArgs, dict[str, Any]]:
        """The declared args, typed and checked, and the rest (vLLM engine arguments).

        Raises ValueError naming a key that is neither declared nor a vLLM engine argument
        (with the closest valid names), or a value of the wrong type.
        """
        from tts_eval.engines.vllm_engine import unknown_engine_args

        declared = {k: v for k, v in values.items() if k in cls.names()}
        extra = {k: v for k, v in values.items()
                 if k not in declared and k not in LM_EVAL_ARGS}
        prefix = VERIFIER_ENGINE_PREFIX
        hints = unknown_engine_args([k for k in extra if not k.startswith(prefix)], cls.names())
        hints += [f"'{prefix}{hint[1:]}".replace("did you mean ", f"did you mean {prefix}")
                  .replace(", ", f", {prefix}") for hint in unknown_engine_args(
                      [k.removeprefix(prefix) for k in extra if k.startswith(prefix)], ())]
        if hints:
            raise ValueError(
                f"tts-vllm: unknown model_args {', '.join(hints)}. Valid: "
                f"{', '.join(sorted(cls.names()))}, or any vLLM engine argument."
            )
        if declared.get("pretrained") in (None, ""):
            raise ValueError("tts-vllm: model_args needs pretrained=<HF id or model directory>")
        hints_by_name = typing.get_type_hints(cls)
        typed = {name: _coerce(name, value, hints_by_name[name])
                 for name, value in declared.items()}
        extra = {k: _device_ids(v) if k.removeprefix(VERIFIER_ENGINE_PREFIX) == "device_ids"
                 else v for k, v in extra.items()}
        for name in ("step_delimiter", "ignore_str", "answer_cue", "think_start", "think_end",
                     "revision_prompt"):
            if isinstance(typed.get(name), str):
                typed[name] = _unescape(typed[name])
        return cls(**typed), extra

    def verifier_engine_args(self, extra: dict[str, Any]) -> dict[str, Any]:
        """The verifier's engine arguments: the generator's dtype, eager mode, remote-code
        trust and seed, then every ``verifier_<vLLM arg>`` of ``extra`` (its memory share
        on GPU, its KV cache on CPU, its context length, ...)."""
        return {"seed": self.seed, "dtype": self.dtype, "enforce_eager": self.enforce_eager,
                "trust_remote_code": self.trust_remote_code,
                **{k.removeprefix(VERIFIER_ENGINE_PREFIX): v for k, v in extra.items()
                   if k.startswith(VERIFIER_ENGINE_PREFIX)}}

    def engine_args(self) -> dict[str, Any]:
        """The declared vLLM arguments that differ from vLLM's own defaults."""
        return {name: getattr(self, name) for name in self.names(ENGINE)
                if name != "pretrained" and getattr(self, name) != _default(name)}


def _device_ids(value: Any) -> list[int | str]:
    """vLLM's ``device_ids`` (which GPUs an engine uses) as a list: ``--model_args`` can only
    say ``1`` or ``2;3``."""
    if isinstance(value, list | tuple):
        return list(value)
    parts = [p.strip() for p in str(value).split(";") if p.strip()]
    return [int(p) if p.isdigit() else p for p in parts]


def _unescape(text: str) -> str:
    r"""``\n``, ``\t`` and ``\\`` as the characters they name: a newline cannot be typed
    inside ``--model_args``."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "nt\\":
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _default(name: str) -> Any:
    return next(f.default for f in dataclasses.fields(ModelArgs) if f.name == name)


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """``value`` as the declared type (lm-eval already turned "16" into 16 and "True" into
    True; Python callers may pass anything)."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None and type(None) in options:
        return None
    target = next(t for t in options if t is not type(None))
    if target is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ValueError(f"tts-vllm: {name}={value!r} is not a valid bool (True or False)")
    try:
        if target is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        coerced = None if isinstance(value, bool) else target(value)
    except (TypeError, ValueError):
        coerced = None
    if coerced is None:
        raise ValueError(f"tts-vllm: {name}={value!r} is not a valid {target.__name__}")
    return coerced


def markdown_table() -> str:
    """The README's model_args table, from the declarations above."""
    rows = ["| arg | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(ModelArgs):
        shown = f.metadata["shown"]
        if shown is None:
            shown = "none" if f.default is None else f"`{f.default}`"
        meaning = f.metadata["help"].replace("|", "\\|")  # a table cell's own pipes
        if f.metadata["group"] == ENGINE:
            meaning += "; passed to `vllm.LLM`"
        rows.append(f"| `{f.name}` | {shown} | {meaning} |")
    rows.append("| `verifier_<vLLM engine argument>` | the generator's `dtype`, `enforce_eager`, "
                "`trust_remote_code`, `seed`; vLLM's for the rest | for the verifier's own engine "
                "(e.g. `verifier_gpu_memory_utilization=0.3`, "
                "`verifier_kv_cache_memory_bytes`, `verifier_max_model_len`) |")
    rows.append("| any other vLLM engine argument | vLLM's | passed through; an unknown key is "
                "an error naming the closest valid ones |")
    return "\n".join(rows)
