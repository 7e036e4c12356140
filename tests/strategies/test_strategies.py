"""Voting on constructed samples: clustering by equivalence, ties, unanswered samples.

The engine here replays fixed completions through the strategy's own Engine interface,
so the voting rule is tested on answers we choose; real vLLM runs are in
test_vllm_engine.py and test_lm_eval_cli.py.
"""

from __future__ import annotations

import pytest

from tts_eval.accounting.budget import Budget, BudgetError, Pricer
from tts_eval.engines.base import Completion, Generation, SamplingSpec
from tts_eval.strategies import STRATEGIES, Problem, get_strategy
from tts_eval.strategies.voting import majority_choice

TINY_CONFIG = {"model_type": "qwen2", "hidden_size": 128, "num_hidden_layers": 2,
               "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 256,
               "vocab_size": 1024, "tie_word_embeddings": True}


class ReplayEngine:
    """Returns the given completions for each prompt (cycling), recording what it was asked.

    A completion's token count is its length in characters; every prompt is 7 tokens.
    """

    model_config = TINY_CONFIG

    def __init__(self, texts_per_prompt: list[list[str]]):
        self.texts = texts_per_prompt
        self.calls: list[list[SamplingSpec]] = []
        self.served = [0] * len(texts_per_prompt)

    def generate(self, prompts, specs):
        self.calls.append(list(specs))
        out = []
        for prompt, spec in zip(prompts, specs, strict=True):
            i = int(prompt[1:])
            texts = [self.texts[i][(self.served[i] + j) % len(self.texts[i])]
                     for j in range(spec.n)]
            self.served[i] += spec.n
            out.append(Generation(prompt_tokens=7, cached_prompt_tokens=0, completions=[
                Completion(text=t, completion_tokens=min(len(t), spec.max_tokens),
                           finish_reason="stop") for t in texts]))
        return out

    def count_tokens(self, prompt, add_special_tokens=True):
        return 7


def problems(count, n=5, kind="math"):
    return [Problem(f"p{i}", SamplingSpec(n=n, temperature=0.8, seed=i), kind)
            for i in range(count)]


def test_majority_clusters_equivalent_answers_and_picks_the_largest():
    texts = [["\\boxed{3}", "so \\boxed{\\frac{1}{2}}", "\\boxed{0.5}", "\\boxed{3}",
              "The answer is $\\dfrac12$"]]
    engine = ReplayEngine(texts)
    (record,) = get_strategy("majority", n=5).solve(problems(1), engine)
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
    engine = ReplayEngine([["I am not sure how to proceed with this problem, sorry.",
                            "Let me think about the triangle first and then"]])
    (record,) = get_strategy("majority", n=2).solve(problems(1, n=2), engine)
    assert record.chosen_index == 0 and record.chosen_answer is None
    assert record.clusters == [-1, -1]


def test_choice_kind_votes_on_letters():
    engine = ReplayEngine([["Answer: B", "(C) is right", "Answer: C"]])
    (record,) = get_strategy("majority", n=3).solve(problems(1, n=3, kind="choice"), engine)
    assert record.chosen_answer is not None and "C" in record.chosen_answer


def test_greedy_forces_one_sample_at_temperature_zero_and_sample_keeps_the_first():
    engine = ReplayEngine([["\\boxed{1}", "\\boxed{2}"]])
    (record,) = get_strategy("greedy").solve(problems(1, n=2), engine)
    assert engine.calls[0][0].n == 1 and engine.calls[0][0].temperature == 0.0
    assert len(record.samples) == 1
    engine = ReplayEngine([["\\boxed{1}", "\\boxed{2}", "\\boxed{2}"]])
    (record,) = get_strategy("sample", n=3).solve(problems(1, n=3), engine)
    assert record.chosen_index == 0 and len(record.samples) == 3


def test_unknown_strategy_and_bad_n_are_clear_errors():
    with pytest.raises(ValueError, match="unknown strategy 'beem'; valid.*greedy, majority"):
        get_strategy("beem")
    with pytest.raises(ValueError, match="'beam-search' .did you mean beam_search"):
        get_strategy("beam-search")
    with pytest.raises(ValueError, match="n must be >= 1"):
        get_strategy("majority", n=0)
    with pytest.raises(ValueError, match="exactly one sample"):
        get_strategy("greedy", n=4)
    assert set(STRATEGIES) >= {"greedy", "sample", "majority"}


def test_records_carry_cost_priced_from_the_model_config():
    engine = ReplayEngine([["\\boxed{1}", "\\boxed{22}"]])
    (record,) = get_strategy("sample", n=2).solve(problems(1, n=2), engine)
    pricer = Pricer(TINY_CONFIG)
    expected = pricer.prefill(7) + pricer.sample(7, 9) + pricer.sample(7, 10)
    assert record.cost.prompt_tokens == 7 and record.cost.completion_tokens == 19
    assert record.cost.generator_flops == pytest.approx(expected.generator_flops)
    assert record.cost.generator_flops_naive > record.cost.generator_flops
    assert record.cost.total_flops == record.cost.generator_flops
    assert [s.flops for s in record.samples] == [pricer.sample(7, 9).generator_flops,
                                                  pricer.sample(7, 10).generator_flops]
    assert record.model.params_total > record.model.params_active > 0


def test_budget_too_small_for_one_answer_fails_before_generating():
    engine = ReplayEngine([["\\boxed{1}"]])
    strategy = get_strategy("majority", budget=Budget(tokens=7 + 255))
    with pytest.raises(BudgetError, match="cannot buy one answer.*max_gen_toks=256.*Nothing was"):
        strategy.solve(problems(1, n=1), engine)
    assert engine.calls == []
    with pytest.raises(BudgetError, match="must be a positive number"):
        Budget(flops=0)


@pytest.mark.parametrize("budget", [Budget(tokens=7 + 3 * 256 + 100),
                                    Budget(flops=3.5 * Pricer(TINY_CONFIG).sample(7, 256)
                                           .generator_flops + Pricer(TINY_CONFIG)
                                           .prefill(7).generator_flops)])
def test_budget_turns_into_rounds_of_samples_and_is_never_exceeded(budget):
    # Samples stop early (20-30 tokens of 256), so after the worst-case plan of 3 samples
    # there is room for more rounds; the strategy keeps going while a worst case fits.
    engine = ReplayEngine([["\\boxed{5} " + "x" * 20, "\\boxed{6} " + "y" * 25]])
    (record,) = get_strategy("majority", budget=budget).solve(problems(1, n=1), engine)
    assert record.budget["planned_samples"] == 3
    assert record.budget["rounds"] >= 2 and len(record.samples) > 3
    assert len(engine.calls) == record.budget["rounds"]
    assert Budget(**{k: budget.to_dict()[k] for k in ("tokens", "flops")}).fits(
        _cost(record))
    # and one more worst-case sample would not have fit
    worst = Pricer(TINY_CONFIG).sample(7, 256)
    assert not budget.fits(_cost(record) + worst)
    seeds = [specs[0].seed for specs in engine.calls]
    assert seeds[0] == 0 and len(set(seeds)) == len(seeds)  # round 0 keeps the request seed


def _cost(record):
    from tts_eval.accounting.budget import Cost

    c = record.cost
    return Cost(c.prompt_tokens, c.completion_tokens, c.verifier_tokens,
                c.generator_flops, c.generator_flops_naive, c.verifier_flops)


def test_weighted_majority_sums_scores_per_answer_and_ties_go_first_seen():
    from tts_eval.strategies.voting import weighted_majority_choice

    # clusters 0, 1, 0, -1 (no answer), 1: cluster 1 wins on summed score despite 0's first
    assert weighted_majority_choice([0, 1, 0, -1, 1], [0.2, 0.5, 0.2, 0.9, 0.3]) == 1
    assert weighted_majority_choice([0, 1], [0.5, 0.5]) == 0  # tie: first seen
    assert weighted_majority_choice([-1, -1], [0.9, 0.8]) is None  # nothing answered


def test_best_of_n_takes_the_highest_score_first_on_ties():
    from tts_eval.strategies.voting import best_of_n_choice

    assert best_of_n_choice([0.1, 0.7, 0.3]) == 1
    assert best_of_n_choice([0.7, 0.2, 0.7]) == 0
    assert best_of_n_choice([]) is None


def test_choice_samples_vote_on_letters_named_by_option_text_and_hedges_never_vote():
    """A GPQA-style problem: samples commit to a letter, state an option's value, or hedge.
    The hedge has no answer; the stated value joins its option's letter; the record says
    how each letter was found."""
    texts = [["The answer is **C**.", r"So the splitting is \boxed{10^{-4}\,\text{eV}}.",
              "It must be either B or C.", "Final answer: B", "Answer: B"]]
    options = ("2.4 MeV", "~ 10^{-4} eV", "8", "the Golgi apparatus")
    problem = Problem("p0", SamplingSpec(n=5, temperature=0.8, seed=0), "choice", options)
    (record,) = get_strategy("majority", n=5).solve([problem], ReplayEngine(texts))
    assert [s.answer for s in record.samples] == ["C", "B", None, "B", "B"]
    assert record.chosen_answer == "B"
    rules = [s.answer_rule for s in record.samples]
    assert rules[0] == "answer statement" and "is option B" in rules[1]
    assert rules[2] == "no letter committed to"
    parsed = type(record).from_dict(record.to_dict())
    assert [s.answer_rule for s in parsed.samples] == rules


class TableVerifier:
    """Scores looked up by solution text (a constructed score table), 10 tokens per read."""

    model_config = TINY_CONFIG

    def __init__(self, table: dict[str, list[float]]):
        self.table = table
        self.calls = 0

    def score(self, prompts, solutions):
        from tts_eval.engines import ScoredSteps

        self.calls += 1
        return [ScoredSteps(list(self.table[s]), 10) for s in solutions]

    def read_tokens(self, prompts, solutions):
        return [10] * len(solutions)


VERIFIED_TEXTS = ["\\boxed{3}", "so \\boxed{5}", "\\boxed{5}", "then \\boxed{3}"]
STEP_TABLE = {"\\boxed{3}": [0.9, 0.6], "so \\boxed{5}": [0.2, 0.5],
              "\\boxed{5}": [0.3, 0.4], "then \\boxed{3}": [0.8, 0.1]}


@pytest.mark.parametrize(("strategy", "aggregate", "chosen"), [
    ("best_of_n", "last", 0),  # last scores 0.6, 0.5, 0.4, 0.1
    ("best_of_n", "mean", 0),  # mean scores 0.75, 0.35, 0.35, 0.45
    ("best_of_n", "min", 0),   # min scores 0.6, 0.2, 0.3, 0.1
    ("weighted_majority", "last", 1),  # answer 5 weighs 0.5 + 0.4 > answer 3's 0.6 + 0.1
    ("weighted_majority", "prod", 0),  # 3: 0.54 + 0.08 > 5: 0.10 + 0.12
])
def test_verifier_strategies_choose_by_aggregated_scores(strategy, aggregate, chosen):
    verifier = TableVerifier(STEP_TABLE)
    engine = ReplayEngine([VERIFIED_TEXTS])
    (record,) = get_strategy(strategy, n=4, aggregate=aggregate).solve(
        problems(1, n=4), engine, verifier)
    assert record.chosen_index == chosen
    assert [s.step_scores for s in record.samples] == [STEP_TABLE[t] for t in VERIFIED_TEXTS]
    assert record.params["aggregate"] == aggregate
    assert verifier.calls == 1  # every sample of every problem in one verifier call
    # what the verifier read is charged apart from the generator's work
    assert record.cost.verifier_tokens == 40 and record.cost.verifier_flops > 0
    assert record.cost.total_flops == pytest.approx(
        record.cost.generator_flops + record.cost.verifier_flops)


def test_verifier_strategies_need_a_verifier():
    engine = ReplayEngine([VERIFIED_TEXTS])
    with pytest.raises(ValueError, match="needs a verifier: add verifier=NAME"):
        get_strategy("best_of_n", n=4).solve(problems(1, n=4), engine)
    with pytest.raises(ValueError, match="unknown aggregate 'median'"):
        get_strategy("best_of_n", n=4, aggregate="median")


@pytest.mark.parametrize("strategy", ["best_of_n", "weighted_majority"])
def test_verifier_strategies_pay_their_readings_out_of_the_budget(strategy):
    # prompt 7 tokens; a sample's worst case: 16 generated + a reading of 10 + 16 planned
    verifier = TableVerifier(STEP_TABLE)
    engine = ReplayEngine([VERIFIED_TEXTS])
    problem = Problem("p0", SamplingSpec(temperature=0.8, seed=0, max_tokens=16))
    (record,) = get_strategy(strategy, budget=Budget(tokens=100)).solve(
        [problem], engine, verifier)
    assert record.cost.total_tokens <= 100
    # round 1: (100 - 7) // 42 = 2 samples (9 + 12 tokens, 2 readings of 10) -> 48 spent;
    # round 2: 52 // 42 = 1 sample (9 + 10) -> 67; 33 left buys no worst case
    assert [spec.n for call in engine.calls for spec in call] == [2, 1]
    assert verifier.calls == 2  # each round read before the next was planned
    assert record.cost.total_tokens == 67 and record.cost.verifier_tokens == 30
    assert all(s.score is not None for s in record.samples)
    assert record.budget["rounds"] == 2
