"""``tts-eval compare``: the statistics against brute force and simulation, and the verdicts
and exit codes on constructed pairs of runs."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tts_eval.accounting import Cost
from tts_eval.records import SampleRecord, TTSRecord
from tts_eval.report.compare import (
    detectable_difference,
    mcnemar_exact,
)
from tts_eval.report.curves import bootstrap_interval


@pytest.mark.parametrize(("lost", "won"), [(0, 0), (3, 0), (5, 2), (2, 5), (4, 4), (9, 1)])
def test_mcnemar_is_the_exact_two_sided_sign_test(lost, won):
    n = lost + won
    # brute force: every way n fair coins could split the discordant problems
    extreme = min(lost, won)
    as_extreme = sum(min(sum(flips), n - sum(flips)) <= extreme
                     for flips in itertools.product((0, 1), repeat=n))
    assert mcnemar_exact(lost, won) == pytest.approx(as_extreme / 2 ** n)


def test_bootstrap_intervals_cover_the_true_difference_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    true_difference, covered, runs = 0.1, 0, 1000
    for run in range(runs):
        # 100 paired problems: the baseline right with p=0.5, the candidate with p=0.6
        base = rng.random(100) < 0.5
        cand = rng.random(100) < 0.6
        low, high = bootstrap_interval((cand.astype(float) - base)[:, None], 0.05,
                                       resamples=400, seed=run)
        covered += low <= true_difference <= high
    assert 0.92 <= covered / runs <= 0.975


def test_detectable_difference_shrinks_with_more_problems():
    assert detectable_difference(500, 0.2, 0.05) == pytest.approx(
        (1.959964 + 0.841621) * (0.2 / 500) ** 0.5, rel=1e-4)
    assert detectable_difference(2000, 0.2, 0.05) < detectable_difference(500, 0.2, 0.05)
    assert detectable_difference(30, 0.0, 0.05) > 0  # identical runs still have a floor


def write_run(folder: Path, right: list[bool], *, n: int = 4, prompt: str = "p",
              task: str = "math500_tts", tokens: int = 100) -> Path:
    """A run whose chosen answer on problem i is right exactly when right[i]."""
    folder.mkdir(parents=True)
    lines = []
    for doc_id, ok in enumerate(right):
        answer = "5" if ok else "4"
        record = TTSRecord(
            strategy="majority", params={"n": n}, answer_kind="math", seed=doc_id,
            samples=[SampleRecord(f"\\boxed{{{answer}}}", answer, tokens, 20, "stop")] * n,
            chosen_index=0, chosen_answer=answer, prompt_tokens=10, cached_prompt_tokens=0,
            cost=Cost(prompt_tokens=10, completion_tokens=n * tokens, generator_flops=1e9))
        lines.append(json.dumps({"doc_id": doc_id, "target": "5", "doc_hash": f"d{doc_id}",
                                 "prompt_hash": f"{prompt}{doc_id}",
                                 "resps": [[record.to_json()]]}))
    (folder / f"samples_{task}_2026-01-01T00-00-00.000000.jsonl").write_text("\n".join(lines))
    return folder


def compare(bin_dir, tmp_path, baseline, candidate, *extra):
    out = tmp_path / "summary.md"
    proc = subprocess.run([str(bin_dir / "tts-eval"), "compare", str(baseline), str(candidate),
                           "--out", str(out), *extra], capture_output=True, text=True)
    if out.exists():  # the file holds the summary printed (a pull-request comment)
        assert out.read_text() == proc.stdout
    return proc


BASE = [True] * 40 + [False] * 20  # 60 problems, 40 right


def test_a_clear_regression_fails_with_exit_1(tmp_path, bin_dir):
    worse = [True] * 25 + [False] * 35  # 15 problems lost, none won
    proc = compare(bin_dir, tmp_path, write_run(tmp_path / "base", BASE),
                   write_run(tmp_path / "cand", worse, tokens=50))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "## tts-eval compare: REGRESSION" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| math500_tts"))
    assert "| 60 | 66.7 | 41.7 | -25.0 (95%: " in row and "| 15 / 0 |" in row
    assert "**regression**" in row
    assert "| 210 (0.51x) |" in row  # tokens per problem: 10 + 4 x 50 against 10 + 4 x 100


def test_no_change_and_an_improvement_pass_with_exit_0(tmp_path, bin_dir):
    base = write_run(tmp_path / "base", BASE)
    same = compare(bin_dir, tmp_path, base, write_run(tmp_path / "same", BASE))
    assert same.returncode == 0 and "no regression shown" in same.stdout
    assert "| 0 / 0 | 1 |" in same.stdout
    better = compare(bin_dir, tmp_path, base, write_run(tmp_path / "better", [True] * 60))
    assert better.returncode == 0 and "| 0 / 20 |" in better.stdout


def test_a_significant_drop_within_the_margin_passes(tmp_path, bin_dir):
    base = [True] * 900 + [False] * 100
    cand = [True] * 890 + [False] * 110  # 1 point worse, p ~ 0.002
    proc = compare(bin_dir, tmp_path, write_run(tmp_path / "base", base),
                   write_run(tmp_path / "cand", cand))
    assert proc.returncode == 0
    tight = compare(bin_dir, tmp_path, tmp_path / "base", tmp_path / "cand", "--margin", "0.005")
    assert tight.returncode == 1


@pytest.mark.parametrize(("changes", "named"), [
    ({"right": BASE[:30]}, "different problems: baseline 60, candidate 30, 30 shared"),
    ({"prompt": "q"}, "different prompt for document 0"),
    ({"n": 8}, "different samples per problem: n=4 against n=8"),
    ({"task": "aime24_tts"}, "task not in the candidate run"),
])
def test_runs_that_cannot_be_compared_exit_2_naming_the_difference(tmp_path, bin_dir, changes,
                                                                    named):
    base = write_run(tmp_path / "base", BASE)
    cand = write_run(tmp_path / "cand", changes.pop("right", BASE), **changes)
    proc = compare(bin_dir, tmp_path, base, cand)
    assert proc.returncode == 2 and named in proc.stdout, proc.stdout


def test_a_missing_run_is_one_clear_error(tmp_path, bin_dir):
    proc = compare(bin_dir, tmp_path, tmp_path / "nope", tmp_path / "nope")
    assert proc.returncode == 2 and "no such run directory" in proc.stderr
