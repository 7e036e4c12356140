"""The toy world through the public interface: the arith_tts task and ``tts-eval demo``."""

from __future__ import annotations

import json
import subprocess

import pytest

from tts_eval.demo import DEFAULT_TEMPERATURE as DEMO_TEMPERATURE
from tts_eval.toy import model_path

VOTING_MODEL = "small"  # the cheapest bundled model; its voting gain is measured in TRAINING.json


def test_arith_tts_is_a_group_of_five_levels_in_the_training_prompt_format():
    from lm_eval.tasks import TaskManager

    from tts_eval.toy.problems import PROMPT_TEMPLATE

    loaded = TaskManager().load(["arith_tts"])
    tasks = loaded["tasks"]
    assert sorted(tasks) == [f"arith_tts_l{level}" for level in range(1, 6)]
    first = tasks["arith_tts_l1"]
    docs = list(first.test_docs())
    assert len(docs) == 100
    assert first.doc_to_text(docs[0]) == PROMPT_TEMPLATE.format(problem=docs[0]["problem"])
    again = list(TaskManager().load(["arith_tts_l1"])["tasks"]["arith_tts_l1"].test_docs())
    assert again == docs  # generated from a fixed seed: the same problems on every machine


@pytest.mark.vllm
def test_demo_writes_runs_leaderboard_and_plot_and_voting_beats_greedy(tmp_path, bin_dir):
    """The main job end to end with the cheapest bundled model, and the toy world's reason to
    exist: with a real learned model, majority@16 beats greedy decoding, through lm-eval."""
    out = tmp_path / "demo"
    proc = subprocess.run([str(bin_dir / "tts-eval"), "demo", "--out", str(out), "--models",
                           VOTING_MODEL, "--per-level", "20", "--n", "16"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "[3/3]" in proc.stdout  # progress lines
    # quiet by default: its own progress, not vLLM's or lm-eval's INFO logs and bars
    assert " INFO " not in proc.stdout + proc.stderr and "Processed prompts" not in proc.stderr
    accuracy = {}
    for run, strategy in (("small-greedy", "greedy"), ("small-majority16", "majority")):
        (results,) = (out / "runs" / run).rglob("results_*.json")
        assert len(list((out / "runs" / run).rglob("samples_arith_tts_l*.jsonl"))) == 5
        data = json.loads(results.read_text())
        # The run names its model and every argument, as an lm_eval CLI run does.
        assert data["config"]["model"] == "tts-vllm"
        assert data["config"]["model_args"] == {
            "pretrained": str(model_path(VOTING_MODEL)), "strategy": strategy,
            **({"n": 16} if strategy == "majority" else {}), "temperature": DEMO_TEMPERATURE,
            "max_gen_toks": 160, "seed": 0, "max_model_len": 512, "enforce_eager": True,
        }
        levels = ("arith_tts_l2", "arith_tts_l3")
        accuracy[strategy] = sum(data["results"][t]["acc,none"] for t in levels) / 2
    assert accuracy["majority"] >= accuracy["greedy"] + 0.15, accuracy
    # leaderboard.md: the pooled arith_tts table first, then one per level, as Markdown tables
    # written by tts-eval leaderboard's code (its files and HTML page beside it)
    table = (out / "leaderboard.md").read_text()
    pooled_table = table.split("\n## arith_tts_l1")[0]
    assert pooled_table.startswith("## arith_tts\n\n| rank ")
    for needle in ("small-greedy", "small-majority16", "FLOPs/problem", "| yes "):
        assert needle in pooled_table
    assert all(f"## arith_tts_l{level}\n" in table for level in range(1, 6))
    assert pooled_table.strip() in proc.stdout
    assert (out / "leaderboard" / "index.html").is_file()
    png = out / "scaling.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    # the regression gate on real runs: a run against itself shows nothing; greedy against
    # majority@16 is not a like-for-like pair (another n), and says so
    runs = out / "runs"
    same = subprocess.run([str(bin_dir / "tts-eval"), "compare", str(runs / "small-greedy"),
                           str(runs / "small-greedy")], capture_output=True, text=True)
    assert same.returncode == 0 and same.stdout.count("| 0 / 0 |") == 5, same.stdout
    other_n = subprocess.run([str(bin_dir / "tts-eval"), "compare", str(runs / "small-greedy"),
                              str(runs / "small-majority16")], capture_output=True, text=True)
    assert other_n.returncode == 2 and "n=1 against n=16" in other_n.stdout, other_n.stdout


def test_demo_rejects_an_unknown_model(tmp_path, bin_dir):
    proc = subprocess.run([str(bin_dir / "tts-eval"), "demo", "--out", str(tmp_path),
                           "--models", "huge"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "huge" in proc.stderr and "small" in proc.stderr and "Traceback" not in proc.stderr
