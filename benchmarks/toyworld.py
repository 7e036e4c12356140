"""The papers' qualitative findings, reproduced on the toy world in one run, as numbers.

1. Majority voting over 16 samples beats greedy decoding by a clear margin (Wang et al.
   2022; Wu et al. 2024), for every bundled model.
2. At equal FLOPs per problem, the smallest model with more samples beats the largest
   model on easy levels but not on the hardest (Snell et al. 2024, Wu et al. 2024:
   test-time compute substitutes for parameters on easy problems only). The budget is the
   cost of one sample of the largest model; each model uses its best strategy within it.
3. The PRM's scores separate correct from incorrect solutions (AUROC well above 0.5).

    python benchmarks/toyworld.py [--runs DIR] [--per-level 100]

Without --runs it first runs ``tts-eval demo`` into DIR (default runs/toyworld).
Prints numbers; asserts nothing (targets belong here, not in unit tests).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def prm_auroc(runs_dir: Path, model_run: str, limit: int = 800) -> tuple[float, int, int]:
    """Score the run's sampled solutions with the bundled PRM; AUROC of the min step score."""
    from tts_eval.metrics import auroc, sample_correctness
    from tts_eval.report.runs import load_run
    from tts_eval.toy import model_path
    from tts_eval.toy.evaluate import make_scorer, prm_step_scores

    run = load_run(runs_dir / model_run)
    problems, solutions, labels = [], [], []
    for results in run.tasks.values():
        for problem in results:
            samples = problem.record.samples
            correct = sample_correctness([s.answer for s in samples], problem.gold, "math")
            for sample, ok in zip(samples, correct, strict=True):
                problems.append(problem.doc)
                solutions.append(sample.text)
                labels.append(ok)
    problems, solutions, labels = problems[:limit], solutions[:limit], labels[:limit]
    scores = prm_step_scores(make_scorer(model_path("prm")), problems, solutions)
    final = [min(steps) if steps else 0.0 for steps in scores]
    return auroc(final, labels), sum(labels), len(labels) - sum(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", help="a finished `tts-eval demo --out` folder to read")
    parser.add_argument("--per-level", type=int, default=100)
    args = parser.parse_args()

    from tts_eval.report.curves import accuracy_at, run_curve
    from tts_eval.report.runs import load_run
    from tts_eval.report.tables import pooled, row_for

    out = Path(args.runs or "runs/toyworld")
    if not args.runs:
        from tts_eval.demo import main as demo

        demo(["--out", str(out), "--per-level", str(args.per_level)])
    runs = {p.name: load_run(p) for p in sorted((out / "runs").iterdir()) if p.is_dir()}
    models = sorted({name.rsplit("-", 1)[0] for name in runs},
                    key=lambda m: ["small", "medium", "large"].index(m)
                    if m in ("small", "medium", "large") else 9)

    print("\n1. majority@16 vs greedy (accuracy %, all levels)")
    for model in models:
        greedy = row_for(runs[f"{model}-greedy"], "arith_tts",
                         pooled(runs[f"{model}-greedy"], "arith_tts_l"))
        major = row_for(runs[f"{model}-majority16"], "arith_tts",
                        pooled(runs[f"{model}-majority16"], "arith_tts_l"))
        gain = 100 * (major.accuracy - greedy.accuracy)
        print(f"   {model:<7} greedy {100 * greedy.accuracy:5.1f}   majority@16 "
              f"{100 * major.accuracy:5.1f}   gain {gain:+5.1f}")

    small, large = models[0], models[-1]
    print(f"\n2. {small} vs {large} at equal FLOPs per problem (the cost of one {large} sample): "
          "each model's best strategy within that budget, per level")
    for level in range(1, 6):
        task = f"arith_tts_l{level}"
        big_curve = run_curve(runs[f"{large}-majority16"].tasks[task])
        budget = big_curve[0].flops
        big_greedy = row_for(runs[f"{large}-greedy"], task, runs[f"{large}-greedy"].tasks[task])
        big = max([big_curve[0].accuracy]
                  + ([big_greedy.accuracy] if big_greedy.flops <= budget else []))
        reach = accuracy_at(run_curve(runs[f"{small}-majority16"].tasks[task]), budget)
        if reach is None:
            print(f"   L{level}: {small} cannot answer within {budget:.2e} FLOPs")
            continue
        verdict = (f"{small} wins" if reach > big else f"{large} wins" if big > reach
                   else "tie")
        print(f"   L{level}: budget {budget:.2e} FLOPs: {large} {100 * big:5.1f}  "
              f"{small} {100 * reach:5.1f}  -> {verdict}")

    print("\n3. PRM: AUROC of the minimum step score, correct vs incorrect samples")
    try:
        value, n_pos, n_neg = prm_auroc(out / "runs", f"{small}-majority16")
        print(f"   AUROC {value:.3f}  ({n_pos} correct, {n_neg} incorrect solutions)")
    except (ImportError, FileNotFoundError, ValueError) as exc:
        print(f"   skipped: {exc}")


if __name__ == "__main__":
    main()
