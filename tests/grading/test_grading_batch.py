"""The batched grading calls give exactly the verdicts of their one-at-a-time forms."""

from __future__ import annotations

import json

from tts_eval.grading import (
    cluster_answers,
    cluster_many,
    extract_answer,
    same_answer,
    same_as_gold,
)


def test_same_as_gold_matches_same_answer_on_the_labelled_set(data_dir):
    rows = [json.loads(line) for line in (data_dir / "answer_equivalence.jsonl").open()]
    by_gold: dict[str, list[str | None]] = {}
    for row in rows:
        by_gold.setdefault(row["gold"], []).append(extract_answer(row["pred"]))
    for gold, answers in by_gold.items():
        expected = [a is not None and same_answer(a, gold) for a in answers]
        assert same_as_gold([*answers, None], gold) == [*expected, False], gold


def test_cluster_many_equals_cluster_answers_per_problem():
    problems = [
        ["\\frac{1}{2}", "0.5", "3", None, "1/2", "x=3"],
        ["(1,2)", "\\{1,2\\}", "(2,1)", "(1, 2)"],
        [],
        [None, None],
        ["\\sqrt{2}/2", "\\frac{\\sqrt2}{2}", "1/\\sqrt{2}", "0.7071"],
    ]
    assert cluster_many(problems) == [cluster_answers(p) for p in problems]
    assert cluster_many([["023", "23", "7"]], "integer") == [[0, 0, 1]]
