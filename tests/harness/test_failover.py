"""Failover over real servers: two vLLM OpenAI-compatible servers on 127.0.0.1 serve the toy
model; one is SIGKILLed mid-run and the run finishes on the other with the records of a run
on one healthy server. With every server down, the run fails after its retries with the
server error's message, and what was done stays in the store."""

from __future__ import annotations

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
