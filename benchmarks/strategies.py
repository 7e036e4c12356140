"""Verifier-guided strategies on the toy world: accuracy against compute, and search speed.

One run, one generator engine and one verifier, every strategy at a low and a high width
(``--n-low``, ``--n-high``) on the same arith_tts problems (``--per-level`` per level):

1. accuracy per level and mean FLOPs per problem (generator + verifier) per strategy;
2. Snell et al. 2024's comparison: beam search against best-of-N (weighted) at the low
   and the high width, on the easy levels (1-2) and the hard ones (4-5);
3. seconds per generated token of beam search over best_of_n at the high width, on the
   same engines (target <= 1.5): what the step-by-step calls cost beyond sampling.

    python benchmarks/strategies.py [--generator medium] [--verifier toy-prm|toy-oracle]
                                    [--per-level 20] [--n-low 4] [--n-high 16]
"""

from __future__ import annotations

import argparse
import time

from tabulate import tabulate

from tts_eval.console import quiet_libraries
from tts_eval.engines import SamplingSpec
from tts_eval.metrics import score_record
from tts_eval.strategies import Problem, get_strategy
from tts_eval.toy import model_path
from tts_eval.toy.evaluate import DEFAULT_TEMPERATURE, MAX_TOKENS, make_engine, make_scorer
from tts_eval.toy.oracle import ToyOracleVerifier
from tts_eval.toy.problems import (
    ARITH_TTS_PROBLEMS_PER_LEVEL,
    EVAL_SEED,
    LEVELS,
    format_prompt,
    make_problems,
)
from tts_eval.verifiers import make_verifier

EASY, HARD = (1, 2), (4, 5)


def strategies(n_low: int, n_high: int, beam_width: int) -> list[tuple[str, str, dict]]:
    """(label, strategy, params) for every strategy at both widths."""
    out = []
    for n in (n_low, n_high):
        width = min(beam_width, n)
        out += [
            (f"majority n={n}", "majority", {"n": n}),
            (f"best_of_n n={n}", "best_of_n", {"n": n}),
            (f"weighted_majority n={n}", "weighted_majority", {"n": n}),
            (f"beam_search n={n} w={width}", "beam_search", {"n": n, "beam_width": width}),
            (f"dvts n={n} w={width}", "dvts", {"n": n, "beam_width": width}),
            (f"rebase n={n}", "rebase", {"n": n}),
        ]
    return out


def run(label, name, params, problems, rows, engine, verifier) -> dict:
    strategy = get_strategy(name, **params)
    start = time.perf_counter()
    records = strategy.solve(problems, engine, verifier if strategy.uses_verifier else None)
    seconds = time.perf_counter() - start
    by_level: dict[int, list[float]] = {}
    flops = []
    for row, record in zip(rows, records, strict=True):
        by_level.setdefault(row["level"], []).append(score_record(record, row["answer"])["acc"])
        flops.append(record.cost.total_flops)
    tokens = sum(record.completion_tokens for record in records)
    return {"label": label, "strategy": name, "n": params["n"], "seconds": seconds,
            "tokens": tokens, "flops": sum(flops) / len(flops),
            "acc": {level: sum(v) / len(v) for level, v in by_level.items()}}


def mean_acc(result: dict, levels) -> float:
    values = [result["acc"][level] for level in levels if level in result["acc"]]
    return sum(values) / len(values)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--generator", default="medium")
    ap.add_argument("--verifier", default="toy-prm", choices=("toy-prm", "toy-oracle"))
    ap.add_argument("--per-level", type=int, default=20)
    ap.add_argument("--n-low", type=int, default=4)
    ap.add_argument("--n-high", type=int, default=16)
    ap.add_argument("--beam-width", type=int, default=4)
    ap.add_argument("--verbose", action="store_true", help="vLLM's logs and progress bars too")
    args = ap.parse_args()
    quiet_libraries(args.verbose)

    rows = [p for level in LEVELS
            for p in make_problems(ARITH_TTS_PROBLEMS_PER_LEVEL, level, EVAL_SEED)
            [: args.per_level]]
    problems = [Problem(format_prompt(p), SamplingSpec(temperature=DEFAULT_TEMPERATURE,
                                                       max_tokens=MAX_TOKENS, seed=i))
                for i, p in enumerate(rows)]
    engine = make_engine(model_path(args.generator))
    if args.verifier == "toy-oracle":
        verifier = ToyOracleVerifier()
    else:
        verifier = make_verifier("toy-prm", str(model_path("prm")),
                                 lambda model, **kw: make_scorer(model))
    engine.generate([problems[0].prompt], [problems[0].sampling])  # start both engines
    if args.verifier == "toy-prm":
        verifier.score([problems[0].prompt], ["1+1=2"])

    results = [run(*spec, problems, rows, engine, verifier)
               for spec in strategies(args.n_low, args.n_high, args.beam_width)]

    print(f"\ngenerator {args.generator}, verifier {args.verifier}, {args.per_level} problems "
          f"per level, temperature {DEFAULT_TEMPERATURE}\n")
    table = [[r["label"], *(f"{r['acc'].get(level, 0):.2f}" for level in LEVELS),
              f"{mean_acc(r, LEVELS):.3f}", f"{r['flops']:.2e}"] for r in results]
    print(tabulate(table, headers=["strategy", *(f"L{lv}" for lv in LEVELS), "all",
                                   "FLOPs/problem (gen + verifier)"]))

    print("\nSnell et al.: beam search vs best-of-N weighted, by width and difficulty")
    by_label = {(r["strategy"], r["n"]): r for r in results}
    rows_out = []
    for n in (args.n_low, args.n_high):
        beam, bon = by_label[("beam_search", n)], by_label[("weighted_majority", n)]
        for name, levels in (("easy (L1-2)", EASY), ("hard (L4-5)", HARD)):
            a, b = mean_acc(beam, levels), mean_acc(bon, levels)
            rows_out.append([n, name, f"{a:.3f}", f"{b:.3f}", f"{a - b:+.3f}"])
    print(tabulate(rows_out, headers=["n", "levels", "beam_search", "weighted best-of-N",
                                      "beam - best-of-N"]))

    beam, bon = by_label[("beam_search", args.n_high)], by_label[("best_of_n", args.n_high)]
    per_token = [r["seconds"] / r["tokens"] for r in (beam, bon)]
    print(f"\nseconds per generated token at n={args.n_high}: beam_search "
          f"{per_token[0] * 1e3:.2f} ms ({beam['tokens']} tokens, {beam['seconds']:.1f} s), "
          f"best_of_n {per_token[1] * 1e3:.2f} ms ({bon['tokens']} tokens, "
          f"{bon['seconds']:.1f} s); ratio {per_token[0] / per_token[1]:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
