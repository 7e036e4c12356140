"""Runs that survive SIGKILL: the stock ``lm_eval`` command with ``store=DIR`` is killed (the
whole process group, vLLM's engine process too) at random moments while vLLM generates, then
run again; the final records and metrics equal an uninterrupted run's, and the restarts
generated only what the store was missing (the store's own counts say so)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tts_eval.store import RunStore
from tts_eval.toy import model_path

pytestmark = pytest.mark.vllm

KILL_SEED = 2026  # the moments are drawn from it (and printed on failure)


def _stored(store: Path) -> int:
    db = store / "store.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
    except sqlite3.Error:  # being created
        return 0


def _lm_eval(bin_dir: Path, out: Path, store: Path, task: str, limit: int, model_args: str,
             kill_at: int | None = None) -> int | None:
    """Run the command; with ``kill_at``, SIGKILL it once the store holds that many results.
    Returns how many it held when killed (None: it ran to the end)."""
    cmd = [str(bin_dir / "lm_eval"), "--model", "tts-vllm", "--tasks", task, "--limit",
           str(limit), "--model_args", f"{model_args},store={store}", "--log_samples",
           "--output_path", str(out)]
    with (out.parent / f"{out.name}.log").open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            while proc.poll() is None:
                if kill_at is not None and (held := _stored(store)) >= kill_at:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    return held
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 0, (out.parent / f"{out.name}.log").read_text()[-3000:]
    return None


def _outputs(out: Path) -> tuple[dict, list]:
    (results,) = out.rglob("results_*.json")
    (samples,) = out.rglob("samples_*.jsonl")
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    return (json.loads(results.read_text())["results"],
            [(row["doc_id"], row["resps"]) for row in sorted(rows, key=lambda r: r["doc_id"])])


def _killed_and_resumed(bin_dir, tmp_path, task, limit, model_args, kills, first_round):
    reference_store = tmp_path / "reference-store"
    _lm_eval(bin_dir, tmp_path / "reference", reference_store, task, limit, model_args)
    total = _stored(reference_store)
    rng = random.Random(KILL_SEED)
    moments = sorted(rng.sample(range(first_round + 1, total - 2), kills))
    store = tmp_path / "store"
    held = []
    for i, moment in enumerate(moments):
        killed = _lm_eval(bin_dir, tmp_path / f"killed{i}", store, task, limit, model_args,
                          kill_at=moment)
        assert killed is not None, f"the run ended before {moment} of {total} were stored"
        held.append(_stored(store))
    _lm_eval(bin_dir, tmp_path / "resumed", store, task, limit, model_args)

    context = f"killed at {moments} of {total} results (held {held})"
    assert _outputs(tmp_path / "resumed") == _outputs(tmp_path / "reference"), context
    runs = RunStore(store).runs()
    assert [r["finished"] is not None for r in runs] == [False] * kills + [True], context
    # nothing generated twice: every stored result was generated once, in some run
    assert sum(r["generated"] for r in runs) == _stored(store) == total, context
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
