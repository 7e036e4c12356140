"""Helpers for tests that run the stock ``lm_eval`` command as a real process and SIGKILL it
(or a server) mid-run: how many results a run store holds, and a run's outputs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


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
