"""The remote engine's clear failures that need no server: nothing listening, engine
arguments that a server ignores, bad URLs. (Real servers: tests/harness/test_failover.py.)"""

from __future__ import annotations

import pytest

from tts_eval.engines import SamplingSpec
from tts_eval.engines.local_server import free_port
from tts_eval.engines.openai_server import ServerEngine, ServerError, parse_base_urls
from tts_eval.harness.model import TTSVLLM
from tts_eval.toy import model_path


def test_urls_are_split_and_end_in_v1():
    assert parse_base_urls("http://127.0.0.1:8000;http://127.0.0.1:8001/v1/ ,") == [
        "http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1"]
    with pytest.raises(ValueError, match="base_url is empty"):
        parse_base_urls(" ; ")


def test_nothing_listening_names_every_server_and_the_fix():
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]
    engine = ServerEngine(str(model_path("small")), urls)
    with pytest.raises(ServerError) as info:
        engine.generate(["Problem: 1+1\nSolution:\n"], [SamplingSpec(seed=1)])
    message = str(info.value)
    assert all(url in message for url in urls)
    assert "vllm serve MODEL --host 127.0.0.1 --port 8000" in message


def test_engine_arguments_a_server_ignores_are_refused():
    with pytest.raises(ValueError, match="enforce_eager configure an in-process vLLM engine"):
        TTSVLLM(pretrained=str(model_path("small")), base_url="http://127.0.0.1:9/v1",
                enforce_eager=True)
    model = TTSVLLM(pretrained=str(model_path("small")), base_url="http://127.0.0.1:9/v1",
                    max_model_len=512)  # read by the client: fine, and nothing is contacted
    assert model.engine.max_model_len == 512
