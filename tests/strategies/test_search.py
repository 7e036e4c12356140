"""Tree searches (beam_search, dvts, rebase) against constructed trees and score tables.

``StepEngine`` writes a known tree through the Engine interface: tokens are characters,
the j-th child of a request at depth d is the line ``<d><letter j>``, and depth
``FINAL_DEPTH`` writes ``\\boxed{j}`` and ends the solution (EOS). ``TableVerifier`` scores
each line from a table. So every kept beam, expansion count and final choice can be worked
out by hand; real vLLM runs of the same strategies are in tests/toy/.
"""

from __future__ import annotations

import pytest

from tts_eval.accounting.budget import Budget, BudgetError
from tts_eval.engines import Completion, Generation, SamplingSpec, ScoredSteps
from tts_eval.records import TTSRecord
from tts_eval.strategies import Problem, get_strategy

TINY_CONFIG = {"model_type": "qwen2", "hidden_size": 128, "num_hidden_layers": 2,
               "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 256,
               "vocab_size": 1024, "tie_word_embeddings": True}
FINAL_DEPTH = 3
LETTERS = "abcdefghijklmnop"
PROMPT = "Q?\n"


class StepEngine:
    """Characters as tokens; a constructed tree of steps (see the module docstring)."""

    model_config = TINY_CONFIG

    def __init__(self, final_depth: int = FINAL_DEPTH):
        self.final_depth = final_depth
        self.calls: list[list[SamplingSpec]] = []

    def token_ids(self, prompt, add_special_tokens=True):
        return [ord(c) for c in prompt] if isinstance(prompt, str) else list(prompt)

    def count_tokens(self, prompt, add_special_tokens=True):
        return len(self.token_ids(prompt))

    def decode(self, ids):
        return "".join(chr(i) for i in ids)

    def _step(self, depth: int, j: int) -> str:
        return f"\\boxed{{{j}}}" if depth >= self.final_depth else f"{depth}{LETTERS[j]}\n"

    def _continue(self, path: str, j: int, spec: SamplingSpec) -> Completion:
        depth = path.count("\n") + 1
        text = self._step(depth, j)
        stop_reason = "\n" if "\n" in spec.stop and text.endswith("\n") else None
        while stop_reason is None and text.endswith("\n"):  # no delimiter: on to the end
            depth += 1
            text += self._step(depth, 0)
        finish = "stop"
        if len(text) > spec.max_tokens:
            text, finish, stop_reason = text[: spec.max_tokens], "length", None
        ids = tuple(ord(c) for c in text)
        return Completion(text, len(ids), finish, token_ids=ids, stop_reason=stop_reason)

    def generate(self, prompts, specs):
        self.calls.append(list(specs))
        out = []
        for prompt, spec in zip(prompts, specs, strict=True):
            path = self.decode(prompt)[len(PROMPT):]
            if spec.temperature == 0:  # lookahead: the greedy continuation is child 0
                completions = [self._continue(path, 0, spec)]
            else:
                completions = [self._continue(path, j, spec) for j in range(spec.n)]
            out.append(Generation(len(prompt), 0, completions))
        return out


class TableVerifier:
    """One score per line, from a table (0.5 when the line is not in it); 10 tokens/read."""

    model_config = TINY_CONFIG
    step_delimiter = "\n"

    def __init__(self, table: dict[str, float]):
        self.table = table
        self.read: list[list[str]] = []

    def _lines(self, solution):
        return [line for line in solution.split("\n") if line]

    def score(self, prompts, solutions):
        self.read.append(list(solutions))
        return [ScoredSteps([self.table.get(line, 0.5) for line in self._lines(s)], 10)
                for s in solutions]

    def read_tokens(self, prompts, solutions):
        return [10] * len(solutions)


def problem(max_tokens: int = 64, seed: int = 7) -> Problem:
    return Problem(PROMPT, SamplingSpec(temperature=0.8, max_tokens=max_tokens, seed=seed))


def solve(name: str, table: dict[str, float], engine=None, problems=None, **params):
    engine = engine or StepEngine()
    verifier = TableVerifier(table)
    records = get_strategy(name, **params).solve(problems or [problem()], engine, verifier)
    return records, engine, verifier


def path_of(record: TTSRecord, node_id: int) -> list[str]:
    nodes = {node.id: node for node in record.tree}
    out = []
    while node_id is not None:
        out.append(nodes[node_id].text.strip())
        node_id = nodes[node_id].parent
    return out[::-1]


FIRST = {"1a": 0.9, "1b": 0.1, "1c": 0.8, "1d": 0.2}


def test_beam_search_keeps_the_top_n_over_width_and_expands_each_width_times():
    table = {**FIRST, "2a": 0.3, "2b": 0.7, "\\boxed{0}": 0.6, "\\boxed{1}": 0.4}
    (record,), engine, verifier = solve("beam_search", table, n=4, beam_width=2)
    # one engine call and one verifier call per step, for the whole run
    assert len(engine.calls) == FINAL_DEPTH and len(verifier.read) == FINAL_DEPTH
    assert [spec.n for spec in engine.calls[0]] == [4]  # the prompt's n children share it
    assert [spec.n for spec in engine.calls[1]] == [2, 2]  # top 4/2 beams, 2 children each
    by_depth = {}
    for node in record.tree:
        by_depth.setdefault(node.depth, []).append(node)
    assert [n.text.strip() for n in by_depth[1] if n.kept] == ["1a", "1c"]
    kept_2 = [path_of(record, n.id) for n in by_depth[2] if n.kept]
    assert kept_2 == [["1a", "2b"], ["1c", "2b"]]  # 0.7 beats 0.3 under both parents
    # finished beams are set aside as the answers: all four of the last step
    assert len(record.samples) == 4 and all(s.finish_reason == "stop" for s in record.samples)
    assert [s.answer for s in record.samples] == ["0", "1", "0", "1"]
    # weighted majority: answer 0 weighs 0.6 + 0.6 against answer 1's 0.4 + 0.4
    assert record.chosen_answer == "0"
    chosen = record.samples[record.chosen_index]
    assert path_of(record, chosen.node) == ["1a", "2b", "\\boxed{0}"]
    assert chosen.step_scores == [0.9, 0.7, 0.6] and chosen.score == 0.6
    assert record.params["beam_width"] == 2 and record.params["step_delimiter"] == "\n"
    # a search's tokens are its nodes' tokens, each paid once
    assert record.completion_tokens == sum(node.tokens for node in record.tree)
    assert record.cost.completion_tokens == record.completion_tokens
    assert record.cost.verifier_tokens == 10 * len(record.tree)


def test_the_last_allowed_step_runs_to_the_end_of_the_solution():
    (record,), engine, _ = solve("beam_search", FIRST, n=4, beam_width=2, max_steps=2)
    assert len(engine.calls) == 2
    assert "\n" in engine.calls[0][0].stop and "\n" not in engine.calls[1][0].stop
    assert max(node.depth for node in record.tree) == 2
    assert all(s.finish_reason == "stop" and s.answer is not None for s in record.samples)
    assert record.samples[0].text.endswith("\\boxed{0}")


def test_best_selection_takes_the_single_best_leaf():
    table = {**FIRST, "\\boxed{0}": 0.2, "\\boxed{1}": 0.9}
    (record,), _, _ = solve("beam_search", table, n=4, beam_width=2, select="best")
    assert record.chosen_answer == "1"
    assert record.samples[record.chosen_index].score == 0.9


def test_dvts_keeps_the_best_child_of_each_subtree():
    table = {**FIRST, "2a": 0.3, "2b": 0.7, "\\boxed{0}": 0.6, "\\boxed{1}": 0.4}
    (record,), engine, _ = solve("dvts", table, n=4, beam_width=2)
    first = [n for n in record.tree if n.depth == 1]
    # subtrees {1a, 1b} and {1c, 1d}: each keeps its own best, whatever the other holds
    assert [n.text.strip() for n in first if n.kept] == ["1a", "1c"]
    assert [spec.n for spec in engine.calls[1]] == [2, 2]
    # one answer per subtree: its best leaf
    assert len(record.samples) == 2
    assert [path_of(record, s.node) for s in record.samples] == [
        ["1a", "2b", "\\boxed{0}"], ["1c", "2b", "\\boxed{0}"]]


def test_dvts_subtrees_stay_apart_even_when_one_is_much_better():
    table = {"1a": 0.9, "1b": 0.95, "1c": 0.1, "1d": 0.2}
    (record,), _, _ = solve("dvts", table, n=4, beam_width=2)
    first = [n for n in record.tree if n.depth == 1]
    assert [n.text.strip() for n in first if n.kept] == ["1b", "1d"]
    beam, _, _ = solve("beam_search", table, n=4, beam_width=2)
    first = [n for n in beam[0].tree if n.depth == 1]
    assert [n.text.strip() for n in first if n.kept] == ["1a", "1b"]


def test_rebase_shares_the_width_by_softmax_of_scores():
    (record,), engine, _ = solve("rebase", FIRST, n=4, rebase_temperature=0.1)
    # weights exp((s - 0.9) / 0.1): 1a 1, 1c 0.37, 1d 0.0025, 1b 0.0003 -> 4 units: 3, 1
    assert [(spec.n) for spec in engine.calls[1]] == [3, 1]
    kept = [n.text.strip() for n in record.tree if n.depth == 1 and n.kept]
    assert kept == ["1a", "1c"]
    # a hot temperature spreads the width evenly
    (record,), engine, _ = solve("rebase", FIRST, n=4, rebase_temperature=100.0)
    assert [spec.n for spec in engine.calls[1]] == [1, 1, 1, 1]
    assert len(record.samples) == 4  # the width: n finished solutions in the end


def test_rebase_finished_nodes_use_up_width():
    engine = StepEngine(final_depth=2)  # every depth-2 child ends the solution
    (record,), engine, _ = solve("rebase", FIRST, engine=engine, n=4)
    assert len(engine.calls) == 2  # 4 finished leaves used all 4 units: nothing left
    assert len(record.samples) == 4 and all(n.finish_reason for n in record.tree
                                            if n.depth == 2)


def test_lookahead_reads_greedy_steps_it_does_not_keep():
    table = {"1a": 0.9, "1b": 0.1, "1c": 0.8, "1d": 0.2, "2a": 0.5}
    (record,), engine, verifier = solve("beam_search", table, n=4, beam_width=2,
                                        lookahead=1)
    greedy = [specs for specs in engine.calls if specs[0].temperature == 0]
    assert greedy and all(spec.n == 1 for specs in greedy for spec in specs)
    first = [n for n in record.tree if n.depth == 1]
    # each first step was read with the greedy next step "2a" after it ...
    assert all(n.lookahead_tokens == 3 and n.step_scores[-1] == 0.5 for n in first)
    assert verifier.read[0][0] == "1a\n2a\n"
    # ... which is not part of the path: the kept children are sampled afresh
    assert all(n.text.strip() in FIRST for n in first)
    assert record.completion_tokens == sum(n.tokens + n.lookahead_tokens
                                           for n in record.tree)


@pytest.mark.parametrize("tokens", [45, 100, 150, 400])
def test_a_budget_is_never_exceeded_and_trims_the_search_best_first(tokens):
    # a child's worst case: 16 tokens generated, its reading of 10 + 16 tokens planned
    (record,), engine, _ = solve("beam_search", FIRST, problems=[problem(max_tokens=16)],
                                 n=4, beam_width=2, budget=Budget(tokens=tokens))
    assert record.cost.total_tokens <= tokens
    first_step = engine.calls[0][0].n
    assert first_step == min(4, (tokens - 3) // 42)
    assert [n.text.strip() for n in record.tree if n.depth == 1] == ["1a", "1b", "1c",
                                                                      "1d"][:first_step]
    assert (record.budget["children_not_afforded"] > 0) == (tokens < 400)
    assert record.samples and record.chosen_index is not None  # it answers from what it has


def test_a_search_the_budget_stops_answers_from_its_deepest_read_path():
    (record,), engine, _ = solve("beam_search", FIRST, problems=[problem(max_tokens=16)],
                                 n=4, beam_width=2, budget=Budget(tokens=45))
    assert record.budget["stopped"] == "budget" and len(engine.calls) == 1
    assert [s.text for s in record.samples] == ["1a\n"] and record.chosen_index == 0
    assert record.samples[0].finish_reason is None  # an unfinished path, said so


def test_a_budget_that_cannot_buy_one_step_is_a_clear_error_before_generating():
    engine = StepEngine()
    with pytest.raises(BudgetError, match="cannot buy one first step"):
        solve("rebase", FIRST, engine=engine, n=4, budget=Budget(tokens=20))
    assert engine.calls == []


def test_every_problem_of_a_run_shares_each_step_call():
    problems = [problem(seed=s) for s in (1, 2, 3)]
    records, engine, verifier = solve("dvts", FIRST, problems=problems, n=4, beam_width=2)
    assert len(records) == 3
    assert len(engine.calls) == FINAL_DEPTH and len(engine.calls[0]) == 3
    assert len(verifier.read) == FINAL_DEPTH


@pytest.mark.parametrize(("name", "params", "message"), [
    ("beam_search", {"n": 6, "beam_width": 4}, "multiple of beam_width"),
    ("dvts", {"n": 2, "beam_width": 4}, "multiple of beam_width"),
    ("beam_search", {"select": "vote"}, "select='vote'"),
    ("rebase", {"rebase_temperature": 0}, "rebase_temperature must be > 0"),
    ("beam_search", {"max_steps": 0}, "max_steps must be >= 1"),
])
def test_bad_search_arguments_are_clear_errors(name, params, message):
    with pytest.raises(ValueError, match=message):
        get_strategy(name, **params)


def test_tree_survives_the_record_json():
    (record,), _, _ = solve("beam_search", FIRST, n=4, beam_width=2)
    again = TTSRecord.from_dict(record.to_dict())
    assert again.tree == record.tree
    assert [s.node for s in again.samples] == [s.node for s in record.samples]


def test_qwen_prm_renders_its_model_cards_conversation():
    from tts_eval.verifiers.presets import QWEN_PRM_FORMAT, problem_text

    fmt = QWEN_PRM_FORMAT
    chat = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 1+1?<|im_end|>\n"
    assert problem_text(chat + "<|im_start|>assistant\n") == "What is 1+1?"
    assert problem_text("What is 2+2?\n") == "What is 2+2?"
    steps = fmt.split("Add them.\n\n1+1=2\n\n\n\n$\\boxed{2}$\n")
    assert steps == ["Add them.", "1+1=2", "$\\boxed{2}$"]
    assert fmt.render("What is 1+1?", steps) == (
        "<|im_start|>system\nPlease reason step by step, and put your final answer within "
        "\\boxed{}.<|im_end|>\n<|im_start|>user\nWhat is 1+1?<|im_end|>\n"
        "<|im_start|>assistant\nAdd them.<extra_0>1+1=2<extra_0>$\\boxed{2}$<extra_0>"
        "<|im_end|>\n")
