"""Local evaluation data: all four sets, GPQA's seeded choice order, clear errors."""

from __future__ import annotations

import gzip
import json

import pytest

from tts_eval.harness.task_data import DataError, clean_gpqa_choice, load_rows
from tts_eval.harness.task_hooks import gpqa_prompt, math_prompt


@pytest.mark.parametrize("name,rows", [("math500", 500), ("aime24", 30), ("aime25", 30),
                                       ("gpqa_diamond", 198)])
def test_local_sets_load_with_normalised_fields(data_dir, name, rows):
    loaded = load_rows(name, {"data_dir": str(data_dir)})
    assert len(loaded) == rows
    assert all(r["answer"] for r in loaded)
    assert len({r["id"] for r in loaded}) == rows


def test_gpqa_choices_are_shuffled_once_per_question_and_answer_points_to_correct(data_dir):
    first = load_rows("gpqa_diamond", {"data_dir": str(data_dir)})
    second = load_rows("gpqa_diamond", {"data_dir": str(data_dir)})
    assert [r["choices"] for r in first] == [r["choices"] for r in second]
    with gzip.open(data_dir / "gpqa_diamond.jsonl.gz", "rt") as handle:
        raw = {row["id"]: row for row in map(json.loads, handle)}
    letters = [r["answer"] for r in first]
    assert set(letters) == set("ABCD")  # shuffled, not always A
    for row in first:
        source = raw[row["id"]]
        chosen = row["choices"]["ABCD".index(row["answer"])]
        assert chosen == clean_gpqa_choice(source["correct_answer"])
        assert chosen not in [clean_gpqa_choice(a) for a in source["incorrect_answers"]]
    prompt = gpqa_prompt(first[0])
    assert "A) " in prompt and "D) " in prompt and "Answer: $LETTER" in prompt


def test_math_prompt_asks_for_boxed_answer(data_dir):
    row = load_rows("math500", {"data_dir": str(data_dir)})[0]
    assert row["problem"] in math_prompt(row) and "\\boxed{}" in math_prompt(row)


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(DataError) as err:
        load_rows("aime24", {"data_dir": str(tmp_path)})
    message = str(err.value)
    assert "aime24.jsonl" in message and "TTS_EVAL_DATA_DIR" in message


def test_malformed_row_and_missing_field_name_the_line(tmp_path):
    (tmp_path / "aime25.jsonl").write_text('{"problem": "x", "answer": "1"}\n{oops\n')
    with pytest.raises(DataError, match=r"aime25.jsonl:2: not valid JSON"):
        load_rows("aime25", {"data_dir": str(tmp_path)})
    (tmp_path / "aime25.jsonl").write_text('{"problem": "x"}\n')
    with pytest.raises(DataError, match=r"aime25.jsonl:1: missing field\(s\) answer"):
        load_rows("aime25", {"data_dir": str(tmp_path)})
