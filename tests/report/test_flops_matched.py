"""``tts-eval match`` on constructed runs with known curves and break-even."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tts_eval.accounting import Cost
from tts_eval.records import SampleRecord, TTSRecord
from tts_eval.report.curves import accuracy_at, break_even, run_curve
from tts_eval.report.runs import RunError, load_run


def write_run(folder: Path, task: str, problems: list[tuple[str, list[str]]],
              prefill: float, per_sample: float) -> Path:
    folder.mkdir(parents=True)
    lines = []
    for doc_id, (gold, answers) in enumerate(problems):
        n = len(answers)
        record = TTSRecord(
            strategy="majority", params={"n": n}, answer_kind="math", seed=doc_id,
            samples=[SampleRecord(f"\\boxed{{{a}}}", a, 10, 20, "stop", flops=per_sample)
                     for a in answers],
            chosen_index=0, chosen_answer=answers[0], prompt_tokens=10, cached_prompt_tokens=0,
            cost=Cost(generator_flops=prefill + n * per_sample),
        )
        lines.append(json.dumps({"doc_id": doc_id, "target": gold,
                                 "resps": [[record.to_json()]]}))
    (folder / f"samples_{task}_2026-01-01T00-00-00.000000.jsonl").write_text("\n".join(lines))
    return folder


@pytest.fixture
def runs(tmp_path):
    # small model, 4 samples: always right, always wrong twice, and [right, wrong, right, right]
    small = write_run(tmp_path / "small", "math500_tts", [
        ("5", ["5", "5", "5", "5"]), ("5", ["4", "4", "4", "4"]), ("5", ["3", "3", "3", "3"]),
        ("7", ["7", "1", "7", "7"])], prefill=1e8, per_sample=1e9)
    # large model, 1 sample: right on half
    large = write_run(tmp_path / "large", "math500_tts", [
        ("5", ["5"]), ("5", ["5"]), ("5", ["2"]), ("7", ["2"])], prefill=1e9, per_sample=1e10)
    return small, large


def test_curves_follow_majority_at_k_and_expected_flops(runs):
    small, large = (run_curve(load_run(r).tasks["math500_tts"]) for r in runs)
    assert [p.k for p in small] == [1, 2, 4]
    # maj@1 = 3/4 on the mixed problem; maj@2 = 4/6 (a tie goes to the earlier sample);
    # maj@4 = 1: accuracy over 4 problems
    assert [p.accuracy for p in small] == pytest.approx([1.75 / 4, (1 + 4 / 6) / 4, 0.5])
    assert [p.flops for p in small] == pytest.approx([1.1e9, 2.1e9, 4.1e9])
    assert [p.tokens for p in small] == pytest.approx([30, 50, 90])
    assert large[0].accuracy == 0.5 and large[0].flops == pytest.approx(1.1e10)
    assert accuracy_at(small, 2.5e9) == pytest.approx(1.75 / 4)  # the best k that fits
    assert accuracy_at(large, 2.5e9) is None
    point, ratio = break_even(small, large)
    assert point.k == 4 and ratio == pytest.approx(4.1e9 / 1.1e10)


def test_match_cli_prints_tables_and_break_even(runs, bin_dir):
    small, large = runs
    proc = subprocess.run([str(bin_dir / "tts-eval"), "match", str(small), str(large)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "== math500_tts ==" in out
    assert "4.100e+09" in out and "1.100e+10" in out
    break_even_row = next(line for line in out.splitlines() if line.startswith("small  ")
                          and "large" in line)
    assert "0.37x" in break_even_row and " 4 " in break_even_row


def test_match_errors_name_the_problem(tmp_path, bin_dir):
    proc = subprocess.run([str(bin_dir / "tts-eval"), "match", str(tmp_path / "nope"),
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no such run directory" in proc.stderr and "Traceback" not in proc.stderr
    bad = tmp_path / "plain"
    bad.mkdir()
    (bad / "samples_gsm8k_2026-01-01T00-00-00.jsonl").write_text(
        json.dumps({"doc_id": 0, "target": "1", "resps": [["just text"]]}) + "\n")
    with pytest.raises(RunError, match="not a TTS record"):
        load_run(bad)


def test_runs_with_unknown_flops_are_refused_where_flops_rank_them(tmp_path, bin_dir):
    """A run whose model had no config recorded FLOPs as unknown (null): match, curve and
    leaderboard refuse it with the fix; compare and curve --x tokens still work."""
    nan = float("nan")
    known = write_run(tmp_path / "known", "math500_tts", [("5", ["5", "4"])], 1e8, 1e9)
    unknown = write_run(tmp_path / "unknown", "math500_tts", [("5", ["5", "5"])], nan, nan)
    (samples,) = unknown.iterdir()
    record = json.loads(samples.read_text())["resps"][0][0]
    assert "NaN" not in record and '"total_flops": null' in record
    assert not load_run(unknown).tasks["math500_tts"][0].record.cost.flops_known
    tts_eval = str(bin_dir / "tts-eval")
    for command in (["match", str(known), str(unknown)], ["curve", str(unknown)],
                    ["leaderboard", str(known), str(unknown), "--out", str(tmp_path / "b")]):
        proc = subprocess.run([tts_eval, *command], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2, (command, proc.stdout)
        assert "task math500_tts has unknown FLOPs" in proc.stderr
        assert "model_config=PATH" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([tts_eval, "curve", str(unknown), "--x", "tokens"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([tts_eval, "compare", str(known), str(unknown)],
                          capture_output=True, text=True, timeout=120)
    assert "unknown" in proc.stdout and "nan" not in proc.stdout.lower().replace("unknown", "")
