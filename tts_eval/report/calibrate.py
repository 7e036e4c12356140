"""``tts-eval calibrate RUN... --out calibration.json``: compute-optimal strategy choice.

From finished runs of one model under several strategies, over one set of problems:

1. a seeded split of the problems into a calibration side and an evaluation side (the file
   records the seed and both sides; ``--share 1`` calibrates on every problem given);
2. every setting the runs support: a run of n independent samples yields each k <= n
   (``maj@k`` as majority with n=k, ``best_of@k`` and ``weighted_maj@k`` where a verifier
   read every sample), a search or a revision chain is one setting at what it spent;
3. a difficulty per calibration problem (``--difficulty``: ``oracle`` pass@1 over every
   sampled run, or, needing no gold, the ``agreement`` or mean ``verifier`` score of a
   pilot of ``--pilot`` samples, the first ones of a sampled run), cut into ``--bins``
   bins of about equal size;
4. per bin and budget (FLOPs or tokens per problem, the pilot's included), the setting with
   the best accuracy on the bin's calibration problems.

``--folds F`` reports out-of-fold accuracy: each fold's choices come from the other folds,
so the gain that survives honest selection shows. Problems on the evaluation side are
reported too (choices fitted on the calibration side): the held-out estimate.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tabulate import tabulate

from tts_eval.metrics import ks_for
from tts_eval.report.curves import independent_samples, problem_curves
from tts_eval.report.runs import ProblemResult, Run, RunError, load_run, require_flops
from tts_eval.strategies import STRATEGIES, get_strategy
from tts_eval.strategies.calibration import (
    DIFFICULTIES,
    UNITS,
    Calibration,
    Choice,
    Setting,
    agreement,
    bin_of,
    mean_score,
)

# estimator -> the strategy that realises it at n=k (None: the run's own strategy)
ESTIMATOR_STRATEGY = {"maj@k": None, "best_of@k": "best_of_n",
                      "weighted_maj@k": "weighted_majority"}
VOTES_BY_MAJORITY = ("majority", "budget_forcing")  # maj@k of these is the strategy itself


@dataclass
class Measured:
    """Every setting on every problem: accuracy and cost (P,) per setting."""

    problems: list[tuple[str, int]]  # (task, doc_id)
    settings: list[Setting]
    accuracy: np.ndarray  # (S, P)
    cost: np.ndarray  # (S, P)


def _one_model(runs: list[Run]) -> str:
    models = {str((r.config.get("model_args") or {}).get("pretrained")) for r in runs}
    if len(models) > 1:
        raise RunError(f"the runs use different models ({', '.join(sorted(models))}); a "
                       "calibration chooses strategies for one model: calibrate each apart")
    return models.pop()


def _shared_problems(runs: list[Run], tasks: list[str]) -> list[tuple[str, int]]:
    keys = None
    for run in runs:
        held = {(t, p.doc_id) for t in tasks for p in run.tasks.get(t, [])}
        if not held:
            raise RunError(f"{run.path}: holds none of the tasks {', '.join(tasks)}")
        keys = held if keys is None else keys & held
    if not keys:
        raise RunError("the runs share no problem; run every setting on the same problems")
    return sorted(keys)


def _setting_params(strategy: str, run: Run, n: int) -> dict:
    """``n`` and what the run's user set of what ``strategy`` reads: the arguments that
    reproduce it (defaults stay defaults, a verifier's own step delimiter stays its own)."""
    given = run.config.get("model_args") or {}
    reads = STRATEGIES[strategy].extra_args
    return {"n": n, **{k: v for k, v in given.items() if k in reads}}


def _problems(run: Run, tasks: list[str], keys: list[tuple[str, int]]) -> list[ProblemResult]:
    """The run's results for ``keys`` ((task, doc_id)), in that order."""
    by_key = {(t, p.doc_id): p for t in tasks for p in run.tasks.get(t, [])}
    return [by_key[key] for key in keys]


def _reads(strategy: str, params: dict, verifier: str | None) -> str | None:
    """The run's verifier, if ``strategy`` under ``params`` reads one (revisions does only
    with some ``select``)."""
    return verifier if verifier and get_strategy(strategy, **params).uses_verifier else None


def _verifier(run: Run) -> str | None:
    args = run.config.get("model_args") or {}
    return args.get("verifier")


def measure(runs: list[Run], tasks: list[str], unit: str) -> Measured:
    """Each run's settings, measured on the problems every run holds."""
    keys = _shared_problems(runs, tasks)
    settings: list[Setting] = []
    accuracy, cost = [], []
    column = 1 if unit == "flops" else 0
    for run in runs:
        problems = _problems(run, tasks, keys)
        first = problems[0].record
        if first.budget is not None:
            raise RunError(f"{run.path}: a run under a budget draws a varying number of "
                           "samples; calibrate from fixed-n runs (drop budget_tokens / "
                           "budget_flops)")
        verifier = _verifier(run)
        if not independent_samples(first):
            params = _setting_params(first.strategy, run, int(first.params.get("n") or 1))
            settings.append(Setting(first.strategy, params,
                                    _reads(first.strategy, params, verifier), run.name))
            accuracy.append([float(p.chosen_right) for p in problems])
            cost.append([p.spent[column] for p in problems])
            continue
        curves = problem_curves(problems)
        spent = curves.problem_flops if unit == "flops" else curves.problem_tokens
        for estimator, strategy in ESTIMATOR_STRATEGY.items():
            if estimator not in curves.accuracy:
                continue
            if strategy is None:
                strategy = (first.strategy if first.strategy in VOTES_BY_MAJORITY
                            else "majority")
            for k in ks_for(len(curves.ks)):
                params = _setting_params(strategy, run, k)
                setting = Setting(strategy, params, _reads(strategy, params, verifier),
                                  run.name)
                if any((s.strategy, s.params, s.verifier)
                       == (setting.strategy, setting.params, setting.verifier)
                       for s in settings):
                    continue  # the same setting from another run: the first one counts
                settings.append(setting)
                accuracy.append(curves.accuracy[estimator][:, k - 1])
                cost.append(spent[:, k - 1])
    return Measured(keys, settings, np.array(accuracy, dtype=float),
                    np.array(cost, dtype=float))


def difficulty_values(runs: list[Run], tasks: list[str], keys: list[tuple[str, int]],
                      difficulty: str, pilot: int, unit: str) -> tuple[np.ndarray, np.ndarray,
                                                                      str | None]:
    """Per problem: the difficulty value (higher: easier) and the pilot's cost (0 for
    oracle), and the run the pilot was read from."""
    sampled = [r for r in runs if _independent(r, tasks)]
    if not sampled:
        raise RunError("no run of independent samples (sample, majority, best_of_n, ...): "
                       "difficulty needs one")
    if difficulty == "oracle":
        right = np.zeros(len(keys))
        count = np.zeros(len(keys))
        for run in sampled:
            for i, problem in enumerate(_problems(run, tasks, keys)):
                correct = problem.verdicts[0]
                right[i] += sum(correct)
                count[i] += len(correct)
        return right / count, np.zeros(len(keys)), None
    for run in sampled:
        problems = _problems(run, tasks, keys)
        if min(len(p.record.samples) for p in problems) < pilot:
            continue
        if difficulty == "verifier" and any(s.score is None for p in problems
                                            for s in p.record.samples[:pilot]):
            continue
        if difficulty == "agreement":
            values = [agreement(p.verdicts[1][:pilot]) for p in problems]
        else:
            values = [mean_score([s.score for s in p.record.samples[:pilot]])
                      for p in problems]
        curves = problem_curves(problems)
        spent = curves.problem_flops if unit == "flops" else curves.problem_tokens
        return np.array(values, dtype=float), spent[:, pilot - 1], run.name
    need = " with verifier scores on every sample" if difficulty == "verifier" else ""
    raise RunError(f"no run has {pilot} independent samples per problem{need}, which a "
                   f"pilot of {pilot} needs; lower --pilot or add such a run")


def _independent(run: Run, tasks: list[str]) -> bool:
    records = [p.record for t in tasks for p in run.tasks.get(t, [])]
    return bool(records) and independent_samples(records[0])


@dataclass
class Fit:
    """Choices fitted on some problems: per bin and budget, the best single setting per
    budget (no pilot), and per budget whether the pilot pays for itself there."""

    edges: list[float]
    table: list[list[Choice]]
    single: list[Choice]
    use_pilot: list[bool]


def fit(measured: Measured, values: np.ndarray, pilot_cost: np.ndarray, rows: np.ndarray,
        bins: int, budgets: list[float]) -> Fit:
    """Edges, per-bin choices and the fallback without a pilot, from the problems ``rows``.
    The pilot is used at a budget only where it beats the best single setting on them:
    more accurate, or as accurate for less."""
    edges = quantile_edges(values[rows], bins)
    table = []
    for b in range(1, len(edges) + 2):
        members = rows[[bin_of(values[i], edges) == b for i in rows]]
        chosen_on = members if len(members) else rows
        table.append([_best(measured, chosen_on, pilot_cost, budget) for budget in budgets])
    single = [_best(measured, rows, np.zeros_like(pilot_cost), budget) for budget in budgets]
    binned = _apply_bins(measured, values, pilot_cost, rows, edges, table)
    use_pilot = [choice.setting is None or (round(acc, 9), -cost) > (
                     round(choice.accuracy or 0.0, 9), -(choice.cost or 0.0))
                 for (acc, cost), choice in zip(binned, single, strict=True)]
    return Fit(edges, table, single, use_pilot)


def quantile_edges(values: np.ndarray, bins: int) -> list[float]:
    """Descending edges cutting ``values`` into ``bins`` bins of about equal size (fewer when
    the values take fewer distinct levels than that). Each edge
    lies midway between two distinct neighbouring values, at the break nearest the
    quantile: difficulty values are often discrete (a pilot of 4 agrees 0.25, 0.5, 0.75 or
    1), and an edge on a value would put all its ties on one side by convention."""
    ordered = sorted((float(v) for v in values), reverse=True)
    breaks = [c for c in range(1, len(ordered)) if ordered[c - 1] != ordered[c]]
    edges = []
    for b in range(1, bins):
        if not breaks:  # every problem equally hard: one bin holds them all
            edges.append(ordered[0])
            continue
        wanted = b * len(ordered) / bins
        cut = min(breaks, key=lambda c: (abs(c - wanted), c))
        edges.append((ordered[cut - 1] + ordered[cut]) / 2)
    return sorted(set(edges), reverse=True)  # fewer distinct values: fewer bins


def _best(measured: Measured, members: np.ndarray, pilot_cost: np.ndarray,
          budget: float) -> Choice:
    """The most accurate setting on ``members`` whose mean cost (pilot included) fits
    ``budget``; ties go to the cheaper one."""
    acc = measured.accuracy[:, members].mean(axis=1)
    cost = measured.cost[:, members].mean(axis=1) + pilot_cost[members].mean()
    fitting = [s for s in range(len(measured.settings)) if cost[s] <= budget * (1 + 1e-9)]
    if not fitting:
        return Choice(budget, None)
    best = max(fitting, key=lambda s: (round(acc[s], 9), -cost[s]))  # estimates' float noise
    return Choice(budget, best, float(acc[best]), float(cost[best]))


def _apply_bins(measured: Measured, values: np.ndarray, pilot_cost: np.ndarray,
                rows: np.ndarray, edges: list[float], table: list[list[Choice]]
                ) -> list[tuple[float, float]]:
    """Per budget: accuracy and mean cost on ``rows`` of each problem's bin's choice, its
    pilot included (a bin with no setting at that budget answers nothing: wrong, free)."""
    out = []
    for j in range(len(table[0])):
        right, spent = [], []
        for i in rows:
            choice = table[bin_of(values[i], edges) - 1][j]
            if choice.setting is None:
                right.append(0.0)
                spent.append(0.0)
            else:
                right.append(measured.accuracy[choice.setting, i])
                spent.append(measured.cost[choice.setting, i] + pilot_cost[i])
        out.append((float(np.mean(right)), float(np.mean(spent))))
    return out


def evaluate(measured: Measured, values: np.ndarray, pilot_cost: np.ndarray,
             rows: np.ndarray, fitted: Fit) -> list[tuple[float, float]]:
    """Per budget: accuracy and mean cost on ``rows`` of what ``fitted`` runs there (the
    pilot and the bins' choices, or the single setting)."""
    binned = _apply_bins(measured, values, pilot_cost, rows, fitted.edges, fitted.table)
    single = _measure_choices(measured, rows, fitted.single)
    return [b if use else (acc, cost) for b, use, (acc, cost, _) in
            zip(binned, fitted.use_pilot, single, strict=True)]


def _measure_choices(measured: Measured, rows: np.ndarray, choices: list[Choice]
                     ) -> list[tuple[float, float, int | None]]:
    """Accuracy and mean cost on ``rows`` of one setting per budget (None: wrong, free)."""
    out = []
    for choice in choices:
        s = choice.setting
        out.append((0.0, 0.0, None) if s is None else (
            float(measured.accuracy[s, rows].mean()), float(measured.cost[s, rows].mean()), s))
    return out


def default_budgets(measured: Measured, rows: np.ndarray, pilot_cost: np.ndarray,
                    levels: int = 8) -> list[float]:
    """``levels`` log-spaced budgets from the cheapest setting (its pilot included) to the
    costliest."""
    means = measured.cost[:, rows].mean(axis=1)
    low = float(means.min() + pilot_cost[rows].mean())
    high = float(max(means.max(), low))
    return [float(b) for b in np.geomspace(low, high, levels)]


def split(keys: list[tuple[str, int]], share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded calibration / evaluation rows."""
    order = list(range(len(keys)))
    random.Random(seed).shuffle(order)
    cut = round(share * len(keys))
    return np.array(sorted(order[:cut]), dtype=int), np.array(sorted(order[cut:]), dtype=int)


def folds_of(rows: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    order = list(rows)
    random.Random(seed + 1).shuffle(order)
    return [np.array(sorted(order[f::folds]), dtype=int) for f in range(folds)]


def calibrate(runs: list[Run], tasks: list[str], *, difficulty: str = "agreement",
              pilot: int = 4, bins: int = 5, unit: str = "flops",
              budgets: list[float] | None = None, share: float = 0.5, seed: int = 0,
              folds: int = 0) -> tuple[Calibration, dict]:
    """The calibration file's content, and a report of in-sample, out-of-fold and held-out
    accuracy at each budget."""
    if difficulty not in DIFFICULTIES:
        raise RunError(f"--difficulty {difficulty!r}; valid: {', '.join(DIFFICULTIES)}")
    if unit == "flops":
        for run in runs:
            require_flops(run, tasks)
    model = _one_model(runs)
    measured = measure(runs, tasks, unit)
    values, pilot_cost, pilot_run = difficulty_values(runs, tasks, measured.problems,
                                                      difficulty, pilot, unit)
    cal_rows, eval_rows = split(measured.problems, share, seed)
    if len(cal_rows) < bins:
        raise RunError(f"{len(cal_rows)} calibration problems for {bins} bins; give more "
                       "problems, a larger --share or fewer --bins")
    budgets = sorted(budgets or default_budgets(measured, cal_rows, pilot_cost))
    fitted = fit(measured, values, pilot_cost, cal_rows, bins, budgets)
    report = {"budgets": budgets,
              "in_sample": evaluate(measured, values, pilot_cost, cal_rows, fitted),
              "single_in_sample": _measure_choices(measured, cal_rows, fitted.single)}
    if folds >= 2:
        oof = np.zeros((len(budgets), 2))
        single_oof = np.zeros((len(budgets), 2))
        for held in folds_of(cal_rows, folds, seed):
            fold = fit(measured, values, pilot_cost, np.setdiff1d(cal_rows, held), bins,
                       budgets)
            oof += np.array(evaluate(measured, values, pilot_cost, held, fold)) * len(held)
            single_oof += np.array([(a, c) for a, c, _ in _measure_choices(
                measured, held, fold.single)]) * len(held)
        report["out_of_fold"] = [tuple(map(float, row)) for row in oof / len(cal_rows)]
        report["single_out_of_fold"] = [tuple(map(float, r)) for r in single_oof / len(cal_rows)]
    if len(eval_rows):
        report["held_out"] = evaluate(measured, values, pilot_cost, eval_rows, fitted)
        report["single_held_out"] = _measure_choices(measured, eval_rows, fitted.single)
    edges = fitted.edges
    sizes = [int(sum(bin_of(values[i], edges) == b for i in cal_rows)) for b in
             range(1, len(edges) + 2)]
    side = {"calibration": cal_rows, "evaluation": eval_rows}
    calibration = Calibration(
        unit=unit, difficulty=difficulty, edges=edges, settings=measured.settings,
        table=fitted.table, single=fitted.single, use_pilot=fitted.use_pilot, model=model,
        pilot={} if difficulty == "oracle" else {
            "n": pilot, "run": pilot_run, "cost": float(pilot_cost[cal_rows].mean()),
            "aggregate": _aggregate(runs, pilot_run)},
        split={"seed": seed, "share": share, **{
            name: _by_task([measured.problems[i] for i in rows], tasks) for name, rows in
            side.items()}},
        extra={"bin_sizes": sizes, "tasks": tasks,
               **{k: v for k, v in report.items() if k != "budgets"}},
    )
    return calibration, report


def _aggregate(runs: list[Run], name: str | None) -> str | None:
    """How the pilot run turned step scores into a sample's score (verifier difficulty)."""
    for run in runs:
        if run.name == name:
            return (run.config.get("model_args") or {}).get("aggregate")
    return None


def _by_task(keys: list[tuple[str, int]], tasks: list[str]) -> dict[str, list[int]]:
    """Document ids per task, every task named (lm_eval's ``--samples`` runs a task it does
    not name in full)."""
    out: dict[str, list[int]] = {task: [] for task in tasks}
    for task, doc_id in keys:
        out[task].append(doc_id)
    return out


def markdown(calibration: Calibration, report: dict) -> str:
    """The choice per bin and budget, then accuracy at each budget: compute-optimal against
    the best single setting, in sample, out of fold and held out."""
    unit = calibration.unit
    fmt = "{:.3e}" if unit == "flops" else "{:.0f}"
    head = [f"budget ({unit}/problem)",
            *[f"bin {b} ({n} problems)" for b, n in
              enumerate(calibration.extra["bin_sizes"], 1)], "no pilot: one setting",
            "pilot pays"]
    rows = []
    for j, budget in enumerate(calibration.budgets):
        cells = [_cell(calibration, row[j]) for row in calibration.table]
        rows.append([fmt.format(budget), *cells, _cell(calibration, calibration.single[j]),
                     "yes" if calibration.use_pilot[j] else "no"])
    parts = [f"difficulty: {calibration.difficulty} (bin 1 easiest; edges "
             f"{', '.join(f'{e:.3g}' for e in calibration.edges)})",
             tabulate(rows, headers=head, tablefmt="github", disable_numparse=True)]
    columns = [("in_sample", "compute-optimal"), ("single_in_sample", "best single"),
               ("out_of_fold", "compute-optimal, out of fold"),
               ("single_out_of_fold", "best single, out of fold"),
               ("held_out", "compute-optimal, held out"),
               ("single_held_out", "best single, held out")]
    present = [(key, name) for key, name in columns if key in report]
    rows = [[fmt.format(budget), *[f"{100 * report[key][j][0]:.1f}% at "
                                   f"{fmt.format(report[key][j][1])}"
                                   for key, _ in present]]
            for j, budget in enumerate(report["budgets"])]
    parts.append(tabulate(rows, headers=["budget", *[name for _, name in present]],
                          tablefmt="github", disable_numparse=True))
    return "\n\n".join(parts) + "\n"


def _cell(calibration: Calibration, choice: Choice) -> str:
    if choice.setting is None:
        return "-"
    return f"{calibration.settings[choice.setting].label} {100 * choice.accuracy:.0f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tts-eval calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="lm-eval --output_path folders (--log_samples)"
                        " of one model under several strategies, on the same problems")
    parser.add_argument("--out", type=Path, required=True, help="the calibration file")
    parser.add_argument("--task", action="append", help="only this task (repeatable; "
                        "default: every task the runs share, pooled)")
    parser.add_argument("--difficulty", choices=DIFFICULTIES, default="agreement",
                        help="how problems are binned (default agreement: no gold needed)")
    parser.add_argument("--pilot", type=int, default=4,
                        help="pilot samples for agreement / verifier difficulty (default 4)")
    parser.add_argument("--bins", type=int, default=5, help="difficulty bins (default 5)")
    parser.add_argument("--unit", choices=UNITS, default="flops",
                        help="what budgets count (default flops)")
    parser.add_argument("--budgets", help="comma-separated budgets per problem (default: 8 "
                        "log-spaced from the cheapest setting to the costliest)")
    parser.add_argument("--share", type=float, default=0.5, help="share of the problems on "
                        "the calibration side (default 0.5; 1: every problem)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and folds")
    parser.add_argument("--folds", type=int, default=0,
                        help="report out-of-fold accuracy over this many folds (>= 2)")
    args = parser.parse_args(argv)
    problem = _check_args(args)
    if problem:
        print(f"tts-eval calibrate: {problem}", file=sys.stderr)
        return 2
    try:
        runs = [load_run(path) for path in args.runs]
        tasks = args.task or sorted(set.intersection(*(set(r.tasks) for r in runs)))
        if not tasks:
            raise RunError("the runs share no task")
        budgets = [float(b) for b in args.budgets.split(",")] if args.budgets else None
        calibration, report = calibrate(
            runs, tasks, difficulty=args.difficulty, pilot=args.pilot, bins=args.bins,
            unit=args.unit, budgets=budgets, share=args.share, seed=args.seed,
            folds=args.folds)
    except (RunError, ValueError) as exc:
        print(f"tts-eval calibrate: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    calibration.save(args.out)
    samples = args.out.with_suffix(".eval_samples.json")
    samples.write_text(json.dumps(calibration.split["evaluation"]) + "\n")
    print(markdown(calibration, report))
    print(f"wrote {args.out}; the evaluation side as lm_eval --samples: {samples}")
    if args.difficulty == "oracle":
        print("oracle bins need gold answers: strategy=adaptive refuses this file (an upper "
              "bound for benchmarks); calibrate with --difficulty agreement to run it")
    return 0


def _check_args(args: argparse.Namespace) -> str | None:
    if not 0 < args.share <= 1:
        return f"--share {args.share} must be in (0, 1]"
    if args.bins < 1:
        return f"--bins {args.bins} must be >= 1"
    if args.pilot < 1:
        return f"--pilot {args.pilot} must be >= 1"
    if args.folds == 1 or args.folds < 0:
        return f"--folds {args.folds}: give 0 (none) or at least 2"
    return None


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["calibrate", "main", "markdown", "measure"]
