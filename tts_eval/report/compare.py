"""``tts-eval compare BASELINE CANDIDATE``: did a change make the model worse? (a CI gate)

Both runs answered the same problems, so the comparison is paired, problem by problem:
only the discordant problems (right in one run, wrong in the other) carry evidence, which
is what McNemar's exact test reads (a binomial test of the discordant problems against an
even split). Beside it: a paired bootstrap interval for the accuracy difference (problems
resampled, both runs' verdicts on a problem kept together), the smallest difference the
number of problems could detect at 80% power, and what each run spent per problem.

Verdict, per task: a **regression** when the candidate is significantly worse (McNemar,
two-sided, p < alpha, with more problems lost than won) *and* worse by more than the margin
(an accuracy drop of at least ``margin``, so a significant but negligible change on a large
set does not fail a build). Exit 0: no regression shown; 1: a regression; 2: the runs cannot
be compared (a task in one run only, different problems, documents, prompts or samples per
problem), naming the difference. The Markdown summary is fit for a pull-request comment.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from tts_eval.report.curves import bootstrap_interval
from tts_eval.report.runs import ProblemResult, Run, RunError, load_run

EXIT_OK, EXIT_REGRESSION, EXIT_INCOMPARABLE = 0, 1, 2
POWER = 0.8  # for the smallest detectable difference
BOOTSTRAP_RESAMPLES = 2000  # of problems, for the interval of the accuracy change


def mcnemar_exact(lost: int, won: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (problems only the
    baseline got right, problems only the candidate got right)."""
    n = lost + won
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(lost, won) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def detectable_difference(problems: int, discordant_share: float, alpha: float,
                          power: float = POWER) -> float:
    """The smallest accuracy difference McNemar's test finds with ``power`` at ``alpha``
    on this many problems, given how often the runs disagree (at least one problem in n:
    two identical runs still could not tell a one-problem change)."""
    z = NormalDist().inv_cdf
    share = max(discordant_share, 1 / problems)
    return (z(1 - alpha / 2) + z(power)) * math.sqrt(share / problems)


def _interval(differences: list[float], alpha: float) -> tuple[float, float]:
    """Paired bootstrap: problems resampled, each keeping both runs' verdicts."""
    low, high = bootstrap_interval(np.array(differences)[:, None], alpha, BOOTSTRAP_RESAMPLES)
    return float(low[0]), float(high[0])


@dataclass(frozen=True)
class TaskComparison:
    task: str
    problems: int = 0
    baseline_accuracy: float = 0.0
    candidate_accuracy: float = 0.0
    interval: tuple[float, float] = (0.0, 0.0)  # of candidate - baseline
    lost: int = 0  # right in the baseline only
    won: int = 0  # right in the candidate only
    p_value: float = 1.0
    detectable: float = 0.0
    tokens: tuple[float, float] = (0.0, 0.0)  # mean per problem: baseline, candidate
    flops: tuple[float, float] = (0.0, 0.0)
    regression: bool = False
    incomparable: str | None = None  # why the runs cannot be compared on this task

    @property
    def difference(self) -> float:
        return self.candidate_accuracy - self.baseline_accuracy


def why_incomparable(baseline: list[ProblemResult], candidate: list[ProblemResult]) -> str | None:
    """What differs between the two runs of one task that makes a paired comparison
    meaningless, or None."""
    base = {p.doc_id: p for p in baseline}
    cand = {p.doc_id: p for p in candidate}
    if base.keys() != cand.keys():
        return (f"different problems: baseline {len(base)}, candidate {len(cand)}, "
                f"{len(base.keys() & cand.keys())} shared (run both with the same --limit)")
    for doc_id in sorted(base):
        b, c = base[doc_id], cand[doc_id]
        if b.doc_hash and c.doc_hash and b.doc_hash != c.doc_hash:
            return f"different dataset: document {doc_id} differs (another data file or version)"
        if b.prompt_hash and c.prompt_hash and b.prompt_hash != c.prompt_hash:
            return (f"different prompt for document {doc_id} (another chat template, system "
                    "instruction or few-shot setting)")
        n_b, n_c = b.record.params.get("n"), c.record.params.get("n")
        if n_b != n_c:
            return f"different samples per problem: n={n_b} against n={n_c}"
    return None


def compare_task(task: str, baseline: list[ProblemResult], candidate: list[ProblemResult],
                 margin: float, alpha: float) -> TaskComparison:
    why = why_incomparable(baseline, candidate)
    if why is not None:
        return TaskComparison(task, incomparable=why)
    cand = {p.doc_id: p for p in candidate}
    pairs = [(p, cand[p.doc_id]) for p in sorted(baseline, key=lambda p: p.doc_id)]
    right = [(b.chosen_right, c.chosen_right) for b, c in pairs]
    n = len(pairs)
    lost = sum(b and not c for b, c in right)
    won = sum(c and not b for b, c in right)
    base_acc = sum(b for b, _ in right) / n
    cand_acc = sum(c for _, c in right) / n
    p_value = mcnemar_exact(lost, won)
    costs = [(b.spent, c.spent) for b, c in pairs]
    regression = p_value < alpha and lost > won and base_acc - cand_acc >= margin
    return TaskComparison(
        task, n, base_acc, cand_acc,
        _interval([float(c) - float(b) for b, c in right], alpha),
        lost, won, p_value, detectable_difference(n, (lost + won) / n, alpha),
        (sum(b[0] for b, _ in costs) / n, sum(c[0] for _, c in costs) / n),
        (sum(b[1] for b, _ in costs) / n, sum(c[1] for _, c in costs) / n),
        regression)


def compare_runs(baseline: Run, candidate: Run, tasks: list[str] | None = None,
                 margin: float = 0.02, alpha: float = 0.05) -> list[TaskComparison]:
    """One comparison per task (``tasks``, else every task either run holds)."""
    names = tasks or sorted(baseline.tasks.keys() | candidate.tasks.keys())
    out = []
    for task in names:
        missing = [name for name, run in (("baseline", baseline), ("candidate", candidate))
                   if task not in run.tasks]
        if missing:
            out.append(TaskComparison(task, incomparable=f"task not in the {' or '.join(missing)}"
                                                         " run"))
            continue
        out.append(compare_task(task, baseline.tasks[task], candidate.tasks[task], margin, alpha))
    return out


def exit_code(comparisons: list[TaskComparison]) -> int:
    if any(c.incomparable for c in comparisons):
        return EXIT_INCOMPARABLE
    return EXIT_REGRESSION if any(c.regression for c in comparisons) else EXIT_OK


def _percent(x: float) -> str:
    return f"{100 * x:.1f}"


def _change(before: float, after: float) -> str:
    if math.isnan(before) or math.isnan(after):  # FLOPs of a run without a model config
        return "unknown"
    if before == 0:
        return f"{after:.3g}"
    return f"{after:.3g} ({after / before:.2f}x)"


def markdown(comparisons: list[TaskComparison], baseline: str, candidate: str,
             margin: float, alpha: float) -> str:
    """The summary for a pull-request comment."""
    verdict = {EXIT_OK: "no regression shown", EXIT_REGRESSION: "REGRESSION",
               EXIT_INCOMPARABLE: "runs not comparable"}[exit_code(comparisons)]
    lines = [f"## tts-eval compare: {verdict}", "",
             f"Baseline `{baseline}`, candidate `{candidate}`; regression = McNemar exact "
             f"p < {alpha} and an accuracy drop of at least {_percent(margin)} points.", "",
             "| task | problems | baseline % | candidate % | change (CI) | lost / won | "
             "McNemar p | detectable | tokens / problem | FLOPs / problem | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    level = f"{100 * (1 - alpha):g}"
    for c in comparisons:
        if c.incomparable:
            lines.append(f"| {c.task} | | | | | | | | | | not comparable: {c.incomparable} |")
            continue
        low, high = c.interval
        lines.append(
            f"| {c.task} | {c.problems} | {_percent(c.baseline_accuracy)} | "
            f"{_percent(c.candidate_accuracy)} | {100 * c.difference:+.1f} "
            f"({level}%: {100 * low:+.1f} to {100 * high:+.1f}) | {c.lost} / {c.won} | "
            f"{c.p_value:.3g} | ±{_percent(c.detectable)} | {_change(*c.tokens)} | "
            f"{_change(*c.flops)} | {'**regression**' if c.regression else 'ok'} |")
    lines += ["", "*lost / won*: problems only the baseline / only the candidate got right. "
              "*detectable*: the smallest change these problems could show at 80% power."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tts-eval compare", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", help="lm-eval --output_path folder of the baseline run")
    parser.add_argument("candidate", help="lm-eval --output_path folder of the candidate run")
    parser.add_argument("--task", action="append", help="compare only this task (repeatable)")
    parser.add_argument("--margin", type=float, default=0.02,
                        help="accuracy drop a regression must reach (default 0.02)")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="significance level of McNemar's test (default 0.05)")
    parser.add_argument("--out", type=Path, help="also write the Markdown summary here")
    args = parser.parse_args(argv)
    if not 0 < args.alpha < 1 or not 0 <= args.margin < 1:
        parser.error("--alpha must be in (0, 1) and --margin in [0, 1)")
    try:
        baseline, candidate = load_run(args.baseline), load_run(args.candidate)
    except RunError as exc:
        print(f"tts-eval compare: {exc}", file=sys.stderr)
        return EXIT_INCOMPARABLE
    comparisons = compare_runs(baseline, candidate, args.task, args.margin, args.alpha)
    summary = markdown(comparisons, args.baseline, args.candidate, args.margin, args.alpha)
    print(summary, end="")
    if args.out:
        args.out.write_text(summary)
    return exit_code(comparisons)


if __name__ == "__main__":
    raise SystemExit(main())
