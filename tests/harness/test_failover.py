"""Failover over real servers: two vLLM OpenAI-compatible servers on 127.0.0.1 serve the toy
model; one is SIGKILLed mid-run and the run finishes on the other with the records of a run
on one healthy server. With every server down, the run fails after its retries with the
server error's message, and what was done stays in the store. A client that has the
model's tokenizer but not its config records FLOPs as unknown, until given
``model_config=``."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from cli_runs import lm_eval, outputs, stored

from tts_eval.engines.local_server import start_server
from tts_eval.store import RunStore
from tts_eval.toy import model_path

pytestmark = pytest.mark.vllm

TASK, LIMIT = "arith_tts_l2", 40


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    logs = tmp_path_factory.mktemp("servers")
    started = [start_server(model_path("medium"), logs / f"server{i}.log") for i in range(2)]
    try:
        yield [server.wait() for server in started]
    finally:
        for server in started:
            server.kill()


def _args(*servers, retries: int = 6) -> str:
    urls = ";".join(s.url for s in servers)  # `;`: lm-eval splits model_args at commas
    return (f"pretrained={model_path('medium')},strategy=majority,n=16,base_url={urls},"
            f"max_retries={retries}")


def test_a_server_killed_mid_run_moves_its_requests_to_the_other(servers, bin_dir, tmp_path):
    healthy, doomed = servers
    lm_eval(bin_dir, tmp_path / "one", tmp_path / "one-store", TASK, LIMIT, _args(healthy))
    run = lm_eval(bin_dir, tmp_path / "two", tmp_path / "two-store", TASK, LIMIT,
                  _args(healthy, doomed), at=LIMIT // 4, action=lambda _: doomed.kill())
    assert run.acted_at is not None and run.acted_at < LIMIT, "the server died after the run"
    assert not doomed.ready()
    assert outputs(tmp_path / "two") == outputs(tmp_path / "one")
    # every request answered once: nothing lost, nothing counted twice
    (record,) = RunStore(tmp_path / "two-store").runs()
    assert record["generated"] == stored(tmp_path / "two-store") == LIMIT
    log = (tmp_path / "two.log").read_text()
    assert "ServerError" not in log


def _records(out) -> list[dict]:
    (samples,) = out.rglob("samples_*.jsonl")
    return [json.loads(json.loads(line)["resps"][0][0]) for line in samples.open()]


def _unpriced(record: dict) -> list[dict]:
    return [{k: v for k, v in sample.items() if k != "flops"} for sample in record["samples"]]


def _metrics(out) -> dict:
    (results,) = out.rglob("results_*.json")
    return json.loads(results.read_text())["results"][TASK]


def test_without_the_model_config_flops_are_unknown_until_model_config_is_given(
        servers, bin_dir, tmp_path):
    healthy, limit = servers[0], 8
    tokenizer_only = tmp_path / "tokenizer-only"  # what a client of a hub model may hold
    tokenizer_only.mkdir()
    for file in model_path("medium").glob("tokenizer*"):
        shutil.copy(file, tokenizer_only)
    args = f"pretrained={tokenizer_only},strategy=majority,n=4,base_url={healthy.url}"
    store = tmp_path / "store"
    lm_eval(bin_dir, tmp_path / "unknown", store, TASK, limit, args)
    records = _records(tmp_path / "unknown")
    assert all(r["cost"]["total_flops"] is None and r["cost"]["generator_flops"] is None
               and r["samples"][0]["flops"] is None and r["model"] is None for r in records)
    assert all(r["cost"]["total_tokens"] > 0 for r in records)
    metrics = _metrics(tmp_path / "unknown")
    assert "total_tokens,none" in metrics and not any("flops" in k for k in metrics)
    assert "FLOPs are recorded as unknown; pass model_config=PATH" in (
        tmp_path / "unknown.log").read_text()
    match = subprocess.run([str(bin_dir / "tts-eval"), "match", str(tmp_path / "unknown"),
                            str(tmp_path / "unknown")], capture_output=True, text=True)
    assert match.returncode == 2 and "has unknown FLOPs" in match.stderr
    assert "model_config=PATH" in match.stderr

    lm_eval(bin_dir, tmp_path / "known", store, TASK, limit,
            f"{args},model_config={model_path('medium') / 'config.json'}")
    assert RunStore(store).runs()[-1]["generated"] == 0  # replayed: only the pricing is new
    known = _records(tmp_path / "known")
    assert [_unpriced(r) for r in known] == [_unpriced(r) for r in records]
    assert all(r["cost"]["total_flops"] > 0 and r["model"]["params_total"] > 0 for r in known)
    assert _metrics(tmp_path / "known")["flops,none"] > 0


def test_every_server_down_fails_with_the_message_and_keeps_what_was_done(servers, bin_dir,
                                                                          tmp_path):
    last = servers[0]
    store = tmp_path / "store"
    run = lm_eval(bin_dir, tmp_path / "down", store, TASK, LIMIT, _args(last, retries=2),
                  at=LIMIT // 4, action=lambda _: last.kill(), expect_ok=False)
    log = (tmp_path / "down.log").read_text()
    assert run.returncode != 0
    assert "no server answered after 3 attempts" in log
    assert f"{last.url}: ConnectError" in log
    assert "the results stored so far are kept and a rerun reuses them" in log
    kept = stored(store)
    assert LIMIT // 4 <= kept < LIMIT
    (record,) = RunStore(store).runs()
    assert record["finished"] is None and record["generated"] == kept
