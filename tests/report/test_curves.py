"""Scaling curves: every-k estimators against brute-force enumeration, bootstrap interval
coverage on simulated runs, the Pareto frontier on constructed points, and ``tts-eval
curve`` on constructed runs."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tts_eval.accounting import Cost
from tts_eval.metrics.every_k import best_of_curve, pass_curves, vote_curves
from tts_eval.records import NodeRecord, SampleRecord, TTSRecord
from tts_eval.report.curves import EstimatePoint, bootstrap_interval, mark_pareto


def brute_force(clusters, cluster_correct, k, weights=None, scores=None, correct=None):
    """Mean over every k-subset: majority (ties: first seen), weighted, or best score."""
    wins = []
    n = len(scores if clusters is None else clusters)
    for subset in itertools.combinations(range(n), k):
        if scores is not None:
            best = max(subset, key=lambda i: (scores[i], -i))
            wins.append(bool(correct[best]))
            continue
        votes, first = {}, {}
        for i in subset:
            if clusters[i] >= 0:
                votes[clusters[i]] = votes.get(clusters[i], 0) + (1 if weights is None
                                                                  else weights[i])
                first.setdefault(clusters[i], i)
        winner = max(votes, key=lambda c: (votes[c], -first[c])) if votes else None
        wins.append(winner is not None and bool(cluster_correct[winner]))
    return float(np.mean(wins))


def random_problems(count, n, seed):
    rng = np.random.default_rng(seed)
    clusters = rng.integers(-1, 4, size=(count, n))
    cluster_correct = [list(rng.random(4) < 0.4) for _ in range(count)]
    weights = rng.random((count, n))
    return clusters, cluster_correct, weights


@pytest.mark.parametrize("n", [7, 14])
def test_voting_curves_match_brute_force(n):
    clusters, cluster_correct, weights = random_problems(10, n, seed=n)
    for w in (None, weights):
        got = vote_curves(clusters, cluster_correct, w)
        exact = np.array([[brute_force(clusters[p], cluster_correct[p], k,
                                       None if w is None else w[p]) for k in range(1, n + 1)]
                          for p in range(10)])
        if n <= 11:  # enumerated: exact
            np.testing.assert_allclose(got, exact, atol=1e-12)
        else:  # random orderings: exact at both ends, close in between
            np.testing.assert_allclose(got[:, [0, -1]], exact[:, [0, -1]], atol=1e-12)
            assert np.abs(got.mean(axis=0) - exact.mean(axis=0)).max() < 0.02
            assert np.abs(got - exact).max() < 0.08


def test_pass_and_best_of_curves_match_brute_force():
    rng = np.random.default_rng(3)
    n = 9
    for _ in range(5):
        correct = rng.random(n) < 0.4
        scores = np.round(rng.random(n), 1)  # ties: the earlier sample wins
        best = best_of_curve(scores, correct)
        passing = pass_curves(n, np.array([correct.sum()]))[0]
        for k in range(1, n + 1):
            assert best[k - 1] == pytest.approx(
                brute_force(None, None, k, scores=scores, correct=correct))
            assert passing[k - 1] == pytest.approx(
                np.mean([correct[list(s)].any() for s in itertools.combinations(range(n), k)]))


def test_bootstrap_intervals_cover_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    truth, covered = np.array([0.3, 0.7]), 0
    for run in range(1000):
        per_problem = (rng.random((150, 2)) < truth).astype(float)
        low, high = bootstrap_interval(per_problem, resamples=400, seed=run)
        covered += int(np.all((low <= truth) & (truth <= high)))
    # both columns at once: about 0.95^2 if they were independent (they are here)
    assert 0.86 <= covered / 1000 <= 0.94


def test_pareto_frontier_keeps_only_undominated_runnable_points():
    def point(name, estimator, acc, flops):
        return EstimatePoint("r", "t", estimator, 1, acc, acc, acc, 0.0, flops)

    points = [point("a", "maj@k", 0.3, 1.0), point("b", "maj@k", 0.5, 2.0),
              point("c", "maj@k", 0.4, 3.0),  # dominated by b
              point("d", "best_of@k", 0.5, 2.5),  # as good as b, costlier: dominated
              point("e", "acc", 0.7, 10.0), point("f", "pass@k", 0.9, 1.0)]  # oracle bound
    marked = mark_pareto(points)
    assert [p.pareto for p in marked] == [True, True, False, False, True, False]


def write_run(folder: Path, task: str, rows: list[dict]) -> Path:
    folder.mkdir(parents=True)
    lines = [json.dumps({"doc_id": i, "target": "5", "resps": [[row["record"].to_json()]]})
             for i, row in enumerate(rows)]
    (folder / f"samples_{task}_2026-01-01T00-00-00.000000.jsonl").write_text("\n".join(lines))
    return folder


def sampled(answers, scores=None):
    n = len(answers)
    return {"record": TTSRecord(
        strategy="best_of_n" if scores else "majority", params={"n": n}, answer_kind="math",
        seed=0, samples=[SampleRecord(f"\\boxed{{{a}}}", a, 10, 20, "stop", flops=1e9,
                                      score=None if scores is None else scores[i])
                         for i, a in enumerate(answers)],
        chosen_index=0, chosen_answer=answers[0], prompt_tokens=10, cached_prompt_tokens=0,
        cost=Cost(prompt_tokens=10, completion_tokens=10 * n, generator_flops=1e8 + n * 1e9,
                  verifier_tokens=0 if scores is None else 30 * n,
                  verifier_flops=0.0 if scores is None else 2e8 * n))}


def test_curve_command_writes_every_estimator_at_every_k(tmp_path, bin_dir):
    voting = write_run(tmp_path / "voting", "math500_tts", [
        sampled(["5", "4", "5", "3"]), sampled(["4", "4", "5", "4"])])
    scored = write_run(tmp_path / "scored", "math500_tts", [
        sampled(["5", "4", "5", "3"], [0.9, 0.1, 0.8, 0.2]),
        sampled(["4", "4", "5", "4"], [0.2, 0.3, 0.9, 0.1])])
    node = NodeRecord(0, None, 1, "\\boxed{5}", 5, 5e8, "stop", [0.9], 0.9, kept=True)
    search = write_run(tmp_path / "search", "math500_tts", [{"record": TTSRecord(
        strategy="beam_search", params={"n": 4}, answer_kind="math", seed=0,
        samples=[SampleRecord("\\boxed{5}", "5", 5, 20, "stop", score=0.9, node=0)],
        chosen_index=0, chosen_answer="5", prompt_tokens=10, cached_prompt_tokens=0,
        cost=Cost(prompt_tokens=10, completion_tokens=5, generator_flops=2e9,
                  verifier_tokens=40, verifier_flops=1e9), tree=[node])}] * 2)
    out = tmp_path / "curves"
    proc = subprocess.run([str(bin_dir / "tts-eval"), "curve", str(voting), str(scored),
                           str(search), "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with (out / "curve_math500_tts.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    series = {(r["run"], r["estimator"]): [] for r in rows}
    for r in rows:
        series[r["run"], r["estimator"]].append(r)
    assert set(series) == {("voting", "pass@k"), ("voting", "maj@k"), ("scored", "pass@k"),
                           ("scored", "maj@k"), ("scored", "best_of@k"),
                           ("scored", "weighted_maj@k"), ("search", "acc")}
    assert [int(r["k"]) for r in series["scored", "best_of@k"]] == [1, 2, 3, 4]
    # best of all 4: the top-scored sample is right on problem 1 (0.9) and 2 (0.9): 100%
    best4 = series["scored", "best_of@k"][-1]
    assert float(best4["accuracy"]) == 1.0 and float(best4["low"]) == 1.0
    # maj@4: problem 1 votes 5 (right), problem 2 votes 4 (wrong)
    assert float(series["voting", "maj@k"][-1]["accuracy"]) == 0.5
    # cost at k: prompt once + k samples of 20 tokens (+ k readings of 30 tokens)
    assert float(series["scored", "maj@k"][1]["tokens"]) == 10 + 2 * (20 + 30)
    assert float(series["voting", "maj@k"][0]["flops"]) == pytest.approx(1e8 + 1e9)
    (search_point,) = series["search", "acc"]
    assert float(search_point["flops"]) == 3e9 and search_point["pareto"] == "True"
    assert all(r["pareto"] == "False" for r in series["voting", "pass@k"])
    for suffix in (".png", ".svg", ".md"):
        assert (out / f"curve_math500_tts{suffix}").stat().st_size > 500
    assert "| scored | weighted_maj@k |" in proc.stdout


def test_curve_command_names_a_missing_task(tmp_path, bin_dir):
    run = write_run(tmp_path / "r", "math500_tts", [sampled(["5"])])
    proc = subprocess.run([str(bin_dir / "tts-eval"), "curve", str(run), "--task", "aime24"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no run holds task 'aime24'" in proc.stderr
