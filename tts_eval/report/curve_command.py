"""``tts-eval curve RUN... [--task T] [--x tokens|flops] [--out DIR]``: scaling curves with
intervals, and the Pareto frontier across runs.

For each task, every estimator each run's records support (pass@k, maj@k, and best-of-k /
weighted maj@k where a verifier scored every sample; a search is one point) at every
k <= N, with 95% bootstrap intervals over problems, against tokens and FLOPs per problem
(generator + verifier). Writes ``curve_<task>.csv`` (every k), ``curve_<task>.md`` and a
log-x plot (``.png``, ``.svg``) per task; prints the Markdown. Budget-forcing runs of a
sweep of ``max_thinking_tokens`` also get s1's control / scaling / performance.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import asdict, fields
from pathlib import Path

from tabulate import tabulate

from tts_eval.metrics import ks_for
from tts_eval.metrics.budget_control import BudgetPoint, control, performance, scaling
from tts_eval.report.curves import EstimatePoint, estimate_points, mark_pareto
from tts_eval.report.runs import Run, RunError, load_run, require_flops


def task_points(runs: list[Run], task: str, x: str, alpha: float = 0.05) -> list[EstimatePoint]:
    points = [point for run in runs if task in run.tasks
              for point in estimate_points(run.name, task, run.tasks[task], alpha)]
    return mark_pareto(points, x)


def markdown(points: list[EstimatePoint]) -> str:
    """The table at k = 1, 2, 4, ..., N (the CSV has every k), frontier points marked."""
    largest: dict[tuple[str, str], int] = {}
    for p in points:
        largest[p.run, p.estimator] = max(p.k, largest.get((p.run, p.estimator), 0))
    rows = []
    for p in points:
        if p.k in ks_for(largest[p.run, p.estimator]) or p.pareto:
            rows.append([p.run, p.estimator, p.k,
                         f"{100 * p.accuracy:.1f} ({100 * p.low:.1f}-{100 * p.high:.1f})",
                         f"{p.tokens:.0f}", f"{p.flops:.3e}", "yes" if p.pareto else ""])
    return tabulate(rows, headers=["run", "estimator", "k", "acc % (95% CI)",
                                   "tokens/problem", "FLOPs/problem", "Pareto"],
                    tablefmt="github", disable_numparse=True)


def budget_points(runs: list[Run], task: str) -> list[BudgetPoint]:
    """One point per budget-forcing run of ``task``: its cap B, every chain's thinking
    tokens (from its rounds) and its accuracy."""
    points = []
    for run in runs:
        problems = run.tasks.get(task, [])
        records = [p.record for p in problems]
        if not records or any(r.strategy != "budget_forcing" for r in records):
            continue
        budget = records[0].params.get("max_thinking_tokens") or records[0].params["max_tokens"]
        thinking = [max((r.get("thinking", 0) for r in s.rounds or []), default=0)
                    for r in records for s in r.samples]
        accuracy = sum(p.chosen_right for p in problems) / len(problems)
        points.append(BudgetPoint(int(budget), thinking, accuracy))
    return sorted(points, key=lambda p: p.budget)


def budget_markdown(points: list[BudgetPoint]) -> str:
    """The sweep and s1's three measures (Muennighoff et al. 2025)."""
    table = tabulate([[p.budget, f"{100 * p.accuracy:.1f}", f"{p.mean_thinking:.1f}",
                       max(p.thinking_tokens, default=0)] for p in points],
                     headers=["B (max_thinking_tokens)", "acc %", "mean thinking tokens",
                              "max thinking tokens"], tablefmt="github")
    slope = scaling(points)
    return (f"{table}\n\ns1's measures: control {control(points):.3f} (share of chains "
            f"within B), scaling {'n/a' if slope is None else f'{100 * slope:.3f}'} accuracy "
            f"points per thinking token, performance {100 * performance(points):.1f}%")


def write_csv(points: list[EstimatePoint], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(EstimatePoint)])
        writer.writeheader()
        writer.writerows(asdict(p) for p in points)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tts-eval curve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="lm-eval --output_path folders (--log_samples)")
    parser.add_argument("--task", action="append", help="only this task (repeatable)")
    parser.add_argument("--x", choices=("flops", "tokens"), default="flops",
                        help="cost axis of the plot and the frontier (default flops)")
    parser.add_argument("--out", type=Path, help="write CSV, Markdown and plots here")
    args = parser.parse_args(argv)
    try:
        runs = [load_run(path) for path in args.runs]
    except RunError as exc:
        print(f"tts-eval curve: {exc}", file=sys.stderr)
        return 2
    try:
        if args.x == "flops":
            runs = [require_flops(run, args.task) for run in runs]
    except RunError as exc:
        print(f"tts-eval curve: {exc} (or plot against --x tokens)", file=sys.stderr)
        return 2
    tasks = args.task or sorted({task for run in runs for task in run.tasks})
    missing = [t for t in tasks if not any(t in run.tasks for run in runs)]
    if missing:
        print(f"tts-eval curve: no run holds task {missing[0]!r}; tasks: "
              f"{', '.join(sorted({t for r in runs for t in r.tasks}))}", file=sys.stderr)
        return 2
    for task in tasks:
        points = task_points(runs, task, args.x)
        table = markdown(points)
        sweep = budget_points(runs, task)
        if sweep:
            table += "\n\n### budget forcing\n\n" + budget_markdown(sweep)
        print(f"## {task}\n\n{table}\n")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            write_csv(points, args.out / f"curve_{task}.csv")
            (args.out / f"curve_{task}.md").write_text(f"## {task}\n\n{table}\n")
            from tts_eval.report.plots import plot_estimates

            plot_estimates(points, args.out / f"curve_{task}", args.x, task)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
