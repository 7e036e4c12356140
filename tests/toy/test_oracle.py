"""toy-oracle: exact step labels as verifier scores, the controlled verifier for search."""

from __future__ import annotations

import random

import pytest

from tts_eval.metrics import score_record
from tts_eval.records import SampleRecord, TTSRecord
from tts_eval.toy.oracle import ToyOracleVerifier
from tts_eval.toy.problems import (
    ARITH_TTS_PROBLEMS_PER_LEVEL,
    EVAL_SEED,
    check_steps,
    format_prompt,
    make_problems,
    noisy_solution,
)
from tts_eval.verifiers import aggregate


def samples_of(problem, count=6, seed=0):
    rng = random.Random(seed)
    return [noisy_solution(problem, rng, 0.35) for _ in range(count)]


def test_exact_labels_are_the_scores_and_cost_nothing():
    problem = make_problems(3, 3, EVAL_SEED)[1]
    solutions = samples_of(problem)
    scored = ToyOracleVerifier().score([format_prompt(problem)] * len(solutions), solutions)
    for solution, steps in zip(solutions, scored, strict=True):
        assert steps.scores == [float(x) for x in check_steps(problem, solution)]
        assert steps.tokens == 0


def test_without_noise_best_of_n_is_pass_at_n_exactly():
    """A perfect verifier picks a right sample whenever there is one (last-step score 1 iff
    the answer line is right), so best_of@N equals pass@N on every problem."""
    oracle = ToyOracleVerifier()
    for level in (2, 4):
        for problem in make_problems(ARITH_TTS_PROBLEMS_PER_LEVEL, level, EVAL_SEED)[:15]:
            texts = samples_of(problem, 8, seed=level)
            scores = [aggregate(s.scores) for s in
                      oracle.score([format_prompt(problem)] * len(texts), texts)]
            answers = [t.rsplit("\\boxed{", 1)[-1].rstrip("}") if "\\boxed{" in t else None
                       for t in texts]
            record = TTSRecord(
                strategy="best_of_n", params={"n": 8}, answer_kind="math", seed=0,
                samples=[SampleRecord(t, a, 5, 9, "stop", score=s)
                         for t, a, s in zip(texts, answers, scores, strict=True)],
                chosen_index=max(range(8), key=lambda i: (scores[i], -i)), chosen_answer=None,
                prompt_tokens=5, cached_prompt_tokens=0)
            metrics = score_record(record, problem["answer"])
            assert metrics["best_of@8"] == metrics["pass@8"]
            assert metrics["acc"] == metrics["pass@8"]


def test_noise_flips_labels_reproducibly():
    problem = make_problems(2, 5, EVAL_SEED)[0]
    texts = samples_of(problem, 10)
    prompts = [format_prompt(problem)] * len(texts)
    exact = [s.scores for s in ToyOracleVerifier().score(prompts, texts)]
    noisy = [s.scores for s in ToyOracleVerifier(noise=0.3).score(prompts, texts)]
    again = [s.scores for s in ToyOracleVerifier(noise=0.3).score(prompts, texts)]
    assert noisy == again
    flips = sum(a != b for e, n in zip(exact, noisy, strict=True) for a, b in zip(e, n,
                                                                                strict=True))
    steps = sum(len(e) for e in exact)
    assert 0.1 * steps < flips < 0.5 * steps


def test_unknown_prompts_and_bad_noise_are_clear_errors():
    with pytest.raises(ValueError, match="not one of the arith_tts problems"):
        ToyOracleVerifier().score(["Problem: what is love?\nSolution:\n"], ["1+1=2"])
    with pytest.raises(ValueError, match="oracle_noise must be in"):
        ToyOracleVerifier(noise=1.5)
