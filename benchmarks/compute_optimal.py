"""Compute-optimal test-time scaling on the toy world (Snell et al. 2024), honestly charged.

The medium toy generator runs greedy, majority@16, best-of-16 (toy PRM), and beam search
at n=4 and n=16 on the same arith_tts problems (``--per-level`` per level). ``calibrate``
splits them in half (seeded): on the calibration half it chooses, per difficulty bin and
FLOPs budget, the best setting; on the held-out half this prints, at each budget:

1. compute-optimal with oracle bins (pass@1 from the samples' gold: Snell et al.'s
   setting, an upper bound nobody can run), with predicted bins (the agreement of a
   4-sample pilot, the pilot's FLOPs charged), and the best single setting (chosen on the
   calibration half), all simulated from the runs;
2. ``strategy=adaptive`` run for real through lm-eval on the held-out half at the
   larger budgets: its accuracy and FLOPs, against the best single setting that spends no
   more on the same problems;
3. Snell et al.'s other comparison: the small model's majority@k against the large
   model's greedy answer (and its one sampled answer), per level: the k at which the
   small model matches it and that many samples' FLOPs as a multiple of the large model's
   (``tts-eval match`` does the same from any two runs).

    python benchmarks/compute_optimal.py [--per-level 40] [--out runs/compute_optimal] [--reuse]

About 10 minutes on 2 cores at the defaults.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from tts_eval.console import quiet_libraries
from tts_eval.harness.evaluate import evaluate
from tts_eval.harness.model import TTSVLLM
from tts_eval.report.calibrate import calibrate, markdown, measure
from tts_eval.report.curves import break_even, run_curve
from tts_eval.report.runs import Run, load_run
from tts_eval.toy import model_path
from tts_eval.toy.evaluate import make_engine
from tts_eval.toy.problems import LEVELS

TASKS = [f"arith_tts_l{level}" for level in LEVELS]
SAMPLING = {"max_gen_toks": 160, "temperature": 0.8, "seed": 0}


class Runner:
    """Runs on one engine per model; every run that reads the toy PRM shares one."""

    def __init__(self, out: Path, samples: dict[str, list[int]], reuse: bool) -> None:
        self.out, self.samples, self.reuse, self.verifier = out, samples, reuse, None

    def run(self, engine, model: str, name: str, samples=None, **args) -> Run:
        if self.reuse and any((self.out / name).rglob("results_*.json")):
            return load_run(self.out / name)
        model_args = {"pretrained": str(model_path(model)), **SAMPLING, **args}
        lm = TTSVLLM(engine=engine, **model_args)
        if lm.verifier is not None:  # one PRM engine for every run (it starts on first use)
            self.verifier = self.verifier or lm.verifier
            lm.verifier = self.verifier
        began = time.perf_counter()
        evaluate(lm, model_args, TASKS, self.out / name, samples=samples or self.samples)
        print(f"  {name}: {time.perf_counter() - began:.0f} s", flush=True)
        return load_run(self.out / name)


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-level", type=int, default=40)
    ap.add_argument("--out", type=Path, default=Path("runs/compute_optimal"))
    ap.add_argument("--reuse", action="store_true",
                    help="read the runs already in --out instead of running them again")
    ap.add_argument("--verbose", action="store_true", help="vLLM's logs and progress bars too")
    args = ap.parse_args()
    quiet_libraries(args.verbose)
    every = {task: list(range(args.per_level)) for task in TASKS}
    runner = Runner(args.out, every, args.reuse)

    print(f"1. the medium model's settings on {len(TASKS) * args.per_level} problems")
    medium = make_engine(model_path("medium"))
    prm = {"verifier": "toy-prm"}
    runs = [runner.run(medium, "medium", "greedy", strategy="greedy"),
            runner.run(medium, "medium", "majority16", strategy="majority", n=16),
            runner.run(medium, "medium", "best_of_n16", strategy="best_of_n", n=16, **prm),
            runner.run(medium, "medium", "beam4", strategy="beam_search", n=4,
                       beam_width=2, **prm),
            runner.run(medium, "medium", "beam16", strategy="beam_search", n=16,
                       beam_width=4, **prm)]
    predicted, report = calibrate(runs, TASKS, difficulty="agreement", folds=2)
    oracle, oracle_report = calibrate(runs, TASKS, difficulty="oracle", folds=2,
                                      budgets=predicted.budgets)
    predicted.save(args.out / "calibration.json")
    print("\ncalibration, predicted bins (pilot agreement):\n")
    print(markdown(predicted, report))
    print("calibration, oracle bins (pass@1):\n")
    print(markdown(oracle, oracle_report))

    rows = []
    for j, budget in enumerate(report["budgets"]):
        rows.append([f"{budget:.3e}",
                     *(f"{_percent(r[j][0])} at {r[j][1]:.3e}" for r in (
                         oracle_report["held_out"], report["held_out"],
                         report["single_held_out"]))])
    print("held-out half, simulated from the runs (accuracy at mean FLOPs per problem):\n")
    print(tabulate(rows, headers=["budget", "compute-optimal, oracle bins",
                                  "compute-optimal, predicted bins (pilot charged)",
                                  "best single setting"], tablefmt="github"))

    print("\n2. strategy=adaptive for real on the held-out half")
    measured = measure(runs, TASKS, "flops")
    held = [measured.problems.index((t, d)) for t, ids in
            predicted.split["evaluation"].items() for d in ids]
    real = []
    for budget in predicted.budgets[-3:]:
        run = runner.run(medium, "medium", f"adaptive-{budget:.2e}",
                         samples=predicted.split["evaluation"], strategy="adaptive",
                         calibration=str(args.out / "calibration.json"), budget_flops=budget,
                         **prm)
        problems = [p for task in TASKS for p in run.tasks[task]]
        accuracy = float(np.mean([p.chosen_right for p in problems]))
        flops = float(np.mean([p.spent[1] for p in problems]))
        spent = measured.cost[:, held].mean(axis=1)
        fitting = [s for s in range(len(measured.settings)) if spent[s] <= flops]
        best = max(fitting, key=lambda s: measured.accuracy[s, held].mean(), default=None)
        settings = sorted({p.record.extra["adaptive"]["setting"] for p in problems})
        real.append([f"{budget:.3e}", _percent(accuracy), f"{flops:.3e}",
                     "-" if best is None else
                     f"{measured.settings[best].label} "
                     f"{_percent(measured.accuracy[best, held].mean())} at {spent[best]:.3e}",
                     ", ".join(settings)])
    print(tabulate(real, headers=["budget", "adaptive acc", "adaptive FLOPs/problem",
                                  "best single within those FLOPs", "settings it ran"],
                   tablefmt="github"))
    medium.close()

    print("\n3. small model + majority@k against the large model's greedy answer, per level")
    small = make_engine(model_path("small"))
    small_run = runner.run(small, "small", "small-majority16", strategy="majority", n=16)
    small.close()
    large = make_engine(model_path("large"))
    large_greedy = runner.run(large, "large", "large-greedy", strategy="greedy")
    large_sample = runner.run(large, "large", "large-majority4", strategy="majority", n=4)
    large.close()
    rows = []
    for task in TASKS:
        cheap = run_curve(small_run.tasks[task])
        row = [task, _percent(cheap[0].accuracy), _percent(cheap[-1].accuracy)]
        for costly in (run_curve(large_greedy.tasks[task]),
                       run_curve(large_sample.tasks[task])[:1]):
            even = break_even(cheap, costly)
            row += [_percent(costly[0].accuracy),
                    "never (k<=16)" if even is None else f"k={even[0].k}: {even[1]:.2f}x"]
        rows.append(row)
    print(tabulate(rows, headers=["level", "small maj@1", "small maj@16", "large greedy",
                                  "small matches it at (FLOPs ratio)", "large one sample",
                                  "small matches it at"], tablefmt="github"))
    print("(the toy models' greedy answers are weak, so the large model's one sampled answer "
          "at temperature 0.8 is the fairer reference)")


if __name__ == "__main__":
    main()
