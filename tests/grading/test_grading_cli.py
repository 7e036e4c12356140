"""``tts-eval grade``: re-grading lm-eval sample files and plain JSONL, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tts_eval.grading.cli import main

REPO = Path(__file__).resolve().parents[2]


def _lm_eval_row(doc_id: int, response: str, target: str) -> dict:
    """A row as lm-eval 0.4 writes it with --log_samples (generate_until task)."""
    return {
        "doc_id": doc_id,
        "doc": {"problem": "...", "answer": target},
        "target": target,
        "arguments": {"gen_args_0": {"arg_0": "Problem: ...", "arg_1": {"until": []}}},
        "resps": [[response]],
        "filtered_resps": [response],
        "filter": "none",
        "metrics": ["exact_match"],
        "doc_hash": "0" * 64,
        "prompt_hash": "0" * 64,
        "target_hash": "0" * 64,
        "exact_match": 0.0,
    }


def _tts_record(answer: str) -> str:
    return json.dumps(
        {
            "tts_record": 1,
            "strategy": "majority",
            "answer": answer,
            "samples": [{"text": answer, "tokens": 12}, {"text": r"\boxed{7}", "tokens": 9}],
        }
    )


def _write_jsonl(path: Path, rows: list) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _verdicts(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_lm_eval_samples_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples = _write_jsonl(
        tmp_path / "samples_math500_tts_2025-01-01T00-00-00.jsonl",
        [
            _lm_eval_row(0, r"so the answer is $\boxed{0.5}$", r"\frac{1}{2}"),
            _lm_eval_row(1, _tts_record(r"we get $\boxed{4}$."), "4"),
            _lm_eval_row(2, r"\boxed{3}", "4"),
        ],
    )
    out = tmp_path / "verdicts.jsonl"
    assert main([str(samples), "--out", str(out)]) == 0
    verdicts = _verdicts(out.read_text())
    assert [v["index"] for v in verdicts] == [0, 1, 2]
    assert [v["correct"] for v in verdicts] == [True, True, False]
    assert [v["extracted"] for v in verdicts] == ["0.5", "4", "3"]
    assert all(set(v) == {"index", "extracted", "correct", "reason", "evidence"} for v in verdicts)
    summary = capsys.readouterr().out
    assert "2/3 correct" in summary and "0.6667" in summary


def test_plain_jsonl_to_stdout_with_grade_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = _write_jsonl(
        tmp_path / "mine.jsonl",
        [{"response": r"\boxed{x=3}", "gold": "3"}, {"response": "no idea", "gold": "3"}],
    )
    assert main(["grade", str(samples), "--kind", "math"]) == 0
    captured = capsys.readouterr()
    assert [v["correct"] for v in _verdicts(captured.out)] == [True, False]
    assert "1/2 correct" in captured.err


def test_malformed_rows_are_reported_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = _write_jsonl(
        tmp_path / "samples.jsonl",
        [
            {"response": r"\boxed{1}", "gold": "1"},
            "{this is not json",
            {"doc_id": 3, "resps": [["x"]]},  # no target
            ["a", "list"],
            {"response": {"nested": 1}, "gold": "1"},
            {"filtered_resps": [_tts_record(r"\boxed{2}")], "target": "2"},
        ],
    )
    out = tmp_path / "v.jsonl"
    assert main([str(samples), "--out", str(out)]) == 0
    verdicts = _verdicts(out.read_text())
    assert [(v["index"], v["correct"]) for v in verdicts] == [(0, True), (5, True)]
    err = capsys.readouterr().err
    for line_no in (2, 3, 4, 5):
        assert f"samples.jsonl:{line_no}:" in err
    assert "not valid JSON" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "gold", "response", "kind"),
    [
        ("samples_aime24_tts_x.jsonl", "23", r"\boxed{023}", "integer"),
        ("samples_gpqa_diamond_tts_x.jsonl", "C", "The correct answer is (C).", "choice"),
        ("samples_math500_tts_x.jsonl", r"\frac12", r"\boxed{0.5}", "math"),
    ],
)
def test_kind_is_inferred_from_the_file_name(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    gold: str,
    response: str,
    kind: str,
) -> None:
    samples = _write_jsonl(tmp_path / name, [_lm_eval_row(0, response, gold)])
    assert main([str(samples)]) == 0
    captured = capsys.readouterr()
    assert _verdicts(captured.out)[0]["correct"] is True
    assert f"kind {kind}" in captured.err


def test_missing_file_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "no such file" in err and "--log_samples" in err
    assert len(err.strip().splitlines()) == 1


def test_directory_and_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "samples_math500_tts_x.jsonl").write_text("")
    assert main([str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main([str(tmp_path / "samples_math500_tts_x.jsonl")]) == 1
    assert "no gradable rows" in capsys.readouterr().err


def test_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples = _write_jsonl(tmp_path / "s.jsonl", [{"response": "1", "gold": "1"}])
    assert main([str(samples), "--kind", "letters"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main([str(samples), "--out", str(tmp_path)]) == 2  # a directory is not writable
    assert "cannot write" in capsys.readouterr().err


def test_module_entry_point_never_prints_a_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    binary = tmp_path / "samples.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    for args in (["grade", str(tmp_path / "missing.jsonl")], ["grade", str(binary)]):
        proc = subprocess.run(
            [sys.executable, "-m", "tts_eval.grading", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")


def test_explain_names_the_rule_and_the_sentence_per_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = _write_jsonl(
        tmp_path / "samples_gpqa_diamond_tts.jsonl",
        [
            {"response": "Weighing it all, the correct option is **C**.", "gold": "C"},
            {"response": "The answer is either B or D, I cannot tell.", "gold": "B"},
            {"response": "So the gap is \\boxed{10^{-4} \\text{ eV}}.", "gold": "D",
             "options": ["10^{-9} eV", "10^{-11} eV", "10^{-8} eV", "10^{-4} eV"]},
        ],
    )
    assert main([str(samples), "--explain"]) == 0
    out = capsys.readouterr().out
    assert "row 0: correct; answer 'C'; gold 'C'; same choice (answer statement)" in out
    assert 'from: "Weighing it all, the correct option is **C**."' in out
    assert "row 1: wrong; no answer; gold 'B'; no choice: hedges between letters" in out
    assert "row 2: correct; answer 'D'; gold 'D'; same choice (stated answer" in out
    assert "2/3 correct" in out


def test_published_rows_fall_back_to_extracted_and_report_per_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files that keep only the extracted answer (response null) and name their model."""
    samples = _write_jsonl(
        tmp_path / "published_math.jsonl",
        [
            {"model": "big", "gold": "52_8", "response": None, "extracted": "\\boxed{52}"},
            {"model": "big", "gold": "\\frac12", "response": None, "extracted": "0.5"},
            {"model": "small", "gold": "52_8", "response": None, "extracted": "\\boxed{42}"},
            {"model": "small", "gold": "3", "response": "so $\\boxed{3}$"},
        ],
    )
    out = tmp_path / "verdicts.jsonl"
    assert main([str(samples), "--out", str(out)]) == 0
    assert [v["correct"] for v in _verdicts(out.read_text())] == [True, True, False, True]
    summary = capsys.readouterr().out
    assert "big    1.0000  (2/2)" in summary
    assert "small  0.5000  (1/2)" in summary
