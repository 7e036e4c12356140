"""pass@k and maj@k against brute force over every subset."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from tts_eval.metrics import ks_for, majority_at_k, pass_at_k, score_record
from tts_eval.records import SampleRecord, TTSRecord
from tts_eval.strategies.voting import majority_choice


def brute_pass(correct: list[bool], k: int) -> float:
    subsets = list(itertools.combinations(range(len(correct)), k))
    return sum(any(correct[i] for i in s) for s in subsets) / len(subsets)


def brute_maj(clusters: list[int], cluster_correct: list[bool], k: int) -> float:
    subsets = list(itertools.combinations(range(len(clusters)), k))
    wins = 0
    for subset in subsets:
        chosen = majority_choice([clusters[i] for i in subset])
        wins += chosen is not None and cluster_correct[clusters[subset[chosen]]]
    return wins / len(subsets)


@pytest.mark.parametrize("n,c", [(1, 0), (1, 1), (4, 1), (8, 3), (10, 10), (10, 0)])
def test_pass_at_k_matches_brute_force(n, c):
    correct = [True] * c + [False] * (n - c)
    for k in range(1, n + 1):
        assert pass_at_k(n, c, k) == pytest.approx(brute_pass(correct, k))


def test_majority_at_k_exact_matches_brute_force_with_ties_and_blanks():
    rng = random.Random(7)
    for _ in range(30):
        n = rng.randint(1, 9)
        clusters, seen = [], 0
        for _ in range(n):
            if rng.random() < 0.2:
                clusters.append(-1)
            else:
                c = rng.randint(0, seen)  # ids in order of first appearance
                seen = max(seen, c + 1)
                clusters.append(c)
        cluster_correct = [rng.random() < 0.4 for _ in range(seen)]
        for k in range(1, n + 1):
            assert majority_at_k(clusters, cluster_correct, k) == pytest.approx(
                brute_maj(clusters, cluster_correct, k)
            ), (clusters, cluster_correct, k)


def test_majority_at_k_sampled_estimate_is_close_for_large_n():
    # 64 samples: 30 say the right answer, 34 are spread over 17 wrong answers (2 each).
    raw = ["right"] * 30 + [f"wrong{i // 2}" for i in range(34)]
    random.Random(1).shuffle(raw)
    ids: dict[str, int] = {}
    clusters = [ids.setdefault(a, len(ids)) for a in raw]
    cluster_correct = [a == "right" for a in ids]
    value = majority_at_k(clusters, cluster_correct, 16)  # C(64,16) subsets: sampled
    assert 0.95 < value <= 1.0
    assert majority_at_k(clusters, cluster_correct, 64) == 1.0
    assert majority_at_k(clusters, cluster_correct, 1) == pytest.approx(30 / 64)


def test_ks_for():
    assert ks_for(1) == [1]
    assert ks_for(8) == [1, 2, 4, 8]
    assert ks_for(10) == [1, 2, 4, 8, 10]


def _record(answers, chosen, clusters=None):
    return TTSRecord(
        strategy="majority", params={"n": len(answers)}, answer_kind="math", seed=0,
        samples=[SampleRecord(f"... \\boxed{{{a}}}", a, 10, 5, "stop") for a in answers],
        chosen_index=chosen, chosen_answer=answers[chosen], prompt_tokens=10,
        cached_prompt_tokens=0, clusters=clusters,
    )


def test_score_record_on_constructed_votes():
    answers = ["\\frac{1}{2}", "0.5", "3", "3", "2/4"]
    metrics = score_record(_record(answers, 0, None), "\\frac12")
    # 1/2, 0.5 and 2/4 are one cluster of three correct answers; "3" twice is wrong.
    assert metrics["acc"] == 1.0
    assert metrics["pass@1"] == pytest.approx(3 / 5)
    assert metrics["maj@4"] == pytest.approx(brute_maj([0, 0, 1, 1, 0], [True, False], 4))
    assert metrics["completion_tokens"] == 25.0
    assert metrics["samples"] == 5.0
    assert set(metrics) >= {"pass@2", "pass@4", "pass@5", "maj@1", "maj@5"}
    assert math.isclose(metrics["maj@5"], 1.0)


def test_auroc_is_the_probability_a_right_answer_outscores_a_wrong_one():
    from tts_eval.metrics import auroc

    assert auroc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert auroc([0.1, 0.9], [True, False]) == 0.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5  # ties count half
    assert auroc([0.3, 0.7, 0.5, 0.6], [True, True, False, False]) == 0.5
    assert auroc([0.4], [True]) is None  # one class only


def _brute(n, k, choose, correct):
    """Mean correctness of ``choose(subset)`` over every k-subset (indices ascending)."""
    wins = []
    for subset in itertools.combinations(range(n), k):
        picked = choose(list(subset))
        wins.append(picked is not None and correct[subset[picked]])
    return sum(wins) / len(wins)


def test_best_of_k_and_weighted_majority_at_k_replay_the_strategies_choices():
    """Exact against every subset, choosing with the strategies' own functions."""
    from tts_eval.metrics import best_of_k, weighted_majority_at_k
    from tts_eval.strategies.voting import best_of_n_choice, weighted_majority_choice

    rng = random.Random(7)
    for _ in range(40):
        n = rng.randint(1, 8)
        clusters = [rng.choice([-1, 0, 1, 2]) for _ in range(n)]
        scores = [rng.choice([0.0, 0.25, 0.5, 0.75, 1.0]) for _ in range(n)]  # ties happen
        cluster_correct = [rng.random() < 0.5 for _ in range(3)]
        correct = [c >= 0 and cluster_correct[c] for c in clusters]
        for k in range(1, n + 1):
            def best(s, scores=scores):
                return best_of_n_choice([scores[i] for i in s])

            def weighted(s, scores=scores, clusters=clusters):
                return weighted_majority_choice([clusters[i] for i in s], [scores[i] for i in s])

            assert best_of_k(scores, correct, k) == pytest.approx(_brute(n, k, best, correct))
            assert weighted_majority_at_k(clusters, scores, cluster_correct, k) == \
                pytest.approx(_brute(n, k, weighted, correct))


def test_unknown_flops_leave_the_flops_metrics_out_and_keep_the_tokens():
    from tts_eval.accounting import Cost
    from tts_eval.metrics import cost_metrics

    record = TTSRecord(strategy="greedy", params={"n": 1}, answer_kind="math", seed=0,
                       samples=[SampleRecord("\\boxed{5}", "5", 10, 20, "stop")],
                       chosen_index=0, chosen_answer="5", prompt_tokens=10,
                       cached_prompt_tokens=0,
                       cost=Cost(prompt_tokens=10, completion_tokens=20,
                                 generator_flops=math.nan, generator_flops_naive=math.nan))
    metrics = cost_metrics(record)
    assert metrics["total_tokens"] == 30
    assert not any("flops" in name for name in metrics)  # lm-eval reports none, not NaN
