"""Shared fixtures: a tiny local model, the shared evaluation data, vLLM settings.

Real components only: the tiny model is a real Qwen2 checkpoint vLLM loads; nothing
about vLLM or lm-eval is mocked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# No VLLM_CPU_KVCACHE_SPACE: engines size their CPU KV cache as they do for users.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def shared_data_dir() -> Path | None:
    """../shared/data beside the checkout (CI lays a copy there), or $TTS_EVAL_SHARED_DATA."""
    env = os.environ.get("TTS_EVAL_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "data", REPO.parents[1] / "shared" / "data"]
    return next((p for p in candidates if (p / "math500.jsonl").is_file()), None)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.skip("shared/data not found beside the checkout; set TTS_EVAL_SHARED_DATA")
    return found


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer random Qwen2 with a locally trained tokenizer (built once per session)."""
    from tts_eval.dev.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def python_bin() -> str:
    return sys.executable


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    """The venv's bin/ holding the lm_eval and tts-eval console scripts."""
    return Path(sys.executable).parent


@pytest.fixture(scope="session")
def readme_command():
    """``readme_command(marker)``: the README's fenced shell block holding ``marker``,
    exactly as a user copies it (so the README's commands are the ones tested)."""
    import re

    def find(marker: str) -> str:
        blocks = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S)
        (block,) = [b for b in blocks if marker in b]
        return block

    return find
