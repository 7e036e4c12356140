"""A verifier on a server (``verifier_base_url=``): the toy PRM served by a real vLLM pooling
server on 127.0.0.1 reads the same step scores as the in-process pooling engine, and a
best-of-n run through the stock ``lm_eval`` uses it (its readings charged and stored)."""

from __future__ import annotations

import json

import pytest
from cli_runs import lm_eval, outputs

from tts_eval.engines.local_server import start_server
from tts_eval.engines.openai_server import ServerScorer
from tts_eval.store import RunStore
from tts_eval.toy import model_path
from tts_eval.toy.evaluate import make_scorer, prm_step_scores
from tts_eval.toy.problems import EVAL_SEED, make_problems, noisy_solution

pytestmark = pytest.mark.vllm

POOLER = json.dumps({"task": "token_classify", "tok_pooling_type": "ALL",
                     "use_activation": True})


@pytest.fixture(scope="module")
def prm_server(tmp_path_factory):
    server = start_server(model_path("prm"), tmp_path_factory.mktemp("prm") / "server.log",
                          kv_cache_bytes=128 << 20,
                          extra=("--runner", "pooling", "--pooler-config", POOLER))
    try:
        yield server.wait()
    finally:
        server.kill()


def test_served_prm_reads_what_the_in_process_one_reads(prm_server):
    import random

    rng = random.Random(3)
    problems = make_problems(12, 3, EVAL_SEED)
    solutions = [noisy_solution(p, rng, 0.3) for p in problems]
    remote = prm_step_scores(ServerScorer(str(model_path("prm")), [prm_server.url]),
                             problems, solutions)
    local_scorer = make_scorer(model_path("prm"))
    try:
        local = prm_step_scores(local_scorer, problems, solutions)
    finally:
        local_scorer.close()
    assert [len(s) for s in remote] == [len(s) for s in local] and sum(map(len, local)) > 30
    for served, in_process in zip(remote, local, strict=True):
        assert served == pytest.approx(in_process, abs=0.02)  # bf16 both sides, other batches


def test_best_of_n_with_the_verifier_on_a_server(prm_server, bin_dir, tmp_path):
    args = (f"pretrained={model_path('medium')},strategy=best_of_n,n=4,verifier=toy-prm,"
            f"verifier_base_url={prm_server.url},enforce_eager=True,max_model_len=512")
    lm_eval(bin_dir, tmp_path / "run", tmp_path / "store", "arith_tts_l2", 6, args)
    results, rows = outputs(tmp_path / "run")
    assert results["arith_tts_l2"]["verifier_tokens,none"] > 0
    for _, resps in rows:
        record = json.loads(resps[0][0])
        scores = [s["score"] for s in record["samples"]]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert record["chosen_index"] == max(range(len(scores)), key=scores.__getitem__)
    kinds = {kind for kind, in RunStore(tmp_path / "store")._db.execute(
        "SELECT DISTINCT kind FROM entries")}
    assert kinds == {"generation", "scores"}  # the server's readings are stored too
