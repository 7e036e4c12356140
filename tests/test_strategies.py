"""Voting on constructed samples: clustering by equivalence, ties, unanswered samples.

The engine here replays fixed completions through the strategy's own Engine interface,
so the voting rule is tested on answers we choose; real vLLM runs are in
test_vllm_engine.py and test_lm_eval_cli.py.
"""

from __future__ import annotations

import pytest

from tts_eval.engines.base import Completion, Generation, SamplingSpec
from tts_eval.strategies import STRATEGIES, Problem, get_strategy
from tts_eval.strategies.sampling import majority_choice


class ReplayEngine:
    """Returns the given completions for each prompt, recording what it was asked."""

    def __init__(self, texts_per_prompt: list[list[str]]):
        self.texts = texts_per_prompt
        self.calls: list[list[SamplingSpec]] = []

    def generate(self, prompts, specs):
        self.calls.append(list(specs))
        return [
            Generation(prompt_tokens=7, cached_prompt_tokens=0, completions=[
                Completion(text=t, completion_tokens=len(t), finish_reason="stop")
                for t in texts[: spec.n]
            ])
            for texts, spec in zip(self.texts, specs, strict=True)
        ]

    def count_tokens(self, text):
        return len(text.split())


def problems(count, n=5, kind="math"):
    return [Problem(f"p{i}", SamplingSpec(n=n, temperature=0.8, seed=i), kind)
            for i in range(count)]


def test_majority_clusters_equivalent_answers_and_picks_the_largest():
    texts = [["\\boxed{3}", "so \\boxed{\\frac{1}{2}}", "\\boxed{0.5}", "\\boxed{3}",
              "The answer is $\\dfrac12$"]]
    engine = ReplayEngine(texts)
    (record,) = get_strategy("majority", n=5).run(problems(1), engine)
    assert record.clusters == [0, 1, 1, 0, 1]
    assert record.chosen_index == 1  # first member of the 3-vote cluster {1/2, 0.5, 1/2}
    assert record.samples[record.chosen_index].answer is not None
    assert len(engine.calls) == 1 and engine.calls[0][0].n == 5  # one batched call, n samples


def test_majority_tie_goes_to_the_answer_seen_first_and_blanks_never_win():
    assert majority_choice([1, 0, 0, 1, -1, -1, -1]) == 0  # cluster 1 seen at index 0
    assert majority_choice([-1, 2, 2, 5, 5]) == 1
    assert majority_choice([-1, -1]) is None
    assert majority_choice([]) is None


def test_majority_with_no_answers_keeps_a_response_and_no_chosen_answer():
    engine = ReplayEngine([["no idea", "still none"]])
    (record,) = get_strategy("majority", n=2).run(problems(1, n=2), engine)
    assert record.chosen_index == 0 and record.chosen_answer is None
    assert record.clusters == [-1, -1]


def test_choice_kind_votes_on_letters():
    engine = ReplayEngine([["Answer: B", "(C) is right", "Answer: C"]])
    (record,) = get_strategy("majority", n=3).run(problems(1, n=3, kind="choice"), engine)
    assert record.chosen_answer is not None and "C" in record.chosen_answer


def test_greedy_forces_one_sample_at_temperature_zero_and_sample_keeps_the_first():
    engine = ReplayEngine([["\\boxed{1}", "\\boxed{2}"]])
    (record,) = get_strategy("greedy").run(problems(1, n=2), engine)
    assert engine.calls[0][0].n == 1 and engine.calls[0][0].temperature == 0.0
    assert len(record.samples) == 1
    engine = ReplayEngine([["\\boxed{1}", "\\boxed{2}", "\\boxed{2}"]])
    (record,) = get_strategy("sample", n=3).run(problems(1, n=3), engine)
    assert record.chosen_index == 0 and len(record.samples) == 3


def test_unknown_strategy_and_bad_n_are_clear_errors():
    with pytest.raises(ValueError, match="unknown strategy 'beem'.*greedy, majority, sample"):
        get_strategy("beem")
    with pytest.raises(ValueError, match="n must be >= 1"):
        get_strategy("majority", n=0)
    with pytest.raises(ValueError, match="exactly one sample"):
        get_strategy("greedy", n=4)
    assert set(STRATEGIES) >= {"greedy", "sample", "majority"}
