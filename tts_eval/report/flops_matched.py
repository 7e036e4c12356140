"""``tts-eval match RUN_A RUN_B ...``: compare runs at equal FLOPs per problem.

For each task the runs share, it prints each run's scaling curve (accuracy and cost at
k = 1, 2, 4, ... samples, subsampled from its N), the accuracy each run reaches within
the same FLOPs per problem, and for every pair the break-even point: how many times a
costlier run's single-sample FLOPs the cheaper run needs to match its accuracy (the
comparison of Snell et al. 2024 and Wu et al. 2024).
"""

from __future__ import annotations

import argparse
import itertools
import sys

from tabulate import tabulate

from tts_eval.report.curves import CurvePoint, accuracy_at, break_even, run_curve
from tts_eval.report.runs import Run, RunError, load_run, require_flops


def _fmt_acc(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def curves_table(names: list[str], curves: list[list[CurvePoint]]) -> str:
    rows = [[name, p.k, f"{p.flops:.3e}", f"{p.tokens:.0f}", _fmt_acc(p.accuracy)]
            for name, curve in zip(names, curves, strict=True) for p in curve]
    return tabulate(rows, headers=["run", "k", "FLOPs/problem", "tokens/problem", "acc %"],
                    disable_numparse=True)


def equal_flops_table(names: list[str], curves: list[list[CurvePoint]]) -> str:
    levels = sorted({p.flops for curve in curves for p in curve})
    rows = [[f"{level:.3e}", *(_fmt_acc(accuracy_at(c, level)) for c in curves)]
            for level in levels]
    return tabulate(rows, headers=["FLOPs/problem <=", *(f"{n} acc %" for n in names)],
                    disable_numparse=True)


def break_even_table(names: list[str], curves: list[list[CurvePoint]]) -> str:
    rows = []
    for (a, ca), (b, cb) in itertools.combinations(zip(names, curves, strict=True), 2):
        (cheap, cheap_curve), (costly, costly_curve) = sorted(
            [(a, ca), (b, cb)], key=lambda item: item[1][0].flops)
        found = break_even(cheap_curve, costly_curve)
        target = _fmt_acc(costly_curve[0].accuracy)
        if found is None:
            best = max(p.accuracy for p in cheap_curve)
            rows.append([cheap, costly, target, "never", f"best {_fmt_acc(best)} %", "-"])
        else:
            point, ratio = found
            rows.append([cheap, costly, target, point.k, _fmt_acc(point.accuracy),
                         f"{ratio:.2f}x"])
    return tabulate(rows, headers=["cheaper run", "costlier run", "its k=1 acc %",
                                   "k to match", "acc %", "FLOPs ratio"], disable_numparse=True)


def _names(runs: list[Run]) -> list[str]:
    names = [r.name for r in runs]
    if len(set(names)) < len(names):
        names = [str(r.path) for r in runs]
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tts-eval match",
        description="Compare finished runs at equal FLOPs per problem: each run's scaling "
                    "curve, the accuracy each reaches within the same FLOPs, and the "
                    "break-even FLOPs ratio of every pair.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="lm-eval --output_path folders, run with --log_samples")
    parser.add_argument("--task", action="append", metavar="TASK",
                        help="only this task (repeatable; default: every task the runs share)")
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        print("tts-eval match: give at least two runs to compare", file=sys.stderr)
        return 2
    try:
        runs = [load_run(path) for path in args.runs]
    except RunError as exc:
        print(f"tts-eval match: {exc}", file=sys.stderr)
        return 2
    shared = set.intersection(*(set(r.tasks) for r in runs))
    tasks = sorted(shared & set(args.task)) if args.task else sorted(shared)
    if not tasks:
        print("tts-eval match: the runs share no task"
              + (f" among {', '.join(args.task)}" if args.task else ""), file=sys.stderr)
        return 2
    try:
        for run in runs:
            require_flops(run, tasks)
    except RunError as exc:
        print(f"tts-eval match: {exc}", file=sys.stderr)
        return 2
    names = _names(runs)
    for task in tasks:
        curves = [run_curve(r.tasks[task]) for r in runs]
        print(f"\n== {task} ==\n")
        print(curves_table(names, curves), end="\n\n")
        print(equal_flops_table(names, curves), end="\n\n")
        print(break_even_table(names, curves))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
