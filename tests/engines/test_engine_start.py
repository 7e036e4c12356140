"""Starting an engine the way a new user does: no memory settings, errors before the engine.

The KV-cache planner is checked on its own (pure arithmetic); the rest runs the real
``lm_eval`` CLI and the real vLLM engine, with ``VLLM_CPU_KVCACHE_SPACE`` removed from the
environment as on a fresh machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tts_eval.accounting import load_model_spec
from tts_eval.engines.cpu_kv_cache import (
    GiB,
    KVCacheError,
    MiB,
    dtype_bytes,
    plan_kv_cache,
    user_chose_kv_cache,
)
from tts_eval.toy import model_path

REPO = Path(__file__).resolve().parents[2]


def fresh_env(**extra: str) -> dict[str, str]:
    """The environment of a user who set no vLLM memory variable."""
    env = {k: v for k, v in os.environ.items() if k != "VLLM_CPU_KVCACHE_SPACE"}
    return env | extra


# The planner ---------------------------------------------------------------------------


def test_plan_sizes_the_cache_for_every_sequence_when_memory_allows():
    spec = load_model_spec(str(model_path("small")))
    plan = plan_kv_cache(spec, max_model_len=512, max_num_seqs=256, element_bytes=4,
                         free_bytes=8 * GiB, weight_bytes=10 * MiB)
    per_token = 2 * spec.num_layers * spec.num_kv_heads * spec.head_dim * 4
    assert plan.bytes_per_token == per_token
    assert plan.bytes == -(-per_token * 512 * 256 // MiB) * MiB
    assert plan.tokens >= 512 * 256


def test_plan_is_capped_by_free_memory_but_holds_one_full_sequence():
    spec = load_model_spec(str(model_path("large")))
    one_sequence = 2 * spec.num_layers * spec.num_kv_heads * spec.head_dim * 2 * 4096
    capped = plan_kv_cache(spec, max_model_len=4096, max_num_seqs=256, element_bytes=2,
                           free_bytes=200 * MiB + 64 * MiB, weight_bytes=64 * MiB)
    assert capped.bytes == 100 * MiB  # half of what the weights leave free
    tight = plan_kv_cache(spec, max_model_len=4096, max_num_seqs=256, element_bytes=2,
                          free_bytes=one_sequence + 1 * MiB, weight_bytes=0)
    assert tight.bytes >= one_sequence and tight.tokens >= 4096


def test_plan_refuses_a_machine_without_room_for_one_sequence():
    spec = load_model_spec(str(model_path("large")))
    with pytest.raises(KVCacheError, match="Lower max_model_len"):
        plan_kv_cache(spec, max_model_len=1 << 20, max_num_seqs=1, element_bytes=2,
                      free_bytes=1 * GiB, weight_bytes=512 * MiB)


def test_the_users_own_setting_wins(monkeypatch):
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    assert not user_chose_kv_cache({"max_model_len": 512})
    assert user_chose_kv_cache({"kv_cache_memory_bytes": 1 << 30})
    assert user_chose_kv_cache({"gpu_memory_utilization": 0.5})
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "2")
    assert user_chose_kv_cache({})


def test_element_bytes_follow_the_dtype():
    assert dtype_bytes("float32") == dtype_bytes("torch.float32") == 4
    assert dtype_bytes("bfloat16") == dtype_bytes("float16") == dtype_bytes(None) == 2
    assert dtype_bytes("bfloat16", "fp8_e4m3") == 1


# Errors before the engine ----------------------------------------------------------------


def lm_eval(bin_dir: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "lm_eval"), *args], capture_output=True, text=True,
                          env=fresh_env(**env), timeout=600)


ENGINE_STARTED = "Initializing a V1 LLM engine"


def test_missing_data_file_fails_before_the_engine_starts(tmp_path, bin_dir, tiny_model):
    proc = lm_eval(bin_dir, ["--model", "tts-vllm", "--model_args",
                             f"pretrained={tiny_model},strategy=majority,n=4,max_model_len=1024",
                             "--tasks", "aime25_tts", "--limit", "1"],
                   TTS_EVAL_DATA_DIR=str(tmp_path))
    assert proc.returncode != 0
    assert f"{tmp_path / 'aime25.jsonl'} not found" in proc.stderr
    assert ENGINE_STARTED not in proc.stderr + proc.stdout


def test_budget_too_small_fails_before_the_engine_starts(bin_dir, tiny_model, data_dir):
    proc = lm_eval(bin_dir, ["--model", "tts-vllm", "--model_args",
                             f"pretrained={tiny_model},strategy=majority,budget_tokens=20,"
                             "max_gen_toks=64,max_model_len=1024",
                             "--tasks", "aime24_tts", "--limit", "2"],
                   TTS_EVAL_DATA_DIR=str(data_dir))
    assert proc.returncode != 0
    assert "cannot buy one answer" in proc.stderr and "Nothing was generated" in proc.stderr
    assert ENGINE_STARTED not in proc.stderr + proc.stdout


def test_the_python_api_builds_a_model_without_starting_vllm(tiny_model, tmp_path):
    """Tokenizer, context length and FLOPs config come without the engine; a data error
    raised while lm-eval builds the tasks leaves no engine behind."""
    import lm_eval as harness
    from lm_eval.tasks import TaskManager

    from tts_eval.harness.model import TTSVLLM
    from tts_eval.harness.task_data import DataError

    lm = TTSVLLM(pretrained=str(tiny_model), strategy="majority", n=2)
    assert lm.tok_encode("What is 1 + 1?") and lm.eot_token_id is not None
    config = json.loads((tiny_model / "config.json").read_text())
    assert lm.max_length == config["max_position_embeddings"]
    manager = TaskManager(metadata={"data_dir": str(tmp_path)})
    with pytest.raises(DataError, match="math500.jsonl"):
        harness.simple_evaluate(model=lm, tasks=["math500_tts"], limit=1,
                                task_manager=manager)
    assert not lm.engine.started


# The README's own example ---------------------------------------------------------------


@pytest.mark.vllm
def test_readme_toy_example_runs_as_written_without_memory_settings(bin_dir, tmp_path,
                                                                     readme_command):
    command = readme_command("lm_eval --model tts-vllm --tasks arith_tts --limit")
    (tmp_path / ".venv").symlink_to(bin_dir.parent)  # the README runs from a checkout's .venv
    env = fresh_env()
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert re.search(r"CPU KV cache [\d.]+ GiB", proc.stderr), proc.stderr[-2000:]
    for level in range(1, 6):
        assert re.search(rf"arith_tts_l{level}\s*\|.*\|acc\s*\|", proc.stdout), proc.stdout
    (results,) = (tmp_path / "runs" / "toy").rglob("results_*.json")
    config = json.loads(results.read_text())["config"]
    assert config["model"] == "tts-vllm"
    assert config["model_args"]["strategy"] == "majority" and config["model_args"]["n"] == 16
