"""Runs that survive SIGKILL: the stock ``lm_eval`` command with ``store=DIR`` is killed (the
whole process group, vLLM's engine process too) at random moments while vLLM generates, then
run again; the final records and metrics equal an uninterrupted run's, and the restarts
generated only what the store was missing (the store's own counts say so)."""

from __future__ import annotations

import random

import pytest
from cli_runs import lm_eval, outputs, stored

from tts_eval.store import RunStore
from tts_eval.toy import model_path

pytestmark = pytest.mark.vllm

KILL_SEED = 2026  # the moments are drawn from it (and printed on failure)


def _killed_and_resumed(bin_dir, tmp_path, task, limit, model_args, kills, first_round):
    reference_store = tmp_path / "reference-store"
    lm_eval(bin_dir, tmp_path / "reference", reference_store, task, limit, model_args)
    total = stored(reference_store)
    rng = random.Random(KILL_SEED)
    moments = sorted(rng.sample(range(first_round + 1, total - 2), kills))
    store = tmp_path / "store"
    held = []
    for i, moment in enumerate(moments):
        killed = lm_eval(bin_dir, tmp_path / f"killed{i}", store, task, limit, model_args,
                         at=moment)
        assert killed.acted_at is not None, f"the run ended before {moment} of {total} were stored"
        held.append(stored(store))
    lm_eval(bin_dir, tmp_path / "resumed", store, task, limit, model_args)

    context = f"killed at {moments} of {total} results (held {held})"
    assert outputs(tmp_path / "resumed") == outputs(tmp_path / "reference"), context
    runs = RunStore(store).runs()
    assert [r["finished"] is not None for r in runs] == [False] * kills + [True], context
    # nothing generated twice: every stored result was generated once, in some run
    assert sum(r["generated"] for r in runs) == stored(store) == total, context
    # each restart generated only what was missing and reused all that was there
    assert runs[-1]["generated"] == total - held[-1], context
    assert runs[-1]["reused"] >= held[-1], context
    return runs


def test_majority_resumes_after_sigkill(bin_dir, tmp_path):
    medium = model_path("medium")
    _killed_and_resumed(
        bin_dir, tmp_path, "arith_tts_l2", 40,
        f"pretrained={medium},strategy=majority,n=16,enforce_eager=True,max_model_len=512",
        kills=2, first_round=0)


def test_budget_forcing_resumes_after_sigkill_in_a_later_round(bin_dir, tmp_path):
    thinker = model_path("thinker")
    problems, chains = 20, 4
    runs = _killed_and_resumed(
        bin_dir, tmp_path, "arith_tts_l3", problems,
        f"pretrained={thinker},strategy=budget_forcing,n={chains},max_thinking_tokens=64,"
        "num_ignore=1,max_answer_tokens=16,enforce_eager=True,max_model_len=512",
        kills=1, first_round=problems * chains)  # killed after the first thinking round
    assert runs[-1]["reused"] >= problems * chains
