"""How long ``tts-eval curve`` takes to draw every estimator at every k with intervals.

500 problems x 256 samples (the issue's target: under 5 s on 2 cores), each problem with
a few answer clusters and verifier scores, so all four estimators (pass@k, maj@k,
best-of-k, weighted maj@k) are computed at k = 1..256 with 1,000 bootstrap resamples.
Grading is not timed (a run is graded once, whatever reads it): verdicts are given.

    python benchmarks/curves.py [--problems 500] [--samples 256]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tts_eval.accounting import Cost
from tts_eval.records import SampleRecord, TTSRecord
from tts_eval.report.curves import estimate_points, mark_pareto
from tts_eval.report.runs import ProblemResult

TARGET_SECONDS = 5.0


def synthetic_problems(problems: int, samples: int, seed: int = 0) -> list[ProblemResult]:
    rng = np.random.default_rng(seed)
    out = []
    for doc_id in range(problems):
        clusters = rng.integers(-1, 8, size=samples)
        right = list(rng.random(8) < 0.25)
        scores = rng.random(samples)
        record = TTSRecord(
            strategy="best_of_n", params={"n": samples}, answer_kind="integer", seed=doc_id,
            samples=[SampleRecord("", str(c), 100, 200, "stop", score=float(s), flops=1e9)
                     for c, s in zip(clusters, scores, strict=True)],
            chosen_index=0, chosen_answer=None, prompt_tokens=100, cached_prompt_tokens=0,
            clusters=[int(c) for c in clusters],
            cost=Cost(prompt_tokens=100, completion_tokens=200 * samples,
                      generator_flops=1e10 + samples * 1e9, verifier_tokens=300 * samples,
                      verifier_flops=samples * 5e8))
        problem = ProblemResult(doc_id, "0", record)
        correct = [bool(c >= 0 and right[c]) for c in clusters]
        problem.__dict__["verdicts"] = (correct, [int(c) for c in clusters], right)
        out.append(problem)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument("--samples", type=int, default=256)
    args = parser.parse_args()
    problems = synthetic_problems(args.problems, args.samples)
    start = time.perf_counter()
    points = mark_pareto(estimate_points("bench", "task", problems))
    seconds = time.perf_counter() - start
    estimators = sorted({p.estimator for p in points})
    print(f"{args.problems} problems x {args.samples} samples: {len(points)} points "
          f"({', '.join(estimators)}, every k, 95% intervals) in {seconds:.2f} s; "
          f"target < {TARGET_SECONDS:.0f} s: ratio {seconds / TARGET_SECONDS:.2f}")


if __name__ == "__main__":
    main()
