"""Sequential test-time scaling on the toy thinker: budget forcing and revisions.

One engine (the toy reasoning model), the same arith_tts problems (``--per-level`` per level),
measured by ``tts_eval.toy.sequential.thinker_metrics`` (the thinker's TRAINING.json holds the
same measurements at the default settings):

1. budget forcing over a sweep of thinking budgets B: accuracy per level and thinking tokens,
   and s1's control / scaling / performance;
2. the effect of ignoring the model's ends of thinking ("Wait" appended, ``num_ignore`` 0, 1,
   2) at a generous budget, per level;
3. sequential revisions (one chain of 4 attempts) against parallel majority voting (4
   samples) at about equal tokens per problem, and the share of wrong first attempts the last
   revision fixed.

    python benchmarks/sequential.py [--per-level 20] [--budgets 4 8 16 32 64]
"""

from __future__ import annotations

import argparse

from tabulate import tabulate

from tts_eval.console import quiet_libraries
from tts_eval.toy import model_path
from tts_eval.toy.evaluate import make_engine
from tts_eval.toy.problems import LEVELS
from tts_eval.toy.sequential import thinker_metrics


def row(label, result) -> list:
    return [label, *(f"{result['by_level'][lv]:.2f}" for lv in LEVELS), f"{result['all']:.3f}",
            f"{result['thinking_tokens']:.1f}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-level", type=int, default=20)
    ap.add_argument("--budgets", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--verbose", action="store_true", help="vLLM's logs and progress bars too")
    args = ap.parse_args()
    quiet_libraries(args.verbose)
    m = thinker_metrics(make_engine(model_path("thinker")), args.per_level, args.budgets)
    levels = [f"L{lv}" for lv in LEVELS]
    print(f"\ntoy thinker, {m['problems_per_level']} problems per level, {m['chains']} chains "
          f"each, temperature {m['temperature']}; accuracy = mean correctness of the chains\n")
    forcing = m["budget_forcing"]
    print("1. budget forcing: accuracy against the thinking budget B")
    print(tabulate([row(b, r) for b, r in forcing["sweep"].items()],
                   headers=["B", *levels, "all", "thinking tokens"]))
    print(f"s1's measures: control {forcing['s1_control']:.2f} (share of chains within B), "
          f"scaling {100 * forcing['s1_scaling_per_token']:.2f} accuracy points per thinking "
          f"token, performance {forcing['s1_performance']:.3f}\n")
    key = next(k for k in m if k.startswith("num_ignore_at_B"))
    generous = key.removeprefix("num_ignore_at_B")
    print(f"2. ignoring ends of thinking (\"Wait\" appended), B={generous}")
    print(tabulate([row(k, r) for k, r in m[key].items()],
                   headers=["num_ignore", *levels, "all", "thinking tokens"]))
    rev = m["revisions"]
    table = [[label, f"{r['acc']:.3f}", f"{r['all']:.3f}", f"{r['tokens_per_problem']:.0f}"]
             for label, r in rev.items() if isinstance(r, dict)]
    print("\n3. sequential revisions vs parallel majority")
    print(tabulate(table, headers=["strategy", "acc (chosen)", "mean sample correctness",
                                   "tokens/problem"]))
    print(f"wrong first attempts fixed by the last revision: {rev['fixed_by_last_revision']}/"
          f"{rev['wrong_first_attempts']}")


if __name__ == "__main__":
    main()
