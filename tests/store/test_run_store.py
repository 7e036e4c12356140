"""The run store on its own: durable under SIGKILL, readable while written, a full disk and
another model's store are clear errors, and `tts-eval runs` shows and prunes it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tts_eval.cli import main as cli_main
from tts_eval.store import RunStore, StoreError, model_fingerprint
from tts_eval.store.run_store import FILE_NAME

# A writer that stores entry i with a body derived from i, as fast as it can, forever.
WRITER = textwrap.dedent("""
    import sys
    from tts_eval.store import RunStore
    store = RunStore(sys.argv[1])
    store.begin_run("m", "fp", "writer", {})
    i = 0
    while True:
        store.put(f"k{i}", "generation", "fp", items=2, tokens=i,
                  body={"i": i, "text": "x" * (i % 5000)})
        i += 1
""")


def _valid(store_dir: Path) -> list[int]:
    """Every entry another process can read now; each must be whole."""
    db = sqlite3.connect(f"file:{store_dir / FILE_NAME}?mode=ro", uri=True, timeout=10)
    rows = db.execute("SELECT key, tokens, body FROM entries").fetchall()
    db.close()
    seen = []
    for key, tokens, body in rows:
        value = json.loads(body)
        assert key == f"k{value['i']}" and tokens == value["i"]
        assert value["text"] == "x" * (value["i"] % 5000)
        seen.append(value["i"])
    return seen


def test_sigkilled_writer_leaves_only_whole_records_and_readers_never_see_half(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)])
    try:
        deadline = time.time() + 60
        counts = []
        while time.time() < deadline and (not counts or counts[-1] < 2000):
            if (tmp_path / FILE_NAME).exists():
                try:
                    counts.append(len(_valid(tmp_path)))  # read while it writes
                except sqlite3.OperationalError:  # the schema is still being made
                    pass
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # mid-write, at whatever moment this is
    finally:
        proc.kill()
        proc.wait()
    assert counts and counts == sorted(counts)
    seen = _valid(tmp_path)
    assert sorted(seen) == list(range(len(seen)))  # a prefix: nothing lost, nothing torn
    assert len(seen) >= counts[-1]
    store = RunStore(tmp_path)  # opens (recovers) cleanly and goes on
    assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.count() == len(seen)
    assert store.runs()[0]["finished"] is None
    assert store.runs()[0]["generated"] == len(seen)


def test_full_disk_is_one_clear_error_and_what_was_stored_stays(tmp_path):
    store = RunStore(tmp_path)
    store.put("a", "generation", "fp", items=1, tokens=1, body={"text": "kept"})
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    # SQLite then fails with SQLITE_FULL, exactly as on a full disk
    store._db.execute(f"PRAGMA max_page_count={pages + 1}")
    with pytest.raises(StoreError, match="free disk space") as info:
        for i in range(100):
            store.put(f"b{i}", "generation", "fp", items=1, tokens=1, body={"text": "y" * 9000})
    assert "results stored so far are kept and will be reused" in str(info.value)
    store.close()
    reopened = RunStore(tmp_path)
    assert reopened.get_many(["a"])["a"].body == {"text": "kept"}


def test_same_name_other_weights_is_refused_with_the_fix(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 8}')
    (model / "model.safetensors").write_bytes(b"\0" * (3 << 20))
    first, weights, described = model_fingerprint(
        str(model), {"dtype": "bfloat16", "enforce_eager": True})
    assert described["files"] == 2 and described["dtype"] == "bfloat16"
    assert model_fingerprint(str(model), {"dtype": "bfloat16"})[0] == first  # eager: same numbers
    as_float32 = model_fingerprint(str(model), {"dtype": "float32"})
    assert as_float32[0] != first and as_float32[1] == weights  # other numbers, same weights
    store = RunStore(tmp_path / "store")
    store.register_model(str(model), first, weights, described)
    store.register_model(str(model), first, weights, described)  # the same again: fine
    store.register_model(str(model), *as_float32)  # the same weights, other settings: fine
    assert len(store.models()) == 2
    with (model / "model.safetensors").open("r+b") as f:  # retrained in place
        f.seek((3 << 20) - 10)
        f.write(b"changed")
    second, new_weights, _ = model_fingerprint(str(model), {"dtype": "bfloat16"})
    assert second != first and new_weights != weights
    with pytest.raises(StoreError, match="another model") as info:
        store.register_model(str(model), second, new_weights, described)
    assert f"tts-eval runs gc {store.directory} --model {model}" in str(info.value)
    assert model_fingerprint("Qwen/Qwen3-8B", {})[2] == {"hub": "Qwen/Qwen3-8B"}


def test_runs_ls_show_gc(tmp_path, capsys):
    store = RunStore(tmp_path)
    store.register_model("small", "fp-small", "w-small", {"hub": "small"})
    store.register_model("large", "fp-large", "w-large", {"hub": "large"})
    store.begin_run("small", "fp-small", "arith_tts majority n=4", {"n": 4})
    for i in range(3):
        store.put(f"s{i}", "generation", "fp-small", items=4, tokens=40, body={})
    store.put("l0", "generation", "fp-large", items=4, tokens=400, body={})
    store.count_reused(2)
    store.finish_run()
    store.close()

    assert cli_main(["runs", "ls", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "4 results" in out
    small = next(line for line in out.splitlines() if line.startswith("| small"))
    assert [cell.strip() for cell in small.split("|")[3:6]] == ["12", "3", "120"]
    assert "finished" in out and "arith_tts majority n=4" in out
    assert cli_main(["runs", "show", str(tmp_path), "1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["reused"] == 2 and shown["generated"] == 4 and shown["args"] == {"n": 4}
    assert cli_main(["runs", "show", str(tmp_path), "7"]) == 2
    assert "no run 7" in capsys.readouterr().err

    assert cli_main(["runs", "gc", str(tmp_path), "--model", "small", "--dry-run"]) == 0
    assert "would drop 3 results (120 tokens); 4 left" in capsys.readouterr().out
    assert cli_main(["runs", "gc", str(tmp_path), "--model", "small"]) == 0
    assert "dropped 3 results (120 tokens); 1 left" in capsys.readouterr().out
    assert [m["model"] for m in RunStore(tmp_path).models()] == ["large"]
    assert cli_main(["runs", "gc", str(tmp_path), "--unused-days", "0"]) == 0
    assert "dropped 1 results" in capsys.readouterr().out
    assert cli_main(["runs", "gc", str(tmp_path)]) == 2
    assert "--model NAME" in capsys.readouterr().err
    assert cli_main(["runs", "ls", str(tmp_path / "none")]) == 2
    assert "holds no run store" in capsys.readouterr().err


def test_a_file_that_is_not_a_store_is_named(tmp_path):
    (tmp_path / FILE_NAME).write_text("not a database at all " * 100)
    with pytest.raises(StoreError, match="not a usable store"):
        RunStore(tmp_path)


def test_gc_of_part_of_a_model_keeps_the_model_while_it_has_results(tmp_path):
    store = RunStore(tmp_path)
    store.register_model("m", "fp", "w", {"hub": "m"})
    store.put("old", "generation", "fp", items=1, tokens=5, body={})
    store.put("new", "generation", "fp", items=1, tokens=7, body={})
    store._db.execute("UPDATE entries SET used = used - 3 * 86400 WHERE key='old'")
    assert store.prune(["m"], unused_for_days=1) == {"entries": 1, "tokens": 5}
    assert [(m["model"], m["entries"]) for m in store.models()] == [("m", 1)]
    assert store.prune(["m"]) == {"entries": 1, "tokens": 7}
    assert store.models() == []
