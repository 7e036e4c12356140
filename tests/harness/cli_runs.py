"""Helpers for tests that run the stock ``lm_eval`` command as a real process and SIGKILL it
(or a server) mid-run: how many results a run store holds, and a run's outputs."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tts_eval.store import RunStore

KILL_SEED = 2026  # the kill moments are drawn from it (and printed on failure)


def stored(store: Path) -> int:
    """Results in the store at ``store``, read as another process sees them."""
    db = store / "store.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
    except sqlite3.Error:  # being created
        return 0


def lm_eval(bin_dir: Path, out: Path, store: Path, task: str, limit: int, model_args: str,
            at: int | None = None, action: Callable[[subprocess.Popen], None] | None = None,
            expect_ok: bool = True) -> subprocess.Popen:
    """Run ``lm_eval --model tts-vllm`` with ``store``; once the store holds ``at`` results,
    call ``action`` (default: SIGKILL the run's whole process group) once. The run's output
    is in ``out``.log; its exit is checked unless the action killed it or ``expect_ok`` is
    False."""
    cmd = [str(bin_dir / "lm_eval"), "--model", "tts-vllm", "--tasks", task, "--limit",
           str(limit), "--model_args", f"{model_args},store={store}", "--log_samples",
           "--output_path", str(out)]
    log = out.parent / f"{out.name}.log"
    with log.open("ab") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc.acted_at = None  # type: ignore[attr-defined]
        try:
            while proc.poll() is None:
                if at is not None and proc.acted_at is None and (held := stored(store)) >= at:
                    proc.acted_at = held  # type: ignore[attr-defined]
                    if action is None:
                        os.killpg(proc.pid, signal.SIGKILL)
                    else:
                        action(proc)
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    killed = at is not None and action is None and proc.acted_at is not None
    if expect_ok and not killed:
        assert proc.returncode == 0, log.read_text()[-3000:]
    return proc


def outputs(out: Path) -> tuple[dict, list]:
    """A finished run's metrics and, per document, its responses."""
    (results,) = out.rglob("results_*.json")
    (samples,) = out.rglob("samples_*.jsonl")
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    return (json.loads(results.read_text())["results"],
            [(row["doc_id"], row["resps"]) for row in sorted(rows, key=lambda r: r["doc_id"])])


def killed_and_resumed(bin_dir, tmp_path, task, limit, model_args, kills, first_round):
    """An uninterrupted reference run; then the same command SIGKILLed ``kills`` times at
    moments drawn from ``KILL_SEED`` (after the first ``first_round`` results), and run to
    the end. Checks the resumed run against the reference and the store's counts; returns
    the store's runs."""
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
